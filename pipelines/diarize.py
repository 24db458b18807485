"""Speaker turns for a mono recording of two people: clinician and patient.

First version, kept simple and explainable: each segment gets a voice fingerprint
(median pitch and spectral centroid of its voiced frames); two-means clustering splits
the segments into two voices, and the voice whose words sound like the clinician
(questions, "your", "we'll", instructions) is the clinician. When the two voices are not
acoustically separable, each segment is labelled from its words alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from pipelines.audio import SAMPLE_RATE
from pipelines.types import Segment, Transcript

DIARIZER_VERSION = "diarize.pitch-kmeans.v1"

_CLINICIAN_CUES = re.compile(
    r"\b(you|your|you're|you've|we'll|we|let's|i'll|recommend|prescribe|prescribing|exam|"
    r"examine|take a look|how long|any|tell me|sounds like|follow up|come back|order|"
    r"start you|increase|decrease|doctor|dr)\b",
    re.IGNORECASE,
)
_PATIENT_CUES = re.compile(r"\b(i|i'm|i've|my|me|mine|doc|doctor's)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DiarizeOptions:
    """min_separation: how far apart (in pooled standard deviations) the two voice
    clusters must be to trust the acoustics; below it, words alone decide."""

    min_separation: float = 1.5
    min_pitch_hz: float = 60.0
    max_pitch_hz: float = 400.0


def assign_speakers(
    transcript: Transcript, samples: np.ndarray, options: DiarizeOptions = DiarizeOptions()
) -> Transcript:
    """Return the transcript with every segment labelled clinician or patient."""
    segments = transcript.segments
    if not segments:
        return transcript
    features = np.array([_voice_features(samples, s, options) for s in segments])
    lexical = np.array([lexical_score(s.text) for s in segments])
    clusters = _two_means(features, options.min_separation)
    if clusters is None:
        roles = ["clinician" if score > 0 else "patient" for score in lexical]
    else:
        # The first speaker greets: a small prior that breaks ties towards the clinician.
        scores = [lexical[clusters == k].sum() for k in (0, 1)]
        scores[int(clusters[0])] += 0.5
        clinician_cluster = int(np.argmax(scores))
        roles = ["clinician" if c == clinician_cluster else "patient" for c in clusters]
    labelled = tuple(replace(s, speaker=role) for s, role in zip(segments, roles, strict=True))
    return transcript.with_segments(labelled)


def lexical_score(text: str) -> float:
    """Positive when the words sound like the clinician, negative like the patient."""
    words = max(len(text.split()), 1)
    questions = text.count("?")
    clinician = len(_CLINICIAN_CUES.findall(text)) + 2 * questions
    patient = len(_PATIENT_CUES.findall(text))
    return (clinician - patient) / words**0.5


def _voice_features(samples: np.ndarray, segment: Segment, options: DiarizeOptions) -> list[float]:
    chunk = samples[int(segment.start * SAMPLE_RATE) : int(segment.end * SAMPLE_RATE)]
    pitch, centroid = _pitch_and_centroid(chunk, options)
    return [np.log(pitch) if pitch > 0 else np.nan, centroid]


def _pitch_and_centroid(chunk: np.ndarray, options: DiarizeOptions) -> tuple[float, float]:
    frame, hop = int(0.04 * SAMPLE_RATE), int(0.01 * SAMPLE_RATE)
    if len(chunk) < frame:
        return 0.0, float("nan")
    n_frames = 1 + (len(chunk) - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n_frames)[:, None]
    frames = chunk[idx] * np.hanning(frame)
    energy = (frames**2).mean(axis=1)
    loud = frames[energy > 0.1 * np.median(energy[energy > 0]) if energy.any() else energy > 0]
    if len(loud) == 0:
        return 0.0, float("nan")
    spectrum = np.abs(np.fft.rfft(loud, n=2 * frame, axis=1))
    freqs = np.fft.rfftfreq(2 * frame, 1 / SAMPLE_RATE)
    centroid = float(np.median((spectrum * freqs).sum(axis=1) / (spectrum.sum(axis=1) + 1e-9)))
    autocorr = np.fft.irfft(spectrum**2, axis=1)[:, :frame]
    lo = int(SAMPLE_RATE / options.max_pitch_hz)
    hi = int(SAMPLE_RATE / options.min_pitch_hz)
    lags = autocorr[:, lo:hi]
    best = lags.argmax(axis=1)
    strength = lags[np.arange(len(lags)), best] / (autocorr[:, 0] + 1e-9)
    voiced = strength > 0.3
    if not voiced.any():
        return 0.0, centroid
    pitch = float(np.median(SAMPLE_RATE / (best[voiced] + lo)))
    return pitch, centroid


def _two_means(features: np.ndarray, min_separation: float) -> np.ndarray | None:
    """Cluster labels (0/1) for each row, or None if two voices cannot be told apart."""
    usable = ~np.isnan(features).any(axis=1)
    if usable.sum() < 2:
        return None
    # Robust scaling (median / IQR, clipped) so one odd segment (a cough, a click) cannot
    # pull a cluster centre away from the two voices.
    median = np.nanmedian(features, axis=0)
    q75, q25 = np.nanpercentile(features, [75, 25], axis=0)
    x = np.clip((features - median) / ((q75 - q25) / 1.349 + 1e-9), -4.0, 4.0)
    x[~usable] = 0.0
    pts = x[usable]
    # Deterministic start: the segments nearest the 10th and 90th pitch percentiles.
    lo, hi = np.percentile(pts[:, 0], [10, 90])
    centres = np.stack([pts[np.abs(pts[:, 0] - lo).argmin()], pts[np.abs(pts[:, 0] - hi).argmin()]])
    labels = np.full(len(x), -1)
    for _ in range(50):
        new = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        if (new == labels).all():
            break
        labels = new
        for k in (0, 1):
            members = pts[labels[usable] == k]
            if len(members):
                centres[k] = members.mean(axis=0)
    if len(set(labels[usable])) < 2:
        return None
    spread = np.sqrt(np.mean([pts[labels[usable] == k].var(axis=0).sum() for k in (0, 1)]))
    separation = float(np.linalg.norm(centres[0] - centres[1]) / (spread + 1e-9))
    return labels if separation >= min_separation else None
