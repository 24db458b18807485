"""Plain rows for the adjudication and agreement pages: annotation versions side by side,
a variant as one line of text, and agreement figures as tables (data in, rows out)."""

from __future__ import annotations

from collections.abc import Mapping

from pipelines.adjudication import Comparison, Disagreement, Variant
from pipelines.types import Annotation
from workbench.store.adjudication import Contested
from workbench.store.agreement import AgreementReport

KIND_TITLES = {
    "entities": "Entity spans",
    "sections": "Note sections",
    "transcript": "Transcript checks",
    "quality": "PDQI-9 quality",
}
MEASURE_TITLES = {
    "tokens": "Tokens (span labels)",
    "sections": "Segments (section labels)",
    "transcript_checks": "Segments (transcript checks)",
    "questions": "Encounter questions",
}


def describe(a: Annotation) -> str:
    """One annotation as short text: «text» LABEL, a section or check, an answer."""
    if a.kind == "span":
        quoted = f"«{a.text}»" if a.text is not None else "«hidden text»"
        return f"{quoted} {a.label}"
    if a.kind == "encounter_label":
        return str(a.value.get("choice"))
    if a.kind == "rating":
        return str(a.value.get("score"))
    if a.kind == "transcript_check" and a.value.get("text"):
        return f"{a.label}: {a.value['text']}"
    return a.label or a.kind


def describe_variant(variant: Variant) -> str:
    """A variant's annotations on one line ("nothing here" when it has none)."""
    return "; ".join(describe(a) for a in variant.annotations) or "nothing here"


def where(kind: str, segment_idx: int | None, subject: str) -> str:
    """Where an item is: a segment, or the question / PDQI item it answers."""
    if segment_idx is not None:
        return f"segment {segment_idx}"
    return f"PDQI: {subject}" if kind == "rating" else f"question: {subject}"


def choice_label(variant: Variant, names: Mapping[str, str]) -> str:
    """A radio option for a disagreement: who gave the variant, then what it is."""
    return f"{', '.join(names[v] for v in variant.versions)}: {describe_variant(variant)}"


def disagreement_title(d: Disagreement) -> str:
    return f"{where(d.kind, d.segment_idx, d.subject)} ({d.kind.replace('_', ' ')})"


def contested_label(c: Contested) -> str:
    """An encounter to adjudicate, for a select box: id, annotators, gold so far."""
    gold = f"gold #{c.gold_seq} ({c.gold_method})" if c.gold_seq else "no gold yet"
    return f"{c.encounter_id} · {len(c.annotators)} annotators · {gold}"


def encounter_summary(report: AgreementReport) -> str:
    """One encounter's agreement in a line: pairs, span F1, the multi-class kappas."""
    parts = [f"{report.pairs} annotator pairs"]
    overall = next((s for s in report.spans if s.label is None), None)
    if overall is not None:
        parts.append(f"span F1 {overall.mean_f1:.2f} (overlap {overall.mean_relaxed_f1:.2f})")
    for k in report.kappas:
        if k.category is None and k.kappa is not None:
            name = MEASURE_TITLES.get(k.measure, k.measure) + (f" {k.subject}" if k.subject else "")
            parts.append(f"kappa {name} {k.kappa:.2f}")
    if report.ratings:
        same = sum(r.exact for r in report.ratings) / len(report.ratings)
        parts.append(f"PDQI-9 same score on {same:.0%} of items")
    return " · ".join(parts)


def side_by_side(comparison: Comparison, names: Mapping[str, str]) -> list[dict[str, str]]:
    """One row per item, one column per annotator (``names``: task id -> annotator), in
    transcript order; ``status`` says in words whether the versions agree."""
    rows: list[tuple[tuple, dict[str, str]]] = []
    for a in comparison.agreed:
        row = {"where": where(a.kind, a.segment_idx, a.label or ""), "status": "agree ✓"}
        row |= {name: describe(a) for name in names.values()}
        rows.append(((a.segment_idx is None, a.segment_idx or 0, a.start_char or 0), row))
    for d in comparison.disagreements:
        row = {"where": disagreement_title(d), "status": "differs ≠"}
        for variant in d.variants:
            row |= {names[v]: describe_variant(variant) for v in variant.versions}
        start = d.variants[0].annotations[0].start_char if d.variants[0].annotations else 0
        rows.append(((d.segment_idx is None, d.segment_idx or 0, start or 0), row))
    return [row for _, row in sorted(rows, key=lambda r: r[0])]


def span_rows(report: AgreementReport) -> list[dict]:
    """Span F1 table rows (overall first)."""
    return [
        {
            "label": s.label or "all labels",
            "units": s.units,
            "tp": s.tp,
            "fp": s.fp,
            "fn": s.fn,
            "F1 (exact)": round(s.f1, 3),
            "mean F1 (exact)": round(s.mean_f1, 3),
            "F1 (overlap)": round(s.relaxed_f1, 3),
            "mean F1 (overlap)": round(s.mean_relaxed_f1, 3),
        }
        for s in report.spans
    ]


def kappa_rows(report: AgreementReport) -> list[dict]:
    """Cohen's kappa table rows: multi-class first in each measure, then per label."""
    return [
        {
            "items": MEASURE_TITLES.get(k.measure, k.measure)
            + (f": {k.subject}" if k.subject else ""),
            "label": k.category or "all (multi-class)",
            "annotator pairs": k.annotator_pairs,
            "n items": k.items,
            "observed agreement": round(k.observed, 3),
            "kappa": None if k.kappa is None else round(k.kappa, 3),
        }
        for k in report.kappas
    ]


def rating_rows(report: AgreementReport) -> list[dict]:
    """PDQI-9 agreement rows, one per item."""
    return [
        {
            "item": r.item,
            "annotator pairs": r.annotator_pairs,
            "n ratings": r.ratings,
            "exact agreement": round(r.exact, 3),
            "mean |difference|": round(r.mean_abs_diff, 3),
            "weighted kappa": None if r.weighted_kappa is None else round(r.weighted_kappa, 3),
        }
        for r in report.ratings
    ]
