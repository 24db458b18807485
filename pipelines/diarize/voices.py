"""Two voices from unit-level features: clustering, per-unit evidence, and smoothing.

The clustering is 2-means started on the first principal axis, then refined a few times
with a linear discriminant (which weights the features that actually separate these two
people in this room). Each unit's evidence is a log-likelihood ratio on the discriminant,
shrunk for short units whose averages are noisy. A two-state Viterbi pass then trades that
evidence against the prior cost of changing speaker at each unit boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .features import FrameFeatures, span_frames


@dataclass(frozen=True)
class VoiceModel:
    """Two voices on a linear discriminant of robustly scaled unit features.

    separation: distance between the two voices in pooled standard deviations.
    """

    median: np.ndarray
    scale: np.ndarray
    direction: np.ndarray
    means: tuple[float, float]
    sd: float
    full_frames: float

    @property
    def separation(self) -> float:
        return abs(self.means[1] - self.means[0]) / self.sd

    def llr(self, x: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Per-unit log-likelihood ratio, voice 1 over voice 0 (0 where no speech).

        Equal-variance Gaussians make it linear in the projection; short units have noisy
        averages, so their evidence is scaled down in proportion to their length.
        """
        m0, m1 = self.means
        out = (m1 - m0) / self.sd**2 * (self.project(x) - (m0 + m1) / 2)
        weight = np.minimum(counts, self.full_frames) / self.full_frames
        return np.where(counts > 0, out * weight, 0.0)

    def project(self, x: np.ndarray) -> np.ndarray:
        z = np.clip((np.nan_to_num(x) - self.median) / self.scale, -4.0, 4.0)
        return z @ self.direction

    def recalibrated(self, x: np.ndarray, counts: np.ndarray, labels: np.ndarray) -> VoiceModel:
        """The same discriminant with class means and spread measured on other (shorter)
        units: a word's average is far noisier than a sentence's, and an LLR that ignores
        that lets one odd word flip a whole sentence."""
        usable = counts > 0
        if min((labels[usable] == k).sum() for k in (0, 1)) < 2:
            return self
        proj, w = self.project(x)[usable], counts[usable]
        means, sd = _class_stats(proj, w, labels[usable])
        return replace(self, means=means, sd=sd)


def unit_features(
    ff: FrameFeatures, spans: list[tuple[float, float]]
) -> tuple[np.ndarray, np.ndarray]:
    """Mean MFCCs and median log-pitch of each span's speech frames; and their frame counts."""
    x = np.full((len(spans), ff.mfcc.shape[1] + 1), np.nan)
    counts = np.zeros(len(spans))
    for i, (start, end) in enumerate(spans):
        sl = span_frames(start, end, len(ff))
        speech = ff.speech[sl]
        if speech.sum() < 3:
            continue
        pitch = ff.log_pitch[sl][speech]
        pitch = pitch[~np.isnan(pitch)]
        x[i, :-1] = ff.mfcc[sl][speech].mean(axis=0)
        x[i, -1] = np.median(pitch) if len(pitch) else np.nan
        counts[i] = speech.sum()
    # A unit with speech but no voiced frame gets the typical pitch: no evidence either way.
    pitch_col = x[:, -1]
    if np.isnan(pitch_col).all():
        x[:, -1] = np.where(counts > 0, 0.0, np.nan)
    else:
        x[:, -1] = np.where((counts > 0) & np.isnan(pitch_col), np.nanmedian(pitch_col), pitch_col)
    return x, counts


def fit_voices(
    x: np.ndarray, counts: np.ndarray, full_frames: float, iterations: int = 8
) -> VoiceModel | None:
    """Two voices among the units, or None when there are too few usable units or one voice."""
    usable = counts > 0
    if usable.sum() < 4:
        return None
    pts, w = x[usable], np.minimum(counts[usable], full_frames)
    median = np.median(pts, axis=0)
    scale = np.subtract(*np.percentile(pts, [75, 25], axis=0)) / 1.349 + 1e-6
    z = np.clip((pts - median) / scale, -4.0, 4.0)
    # Deterministic start: split along the first principal axis at its 10th/90th percentiles.
    centred = z - np.average(z, axis=0, weights=w)
    axis = np.linalg.svd(centred * np.sqrt(w)[:, None], full_matrices=False)[2][0]
    proj = centred @ axis
    labels = (proj > (np.percentile(proj, 10) + np.percentile(proj, 90)) / 2).astype(int)
    model = None
    for _ in range(iterations):
        if min(labels.sum(), len(labels) - labels.sum()) < 2:
            return None
        model = _discriminant(z, w, labels, median, scale, full_frames)
        new = (model.llr(pts, counts[usable]) > 0).astype(int)
        if (new == labels).all():
            break
        labels = new
    return model


def _discriminant(
    z: np.ndarray, w: np.ndarray, labels: np.ndarray, median: np.ndarray, scale: np.ndarray,
    full_frames: float,
) -> VoiceModel:
    means, covs = [], []
    for k in (0, 1):
        member, wk = z[labels == k], w[labels == k]
        means.append(np.average(member, axis=0, weights=wk))
        covs.append(np.cov(member.T, aweights=wk))
    within = covs[0] + covs[1] + 1e-2 * np.eye(z.shape[1])
    direction = np.linalg.solve(within, means[1] - means[0])
    means, sd = _class_stats(z @ direction, w, labels)
    return VoiceModel(median, scale, direction, means, sd, full_frames)


def _class_stats(
    proj: np.ndarray, w: np.ndarray, labels: np.ndarray
) -> tuple[tuple[float, float], float]:
    """Weighted class means on the discriminant and their pooled standard deviation."""
    m = [float(np.average(proj[labels == k], weights=w[labels == k])) for k in (0, 1)]
    var = [float(np.average((proj[labels == k] - m[k]) ** 2, weights=w[labels == k]))
           for k in (0, 1)]
    return (m[0], m[1]), float(np.sqrt(max((var[0] + var[1]) / 2, 1e-9)))


def smooth(evidence: np.ndarray, change_prior: np.ndarray) -> np.ndarray:
    """Two-state Viterbi: labels 0/1 per unit. evidence is the log-odds of state 1."""
    n = len(evidence)
    stay = np.log1p(-change_prior)
    switch = np.log(change_prior)
    score = np.array([-evidence[0] / 2, evidence[0] / 2])
    back = np.zeros((n, 2), dtype=int)
    for i in range(1, n):
        emit = np.array([-evidence[i] / 2, evidence[i] / 2])
        keep = score + stay[i]
        cross = score[::-1] + switch[i]
        back[i] = np.where(keep >= cross, [0, 1], [1, 0])
        score = np.maximum(keep, cross) + emit
    labels = np.zeros(n, dtype=int)
    labels[-1] = int(np.argmax(score))
    for i in range(n - 1, 0, -1):
        labels[i - 1] = back[i, labels[i]]
    return labels
