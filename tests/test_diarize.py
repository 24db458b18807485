"""Speaker turns: two voices told apart, and the clinician found by what they say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.asr import AsrOptions, load_model, transcribe
from pipelines.audio import SAMPLE_RATE, load_samples
from pipelines.diarize import assign_speakers, lexical_score
from tests.conftest import REPO, make_transcript

FIXTURE = REPO / "tests" / "fixtures" / "asr_short"


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


@pytest.mark.slow
def test_two_synthetic_voices_get_the_right_roles() -> None:
    turns = json.loads((FIXTURE / "turns.json").read_text())
    samples = load_samples(FIXTURE / "audio.ogg")
    transcript = transcribe(load_model(AsrOptions()), samples)
    labelled = assign_speakers(transcript, samples)
    for seg in labelled.segments:
        truth = max(turns, key=lambda t: min(seg.end, t["end"]) - max(seg.start, t["start"]))
        assert seg.speaker == truth["speaker"], seg.text
