"""SIGKILL at random moments while the store is written: the database opens consistent, no
committed edit is lost, and an interrupted `scribe process` resumes and finishes.

Each trial runs a real child process (tests/crash_child.py, or the `scribe` CLI) that prints
a line for every committed write, kills it with SIGKILL at a seeded random moment, then
opens the database and checks it.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import pytest

from tests.conftest import REPO, make_draft, make_transcript
from workbench import store as st
from workbench.store.migrations import available_migrations

PYTHON = sys.executable


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), SCRIBE_USER="dr-crash")


def run_and_kill(
    args: list[str],
    rng: random.Random,
    lines_before: int,
    max_delay_s: float,
    timeout_s: float = 120,
) -> list[str]:
    """Start ``args`` (a new process, as in production: forked from pytest's own process,
    DuckDB behaved differently), wait for ``lines_before`` lines after its first, then SIGKILL
    it a random moment later. Returns every line it printed."""
    child = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(), cwd=REPO
    )
    return _kill_when_ready(
        child.pid, child.stdout, rng, lines_before, max_delay_s, timeout_s, child.wait
    )


def crash_child(*args: str) -> list[str]:
    """The command line of ``tests/crash_child.py``."""
    return [PYTHON, "-m", "tests.crash_child", *args]


def _kill_when_ready(pid, stream, rng, lines_before, max_delay_s, timeout_s, wait) -> list[str]:
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        for line in stream:
            lines.append(line.rstrip("\n"))
            if len(lines) > lines_before:
                ready.set()
        ready.set()  # the child ended by itself

    if lines_before < 0:  # kill on time alone (the child prints nothing on stdout)
        ready.set()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert ready.wait(timeout_s), "the child never got going"
    time.sleep(rng.uniform(0, max_delay_s))
    os.kill(pid, signal.SIGKILL)
    wait(timeout_s)
    reader.join(timeout_s)
    return lines


# Opening in a new process matters: an open inside this (pytest) process replayed logs that a
# fresh process could not (DuckDB 1.5.5, "Failure while replaying WAL file"). It opens through
# the store, as the next start would: a plain ``duckdb.connect`` (checkpoint on shutdown)
# after a crash was seen to fold the replayed log in with wrong row-group statistics, after
# which filtered reads missed committed rows; the store's explicit CHECKPOINT did not.
_FRESH_OPEN = (
    "import sys\n"
    "from pathlib import Path\n"
    "from workbench import store as st\n"
    "for data in sys.argv[1:]:\n"
    "    st.open_store(Path(data))\n"
)


def fresh_open(*data_dirs: Path) -> None:
    """Open each database as the next start of the workbench would: in a new process."""
    opened = subprocess.run(
        [PYTHON, "-c", _FRESH_OPEN, *map(str, data_dirs)],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
        cwd=REPO,
    )
    assert opened.returncode == 0, opened.stderr[-600:]


def check_consistent(data: Path) -> st.Store:
    """Open the killed process's database and check it is whole: migrations at head, every
    transcript, entity set and note version complete and matched by its event, stored audio
    files complete."""
    fresh_open(data)
    store = st.open_store(data)
    head = max(m.version for m in available_migrations())
    assert st.schema_version(store) == head
    with store.connect() as con:
        q = con.execute
        for eid, version in q("SELECT encounter_id, version FROM transcripts").fetchall():
            segments = q(
                "SELECT count(*) FROM segments WHERE encounter_id = ? AND transcript_version = ?",
                [eid, version],
            ).fetchone()[0]
            recorded = q(
                "SELECT after->>'segments' FROM events WHERE object_id = ?"
                " AND kind LIKE 'transcript.%'",
                [f"{eid}/transcript/{version}"],
            ).fetchall()
            assert [int(r[0]) for r in recorded] == [segments], (eid, version, "transcript")
        for eid, version in q("SELECT encounter_id, version FROM entity_sets").fetchall():
            count = q(
                "SELECT count(*) FROM entities WHERE encounter_id = ? AND set_version = ?",
                [eid, version],
            ).fetchone()[0]
            recorded = q(
                "SELECT after->>'entities' FROM events WHERE kind = 'entities.extracted'"
                " AND object_id = ?",
                [f"{eid}/entities/{version}"],
            ).fetchall()
            assert [int(r[0]) for r in recorded] in ([count], []), (eid, version, "entities")
        for eid, version in q("SELECT encounter_id, version FROM notes").fetchall():
            sentences = q(
                "SELECT count(*) FROM note_sentences WHERE encounter_id = ? AND note_version = ?",
                [eid, version],
            ).fetchone()[0]
            assert sentences > 0, (eid, version, "a note version without sentences")
            kinds = [
                r[0]
                for r in q(
                    "SELECT kind FROM events WHERE encounter_id = ? AND note_version = ?",
                    [eid, version],
                ).fetchall()
            ]
            assert {"note.drafted", "note.saved"} & set(kinds), (eid, version, kinds)
        # Every event that names a version names one that exists.
        missing = q(
            "SELECT count(*) FROM events e WHERE e.kind IN ('note.drafted', 'note.saved')"
            " AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.encounter_id ="
            " e.encounter_id AND n.version = e.note_version)"
        ).fetchone()[0]
        assert missing == 0
        audio = q(
            "SELECT a.sha256, a.stored_path FROM audio_files a WHERE NOT EXISTS"
            " (SELECT 1 FROM audio_purges p WHERE p.sha256 = a.sha256)"
        ).fetchall()
    for sha, stored in audio:  # no row without its whole file
        assert hashlib.sha256((data / stored).read_bytes()).hexdigest() == sha
    return store


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_note_saves_killed_at_random_lose_no_committed_edit(
    store: st.Store, encounter: str, seed: int
) -> None:
    data = store.path.parent
    rng = random.Random(seed)
    trials, saved = 4, {}
    for _ in range(trials):
        lines = run_and_kill(
            crash_child("notes", str(data), encounter),
            rng,
            lines_before=rng.randint(1, 4),
            max_delay_s=0.3,
        )
        for line in lines:
            if line.startswith("SAVED "):
                version, text = line.split(" ", 2)[1:]
                saved[int(version)] = text
        store = check_consistent(data)
    assert len(saved) >= trials, "every trial committed some saves"
    lost = [
        v
        for v, text in saved.items()
        if st.get_note(store, encounter, v).draft.sentences[0].text != text
    ]
    assert lost == []
    # The killed process's pending autosave is intact (or cleared by its save): never torn.
    pending = st.get_note(store, encounter).draft.sentences
    assert len(pending) == len(st.get_note(store, encounter, 1).draft.sentences)


@pytest.mark.parametrize("seed", [11, 12])
def test_pipeline_writes_killed_at_random_leave_no_half_version(tmp_path: Path, seed: int):
    data = tmp_path / "data"
    st.open_store(data)
    rng = random.Random(seed)
    committed: list[str] = []
    for _ in range(4):
        lines = run_and_kill(
            crash_child("pipeline", str(data)), rng, lines_before=rng.randint(0, 4), max_delay_s=0.6
        )
        committed += [
            line for line in lines if line.split(" ")[0] in ("TRANSCRIPT", "ENTITIES", "DRAFT")
        ]
        store = check_consistent(data)
    from tests.crash_child import SEGMENTS, WORDS_PER_SEGMENT

    assert committed
    for line in committed:
        kind, eid = line.split(" ")[:2]
        if kind == "TRANSCRIPT":
            _, transcript = st.get_transcript(store, eid)
            assert len(transcript.segments) == SEGMENTS
            assert sum(len(s.words) for s in transcript.segments) == SEGMENTS * WORDS_PER_SEGMENT
        elif kind == "ENTITIES":
            assert len(st.get_entities(store, eid)) == SEGMENTS
        else:
            assert len(st.get_note(store, eid).draft.sentences) == 50


def test_a_fresh_database_killed_while_migrating_opens_at_head(tmp_path: Path) -> None:
    rng = random.Random(3)
    for trial in range(6):
        data = tmp_path / f"data-{trial}"
        child = subprocess.Popen(
            crash_child("open", str(data)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=_env(),
            cwd=REPO,
        )
        # Wait for the file to appear: the migrations are running now.
        deadline = time.monotonic() + 60
        while not (data / st.DB_FILENAME).exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 1.2))  # migrating a blank database takes about 1 s here
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        check_consistent(data)


def test_a_process_that_dies_right_after_any_migration_commits_leaves_it_usable(
    tmp_path: Path,
) -> None:
    """Deterministic, for every migration: migrate to just before it, then apply it in a
    child that dies the moment it commits (no close, no checkpoint); a new process must open
    the database. The writers run outside pytest: forked from pytest's own process, DuckDB
    wrote logs that replayed where a plain process's did not."""
    count = len(available_migrations())
    dirs = [tmp_path / f"data-{index}" for index in range(count)]
    subprocess.run(
        [PYTHON, "-c", _DIE_AFTER_EACH_MIGRATION, *map(str, dirs)],
        check=True,
        env=_env(),
        cwd=REPO,
        timeout=300,
    )
    fresh_open(*dirs)
    for data in dirs:
        check_consistent(data)


_DIE_AFTER_EACH_MIGRATION = """
import os, sys
from pathlib import Path
from workbench import store as st
from workbench.store.migrations import available_migrations, migrate
migrations = available_migrations()
for index, data in enumerate(sys.argv[1:]):
    store = st.Store(Path(data) / st.DB_FILENAME)
    migrate(store, migrations[:index])
    pid = os.fork()
    if pid == 0:
        with store.connect():
            migrate(store, migrations[: index + 1])
            os._exit(0)  # dies holding the connection: nothing folded in on close
    os.waitpid(pid, 0)
"""


def _wav(path: Path, seconds: float, hz: float) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        frames = (
            int(8000 * math.sin(2 * math.pi * hz * n / 16000)) for n in range(int(16000 * seconds))
        )
        out.writeframes(b"".join(struct.pack("<h", f) for f in frames))


def test_ingest_killed_midway_leaves_no_partial_stored_audio(tmp_path: Path) -> None:
    from workbench.ingest import ingest_file

    folder = tmp_path / "incoming"
    folder.mkdir()
    for k in range(12):
        _wav(folder / f"visit-{k:02d}.wav", 20, 220 + 10 * k)
    data = tmp_path / "data"
    st.open_store(data)
    rng = random.Random(5)
    for _ in range(3):
        run_and_kill(
            crash_child("ingest", str(data), str(folder)),
            rng,
            lines_before=rng.randint(0, 3),
            max_delay_s=0.4,
        )
        store = check_consistent(data)
        for stored in (data / "audio").glob("*/*.*"):  # whole files only, named by content
            assert hashlib.sha256(stored.read_bytes()).hexdigest() == stored.name.split(".")[0]
    # Ingesting again adopts every file and adds no twin; the next copy removes any
    # half-copy a kill left behind.
    for path in sorted(folder.glob("*.wav")):
        ingest_file(store, data, path, "dr-crash")
    _wav(tmp_path / "later.wav", 5, 990)
    ingest_file(store, data, tmp_path / "later.wav", "dr-crash")
    assert len(st.list_encounters(store)) == 13
    assert not list((data / "audio").glob("*/.ingest-*"))
    check_consistent(data)


@pytest.mark.slow
def test_scribe_process_killed_at_random_resumes_and_finishes(tmp_path: Path) -> None:
    """The real pipeline (ASR, NLP, drafting, support check) on an ingested clip, killed three
    times at random moments; the next `scribe process --all` finishes the job."""
    data = tmp_path / "data"
    clip = REPO / "tests" / "fixtures" / "asr_short" / "audio.ogg"
    cli = [PYTHON, "-m", "workbench.cli", "--data-dir", str(data)]
    subprocess.run(
        [*cli, "ingest", str(clip)], check=True, env=_env(), cwd=REPO, capture_output=True
    )
    rng = random.Random(13)
    for _ in range(3):
        run_and_kill([*cli, "process", "--all"], rng, lines_before=-1, max_delay_s=20)
        check_consistent(data)
    done = subprocess.run(
        [*cli, "process", "--all"],
        env=_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    store = check_consistent(data)
    [summary] = st.list_encounters(store)
    eid = summary.encounter.encounter_id
    assert [v for v, *_ in st.list_note_versions(store, eid)] == [1], "drafted exactly once"
    assert st.latest_transcript_version(store, eid) == 1, "transcribed exactly once"
    assert st.get_entities(store, eid) is not None
    assert len(st.list_events(store, eid, "note.drafted")) == 1


def test_helpers_see_a_real_encounter(store: st.Store, encounter: str) -> None:
    """The consistency check accepts a sound database (so its failures above mean
    something) and notices a note version whose sentences are missing."""
    check_consistent(store.path.parent)
    transcript = make_transcript([("patient", "A cough.")])
    st.save_draft(store, encounter, make_draft(transcript), 1, "dr-a")
    with store.transaction() as con:  # damage it by hand, as a torn write would
        con.execute(
            "DELETE FROM note_sentences WHERE encounter_id = ? AND note_version = 2", [encounter]
        )
    with pytest.raises(AssertionError, match="without sentences"):
        check_consistent(store.path.parent)


def test_half_copies_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    from workbench.ingest import remove_partial_copies

    shard = tmp_path / "audio" / "ab"
    shard.mkdir(parents=True)
    dead = subprocess.run(
        [PYTHON, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    ).stdout.strip()  # a pid that just ended
    (shard / f".ingest-{dead}-x1").write_bytes(b"half")
    (shard / f".ingest-{os.getpid()}-x2").write_bytes(b"being written")
    (shard / "ab12.wav").write_bytes(b"whole")
    assert remove_partial_copies(tmp_path / "audio") == 1
    assert sorted(p.name for p in shard.iterdir()) == [f".ingest-{os.getpid()}-x2", "ab12.wav"]
