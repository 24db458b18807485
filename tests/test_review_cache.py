"""The Review page reads the store only when the database changed.

``Store.stamp()`` changes with every commit, through this handle or another (another process
such as ``scribe process``), and not with reads; the page's reads are cached by it. A rerun
after ▶ or typing therefore reads nothing, and a change made elsewhere shows on the next one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.types import SupportResult
from pipelines.verify import VERIFY_VERSION
from tests.conftest import make_draft, make_transcript, open_review, seed_encounter
from tests.test_entity_edits import MACHINE, TURNS
from workbench import store as db

ENC = "enc-cache"


def test_the_stamp_changes_with_commits_here_or_elsewhere_but_not_with_reads(
    tmp_path: Path,
) -> None:
    store = db.open_store(tmp_path)
    db.ensure_user(store, "dr-a", "Dr A", "clinician")
    before = store.stamp()
    db.list_users(store)
    db.get_encounter(store, "nobody")
    assert store.stamp() == before, "reads leave the stamp alone"
    db.add_encounter(store, db.EncounterRecord("enc-1", "Visit"), "dr-a")
    after_own = store.stamp()
    assert after_own != before
    elsewhere = db.Store(store.path)  # another handle, as another process would open it
    db.add_term(elsewhere, "dr-a", "metformin", "dr-a")
    assert store.stamp() != after_own


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The Review page on an encounter whose note has a current support check, and a
    counter of transcript reads (the first thing a reload of the encounter does)."""
    data = tmp_path / "data"
    transcript = make_transcript(TURNS)
    draft = make_draft(transcript)
    store = seed_encounter(data, ENC, transcript, entities=MACHINE, draft=draft)
    results = tuple(
        SupportResult(s.sentence_id, s.section, s.text, "supported", 1.0, evidence=s.evidence)
        for s in draft.sentences
    )
    db.save_support(
        store,
        db.NewSupportCheck(
            ENC, 1, 1, db.entity_set_version(store, ENC), VERIFY_VERSION, results, (), {}
        ),
        "dr-a",
    )
    reads: list[str] = []
    real = db.get_transcript

    def counted(*args, **kwargs):
        reads.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(db, "get_transcript", counted)
    return open_review(monkeypatch, data, ENC), store, reads


def test_a_rerun_that_changed_nothing_reads_nothing_and_a_change_elsewhere_shows(
    review,
) -> None:
    at, store, reads = review
    assert reads, "the first run read the encounter"
    reads.clear()
    at.button(key="play-s0").click().run()
    at.run()
    assert not at.exception, at.exception
    assert reads == [], "▶ and a plain rerun read nothing from the store"
    assert not at.success, "the note is still a draft"

    db.sign_note(db.Store(store.path), ENC, 1, "dr-other")  # another process signs it
    at.run()
    assert not at.exception, at.exception
    assert reads == [ENC], "the change made the page read the encounter again, once"
    assert any("Signed by dr-other" in s.value for s in at.success)
    assert len(db.list_events(store, ENC, "note.verified")) == 1, "the check was reused"


def test_one_encounters_rows_are_found_through_an_index(store: db.Store, encounter: str) -> None:
    """Migration 0013: the per-encounter reads of the Review page are index lookups, not
    scans of every encounter's rows (the words table alone grows by ~1,000 rows a visit)."""
    with store.connect() as con:
        plan = con.execute(
            "EXPLAIN ANALYZE SELECT count(*) FROM words WHERE encounter_id = ?", [encounter]
        ).fetchall()
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_indexes()").fetchall()}
    assert "Index Scan" in str(plan)
    assert {"words", "segments", "entities", "note_sentences", "evidence"} <= tables
    assert {"sentence_support", "omissions"} <= tables


def test_activity_records_leave_the_content_stamp_and_the_log_replays(tmp_path: Path) -> None:
    store = db.open_store(tmp_path)
    db.ensure_user(store, "dr-a", "Dr A", "clinician")
    db.add_encounter(store, db.EncounterRecord("enc-1", "Visit"), "dr-a")
    stamp, content = store.stamp(), store.content_stamp()
    viewed = db.new_event(
        "dr-a", "enc-1", "sentence.viewed", object_type="sentence", object_id="s0"
    )
    db.append_event(store, viewed)
    assert store.stamp() != stamp, "the sign-off panel shows what was looked at"
    assert store.content_stamp() == content, "notes, transcripts and the worklist stay cached"
    wal = store.path.with_name(store.path.name + ".wal")
    assert wal.exists() and wal.stat().st_size > 0, "an activity write leaves its log to replay"

    elsewhere = db.Store(store.path)  # another process opens it: the log is replayed
    assert [e.object_id for e in db.list_events(elsewhere, "enc-1", "sentence.viewed")] == ["s0"]
    db.add_term(elsewhere, "dr-a", "metformin", "dr-a")
    assert store.content_stamp() != content, "a change elsewhere empties the caches"
    assert not wal.exists() or wal.stat().st_size == 0, "any other write folds the log in"
    assert [e.object_id for e in db.list_events(store, "enc-1", "sentence.viewed")] == ["s0"]
