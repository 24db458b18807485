"""`scribe simulate`: simulated usage written in the app's own shapes, deterministic by seed,
marked as simulated wherever it shows, never exported for training."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from workbench import store as st
from workbench.cli import app
from workbench.simulate import (
    MAX_ENCOUNTERS,
    SimulationError,
    SimulationSpec,
    make_clinicians,
    reading_seconds,
    simulate,
)
from workbench.store.access import Actor, Forbidden
from workbench.store.signing import signoff_state
from workbench.training_export import ExportRequest, export_dataset

from .conftest import APP, sign_in

END = date(2026, 11, 30)
SPEC = SimulationSpec(encounters=400, seed=11, days=60, end=END, chunk=150)
TABLES = {  # table -> columns that identify a row's content (all of them but run-time stamps)
    "encounters": "*",
    "users": "user_id, display_name, role, disabled, created_at",
    "transcripts": "*",
    "segments": "*",
    "entity_sets": "*",
    "entities": "*",
    "notes": "*",
    "note_sentences": "*",
    "evidence": "*",
    "support_checks": "*",
    "sentence_support": "*",
    "signatures": "*",
    "events": "*",
}


@pytest.fixture(scope="module")
def sim_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding SPEC's simulated encounters (built once; tests copy it to change it)."""
    data = tmp_path_factory.mktemp("sim") / "data"
    simulate(st.open_store(data, key=None), SPEC)
    return data


def _copy(sim_data: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(sim_data, data)
    return data


def _rows(store: st.Store, table: str) -> list[tuple]:
    where = " WHERE kind <> 'simulation.run'" if table == "events" else ""  # run-time stamped
    with store.connect() as con:
        return con.execute(f"SELECT {TABLES[table]} FROM {table}{where} ORDER BY ALL").fetchall()


def test_same_seed_gives_identical_rows_and_another_seed_does_not(tmp_path: Path) -> None:
    spec = SimulationSpec(encounters=60, seed=5, days=20, end=END, chunk=25)
    a = st.open_store(tmp_path / "a", key=None)
    b = st.open_store(tmp_path / "b", key=None)
    c = st.open_store(tmp_path / "c", key=None)
    simulate(a, spec)
    simulate(b, spec)
    simulate(c, replace(spec, seed=6))
    for table in TABLES:
        rows = _rows(a, table)
        assert rows, table
        assert rows == _rows(b, table), table
    assert _rows(a, "events") != _rows(c, "events")
    assert _rows(a, "note_sentences") != _rows(c, "note_sentences")


def _one(store: st.Store, sql: str, params: list | None = None):
    with store.connect() as con:
        return con.execute(sql, params or []).fetchone()


def test_counts_and_event_volume_follow_the_spec(sim_data: Path) -> None:
    store = st.open_store(sim_data, key=None)
    n = SPEC.encounters
    assert _one(store, "SELECT count(*) FROM encounters WHERE source = 'simulated'")[0] == n
    assert _one(store, "SELECT count(DISTINCT encounter_id) FROM notes")[0] == n
    assert _one(store, "SELECT count(*) FROM support_checks")[0] == n
    events = _one(store, "SELECT count(*) FROM events WHERE encounter_id IS NOT NULL")[0]
    assert 40 <= events / n <= 60, events / n  # ~50 events per encounter
    signed = _one(store, "SELECT count(*) FROM signatures")[0]
    assert 0.8 * n <= signed < n  # most are signed; the newest still wait for review
    # Simulated clinicians are clinician accounts nobody can sign in as.
    users = _one(
        store,
        "SELECT count(*), bool_and(disabled), bool_and(role = 'clinician'),"
        " bool_and(password_hash IS NULL) FROM users WHERE user_id LIKE 'sim-%'",
    )
    assert users == (SPEC.clinicians, True, True, True)
    owners = _one(
        store,
        "SELECT count(*) FROM encounters e JOIN users u ON u.user_id = e.clinician_id"
        " WHERE e.created_by = e.clinician_id",
    )[0]
    assert owners == n
    # The whole run is one audited simulation.run, not one audit row per simulated change.
    audit = _one(
        store,
        "SELECT count(*), count(*) FILTER (WHERE action = 'simulation.run') FROM audit_log",
    )
    assert audit == (1, 1)
    run = _one(store, "SELECT run, seed, encounters, counts, finished_at FROM simulation_runs")
    assert run[:3] == (1, SPEC.seed, n) and json.loads(run[3])["encounters"] == n and run[4]


def test_rubber_stampers_sign_below_reading_time_and_accept_flags_unopened(sim_data) -> None:
    store = st.open_store(sim_data, key=None)
    stampers = [c.user_id for c in make_clinicians(SPEC.validated()) if c.rubber_stamp]
    assert stampers
    with store.connect() as con:
        rows = con.execute(
            "SELECT list_contains(?, g.signed_by), g.active_seconds,"
            " (SELECT sum(length(text) - length(replace(text, ' ', '')) + 1)"
            "  FROM note_sentences s WHERE s.encounter_id = g.encounter_id"
            "  AND s.note_version = g.note_version) AS words"
            " FROM signatures g",
            [stampers],
        ).fetchall()
        unopened = con.execute(
            # Flagged (unsupported) sentences accepted with no sentence.viewed first.
            "SELECT list_contains(?, a.user_id), count(*),"
            " count(*) FILTER (WHERE v.object_id IS NULL)"
            " FROM events a JOIN support_checks c ON c.encounter_id = a.encounter_id"
            " JOIN sentence_support s ON s.check_id = c.check_id AND s.sentence_id = a.object_id"
            " LEFT JOIN events v ON v.encounter_id = a.encounter_id AND v.object_id = a.object_id"
            "   AND v.kind = 'sentence.viewed'"
            " WHERE a.kind = 'sentence.accepted' AND s.label = 'unsupported' GROUP BY 1",
            [stampers],
        ).fetchall()
    fast = [secs < reading_seconds(words) for stamp, secs, words in rows if stamp]
    normal = [secs < reading_seconds(words) for stamp, secs, words in rows if not stamp]
    assert fast and sum(fast) / len(fast) > 0.9
    assert normal and sum(normal) / len(normal) < 0.1
    rates = {stamp: blind / total for stamp, total, blind in unopened}
    assert rates[True] > 0.9 and rates[False] < 0.3


def test_unsupported_sentences_are_rejected_and_edited_more_than_supported(sim_data) -> None:
    store = st.open_store(sim_data, key=None)
    with store.connect() as con:
        rows = con.execute(
            "SELECT s.label, count(*),"
            " count(*) FILTER (WHERE d.kind = 'sentence.deleted'),"
            " count(*) FILTER (WHERE d.kind = 'sentence.edited')"
            " FROM sentence_support s JOIN support_checks c ON c.check_id = s.check_id"
            " JOIN signatures g ON g.encounter_id = c.encounter_id"
            " LEFT JOIN events d ON d.encounter_id = c.encounter_id"
            "   AND d.object_id = s.sentence_id"
            "   AND d.kind IN ('sentence.deleted', 'sentence.edited')"
            " GROUP BY 1"
        ).fetchall()
    rate = {label: ((deleted + edited) / n, deleted / n) for label, n, deleted, edited in rows}
    assert rate["unsupported"][0] > 3 * rate["supported"][0]
    assert rate["unsupported"][1] > 5 * rate["supported"][1]
    assert rate["supported"][0] < rate["partly_supported"][0] < rate["unsupported"][0]


def test_the_app_reads_simulated_encounters_like_real_ones(sim_data: Path) -> None:
    store = st.open_store(sim_data, key=None)
    summaries = {s.encounter.encounter_id: s for s in st.list_encounters(store)}
    assert len(summaries) == SPEC.encounters
    assert {s.encounter.source for s in summaries.values()} == {"simulated"}
    signed = [e for e, s in summaries.items() if s.status == "signed"]
    for encounter_id in signed[:15]:
        note = st.get_note(store, encounter_id)
        assert note.signed and note.draft.sentences
        version, transcript = st.get_transcript(store, encounter_id)
        assert version == note.transcript_version and transcript.segments
        segments = {s.idx: s.text for s in transcript.segments}
        for sentence in note.draft.sentences:  # evidence points into the transcript text
            for ev in sentence.evidence:
                assert 0 < ev.end_char <= len(segments[ev.segment_idx])
        entities = st.get_entity_set(store, encounter_id, transcript_version=version)
        for e in entities.entities:
            assert segments[e.segment_idx][e.start : e.end] == e.text
        assert st.get_support(store, encounter_id, 1).results
        # Signed as the app would have allowed: nothing blocks the signed version.
        assert signoff_state(store, encounter_id, note.version).blockers == ()
    edited = next(e for e in signed if st.get_note(store, e).version == 2)
    machine = st.machine_draft(store, edited, 2)
    assert machine is not None and machine.version == 1


def _admin_app(monkeypatch: pytest.MonkeyPatch, data: Path) -> AppTest:
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    monkeypatch.setenv("SCRIBE_USER", "admin-t")
    monkeypatch.delenv("SCRIBE_KEY", raising=False)
    return sign_in(AppTest.from_file(str(APP), default_timeout=60), data, "admin-t", "admin")


def test_worklist_and_review_show_the_simulated_badge(monkeypatch, sim_data, tmp_path) -> None:
    data = _copy(sim_data, tmp_path)
    store = st.open_store(data, key=None)
    signed = next(s for s in st.list_encounters(store) if s.status == "signed")
    at = _admin_app(monkeypatch, data).run()
    assert not at.exception, at.exception
    rows = [m.value for m in at.markdown if "`sim-" in m.value]
    assert rows and all("Simulated" in r for r in rows)
    at.session_state["encounter_id"] = signed.encounter.encounter_id
    at.switch_page("views/review.py").run()
    assert not at.exception, at.exception
    assert at.title[0].value == signed.encounter.title
    header = [c.value for c in at.caption if f"`{signed.encounter.encounter_id}`" in c.value]
    assert header and "Simulated" in header[0]


def test_training_exports_skip_simulated_encounters(sim_data, tmp_path) -> None:
    data = _copy(sim_data, tmp_path)
    store = st.open_store(data, key=None)
    summary = export_dataset(
        store,
        ExportRequest("jsonl", tmp_path / "out", consented_only=False, deidentified=True),
        "system",
    )
    counts = summary.manifest["counts"]
    assert counts["skipped"]["simulated"] == SPEC.encounters
    assert not any(e.startswith("sim-") for e in summary.manifest["encounter_ids"])
    assert not any(s.encounter_id.startswith("sim-") for s in st.training_set(store).sources)


def test_a_clinician_may_not_simulate_and_bad_sizes_are_refused(tmp_path: Path) -> None:
    store = st.open_store(tmp_path / "data", key=None)
    clinician = store.as_actor(Actor("dr-x", "clinician"))
    with pytest.raises(Forbidden):
        simulate(clinician, SimulationSpec(encounters=5, seed=1, end=END))
    for bad, says in ((0, "at least 1"), (-3, "at least 1"), (MAX_ENCOUNTERS + 1, "cap")):
        with pytest.raises(SimulationError, match=says):
            simulate(store, SimulationSpec(encounters=bad, seed=1, end=END))
    with pytest.raises(SimulationError, match="--days"):
        simulate(store, SimulationSpec(encounters=5, days=0, end=END))
    assert _one(store, "SELECT count(*) FROM encounters")[0] == 0
    assert _one(store, "SELECT count(*) FROM simulation_runs")[0] == 0
    denied = _one(store, "SELECT count(*) FROM audit_log WHERE outcome = 'denied'")[0]
    assert denied == 1  # the clinician's refusal is audited


def _cli(data: Path, *args: str):
    return CliRunner().invoke(app, ["--data-dir", str(data), "simulate", *args])


def test_cli_appends_runs_without_collisions_and_refuses_non_admins(tmp_path, monkeypatch):
    monkeypatch.delenv("SCRIBE_KEY", raising=False)
    monkeypatch.delenv("SCRIBE_KEY_FILE", raising=False)
    data = tmp_path / "data"
    first = _cli(data, "--encounters", "30", "--seed", "2", "--days", "10", "--json")
    assert first.exit_code == 0, first.output
    found = json.loads(first.output.strip().splitlines()[-1])
    assert found["run"] == 1 and found["rows"]["encounters"] == 30
    again = _cli(data, "--encounters", "30", "--seed", "2", "--days", "10", "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.output.strip().splitlines()[-1])["run"] == 2
    store = st.open_store(data, key=None)
    assert _one(store, "SELECT count(DISTINCT encounter_id) FROM encounters")[0] == 60
    assert _one(store, "SELECT count(*) FROM audit_log WHERE action = 'simulation.run'")[0] == 2

    from workbench.store.users import create_account

    create_account(store, "dr-c", "clinician", "system")
    refused = _cli(data, "--encounters", "5", "--as", "dr-c")
    assert refused.exit_code == 3 and "Nothing simulated" in refused.output
    create_account(store, "boss", "admin", "system")
    assert _cli(data, "--encounters", "5", "--as", "boss").exit_code == 0
    assert _one(store, "SELECT count(*) FROM encounters")[0] == 65

    zero = _cli(data, "--encounters", "0")
    assert zero.exit_code == 2 and "at least 1" in zero.output
    huge = _cli(data, "--encounters", str(MAX_ENCOUNTERS + 1))
    assert huge.exit_code == 2 and "cap" in huge.output
    assert _one(store, "SELECT count(*) FROM encounters")[0] == 65


def test_a_run_that_fails_midway_leaves_whole_encounters_and_the_next_run_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench.store import simulation

    store = st.open_store(tmp_path / "data", key=None)
    real, calls = simulation._insert, []

    def dies_in_the_second_chunk(con):
        calls.append(1)
        counts = real(con)
        if len(calls) == 2:  # after its rows are written, before it commits
            raise KeyboardInterrupt
        return counts

    monkeypatch.setattr(simulation, "_insert", dies_in_the_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        simulate(store, SimulationSpec(encounters=50, seed=4, end=END, chunk=20))
    monkeypatch.setattr(simulation, "_insert", real)
    with store.connect() as con:
        kept = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE encounter_id IN (SELECT encounter_id"
            " FROM notes WHERE version = 1)) FROM encounters"
        ).fetchone()
        orphans = con.execute(
            "SELECT count(*) FROM events WHERE encounter_id NOT IN"
            " (SELECT encounter_id FROM encounters)"
        ).fetchone()[0]
        unfinished = con.execute("SELECT run, finished_at FROM simulation_runs").fetchall()
    assert kept == (20, 20) and orphans == 0  # the first chunk, whole; nothing of the second
    assert unfinished == [(1, None)]
    result = simulate(store, SimulationSpec(encounters=10, seed=4, end=END))
    assert result.run == 2
    assert _one(store, "SELECT count(DISTINCT encounter_id) FROM encounters")[0] == 30


def test_simulated_work_never_happens_in_the_future(tmp_path: Path) -> None:
    """By default the period ends yesterday (UTC); a last day of today or later is refused:
    a simulated event stamped after now would look newer than real work (and hide it from
    the analytics' incremental refresh)."""
    from datetime import UTC, datetime, timedelta

    store = st.open_store(tmp_path / "data")
    simulate(store, SimulationSpec(encounters=40, seed=2, days=3))
    with store.connect() as con:
        newest = con.execute(
            "SELECT greatest(max(ts), (SELECT max(signed_at) FROM signatures),"
            " (SELECT max(created_at) FROM encounters WHERE source = 'simulated'))"
            " FROM events WHERE encounter_id LIKE 'sim-%'"
        ).fetchone()[0]
    today = datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    assert newest < today
    with pytest.raises(SimulationError, match="before today"):
        simulate(store, SimulationSpec(encounters=5, end=today.date()))
    with pytest.raises(SimulationError, match="before today"):
        simulate(store, SimulationSpec(encounters=5, end=today.date() + timedelta(days=3)))


def test_the_demo_simulates_once_per_store(tmp_path: Path) -> None:
    """`make demo` runs `scribe demo --simulate 2000`: a re-run adds no second batch."""
    from workbench.demo import ensure_demo_simulation

    store = st.open_store(tmp_path / "data")
    assert ensure_demo_simulation(store, 0) == 0
    assert ensure_demo_simulation(store, 30) == 30
    assert ensure_demo_simulation(store, 30) == 0
    assert len(st.list_encounters(store)) == 30
