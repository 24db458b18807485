"""Conversational PROBLEM terms derived from ICD-10-CM descriptions.

ICD-10-CM descriptions are written for coders ("Otitis media, unspecified, unspecified ear");
people say "otitis media". We keep the head of each description (and of its inclusion terms),
drop qualifiers and parentheticals, and keep short, distinctive phrases only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

ICD_SYSTEM = "ICD-10-CM"
MAX_TOKENS = 4

# External causes (V-Y) describe accidents, not problems a clinician would highlight.
_SKIP_CHAPTER_LETTERS = ("V", "W", "X", "Y")

# A term containing any of these words is coder vocabulary, not something people say.
_BLOCK_WORDS = frozenset(
    """other unspecified specified elsewhere classified encounter sequela subsequent initial
    nos site sites part parts region complicating status history personal family
    exposure contact screening examination counseling observation follow-up supervision
    affecting underdosing adverse effect effects poisoning following due than without
    stage use disorders diseases conditions problems abnormal findings result results
    mention involving multiple current any associated class term""".split()
)

# Single words too generic to highlight on their own.
_GENERIC_SINGLE = frozenset(
    """pain disease disorder injury syndrome infection abnormality complication neoplasm anomaly
    deformity lesion mass failure deficiency contusion fracture dislocation sprain strain
    laceration wound burn ulcer cyst polyp hemorrhage obstruction stenosis insufficiency
    hypertrophy atrophy degeneration inflammation malformation dysfunction delay
    problem problems condition behavior development disturbance difficulty dependence
    intoxication withdrawal abuse carrier death newborn pregnancy delivery labor
    puerperium fetus absence loss shock collapse arrest impairment foreign body""".split()
)

_PAREN = re.compile(r"\s*[\(\[][^\)\]]*[\)\]]")
_SPACES = re.compile(r"\s+")
# Qualifier parts that do not make a code more specific than its head.
_NONSPECIFIC_PART = re.compile(
    r"^(unspecified( \w+)?|initial encounter|site not specified|not elsewhere classified"
    r"|uncomplicated|nos)$"
)
_WITH_SPLIT = re.compile(r" (?:with|without|in|due to|of unspecified) ")


def _clean(description: str) -> str:
    text = _PAREN.sub("", description.lower())
    return _SPACES.sub(" ", text).strip(" ,.;:")


def _candidates(description: str) -> Iterator[tuple[str, int]]:
    """Yield (term, specificity) pairs for one description; lower specificity = more general."""
    text = _clean(description)
    if text.endswith(" nos"):
        text = text[:-4]
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        return
    head, qualifiers = parts[0], parts[1:]
    specificity = sum(1 for q in qualifiers if not _NONSPECIFIC_PART.match(q))
    if head.startswith("unspecified "):
        head = head[len("unspecified ") :]
    yield head, specificity
    # "Type 2 diabetes mellitus without complications" -> "type 2 diabetes mellitus".
    match = _WITH_SPLIT.search(head)
    if match and not head.startswith("pain in"):
        yield head[: match.start()], specificity + 1


def is_conversational(term: str) -> bool:
    """True when a derived phrase is short, specific and free of coder vocabulary."""
    words = term.split()
    if not words or len(words) > MAX_TOKENS or len(term) < 4:
        return False
    if any(w in _BLOCK_WORDS for w in words):
        return False
    if len(words) == 1 and words[0] in _GENERIC_SINGLE:
        return False
    if words[-1] in {"of", "in", "and", "or", "to", "with", "by", "for", "the", "a"}:
        return False
    # Codes for conditions "in" a site are fine; a term that is only a site is not.
    return bool(re.search(r"[a-z]{3}", term))


def derive_icd_terms() -> dict[str, tuple[str, str]]:
    """Map conversational terms to (ICD-10-CM code, official description).

    When several codes yield the same term, the most general one wins (fewest specific
    qualifiers, then the shortest code), e.g. "otitis media" -> H66.9 rather than H66.91.
    Slow (about 3 s: it imports and walks the whole classification); callers cache the result.
    """
    import simple_icd_10_cm as cm  # imported here: loading the classification takes ~2 s

    best: dict[str, tuple[tuple[int, int, str], str, str]] = {}
    for code in cm.get_all_codes(with_dots=True):
        if code.startswith(_SKIP_CHAPTER_LETTERS) or cm.is_chapter_or_block(code):
            continue
        description = cm.get_description(code)
        for text in (description, *cm.get_inclusion_term(code)):
            for term, specificity in _candidates(text):
                if not is_conversational(term):
                    continue
                rank = (specificity, len(code), code)
                if term not in best or rank < best[term][0]:
                    best[term] = (rank, code, description)
    return {term: (code, description) for term, (_, code, description) in best.items()}
