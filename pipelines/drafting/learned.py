"""The default drafter: trained sentence models + narrative restatement + structure.

For every transcript sentence (``units``) the drafter model (``router.DrafterModel``, trained
from ACI-Bench, MTS-Dialog and PriMock57 by ``training``) gives the probability that a note
keeps it and of each content kind. The most note-worthy sentences, up to a length budget
proportional to the visit, are restated in the note's voice (``restate``) and placed in the
first template section that receives their kind; a clinician's symptom question answered by
a bare yes/no becomes "She reports X." / "She denies X." The structured parts
(``structure``: chief complaint and opener, review of systems, medication lines, body-system
labels, problem-oriented assessment and plan) come from the entities.

Every sentence links to the transcript spans it came from, and a sentence whose content
words the evidence does not support (``support.unsupported_words``) is dropped. The drafter
is deterministic and runs on the CPU with no service.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, replace

from pipelines.drafting import cues
from pipelines.drafting.features import unit_features
from pipelines.drafting.kinds import NONE
from pipelines.drafting.person import FEMALE, MALE, NEUTRAL, PLAIN, Voice, infer_voice
from pipelines.drafting.phrases import TERMS_PATH, PhraseMap, load_phrases
from pipelines.drafting.restate import (
    not_note_material,
    question_start,
    questionish,
    restate,
    tidy,
)
from pipelines.drafting.rewrite import (
    FRAMING_WORDS,
    clean,
    content_words,
    denial,
    report,
    topic,
    unsupported_words,
)
from pipelines.drafting.router import DrafterModel, load_model
from pipelines.drafting.sentences import (
    answer_polarity,
    asks_presence,
    is_pleasantry,
    is_question,
    reply_polarity,
)
from pipelines.drafting.soap import transcript_fingerprint
from pipelines.drafting.structure import (
    BodySystems,
    chief_complaint,
    load_body_systems,
    medication_lines,
    problem_oriented,
    result_lines,
    review_of_systems,
    split_label,
    visit_opener,
    vital_lines,
    vitals_verdict,
    with_system_label,
)
from pipelines.drafting.templates import NoteTemplate, load_template
from pipelines.drafting.units import Candidate, Unit, cut_mid_phrase, transcript_units
from pipelines.types import Draft, Entity, NoteSentence, Transcript

DRAFTER_VERSION = "draft.learned.v1"
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "scribe-workbench:drafting:learned")
_VOICES = {"neutral": NEUTRAL, "female": FEMALE, "male": MALE}


@dataclass(frozen=True)
class LearnedOptions:
    """How the learned drafter works; recorded in ``Draft.options``.

    template: note template id or JSON path.
    threshold: a sentence is a candidate when the model's P(keep) reaches this.
    voice: "auto" (she/he when the visit says so, else "the patient"), "neutral", "female"
        or "male".
    max_words_per_sentence: unpunctuated speech longer than this is split first.
    min_content_words: a restated sentence with fewer content words is a fragment, left out.
    kind_thresholds: (kind, threshold) pairs that replace ``threshold`` for sentences of
        that kind (notes keep nearly every plan sentence but only some of the history).
    length_ratio: when > 0, keep the most note-worthy candidates until the note has this
        many words per transcript word (ACI-Bench notes are about a third as long as the
        visit's speech); 0 keeps every candidate.
    min_words: the budget is never below this (a short visit keeps what it has).
    kind_weights: (kind, factor) pairs that scale a kind's note-worthiness in that choice.
    opener: start the history with "She presents today for evaluation of <complaint>.".
    vital_lines: state measured vital signs as "Blood pressure: 120/80." lines.
    concept_bonus: in the length budget, how much each medical concept a sentence adds to
        the note counts beside its note-worthiness.
    confirmed_recaps: a clinician's "so you've had this for two weeks?" that the patient
        confirms is drafted as a statement (evidence on both turns).
    medication_list: list the medications the patient takes (with dose and frequency when
        said) in the section that receives medications.
    result_lines: state each test the clinician gives a value for ("Hemoglobin A1c: 8.").
    every_problem: in a problem-oriented section, list every problem the clinician names
        in the assessment and plan, even one without a drafted sentence.
    answered_floor: the least note-worthiness of a question answered yes or no ("Any
        diabetes?" "Nope." -> "She denies diabetes."); the model scores the question itself,
        which alone is rarely kept.
    """

    template: str = "aci_visit"
    threshold: float = 0.05
    voice: str = "auto"
    max_words_per_sentence: int = 20
    min_content_words: int = 2
    kind_thresholds: tuple[tuple[str, float], ...] = ()
    length_ratio: float = 0.3
    min_words: int = 150
    kind_weights: tuple[tuple[str, float], ...] = (
        ("plan", 1.3),
        ("assessment", 1.3),
        ("results", 1.3),
    )
    opener: bool = True
    vital_lines: bool = True
    concept_bonus: float = 0.25
    confirmed_recaps: bool = True
    medication_list: bool = True
    result_lines: bool = True
    every_problem: bool = True
    answered_floor: float = 0.2


def concept_key(entity: Entity) -> str:
    """A medical concept's identity: its code, else its label and lower-cased words."""
    return entity.code or f"{entity.label}:{entity.text.lower()}"


def _voice(transcript: Transcript, options: LearnedOptions, template: NoteTemplate) -> Voice:
    if template.voice == "plain":
        return PLAIN  # written to the patient: "you", "your"
    if options.voice == "auto":
        return infer_voice(transcript)
    if options.voice not in _VOICES:
        raise ValueError(f"voice {options.voice!r} is not auto, neutral, female or male")
    return _VOICES[options.voice]


def _problem_spans(unit: Unit) -> list[tuple[int, int]]:
    return [
        (e.start, e.end)
        for e in unit.ents
        if e.label == "PROBLEM" and not (e.hypothetical or e.family)
    ]


def _answered(
    q: Unit, a: Unit | None, probs: dict[str, float], voice: Voice, receives: set[str]
) -> Candidate | None:
    """'Any fever?' + 'No.' -> 'She denies fever.' with evidence on both turns."""
    if a is None or q.speaker == "patient" or a.speaker != "patient" or not q.last_in_turn:
        return None
    polarity = reply_polarity(a.text)  # "uh, none of that" is a no too
    spans = _problem_spans(q)
    if polarity is None or not spans or not asks_presence(q.text, spans[0][0] - q.start):
        return None
    kinds = {k: p for k, p in probs.items() if k in receives and k in ("ros", "hpi")}
    if not kinds:
        return None
    kind = max(kinds, key=kinds.__getitem__)
    about = topic(q.turn.text, spans)
    text = report(about, voice) if polarity else denial(about, voice)
    return Candidate(kind, text, q.evidence() + a.evidence(), q.start, 1.0 - probs[NONE])


# A clinician's recap in statement word order with a question mark: "so you've had this pain
# for two weeks?" — a statement once the patient says yes.
_RECAP = re.compile(r"^(?:(?:so|and|okay|alright|now)[,\s]+)*(?:you|your|it|this|that|the)\b", re.I)


# An impression anywhere in a clinician sentence, before a named problem.
_IMPRESSION_AT = re.compile(
    r"\b(?:(?:this|it|that) (?:looks|sounds|seems) like|consistent with|i think (?:this|it|"
    r"that|you)|most likely|my (?:impression|diagnosis))\b",
    re.IGNORECASE,
)


_NEGATION = re.compile(r"\b(?:no|not|n't|without|never)\b", re.IGNORECASE)


def _impression(unit: Unit) -> bool:
    """ "I think you have X", "..., this looks like acute bronchitis": an assessment."""
    if cues.DIAGNOSIS.search(unit.low):
        return True
    m = _IMPRESSION_AT.search(unit.text)
    if not m:
        return False
    at = unit.start + m.start()
    # the sentence-level negation of "with no fever, ..., this looks like X" is not about X
    return any(
        e.label == "PROBLEM"
        and e.start >= at
        and not _NEGATION.search(unit.turn.text[at : e.start])
        for e in unit.ents
    )


def _confirmed_recap(unit: Unit, reply: Unit | None) -> bool:
    """A clinician's declarative question that the patient's next words confirm."""
    if unit.speaker == "patient" or reply is None or reply.speaker != "patient":
        return False
    if not unit.text.rstrip().endswith("?") or not _RECAP.match(clean(unit.text)):
        return False
    return answer_polarity(reply.text) is True


_CONCEPT_LABELS = frozenset({"PROBLEM", "MEDICATION", "TEST", "PROCEDURE"})


def _fragment(text: str, unit: Unit, min_content_words: int) -> bool:
    """Too little to be a note sentence: fewer than ``min_content_words`` content words,
    unless a whole clause names a medical concept ("He also has autism.", not "Folate.")."""
    words = content_words(text)
    if len(words) >= min_content_words:
        return False
    named = any(e.label in _CONCEPT_LABELS and not e.hypothetical for e in unit.ents)
    return not (words and named and len(text.split()) >= 3)


def candidates(
    units: list[Unit],
    probabilities: list[dict[str, float]],
    template: NoteTemplate,
    voice: Voice,
    phrases: PhraseMap,
    options: LearnedOptions,
) -> list[Candidate]:
    """Restated, supported sentences for every note-worthy unit, in transcript order."""
    receives = {k for s in template.sections for k in s.receives}
    thresholds = dict(options.kind_thresholds)
    out: list[Candidate] = []
    for k, (unit, probs) in enumerate(zip(units, probabilities, strict=True)):
        order = k + unit.start / 1e6
        nxt = units[k + 1] if k + 1 < len(units) else None
        confirmed = options.confirmed_recaps and _confirmed_recap(unit, nxt)
        if is_question(unit.text, unit.speaker) and not confirmed:
            found = _answered(unit, nxt, probs, voice, receives)
            if found:
                found = replace(found, score=max(found.score, options.answered_floor))
            if found and found.score >= options.threshold:
                out.append(Candidate(found.kind, found.text, found.evidence, order, found.score, k))
            continue
        score = 1.0 - probs[NONE]
        kinds = {kind: p for kind, p in probs.items() if kind != NONE}
        kind = max(kinds, key=kinds.__getitem__)
        if unit.speaker == "clinician" and _impression(unit):
            kind = "assessment"  # "I think you have ...", "consistent with ...": an impression
        if kind not in receives:
            continue  # this note type has no place for it (history in a patient summary)
        if score < thresholds.get(kind, options.threshold):
            continue
        if is_pleasantry(tidy(unit.text)) or (questionish(unit.text) and not confirmed):
            continue
        if not_note_material(unit.text, unit.speaker, kind) or cut_mid_phrase(unit):
            continue
        cut = question_start(unit.text)
        if cut is not None:  # keep what was said before a question that run-on speech joined
            unit = Unit(unit.turn, unit.start, unit.start + cut, unit.ents, False)
        text = restate(unit.text.rstrip("? "), unit.speaker, kind, voice, phrases)
        evidence = unit.evidence() + (nxt.evidence() if confirmed and nxt else ())
        # Safety net: a restatement that would add a content word is dropped, never shown.
        if not text or _fragment(text, unit, options.min_content_words):
            continue
        if evidence and not unsupported_words(text, [unit.text], phrases):
            out.append(Candidate(kind, text, evidence, order, score, k))
    return out


def within_budget(
    found: list[Candidate],
    budget: int,
    weights: dict[str, float] | None = None,
    concepts: dict[int, set[str]] | None = None,
    bonus: float = 0.0,
) -> list[Candidate]:
    """The most note-worthy candidates whose words fit in ``budget``.

    Greedy: each step takes the candidate with the highest score (scaled by its kind's
    ``weights``) plus ``bonus`` for each medical concept (``concepts`` by unit) the note does
    not mention yet, so a second sentence about the same thing yields to a new one.
    """
    weights, concepts = weights or {}, concepts or {}
    pool = sorted(found, key=lambda c: c.order)
    kept: list[Candidate] = []
    covered: set[str] = set()
    used = 0

    def value(c: Candidate, covered: set[str]) -> float:
        new = len(concepts.get(c.unit, set()) - covered)
        return c.score * weights.get(c.kind, 1.0) + bonus * new

    while pool:
        best = max(pool, key=lambda c: value(c, covered))  # the earliest of equal values
        pool.remove(best)
        words = len(best.text.split())
        if used + words > budget and kept:
            continue
        kept.append(best)
        covered |= concepts.get(best.unit, set())
        used += words
    return kept


# Framing words that carry meaning for repeats: "Likely X." says more than "X.".
_HEDGE_WORDS = frozenset({"likely"})


def _said(text: str) -> set[str]:
    return content_words(split_label(text)[1]) - (FRAMING_WORDS - _HEDGE_WORDS)


def _repeats(text: str, earlier: list[set[str]]) -> bool:
    """Says nothing new: its content words all appear in one earlier sentence."""
    words = _said(text)
    return not words or any(words <= seen for seen in earlier)


def place(
    found: list[Candidate], template: NoteTemplate, fingerprint: str
) -> tuple[NoteSentence, ...]:
    """Candidates into template sections in order; repeats and overflow dropped."""
    sentences: list[NoteSentence] = []
    for spec in template.sections:
        seen: list[set[str]] = []
        for cand in sorted(found, key=lambda c: c.order):
            if template.section_for(cand.kind) != spec.key or _repeats(cand.text, seen):
                continue
            if spec.max_sentences and len(seen) >= spec.max_sentences:
                break
            sid = str(
                uuid.uuid5(_ID_NAMESPACE, f"{fingerprint}:{template.id}:{spec.key}:{len(seen)}")
            )
            sentences.append(NoteSentence(sid, spec.key, cand.text, cand.evidence))
            seen.append(_said(cand.text))
    return tuple(sentences)


_PRESENTS_WORD = re.compile(r"\bpresents?\b", re.IGNORECASE)


def structured(
    found: list[Candidate],
    units: list[Unit],
    unit_kinds: dict[int, str],
    template: NoteTemplate,
    terms: PhraseMap,
    systems: BodySystems,
    voice: Voice,
    options: LearnedOptions,
) -> list[Candidate]:
    """The router's sentences with the template's structure added: chief complaint, review
    of systems, medication lines, body-system labels, problem-oriented assessment and plan."""
    out = list(found)
    if template.section_for("chief_complaint"):
        complaint = chief_complaint(units, terms)
        if complaint:  # the structured reason replaces whole spoken sentences
            out = [c for c in out if c.kind != "chief_complaint"] + complaint
            # unless a dictated sentence already says why the patient presents
            said = any(_PRESENTS_WORD.search(c.text) for c in found if c.kind == "hpi")
            if template.section_for("hpi") and options.opener and not said:
                out.append(visit_opener(complaint[0], voice.subject))
    ros_key = template.section_for("ros")
    if ros_key:
        labelled = template.section(ros_key).labels == "systems"
        out += review_of_systems(units, systems, labelled, terms)
    meds_key = template.section_for("medications")
    if meds_key and options.medication_list:
        prose = template.section(meds_key).layout == "prose"
        out += medication_lines(units, unit_kinds, as_list=prose)
    if template.section_for("results") and options.result_lines:
        out += result_lines(units)
    if template.section_for("vitals") and options.vital_lines:
        vitals = vitals_verdict(units) + vital_lines(units)
        stated = {c.unit for c in vitals}  # the structured line replaces the spoken one
        out = [c for c in out if not (c.kind == "vitals" and c.unit in stated)] + vitals
    for spec in template.sections:
        if spec.labels == "systems":
            out = [
                with_system_label(c, units, systems)
                if template.section_for(c.kind) == spec.key and c.kind in ("exam", "vitals")
                else c
                for c in out
            ]
        if spec.layout == "problems":
            mine = [c for c in out if template.section_for(c.kind) == spec.key]
            rest = [c for c in out if template.section_for(c.kind) != spec.key]
            out = rest + problem_oriented(
                mine, units, terms, spec.labels == "plan", options.every_problem
            )
    return out


def draft_visit(
    transcript: Transcript,
    entities: tuple[Entity, ...] = (),
    options: LearnedOptions = LearnedOptions(),
    model: DrafterModel | None = None,
    phrases: PhraseMap | None = None,
) -> Draft:
    """Draft a note of ``options.template`` in which every sentence links to its evidence.

    ``model`` and ``phrases`` default to the shipped artefacts in ``annotations/drafting``.
    Deterministic: the same inputs give an identical Draft, sentence ids included.
    """
    template = load_template(options.template)
    model = model or load_model()
    phrases = phrases if phrases is not None else load_phrases()
    voice = _voice(transcript, options, template)
    units = transcript_units(transcript, entities, options.max_words_per_sentence)
    matrix = model.probabilities([unit_features(units, k) for k in range(len(units))])
    probabilities = [dict(zip(model.kind_names, row, strict=True)) for row in matrix]
    found = candidates(units, probabilities, template, voice, phrases, options)
    if options.length_ratio > 0:
        words = sum(len(seg.text.split()) for seg in transcript.segments)
        concepts = {k: {concept_key(e) for e in u.ents} for k, u in enumerate(units)}
        found = within_budget(
            found,
            max(round(options.length_ratio * words), options.min_words),
            dict(options.kind_weights),
            concepts,
            options.concept_bonus,
        )
    terms = phrases.merged(load_phrases(TERMS_PATH))
    unit_kinds = {
        k: max((kind for kind in p if kind != NONE), key=p.__getitem__)
        for k, p in enumerate(probabilities)
    }
    found = structured(
        found, units, unit_kinds, template, terms, load_body_systems(), voice, options
    )
    fingerprint = transcript_fingerprint(transcript)
    return Draft(
        template=template.id,
        sections=template.keys,
        sentences=place(found, template, fingerprint),
        model_version=f"{DRAFTER_VERSION}+{model.version}",
        input_sha256=fingerprint,
        options={**asdict(options), "template_version": template.version, "voice": voice.subject},
    )
