"""Align one note sentence to the transcript passages that best support it.

The sentence becomes *items*: its content stems (weighted by the lexicon), its quantities
and the sides it names. Each item knows the passages that hold it: the same word family,
the same concept (a sentence entity whose code, ICD-10-CM category or words match a
transcript entity), the same quantity after normalisation, the same side.

Alignment picks up to ``max_passages`` passages close together (within ``window`` segments
of an anchor) that cover the most item weight: the anchors are the passages richest in rare
items, and a greedy cover adds neighbours while they add enough. A question that is chosen
brings the other speaker's answer with it ("Any fever?" / "No.").
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from pipelines.types import Entity, Evidence
from pipelines.verify.lexicon import content_stems
from pipelines.verify.numbers import Quantity
from pipelines.verify.passages import TranscriptIndex
from pipelines.verify.sides import agree


@dataclass(frozen=True)
class Item:
    """One checkable piece of a sentence and the passages that hold it."""

    key: str  # "w:<stem>", "q:<n>" (a quantity), "s:<side>"
    weight: float
    where: frozenset[int]


@dataclass(frozen=True)
class Alignment:
    """The passages chosen as a sentence's evidence and the items they cover."""

    passages: tuple[int, ...]
    covered: frozenset[str]
    local: float  # covered weight / total weight (0 when there is nothing to check)
    anywhere: float  # weight found anywhere in the transcript / total weight
    total: float


def sentence_items(
    text: str,
    entities: tuple[Entity, ...],
    found_quantities: tuple[Quantity, ...],
    found_sides: frozenset[str],
    index: TranscriptIndex,
) -> list[Item]:
    """The items of a sentence, each with the passages that support it."""
    lexicon = index.lexicon
    by_concept: dict[str, set[int]] = {}
    for ent in entities:
        where = index.passages_of(ent)
        for s in content_stems(ent.text, lexicon):
            by_concept.setdefault(s, set()).update(where)
    items: list[Item] = []
    for s in dict.fromkeys(content_stems(text, lexicon)):
        weight = lexicon.weight(s)
        if weight > 0:
            where = index.passages_with(s) | by_concept.get(s, set())
            items.append(Item("w:" + s, weight, frozenset(where)))
    with_numbers = [p for p in index.passages if p.quantities]
    for n, q in enumerate(found_quantities):
        where = {p.index for p in with_numbers if any(q.heard_in(r) for r in p.quantities)}
        weight = 1.0 if q.kind != "as_needed" else 0.3
        items.append(Item(f"q:{n}", weight, frozenset(where)))
    for side in sorted(found_sides):
        where = {p.index for p in index.passages if p.sides and agree(frozenset({side}), p.sides)}
        items.append(Item("s:" + side, 0.5, frozenset(where)))
    return items


def hint_passages(index: TranscriptIndex, evidence: tuple[Evidence, ...]) -> frozenset[int]:
    """Passages overlapping a sentence's own evidence links (our drafts have them)."""
    return frozenset(
        p.index
        for ev in evidence
        for p in index.passages
        if p.segment.idx == ev.segment_idx and p.start < ev.end_char and p.end > ev.start_char
    )


def align(
    items: list[Item],
    index: TranscriptIndex,
    window: int = 3,
    anchors: int = 3,
    max_passages: int = 3,
    min_gain: float = 0.15,
    hint: frozenset[int] = frozenset(),
) -> Alignment:
    """The best-covering nearby passages for ``items`` (see the module docstring)."""
    total = sum(i.weight for i in items)
    anywhere = sum(i.weight for i in items if i.where)
    if total == 0 or anywhere == 0:
        return Alignment((), frozenset(), 0.0, anywhere / total if total else 0.0, total)
    score: dict[int, float] = {}
    for item in items:
        rarity = item.weight * index.idf(item.where)
        for p in item.where:
            score[p] = score.get(p, 0.0) + rarity
    ranked = sorted(score, key=lambda p: (-score[p], p))[:anchors]
    # The sentence's own evidence wins ties; else fewer passages do.
    starts = ([set(hint)] if hint else []) + [{a} for a in ranked]
    seg_of = [p.segment.idx for p in index.passages]
    best: tuple[tuple[float, bool, int], set[int], set[str]] | None = None
    for n, chosen in enumerate(starts):
        own = bool(hint) and n == 0
        covered = {i.key for i in items if i.where & chosen}
        lo = bisect.bisect_left(seg_of, min(seg_of[p] for p in chosen) - window)
        hi = bisect.bisect_right(seg_of, max(seg_of[p] for p in chosen) + window)
        limit = max_passages + len(chosen) - 1
        while len(chosen) < limit:
            gains: dict[int, float] = {}
            for item in items:
                if item.key in covered:
                    continue
                for p in item.where:
                    if lo <= p < hi and p not in chosen:
                        gains[p] = gains.get(p, 0.0) + item.weight
            if not gains:
                break
            pick = max(gains, key=lambda p: (gains[p], -p))
            if gains[pick] < min_gain * total:
                break
            chosen.add(pick)
            covered |= {i.key for i in items if pick in i.where}
        rank = (round(sum(i.weight for i in items if i.key in covered), 6), own, -len(chosen))
        if best is None or rank > best[0]:
            best = (rank, chosen, covered)
    assert best is not None
    (value, _, _), chosen, covered = best
    return Alignment(
        passages=tuple(sorted(_with_answers(index, chosen))),
        covered=frozenset(covered),
        local=value / total,
        anywhere=anywhere / total,
        total=total,
    )


def _with_answers(index: TranscriptIndex, chosen: set[int]) -> set[int]:
    """Add the reply that follows each chosen question (the other speaker's next passage)."""
    out = set(chosen)
    passages = index.passages
    for p in chosen:
        q = passages[p]
        if not q.question:
            continue
        for nxt in passages[p + 1 : p + 4]:
            if nxt.segment.idx != q.segment.idx:
                if nxt.speaker != q.speaker:
                    out.add(nxt.index)
                break
    return out
