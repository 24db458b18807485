"""Tests for pipelines.synth: script parsing and two-voice dialogue synthesis."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipelines.synth import SynthOptions, Turn, parse_script, synthesize_dialogue

FIXTURE = Path(__file__).parent / "fixtures" / "asr_short"


def test_parse_script_reads_turns_and_skips_comments_and_blanks() -> None:
    text = "# a comment\n\nCLINICIAN: Good morning.\npatient :  I have a   cough.\n"
    assert parse_script(text) == [
        Turn("clinician", "Good morning."),
        Turn("patient", "I have a cough."),
    ]


def test_parse_script_keeps_colons_inside_text() -> None:
    turns = parse_script("CLINICIAN: Plan: metformin 500 milligrams twice a day.")
    assert turns == [Turn("clinician", "Plan: metformin 500 milligrams twice a day.")]


@pytest.mark.parametrize(
    ("text", "lineno"),
    [
        ("CLINICIAN: Hello.\nNURSE: Hi there.", 2),
        ("CLINICIAN: Hello.\n# ok\nno prefix at all", 3),
        ("PATIENT:   ", 1),
    ],
)
def test_parse_script_rejects_malformed_line_with_its_number(text: str, lineno: int) -> None:
    with pytest.raises(ValueError, match=rf"line {lineno}\b"):
        parse_script(text)


def test_options_reject_unknown_speaker() -> None:
    with pytest.raises(ValueError, match="unknown speaker"):
        SynthOptions().voice("nurse")


def test_fixture_script_matches_its_turn_timings() -> None:
    turns = parse_script((FIXTURE / "script.txt").read_text(encoding="utf-8"))
    timings = json.loads((FIXTURE / "turns.json").read_text(encoding="utf-8"))
    assert [(t.speaker, t.text) for t in turns] == [(t["speaker"], t["text"]) for t in timings]
    assert 15.0 <= timings[-1]["end"] <= 25.0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_synthesize_two_turns_decodes_with_exact_timings(tmp_path: Path) -> None:
    from faster_whisper import decode_audio

    turns = [
        Turn("clinician", "Good morning, what brings you in today?"),
        Turn("patient", "I have had a dry cough for three days."),
    ]
    options = SynthOptions()
    out = tmp_path / "dialogue.ogg"
    timings = synthesize_dialogue(turns, out, options)

    audio = decode_audio(str(out), sampling_rate=16000)
    duration = len(audio) / 16000
    assert duration == pytest.approx(timings[-1].end + options.tail_seconds, abs=0.1)
    assert [t.speaker for t in timings] == ["clinician", "patient"]
    assert [t.text for t in timings] == [t.text for t in turns]
    previous_end = 0.0
    for t in timings:
        assert previous_end <= t.start < t.end
        previous_end = t.end
    # The gap between turns is exactly the configured silence.
    assert timings[1].start - timings[0].end == pytest.approx(options.gap_seconds, abs=1e-3)


def test_synthesize_rejects_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="suffix"):
        synthesize_dialogue([Turn("clinician", "Hello.")], tmp_path / "x.mp3")
