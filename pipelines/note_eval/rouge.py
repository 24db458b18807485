"""ROUGE as ACI-Bench reports it: rouge-score 0.1.2, F1 x 100, scored per note and averaged.

The paper's protocol (``evaluation/evaluate_fullnote.py`` of the ACI-Bench repository):
Hugging Face ``evaluate``'s "rouge" metric, which calls ``rouge_score.RougeScorer`` with no
stemmer and the default tokenizer on each (reference, prediction) pair, without bootstrap
aggregation; the per-note F1 values are averaged. The table's "ROUGE-L" is ``rougeLsum``
(LCS over newline-separated lines). Reproduced exactly from the shipped predictions: GPT-4
on test1 gives 51.76 / 22.58 / 45.97 (tests/test_note_eval.py).
"""

from __future__ import annotations

from collections.abc import Sequence

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeLsum")


def rouge_per_note(references: Sequence[str], predictions: Sequence[str]) -> list[dict[str, float]]:
    """F1 x 100 of each (reference, prediction) pair for every ROUGE type, unrounded."""
    from rouge_score import rouge_scorer  # imported here: only evaluation needs it

    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
    scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=False)
    scores = []
    for ref, pred in zip(references, predictions, strict=True):
        result = scorer.score(ref, pred or "")
        scores.append({k: 100.0 * result[k].fmeasure for k in ROUGE_TYPES})
    return scores


def mean_scores(per_note: Sequence[dict[str, float]], digits: int = 2) -> dict[str, float]:
    """The average of each metric over notes, rounded (an empty list gives no keys)."""
    if not per_note:
        return {}
    keys = per_note[0].keys()
    return {k: round(sum(s[k] for s in per_note) / len(per_note), digits) for k in keys}
