"""Laterality: which side of the body a text talks about (left, right, bilateral).

"right" and "left" are everyday words ("all right", "right now", "I left work"), so they
count only next to a body part or "side" ("left knee", "right-sided", "on the left") or, in
a note, as the shorthand "L"/"R" before a body part. "bilateral", "bilaterally", "both
knees" and "both sides" are bilateral.
"""

from __future__ import annotations

import re

from pipelines.verify.lexicon import Lexicon, stem

SIDES = ("left", "right", "bilateral")
_TOKENS = re.compile(r"[A-Za-z]+")
_SIDE_WORDS = frozenset({"side", "sided", "sides", "lower", "upper", "hand", "handed"})
_BEFORE = (("on", "the"), ("to", "the"), ("in", "the"), ("at", "the"))


def _near_body(words: list[str], i: int, lexicon: Lexicon, reach: int = 3) -> bool:
    for w in words[i + 1 : i + 1 + reach]:
        if w in _SIDE_WORDS or stem(w) in lexicon.anatomy:
            return True
    return False


def sides(text: str, lexicon: Lexicon) -> frozenset[str]:
    """The sides ``text`` names: a subset of ``{"left", "right", "bilateral"}``."""
    raw = _TOKENS.findall(text)
    words = [w.lower() for w in raw]
    found: set[str] = set()
    for i, w in enumerate(words):
        if w in ("bilateral", "bilaterally"):
            found.add("bilateral")
        elif w == "both" and _near_body(words, i, lexicon, reach=3):
            found.add("bilateral")
        elif w in ("left", "right"):
            before = tuple(words[max(i - 2, 0) : i])
            if _near_body(words, i, lexicon) or before in _BEFORE:
                found.add(w)
        elif raw[i] in ("L", "R", "Lt", "Rt") and _near_body(words, i, lexicon, reach=1):
            found.add("left" if raw[i].startswith("L") else "right")
    return frozenset(found)


def agree(said: frozenset[str], heard: frozenset[str]) -> bool:
    """Whether the sides a note ``said`` are among those ``heard`` (both sides = bilateral)."""
    if not said:
        return True
    heard = heard | ({"bilateral"} if {"left", "right"} <= heard else set())
    return bool(said & heard) if "bilateral" not in said else "bilateral" in heard
