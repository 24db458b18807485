"""Deterministic SOAP drafting: transcript + entities -> a Draft whose sentences carry evidence.

Consecutive segments of one speaker form a turn (``turns``), so a sentence Whisper cut in
two is drafted whole, with one Evidence per segment. Each sentence is routed by speaker,
entity labels and keyword cues (``cues``) to one SOAP section (or dropped), then rewritten
by ``rewrite``. A clinician's symptom question answered by a bare "yes"/"no" becomes
"Reports X." / "Denies X." with evidence on both turns.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass

from pipelines.drafting import cues
from pipelines.drafting.rewrite import (
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
    is_pleasantry,
    is_question,
)
from pipelines.drafting.templates import load_template
from pipelines.drafting.units import Unit, transcript_units
from pipelines.types import Draft, Entity, NoteSentence, Transcript

DRAFTER_VERSION = "draft.soap-rules.v2"
SOAP_SECTIONS = ("subjective", "objective", "assessment", "plan")
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "scribe-workbench:drafting")


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


def _clauses(unit: Unit, options: DraftOptions) -> list[Unit]:
    """A clinician sentence that mixes sections ("I think it's X, so let's start Y"), split
    at ", and / so / but"; any other sentence stays whole. An impression keeps the findings
    that support it ("With no fever and clear lungs, this looks like ...") unless a clause
    is plan."""
    if unit.speaker == "patient":
        return [unit]
    cuts = [(unit.start, unit.end)]
    for m in cues.CLAUSE.finditer(unit.text):
        head = cuts.pop()[0]  # clause 1 keeps its comma, clause 2 starts at "and/so/but"
        cuts += [(head, unit.start + m.start() + 1), (unit.start + m.end(1), unit.end)]
    pieces = [Unit(unit.turn, a, b, unit.ents, unit.last_in_turn) for a, b in cuts]
    sections = {_classify(p, options) for p in pieces} - {None}
    if _classify(unit, options) == "assessment" and "plan" not in sections:
        return [unit]
    return pieces if len(sections) > 1 else [unit]


def _problems(unit: Unit) -> list[Entity]:
    return [e for e in unit.ents if e.label == "PROBLEM" and not (e.hypothetical or e.family)]


def _question_answer(q: Unit, a: Unit | None, options: DraftOptions) -> tuple | None:
    """'Any fever?' + 'No.' -> ('subjective', 'Denies fever.', evidence on both)."""
    if a is None or not q.last_in_turn or a.speaker != "patient":
        return None
    if q.speaker == "patient" or a.turn is q.turn:
        return None
    spans = [(e.start, e.end) for e in _problems(q)]
    if not spans and options.keyword_cues and not q.ents:
        spans = [(q.start + m.start(), q.start + m.end()) for m in cues.SYMPTOM.finditer(q.text)]
    polarity = answer_polarity(a.text, options.max_answer_words)
    if not spans or polarity is None:
        return None
    if not asks_presence(q.text, spans[0][0] - q.start):
        return None
    about = topic(q.turn.text, spans)
    return "subjective", report(about) if polarity else denial(about), q.evidence() + a.evidence()


def _impression(low: str, problems: list[Entity], kw: bool) -> bool:
    """An impression cue, a hedged problem, or "This is / It's <problem>" near the start."""
    if cues.IMPRESSION.search(low) or cues.DIAGNOSIS.search(low):
        return True
    if any(e.uncertain for e in problems):
        return True
    head = " ".join(low.split()[: cues.DEFINITE_WINDOW])
    named = any(e.text.lower() in head for e in problems) or (kw and cues.SYMPTOM.search(head))
    return bool(cues.DEFINITE.match(low) and named)


def _clinician_section(unit: Unit, low: str, clinical: bool, kw: bool) -> str | None:
    labels = {e.label for e in unit.ents}
    directive = bool(cues.DIRECTIVE.search(low))
    vital = "VITAL" in labels or (kw and bool(cues.VITAL.search(low)))
    if cues.NARRATION.match(low):
        return None  # "Let me look in his ears."
    measured = bool(cues.MEASURE.search(low))
    other = directive or cues.PLAN.search(low) or cues.IMPRESSION.search(low)
    if vital and measured and not other:
        return "objective"  # "Your blood pressure today is 148 over 92."
    if clinical and cues.HISTORY.search(low) and not directive:
        return "subjective"  # the clinician summarising history ("history of", "presents")
    follow_up = bool(cues.FOLLOW_UP.search(low))
    ordered = directive and bool(cues.TEST_ORDER.search(low))  # "We'll get a chest X-ray."
    if cues.PLAN.search(low) and (clinical or follow_up or ordered):
        if follow_up or not cues.PLAN_EXCLUDE.search(low):
            return "plan"
    problems = [e for e in _problems(unit) if not e.negated]
    has_problem = bool(problems) or (
        kw and bool(cues.SYMPTOM.search(low) or cues.DIAGNOSIS.search(low))
    )
    if has_problem and _impression(low, problems, kw):
        return "assessment"
    examined = bool(labels & {"ANATOMY", "TEST", "VITAL"}) or (
        kw and bool(cues.EXAM.search(low) or vital)
    )
    return "objective" if examined and (measured or cues.FINDING.search(low)) else None


def _classify(unit: Unit, options: DraftOptions) -> str | None:
    """The SOAP section of a statement (not a question), or None to leave it out."""
    low, kw = unit.low, options.keyword_cues
    if not low or is_pleasantry(unit.text):
        return None
    clinical = any(not e.hypothetical for e in unit.ents) or (
        kw and any(p.search(low) for p in (cues.SYMPTOM, cues.MEDICATION, cues.VITAL))
    )
    if unit.speaker != "patient":
        section = _clinician_section(unit, low, clinical, kw)
        if section or unit.speaker == "clinician":
            return section
    return "subjective" if clinical else None


def _statement(unit: Unit, options: DraftOptions) -> tuple | None:
    """(section, text, evidence) for one statement, or None when it is not note material."""
    section = _classify(unit, options)
    if section is None:
        return None
    if section == "subjective" and unit.speaker != "clinician":
        problems = _problems(unit)
        negated = [(e.start, e.end) for e in problems if e.negated]
        if negated and len(negated) == len(problems):
            text: str | None = denial(topic(unit.turn.text, negated))
        else:
            text = rewrite_patient(unit.text)
    else:
        text = rewrite_clinician(unit.text, section)
    evidence = unit.evidence()
    slices = [unit.turn.evidence_text(e) for e in evidence]
    # Safety net: a rewrite that would add a content word is dropped, never shown.
    if not text or not evidence or unsupported_words(text, slices):
        return None
    return section, text, evidence


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
    units = transcript_units(transcript, entities, options.max_words_per_sentence)
    found: list[tuple] = []
    answered: set[int] = set()
    for k, unit in enumerate(units):
        if k in answered:
            continue
        if is_question(unit.text, unit.speaker):
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
