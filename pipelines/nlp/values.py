"""Values spoken next to an entity: vital readings, test results, medication sig.

"blood pressure today is 148 over 92" -> VITAL value "148/92" mmHg;
"metformin 500 milligrams twice a day" -> MEDICATION dose / frequency (route, duration);
"A1c came back at 7.2" -> TEST value "7.2".

Runs after the term matcher: it reads each entity's text up to the next entity or the end of
the sentence and stores what it finds in ``Span._.scribe_attrs``.
"""

# No `from __future__ import annotations` here: spaCy validates factory signatures at
# runtime and cannot resolve string annotations.

import re
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from pipelines.nlp.matcher import CONCEPT_ATTR

VALUES_NAME = "scribe_value_extractor"
VALUES_VERSION = "scribe_value_extractor.v1"
ATTRS_ATTR = "scribe_attrs"
WINDOW_CHARS = 80

if not Span.has_extension(ATTRS_ATTR):
    Span.set_extension(ATTRS_ATTR, default=None)

_NUM = r"\d+(?:\.\d+)?"
# Words people put between a vital/test name and its value ("is", "today", "came back at").
_FILLER = (
    r"(?:[\s,:\-]+(?:is|was|are|were|'s|of|at|to|today|now|currently|right|this|morning|"
    r"reading|reads|looks|looked|came|back|as|running|about|around|like|it|it's|your|his|her|"
    r"my|the|been|measured|still|a|little|bit|up|down|only|level|levels|result|results|value|"
    r"number|checked|taken))*?[\s,:\-]+"
)
_BP = re.compile(_FILLER + r"(?P<sys>\d{2,3})\s*(?:over|/)\s*(?P<dia>\d{2,3})\b", re.I)
_SCALAR = re.compile(
    _FILLER + rf"(?P<num>{_NUM})(?:\s*(?P<unit>[a-z°%/]+(?:\s+per\s+"
    r"(?:minute|deciliter|liter))?))?",
    re.I,
)
_QUALITATIVE = re.compile(
    _FILLER + r"(?P<word>normal|abnormal|negative|positive|elevated|high|low|borderline|"
    r"unremarkable|fine|good|okay)\b",
    re.I,
)

_UNITS: dict[str, str] = {
    "percent": "%",
    "%": "%",
    "degrees": "°",
    "degree": "°",
    "celsius": "°C",
    "c": "°C",
    "°c": "°C",
    "fahrenheit": "°F",
    "f": "°F",
    "°f": "°F",
    "kilos": "kg",
    "kilograms": "kg",
    "kg": "kg",
    "pounds": "lb",
    "lbs": "lb",
    "centimeters": "cm",
    "cm": "cm",
    "inches": "in",
    "bpm": "bpm",
    "beats": "bpm",
    "breaths": "/min",
    "mg/dl": "mg/dL",
    "milligrams per deciliter": "mg/dL",
    "mmol": "mmol/L",
    "millimoles": "mmol/L",
}

_DOSE = re.compile(
    rf"\b(?P<dose>(?P<amount>{_NUM}|one|two|half|a half)\s*(?P<unit>milligrams?|mg|micrograms?|"
    r"mcg|grams?|units?|milliliters?|ml|cc|puffs?|tablets?|tabs?|pills?|capsules?|drops?|"
    r"sprays?|patch(?:es)?)\b)",
    re.I,
)
_DOSE_BEFORE = re.compile(_DOSE.pattern + r"\s+(?:of\s+)?$", re.I)
_ROUTE = re.compile(
    r"\b(?P<route>by mouth|orally|oral|under the tongue|sublingual(?:ly)?|topical(?:ly)?|"
    r"on the skin|inhaled|inhaler|nebuli[sz]ed|intravenous(?:ly)?|IV|intramuscular(?:ly)?|"
    r"subcutaneous(?:ly)?|injections?|injected|shots?|eye drops?|in (?:each|the|your) eyes?|"
    r"nasal(?:ly)?|in (?:each|your) nostrils?|rectal(?:ly)?|patch)\b",
    re.I,
)
_FREQUENCY = re.compile(
    r"\b(?P<freq>(?:once|twice|three times|four times|\d+ times)\s+(?:a|per|each|every)\s+"
    r"(?:day|week|month|night)|(?:once|twice) daily|every other day|every (?:\d+|two|four|six|"
    r"eight|twelve) hours|(?:every|each) (?:day|morning|night|evening)|in the (?:morning|evening)"
    r"|at (?:night|bedtime)|before bed|daily|nightly|weekly|monthly|as needed|when needed|"
    r"if needed|prn|bid|tid|qid|with (?:meals|food|breakfast|dinner))\b",
    re.I,
)
_DURATION = re.compile(
    r"\bfor\s+(?:the\s+(?:next\s+)?)?(?:next\s+)?(?P<dur>(?:\d+|one|two|three|four|five|six|"
    r"seven|eight|nine|ten|fourteen|a|a couple of|a few)\s+(?:days?|weeks?|months?|years?))\b",
    re.I,
)

_ROUTE_NORMAL = [
    ("mouth", "oral"),
    ("oral", "oral"),
    ("tongue", "sublingual"),
    ("sublingual", "sublingual"),
    ("topical", "topical"),
    ("skin", "topical"),
    ("inhale", "inhaled"),
    ("nebuli", "inhaled"),
    ("intravenous", "intravenous"),
    ("iv", "intravenous"),
    ("intramuscular", "intramuscular"),
    ("subcutaneous", "subcutaneous"),
    ("inject", "injection"),
    ("shot", "injection"),
    ("eye", "ophthalmic"),
    ("nasal", "nasal"),
    ("nostril", "nasal"),
    ("rectal", "rectal"),
    ("patch", "transdermal"),
]


def _normal_route(text: str) -> str:
    low = text.lower()
    return next((norm for key, norm in _ROUTE_NORMAL if key in low), low)


def _unit(spoken: str | None, default: str | None, value: float) -> str | None:
    unit = _UNITS.get((spoken or "").lower())
    if default == "°C" and unit in (None, "°"):
        return "°F" if value > 50 else "°C"  # 98.6 is Fahrenheit, 38.2 is Celsius
    if unit == "°":
        return default
    return unit or default


def _with_value(attrs: dict[str, Any], base: int, match: re.Match[str], group: str) -> None:
    attrs["value_start"] = base + match.start(group)
    attrs["value_end"] = base + match.end(group)


def vital_attrs(window: str, base: int, name: str | None, unit: str | None) -> dict[str, Any]:
    """Value and unit of a vital sign from the text that follows its name."""
    attrs: dict[str, Any] = {}
    if name == "Blood pressure":
        match = _BP.match(window)
        if match:
            attrs.update(value=f"{match['sys']}/{match['dia']}", unit="mmHg")
            attrs["value_start"] = base + match.start("sys")
            attrs["value_end"] = base + match.end("dia")
        return attrs
    match = _SCALAR.match(window)
    if match:
        attrs.update(value=match["num"], unit=_unit(match["unit"], unit, float(match["num"])))
        _with_value(attrs, base, match, "num")
    return attrs


def test_attrs(window: str, base: int) -> dict[str, Any]:
    """Result of a test stated right after it ("A1c was 7.2 percent", "strep test negative")."""
    match = _SCALAR.match(window)
    if match:
        attrs: dict[str, Any] = {"value": match["num"]}
        unit = _UNITS.get((match["unit"] or "").lower())
        if unit:
            attrs["unit"] = unit
        _with_value(attrs, base, match, "num")
        return attrs
    match = _QUALITATIVE.match(window)
    if match:
        attrs = {"value": match["word"].lower()}
        _with_value(attrs, base, match, "word")
        return attrs
    return {}


def medication_attrs(window: str, before: str) -> dict[str, Any]:
    """Dose, route, frequency and duration spoken around a medication name (as spoken)."""
    attrs: dict[str, Any] = {}
    dose = _DOSE.search(window) or _DOSE_BEFORE.search(before)
    if dose:
        attrs["dose"] = dose["dose"]
    for key, pattern, group in (
        ("route", _ROUTE, "route"),
        ("frequency", _FREQUENCY, "freq"),
        ("duration", _DURATION, "dur"),
    ):
        match = pattern.search(window)
        if match:
            attrs[key] = match[group]
    if "route" in attrs:
        attrs["route_normalized"] = _normal_route(attrs["route"])
    return attrs


class ValueExtractor:
    """Fills ``Span._.scribe_attrs`` for VITAL, TEST and MEDICATION entities."""

    version = VALUES_VERSION

    def __init__(self, name: str = VALUES_NAME) -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        ents = list(doc.ents)
        text = doc.text
        routes: list[tuple[int, int]] = []
        for i, ent in enumerate(ents):
            if ent.label_ not in ("VITAL", "TEST", "MEDICATION"):
                continue
            limit = min(
                ent.sent.end_char if doc.has_annotation("SENT_START") else len(text),
                ent.end_char + WINDOW_CHARS,
            )
            if i + 1 < len(ents) and ents[i + 1].label_ != "ANATOMY":
                limit = min(limit, ents[i + 1].start_char)
            window = text[ent.end_char : limit]
            concept = ent._.get(CONCEPT_ATTR)
            if ent.label_ == "VITAL":
                attrs = vital_attrs(
                    window, ent.end_char, concept and concept.code_label, concept and concept.unit
                )
            elif ent.label_ == "TEST":
                attrs = test_attrs(window, ent.end_char)
            else:
                start = ent.sent.start_char if doc.has_annotation("SENT_START") else 0
                if i > 0:
                    start = max(start, ents[i - 1].end_char)
                attrs = medication_attrs(window, text[start : ent.start_char])
                route = _ROUTE.search(window)
                if route:
                    routes.append((ent.end_char + route.start(), ent.end_char + route.end()))
            ent._.set(ATTRS_ATTR, attrs)
        if routes:  # "by mouth" is a route, not an ANATOMY mention
            doc.ents = [
                e
                for e in ents
                if not (
                    e.label_ == "ANATOMY"
                    and any(s <= e.start_char and e.end_char <= t for s, t in routes)
                )
            ]
        return doc


@Language.factory(VALUES_NAME)
def make_value_extractor(nlp: Language, name: str) -> ValueExtractor:
    """spaCy factory for :class:`ValueExtractor`."""
    return ValueExtractor(name=name)
