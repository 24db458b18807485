"""The DuckDB store: migrations, versions, events, locking, and two processes at once."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from pipelines.types import Entity
from tests.conftest import REPO, make_transcript
from workbench import store as st
from workbench.store.migrations import Migration, available_migrations, migrate

TABLES_SQL = "SELECT table_name FROM information_schema.tables"


def test_blank_database_gets_every_migration(tmp_path: Path) -> None:
    store = st.open_store(tmp_path)
    assert st.schema_version(store) == available_migrations()[-1].version
    with store.connect() as con:
        tables = {r[0] for r in con.execute(TABLES_SQL).fetchall()}
    assert {"encounters", "transcripts", "segments", "words", "entities", "notes",
            "note_sentences", "evidence", "events", "users", "audio_files"} <= tables


def test_reopening_applies_nothing_and_keeps_data(tmp_path: Path, encounter: str) -> None:
    del encounter
    store = st.open_store(tmp_path / "data")
    assert migrate(store) == []
    assert st.status_counts(store)["encounters"] == 1


def test_failed_migration_rolls_back_whole(tmp_path: Path) -> None:
    store = st.Store(tmp_path / "x.duckdb")
    good = available_migrations()
    newest = good[-1].version
    bad = Migration(newest + 1, "broken", "CREATE TABLE half (a INT); SELECT * FROM nowhere;")
    with pytest.raises(duckdb.Error):
        migrate(store, [*good, bad])
    assert st.schema_version(store) == newest
    with store.connect() as con:
        names = {r[0] for r in con.execute(TABLES_SQL).fetchall()}
    assert "half" not in names


def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    store = st.open_store(tmp_path)
    with pytest.raises(st.StoreError, match="newer than this code"):
        migrate(store, available_migrations()[:-1] if len(available_migrations()) > 1 else [])


def test_transcript_round_trip_and_versions(store: st.Store) -> None:
    st.add_encounter(store, st.EncounterRecord("e", "t"), "u")
    t1 = make_transcript([("clinician", "Any fever?"), ("patient", "No fever at all.")])
    assert st.save_transcript(store, "e", t1, "u") == 1
    t2 = t1.with_segments((replace(t1.segments[0], text="Any fevers?"), t1.segments[1]))
    assert st.save_transcript(store, "e", t2, "u", kind="corrected") == 2
    version, loaded = st.get_transcript(store, "e")
    assert version == 2 and loaded.segments[0].text == "Any fevers?"
    assert loaded.segments[1].words == t1.segments[1].words
    assert st.get_transcript(store, "e", 1)[1].segments == t1.segments
    kinds = [e.kind for e in st.list_events(store, "e")]
    assert kinds == ["encounter.created", "transcript.asr", "transcript.corrected"]


def test_entities_round_trip(store: st.Store) -> None:
    st.add_encounter(store, st.EncounterRecord("e", "t"), "u")
    ents = (Entity(0, 4, 9, "fever", "PROBLEM", negated=True, code="R50.9",
                   attributes={"k": "v"}),)
    assert st.save_entities(store, "e", 1, ents, "nlp.v1", "u") == 1
    assert st.get_entities(store, "e") == ents
    assert st.get_entities(store, "e", transcript_version=2) == ()


def test_edit_creates_version_and_typed_events(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    first, second = note.draft.sentences
    edited = (replace(first, text="Reports cough for three days.", origin="human"),)
    moved = replace(second, section="Assessment")
    v2 = st.save_note(store, encounter, note.version, (*edited, moved), "dr-a")
    assert v2 == 2
    assert st.get_note(store, encounter, 1).draft.sentences == note.draft.sentences
    latest = st.get_note(store, encounter)
    assert latest.parent_version == 1 and latest.created_by == "dr-a"
    assert latest.draft.sentences[0].evidence == first.evidence
    events = {e.kind: e for e in st.list_events(store, encounter)}
    assert events["sentence.edited"].before["text"] == first.text
    assert events["sentence.edited"].after["text"] == "Reports cough for three days."
    assert events["sentence.moved"].after["section"] == "Assessment"
    assert events["note.saved"].note_version == 2


def test_saving_unchanged_note_writes_nothing(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    before = st.status_counts(store)["events"]
    assert st.save_note(store, encounter, 1, note.draft.sentences, "dr-a") == 1
    assert st.status_counts(store)["events"] == before


def test_stale_edit_is_refused_and_loses_nothing(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    mine = (replace(note.draft.sentences[0], text="Mine."),)
    theirs = (replace(note.draft.sentences[0], text="Theirs."),)
    st.save_note(store, encounter, 1, theirs, "dr-b")
    with pytest.raises(st.ConcurrentEdit, match="newest is 2"):
        st.save_note(store, encounter, 1, mine, "dr-a")
    assert st.get_note(store, encounter).draft.sentences[0].text == "Theirs."


def test_signed_note_is_locked(store: st.Store, encounter: str) -> None:
    st.sign_note(store, encounter, 1, "dr-a")
    note = st.get_note(store, encounter)
    assert note.signed and note.signed_by == "dr-a"
    with pytest.raises(st.NoteLocked):
        st.save_note(store, encounter, 1, (), "dr-a")
    with pytest.raises(st.NoteLocked):
        st.sign_note(store, encounter, 1, "dr-a")
    assert [s.status for s in st.list_encounters(store)] == ["signed"]


def test_failed_transaction_leaves_no_rows(store: st.Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as con:
        con.execute(
            "INSERT INTO users (user_id, display_name, role, created_at)"
            " VALUES ('x', 'X', 'admin', now()::TIMESTAMP)"
        )
        raise RuntimeError("killed mid-save")
    assert st.list_users(store) == []


def test_lock_timeout_gives_clear_error(tmp_path: Path) -> None:
    store = st.open_store(tmp_path)
    holder = _python(_HOLD_LOCK, str(tmp_path), "3.0")
    try:
        _wait_for(tmp_path / "held")
        impatient = st.Store(store.path, lock_timeout_s=0.3)
        with pytest.raises(st.StoreBusy, match="busy"):
            st.status_counts(impatient)
    finally:
        holder.wait(timeout=60)
    assert st.status_counts(store)["encounters"] == 0


def test_two_processes_write_at_once_without_loss(tmp_path: Path) -> None:
    """A batch process and a 'server' both write; neither crashes, nothing is lost."""
    store = st.open_store(tmp_path)
    procs = [_python(_WRITER, str(tmp_path), name, "25") for name in "ab"]
    for p in procs:
        assert p.wait(timeout=180) == 0, p.stderr.read()
    counts = st.status_counts(store)
    assert counts["encounters"] == 50 and counts["transcribed"] == 50
    assert counts["events"] == 100


# Child processes are plain interpreters (not multiprocessing), so they share nothing
# with the test process: exactly like the server and a batch run.
_WRITER = """
import sys
from pathlib import Path
from tests.conftest import REPO, make_transcript
from workbench import store as st
data_dir, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
store = st.open_store(Path(data_dir))
transcript = make_transcript([("patient", "I have a headache.")])
for i in range(n):
    st.add_encounter(store, st.EncounterRecord(f"{name}-{i}", "t"), name)
    st.save_transcript(store, f"{name}-{i}", transcript, name)
"""

_HOLD_LOCK = """
import sys, time
from pathlib import Path
from workbench import store as st
store = st.Store(Path(sys.argv[1]) / st.DB_FILENAME)
with store.connect():
    (Path(sys.argv[1]) / "held").touch()
    time.sleep(float(sys.argv[2]))
"""


def _python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path) -> None:
    for _ in range(1000):
        if path.exists():
            return
        time.sleep(0.02)
    raise AssertionError("helper never took the lock")
