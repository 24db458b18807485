"""Where annotators' versions of one task agree and differ, and a gold set merged from a
lead's pick per disagreement.

Only human-confirmed labels take part (a model suggestion nobody confirmed is ignored).
Items are compared as the agreement figures compare them:
- spans: the same segment, start, end and label. Spans every version has are agreed; the
  others are grouped into disagreements of overlapping spans in one segment, and each
  version's spans in that stretch (possibly none) is one choice.
- section labels and transcript checks: per segment; encounter questions and PDQI-9 ratings:
  per question. Equal when label and value are equal.
- relations follow their spans: a merged set keeps every relation (of any version) whose two
  spans made it into the set.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from pipelines.types import Annotation

SEGMENT_KINDS = frozenset({"section_label", "transcript_check"})
HUMAN = frozenset({"human", "confirmed"})


@dataclass(frozen=True)
class Variant:
    """One way the versions labelled a disputed item; ``versions`` (keys of the compared
    versions) gave exactly these annotations (empty: they labelled nothing there)."""

    versions: tuple[str, ...]
    annotations: tuple[Annotation, ...]


@dataclass(frozen=True)
class Disagreement:
    """An item the versions labelled differently, with each distinct variant."""

    key: str  # stable for the same versions: "span:1:7-20", "section_label:3", "rating:accurate"
    kind: str
    segment_idx: int | None
    subject: str  # the question or PDQI item for encounter labels and ratings, else ""
    variants: tuple[Variant, ...]


@dataclass(frozen=True)
class Comparison:
    """The versions (key -> their human-confirmed annotations), what all of them agree on
    (annotations as the first version has them) and every disagreement."""

    versions: Mapping[str, tuple[Annotation, ...]]
    agreed: tuple[Annotation, ...]
    disagreements: tuple[Disagreement, ...]

    def map(self, fn: Callable[[str, Annotation], Annotation]) -> Comparison:
        """The same comparison with every annotation replaced by ``fn(version, annotation)``
        (e.g. as a reader without ``text.phi`` may see it); keys and grouping stay."""
        first = next(iter(self.versions), "")
        return Comparison(
            {v: tuple(fn(v, a) for a in anns) for v, anns in self.versions.items()},
            tuple(fn(first, a) for a in self.agreed),
            tuple(
                replace(
                    d,
                    variants=tuple(
                        replace(x, annotations=tuple(fn(x.versions[0], a) for a in x.annotations))
                        for x in d.variants
                    ),
                )
                for d in self.disagreements
            ),
        )


def compare_versions(versions: Mapping[str, Sequence[Annotation]]) -> Comparison:
    """Compare annotation sets of one encounter and task kind (two or more, keyed by task
    or annotator); the order of ``versions`` is the order of the variants' versions."""
    kept = {v: tuple(a for a in anns if a.origin in HUMAN) for v, anns in versions.items()}
    agreed, disagreements = _compare_spans(kept)
    more_agreed, more_disputed = _compare_items(kept)
    return Comparison(kept, (*agreed, *more_agreed), (*disagreements, *more_disputed))


def merge(comparison: Comparison, picks: Mapping[str, int]) -> list[Annotation]:
    """The gold set: everything agreed, plus for each disagreement the variant ``picks``
    names by its index; then the relations whose spans are both in the set. Ids are
    renumbered g1, g2, ... A disagreement without a (valid) pick raises ValueError."""
    missing = [
        d.key for d in comparison.disagreements if picks.get(d.key) not in range(len(d.variants))
    ]
    if missing:
        raise ValueError(f"Pick a version for every disagreement; missing: {', '.join(missing)}")
    chosen = list(comparison.agreed)
    for d in comparison.disagreements:
        chosen.extend(d.variants[picks[d.key]].annotations)
    spans = sorted((a for a in chosen if a.kind == "span"), key=_span_key)
    others = [a for a in chosen if a.kind != "span"]
    out = [replace(a, annotation_id=f"g{i}") for i, a in enumerate([*spans, *others], 1)]
    new_id = {_span_key(a): a.annotation_id for a in out if a.kind == "span"}
    seen: set[tuple] = set()
    for anns in comparison.versions.values():
        by_id = {a.annotation_id: _span_key(a) for a in anns if a.kind == "span"}
        for r in (a for a in anns if a.kind == "relation"):
            ends = (by_id.get(r.value.get("from")), by_id.get(r.value.get("to")))
            if ends[0] not in new_id or ends[1] not in new_id or (r.label, *ends) in seen:
                continue
            seen.add((r.label, *ends))
            value = {**r.value, "from": new_id[ends[0]], "to": new_id[ends[1]]}
            out.append(replace(r, annotation_id=f"g{len(out) + 1}", value=value))
    return out


def _span_key(a: Annotation) -> tuple:
    return (a.segment_idx, a.start_char, a.end_char, a.label)


def _compare_spans(
    versions: Mapping[str, tuple[Annotation, ...]],
) -> tuple[list[Annotation], list[Disagreement]]:
    keyed = {v: {_span_key(a): a for a in anns if a.kind == "span"} for v, anns in versions.items()}
    common = set.intersection(*(set(k) for k in keyed.values())) if keyed else set()
    first = next(iter(keyed.values()), {})
    agreed = [first[k] for k in sorted(common, key=_sortable)]
    rest = sorted({k for spans in keyed.values() for k in spans} - common, key=_sortable)
    # Sweep in order: a span joins the current stretch while it overlaps it (same segment).
    stretches: list[list[tuple]] = []
    for k in rest:
        last = stretches[-1] if stretches else None
        if last and last[0][0] == k[0] and k[1] < max(x[2] for x in last):
            last.append(k)
        else:
            stretches.append([k])
    disputes = []
    for stretch in stretches:
        by_version = {
            v: tuple(spans[k] for k in stretch if k in spans) for v, spans in keyed.items()
        }
        end = max(k[2] for k in stretch)
        key = f"span:{stretch[0][0]}:{stretch[0][1]}-{end}"
        signature = {v: tuple(map(_span_key, anns)) for v, anns in by_version.items()}
        variants = _variants(by_version, signature)
        disputes.append(Disagreement(key, "span", stretch[0][0], "", variants))
    return agreed, disputes


def _compare_items(
    versions: Mapping[str, tuple[Annotation, ...]],
) -> tuple[list[Annotation], list[Disagreement]]:
    groups: dict[tuple, dict[str, list[Annotation]]] = {}
    for v, anns in versions.items():
        for a in anns:
            if a.kind in ("span", "relation"):
                continue
            where = a.segment_idx if a.kind in SEGMENT_KINDS else None
            subject = "" if a.kind in SEGMENT_KINDS else (a.label or "")
            groups.setdefault((a.kind, where, subject), {}).setdefault(v, []).append(a)
    agreed: list[Annotation] = []
    disputes: list[Disagreement] = []
    for (kind, where, subject), found in sorted(groups.items(), key=lambda g: _sortable(g[0])):
        by_version = {v: tuple(sorted(found.get(v, ()), key=_item_signature)) for v in versions}
        signature = {v: tuple(map(_item_signature, anns)) for v, anns in by_version.items()}
        if len(set(signature.values())) == 1:
            agreed.extend(next(iter(by_version.values())))
            continue
        key = f"{kind}:{where if where is not None else subject}"
        disputes.append(Disagreement(key, kind, where, subject, _variants(by_version, signature)))
    return agreed, disputes


def _variants(
    by_version: Mapping[str, tuple[Annotation, ...]], signature: Mapping[str, tuple]
) -> tuple[Variant, ...]:
    """Versions with the same signature share one variant, in the versions' order."""
    order: dict[tuple, list[str]] = {}
    for v in by_version:
        order.setdefault(signature[v], []).append(v)
    return tuple(Variant(tuple(vs), by_version[vs[0]]) for vs in order.values())


def _item_signature(a: Annotation) -> tuple:
    return (a.label or "", json.dumps(a.value, sort_keys=True, default=str))


def _sortable(key: tuple) -> tuple:
    """None-safe ordering of keys mixing ints, strings and None."""
    return tuple((x is None, x if x is not None else 0) for x in key)
