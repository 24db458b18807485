"""The notebook API (``workbench.notebook``): read-only beside a running workbench, roles
respected, de-identified text for analysts, bounded reads."""

from __future__ import annotations

import hashlib
import threading
import time
import warnings
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import make_draft, make_transcript
from workbench import store as st
from workbench.auth import hash_password
from workbench.notebook import MAX_ROWS, Filters, RowLimitWarning, open_store
from workbench.simulate import SimulationSpec, simulate
from workbench.store import analytics, notebook_reads, users
from workbench.store.access import Forbidden
from workbench.store.readonly import open_read_only

PASSWORD = "notebook-pass-1"
PATIENT = "Maria Okafor"
EDITED = f"{PATIENT} reports a cough for three days."


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with simulated usage, one real encounter whose note a clinician edited to name
    the patient, an account per role, and the analytics facts refreshed (as the workbench
    does: the notebook API only reads)."""
    data = tmp_path_factory.mktemp("nb") / "data"
    store = st.open_store(data)
    simulate(store, SimulationSpec(encounters=300, seed=1, clinicians=5))
    for user, role in (("ana", "analyst"), ("adm", "admin"), ("dr-a", "clinician")):
        users.create_account(store, user, role, "system", password_hash=hash_password(PASSWORD))
    st.add_encounter(
        store,
        st.EncounterRecord("enc-1", "Cough visit", patient_label=PATIENT, clinician_id="dr-a"),
        "dr-a",
    )
    transcript = make_transcript(
        [
            ("clinician", "What brings you in today?"),
            ("patient", "I have had a cough for three days."),
        ]
    )
    version = st.save_transcript(store, "enc-1", transcript, "dr-a")
    st.save_draft(store, "enc-1", make_draft(transcript), version, "dr-a")
    note = st.get_note(store, "enc-1")
    first = note.draft.sentences[0]
    sentences = (replace(first, text=EDITED), *note.draft.sentences[1:])
    st.save_note(store, "enc-1", note.version, sentences, "dr-a")
    analytics.refresh(store)
    return data


def _files(data: Path) -> dict[str, str]:
    """Digest of every database file (the .lock sidecar is the lock, not data)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(data.glob("scribe.duckdb*"))
        if not p.name.endswith(".lock")
    }


def test_an_analyst_reads_aggregates_only_and_nothing_is_written(data: Path) -> None:
    before = _files(data)
    nb = open_store(data, "ana", PASSWORD)
    assert nb.actor.role == "analyst"
    shown = nb.figures()
    assert shown["volume"]["ingested"].sum() >= 300
    burden = nb.figure("edit_burden", Filters(simulated=True))
    assert {"section", "mean_ned", "accept_as_is_rate"} <= set(burden.columns)
    assert nb.filter_options().specialties
    with pytest.raises(ValueError, match="Unknown figure"):
        nb.figure("nope")
    # One row per encounter or event (with its id) is a drill-down: admins only.
    for read in (
        lambda: nb.encounters(Filters(simulated=True), limit=50),
        lambda: nb.events(limit=20),
    ):
        with pytest.raises(Forbidden, match=r"may not analytics\.drilldown: .*aggregates only"):
            read()
    # A relation (and the DuckDB connection behind it) reads any table: not for analysts.
    with pytest.raises(Forbidden, match=r"analytics\.drilldown"):
        with nb.connection():
            pass
    assert not hasattr(nb, "store") and not hasattr(nb, "con")
    assert _files(data) == before  # the refusals wrote no audit row


def test_an_admin_reads_rows_that_match_the_figures(data: Path) -> None:
    before = _files(data)
    nb = open_store(data, "adm", PASSWORD)
    with pytest.warns(RowLimitWarning):  # 300 match
        rows = nb.encounters(Filters(simulated=True), limit=50)
    assert len(rows) == 50 and rows["simulated"].all()
    assert "title" not in rows.columns  # measures, no text
    one = rows["clinician"].iloc[0]
    theirs = nb.encounters(Filters(clinicians=(one,)), limit=MAX_ROWS)
    assert len(theirs) == nb.figure("volume", Filters(clinicians=(one,)))["ingested"].sum()
    with pytest.warns(RowLimitWarning):
        events = nb.events(limit=20)
    assert len(events) == 20 and "before" in events.columns  # admins may read the log
    with nb.connection() as con:
        by_specialty = (
            con.encounters(Filters(simulated=True))
            .aggregate("specialty, count(*) AS n", "specialty")
            .df()
        )
        assert con.figure("volume").aggregate("sum(ingested)").fetchone()[0] == (
            nb.figures()["volume"]["ingested"].sum()
        )
    simulated = nb.figure("volume", Filters(simulated=True))["ingested"].sum()
    assert 0 < by_specialty["n"].sum() == simulated < nb.figures()["volume"]["ingested"].sum()
    assert _files(data) == before


def test_relations_aggregate_every_row_and_a_cut_dataframe_warns(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = open_store(data)
    total = int(nb.figures()["volume"]["ingested"].sum())
    assert total > 100
    # With the row cap below the store's size, a relation still covers every encounter.
    monkeypatch.setattr(notebook_reads, "MAX_ROWS", 100)
    with nb.connection() as con:
        assert con.encounters().count("*").fetchone()[0] == total
    with pytest.raises(ValueError, match="limit must be"):
        nb.encounters(limit=101)
    monkeypatch.undo()
    # The DataFrame read stops at its limit and says so, naming the limit.
    with pytest.warns(RowLimitWarning, match=r"encounters: .*limit=100\b"):
        rows = nb.encounters(limit=100)
    assert len(rows) == 100
    with pytest.warns(RowLimitWarning, match=r"events: .*limit=7\b"):
        assert len(nb.events(limit=7)) == 7
    # A relation carries no limit: its aggregate counts every encounter and event.
    with nb.connection() as con:
        assert con.encounters().count("*").fetchone()[0] == total
        events = con.events().count("*").fetchone()[0]
    assert events > 7 and events == len(nb.events(limit=MAX_ROWS))
    # No warning when every matching row fits.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(nb.encounters(limit=total)) == total
        assert len(nb.events(kinds=["user.created"], limit=50)) == 3


def test_reads_are_bounded(data: Path) -> None:
    nb = open_store(data)
    for bad in (0, -1, MAX_ROWS + 1):
        with pytest.raises(ValueError, match="limit must be"):
            nb.events(limit=bad)
    with pytest.warns(RowLimitWarning):
        assert len(nb.events(limit=3)) == 3
    assert set(nb.events(kinds=["user.created"], limit=50)["kind"]) == {"user.created"}


def test_an_analyst_gets_corrections_de_identified_an_admin_identified(data: Path) -> None:
    before = _files(data)
    analyst = open_store(data, "ana", PASSWORD).corrections(encounter_ids=["enc-1"])
    edits = analyst[analyst["type"] == "sentence_edit"]
    assert len(edits) == 1
    shown = str(edits.iloc[0]["after"])
    assert "Okafor" not in shown and "Maria" not in shown and "cough" in shown
    assert "Okafor" not in analyst.to_csv() and "dr-a" not in analyst.to_csv()
    # Aggregates only: encounters grouped under a pseudonym, no event ids to find them by.
    assert "enc-1" not in analyst.to_csv() and set(analyst["encounter_id"]) == {"encounter-1"}
    assert "event_id" not in analyst.columns
    admin = open_store(data, "adm", PASSWORD).corrections(encounter_ids=["enc-1"])
    assert EDITED in str(admin[admin["type"] == "sentence_edit"].iloc[0]["after"])
    masked = open_store(data, "adm", PASSWORD).corrections(encounter_ids=["enc-1"], deid=True)
    assert "Okafor" not in masked.to_csv()
    assert _files(data) == before


def test_a_clinician_is_refused_analytics_and_a_wrong_password_refused(data: Path) -> None:
    before = _files(data)
    nb = open_store(data, "dr-a", PASSWORD)
    with pytest.raises(Forbidden, match=r"may not analytics\.view"):
        nb.figures()
    with pytest.raises(Forbidden):
        nb.figure("volume")
    with pytest.raises(Forbidden):
        nb.events(limit=5)
    with pytest.raises(Forbidden):
        nb.corrections(encounter_ids=[_simulated_encounter(data)])  # not theirs
    # Their own encounter's corrections, identified (they may read its text).
    own = nb.corrections(encounter_ids=["enc-1"])
    assert EDITED in own.to_csv()
    with pytest.raises(Forbidden, match="wrong password"):
        open_store(data, "ana", "not-the-password")
    assert _files(data) == before  # refusals write no audit row here: nothing is written


def _simulated_encounter(data: Path) -> str:
    with open_store(data).connection() as con:
        return con.encounters(Filters(simulated=True)).limit(1).fetchone()[0]


def test_no_store_no_database(tmp_path: Path) -> None:
    with pytest.raises(st.StoreError, match="No workbench database"):
        open_store(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


def test_a_running_workbench_is_not_blocked_and_its_writes_are_seen(tmp_path: Path) -> None:
    data = tmp_path / "data"
    writer = st.open_store(data, lock_timeout_s=5)
    simulate(writer, SimulationSpec(encounters=50, seed=2, clinicians=3))
    analytics.refresh(writer)
    nb = open_store(data)
    assert nb.figures()["volume"]["ingested"].sum() == 50
    created = len(nb.events(kinds=["encounter.created"], limit=MAX_ROWS))
    # Between calls the notebook holds nothing: the workbench writes at once.
    started = time.monotonic()
    st.add_encounter(writer, st.EncounterRecord("enc-new", "New visit"), "system")
    assert time.monotonic() - started < 1.0
    assert "enc-new" in set(nb.events(kinds=["encounter.created"], limit=100)["encounter_id"])
    # Inside a connection block the workbench waits for it, then writes (no crash).
    done = threading.Event()

    def write() -> None:
        st.add_encounter(writer, st.EncounterRecord("enc-later", "Later visit"), "system")
        done.set()

    with nb.connection() as con:
        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(0.3)
        assert not done.is_set()
        assert con.events(kinds=["encounter.created"]).count("*").fetchone()[0] == created + 1
    thread.join(timeout=10)
    assert done.is_set()
    with pytest.raises(st.StoreError, match="read-only"):
        with open_read_only(data).transaction():
            pass


def test_an_encrypted_store_reads_with_its_key_and_refuses_without(tmp_path: Path) -> None:
    """The read-only handle attaches an encrypted file READ_ONLY with the master key; the
    file is unchanged afterwards; without the key it says the file is encrypted."""
    from workbench import keys
    from workbench.store.db import StoreError

    key = keys.generate_key()
    data = tmp_path / "data"
    store = st.open_store(data, key=key)
    st.add_encounter(store, st.EncounterRecord("enc-k", "Keyed visit"), "adm")
    analytics.refresh(store)
    before = _files(data)
    nb = open_store(data, key=key)
    assert nb.encounters()["encounter_id"].tolist() == ["enc-k"]
    assert _files(data) == before
    with pytest.raises(StoreError, match="encrypted"):
        open_store(data, key=None).encounters()
