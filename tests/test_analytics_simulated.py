"""The simulator and the analytics together: what the simulator plants (rubber-stamping
clinicians, unsupported sentences changed more often, clinicians whose speech the ASR gets
wrong more often, drafter versions rolled out over time) is what the analytics figures find.

One real DuckDB file with 1,500 simulated encounters, refreshed by ``simulate`` itself, read
as an analyst.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from workbench import store as st
from workbench.simulate import SimulationSpec, make_clinicians, simulate
from workbench.store import analytics
from workbench.store.access import Actor

SPEC = SimulationSpec(encounters=1500, seed=21, days=60, clinicians=12, end=date(2026, 11, 30))


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> st.Store:
    store = st.open_store(Path(tmp_path_factory.mktemp("sim")) / "data")
    simulate(store, SPEC)
    return store.as_actor(Actor("ana", "analyst"))


@pytest.fixture(scope="module")
def page(simulated: st.Store) -> dict:
    return analytics.figures(simulated, analytics.Filters(grain="week"))


def test_every_simulated_encounter_is_counted_and_marked(simulated: st.Store, page) -> None:
    options = analytics.filter_options(simulated)
    assert options.encounters == options.simulated == SPEC.encounters
    assert page["volume"]["ingested"].sum() == SPEC.encounters
    with simulated.connect() as con:
        signed = con.execute("SELECT count(DISTINCT encounter_id) FROM signatures").fetchone()[0]
    assert page["volume"]["signed"].sum() == signed
    real_only = analytics.figures(simulated, analytics.Filters(simulated=False))
    assert real_only["volume"]["ingested"].sum() == 0


def test_unsupported_sentences_are_changed_more_than_supported(page) -> None:
    outcomes = page["sentence_outcomes"].set_index("support_label")
    changed = outcomes["edited_rate"] + outcomes["rejected_rate"]
    assert changed["unsupported"] > 2 * changed["supported"]


def test_the_rubber_stampers_lead_the_fast_signature_rates(simulated, page) -> None:
    stampers = {c.user_id for c in make_clinicians(SPEC.validated()) if c.rubber_stamp}
    assert stampers, "the spec plants at least one rubber stamper"
    rates = page["rubber_stamp"].groupby("clinician")[["signatures", "fast_signatures"]].sum()
    rates["fast_rate"] = rates["fast_signatures"] / rates["signatures"]
    top = set(rates["fast_rate"].nlargest(len(stampers)).index)
    assert top == stampers
    others = rates.drop(index=list(stampers))
    assert rates.loc[list(stampers), "fast_rate"].min() > others["fast_rate"].max()


def test_asr_error_estimates_follow_each_clinicians_error_factor(page) -> None:
    factors = {c.user_id: c.wer_factor for c in make_clinicians(SPEC.validated())}
    wer = page["asr_wer"].groupby("clinician")[["words", "word_errors"]].sum()
    wer["wer"] = wer["word_errors"] / wer["words"]
    assert (wer["wer"] > 0).all()
    worst = max(factors, key=factors.get)
    best = min(factors, key=factors.get)
    assert wer.loc[worst, "wer"] > wer.loc[best, "wer"]


def test_drafter_versions_and_filters_split_the_same_encounters(simulated, page) -> None:
    versions = page["model_versions"]
    assert len(versions) >= 2
    assert versions["encounters"].sum() == SPEC.encounters
    one = versions["drafter_version"].iloc[0]
    only = analytics.figures(simulated, analytics.Filters(model_versions=(one,)))
    assert only["volume"]["ingested"].sum() == versions.iloc[0]["encounters"]
    confusion = page["entity_confusion"]
    off_diagonal = confusion[confusion["model_label"] != confusion["final_label"]]
    assert off_diagonal["n"].sum() > 0
    burden = page["edit_burden"]
    assert ((burden["mean_ned"] >= 0) & (burden["mean_ned"] <= 1)).all()
    assert (burden["accept_as_is_rate"] < 1).any()


def test_a_refresh_recomputes_only_what_changed_since_the_last(simulated: st.Store) -> None:
    """``simulate`` refreshed already (its events carry past times: found as encounters
    without facts); nothing new -> nothing recomputed; one consent change -> that one."""
    assert analytics.refresh(simulated).encounters == 0
    system = st.open_store(simulated.path.parent)
    with system.connect() as con:
        eid = con.execute("SELECT min(encounter_id) FROM encounters").fetchone()[0]
    st.set_consent(system, eid, True, "adm")
    assert analytics.refresh(simulated).encounters == 1
    assert analytics.refresh(simulated).encounters == 0
