"""NER scoring against the gold set: exact and overlap P/R/F1 per label, context flag accuracy.

- exact: a prediction counts when start, end and label equal a gold entity's.
- overlap: same label and overlapping spans; matching is one-to-one (largest overlap first),
  so one long prediction cannot match two gold entities.
- flag accuracy (negation and the others): over the gold entities that an overlap match paired
  with a prediction, the share whose flag equals the prediction's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pipelines.nlp_eval.gold import FLAGS, GoldEntity

MODES: tuple[str, ...] = ("exact", "overlap")


@dataclass
class Tally:
    """Running counts over documents (add documents with :meth:`add`)."""

    tp: Counter = field(default_factory=Counter)  # (mode, label) -> count
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    flag_agree: Counter = field(default_factory=Counter)  # flag -> matched pairs agreeing
    matched: int = 0
    negated: Counter = field(default_factory=Counter)  # tp/fp/fn of negated=True on pairs
    documents: int = 0
    gold: int = 0
    predicted: int = 0
    labels: set[str] = field(default_factory=set)

    def add(self, gold: list[GoldEntity], predicted: list[GoldEntity]) -> None:
        """Score one document's predictions against its gold entities."""
        self.documents += 1
        self.gold += len(gold)
        self.predicted += len(predicted)
        self.labels.update(e.label for e in gold)
        self.labels.update(e.label for e in predicted)
        for mode in MODES:
            pairs = match(gold, predicted, mode)
            for g, _ in pairs:
                self.tp[mode, gold[g].label] += 1
            hit_g = {g for g, _ in pairs}
            hit_p = {p for _, p in pairs}
            for i, e in enumerate(gold):
                if i not in hit_g:
                    self.fn[mode, e.label] += 1
            for i, e in enumerate(predicted):
                if i not in hit_p:
                    self.fp[mode, e.label] += 1
            if mode == "overlap":
                self._flags([(gold[g], predicted[p]) for g, p in pairs])

    def _flags(self, pairs: list[tuple[GoldEntity, GoldEntity]]) -> None:
        self.matched += len(pairs)
        for g, p in pairs:
            for flag in FLAGS:
                self.flag_agree[flag] += getattr(g, flag) == getattr(p, flag)
            if g.negated and p.negated:
                self.negated["tp"] += 1
            elif p.negated:
                self.negated["fp"] += 1
            elif g.negated:
                self.negated["fn"] += 1

    def report(self) -> dict:
        """precision, recall, f1 ({exact, overlap, per_label}), flag accuracies and counts."""
        labels = sorted(self.labels)
        out: dict = {}
        for metric in ("precision", "recall", "f1"):
            out[metric] = {mode: _metric(metric, *self._sums(mode, None)) for mode in MODES}
            out[metric]["per_label"] = {
                label: {mode: _metric(metric, *self._sums(mode, label)) for mode in MODES}
                for label in labels
            }
        accuracy = {f: _ratio(self.flag_agree[f], self.matched) for f in FLAGS}
        out["negation_accuracy"] = accuracy["negated"]
        out["flag_accuracy"] = accuracy
        tp, fp, fn = (self.negated[k] for k in ("tp", "fp", "fn"))
        out["negated"] = {
            "matched_pairs": self.matched,
            "gold_negated": tp + fn,
            "precision": _metric("precision", tp, fp, fn),
            "recall": _metric("recall", tp, fp, fn),
        }
        out["documents"] = self.documents
        out["entities"] = self.gold
        out["predicted"] = self.predicted
        out["gold_per_label"] = {
            label: self.tp["exact", label] + self.fn["exact", label] for label in labels
        }
        return out

    def _sums(self, mode: str, label: str | None) -> tuple[int, int, int]:
        def total(counter: Counter) -> int:
            return sum(
                n
                for (m, lab), n in counter.items()
                if m == mode and (label is None or lab == label)
            )

        return total(self.tp), total(self.fp), total(self.fn)


def match(gold: list[GoldEntity], predicted: list[GoldEntity], mode: str) -> list[tuple[int, int]]:
    """One-to-one (gold index, predicted index) pairs of the same label.

    ``exact`` pairs identical spans; ``overlap`` pairs overlapping spans, taking the largest
    overlap first (ties: earliest gold, then earliest prediction).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    candidates = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(predicted):
            if g.label != p.label:
                continue
            if mode == "exact":
                if (g.start, g.end) == (p.start, p.end):
                    candidates.append((0, gi, pi))
            else:
                overlap = min(g.end, p.end) - max(g.start, p.start)
                if overlap > 0:
                    candidates.append((-overlap, gi, pi))
    pairs, used_g, used_p = [], set(), set()
    for _, gi, pi in sorted(candidates):
        if gi not in used_g and pi not in used_p:
            pairs.append((gi, pi))
            used_g.add(gi)
            used_p.add(pi)
    return sorted(pairs)


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _metric(name: str, tp: int, fp: int, fn: int) -> float | None:
    if name == "precision":
        return _ratio(tp, tp + fp)
    if name == "recall":
        return _ratio(tp, tp + fn)
    return _ratio(2 * tp, 2 * tp + fp + fn)
