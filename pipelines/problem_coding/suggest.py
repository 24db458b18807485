"""ICD-10-CM suggestions for each assessed problem, with the transcript words behind them.

For each problem of the draft's problem-oriented assessment and plan (``problems``):

1. Linked codes: PROBLEM mentions inside the evidence of the problem's sentences that carry
   an ICD-10-CM code. Each code's support is every mention of it in the visit that counts
   (``pipelines.code_suggestions.entity_weight``: never a negated, family or hypothetical
   one), weighted as the encounter-wide ranking does, with the assessment weight for mentions
   in this problem's sentences and ``HEADING_WEIGHT`` for the mention that names the problem.
2. Laterality: when the problem's own mentions state one side and the classification codes
   the linked code by side (``laterality.side_code``), the side's code replaces it, and only
   mentions of the same or no side support it.
3. A problem with no linked code gets a word search of ICD-10-CM descriptions for its name
   (``catalog.IcdCatalog.search``), marked lower confidence, its heading's words as evidence.

Pure: the workbench stores what the clinician accepts or rejects for which problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.code_suggestions import ICD_SYSTEM, CodeSuggestion, entity_weight
from pipelines.drafting.sentences import evidence_for
from pipelines.problem_coding.catalog import IcdCatalog
from pipelines.problem_coding.laterality import side_code, stated_side
from pipelines.problem_coding.problems import AssessedProblem, assessed_problems, overlaps
from pipelines.types import Draft, Entity, Evidence, Transcript

PROBLEM_CODES_VERSION = "problem_codes.v1"
HEADING_WEIGHT = 1.5
# A description search is a guess: it ranks below any code the linker found.
TEXT_SEARCH_WEIGHT = 0.5
LINKED = "linked"
TEXT_SEARCH = "text_search"


@dataclass(frozen=True)
class ProblemCode:
    """One suggested code for one problem.

    ``evidence``: the transcript spans (with audio times) of the mentions that support it;
    ``entities``: their indices in the entity tuple; ``sentence_ids``: the problem's
    sentences those mentions are in (the heading for a description search); ``confidence``:
    ``linked`` (the linker coded a mention) or ``text_search`` (lower: a description search);
    ``linked_code``: the linker's code when this one is its more specific side.
    """

    code: str
    description: str
    score: float
    why: str
    evidence: tuple[Evidence, ...]
    entities: tuple[int, ...]
    sentence_ids: tuple[str, ...]
    confidence: str = LINKED
    linked_code: str | None = None
    code_system: str = ICD_SYSTEM

    def as_suggestion(self) -> CodeSuggestion:
        """The same code in the encounter-wide form the decision store takes."""
        return CodeSuggestion(
            self.code,
            self.description,
            self.score,
            self.entities,
            len(self.entities),
            self.code_system,
        )


@dataclass(frozen=True)
class ProblemSuggestions:
    """An assessed problem and its ranked codes (best first; may be empty)."""

    problem: AssessedProblem
    codes: tuple[ProblemCode, ...]


def suggest_problem_codes(
    draft: Draft,
    entities: tuple[Entity, ...],
    transcript: Transcript,
    catalog: IcdCatalog,
    limit: int = 5,
) -> tuple[ProblemSuggestions, ...]:
    """Ranked ICD-10-CM codes for every problem the draft's assessment and plan names."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return tuple(
        ProblemSuggestions(problem, _codes(problem, entities, transcript, catalog)[:limit])
        for problem in assessed_problems(draft, entities)
    )


def _codes(
    problem: AssessedProblem,
    entities: tuple[Entity, ...],
    transcript: Transcript,
    catalog: IcdCatalog,
) -> tuple[ProblemCode, ...]:
    spans = [ev for s in problem.all_sentences for ev in s.evidence]
    own = [
        i
        for i, e in enumerate(entities)
        if _usable(e, transcript) and entity_weight(e) > 0 and overlaps(e, spans)
    ]
    linked = list(dict.fromkeys(entities[i].code for i in own if entities[i].code))
    found = [_linked(problem, code, own, entities, transcript, catalog) for code in linked]
    merged = _merge(found)
    if not merged:
        merged = _searched(problem, entities, transcript, catalog)
    return tuple(sorted(merged, key=lambda c: (-c.score, c.code)))


def _usable(entity: Entity, transcript: Transcript) -> bool:
    if not 0 <= entity.segment_idx < len(transcript.segments):
        return False
    return 0 <= entity.start < entity.end <= len(transcript.segments[entity.segment_idx].text)


def _side_of(entity: Entity, transcript: Transcript) -> str | None:
    return stated_side(transcript.segments[entity.segment_idx].text, entity.start, entity.end)


def _linked(
    problem: AssessedProblem,
    code: str,
    own: list[int],
    entities: tuple[Entity, ...],
    transcript: Transcript,
    catalog: IcdCatalog,
) -> ProblemCode:
    """The linker's ``code`` for this problem, made side-specific when the problem says so."""
    sides = {_side_of(entities[i], transcript) for i in own if entities[i].code == code}
    sides.discard(None)
    side = next(iter(sides)) if len(sides) == 1 else None
    target = side_code(catalog, code, side) if side else None
    support = [
        i
        for i, e in enumerate(entities)
        if e.code == code
        and _usable(e, transcript)
        and entity_weight(e) > 0
        and (target is None or _side_of(e, transcript) in (None, side))
    ]
    spans = [ev for s in problem.all_sentences for ev in s.evidence]
    heading = problem.heading.evidence
    score, clinician, in_problem = 0.0, 0, 0
    for i in support:
        ent = entities[i]
        speaker = transcript.segments[ent.segment_idx].speaker
        inside = overlaps(ent, spans)
        weight = entity_weight(ent, speaker, inside)
        score += weight * (HEADING_WEIGHT if overlaps(ent, heading) else 1.0)
        clinician += speaker == "clinician"
        in_problem += inside
    names = any(overlaps(entities[i], heading) for i in support)
    why = [
        f"{'names the problem; ' if names else ''}{len(support)} mention(s) coded {code} by "
        f"the linker, {clinician} by the clinician, {in_problem} in this problem's "
        "assessment and plan"
    ]
    if target:
        why.append(
            f"more specific than {code} ({catalog.description(code)}): "
            f"the {side} side is stated in the evidence"
        )
    elif len(sides) > 1 and code in catalog and _has_side_codes(catalog, code):
        why.append(f"side not coded: the evidence names {' and '.join(sorted(sides))}")
    first = entities[support[0]] if support else None
    description = (
        catalog.description(target)
        if target
        else (catalog.description(code) if code in catalog else None)
    )
    return ProblemCode(
        code=target or code,
        description=description or (first.code_label if first else None) or code,
        score=round(score, 3),
        why="; ".join(why) + ".",
        evidence=tuple(_mention(entities[i], transcript) for i in support),
        entities=tuple(support),
        sentence_ids=_sentences(problem, [entities[i] for i in support]),
        linked_code=code if target else None,
    )


def _has_side_codes(catalog: IcdCatalog, code: str) -> bool:
    return any(side_code(catalog, code, side) for side in ("right", "left"))


def _merge(found: list[ProblemCode]) -> list[ProblemCode]:
    """Two linked codes that land on the same code (M25.56 and M25.569 both -> M25.561)
    become one suggestion with both supports."""
    by_code: dict[str, ProblemCode] = {}
    for item in found:
        prev = by_code.get(item.code)
        if prev is None:
            by_code[item.code] = item
            continue
        entities = tuple(dict.fromkeys(prev.entities + item.entities))
        evidence = tuple(dict.fromkeys(prev.evidence + item.evidence))
        by_code[item.code] = ProblemCode(
            prev.code,
            prev.description,
            round(prev.score + item.score, 3),
            f"{prev.why} {item.why}",
            evidence,
            entities,
            tuple(dict.fromkeys(prev.sentence_ids + item.sentence_ids)),
            LINKED,
            prev.linked_code or item.linked_code,
        )
    return list(by_code.values())


def _searched(
    problem: AssessedProblem,
    entities: tuple[Entity, ...],
    transcript: Transcript,
    catalog: IcdCatalog,
) -> list[ProblemCode]:
    """Description-search candidates for a problem the linker coded nowhere in its sentences."""
    heading = problem.heading.evidence
    mentions = [
        e
        for e in entities
        if e.label == "PROBLEM" and _usable(e, transcript) and overlaps(e, heading)
    ]
    if mentions and all(e.negated or e.family or e.hypothetical for e in mentions):
        return []  # the heading rests only on a denied, family or hypothetical mention
    sides = {stated_side(problem.name, 0, len(problem.name))}
    sides |= {_side_of(e, transcript) for e in mentions}
    sides.discard(None)
    side = next(iter(sides)) if len(sides) == 1 else None
    out: dict[str, ProblemCode] = {}
    for match in catalog.search(problem.name):
        code, why = (
            match.code,
            (
                f"no linked code: ICD-10-CM description search for “{problem.name}” matched "
                f"{', '.join(match.matched)} (lower confidence)"
            ),
        )
        if side and (specific := side_code(catalog, code, side)):
            code, why = specific, f"{why}; the {side} side is stated in the evidence"
        if code in out:
            continue
        out[code] = ProblemCode(
            code=code,
            description=catalog.description(code),
            score=round(TEXT_SEARCH_WEIGHT * match.score, 3),
            why=why + ".",
            evidence=heading,
            entities=(),
            sentence_ids=(problem.sentence_id,),
            confidence=TEXT_SEARCH,
            linked_code=None,
        )
    return list(out.values())


def _mention(entity: Entity, transcript: Transcript) -> Evidence:
    return evidence_for(transcript.segments[entity.segment_idx], entity.start, entity.end)


def _sentences(problem: AssessedProblem, mentions: Sequence[Entity]) -> tuple[str, ...]:
    """The problem's sentences whose evidence holds any of the mentions (heading first)."""
    return tuple(
        s.sentence_id
        for s in problem.all_sentences
        if any(overlaps(e, s.evidence) for e in mentions)
    )
