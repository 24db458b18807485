"""Quantities in text, normalised so a note and a transcript can be compared.

"one twenty over eighty" and "120/80" are both the ratio ``120/80``; "five hundred
milligrams" and "500 mg" are ``500 mg``; "twice a day", "twice daily" and "BID" are the
frequency ``2/day``; "type two diabetes" says ``2``. Spoken numbers are turned into digits
first, then frequencies, ratios and numbers with their units are read off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ONES = {
    "zero": 0,
    "oh": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = {**_ONES, **_TEENS, **_TENS}
# Letters with digits ("a1c", "b12", "t2dm") are words; "500mg" is a number and a unit.
_TOKEN = re.compile(r"[a-z]+\d[a-z0-9]*|\d+(?:,\d{3})*(?:\.\d+)?|[a-z]+|[/%°#]")

# Canonical units: what a number counts. Two numbers with different units never match.
_UNIT_WORDS: dict[str, str] = {}
for _canon, _words in {
    "mg": "mg milligram milligrams milligramme milligrammes",
    "mcg": "mcg microgram micrograms ug",
    "g": "g gram grams gm",
    "ml": "ml milliliter milliliters millilitre millilitres cc",
    "unit": "unit units iu",
    "%": "% percent per cent",
    "deg": "° degree degrees f c fahrenheit celsius",
    "kg": "kg kilo kilos kilogram kilograms",
    "lb": "lb lbs pound pounds",
    "bpm": "bpm beats",
    "mmhg": "mmhg",
    "minute": "minute minutes min mins",
    "hour": "hour hours hr hrs",
    "day": "day days",
    "week": "week weeks wk wks",
    "month": "month months mo",
    "year": "year years yr yrs",
    "tablet": "tablet tablets tab tabs pill pills capsule capsules",
    "puff": "puff puffs",
    "cm": "cm centimeter centimeters",
    "inch": "inch inches",
    "mm": "mm millimeter millimeters",
}.items():
    for _w in _words.split():
        _UNIT_WORDS[_w] = _canon

# Words that only say how much or how often: compared as quantities, never as content words.
QUANTITY_WORDS = frozenset(
    set(_UNIT_WORDS)
    | set(_NUMBER_WORDS)
    | set(_SCALES)
    | set("once twice thrice times daily nightly weekly monthly bid tid qid qd prn qhs".split())
)

# Frequencies, matched on the digit-normalised, space-joined tokens (longest first).
_FREQUENCIES: tuple[tuple[str, str], ...] = (
    (r"every other day|(?:q|every) ?48 ?(?:h|hours?)", "0.5/day"),
    (r"(?:1 time|once) (?:a|per|each|every) week|weekly|q ?week|qwk", "1/week"),
    (r"(?:twice|2 times) (?:a|per|each|every) week", "2/week"),
    (r"(?:1 time|once) (?:a|per|each|every) month|monthly", "1/month"),
    (
        r"(?:twice|2 times) (?:a|per|each|every) day|twice daily|2 times daily|bid|b i d|"
        r"(?:q|every) ?12 ?(?:h|hours?)|2 a day",
        "2/day",
    ),
    (
        r"(?:thrice|3 times) (?:a|per|each|every) day|3 times daily|tid|t i d|"
        r"(?:q|every) ?8 ?(?:h|hours?)|3 a day",
        "3/day",
    ),
    (
        r"4 times (?:a|per|each|every) day|4 times daily|qid|q i d|(?:q|every) ?6 ?(?:h|hours?)|"
        r"4 a day",
        "4/day",
    ),
    (r"(?:q|every) ?4 ?(?:h|hours?)", "6/day"),
    (
        r"(?:1 time|once) (?:a|per|each|every) day|once daily|1 time daily|daily|every day|"
        r"each day|qd|q day|qday|qam|qpm|qhs|every (?:morning|night|evening)|nightly|"
        r"at (?:night|bedtime)|before bed|in the (?:morning|evening)|1 a day|(?:a|per) day",
        "1/day",
    ),
)
# "as needed" says when, not how often: it never contradicts a frequency.
_AS_NEEDED = re.compile(r"\b(?:as needed|when needed|if needed|as necessary|prn)\b")
_FREQ_PATTERNS = tuple((re.compile(rf"\b(?:{p})\b"), v) for p, v in _FREQUENCIES)
_GENERIC_FREQ = re.compile(r"\b(\d+) times (?:a|per|each|every) (day|week|month|year)\b")
# "120/80", "one twenty over eighty"; a score "eleven out of ten" is written "11/10".
_RATIO = re.compile(r"\b(\d{2,3}) ?(?:over|/|out of) ?(\d{2,3})\b")
_NUMBER = re.compile(r"(?<![#\w.])(\d+(?:\.\d+)?)(?: ?(-? ?[a-z%°]+))?")
# "under a year", "in a week": one of the unit ("a day" is a frequency, read before this).
_ONE_UNIT = re.compile(r"\b(?:a|an|one) (year|week|month|hour|minute)s?\b")
# An age is not a duration: "a 13-year-old" never contradicts "two years ago".
_AGE = re.compile(r"\b(\d{1,3}) ?-? ?(?:years? ?-? ?old|yo|y o|years? of age)\b")
# Numbers that are part of a name, not a quantity ("COVID-19", "B12" is one token anyway).
_NAMES = re.compile(r"\bcovid 19\b|\bsars cov 2\b|\bcov 2\b|# \d+")


@dataclass(frozen=True)
class Quantity:
    """One quantity: ``kind`` ``number`` / ``ratio`` / ``frequency`` / ``as_needed``, its
    canonical ``value`` ("500", "120/80", "2/day", "prn"), canonical ``unit`` ("" when none) and
    where it is in the original text."""

    kind: str
    value: str
    unit: str
    start: int
    end: int

    def matches(self, other: Quantity) -> bool:
        """Same quantity: same kind and value, and units agree (or one has none)."""
        if self.kind != other.kind or self.value != other.value:
            return False
        return not (self.unit and other.unit and self.unit != other.unit)

    def heard_in(self, other: Quantity) -> bool:
        """Said by ``other``: the same quantity, or a number that is part of a reading
        ("systolic 150" in "150/90")."""
        if self.matches(other):
            return True
        return (
            self.kind == "number" and other.kind == "ratio" and self.value in other.value.split("/")
        )

    def competes(self, other: Quantity) -> bool:
        """Another value of the same measure: a contradiction if this one is not found."""
        if self.kind != other.kind or self.value == other.value or self.kind == "as_needed":
            return False
        if self.kind in ("ratio", "frequency"):
            return True
        return bool(self.unit) and self.unit == other.unit


@dataclass(frozen=True)
class _Tok:
    text: str  # lower case, numbers as digits
    start: int
    end: int


def _canon_number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def _spoken_number(words: list[str], i: int) -> tuple[float, int] | None:
    """A spoken number starting at ``words[i]``: (value, index after it), or None."""
    n = len(words)
    w = words[i]
    if w not in _NUMBER_WORDS and not (w == "a" and i + 1 < n and words[i + 1] in _SCALES):
        return None
    if w == "oh":
        return None
    # "one twenty (over eighty)", "one oh five": hundreds said as two groups.
    if w in _ONES and i + 1 < n and (words[i + 1] in _TEENS or words[i + 1] in _TENS):
        head = _ONES[w] * 100
        value, j = _tens_group(words, i + 1)
        return float(head + value), j
    if w in _ONES and i + 2 < n and words[i + 1] == "oh" and words[i + 2] in _ONES:
        return float(_ONES[w] * 100 + _ONES[words[i + 2]]), i + 3
    total, current, j = 0, 0, i
    seen = False
    while j < n:
        t = words[j]
        if t == "a" and not seen and j + 1 < n and words[j + 1] in _SCALES:
            current, j, seen = 1, j + 1, True
            continue
        if t in _SCALES and seen:
            current = max(current, 1) * _SCALES[t]
            if _SCALES[t] == 1000:
                total, current = total + current, 0
            j += 1
            if j + 1 < n and words[j] == "and" and words[j + 1] in _NUMBER_WORDS:
                j += 1
            continue
        if t in _TENS or t in _TEENS or (t in _ONES and t != "oh"):
            if seen and current % 100 and (t in _TENS or t in _TEENS or current % 10):
                break  # "twenty thirty" is two numbers
            current += _NUMBER_WORDS[t]
            seen = True
            j += 1
            continue
        break
    if not seen:
        return None
    value = float(total + current)
    if j + 1 < n and words[j] == "point" and words[j + 1] in _ONES:
        digits = ""
        j += 1
        while j < n and words[j] in _ONES:
            digits += str(_ONES[words[j]])
            j += 1
        value = float(f"{int(value)}.{digits}")
    return value, j


def _tens_group(words: list[str], i: int) -> tuple[int, int]:
    w = words[i]
    if w in _TEENS:
        return _TEENS[w], i + 1
    value = _TENS[w]
    if i + 1 < len(words) and words[i + 1] in _ONES and words[i + 1] != "oh":
        return value + _ONES[words[i + 1]], i + 2
    return value, i + 1


def normalise_tokens(text: str) -> list[_Tok]:
    """Lower-case tokens of ``text`` with spoken numbers replaced by digits (offsets kept)."""
    raw = [(m.group().replace(",", ""), m.start(), m.end()) for m in _TOKEN.finditer(text.lower())]
    words = [r[0] for r in raw]
    out: list[_Tok] = []
    i = 0
    while i < len(raw):
        spoken = _spoken_number(words, i)
        if spoken is not None:
            value, j = spoken
            out.append(_Tok(_canon_number(value), raw[i][1], raw[j - 1][2]))
            i = j
            continue
        out.append(_Tok(words[i], raw[i][1], raw[i][2]))
        i += 1
    return out


def _joined(tokens: list[_Tok]) -> tuple[str, list[int]]:
    """Tokens joined by spaces, and for each character the index of its token."""
    parts, owner = [], []
    for k, tok in enumerate(tokens):
        if parts:
            parts.append(" ")
            owner.append(k)
        parts.append(tok.text)
        owner.extend([k] * len(tok.text))
    return "".join(parts), owner


def quantities(text: str) -> tuple[Quantity, ...]:
    """Frequencies, ratios and numbers (with units) in ``text``, in order."""
    tokens = normalise_tokens(text)
    if not tokens:
        return ()
    joined, owner = _joined(tokens)
    taken = [False] * len(joined)
    found: list[Quantity] = []

    def span(a: int, b: int) -> tuple[int, int]:
        return tokens[owner[a]].start, tokens[owner[b - 1]].end

    def claim(m: re.Match[str], kind: str, value: str, unit: str) -> None:
        if any(taken[m.start() : m.end()]):
            return
        taken[m.start() : m.end()] = [True] * (m.end() - m.start())
        found.append(Quantity(kind, value, unit, *span(m.start(), m.end())))

    for m in _NAMES.finditer(joined):
        taken[m.start() : m.end()] = [True] * (m.end() - m.start())
    for m in _GENERIC_FREQ.finditer(joined):
        claim(m, "frequency", f"{int(m.group(1))}/{m.group(2)}", "")
    for pattern, value in _FREQ_PATTERNS:
        for m in pattern.finditer(joined):
            claim(m, "frequency", value, "")
    for m in _AGE.finditer(joined):
        claim(m, "number", m.group(1), "age")
    for m in _ONE_UNIT.finditer(joined):
        claim(m, "number", "1", _UNIT_WORDS[m.group(1)])
    for m in _AS_NEEDED.finditer(joined):
        claim(m, "as_needed", "prn", "")
    for m in _RATIO.finditer(joined):
        claim(m, "ratio", f"{int(m.group(1))}/{int(m.group(2))}", "")
    for m in _NUMBER.finditer(joined):
        if any(taken[m.start(1) : m.end(1)]):
            continue
        unit_word = (m.group(2) or "").replace("-", "").strip()
        unit = _UNIT_WORDS.get(unit_word, "")
        end = m.end() if unit else m.end(1)
        taken[m.start() : end] = [True] * (end - m.start())
        start, stop = span(m.start(), end)
        if not unit and m.group(1) == "1" and not text[start:stop].isdigit():
            continue  # a spoken bare "one" is mostly a pronoun ("the left one")
        found.append(
            Quantity("number", _canon_number(float(m.group(1))), unit, *span(m.start(), end))
        )
    return tuple(sorted(found, key=lambda q: q.start))
