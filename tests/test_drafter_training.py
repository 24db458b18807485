"""The drafter's trained artefacts: alignment labels, the oracle, the models' JSON round trip,
and (slow, with the datasets) that `python -m pipelines.drafting.training` rebuilds the
shipped files byte for byte."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipelines.drafting.alignment import (
    AlignOptions,
    align_units,
    idf_table,
    note_lines,
    oracle_selection,
    stems,
)
from pipelines.drafting.phrases import PHRASES_PATH, mine_phrases
from pipelines.drafting.router import (
    ROUTER_PATH,
    DrafterModel,
    load_model,
    save_model,
    train_router,
)
from tests.conftest import REPO

SHARED = REPO.parent / "shared" / "datasets"
NOTE = """CHIEF COMPLAINT

Right knee pain.

HISTORY OF PRESENT ILLNESS

She reports right knee pain for 2 weeks after playing basketball.

ASSESSMENT AND PLAN

Right knee sprain.
Medical Treatment: We will start meloxicam 15 mg daily.
"""


def test_reference_notes_become_kinded_sentences_and_units_align_to_them() -> None:
    lines = note_lines(NOTE)
    assert [(ln.kind, ln.text) for ln in lines] == [
        ("chief_complaint", "Right knee pain."),
        ("hpi", "She reports right knee pain for 2 weeks after playing basketball."),
        ("assessment", "Right knee sprain."),
        ("plan", "We will start meloxicam 15 mg daily."),
    ]
    idf = idf_table(stems(ln.text) for ln in lines)
    spoken = [
        "my right knee has been hurting for two weeks since basketball",
        "we'll start you on meloxicam fifteen milligrams daily",
        "how about the weather",
    ]
    labels = [k for k, _ in align_units(spoken, lines, idf, AlignOptions())]
    assert labels == ["hpi", "plan", "none"]
    assert oracle_selection(spoken, NOTE) == [True, True, False]


def test_router_is_deterministic_and_round_trips_through_json(tmp_path: Path) -> None:
    examples = [
        (["w:knee", "w:pain"], "hpi"),
        (["w:start", "w:meloxicam"], "plan"),
        (["w:weather"], "none"),
    ] * 5
    first = train_router(examples, seed=3, min_count=1)
    assert train_router(examples, seed=3, min_count=1).to_json() == first.to_json()
    keep = train_router([(f, "keep" if k != "none" else "none") for f, k in examples], min_count=1)
    model = DrafterModel(first, keep, {"version": "test"})
    save_model(model, tmp_path / "model.json")
    loaded = load_model(tmp_path / "model.json")
    probs = loaded.probabilities([["w:knee", "w:pain"], ["w:weather"], []])
    assert np.allclose(probs.sum(axis=1), 1.0)
    kinds = loaded.kind_names
    assert probs[0].argmax() == kinds.index("hpi") and probs[1].argmax() == kinds.index("none")
    with pytest.raises(ValueError, match="scribe train drafter"):
        load_model(tmp_path / "missing.json")


def test_phrase_mining_keeps_wording_and_never_facts() -> None:
    pairs = [
        (f"e{i}", "blood pressure is high today", "blood pressure is elevated today")
        for i in range(3)
    ]
    pairs += [(f"f{i}", "pain on the left side", "pain on the right side") for i in range(5)]
    mined = mine_phrases(pairs, min_support=3)
    assert mined.targets == {"high": "elevated"}  # sides are facts, never mapped
    assert mined.apply("Her sugar is high.") == "Her sugar is elevated."
    assert mined.supported_targets("it was high") == {"elevated"}


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "mts-dialog").is_dir(), reason="needs ../shared datasets")
def test_training_rebuilds_the_shipped_artefacts(tmp_path: Path) -> None:
    # A fresh process, as the artefact is built, with a fixed string hash seed: the shipped
    # artefact was built under other seeds, and set order (which changes with the seed)
    # must not change a single byte.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.drafting.training",
            "--datasets",
            str(SHARED),
            "--out",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONHASHSEED": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for shipped in (ROUTER_PATH, PHRASES_PATH):
        rebuilt = tmp_path / shipped.name
        assert (
            hashlib.sha256(rebuilt.read_bytes()).hexdigest()
            == hashlib.sha256(shipped.read_bytes()).hexdigest()
        ), shipped.name
