"""Long-form ASR: windows cut at quiet points, timestamps shifted back, one merged transcript.

Boundary choice and merging run on synthetic arrays with a stand-in model that answers
like faster-whisper; the identity "short audio = direct transcribe" uses the real model.
"""

from __future__ import annotations

from dataclasses import asdict
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from pipelines.asr import AsrOptions, load_model, transcribe
from pipelines.audio import SAMPLE_RATE, decode_to_memmap, sha256_file
from pipelines.longform import merge_transcripts, quietest_point, transcribe_long, window_bounds
from pipelines.types import Segment, Transcript, Word
from tests.conftest import REPO

CLIP = REPO / "tests" / "fixtures" / "asr_short" / "audio.ogg"


class FakeModel:
    """Answers ``transcribe`` with one two-word segment per window, at 1.0-2.0 s."""

    def __init__(self) -> None:
        self.windows: list[int] = []

    def transcribe(self, samples: np.ndarray, **_: object):
        self.windows.append(len(samples))
        n = len(self.windows)
        words = [SimpleNamespace(start=1.0, end=1.5, word=" hello", probability=0.9),
                 SimpleNamespace(start=1.5, end=2.0, word=f" w{n}", probability=0.8)]
        seg = SimpleNamespace(text=f" hello w{n}", start=1.0, end=2.0, words=words,
                              avg_logprob=-0.1, no_speech_prob=0.01, compression_ratio=1.2)
        return iter([seg]), SimpleNamespace(language="en")


def noise_with_gaps(seconds: float, gaps: list[float], seed: int = 0) -> np.ndarray:
    """Loud noise with 300 ms of silence centred on each time in ``gaps``."""
    samples = np.random.default_rng(seed).uniform(-0.5, 0.5, int(seconds * SAMPLE_RATE))
    for t in gaps:
        centre = int(t * SAMPLE_RATE)
        samples[centre - int(0.15 * SAMPLE_RATE): centre + int(0.15 * SAMPLE_RATE)] = 0.0
    return samples.astype(np.float32)


def test_cuts_land_in_the_quietest_spot_near_each_boundary() -> None:
    samples = noise_with_gaps(250, gaps=[93.0, 196.5])
    cuts = window_bounds(samples, chunk_s=100)
    assert cuts[0] == 0 and cuts[-1] == len(samples) and len(cuts) == 4
    # The quiet 200 ms lies wholly inside the 300 ms gap: its middle is within 50 ms.
    assert abs(cuts[1] / SAMPLE_RATE - 93.0) <= 0.051
    assert abs(cuts[2] / SAMPLE_RATE - 196.5) <= 0.051  # searched around 93 + 100 s


def test_cut_without_a_quiet_spot_stays_within_the_search_range() -> None:
    samples = noise_with_gaps(150, gaps=[])
    cuts = window_bounds(samples, chunk_s=100, search_s=10)
    assert len(cuts) == 3 and 90 * SAMPLE_RATE <= cuts[1] <= 110 * SAMPLE_RATE


def test_silence_is_cut_near_the_nominal_boundary() -> None:
    silence = np.zeros(10 * SAMPLE_RATE, dtype=np.float32)
    assert abs(quietest_point(silence, 0, len(silence), 3200) - 5 * SAMPLE_RATE) < 200


def test_short_audio_is_one_window() -> None:
    assert window_bounds(np.zeros(5 * SAMPLE_RATE, np.float32), chunk_s=10) == [0, 80000]


def test_windows_are_shifted_reindexed_and_merged() -> None:
    samples = noise_with_gaps(250, gaps=[93.0, 196.5])
    model, options, seen = FakeModel(), AsrOptions(), []
    result = transcribe_long(model, samples, options, progress=seen.append, chunk_s=100)
    cuts = window_bounds(samples, chunk_s=100)
    assert model.windows == [b - a for a, b in pairwise(cuts)]
    assert [s.idx for s in result.segments] == [0, 1, 2]
    for seg, start in zip(result.segments, cuts[:-1], strict=True):
        offset = round(start / SAMPLE_RATE, 3)
        assert seg.start == pytest.approx(offset + 1.0, abs=1e-3)
        assert [w.start for w in seg.words] == pytest.approx([offset + 1.0, offset + 1.5],
                                                            abs=1e-3)
    assert [s.text for s in result.segments] == ["hello w1", "hello w2", "hello w3"]
    assert result.duration_s == pytest.approx(250.0)
    assert result.options == asdict(options) and result.input_sha256 == ""
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_merge_keeps_fingerprint_options_and_order() -> None:
    def part(text: str) -> Transcript:
        seg = Segment(0, 0.5, 1.0, text, words=(Word(0.5, 1.0, f" {text}", 0.9),))
        return Transcript((seg,), "en", 10.0, "m")

    merged = merge_transcripts([(0.0, part("a")), (10.0, part("b"))], 20.0, AsrOptions(),
                               "f" * 64)
    assert [(s.idx, s.start, s.text) for s in merged.segments] == [(0, 0.5, "a"), (1, 10.5, "b")]
    assert merged.segments[1].words[0].end == 11.0
    assert merged.input_sha256 == "f" * 64 and merged.model == "m"
    assert merged.duration_s == 20.0 and merged.options == asdict(AsrOptions())


def test_a_file_is_decoded_to_a_memmap_and_fingerprinted(tmp_path: Path) -> None:
    result = transcribe_long(FakeModel(), CLIP, chunk_s=5)
    assert result.input_sha256 == sha256_file(CLIP) and len(result.segments) > 1


@pytest.fixture(scope="module")
def model():
    return load_model(AsrOptions())


@pytest.mark.slow
def test_short_audio_gives_exactly_the_direct_transcript(model, tmp_path: Path) -> None:
    direct = transcribe(model, CLIP)
    assert transcribe_long(model, CLIP) == direct
    samples = decode_to_memmap(CLIP, tmp_path)
    assert transcribe_long(model, samples) == transcribe(model, np.asarray(samples))


@pytest.mark.slow
def test_long_audio_in_windows_keeps_timestamps_monotonic(model) -> None:
    """The clip three times over, in ~clip-length windows: same words, times in order."""
    from pipelines.audio import load_samples

    clip = load_samples(CLIP)
    pause = np.zeros(SAMPLE_RATE, dtype=np.float32)
    samples = np.concatenate([clip, pause, clip, pause, clip])
    chunk_s = (len(clip) + len(pause)) / SAMPLE_RATE
    result = transcribe_long(model, samples, chunk_s=chunk_s)
    once = transcribe(model, clip)
    assert len(result.segments) >= 2 * len(once.segments)
    ends = [s.end for s in result.segments]
    assert ends == sorted(ends) and ends[-1] <= len(samples) / SAMPLE_RATE + 0.5
    assert [s.idx for s in result.segments] == list(range(len(result.segments)))
