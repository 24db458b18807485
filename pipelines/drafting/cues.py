"""Keyword cues for routing transcript sentences to SOAP sections.

All patterns match cleaned, lower-cased sentence text (``rewrite.clean(text).lower()``).
They complement entity labels; with ``DraftOptions.keyword_cues`` they also stand in for
entities when none are given.
"""

from __future__ import annotations

import re


def _cue(words: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + words + r")\b", re.IGNORECASE)


SYMPTOM = _cue(
    r"(?:chest|back|abdominal|stomach|neck|knee|ear) pain|sore throat|runny nose|"
    r"pains?|aches?|aching|hurts?|hurting|sore|fevers?|chills|cough\w*|nause\w*|vomit\w*|"
    r"diarrh\w*|constipat\w*|headaches?|dizz\w*|lightheaded|short(?:ness)? of breath|wheez\w*|"
    r"fatigue\w*|tired|numbness|tingling|swelling|swollen|rash|itch\w*|bleeding|"
    r"weight (?:loss|gain)|sweats|palpitations|cramps?|bloat\w*|heartburn|reflux|anxi\w*|"
    r"depress\w*|insomnia|injur\w*|fractur\w*|infection|diabetes|hypertension|asthma|copd|"
    r"allerg\w*|migraines?|arthritis|cancer|stroke|heart failure|heart attack|blood pressure|"
    r"cholesterol|"
    r"s[tp]rains?|fibrillation|flutter|arrhythmia|angina|neuropathy|otitis|bronchitis|"
    r"pneumonia|sinusitis|tonsillitis|gastroenteritis|cellulitis|conjunctivitis|gout|an(?:a)?emia|"
    r"eczema|dermatitis|psoriasis|hyperlipid\w*|hypothyroid\w*"
)
MEDICATION = _cue(
    r"\d+(?:\.\d+)?\s*(?:mg|milligrams?|mcg|micrograms?|units?)|medications?|medicines?|"
    r"pills?|tablets?|inhaler|insulin|ibuprofen|tylenol|advil|aspirin|metformin|lisinopril|"
    r"paracetamol|acetaminophen|antibiotics?|"
    r"\w+(?:cillin|mycin|cycline|floxacin|pril|sartan|olol|dipine|statin|prazole|gliflozin|"
    r"gliptin|xaban|parin)"  # common drug-name endings
)
VITAL = _cue(
    r"blood pressure|heart rate|pulse|temperature|oxygen|o2|saturation|sats|respiratory rate|"
    r"breathing rate|weight|bmi|\d+ over \d+"
)
# A measured value (not a year): digits, spoken numbers, units or a qualitative reading of a vital.
MEASURE = _cue(
    r"(?!(?:19|20)\d\d\b)\d+(?:\.\d+)?%?|over|hundred|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"percent|degrees?|kilograms?|kilos|pounds|beats|regular|irregular|normal"
)
EXAM = _cue(
    r"lungs?|heart|abdomen|belly|throat|ears?|eyes?|skin|neck|murmurs?|rub|gallop|wheez\w*|"
    r"crackles|rales|clear|tender\w*|swelling|swollen|edema|rash|exam\w*|auscultation|"
    r"palpat\w*|range of motion|reflexes|pulses|x-ray|ct|mri|ultrasound|ekg|results?|labs?|"
    r"a1c|ecg|echo|rhythm|rate|cholesterol|potassium|sodium|glucose|risk|bruising|ecchymosis|erythema|deformity|crepitus|intact"
)
FINDING = _cue(
    r"is|are|was|were|looks?|sounds?|feels?|shows?|showed|appears?|hear|see|appreciate|"
    r"notice|note|came back|positive|negative|normal|abnormal|elevated|intact"
)
IMPRESSION = _cue(
    r"i think|i believe|i suspect|looks like|sounds like|seems like|likely|probably|"
    r"consistent with|in keeping with|diagnos\w*|impression|suggestive of|due to|caused by|"
    r"side effect|(?:well |poorly |un|rate )?controlled|under control|expected (?:with|from)|"
    r"(?:first|second|third|next|last|other) problem"  # "for your first problem, back pain"
)
# A diagnosis statement even without a known problem word ("I think this is angina").
DIAGNOSIS = _cue(
    r"i think (?:this|it|that) is|i think you have|consistent with|(?:my )?diagnosis|"
    r"my impression|^this (?:is|looks like|sounds like|seems like) (?:an?|most likely|probably|"
    r"likely)(?! (?:bit|little|lot|good|great|few|prescription|referral|leaflet|form)\b)"
)
# "This is X" / "It's X": an impression when a problem is named within a few words.
DEFINITE = re.compile(r"^(?:this|it|that)(?:'s| is)\s", re.IGNORECASE)
DEFINITE_WINDOW = 7  # words, head included
_TEST_ORDER = (
    r"(?:check|recheck|get|do|run|draw|repeat|order|arrange|book)\b.{0,30}\b(?:x-ray|ct|mri|"
    r"ultrasound|blood ?work|blood count|labs?|ekg|ecg|echo\w*|tests?|panel|a1c|culture|biopsy|"
    r"scan|levels?|function)"
)
TEST_ORDER = _cue(_TEST_ORDER)
PLAN = _cue(
    r"start|stop|discontinue|increase|decrease|reduce|add|continue|order|refer|referral|"
    r"prescribe|prescription|schedule|follow[- ]?up|come back|see you (?:back|again)|switch|"
    r"taper|physical therapy|put you on|give you|recommend|stay on|keep (?:you on|taking|a|"
    r"checking|track)|diary|target|goal|emergency department|a&e|by mouth|as needed|"
    r"(?:once|twice|three times|four times) (?:a|per) day|every \w+ (?:to \w+ )?hours|"
    + _TEST_ORDER
)
FOLLOW_UP = _cue(r"follow[- ]?up|come back|see you (?:back|again|in (?:a|an|\w+ weeks?))|schedule")
DIRECTIVE = _cue(r"going to|gonna|will|'ll|want|wanna|let's|need to|should|recommend")
CLAUSE = re.compile(r",(\s+)(?:and|so|but)\s", re.IGNORECASE)
PLAN_EXCLUDE = _cue(r"let me|listen to|take a look|examine|physical exam")  # exam narration
# A sentence that only announces the exam ("Let me look in his ears."): not note material.
NARRATION = re.compile(
    r"^(?:let me|let's|i'll|i will|i'm going to|i am going to) (?:examine|check|look|listen|"
    r"have a look|take a look)\b[^,;]*$",
    re.IGNORECASE,
)
HISTORY = _cue(
    r"history of|medical history|you've been|you have been|you've had|you have had|"
    r"you mentioned|you said|you told|presents (?:today|for|with)|complain\w*|you're taking|"
    r"you take|year[- ]old|here to follow up|here for (?:a |your )?follow|in (?:19|20)\d\d|"
    r"years? ago"
)
