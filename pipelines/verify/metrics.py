"""Note-level figures from support results, the same for every system's notes."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.types import SUPPORT_LABELS, SupportResult


def unsupported_rate(results: Sequence[SupportResult]) -> float:
    """Share of sentences labelled unsupported (0.0 for a note without sentences)."""
    return sum(r.label == "unsupported" for r in results) / len(results) if results else 0.0


def evidence_coverage(results: Sequence[SupportResult]) -> float:
    """Share of sentences with evidence links (0.0 for a note without sentences).

    A sentence has them when it came with its own (a drafter's, ``linked``), or when the
    alignment found passages that at least partly support it: a baseline note gets its
    evidence by alignment, and a passage that does not support a sentence is no evidence.
    """
    if not results:
        return 0.0
    return sum(r.linked or (bool(r.evidence) and r.label != "unsupported") for r in results) / len(
        results
    )


def label_counts(results: Sequence[SupportResult]) -> dict[str, int]:
    """Sentences per label, every label present (zero when none)."""
    return {label: sum(r.label == label for r in results) for label in SUPPORT_LABELS}
