"""Speaker turns: two voices told apart, segments split where the speaker changes, and the
clinician found by what they say."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipelines.asr import AsrOptions, load_model, transcribe
from pipelines.audio import SAMPLE_RATE, load_samples
from pipelines.diarize import DIARIZER_VERSION, DiarizeOptions, assign_speakers, lexical_score
from pipelines.synth import SynthOptions, Turn, synthesize_dialogue
from pipelines.types import Segment, Transcript
from tests.conftest import REPO, make_transcript, make_words

FIXTURE = REPO / "tests" / "fixtures" / "asr_short"

# One Whisper-style segment per line; "|" marks where the voice changes inside it.
_SCRIPT = [
    "Good morning, what brings you in today? | I have had a cough for a week.",
    "Is it dry or are you bringing anything up? | Mostly dry, and it is worse at night.",
    "Any fever or chills? | No fever, but I feel tired all the time.",
    "Okay, let me listen to your chest now. | Sure, go ahead.",
]


def _voice(pitch_hz: float, seconds: float, tilt: float) -> np.ndarray:
    """A buzzy vowel-like tone: harmonics of pitch_hz with a speaker-specific tilt."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    wobble = 1 + 0.03 * np.sin(2 * np.pi * 4 * t)
    phase = 2 * np.pi * pitch_hz * np.cumsum(wobble) / SAMPLE_RATE
    wave = sum(np.sin(k * phase) / k**tilt for k in range(1, 20) if k * pitch_hz < 7000)
    return (0.1 * wave).astype(np.float32)


def _two_voice_case(one_voice: bool = False) -> tuple[Transcript, np.ndarray, list[str]]:
    """Segments that each span clinician then patient, with tone 'voices' under the words.

    Returns the transcript, the samples and the true role of every word."""
    segments, pieces, truth, t = [], [], [], 0.0
    for i, line in enumerate(_SCRIPT):
        words: list = []
        for role, part in zip(("clinician", "patient"), line.split("|"), strict=True):
            n = len(part.split())
            span = make_words(part.strip(), t, t + 0.4 * n)
            words += list(span)
            pitch, tilt = (110.0, 1.0) if role == "clinician" or one_voice else (220.0, 2.0)
            pieces.append(_voice(pitch, 0.4 * n, tilt))
            truth += [role] * n
            t += 0.4 * n
        # Whisper words carry their leading space, the first of a segment does not matter.
        words = [w if j == 0 else type(w)(w.start, w.end, " " + w.text.strip(), w.probability)
                 for j, w in enumerate(words)]
        text = "".join(w.text for w in words).strip()
        segments.append(Segment(i, words[0].start, words[-1].end, text, "unknown",
                                tuple(words), -0.3))
        pieces.append(np.zeros(int(0.5 * SAMPLE_RATE), np.float32))
        t += 0.5
    samples = np.concatenate(pieces)
    return Transcript(tuple(segments), "en", t, "test-model", "0" * 64), samples, truth


def _words(transcript: Transcript) -> list:
    return [w for s in transcript.segments for w in s.words]


def test_lexical_cues_point_the_right_way() -> None:
    assert lexical_score("How long have you had the cough? Any fever?") > 0
    assert lexical_score("I've had a headache and my chest hurts.") < 0


def test_without_separable_voices_words_decide() -> None:
    transcript = make_transcript(
        [("unknown", "What brings you in today?"), ("unknown", "I have had a cough for a week.")]
    )
    silence = np.zeros(int(transcript.duration_s * SAMPLE_RATE) + SAMPLE_RATE, np.float32)
    labelled = assign_speakers(transcript, silence)
    assert [s.speaker for s in labelled.segments] == ["clinician", "patient"]
    assert [s.text for s in labelled.segments] == [s.text for s in transcript.segments]


def test_empty_transcript_is_unchanged() -> None:
    empty = make_transcript([])
    assert assign_speakers(empty, np.zeros(SAMPLE_RATE, np.float32)) == empty


def test_segments_spanning_two_voices_are_split_and_words_kept() -> None:
    transcript, samples, truth = _two_voice_case()
    labelled = assign_speakers(transcript, samples)
    # The words are exactly the input words, in order; every segment is self-consistent.
    assert _words(labelled) == _words(transcript)
    assert [s.idx for s in labelled.segments] == list(range(len(labelled.segments)))
    for seg in labelled.segments:
        assert seg.text == "".join(w.text for w in seg.words).strip()
        assert seg.start <= seg.words[0].start and seg.end >= seg.words[-1].end
        assert seg.speaker in ("clinician", "patient")
    assert len(labelled.segments) == 2 * len(transcript.segments)
    got = [s.speaker for s in labelled.segments for _ in s.words]
    assert got == truth


def test_one_voice_does_not_crash_and_keeps_words() -> None:
    transcript, samples, _ = _two_voice_case(one_voice=True)
    labelled = assign_speakers(transcript, samples)
    assert _words(labelled) == _words(transcript)
    assert {s.speaker for s in labelled.segments} <= {"clinician", "patient"}


def test_diarization_is_deterministic() -> None:
    transcript, samples, _ = _two_voice_case()
    options = DiarizeOptions()
    assert assign_speakers(transcript, samples, options) == assign_speakers(
        transcript, samples, options
    )
    assert DIARIZER_VERSION.endswith(".v2")


@pytest.fixture(scope="module")
def asr_model():
    return load_model(AsrOptions())


def _word_accuracy(labelled: Transcript, turns: list) -> float:
    """Share of recognised words whose speaker is the turn under the word's midpoint."""
    right = total = 0
    for seg in labelled.segments:
        for w in seg.words:
            mid = (w.start + w.end) / 2
            truth = min(turns, key=lambda t: 0 if t.start <= mid <= t.end
                        else min(abs(mid - t.start), abs(mid - t.end)))
            right += seg.speaker == truth.speaker
            total += 1
    return right / total


@pytest.mark.slow
def test_two_synthetic_voices_get_the_right_roles(asr_model) -> None:
    turns = json.loads((FIXTURE / "turns.json").read_text())
    samples = load_samples(FIXTURE / "audio.ogg")
    labelled = assign_speakers(transcribe(asr_model, samples), samples)
    for seg in labelled.segments:
        truth = max(turns, key=lambda t: min(seg.end, t["end"]) - max(seg.start, t["start"]))
        assert seg.speaker == truth["speaker"], seg.text


@pytest.mark.slow
def test_whisper_segment_across_a_change_of_speaker_is_split(asr_model, tmp_path: Path) -> None:
    script = [
        Turn("clinician", "Good morning. What brings you in today?"),
        Turn("patient", "I have had a bad cough for about ten days and it keeps me up."),
        Turn("clinician", "Do you have any fever? How about shortness of breath?"),
        Turn("patient", "No fever, but I get winded walking up the stairs at home."),
    ]
    # No gap between turns: Whisper then runs one segment across both voices.
    timings = synthesize_dialogue(script, tmp_path / "a.wav", SynthOptions(gap_seconds=0.0))
    samples = load_samples(tmp_path / "a.wav")
    recognised = transcribe(asr_model, samples)
    # Whisper decides its own segments; merge them so one segment certainly spans all four
    # turns, as on real recordings (the words and their timings stay Whisper's).
    words = _words(recognised)
    merged = Segment(0, recognised.segments[0].start, recognised.segments[-1].end,
                     "".join(w.text for w in words).strip(), "unknown", tuple(words), -0.3)
    transcript = recognised.with_segments((merged,))
    labelled = assign_speakers(transcript, samples)
    assert _words(labelled) == _words(transcript)
    assert len(labelled.segments) > len(transcript.segments)
    assert _word_accuracy(labelled, timings) >= 0.9


@pytest.mark.slow
def test_one_synthetic_speaker_does_not_crash(asr_model, tmp_path: Path) -> None:
    script = [Turn("clinician", "Take one tablet twice a day with food."),
              Turn("clinician", "Come back in two weeks and we will check your blood pressure.")]
    synthesize_dialogue(script, tmp_path / "one.wav")
    samples = load_samples(tmp_path / "one.wav")
    transcript = transcribe(asr_model, samples)
    labelled = assign_speakers(transcript, samples)
    assert _words(labelled) == _words(transcript)
    assert {s.speaker for s in labelled.segments} <= {"clinician", "patient"}
