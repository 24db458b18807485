"""The section router: a linear model from sentence features to content kinds (or ``none``).

Trained with scikit-learn's multinomial logistic regression (``train_router``) and stored as
plain JSON (feature names, weights, intercepts), so drafting needs only numpy and the file is
readable and diff-able. Features are binary, each sentence's vector scaled to unit length.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipelines.drafting.features import FEATURES_VERSION
from pipelines.drafting.kinds import NONE
from pipelines.paths import ANNOTATIONS_DIR

ROUTER_PATH = ANNOTATIONS_DIR / "drafting" / "model.json"
_DIGITS = 3  # weights are stored as integers in thousandths: a small file, same decisions
_SCALE = 10**_DIGITS


class RouterError(ValueError):
    """A router file that is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class SectionRouter:
    """Weights of the trained router and what produced them."""

    kinds: tuple[str, ...]
    features: tuple[str, ...]
    weights: np.ndarray  # (len(features), len(kinds))
    intercept: np.ndarray  # (len(kinds),)
    meta: dict[str, Any] = field(default_factory=dict)
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.weights.shape != (len(self.features), len(self.kinds)):
            raise RouterError(
                f"weights {self.weights.shape} do not fit "
                f"{len(self.features)} features x {len(self.kinds)} kinds"
            )
        object.__setattr__(self, "index", {f: i for i, f in enumerate(self.features)})

    @property
    def version(self) -> str:
        """A short id of these weights (changes whenever the model does)."""
        return str(self.meta.get("version", "router"))

    def probabilities(self, feature_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, len(kinds)) class probabilities, one row per feature list."""
        scores = np.tile(self.intercept, (len(feature_lists), 1))
        for row, feats in enumerate(feature_lists):
            idx = sorted({self.index[f] for f in feats if f in self.index})
            n_active = len(set(feats))
            if idx and n_active:
                scores[row] += self.weights[idx].sum(axis=0) / np.sqrt(n_active)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: feature names, and weights as integers in thousandths per feature."""
        return {
            "meta": self.meta,
            "kinds": list(self.kinds),
            "scale": _SCALE,
            "intercept": [round(float(x) * _SCALE) for x in self.intercept],
            "features": list(self.features),
            "weights": [[round(float(x) * _SCALE) for x in row] for row in self.weights],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SectionRouter:
        scale = float(data["scale"])
        features = tuple(data["features"])
        weights = np.array(data["weights"], dtype=float).reshape(len(features), -1) / scale
        if not features:
            weights = np.zeros((0, len(data["kinds"])))
        return cls(
            tuple(data["kinds"]),
            features,
            weights,
            np.array(data["intercept"], dtype=float) / scale,
            dict(data.get("meta", {})),
        )


@dataclass(frozen=True)
class DrafterModel:
    """The two trained parts: which kind a sentence is (``kinds``, with ``none``) and
    whether a note keeps it (``keep``, classes "keep"/"none", trained on oracle choices)."""

    kinds: SectionRouter
    keep: SectionRouter
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """A short id of both models' weights."""
        return str(self.meta.get("version", f"{self.kinds.version}+{self.keep.version}"))

    @property
    def kind_names(self) -> tuple[str, ...]:
        return self.kinds.kinds

    def probabilities(self, feature_lists: Sequence[Sequence[str]]) -> np.ndarray:
        """(n, len(kind_names)): P(none) = 1 - P(keep); the kinds share P(keep) in the
        proportions the kind model gives them."""
        kinds = self.kinds.probabilities(feature_lists)
        if not len(feature_lists):
            return kinds
        keep = self.keep.probabilities(feature_lists)[:, self.keep.kinds.index("keep")]
        none = self.kinds.kinds.index(NONE)
        other = np.delete(kinds, none, axis=1)
        other = other / np.maximum(other.sum(axis=1, keepdims=True), 1e-12) * keep[:, None]
        return np.insert(other, none, 1.0 - keep, axis=1)

    def to_json(self) -> dict[str, Any]:
        return {"meta": self.meta, "kinds": self.kinds.to_json(), "keep": self.keep.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DrafterModel:
        return cls(
            SectionRouter.from_json(data["kinds"]),
            SectionRouter.from_json(data["keep"]),
            dict(data.get("meta", {})),
        )


def save_model(model: DrafterModel, path: Path = ROUTER_PATH) -> None:
    """Write the model as compact, key-sorted JSON (byte-identical for the same weights)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model.to_json(), sort_keys=True, separators=(",", ":"))
    Path(path).write_text(text + "\n", encoding="utf-8")


def load_model(path: Path = ROUTER_PATH) -> DrafterModel:
    """The model stored at ``path``; RouterError naming the training command if missing."""
    path = Path(path)
    if not path.is_file():
        raise RouterError(f"{path} not found: run `scribe train drafter` to build it")
    try:
        return DrafterModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (KeyError, TypeError, ValueError) as exc:
        raise RouterError(f"{path}: not a drafter model file ({exc})") from None


def train_router(
    examples: Sequence[tuple[Sequence[str], str]],
    seed: int = 0,
    c: float = 1.0,
    min_count: int = 2,
    meta: dict[str, Any] | None = None,
    weights: Sequence[float] | None = None,
) -> SectionRouter:
    """Fit the router on (features, kind) pairs, each with an optional sample weight;
    features seen fewer than ``min_count`` times are dropped. Deterministic for a given
    seed and data."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    counts = Counter(f for feats, _ in examples for f in set(feats))
    features = tuple(sorted(f for f, n in counts.items() if n >= min_count))
    index = {f: i for i, f in enumerate(features)}
    kinds = tuple(sorted({k for _, k in examples} | {NONE}))
    rows, cols, vals, labels = [], [], [], []
    for r, (feats, kind) in enumerate(examples):
        active = sorted({index[f] for f in feats if f in index})
        scale = 1.0 / np.sqrt(len(set(feats))) if feats else 0.0
        rows += [r] * len(active)
        cols += active
        vals += [scale] * len(active)
        labels.append(kinds.index(kind))
    x = csr_matrix((vals, (rows, cols)), shape=(len(examples), len(features)))
    from threadpoolctl import threadpool_limits

    model = LogisticRegression(C=c, max_iter=3000, random_state=seed)
    # One BLAS thread: parallel sums round differently run to run, and the weights must be
    # reproducible to the last stored digit.
    with threadpool_limits(limits=1):
        model.fit(x, np.array(labels), sample_weight=None if weights is None else np.array(weights))
    coef = np.zeros((len(features), len(kinds)))
    intercept = np.full(len(kinds), -30.0)  # a kind never seen in training is never predicted
    if len(model.classes_) == 2:  # binary: one logit for the second class, softmax = sigmoid
        coef[:, model.classes_[0]] = 0.0
        intercept[model.classes_[0]] = 0.0
        coef[:, model.classes_[1]] = model.coef_[0]
        intercept[model.classes_[1]] = model.intercept_[0]
    else:
        for j, cls_idx in enumerate(model.classes_):
            coef[:, cls_idx] = model.coef_[j]
            intercept[cls_idx] = model.intercept_[j]
    coef = np.round(coef, _DIGITS)
    intercept = np.round(intercept, _DIGITS)
    digest = hashlib.sha256(coef.tobytes() + intercept.tobytes()).hexdigest()[:10]
    info = {
        "features_version": FEATURES_VERSION,
        "seed": seed,
        "c": c,
        "examples": len(examples),
        **(meta or {}),
        "version": f"router.{digest}",
    }
    return SectionRouter(kinds, features, coef, intercept, info)
