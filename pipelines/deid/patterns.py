"""Regular-expression recognisers for DATE, AGE (over 89), PHONE, ID, EMAIL and ADDRESS.

They are Presidio ``PatternRecognizer`` objects (Presidio compiles them with the ``regex``
module, case-insensitive, so look-behinds may vary in length). None of Presidio's predefined
recognisers is used: its e-mail and URL recognisers call tldextract, which fetches a suffix
list over the network. Patterns accept both cased text and ACI-Bench's spaced, lower-cased
text ("date of birth , 03/04/1965", "mrs . lee").
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL_WORDS = (
    r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth"
    r"|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth"
    r"|twentieth|thirtieth|(?:twenty|thirty)[\s-](?:first|second|third|fourth|fifth|sixth"
    r"|seventh|eighth|ninth))"
)
_DAY = rf"(?:(?:the\s+)?(?:[0-3]?\d(?:\s*(?:st|nd|rd|th))?|{_ORDINAL_WORDS}))"
_YEAR = r"(?:(?:19|20)\d{2})"
_SEP = r"\s*,?\s*"
# A month name counts only with a day or a year: "may" and "march" are also verbs.
_MONTH_DATE = (
    rf"\b{MONTHS}\.?\s+{_DAY}\b(?:{_SEP}(?:of\s+)?{_YEAR}\b)?"
    rf"|\b{_DAY}\s+(?:of\s+)?{MONTHS}\b(?:{_SEP}{_YEAR}\b)?"
    rf"|\b{MONTHS}\.?{_SEP}(?:of\s+)?{_YEAR}\b"
)
_NUMERIC_DATE = (
    r"\b(?:[01]?\d)\s?[/.-]\s?(?:[0-3]?\d)\s?[/.-]\s?(?:\d{4}|\d{2})\b"
    r"|\b(?:19|20)\d{2}-[01]\d-[0-3]\d\b"
    r"|(?<![\d/.-])[01]?\d[/-](?:19|20)\d{2}\b"  # month/year: "12-2019"
)
# "on the 28th" (a day of the month), not "the 5th floor" or "the 90th percentile".
_DAY_ONLY = (
    r"(?<=\b(?:on|since|until|by|before|after)\s+the\s+)[0-3]?\d(?:st|nd|rd|th)\b"
    r"(?!\s+(?:floor|time|grade|percentile|day|week|month|year|dose|visit|cycle|rib))"
)
# After "date of birth" / "dob" / "born on": whatever date-like run follows, even the broken
# forms dictation gives ("07 , 1898", "3 , 6 , 1976", "03/04/").
_DOB = (
    r"(?<=\b(?:date\s+of\s+birth|birth\s*date|d\.?o\.?b\.?|born\s+on|birthday\s+is)"
    r"(?:\s*(?:is|was|of|:|,|-))*\s*)"
    rf"(?:(?:{MONTHS}|{_ORDINAL_WORDS}|\d{{1,4}}(?:st|nd|rd|th)?)"
    r"(?:\s*[/.,-]\s*|\s+)?){1,4}"
)
_AGE_WORDS = r"(?:ninety|one\s+hundred|a\s+hundred)(?:[\s-](?:and\s+)?(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty))?"  # noqa: E501
_AGE_NUMBER = rf"(?:9\d|1[01]\d|{_AGE_WORDS})"
_AGE = (
    rf"\b{_AGE_NUMBER}(?=\s*-?\s*(?:years?|yrs?|y/?o|y\.o\.|yo|-?year-old)\b)"
    rf"|(?<=\b(?:aged?|age\s+of|age\s+is|turned|turning)\s+){_AGE_NUMBER}\b"
    r"|\b(?:in\s+(?:his|her|their|my)\s+)(?:late\s+|early\s+|mid\s+)?nineties\b"
)
_PHONE = r"(?<![\w/.-])(?:\+?1[\s.-]?)?(?:\(\s?\d{3}\s?\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?![\w/-])"
_PHONE_CONTEXT = (
    r"(?<=\b(?:phone|cell|call|number|telephone|tel|fax|pager|reach\s+me\s+at)"
    r"(?:\s+(?:number|is|at|on|me|:|,))*\s*)\d{3}[\s.-]\d{4}\b"
)
_ID_LEAD = (
    r"(?:mrn|mr\s+number|medical\s+record(?:\s+number)?|record\s+number|chart\s+number"
    r"|account(?:\s+number)?|acct|member\s+id|patient\s+id|id\s+number|insurance\s+(?:id|number)"
    r"|policy\s+number|ssn|social\s+security(?:\s+number)?|social|license\s+number"
    r"|health\s+plan\s+number|nhs\s+number)"
)
_ID = (
    rf"(?<=\b{_ID_LEAD}(?:\s*(?:is|was|number|no\.?|#|:|,|-))*\s*)"
    r"[a-z]{0,3}\d[\d\s-]{2,}\d\b"
    r"|\bmrn\s?[a-z]?\d{4,}\b"
    r"|\b\d{3}-\d{2}-\d{4}\b"
    r"|\b[a-z]{1,3}\d{6,}\b"
    r"|(?<![\d/.-])\d{7,}(?![\d/.-])"
)
_EMAIL = (
    r"\b[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b"
    r"|\b[a-z0-9][a-z0-9._-]*\s+at\s+[a-z0-9-]+\s+dot\s+(?:com|org|net|edu|gov|co\.uk|co)\b"
)
_STREET_TYPES = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl"
    r"|terrace|ter|circle|cir|parkway|pkwy|highway|hwy|route|trail|square|sq|crescent|close)"
)
_STATES = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV"
    r"|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)"
)
_ADDRESS = (
    r"\b\d{1,6}\s+(?:(?:north|south|east|west|n|s|e|w)\.?\s+)?"
    r"(?:(?!(?:on|a|an|the|of|to|in|at|for|and|or|my|your|his|her|down|up|off|miles?|blocks?"
    r"|minutes?|hours?|times?|days?)\b)[a-z][a-z'-]*\s+){1,3}"
    rf"{_STREET_TYPES}\b\.?"
    r"(?:\s*,?\s*(?:apt|apartment|unit|suite|ste|#)\.?\s*#?\s*\w+)?"
    r"(?:\s*,\s*[a-z]+(?:\s+[a-z]+)?\s*,\s*[a-z]{2}\s+\d{5}(?:-\d{4})?)?"
    r"|\bp\s?\.?\s?o\s?\.?\s*box\s+\d+"
    rf"|(?<=\b(?:{_STATES}|zip|zip\s+code|zipcode|postal\s+code)\s*,?\s*(?:is\s+)?)"
    r"\d{5}(?:-\d{4})?\b"
)


def pattern_recognizers() -> list[PatternRecognizer]:
    """One Presidio recogniser per label (scores rank overlapping detections)."""

    def rec(label: str, *patterns: tuple[str, str, float]) -> PatternRecognizer:
        return PatternRecognizer(
            supported_entity=label,
            name=f"scribe_{label.lower()}",
            patterns=[Pattern(name, regex, score) for name, regex, score in patterns],
        )

    return [
        rec(
            "DATE",
            ("dob", _DOB, 0.9),
            ("month", _MONTH_DATE, 0.8),
            ("numeric", _NUMERIC_DATE, 0.8),
            ("day", _DAY_ONLY, 0.6),
        ),
        rec("AGE", ("over_89", _AGE, 0.9)),
        rec("PHONE", ("phone", _PHONE, 0.7), ("phone_context", _PHONE_CONTEXT, 0.75)),
        rec("ID", ("record_number", _ID, 0.85)),
        rec("EMAIL", ("email", _EMAIL, 0.95)),
        rec("ADDRESS", ("street", _ADDRESS, 0.8)),
    ]
