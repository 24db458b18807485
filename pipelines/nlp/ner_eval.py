"""Scores of predicted entity spans against reviewed ones: exact and overlap P/R/F1.

Works for any pipeline that sets ``doc.ents`` (the trained model alone, the rules, both).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from spacy.language import Language

from pipelines.nlp.ner_data import AnnotatedEncounter, Span3, encounter_docs


def gold_spans(
    nlp: Language, encounters: Sequence[AnnotatedEncounter], labels: Sequence[str]
) -> tuple[list[str], list[list[Span3]]]:
    """Segment texts of ``encounters`` and their resolved reference spans."""
    texts, spans = [], []
    for encounter in encounters:
        for doc in encounter_docs(nlp, encounter, labels)[0]:
            texts.append(doc.text)
            spans.append([(e.start_char, e.end_char, e.label_) for e in doc.ents])
    return texts, spans


def evaluate(
    nlp: Language, encounters: Sequence[AnnotatedEncounter], labels: Sequence[str]
) -> dict[str, Any]:
    """Exact and overlap precision / recall / F1 of ``nlp`` (any pipeline that sets
    ``doc.ents``: the trained model alone, the rules, or both) on ``encounters``."""
    texts, gold = gold_spans(nlp, encounters, labels)
    predicted = [
        [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in labels]
        for doc in nlp.pipe(texts)
    ]
    metrics = score_spans(gold, predicted, labels)
    metrics["encounters"] = len(encounters)
    metrics["segments"] = len(texts)
    return metrics


def score_spans(
    gold: Sequence[Sequence[Span3]], predicted: Sequence[Sequence[Span3]], labels: Sequence[str]
) -> dict[str, Any]:
    """Micro-averaged and per-label scores. ``exact``: same start, end and label.
    ``overlap``: a prediction is right if it overlaps a reference span of its label, and a
    reference span is found if some prediction of its label overlaps it."""
    tallies = {label: Counter() for label in labels}
    for gold_doc, pred_doc in zip(gold, predicted, strict=True):
        gold_set, pred_set = set(gold_doc), set(pred_doc)
        for label in labels:
            g = [s for s in gold_set if s[2] == label]
            p = [s for s in pred_set if s[2] == label]
            t = tallies[label]
            t["gold"] += len(g)
            t["pred"] += len(p)
            t["exact"] += len(set(g) & set(p))
            t["pred_overlap"] += sum(any(_overlaps(x, y) for y in g) for x in p)
            t["gold_overlap"] += sum(any(_overlaps(x, y) for y in p) for x in g)
    total: Counter[str] = Counter()
    for t in tallies.values():
        total.update(t)
    return {
        **_scores(total),
        "per_label": {label: _scores(t) for label, t in tallies.items() if t["gold"] or t["pred"]},
    }


def _overlaps(a: Span3, b: Span3) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _prf(tp_p: int, n_pred: int, tp_r: int, n_gold: int) -> dict[str, float]:
    precision = tp_p / n_pred if n_pred else 0.0
    recall = tp_r / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def _scores(t: Counter[str]) -> dict[str, Any]:
    return {
        "exact": _prf(t["exact"], t["pred"], t["exact"], t["gold"]),
        "overlap": _prf(t["pred_overlap"], t["pred"], t["gold_overlap"], t["gold"]),
        "support": t["gold"],
        "predicted": t["pred"],
    }
