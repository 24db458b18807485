"""Two workbench processes correcting at the same time in one shared store (DuckLake).

Two users, each in their own process (``tests/lake_writer.py``), make transcript word fixes,
entity relabels and note edits on their own encounter and on one they share, all at once.
Afterwards a reviewer would find: every acknowledged correction stored exactly once, one
event per acknowledged change and no more, unique event ids, transcript, entity-set and note
versions numbered 1..N without gaps or repeats, and of two edits of one note from the same
base version, one saved and the other told ConcurrentEdit (not silently overwritten), and
vocabulary terms both added at once each stored under an id of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import REPO
from tests.lake_support import seed
from tests.lake_writer import TERM_OWNER
from workbench import store as st

ROUNDS = 3


def run_writers(home: Path, lake_url: str, race_dir: Path) -> dict[str, list[dict]]:
    """Both writer processes, started together; their acknowledged writes by user."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = {
        user: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.lake_writer",
                str(home / user),
                user,
                str(ROUNDS),
                f"enc-{user}",
                "enc-shared",
                "--lake",
                lake_url,
                "--race",
                str(race_dir),
                "--terms",
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for user in ("dr-a", "dr-b")
    }
    out = {}
    for user, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        assert proc.returncode == 0, stderr[-3000:]
        out[user] = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return out


def test_two_processes_correct_at_once_without_lost_or_duplicated_writes(
    lake_url: str, tmp_path: Path
) -> None:
    store = st.open_store(tmp_path / "seed", key=None, lake=st.parse_lake_url(lake_url))
    for enc in ("enc-dr-a", "enc-dr-b", "enc-shared", "race-note"):
        seed(store, enc)
    before = Counter(e.kind for e in st.list_events(store))
    (tmp_path / "race").mkdir()

    acks = run_writers(tmp_path, lake_url, tmp_path / "race")

    # The note edit both made from the same base version: one saved, one refused.
    races = {user: next(a for a in acked if a["kind"] == "race") for user, acked in acks.items()}
    outcomes = sorted(r["outcome"] for r in races.values())
    assert outcomes == ["ConcurrentEdit", "saved"], races
    assert {r["base"] for r in races.values()} == {1}
    winner = next(r for r in races.values() if r["outcome"] == "saved")
    loser = next(r for r in races.values() if r["outcome"] == "ConcurrentEdit")
    race_note = st.get_note(store, "race-note")
    assert race_note.version == 2 and winner["version"] == 2
    assert winner["token"] in race_note.draft.sentences[0].text
    assert loser["token"] not in race_note.draft.sentences[0].text  # refused, not merged

    writes = [a for acked in acks.values() for a in acked if a["kind"] not in ("race", "term")]
    assert len(writes) == 2 * ROUNDS * 2 * 3, "every correction was acknowledged"

    # Ids from store.ids, allocated by both processes at once: every acknowledged term stored
    # once, under its own id, none lost or given twice.
    terms = [a["term"] for acked in acks.values() for a in acked if a["kind"] == "term"]
    assert len(terms) == 2 * ROUNDS
    with store.connect() as con:
        rows = con.execute(
            "SELECT seq, term FROM vocabulary WHERE owner = ?", [TERM_OWNER]
        ).fetchall()
    assert sorted(term for _, term in rows) == sorted(terms)
    assert sorted(seq for seq, _ in rows) == list(range(1, 1 + len(terms))), rows

    # Events: exactly one per acknowledged change, unique ids.
    events = st.list_events(store)
    assert len({e.event_id for e in events}) == len(events)
    added = Counter(e.kind for e in events) - before
    transcripts = [a for a in writes if a["kind"] == "transcript"]
    notes = sum(1 for a in writes if a["kind"] == "note") + 1  # + the race's saved edit
    assert added == Counter(
        {
            "transcript.corrected": len(transcripts),  # the new version (save_transcript)
            "transcript.word_corrected": sum(a["events"] for a in transcripts),
            "entity.relabelled": sum(1 for a in writes if a["kind"] == "entity"),
            "note.saved": notes,
            "sentence.edited": notes,
            "vocabulary.add": len(terms),
        }
    ), added

    for enc in ("enc-dr-a", "enc-dr-b", "enc-shared"):
        mine = [a for a in writes if a["encounter"] == enc]
        by_kind = {k: [a for a in mine if a["kind"] == k] for k in ("transcript", "entity", "note")}
        # Versions: 1 (seeded) then one per acknowledged write, each acknowledged once.
        for kind, acked in by_kind.items():
            versions = sorted(a["version"] for a in acked)
            assert versions == list(range(2, 2 + len(acked))), (enc, kind, versions)
        note_versions = [v for v, *_ in st.list_note_versions(store, enc)]
        assert sorted(note_versions) == list(range(1, 2 + len(by_kind["note"])))
        assert st.latest_transcript_version(store, enc) == 1 + len(by_kind["transcript"])
        assert st.entity_set_version(store, enc) == 1 + len(by_kind["entity"])
        # Each acknowledged fix is in the version it made, with its event pointing there.
        for ack in by_kind["transcript"]:
            _, transcript = st.get_transcript(store, enc, ack["version"])
            assert transcript.segments[0].text.split()[-1] == ack["token"]
            assert (
                sum(
                    1
                    for e in events
                    if e.object_id == f"{enc}/transcript/{ack['version']}/segment/0"
                )
                == ack["events"]
            )
        # Every note edit's token is in the final note exactly once (none lost, none twice).
        final = st.get_note(store, enc).draft.sentences[0].text.split()
        for ack in by_kind["note"]:
            assert final.count(ack["token"]) == 1, (enc, ack["token"], final)
        # Relabels toggle: the final label follows from their number.
        label = st.get_entity_set(store, enc).entities[0].label
        assert label == ("PROBLEM", "TEST")[len(by_kind["entity"]) % 2]

    # The shared encounter really was written by both.
    shared_users = {a["user"] for a in writes if a["encounter"] == "enc-shared"}
    assert shared_users == {"dr-a", "dr-b"}
