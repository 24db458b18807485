"""The side a mention states ("right knee pain") and the ICD-10-CM code for that side.

ICD-10-CM codes many conditions by side: "Pain in knee" (M25.56) has "Pain in right knee"
(M25.561), "Pain in left knee" and "Pain in unspecified knee". When the linker gave the
unspecified code (or the parent) and the transcript states the side, the side's code is the
more specific one a coder would pick. Only a side said next to the mention counts.
"""

from __future__ import annotations

import re

from pipelines.problem_coding.catalog import IcdCatalog

SIDES: tuple[str, ...] = ("right", "left", "bilateral")
_SIDE_WORD = re.compile(r"\b(right|left|bilateral|both)\b", re.IGNORECASE)
# "right knee pain", "left-sided", "right sided": the side at most one word before the mention.
_BEFORE = re.compile(
    r"\b(right and left|left and right|right|left|bilateral|both)(?:[- ]sided)?\s+"
    r"(?:[\w-]+\s+)?$",
    re.IGNORECASE,
)
# "pain in my right knee", "swelling of both ankles": the side just after the mention.
_AFTER = re.compile(
    r"^\s+(?:in|of|on|at)\s+(?:the\s+|my\s+|your\s+|his\s+|her\s+|their\s+)?"
    r"(right|left|bilateral|both)\b",
    re.IGNORECASE,
)


def _side(word: str) -> str:
    word = word.lower()
    return "bilateral" if word in ("both", "right and left", "left and right") else word


def stated_side(text: str, start: int, end: int) -> str | None:
    """The side stated for the mention ``text[start:end]``: inside it, just before it or
    just after it ("in my right knee"); None when no side or two different sides are said."""
    found = {_side(m.group(1)) for m in _SIDE_WORD.finditer(text[start:end])}
    before = _BEFORE.search(text[max(0, start - 25) : start])
    after = _AFTER.match(text[end : end + 30])
    found |= {_side(m.group(1)) for m in (before, after) if m}
    return found.pop() if len(found) == 1 else None


def side_code(catalog: IcdCatalog, code: str, side: str) -> str | None:
    """The code for ``side`` that refines ``code``, or None when the classification has none.

    ``code`` may be a parent with codes by side below it (M25.56 -> M25.561) or an
    unspecified-side code whose siblings are coded by side (M25.569 -> M25.561). Of the
    candidates naming the side, the one whose other words best match ``code``'s wins.
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    if code not in catalog:
        return None
    if catalog.is_leaf(code):
        parent = catalog.parent(code)
        if parent is None or "unspecified" not in catalog.description(code).lower():
            return None  # already as specific as the classification goes
        pool = catalog.children(parent)
    else:
        pool = catalog.children(code)
    base = catalog.description_words(code) - set(SIDES)
    named = [c for c in pool if c != code and side in _words_of(catalog, c)]
    if not named:
        return None
    best = max(named, key=lambda c: (len(base & catalog.description_words(c)), -len(c)))
    if not catalog.is_leaf(best):
        return side_code(catalog, best, side) or best
    return best


def _words_of(catalog: IcdCatalog, code: str) -> set[str]:
    return {_side(w) for w in re.findall(r"[a-z]+", catalog.description(code).lower())}
