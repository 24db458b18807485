"""Deterministic SOAP drafting: transcript + entities -> a Draft whose sentences carry evidence.

Each transcript sentence is routed by speaker, entity labels and keyword cues to one SOAP
section (or dropped), then rewritten by ``rewrite``. A clinician's symptom question answered
by a bare "yes"/"no" becomes "Reports X." / "Denies X." with evidence on both turns.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import asdict, dataclass, field

from pipelines.drafting.rewrite import (
    clean,
    denial,
    report,
    rewrite_clinician,
    rewrite_patient,
    topic,
    unsupported_words,
)
from pipelines.drafting.sentences import (
    answer_polarity,
    asks_presence,
    evidence_for,
    is_pleasantry,
    is_question,
    split_sentences,
)
from pipelines.drafting.templates import load_template
from pipelines.types import Draft, Entity, NoteSentence, Segment, Transcript

DRAFTER_VERSION = "draft.soap-rules.v1"
SOAP_SECTIONS = ("subjective", "objective", "assessment", "plan")
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "scribe-workbench:drafting")
_I = re.IGNORECASE


@dataclass(frozen=True)
class DraftOptions:
    """How the rule-based SOAP drafter works; recorded in ``Draft.options``.

    template: note template id or JSON path; it must have the four SOAP section keys.
    max_sentences_per_section: keep the first N sentences of each section (0 = no limit).
    max_words_per_sentence: unpunctuated speech longer than this is split before rewriting.
    max_answer_words: a patient reply this short can be a yes/no answer to a question.
    keyword_cues: also use built-in keyword lists (symptoms, vitals, exam) besides entities,
        so that the drafter still works when no entities are given.
    """

    template: str = "soap"
    max_sentences_per_section: int = 25
    max_words_per_sentence: int = 40
    max_answer_words: int = 6
    keyword_cues: bool = True


def _cue(words: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + words + r")\b", _I)


# Keyword cues: used with entity labels; all matching is on cleaned, lower-cased text.
_SYMPTOM = _cue(
    r"pains?|aches?|aching|hurts?|hurting|sore|fevers?|chills|cough\w*|nause\w*|vomit\w*|"
    r"diarrh\w*|constipat\w*|headaches?|dizz\w*|lightheaded|short(?:ness)? of breath|wheez\w*|"
    r"fatigue\w*|tired|numbness|tingling|swelling|swollen|rash|itch\w*|bleeding|"
    r"weight (?:loss|gain)|sweats|palpitations|cramps?|bloat\w*|heartburn|reflux|anxi\w*|"
    r"depress\w*|insomnia|injur\w*|fractur\w*|infection|diabetes|hypertension|asthma|copd|"
    r"allerg\w*|migraines?|arthritis|cancer|stroke|heart failure|blood pressure|cholesterol|"
    r"s[tp]rains?"
)
_MEDICATION = _cue(
    r"\d+(?:\.\d+)?\s*(?:mg|milligrams?|mcg|micrograms?|units?)|medications?|medicines?|"
    r"pills?|tablets?|inhaler|insulin|ibuprofen|tylenol|advil|aspirin|metformin|lisinopril"
)
_VITAL = _cue(
    r"blood pressure|heart rate|pulse|temperature|oxygen|o2|saturation|sats|respiratory rate|"
    r"weight|bmi|\d+ over \d+"
)
_EXAM = _cue(
    r"lungs?|heart|abdomen|belly|throat|ears?|eyes?|skin|neck|murmurs?|rub|gallop|wheez\w*|"
    r"crackles|rales|clear|tender\w*|swelling|swollen|edema|rash|exam\w*|auscultation|"
    r"palpat\w*|range of motion|reflexes|pulses|x-ray|ct|mri|ultrasound|ekg|results?|labs?|"
    r"a1c|bruising|ecchymosis|erythema|deformity|crepitus|intact"
)
_FINDING = _cue(
    r"is|are|was|were|looks?|sounds?|feels?|shows?|showed|appears?|hear|see|appreciate|"
    r"notice|note|came back|positive|negative|normal|abnormal|elevated|intact"
)
_IMPRESSION = _cue(
    r"i think|i believe|i suspect|looks like|sounds like|seems like|likely|probably|"
    r"consistent with|diagnos\w*|impression|suggestive of|due to|"
    r"(?:first|second|third|next|last|other) problem"  # "for your first problem, back pain"
)
# A diagnosis statement even without a known problem word ("I think this is angina").
_DIAGNOSIS = _cue(
    r"i think (?:this|it|that) is|i think you have|consistent with|(?:my )?diagnosis|my impression"
)
_PLAN = _cue(
    r"start|stop|discontinue|increase|decrease|continue|order|refer|referral|prescribe|"
    r"prescription|schedule|follow[- ]?up|come back|see you (?:back|again)|switch|taper|"
    r"physical therapy|put you on|give you|recommend|"
    r"(?:check|recheck|get|do|run|draw|repeat)\b.{0,30}\b(?:x-ray|ct|mri|ultrasound|blood ?work|"
    r"labs?|ekg|echo\w*|tests?|panel|a1c|culture|biopsy|scan|levels?)"
)
_FOLLOW_UP = _cue(r"follow[- ]?up|come back|see you (?:back|again|in (?:a|an|\w+ weeks?))|schedule")
_DIRECTIVE = _cue(r"going to|gonna|will|'ll|want|wanna|let's|need to|should|recommend")
_CLAUSE = re.compile(r",(\s+)(?:and|so|but)\s", _I)
_PLAN_EXCLUDE = _cue(r"let me|listen to|take a look|examine|physical exam")  # exam narration
_HISTORY = _cue(
    r"history of|medical history|you've been|you have been|you've had|you have had|"
    r"you mentioned|you said|you told|presents (?:today|for|with)|complain\w*|you're taking|"
    r"you take|year[- ]old"
)


@dataclass(frozen=True)
class _Unit:
    """One transcript sentence (or clause): segment, span and the entities inside it."""

    seg: Segment
    start: int
    end: int
    ents: tuple[Entity, ...]  # of the whole segment; narrowed in __post_init__
    last_in_segment: bool
    text: str = field(init=False)
    low: str = field(init=False)  # cleaned and lower-cased, for the keyword cues

    def __post_init__(self) -> None:
        inside = tuple(e for e in self.ents if e.start < self.end and e.end > self.start)
        object.__setattr__(self, "ents", inside)  # frozen: set once, here
        object.__setattr__(self, "text", self.seg.text[self.start : self.end])
        object.__setattr__(self, "low", clean(self.text).lower())


def _units(transcript: Transcript, entities: tuple[Entity, ...], max_words: int) -> list[_Unit]:
    by_segment: dict[int, list[Entity]] = {}
    for ent in entities:
        by_segment.setdefault(ent.segment_idx, []).append(ent)
    units: list[_Unit] = []
    for seg in transcript.segments:
        spans = split_sentences(seg.text, max_words)
        ents = tuple(by_segment.get(seg.idx, ()))
        units += [_Unit(seg, a, b, ents, n == len(spans) - 1) for n, (a, b) in enumerate(spans)]
    return units


def _clauses(unit: _Unit, options: DraftOptions) -> list[_Unit]:
    """A clinician sentence that mixes sections ("I think it's X, so let's start Y"), split
    at ", and / so / but"; any other sentence stays whole."""
    if unit.seg.speaker == "patient":
        return [unit]
    cuts = [(unit.start, unit.end)]
    for m in _CLAUSE.finditer(unit.text):
        head = cuts.pop()[0]  # clause 1 keeps its comma, clause 2 starts at "and/so/but"
        cuts += [(head, unit.start + m.start() + 1), (unit.start + m.end(1), unit.end)]
    pieces = [_Unit(unit.seg, a, b, unit.ents, unit.last_in_segment) for a, b in cuts]
    sections = {_classify(p, options) for p in pieces} - {None}
    return pieces if len(sections) > 1 else [unit]


def _problems(unit: _Unit) -> list[Entity]:
    return [e for e in unit.ents if e.label == "PROBLEM" and not (e.hypothetical or e.family)]


def _question_answer(q: _Unit, a: _Unit | None, options: DraftOptions) -> tuple | None:
    """'Any fever?' + 'No.' -> ('subjective', 'Denies fever.', evidence on both)."""
    if a is None or not q.last_in_segment or a.seg.speaker != "patient":
        return None
    if q.seg.speaker == "patient" or a.seg.idx == q.seg.idx:
        return None
    spans = [(e.start, e.end) for e in _problems(q)]
    if not spans and options.keyword_cues and not q.ents:
        spans = [(q.start + m.start(), q.start + m.end()) for m in _SYMPTOM.finditer(q.text)]
    polarity = answer_polarity(a.text, options.max_answer_words)
    if not spans or polarity is None:
        return None
    if not asks_presence(q.text, spans[0][0] - q.start):
        return None
    text = report(topic(q.seg.text, spans)) if polarity else denial(topic(q.seg.text, spans))
    evidence = (evidence_for(q.seg, q.start, q.end), evidence_for(a.seg, a.start, a.end))
    return "subjective", text, evidence


def _clinician_section(unit: _Unit, low: str, clinical: bool, kw: bool) -> str | None:
    labels = {e.label for e in unit.ents}
    if clinical and _HISTORY.search(low) and not _DIRECTIVE.search(low):
        return "subjective"  # the clinician summarising history ("history of", "presents")
    follow_up = bool(_FOLLOW_UP.search(low))
    if _PLAN.search(low) and (clinical or follow_up):
        if follow_up or not _PLAN_EXCLUDE.search(low):
            return "plan"
    problems = [e for e in _problems(unit) if not e.negated]
    has_problem = bool(problems) or (kw and bool(_SYMPTOM.search(low) or _DIAGNOSIS.search(low)))
    impression = bool(_IMPRESSION.search(low)) or any(e.uncertain for e in problems)
    if impression and has_problem:
        return "assessment"
    examined = bool(labels & {"ANATOMY", "TEST", "VITAL"}) or (
        kw and bool(_EXAM.search(low) or _VITAL.search(low))
    )
    return "objective" if examined and _FINDING.search(low) else None


def _classify(unit: _Unit, options: DraftOptions) -> str | None:
    """The SOAP section of a statement (not a question), or None to leave it out."""
    low, kw = unit.low, options.keyword_cues
    if not low or is_pleasantry(unit.text):
        return None
    clinical = any(not e.hypothetical for e in unit.ents) or (
        kw and any(p.search(low) for p in (_SYMPTOM, _MEDICATION, _VITAL))
    )
    if unit.seg.speaker != "patient":
        section = _clinician_section(unit, low, clinical, kw)
        if section or unit.seg.speaker == "clinician":
            return section
    return "subjective" if clinical else None


def _statement(unit: _Unit, options: DraftOptions) -> tuple | None:
    """(section, text, evidence) for one statement, or None when it is not note material."""
    section = _classify(unit, options)
    if section is None:
        return None
    if section == "subjective" and unit.seg.speaker != "clinician":
        problems = _problems(unit)
        negated = [(e.start, e.end) for e in problems if e.negated]
        if negated and len(negated) == len(problems):
            text: str | None = denial(topic(unit.seg.text, negated))
        else:
            text = rewrite_patient(unit.text)
    else:
        text = rewrite_clinician(unit.text, section)
    # Safety net: a rewrite that would add a content word is dropped, never shown.
    if not text or unsupported_words(text, [unit.text]):
        return None
    return section, text, (evidence_for(unit.seg, unit.start, unit.end),)


def transcript_fingerprint(transcript: Transcript) -> str:
    """The transcript's input hash, or a hash of its segments when it has none."""
    if transcript.input_sha256:
        return transcript.input_sha256
    rows = [(s.idx, s.start, s.end, s.speaker, s.text) for s in transcript.segments]
    return hashlib.sha256(json.dumps(rows).encode("utf-8")).hexdigest()


def draft_note(
    transcript: Transcript,
    entities: tuple[Entity, ...] = (),
    options: DraftOptions = DraftOptions(),
) -> Draft:
    """Draft a SOAP note in which every sentence links to its transcript evidence.

    Deterministic: the same transcript, entities and options give an identical Draft,
    sentence ids included. An empty transcript gives a Draft without sentences.
    """
    template = load_template(options.template)
    missing = [k for k in SOAP_SECTIONS if k not in template.keys]
    if missing:
        raise ValueError(f"template {template.id!r} lacks SOAP sections {missing}")
    units = _units(transcript, entities, options.max_words_per_sentence)
    found: list[tuple] = []
    answered: set[int] = set()
    for k, unit in enumerate(units):
        if k in answered:
            continue
        if is_question(unit.text):
            qa = _question_answer(unit, units[k + 1] if k + 1 < len(units) else None, options)
            if qa:
                found.append(qa)
                answered.add(k + 1)
            continue
        found += [i for c in _clauses(unit, options) if (i := _statement(c, options))]
    fingerprint = transcript_fingerprint(transcript)
    sentences: list[NoteSentence] = []
    for section in template.keys:
        seen: set[str] = set()
        for sec, text, evidence in found:
            limit = options.max_sentences_per_section
            if sec != section or text.lower() in seen or (limit and len(seen) >= limit):
                continue
            key = f"{fingerprint}:{template.id}:{section}:{len(seen)}"
            sid = str(uuid.uuid5(_ID_NAMESPACE, key))
            sentences.append(NoteSentence(sid, section, text, evidence))
            seen.add(text.lower())
    return Draft(
        template=template.id,
        sections=template.keys,
        sentences=tuple(sentences),
        model_version=DRAFTER_VERSION,
        input_sha256=fingerprint,
        options=asdict(options),
    )
