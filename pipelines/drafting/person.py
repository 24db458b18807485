"""Grammatical person: who "I", "my" and "you" are once speech becomes a note.

A ``Voice`` names the patient in the note: "she/her" or "he/him" when the visit says so
(``infer_voice``), else "the patient". The terse voice (``TERSE``) is the SOAP rules
drafter's "Reports cough." style.

``patient_person`` turns the patient's first person into the voice's third person with verb
agreement ("I feel" -> "she feels", "I don't" -> "she does not"); ``clinician_person`` turns
the clinician's "you" into the patient ("you have" -> "he has", "start you on" -> "start him
on") and keeps the clinician's own "I"/"we" (the note's author).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pipelines.types import Transcript

_I = re.IGNORECASE


@dataclass(frozen=True)
class Voice:
    """How the note refers to the patient.

    subject/object/possessive/reflexive: "she"/"her"/"her"/"herself", "he"/"him"/"his"/
    "himself", or "the patient"/"the patient"/"the patient's"/"themselves".
    terse: the clipped SOAP style ("Reports cough.", "Patient is ...", "they"/"their").
    """

    subject: str = "the patient"
    object: str = "the patient"
    possessive: str = "the patient's"
    reflexive: str = "themselves"
    terse: bool = False
    second_person: bool = False  # written to the patient ("you reported", "your knee")

    @property
    def singular(self) -> bool:
        """Does the subject take a third-person singular verb ("she has")?"""
        return not (self.terse or self.second_person)

    @property
    def reports(self) -> str:
        """The verb that frames what the patient said they have."""
        return "mentioned" if self.second_person else "reports"


TERSE = Voice("they", "them", "their", "themselves", terse=True)
FEMALE = Voice("she", "her", "her", "herself")
MALE = Voice("he", "him", "his", "himself")
# Without a known sex: "the patient" as subject, "the" as possessive ("the knee"), which
# reads naturally and never guesses.
NEUTRAL = Voice(possessive="the")
# A summary written to the patient: the patient's "I" becomes "you" (verbs agree as is).
PLAIN = Voice("you", "you", "your", "yourself", second_person=True)

# Words that say the patient's sex when the clinician describes them ("a 50-year-old female").
_FEMALE = re.compile(r"\b(?:female|woman|lady|girl|mrs|ms|miss|she|her|herself)\b", _I)
_MALE = re.compile(r"\b(?:male|man|gentleman|guy|boy|mr|he|him|his|himself)\b", _I)
_DESCRIBES = re.compile(
    r"\b(?:year[- ]old|yo|presents|here for|history of|mr|mrs|ms|miss|patient)\b", _I
)
# A patient speaking of another person ("my husband, he ..."): that pronoun is not the patient.
_OTHER_PERSON = re.compile(
    r"\b(?:husband|wife|son|daughter|mother|mom|father|dad|brother|sister|partner|boyfriend|"
    r"girlfriend|friend|boss|kid|child|grandson|granddaughter|grandmother|grandfather|aunt|"
    r"uncle|nurse|doctor|surgeon|specialist|cardiologist|neighbor|coworker|he|she)\b",
    _I,
)


def infer_voice(transcript: Transcript, min_margin: int = 2) -> Voice:
    """She/he when the clinician's words about the patient clearly say so, else neutral.

    Counts sex words in clinician turns that describe the patient (dictation such as "Martha is
    a 50-year-old female", "his knee"), skipping turns about other people; needs a margin of
    ``min_margin`` mentions.
    """
    votes: Counter[str] = Counter()
    for seg in transcript.segments:
        if seg.speaker == "patient":
            continue
        text = seg.text
        weight = 3 if _DESCRIBES.search(text) else 1
        if _OTHER_PERSON.search(re.sub(r"\b(?:he|she)\b", "", text, flags=_I)):
            weight = 0  # a turn about a relative or colleague says nothing reliable
        votes["f"] += weight * len(_FEMALE.findall(text))
        votes["m"] += weight * len(_MALE.findall(text))
    if votes["f"] >= votes["m"] + min_margin:
        return FEMALE
    if votes["m"] >= votes["f"] + min_margin:
        return MALE
    return NEUTRAL


# Base-form verbs that follow "I" and need "-s" after "she"/"he" ("I feel" -> "she feels").
# Verbs whose past tense looks the same ("hurt", "put", "run"...) are left out: after "I"
# they are more often past ("I hurt it playing basketball").
_IRREGULAR = {"have": "has", "do": "does", "go": "goes", "be": "is", "am": "is"}
_BASE_VERBS = frozenset(
    """feel think have go take get need want know work use try walk eat drink sleep smoke
    notice see like love hope check wake play do say live remember forget mean guess
    wonder exercise keep start stop wear make cough wheeze sneeze lose gain develop
    experience call continue follow finish stay return schedule apply drink
    miss skip avoid watch find believe understand agree plan tend""".split()
)
_ADVERBS = frozenset("usually still also always never sometimes often just really only".split())


def third_singular(verb: str) -> str:
    """The "she ..." form of a base verb: feel -> feels, try -> tries, go -> goes."""
    low = verb.lower()
    if low in _IRREGULAR:
        return _IRREGULAR[low]
    if re.search(r"(?:s|sh|ch|x|z|o)$", low):
        return verb + "es"
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ies"
    return verb + "s"


def _agree(subject: str, rest: str) -> str:
    """``subject`` + ``rest`` with the first verb of ``rest`` in third person singular."""
    words = rest.split(" ")
    for i, word in enumerate(words):
        low = word.lower()
        if low in _ADVERBS:
            continue  # "I usually walk" -> "she usually walks"
        if low in _BASE_VERBS:
            words[i] = third_singular(word)
        break
    return subject + " " + " ".join(words)


_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    (r"\bcan't\b", "cannot"),
    (r"\bwon't\b", "will not"),
    (r"\b(\w+)n't\b", r"\1 not"),
    (r"\bgonna\b", "going to"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "have to"),
    (r"\b(it|that|there|what|he|she|this|who)'s (been|had|got|gotten)\b", r"\1 has \2"),
    (r"\b(it|that|there|what|he|she|this|who)'s\b", r"\1 is"),
    (r"\b(\w+)'re\b", r"\1 are"),
    (r"\b(\w+)'ve\b", r"\1 have"),
    (r"\b(\w+)'ll\b", r"\1 will"),
    (r"\bi'm\b", "I am"),
    (r"\b(i|we|you|they)'d\b", r"\1 would"),
)


def expand_contractions(text: str) -> str:
    """Contractions spelt out ("don't" -> "do not", "gonna" -> "going to"): notes avoid them."""
    for pattern, repl in _CONTRACTIONS:
        text = re.sub(pattern, repl, text, flags=_I)
    return text


def patient_person(text: str, voice: Voice) -> str:
    """The patient's first person as the voice's third person (contractions expanded)."""
    t = expand_contractions(text)
    s, o, p, r = voice.subject, voice.object, voice.possessive, voice.reflexive
    if voice.second_person:
        t = re.sub(r"\bi am\b", "you are", t, flags=_I)
        t = re.sub(r"\bi was\b", "you were", t, flags=_I)
    if voice.singular:
        t = re.sub(r"\bi am\b", f"{s} is", t, flags=_I)
        t = re.sub(r"\bi was\b", f"{s} was", t, flags=_I)
        t = re.sub(r"\bi have\b", f"{s} has", t, flags=_I)
        t = re.sub(r"\bi do not\b", f"{s} does not", t, flags=_I)
        t = re.sub(r"\bi do\b", f"{s} does", t, flags=_I)
        t = re.sub(r"\bi\s+(\S+(?:\s+\S+)?)", lambda m: _agree(s, m.group(1)), t, flags=_I)
    t = re.sub(r"\bi\b", s, t, flags=_I)
    t = re.sub(r"\bmyself\b", r, t, flags=_I)
    t = re.sub(r"\bmy\b", p, t, flags=_I)
    t = re.sub(r"\bme\b", o, t, flags=_I)
    return re.sub(r"\bmine\b", {"her": "hers"}.get(p, p), t, flags=_I)


# "you" before one of these is a subject ("you have", "you should"), elsewhere an object.
_SUBJECT_NEXT = re.compile(
    r"\s+(?:are|were|have|had|do|did|does|can|could|should|will|would|need|may|might|must|"
    r"also|still|just|already|ever|never|really|probably|\w+ed)\b",
    _I,
)
# Words after which "you" is not the subject of the next verb ("did you go", "let you know").
_NOT_SUBJECT_BEFORE = frozenset(
    """did do does can could will would should may might must shall let make help have has
    had see watch hear want need ask tell get makes lets helps""".split()
)
_YOU_VERB = {"are": "is", "were": "was", "have": "has", "do": "does", "need": "needs"}


def clinician_person(text: str, voice: Voice) -> str:
    """The clinician's "you"/"your" as the patient; "I"/"we" stay (contractions expanded)."""
    t = expand_contractions(text)
    s, o, p = voice.subject, voice.object, voice.possessive

    if voice.singular:
        t = re.sub(
            r"\byou\s+(are|were|have|do|need)\b",
            lambda m: f"{s} {_YOU_VERB[m.group(1).lower()]}",
            t,
            flags=_I,
        )
        # "if you feel achy" -> "if she feels achy": a base verb right after a subject
        # "you" (not after "did", "can", "let", "make" ...: there "you" is not the subject)
        t = re.sub(
            r"(?<!\w)(?P<before>\w+\s+)?you\s+(?=(?P<verb>\w+)\b)",
            lambda m: (
                (m.group("before") or "") + f"{s} \0"
                if m.group("verb").lower() in _BASE_VERBS
                and (m.group("before") or "").strip().lower() not in _NOT_SUBJECT_BEFORE
                else m.group()
            ),
            t,
            flags=_I,
        )
        t = re.sub(r"\0(\w+)", lambda m: third_singular(m.group(1)), t)
    t = re.sub(r"\byou\b", lambda m: s if _SUBJECT_NEXT.match(t, m.end()) else o, t, flags=_I)
    t = re.sub(r"\byourself\b", voice.reflexive, t, flags=_I)
    t = re.sub(r"\byours\b", p, t, flags=_I)
    t = re.sub(r"\byour\b", p, t, flags=_I)
    return re.sub(r"\bi\b", "I", t)
