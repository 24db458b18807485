"""Dictation mode: spoken punctuation and commands, false triggers, real ASR dictations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipelines.asr import AsrOptions
from pipelines.audio import SAMPLE_RATE, AudioError
from pipelines.dictation import (
    DictationOptions,
    DictationResult,
    dictation_asr_options,
    interpret,
)
from pipelines.types import Segment, Transcript, Word
from tests.conftest import make_words

SOAP = ("subjective", "objective", "assessment", "plan")


def run(text: str, start: str = "subjective", **opts) -> DictationResult:
    return interpret(text, SOAP, start, DictationOptions(**opts))


def words(*items: tuple[str, float, float]) -> tuple[Word, ...]:
    """Whisper-style words from (text, start, end); text carries its leading space."""
    return tuple(Word(s, e, t, 0.9) for t, s, e in items)


# --- spoken punctuation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("pain period better", "Pain. Better"),
        ("pain full stop better", "Pain. Better"),
        ("pain comma better", "Pain, better"),
        ("any pain question mark better", "Any pain? Better"),
        ("wow exclamation mark better", "Wow! Better"),
        ("wow exclamation point better", "Wow! Better"),
        ("lungs colon clear", "Lungs: clear"),
        ("cough semicolon no fever", "Cough; no fever"),
        ("cough semi colon no fever", "Cough; no fever"),
        ("regular open paren no murmur close paren period", "Regular (no murmur)."),
        ("regular open parenthesis no murmur close parenthesis", "Regular (no murmur)"),
        ("regular open bracket none close bracket", "Regular (none)"),
        ("lungs clear new line heart regular", "Lungs clear\nHeart regular"),
        ("lungs clear newline heart regular", "Lungs clear\nHeart regular"),
        ("lungs clear period new paragraph heart regular", "Lungs clear.\n\nHeart regular"),
        ("lungs clear next paragraph heart regular", "Lungs clear\n\nHeart regular"),
    ],
)
def test_each_spoken_mark(spoken: str, written: str) -> None:
    assert run(spoken).text["subjective"] == written


def test_whisper_punctuated_and_capitalised_command_words() -> None:
    source = words(
        (" Patient", 0.0, 0.4), (" reports", 0.4, 0.8), (" cough,", 0.8, 1.2),
        (" Period.", 1.2, 1.6), (" New", 1.7, 1.9), (" paragraph,", 1.9, 2.3),
        (" Fever", 2.4, 2.8), (" question", 2.8, 3.1), (" mark?", 3.1, 3.4),
        (" Scratch", 3.5, 3.8), (" that.", 3.8, 4.0), (" Denies", 4.1, 4.5),
        (" fever.", 4.5, 4.9), (" Period,", 4.9, 5.2), (" Next", 5.3, 5.5),
        (" section.", 5.5, 5.9), (" Vitals", 6.0, 6.4), (" stable", 6.4, 6.8),
        ("-period", 6.8, 7.1),
    )
    result = interpret(source, SOAP, "subjective")
    assert result.text["subjective"] == "Patient reports cough.\n\nDenies fever."
    assert result.text["objective"] == "Vitals stable."
    assert [c.command for c in result.commands] == [
        "period", "new paragraph", "question mark", "scratch that", "period",
        "next section", "period",
    ]
    assert result.commands[0].time_s == 1.2 and result.commands[0].word_index == 3


def test_whisper_sentence_capitals_are_undone_but_names_and_terms_kept() -> None:
    source = words(
        (" Started", 0.0, 0.3), (" on", 0.3, 0.5), (" aspirin.", 0.5, 0.9),
        (" Also", 1.0, 1.3), (" Metformin", 1.3, 1.8), (" per", 1.8, 2.0), (" I", 2.0, 2.1),
        (" think", 2.1, 2.3), (" COPD", 2.3, 2.6), (" comma", 2.6, 2.9), (" Dr.", 3.0, 3.2),
        (" Smith", 3.2, 3.5),
    )
    result = interpret(source, SOAP, "subjective", DictationOptions(terms=("metformin",)))
    assert result.text["subjective"] == (
        "Started on aspirin also metformin per I think COPD, Dr. Smith")


def test_keep_asr_punctuation_option() -> None:
    source = words((" No", 0.0, 0.2), (" fever,", 0.2, 0.5), (" no", 0.6, 0.8),
                   (" cough.", 0.8, 1.1), (" Period", 1.2, 1.5))
    assert interpret(source, SOAP, "subjective").text["subjective"] == "No fever no cough."
    kept = interpret(source, SOAP, "subjective", DictationOptions(keep_asr_punctuation=True))
    assert kept.text["subjective"] == "No fever, no cough."  # spoken "period" replaces "."


def test_glued_words_and_hyphens() -> None:
    source = words((" Chest", 0.0, 0.3), (" x", 0.3, 0.4), ("-ray", 0.4, 0.7),
                   (" clear", 0.7, 1.0), ("-colon", 1.0, 1.3), (" normal", 1.3, 1.6))
    assert interpret(source, SOAP, "objective").text["objective"] == "Chest x-ray clear: normal"


def test_spacing_capitals_and_repeated_marks() -> None:
    result = run("no fever question mark period comma new line new line new paragraph "
                 "open paren see above close paren")
    assert result.text["subjective"] == "No fever,\n\n(See above)"


def test_capitalize_off() -> None:
    assert run("cough period fever", capitalize=False).text["subjective"] == "cough. fever"


# --- editing and navigation ------------------------------------------------------------


def test_scratch_that_removes_last_phrase_with_its_punctuation() -> None:
    result = run("chest pain for two days period blood pressure is high period scratch that "
                 "blood pressure normal period")
    assert result.text["subjective"] == "Chest pain for two days. Blood pressure normal."
    assert result.commands[2].detail == "removed 4 words"


def test_scratch_that_in_the_middle_of_a_sentence() -> None:
    result = run("cough comma worse at night scratch that worse in the morning period")
    assert result.text["subjective"] == "Cough, worse in the morning."


def test_scratch_that_repeated_and_synonyms() -> None:
    result = run("one period two period three period scratch that delete that undo that four")
    assert result.text["subjective"] == "Four"
    assert [c.detail for c in result.commands[-3:]] == [
        "removed 1 words", "removed 1 words", "removed 1 words"]


def test_scratch_that_at_start_does_nothing() -> None:
    result = run("scratch that cough period")
    assert result.text["subjective"] == "Cough."
    assert result.commands[0].command == "scratch that"
    assert result.commands[0].detail == "nothing to scratch"


def test_scratch_that_stays_in_its_section() -> None:
    result = run("cough period next section scratch that pulse ninety")
    assert result.text == {"subjective": "Cough.", "objective": "Pulse ninety",
                           "assessment": "", "plan": ""}


def test_next_and_previous_section() -> None:
    result = run("cough next section pulse ninety next section viral illness previous section "
                 "afebrile")
    assert result.text["subjective"] == "Cough"
    assert result.text["objective"] == "Pulse ninety afebrile"
    assert result.text["assessment"] == "Viral illness"
    assert result.end_section == "objective"


def test_next_section_past_the_last_stays() -> None:
    result = run("rest next section next section fluids", start="plan")
    assert result.text["plan"] == "Rest fluids"
    assert [c.detail for c in result.commands] == ["no such section; stayed"] * 2
    assert result.end_section == "plan"


def test_go_to_section_by_key_heading_and_filler_words() -> None:
    headings = {"subjective": "History of Present Illness", "plan": "Plan"}
    result = interpret("go to the plan section rest period go to history of present illness "
                       "cough period", SOAP, "objective", headings=headings)
    assert result.text["plan"] == "Rest."
    assert result.text["subjective"] == "Cough."
    assert [c.detail for c in result.commands if c.command == "go to"] == [
        "to plan", "to subjective"]


def test_go_to_without_a_section_is_text() -> None:
    assert run("will go to physical therapy").text["subjective"] == (
        "Will go to physical therapy")


# --- false triggers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        ("cough for the period of two weeks period", "Cough for the period of two weeks."),
        ("her last period was in May period", "Her last period was in May."),
        ("missed period for two months period", "Missed period for two months."),
        ("period of observation comma stable", "Period of observation, stable"),
        ("history of colon cancer period", "History of colon cancer."),
        ("mass in the sigmoid colon period", "Mass in the sigmoid colon."),
        ("colon cancer screening due period", "Colon cancer screening due."),
        ("lungs clear colon no wheezes", "Lungs clear: no wheezes"),
        ("blood pressure one forty over ninety period", "Blood pressure one forty over ninety."),
    ],
)
def test_ambiguous_words_as_text(spoken: str, written: str) -> None:
    assert run(spoken).text["subjective"] == written


def test_require_pause_uses_word_timings() -> None:
    fluent = words((" stable", 0.0, 0.4), (" period", 0.4, 0.8), (" review", 0.8, 1.2))
    paused = words((" stable", 0.0, 0.4), (" period", 0.4, 0.8), (" review", 1.4, 1.8))
    punctuated = words((" stable", 0.0, 0.4), (" period.", 0.4, 0.8), (" review", 0.8, 1.2))
    at_end = words((" stable", 0.0, 0.4), (" period", 0.4, 0.8))
    opts = DictationOptions(require_pause=True, pause_s=0.3)
    assert interpret(fluent, SOAP, "plan", opts).text["plan"] == "Stable period review"
    assert interpret(paused, SOAP, "plan", opts).text["plan"] == "Stable. Review"
    assert interpret(punctuated, SOAP, "plan", opts).text["plan"] == "Stable. Review"
    assert interpret(at_end, SOAP, "plan", opts).text["plan"] == "Stable."
    # Without the option the fluent form counts too (the default).
    assert interpret(fluent, SOAP, "plan").text["plan"] == "Stable. Review"


# --- inputs, result and options --------------------------------------------------------


def test_empty_input() -> None:
    for source in ("", "   ", (), Transcript((), "en", 0.0, "m")):
        result = interpret(source, SOAP, "subjective")
        assert result.text == dict.fromkeys(SOAP, "")
        assert result.commands == () and result.dictated_sections == ()
        assert result.end_section == "subjective"


def test_only_commands() -> None:
    result = run("period comma new paragraph next section")
    assert result.text["subjective"] == "Period,"  # a leading "period" has nothing to end
    assert result.end_section == "objective"
    scratched = run("period comma new paragraph scratch that")
    assert scratched.text["subjective"] == ""
    assert scratched.commands[-1].detail == "removed 1 words"


def test_unknown_start_section_is_refused() -> None:
    with pytest.raises(ValueError, match="start section"):
        interpret("cough", SOAP, "history")


def test_transcript_input_uses_segment_words() -> None:
    first = "Cough for two days period."
    second = "Next section. Pulse 90."
    t = Transcript(
        (Segment(0, 0.0, 2.0, first, words=make_words(first, 0.0, 2.0)),
         Segment(1, 2.5, 4.0, second, words=make_words(second, 2.5, 4.0))),
        "en", 4.0, "m",
    )
    result = interpret(t, SOAP, "subjective")
    assert result.text["subjective"] == "Cough for two days."
    assert result.text["objective"] == "Pulse 90"
    assert result.raw_text.startswith("Cough for two days period")


def test_result_sentences_paragraphs_and_options() -> None:
    result = run("cough for two days period no fever period new paragraph smoker period")
    assert result.paragraphs("subjective") == ("Cough for two days. No fever.", "Smoker.")
    assert result.sentences("subjective") == ("Cough for two days.", "No fever.", "Smoker.")
    assert tuple(result.options["ambiguous_words"]) == ("period", "colon")
    assert result.with_model("m").model == "m"


def test_dictation_asr_options() -> None:
    base = AsrOptions(beam_size=3)
    opts = dictation_asr_options(base, ["metformin", " metformin ", "atorvastatin", ""])
    assert opts.beam_size == 3 and opts.condition_on_previous_text is False
    assert "scratch that" in opts.initial_prompt and "next section" in opts.initial_prompt
    assert opts.hotwords == "metformin, atorvastatin"
    assert dictation_asr_options(base, []).hotwords is None


def test_dictate_bytes_refuses_bad_audio() -> None:
    from workbench.dictation import dictate, dictate_bytes

    with pytest.raises(AudioError, match="empty"):
        dictate_bytes(None, b"", SOAP, "subjective")
    with pytest.raises(AudioError, match="decoded"):
        dictate_bytes(None, b"not audio" * 100, SOAP, "subjective")
    with pytest.raises(AudioError, match="too short"):
        dictate(None, np.zeros(SAMPLE_RATE // 10, dtype=np.float32), SOAP, "subjective")


def test_panel_renders_without_audio() -> None:
    from streamlit.testing.v1 import AppTest

    def app() -> None:
        import streamlit as st

        from workbench.ui.dictation_panel import dictation_panel

        st.session_state["returned"] = dictation_panel(
            "dict", ("subjective", "plan"), {"plan": "Plan"}, "plan")

    at = AppTest.from_function(app).run(timeout=30)
    assert not at.exception
    assert at.selectbox(key="dict-start").value == "plan"
    assert at.session_state["returned"] is None


# --- real speech: synthesised dictations through tiny.en ---------------------------------

# Phrases are voiced separately with a short gap, as a clinician pauses around commands.
DICTATIONS = {
    "scratch": "Patient reports chest pain for two days period | blood pressure one forty over "
               "ninety period | new paragraph | scratch that | next section | start ibuprofen "
               "four hundred milligrams daily period",
    "false_trigger": "Cough for the period of two weeks comma | worse at night period | no fever "
                     "question mark | scratch that | denies fever period | go to plan | chest x "
                     "ray today period",
    "layout": "Lungs clear colon | no wheezes period | new line | heart regular | open paren | "
              "no murmur | close paren | period | next section",
    "drugs": "Type two diabetes period | go to plan | continue metformin five hundred milligrams "
             "twice daily period | start atorvastatin ten milligrams period | next section",
}
TERMS = ("metformin", "atorvastatin", "ibuprofen")


@pytest.fixture(scope="module")
def model():
    from pipelines.asr import load_model

    return load_model(AsrOptions())


@pytest.fixture(scope="module")
def dictated(model, tmp_path_factory) -> dict[str, DictationResult]:
    from pipelines.synth import SynthOptions, Turn, synthesize_dialogue
    from workbench.dictation import dictate, dictate_bytes

    folder: Path = tmp_path_factory.mktemp("dictations")
    voice = SynthOptions(gap_seconds=0.5, words_per_minute=140)
    starts = {"drugs": "assessment"}
    out: dict[str, DictationResult] = {}
    for name, script in DICTATIONS.items():
        path = folder / f"{name}.wav"
        turns = [Turn("clinician", p.strip()) for p in script.split("|")]
        synthesize_dialogue(turns, path, voice)
        start = starts.get(name, "subjective")
        if name == "layout":  # the in-memory path the UI uses
            out[name] = dictate_bytes(model, path.read_bytes(), SOAP, start, TERMS)
        else:
            out[name] = dictate(model, path, SOAP, start, TERMS)
    return out


def _commands(result: DictationResult) -> list[str]:
    return [c.command for c in result.commands]


@pytest.mark.slow
def test_spoken_scratch_that_and_next_section(dictated) -> None:
    r = dictated["scratch"]
    assert r.sentences("subjective") and len(r.sentences("subjective")) == 1, r.text
    assert "chest pain" in r.text["subjective"].lower()
    assert "blood" not in r.text["subjective"].lower()  # scratched with its paragraph break
    assert "\n" not in r.text["subjective"]
    assert "ibuprofen" in r.text["objective"].lower() and r.text["objective"].endswith(".")
    assert {"period", "new paragraph", "scratch that", "next section"} <= set(_commands(r))
    assert r.end_section == "objective" and r.model.startswith("faster-whisper-")


@pytest.mark.slow
def test_spoken_false_trigger_comma_question_and_go_to(dictated) -> None:
    r = dictated["false_trigger"]
    subjective = r.text["subjective"]
    assert subjective.lower().startswith("cough for the period"), r.text
    assert "," in subjective and "?" not in subjective
    assert len(r.sentences("subjective")) == 2
    assert "chest" in r.text["plan"].lower() and r.text["plan"].endswith(".")
    assert {"comma", "question mark", "scratch that", "go to"} <= set(_commands(r))
    assert r.end_section == "plan"


@pytest.mark.slow
def test_spoken_colon_new_line_and_parentheses(dictated) -> None:
    r = dictated["layout"]
    subjective = r.text["subjective"]
    assert ":" in subjective and "\n" in subjective, r.text
    assert "(" in subjective and ")" in subjective and "murmur" in subjective.lower()
    assert subjective.endswith(").")
    assert r.end_section == "objective" and r.text["objective"] == ""


@pytest.mark.slow
def test_spoken_medication_dictation_with_vocabulary(dictated) -> None:
    r = dictated["drugs"]
    assert "diabetes" in r.text["assessment"].lower(), r.text
    plan = r.text["plan"].lower()
    assert "metformin" in plan and "atorvastatin" in plan
    assert len(r.sentences("plan")) == 2
    assert r.commands[-1].command == "next section"
    assert r.commands[-1].detail == "no such section; stayed" and r.end_section == "plan"
