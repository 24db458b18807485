"""`scribe retention apply`: old audio is deleted (recorded first, so a crash is finished by a
rerun), the text is kept (de-identified with --text-days), dry runs change nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from pipelines.types import Draft, Entity, Evidence, NoteSentence
from tests.conftest import make_transcript, open_review, seed_encounter
from workbench import store as st
from workbench.cli import app
from workbench.jobs import Engine, PipelineOptions, process_encounter
from workbench.retention import RetentionPolicy, apply_retention
from workbench.store import purge
from workbench.store.db import utcnow

TURNS = [
    ("clinician", "Good morning Mr Smith, how is the cough?"),
    ("patient", "Better, Doctor Jones. Call me on 555 0100."),
]


def _stub_deid(text: str, names=()) -> SimpleNamespace:
    """A stand-in de-identifier (pipelines.deid's contract): names and phone numbers."""
    text = re.sub(r"\b(Smith|Jones)\b", "[NAME]", text)
    return SimpleNamespace(text=re.sub(r"\b555 0100\b", "[PHONE]", text))


def _seed(data: Path, encounter_id: str, days_old: float) -> st.Store:
    """An encounter with its audio file, transcript, entities and note, ``days_old`` days old."""
    transcript = make_transcript(TURNS)
    seg = transcript.segments[1].text
    cough = transcript.segments[0].text.index("cough")
    entities = (Entity(0, cough, cough + 5, "cough", "PROBLEM"),)
    sentence = NoteSentence(
        "s0",
        "Subjective",
        "Mr Smith reports a better cough.",
        (Evidence(1, 0, len(seg), 1.0, 2.0),),
    )
    draft = Draft("soap", ("Subjective",), (sentence,), "test-v1")
    store = seed_encounter(data, encounter_id, transcript, entities=entities, draft=draft)
    # Back-date everything (a test-only write: nothing in the product edits created_at).
    then = utcnow() - timedelta(days=days_old)
    with store.transaction() as con:
        con.execute(
            "UPDATE encounters SET created_at = ? WHERE encounter_id = ?", [then, encounter_id]
        )
        con.execute(
            "UPDATE audio_files SET created_at = ? WHERE sha256 ="
            " (SELECT audio_sha256 FROM encounters WHERE encounter_id = ?)",
            [then, encounter_id],
        )
    return store


def _audio_file(store: st.Store, data: Path, encounter_id: str) -> Path:
    encounter = st.get_encounter(store, encounter_id)
    return data / st.get_audio(store, encounter.audio_sha256).stored_path


def test_dry_run_reports_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = _seed(data, "old", 40)
    events = len(st.list_events(store))
    report = apply_retention(
        store, data, RetentionPolicy(30, 10), "admin", dry_run=True, deidentify=_stub_deid
    )
    assert [a.encounter_ids for a in report.audio] == [("old",)] and report.texts == ["old"]
    assert report.files_deleted == 1 and report.bytes_freed > 0
    assert _audio_file(store, data, "old").exists()
    assert len(st.list_events(store)) == events
    assert st.get_audio(store, st.get_encounter(store, "old").audio_sha256).purged_at is None


def test_old_audio_goes_the_text_stays_and_a_rerun_does_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = _seed(data, "old", 40)
    report = apply_retention(store, data, RetentionPolicy(30), "admin")
    assert [a.encounter_ids for a in report.audio] == [("old",)] and report.files_deleted == 1
    assert not _audio_file(store, data, "old").exists()
    audio = st.get_audio(store, st.get_encounter(store, "old").audio_sha256)
    assert audio.purged_at is not None
    [event] = st.list_events(store, "old", purge.AUDIO_PURGED)
    assert event.user_id == "admin" and event.after["audio_days"] == 30
    # The text is kept as it was.
    assert st.get_transcript(store, "old")[1].segments[0].text == TURNS[0][1]
    assert st.get_note(store, "old").draft.sentences[0].text.startswith("Mr Smith")
    again = apply_retention(store, data, RetentionPolicy(30), "admin")
    assert (again.audio, again.files_deleted) == ([], 0)
    assert len(st.list_events(store, "old", purge.AUDIO_PURGED)) == 1


def test_recent_audio_is_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = _seed(data, "new", 5)
    report = apply_retention(store, data, RetentionPolicy(30), "admin")
    assert report.audio == [] and _audio_file(store, data, "new").exists()


def test_a_run_killed_between_record_and_delete_is_finished_by_the_next(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = _seed(data, "old", 40)
    [due] = purge.list_stored_audio(store)
    purge.mark_audio_purged(store, due, "admin", {})  # committed; then the process died
    path = _audio_file(store, data, "old")
    assert path.exists()
    report = apply_retention(store, data, RetentionPolicy(30), "admin")
    assert report.audio == [] and report.files_deleted == 1 and not path.exists()
    assert len(st.list_events(store, "old", purge.AUDIO_PURGED)) == 1


def test_purged_audio_is_explained_not_a_crash(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = _seed(data, "old", 40)
    apply_retention(store, data, RetentionPolicy(30), "admin")
    # An encounter on that audio without a transcript: ASR says why it cannot run.
    sha = st.get_encounter(store, "old").audio_sha256
    st.add_encounter(store, st.EncounterRecord("again", "Again", audio_sha256=sha), "dr-a")
    with pytest.raises(st.NotFound, match="purged by the retention policy"):
        process_encounter(store, data, Engine(PipelineOptions(), store), "again", "dr-a")


def test_review_page_says_the_audio_was_purged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    store = _seed(data, "old", 40)
    apply_retention(store, data, RetentionPolicy(30), "admin")
    at = open_review(monkeypatch, data, "old")
    assert any("Audio purged by retention policy" in i.value for i in at.info)
    assert not at.get("audio"), "no player for a deleted file"


def test_text_older_than_text_days_is_de_identified_everywhere(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = _seed(data, "old", 40)
    note = st.get_note(store, "old")
    edited = (
        NoteSentence(
            "s0",
            "Subjective",
            "Mr Smith: cough better, phone 555 0100.",
            note.draft.sentences[0].evidence,
        ),
    )
    st.save_note(store, "old", note.version, edited, "dr-a")
    report = apply_retention(store, data, RetentionPolicy(365, 30), "admin", deidentify=_stub_deid)
    assert report.texts == ["old"] and report.audio == []
    _, transcript = st.get_transcript(store, "old")
    assert [s.text for s in transcript.segments] == [
        "Good morning Mr [NAME], how is the cough?",
        "Better, Doctor [NAME]. Call me on [PHONE].",
    ]
    words = "".join(w.text for w in transcript.segments[1].words)
    assert "Jones" not in words and "[NAME]" in words
    [cough] = st.get_entities(store, "old")  # offsets follow the shorter text
    assert transcript.segments[0].text[cough.start : cough.end] == "cough" == cough.text
    latest = st.get_note(store, "old")
    assert latest.draft.sentences[0].text == "Mr [NAME]: cough better, phone [PHONE]."
    ev = latest.draft.sentences[0].evidence[0]
    assert (ev.start_char, ev.end_char) == (0, len(transcript.segments[1].text))
    dumped = json.dumps(
        [e.before for e in st.list_events(store, "old")]
        + [e.after for e in st.list_events(store, "old")]
    )
    assert "Smith" not in dumped and "555 0100" not in dumped
    [event] = st.list_events(store, "old", purge.TEXT_DEIDENTIFIED)
    assert event.after["texts"] >= 4 and event.after["text_days"] == 30
    assert purge.text_purged_at(store, "old") is not None
    again = apply_retention(store, data, RetentionPolicy(365, 30), "admin", deidentify=_stub_deid)
    assert again.texts == []


def test_real_deid_module_when_present(tmp_path: Path) -> None:
    deid = pytest.importorskip("pipelines.deid")  # the deid helper's branch
    data = tmp_path / "data"
    store = _seed(data, "old", 40)
    apply_retention(store, data, RetentionPolicy(365, 30), "admin", deidentify=deid.deidentify)
    texts = [s.text for s in st.get_transcript(store, "old")[1].segments]
    assert not any("Smith" in t or "555 0100" in t for t in texts), texts


def test_offset_shift_inside_before_and_after_a_replacement() -> None:
    edits = [(4, 9, "[NAME]")]  # "Hi, Smith!" -> "Hi, [NAME]!"
    assert [purge.shift(o, edits) for o in (0, 4, 6, 9, 10)] == [0, 4, 4, 10, 11]
    assert purge.shift(6, edits, end=True) == 10


def test_command_dry_run_and_apply(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = _seed(data, "old", 40)
    runner = CliRunner()
    base = ["--data-dir", str(data), "retention", "apply", "--audio-days", "30"]
    dry = runner.invoke(app, [*base, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would purge 1 file(s) of 1 encounter(s)" in dry.output and "audio  old" in dry.output
    assert _audio_file(store, data, "old").exists()
    done = runner.invoke(app, [*base, "--json"])
    assert json.loads(done.output)["encounters_audio_purged"] == ["old"]
    assert not _audio_file(store, data, "old").exists()
    bad = runner.invoke(app, ["--data-dir", str(data), "retention", "apply", "--audio-days", "-1"])
    assert bad.exit_code == 2 and "0 or more" in bad.output


def test_annotations_follow_the_de_identified_text(tmp_path: Path) -> None:
    """Annotators' spans move with the shorter text; their free texts and the gold lose the
    names too."""
    from pipelines.types import Annotation
    from workbench.store import annotation_tasks as tasks
    from workbench.store.access import Actor

    data = tmp_path / "data"
    store = _seed(data, "old", 40)
    for user in ("ann", "lead"):
        st.ensure_user(store, user, user, "annotator")
    lead = store.as_actor(Actor("lead", "annotator", frozenset({"lead"})))
    task = tasks.create_task(lead, "old", "entities", "ann")
    cough = TURNS[0][1].index("cough")
    ann = store.as_actor(Actor("ann", "annotator", frozenset({"phi"})))
    span = Annotation("c", "span", "PROBLEM", 0, cough, cough + 5)
    tasks.save_annotations(ann, task.task_id, [span], revision=0)
    check = tasks.create_task(lead, "old", "transcript", "ann")
    fixed = {"text": "Better, Doctor Jones. Call me on 555 0101."}
    tasks.save_annotations(
        ann, check.task_id, [Annotation("w", "transcript_check", "words_wrong", 1, value=fixed)],
        revision=0,
    )
    tasks.submit_task(ann, check.task_id, revision=1)
    tasks.set_gold(lead, "old", "transcript", [], method="task", chosen_task=check.task_id)
    with store.connect() as con:
        assert "Jones" in con.execute("SELECT annotations FROM annotation_gold").fetchone()[0]

    apply_retention(store, data, RetentionPolicy(365, 30), "admin", deidentify=_stub_deid)
    [moved] = tasks.task_annotations(store, task.task_id)
    text = st.get_transcript(store, "old")[1].segments[0].text
    assert "Smith" not in text and text[moved.start_char : moved.end_char] == "cough" == moved.text
    [check_label] = tasks.task_annotations(store, check.task_id)
    assert "Jones" not in check_label.value["text"]
    with store.connect() as con:
        gold = con.execute("SELECT annotations FROM annotation_gold").fetchone()[0]
    assert "Jones" not in gold and "[NAME]" in gold
