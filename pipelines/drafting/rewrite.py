"""Conversational speech -> short clinical statements, by small safe rules.

The rules only delete words (fillers, pronoun subjects, "I'm going to"), change person
("my" -> "their", "you" -> "patient") or add a fixed framing word ("Reports", "Denies",
"Patient", "Clinician notes", "Likely"). They never add content: ``unsupported_words``
checks that, and the drafter drops any sentence that fails it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipelines.drafting.lexicon import content_words
from pipelines.drafting.numbers import write_numbers
from pipelines.drafting.person import TERSE, Voice, expand_contractions
from pipelines.drafting.phrases import PhraseMap

_I = re.IGNORECASE

# The only content words a rewrite may add (all else must come from the evidence): who
# the note is about, how a statement is framed, and the visit itself ("presents today for
# evaluation of" restates the reason for the visit).
FRAMING_WORDS = frozenset(
    {
        "reports",
        "denies",
        "patient",
        "patient's",
        "clinician",
        "notes",
        "likely",
        "presents",
        "today",
        "evaluation",
        "endorses",
    }
)


def supported_words(evidence_texts: Iterable[str], phrases: PhraseMap | None = None) -> set[str]:
    """Every content word a note may take from the evidence: its own words, the same words
    with numbers as digits and contractions expanded, also after the spoken forms are
    tidied (``clean``: "gon na" -> "going to", "five hundred five hundred" -> "500"), and
    the targets of phrase mappings whose source phrase is in the evidence."""
    source: set[str] = set()
    for text in evidence_texts:
        for form in (text, clean(text)):
            source |= content_words(form) | content_words(write_numbers(form, every=True))
            source |= content_words(expand_contractions(form))
        if phrases is not None:
            source |= phrases.supported_targets(text)
    return source


def unsupported_words(
    output: str,
    evidence_texts: Iterable[str],
    phrases: PhraseMap | None = None,
) -> set[str]:
    """Content words of ``output`` found neither in the evidence nor among the framing words.

    A third-person "-s"/"-es"/"-ies" form of an evidence word counts as found ("take" ->
    "Takes"), as do numbers written as digits and mapped phrases (``supported_words``).
    An empty result means the rewrite invented nothing.
    """
    source = supported_words(evidence_texts, phrases)
    missing = set()
    for word in content_words(output) - FRAMING_WORDS - source:
        stem = word[:-3] + "y" if word.endswith("ies") else word
        if not (
            word.endswith("s") and (word[:-1] in source or word[:-2] in source or stem in source)
        ):
            missing.add(word)
    return missing


_FILLERS = re.compile(
    r"(?:,\s*)?\b(?:u+m+|u+h+|uhm|erm|hmm+|mm+-hmm+|uh-huh|you know|i mean)\b(?:\s*,)?", _I
)
# Repeated words or word pairs: "i, i, i've", "doing doing", "i feel, i feel".
_STUTTER = re.compile(r"\b(\w+(?:'\w+)?(?: \w+(?:'\w+)?)?)(?:,?\s+\1\b)+", _I)
_LEADING = re.compile(
    r"^(?:(?:yes|yeah|yep|yup|okay|ok|alright|all right|so|and|but|oh|sure|anyway|actually|"
    r"um|uh)\b[,.]?\s*|(?:well|right|now|then|no|like)\s*,\s*)+",
    _I,
)
_TRAILING = re.compile(r"(?:[\s,;:]+|\b(?:and|but|because)\b|\.{2,})+$", _I)


def clean(text: str) -> str:
    """Tidy one spoken sentence: fillers, stutters, tokenised punctuation, interjections."""
    t = text.replace("\u2019", "'")
    t = re.sub(r"\s+([,.;:?!])", r"\1", t)  # ACI-Bench writes "pain , and"
    t = re.sub(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", t, flags=_I)
    t = re.sub(r"\b(gon|wan) na\b", r"\1na", t, flags=_I)
    t = re.sub(r",\s*like\s*,", ",", t, flags=_I)
    t = _FILLERS.sub(" ", t)
    t = re.sub(r"\s+", " ", t).strip()
    t = _STUTTER.sub(r"\1", t)
    t = re.sub(r"(?:\s*,)+", ",", t)
    t = re.sub(r"\s*\.\.\.\s*", " ", t)
    t = _LEADING.sub("", t).strip(" ,")
    return _TRAILING.sub("", t.rstrip(".?!;")).strip()


def finish(text: str) -> str | None:
    """Capitalise, end with one full stop; None when nothing is left."""
    t = re.sub(r"\s+", " ", text).strip(" ,;:")
    t = _TRAILING.sub("", t)
    if not re.search(r"[A-Za-z0-9]", t):
        return None
    return t[0].upper() + t[1:] + "."


def _apply(rules: tuple[tuple[str, str], ...], text: str) -> tuple[str, bool]:
    """Apply the first matching anchored rule; say whether one matched."""
    for pattern, repl in rules:
        new, n = re.subn("^" + pattern, repl, text, count=1, flags=_I)
        if n:
            return new, True
    return text, False


# Patient first person -> third person. Order matters: the first match wins.
_PATIENT_HEADS: tuple[tuple[str, str], ...] = (
    (r"i(?:'ve| have) (?:not|n't) (?:had|noticed|been having|felt)\s+(?:any\s+)?", "Denies "),
    (r"i (?:don't|do not|didn't|did not) (?:have|get|notice|feel)\s+(?:any\s+)?", "Denies "),
    (r"i(?:'ve| have) been (feeling|noticing)\s+", r"Reports \1 "),
    (r"i(?:'m| am) (?:still )?(feeling|noticing)\s+", r"Reports \1 "),
    (
        r"i(?:'ve| have) (?:been )?(?:having|experiencing|getting|had|got|gotten|noticed)\s+",
        "Reports ",
    ),
    (r"i(?:'m| am) (?:still )?(?:having|experiencing|getting)\s+", "Reports "),
    (r"i (?:have|get|got|had|noticed|developed|started having)\s+", "Reports "),
    (r"i(?:'m| am)? (?:take|taking)\s+", "Takes "),
    (r"i(?:'m| am)? (?:use|using)\s+", "Uses "),
    (r"i (feel|smoke|drink|eat|sleep|wake|walk|exercise|work|need|cough|wheeze)\b", r"\1s"),
    (r"i ((?:\w+ed|took|went|fell|felt|saw|hit|hurt|broke|ran|came|began|quit|bumped)\b)", r"\1"),
    (r"i(?:'m| am)\b", "Patient is"),
    (r"i was\b", "Patient was"),
    (r"i(?:'ve| have)\b", "Patient has"),
    (r"i (?:don't|do not)\b", "Patient does not"),
    (r"i(?:'d| would)\b", "Patient would"),
    (r"i(?:'ll| will)\b", "Patient will"),
    (r"i\b", "Patient"),
    (r"my\b", "Patient's"),
)
# First person anywhere else in the sentence.
_PATIENT_PRONOUNS: tuple[tuple[str, str], ...] = (
    (r"\bi'm\b", "they're"),
    (r"\bi am\b", "they are"),
    (r"\bi was\b", "they were"),
    (r"\bi've\b", "they've"),
    (r"\bi'd\b", "they'd"),
    (r"\bi'll\b", "they'll"),
    (r"\bi\b", "they"),
    (r"\bmy\b", "their"),
    (r"\bmyself\b", "themselves"),
    (r"\bme\b", "them"),
)


def _substitute(rules: tuple[tuple[str, str], ...], text: str) -> str:
    for pattern, repl in rules:
        text = re.sub(pattern, repl, text, flags=_I)
    return text


def rewrite_patient(text: str) -> str | None:
    """A patient's first-person sentence as a third-person statement.

    "I've had chest pain for two days." -> "Reports chest pain for two days."
    """
    t, _ = _apply(_PATIENT_HEADS, clean(text))
    return finish(_substitute(_PATIENT_PRONOUNS, t))


# Clinician: speech-act openers that carry no content, per section.
_PLAN_HEAD = re.compile(
    r"^(?:(?:i(?:'m| am)|we(?:'re| are)) (?:going to|gonna)|i(?:'d| would) like (?:you )?to|"
    r"i(?:'d| would) recommend (?:that )?(?:you )?|i recommend (?:that )?(?:you )?|"
    r"i want (?:you )?to|i wanna|we want (?:you )?to|let's|let us|we(?:'ll| will)|i(?:'ll| will)|"
    r"(?:we|you) should|(?:we|you)(?:'ll)? need to|you(?:'re| are) going to|go ahead and|"
    r"we can|i can|just)\s+",
    _I,
)
_IMPRESSION_HEAD = re.compile(
    r"^(?:i think|i believe|i suspect|it looks like|it sounds like|it seems like|"
    r"this looks like|this sounds like|this seems like|this is|it's|it is|that's|that is)\s+"
    r"(?:that\s+)?(?:you have|you've got|you(?:'re| are) dealing with|this is|it's|it is)?\s*"
    r"(?:most likely|probably|likely|possibly)?\s*",
    _I,
)
_HEDGE = re.compile(r"\b(?:think|believe|suspect|like|likely|probably|possibly)\b", _I)
# "..., this looks like X" inside a sentence -> "..., likely X".
_MID_IMPRESSION = re.compile(r",\s+(?:this|it|that) (?:looks|sounds|seems) like\s+", _I)
# "X that isn't controlled" / "X isn't well controlled" -> "X, not (well) controlled".
_NOT_CONTROLLED = re.compile(
    r",?\s+(?:that\s+|which\s+)?(?:isn't|is not|aren't|are not)\s+"
    r"((?:well |adequately |optimally |fully )?controlled)",
    _I,
)
_CLINICIAN_HEADS: tuple[tuple[str, str], ...] = (
    (r"(start|restart|continue|keep) you on\s+", r"\1 "),
    # exam narration before a finding: "Let me examine you, your throat is red"
    (r"(?:let me|let's|i'll|i will) (?:examine|check|look at|look in|listen to)[^,.]*,\s*", ""),
)
# Clinician observations anywhere in the sentence ("i don't appreciate any murmur").
_CLINICIAN_NOTES: tuple[tuple[str, str], ...] = (
    (
        r"\bi (?:don't|do not|can't|cannot) (?:hear|see|feel|appreciate|notice)\s+(?:any\s+)?",
        "clinician notes no ",
    ),
    (r"\bi (?:can |do )?(?:hear|see|feel|appreciate|notice|note)\b", "clinician notes"),
)
_CLINICIAN_PRONOUNS: tuple[tuple[str, str], ...] = (
    (r"\byou(?:'re| are)\b", "patient is"),
    (r"\byou(?:'ve| have)\b", "patient has"),
    (r"\byour\s+", ""),
    (r"\byourself\b", "patient"),
    (r"\byou\b", "patient"),
    (r"\bi(?:'m| am)\b", "clinician is"),
    (r"\bi've\b", "clinician has"),
    (r"\bi'll\b", "clinician will"),
    (r"\bi (think|know|want|believe|suspect|recommend)\b", r"clinician \1s"),
    (r"\bi'd\b", "clinician would"),
    (r"\bi\b", "clinician"),
)


def rewrite_clinician(text: str, section: str) -> str | None:
    """A clinician's sentence as a note statement for ``section``.

    "I'm going to start you on lisinopril" (plan) -> "Start lisinopril.";
    "your lungs are clear" (objective) -> "Lungs are clear.";
    "I think this is bronchitis" (assessment) -> "Likely bronchitis.";
    "This is hypertension that isn't controlled" (assessment) -> "Hypertension, not controlled."
    """
    t = clean(text)
    if section == "plan":
        while (m := _PLAN_HEAD.match(t)) and m.end() < len(t):
            t = t[m.end() :]
    elif section == "assessment":
        t = _NOT_CONTROLLED.sub(r", not \1", _MID_IMPRESSION.sub(", likely ", t))
        if (m := _IMPRESSION_HEAD.match(t)) and m.end() < len(t):
            rest = t[m.end() :]
            hedged = re.match(r"(?:consistent|likely|probably|possibly)\b", rest, _I)
            t = "Likely " + rest if _HEDGE.search(m.group()) and not hedged else rest
    t, _ = _apply(_CLINICIAN_HEADS, t)
    return finish(_substitute(_CLINICIAN_PRONOUNS, _substitute(_CLINICIAN_NOTES, t)))


def topic(text: str, spans: list[tuple[int, int]]) -> str:
    """The problem words at ``spans`` of ``text``: one slice if they are close, else a list.

    "have you had a fever or chills" + spans of fever, chills -> "fever or chills".
    """
    spans = sorted(spans)
    joined = text[spans[0][0] : spans[-1][1]]
    if len(joined.split()) <= 6:
        return joined
    return ", ".join(text[a:b] for a, b in spans)


def report(topic: str, voice: Voice = TERSE) -> str:
    """'Reports X.' (or 'She reports X.') for a symptom the patient confirmed; the topic is
    taken from the evidence."""
    head = (
        "Reports"
        if voice.terse
        else f"{voice.subject[0].upper()}{voice.subject[1:]} {voice.reports}"
    )
    return f"{head} {clean(topic)}."


def denial(topic: str, voice: Voice = TERSE) -> str:
    """'Denies X.' (or 'She denies X.') for a pertinent negative (topic from the evidence)."""
    if voice.second_person:
        return f"You have had no {clean(topic)}."
    head = "Denies" if voice.terse else f"{voice.subject[0].upper()}{voice.subject[1:]} denies"
    return f"{head} {clean(topic)}."
