"""Frame-level voice features with numpy only: MFCCs and pitch every 20 ms.

Computed once per recording (one FFT pass), then averaged over any stretch of words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.audio import SAMPLE_RATE

HOP_S = 0.02  # speaker features need word, not phone, resolution: 20 ms halves the cost
_FRAME = 400  # 25 ms spectral frames
_HOP = int(HOP_S * SAMPLE_RATE)
_NFFT = 512
_DECIMATE = 4  # pitch is estimated at 4 kHz: enough for 60-400 Hz, much cheaper
_PITCH_FRAME = 160  # 40 ms at 4 kHz: two periods of a 50 Hz voice
_PITCH_NFFT = 256  # >= frame + longest lag, so the autocorrelation does not wrap
_N_MELS = 24
_N_MFCC = 12  # c1..c12; c0 (loudness) is dropped so distance from the microphone matters less
_CHUNK = 4096  # frames per FFT batch: bounds memory on long recordings


@dataclass(frozen=True)
class FrameFeatures:
    """Per-frame features of a whole recording (frame i starts at i*HOP_S).

    mfcc: (n, 12) cepstra, mean-normalised over the recording's speech frames.
    log_pitch: (n,) log f0 in Hz where voiced, NaN elsewhere.
    speech: (n,) True for frames loud enough to be speech.
    """

    mfcc: np.ndarray
    log_pitch: np.ndarray
    speech: np.ndarray

    def __len__(self) -> int:
        return len(self.speech)


def frame_features(
    samples: np.ndarray, min_pitch_hz: float = 60.0, max_pitch_hz: float = 400.0
) -> FrameFeatures:
    """MFCCs, pitch and a speech mask for every 20 ms frame of 16 kHz mono samples."""
    x = np.asarray(samples, dtype=np.float32)
    n = 0 if len(x) < _FRAME else 1 + (len(x) - _FRAME) // _HOP
    if n == 0:
        empty = np.zeros((0, _N_MFCC), np.float32)
        return FrameFeatures(empty, np.zeros(0, np.float32), np.zeros(0, bool))
    window = np.hanning(_FRAME).astype(np.float32)
    mel = _mel_matrix()
    dct = _dct_matrix()
    rate = SAMPLE_RATE // _DECIMATE
    lo, hi = int(rate / max_pitch_hz), int(rate / min_pitch_hz)
    # Block averaging is a crude low-pass; good enough for an autocorrelation peak.
    low = x[: len(x) // _DECIMATE * _DECIMATE].reshape(-1, _DECIMATE).mean(axis=1)
    low = np.concatenate([low, np.zeros(_PITCH_FRAME, np.float32)])
    p_window = np.hanning(_PITCH_FRAME).astype(np.float32)
    p_offsets = np.arange(_PITCH_FRAME)
    mfcc = np.empty((n, _N_MFCC), np.float32)
    log_pitch = np.full(n, np.nan, np.float32)
    energy = np.empty(n, np.float32)
    offsets = np.arange(_FRAME)
    for first in range(0, n, _CHUNK):
        idx = _HOP * np.arange(first, min(first + _CHUNK, n))[:, None] + offsets[None, :]
        frames = x[idx] * window
        power = np.abs(np.fft.rfft(frames, n=_NFFT, axis=1)) ** 2
        sl = slice(first, first + len(frames))
        energy[sl] = power.sum(axis=1)
        mfcc[sl] = np.log(power @ mel.T + 1e-10) @ dct.T
        # Pitch from the autocorrelation (inverse FFT of the power spectrum).
        p_idx = (_HOP // _DECIMATE) * np.arange(first, first + len(frames))[:, None] + p_offsets
        p_power = np.abs(np.fft.rfft(low[p_idx] * p_window, n=_PITCH_NFFT, axis=1)) ** 2
        ac = np.fft.irfft(p_power, axis=1)[:, : hi + 1]
        lags = ac[:, lo:hi]
        best = lags.argmax(axis=1)
        strength = lags[np.arange(len(lags)), best] / (ac[:, 0] + 1e-9)
        voiced = strength > 0.35
        log_pitch[sl] = np.where(voiced, np.log(rate / (best + lo)), np.nan)
    log_e = np.log(energy + 1e-10)
    # Speech: within 30 dB (natural log ~7) of the loud frames; robust to the noise floor.
    speech = log_e > np.percentile(log_e, 95) - 7.0
    log_pitch[~speech] = np.nan
    if speech.any():
        mfcc -= mfcc[speech].mean(axis=0)
    return FrameFeatures(mfcc, log_pitch, speech)


def span_frames(start_s: float, end_s: float, n_frames: int) -> slice:
    """Frames whose centre lies in [start_s, end_s]."""
    centre = _FRAME / 2 / SAMPLE_RATE
    first = max(int(np.ceil((start_s - centre) / HOP_S)), 0)
    last = min(int(np.floor((end_s - centre) / HOP_S)) + 1, n_frames)
    return slice(first, max(first, last))


def _mel_matrix() -> np.ndarray:
    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    edges_mel = np.linspace(hz_to_mel(60.0), hz_to_mel(7600.0), _N_MELS + 2)
    edges = 700.0 * (10 ** (edges_mel / 2595.0) - 1.0)
    freqs = np.fft.rfftfreq(_NFFT, 1 / SAMPLE_RATE)
    bank = np.zeros((_N_MELS, len(freqs)), np.float32)
    for m in range(_N_MELS):
        left, centre, right = edges[m : m + 3]
        rise = (freqs - left) / (centre - left)
        fall = (right - freqs) / (right - centre)
        bank[m] = np.clip(np.minimum(rise, fall), 0.0, None)
    return bank


def _dct_matrix() -> np.ndarray:
    k = np.arange(1, _N_MFCC + 1)[:, None]
    m = np.arange(_N_MELS)[None, :]
    return np.cos(np.pi * k * (m + 0.5) / _N_MELS).astype(np.float32)
