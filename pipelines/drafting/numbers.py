"""Spoken numbers and units as a note writes them: "five hundred milligrams" -> "500 mg".

Conversations spell numbers out ("one twenty over eighty", "ninety eight point six", "two
thousand eighteen"); notes use digits and unit abbreviations. The rewrite changes only the
form: ``written_numbers`` maps every converted phrase to its digits, so the support check
can apply the same conversion to the evidence and still see where a number came from.

A lone number word is converted only before a unit or a time word ("two days" -> "2 days"),
so that "no one", "one of them" or "the one on the left" stay words.
"""

from __future__ import annotations

import itertools
import re

_UNITS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_UNITS["oh"] = 0  # "ninety eight point oh"
_TENS = {
    w: 10 * (i + 2)
    for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())
}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES], key=len, reverse=True))
_ENDS_IN_NUMBER = re.compile(rf"(?:\b(?:{_NUMBER_WORD})|\d)\s*$", re.IGNORECASE)
_STARTS_WITH_NUMBER = re.compile(rf"^\s*(?:(?:{_NUMBER_WORD})\b|\d)", re.IGNORECASE)
# A run of number words (with "and"/"point"/hyphens inside), or digits followed by words.
_RUN = re.compile(
    rf"\b(?:(?:a\s+)?(?=hundred|thousand))?(?:{_NUMBER_WORD}|\d+)(?:(?:\s+|-)(?:and\s+)?(?:{_NUMBER_WORD}|point)\b)*"
    rf"(?:\s+point(?:\s+(?:{_NUMBER_WORD}))+)?\b",
    re.IGNORECASE,
)
# Words after which a single number word is a quantity ("two days", "one tablet").
_QUANTITY_NEXT = re.compile(
    r"\s+(?:mg|milligrams?|micrograms?|mcg|grams?|units?|milliliters?|ml|cc|puffs?|tablets?|"
    r"pills?|capsules?|drops?|times?|days?|weeks?|months?|years?|hours?|minutes?|seconds?|"
    r"pounds?|kilos?|kilograms?|percent|degrees?|inches?|centimeters?|cm|millimeters?|mm|"
    r"packs?|drinks?|beers?|glasses|cups?|servings?|miles?|blocks?|flights?|steps?|"
    r"episodes?|nights?|children|kids|sons?|daughters?|brothers?|sisters?|out of|over|"
    r"o'clock|am|pm|liters?|doses?|injections?|shots?|stents?|vessels?|beats?|breaths?)\b",
    re.IGNORECASE,
)
_UNIT_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"milligrams?", "mg"),
    (r"micrograms?", "mcg"),
    (r"milliliters?", "mL"),
    (r"percent", "%"),
)
_AFTER_DIGITS = re.compile(
    r"(?<=\d)\s+(" + "|".join(p for p, _ in _UNIT_ABBREVIATIONS) + r")\b", re.IGNORECASE
)


# "six or so weeks", "six to eight weeks", "one twenty over eighty": a quantity as well.
_RANGE_NEXT = re.compile(rf"\s*(?:to|or|-)\s+(?:so\b|(?:{_NUMBER_WORD}|\d+)\b)", re.IGNORECASE)
_OVER_BEFORE = re.compile(
    r"(?:\d|\b(?:" + _NUMBER_WORD + r"))\s+(?:over|out of)\s+$", re.IGNORECASE
)


def _is_quantity(text: str, start: int, end: int) -> bool:
    """Does the single number word at ``text[start:end]`` count something?"""
    if _QUANTITY_NEXT.match(text, end) or _OVER_BEFORE.search(text[max(0, start - 30) : start]):
        return True
    m = _RANGE_NEXT.match(text, end)
    if not m:
        return False
    rest = _RUN.match(text, m.end() - len(m.group().split()[-1]))
    after = rest.end() if rest else m.end()
    return bool(_QUANTITY_NEXT.match(text, after))


def _value(words: list[str]) -> int | None:
    """An integer from number words: "five hundred twenty" -> 520, "one twenty" -> 120."""
    total, current = 0, 0
    for w in words:
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w == "thousand":
            total, current = total + max(current, 1) * 1000, 0
        else:
            return None
    return total + current


def _parse(words: list[str]) -> str | None:
    """Digits for a run of number words, or None when it is not one number.

    Handles "one twenty" (120, blood-pressure style), "two thousand eighteen" (2018),
    "ninety eight point six" (98.6) and "ninety eight" (98).
    """
    words = [w for w in words if w != "and"]
    if "point" in words:
        k = words.index("point")
        whole = _parse(words[:k]) if words[:k] else "0"
        decimals = [str(_UNITS.get(w, -1)) for w in words[k + 1 :]]
        if whole is None or not decimals or "-1" in decimals:
            return None
        return f"{whole}.{''.join(decimals)}"
    if not words:
        return None
    # "one twenty", "one forty five": a hundreds digit spoken before a tens group.
    if len(words) >= 2 and words[0] in _UNITS and _UNITS[words[0]] < 10 and words[1] in _TENS:
        rest = _value(words[1:])
        return None if rest is None else str(_UNITS[words[0]] * 100 + rest)
    # Two units or teens in a row ("two three") are separate numbers, not one.
    for a, b in itertools.pairwise(words):
        if a in _UNITS and b in _UNITS:
            return None
        if a in _TENS and b in _TENS:
            return None
    value = _value(words)
    return None if value is None else str(value)


def written_numbers(text: str, every: bool = False) -> list[tuple[int, int, str]]:
    """(start, end, digits) for every spoken number in ``text`` that a note writes as digits
    (with ``every``, also lone number words, as a support check reads them)."""
    found = []
    for m in _RUN.finditer(text):
        tokens = list(re.finditer(r"[A-Za-z]+|\d+", m.group()))
        if tokens and tokens[0].group().lower() == "a":
            tokens.pop(0)  # "a hundred" = "one hundred"
        while tokens and tokens[-1].group().lower() in ("and", "point"):
            tokens.pop()
        words = [t.group().lower() for t in tokens]
        if not words or words[0].isdigit():
            continue  # already digits ("2 point"...): leave as is
        digits = _parse(words)
        if digits is None:
            continue
        end = m.start() + tokens[-1].end()
        if len(words) == 1 and not every and not _is_quantity(text, m.start(), end):
            continue
        found.append((m.start(), end, digits))
    return found


def write_numbers(text: str, every: bool = False) -> str:
    """``text`` with spoken numbers as digits and units after digits abbreviated.

    "five hundred milligrams twice a day" -> "500 mg twice a day";
    "one twenty over eighty" -> "120/80"; "ninety eight point six" -> "98.6".
    """
    out, pos = [], 0
    for start, end, digits in written_numbers(text, every):
        out += [text[pos:start], digits]
        pos = end
    t = "".join([*out, text[pos:]])
    t = re.sub(r"\b(\d{2,3})\s+over\s+(\d{2,3})\b", r"\1/\2", t)
    t = re.sub(r"\b(\d+)\s+out of\s+(\d+)\b", r"\1/\2", t)  # "2 out of 6" murmur grade
    abbreviations = dict(_UNIT_ABBREVIATIONS)

    def unit(m: re.Match[str]) -> str:
        for pattern, short in abbreviations.items():
            if re.fullmatch(pattern, m.group(1), re.IGNORECASE):
                return short if short == "%" else " " + short
        return m.group()

    t = _AFTER_DIGITS.sub(unit, t)
    return re.sub(r"(?<=\d) %", "%", t)


def splits_number(before: str, after: str) -> bool:
    """Whether a cut between ``before`` and ``after`` falls inside one spoken number ("as
    high as one" | "seventy over ninety" is 170/90, not 70/90)."""
    return bool(_ENDS_IN_NUMBER.search(before) and _STARTS_WITH_NUMBER.match(after))
