"""Ranked ICD-10-CM code suggestions for the assessment, from an encounter's entities.

A code is suggested when a PROBLEM entity carries it and the problem is the patient's own and
present (not negated, not family history, not hypothetical). Each mention adds a weight:

    linker score (1.0 for an exact vocabulary term)
    x CLINICIAN_WEIGHT when the clinician said it (the assessment is the clinician's)
    x ASSESSMENT_WEIGHT when it is evidence of an assessment or plan sentence of the draft
    x HISTORICAL_WEIGHT / UNCERTAIN_WEIGHT for past or doubtful problems

and a code's score is the sum over its mentions, so a problem discussed repeatedly, by the
clinician, in the assessment, ranks first. Pure function: the workbench stores what the
clinician accepts or rejects (``workbench.store.codes``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.types import Draft, Entity, Transcript

CODE_SUGGESTIONS_VERSION = "code_suggestions.v1"
ICD_SYSTEM = "ICD-10-CM"
CLINICIAN_WEIGHT = 1.5
ASSESSMENT_WEIGHT = 2.0
HISTORICAL_WEIGHT = 0.5
UNCERTAIN_WEIGHT = 0.5
ASSESSMENT_SECTIONS = frozenset({"assessment", "plan"})


@dataclass(frozen=True)
class CodeSuggestion:
    """One suggested code. ``evidence`` holds indices into the entity tuple it came from."""

    code: str
    description: str
    score: float
    evidence: tuple[int, ...]
    mentions: int
    code_system: str = ICD_SYSTEM


def entity_weight(entity: Entity, speaker: str | None = None, in_assessment: bool = False) -> float:
    """How much one mention counts towards its code (0 when it must not count)."""
    if entity.label != "PROBLEM" or entity.code_system != ICD_SYSTEM or not entity.code:
        return 0.0
    if entity.negated or entity.family or entity.hypothetical:
        return 0.0
    weight = float(entity.attributes.get("link_score", 1.0))
    if speaker == "clinician":
        weight *= CLINICIAN_WEIGHT
    if in_assessment:
        weight *= ASSESSMENT_WEIGHT
    if entity.historical:
        weight *= HISTORICAL_WEIGHT
    if entity.uncertain:
        weight *= UNCERTAIN_WEIGHT
    return weight


def suggest_codes(
    entities: tuple[Entity, ...],
    transcript: Transcript | None = None,
    draft: Draft | None = None,
    limit: int = 10,
) -> tuple[CodeSuggestion, ...]:
    """Ranked suggestions (highest score first, then code), at most ``limit``.

    ``transcript`` gives speakers and ``draft`` the assessment and plan evidence; either may
    be missing (then those weights do not apply).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    speakers = {s.idx: s.speaker for s in transcript.segments} if transcript else {}
    spans = [
        (ev.segment_idx, ev.start_char, ev.end_char)
        for sentence in (draft.sentences if draft else ())
        if sentence.section in ASSESSMENT_SECTIONS
        for ev in sentence.evidence
    ]
    scores: dict[str, float] = {}
    evidence: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    for i, entity in enumerate(entities):
        in_assessment = any(
            seg == entity.segment_idx and start < entity.end and entity.start < end
            for seg, start, end in spans
        )
        weight = entity_weight(entity, speakers.get(entity.segment_idx), in_assessment)
        if weight <= 0 or entity.code is None:
            continue
        scores[entity.code] = scores.get(entity.code, 0.0) + weight
        evidence.setdefault(entity.code, []).append(i)
        labels.setdefault(entity.code, entity.code_label or entity.code)
    ranked = sorted(scores, key=lambda code: (-scores[code], code))[:limit]
    return tuple(
        CodeSuggestion(
            code, labels[code], round(scores[code], 3), tuple(evidence[code]), len(evidence[code])
        )
        for code in ranked
    )
