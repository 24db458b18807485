"""One workbench process writing corrections to a shared store, for the two-writer test and
the write benchmark (``tests/test_lake_concurrency.py``, ``benchmarks/scale_lake.py``).

    python -m tests.lake_writer HOME USER ROUNDS ENCOUNTER... [--lake URL] [--race DIR] [--terms]

For each round and each encounter it makes three corrections through the store's own
functions, as the Review page does: a transcript word fix (a new transcript version plus its
``transcript.word_corrected`` event, written together), an entity relabel and a note
sentence edit. A correction that meets ``ConcurrentEdit`` (another process saved first) is
re-read and retried, as a person reloading would. Each acknowledged correction is printed as
one JSON line (kind, encounter, new version, unique token, events written, seconds, and
``at``: the wall-clock time it was acknowledged).
``--race DIR`` first makes one note edit on ``race-note`` from the same base version as the
other writer (a file barrier in DIR) and prints whether it was saved or got ConcurrentEdit.
``--terms`` also adds one vocabulary term per round (a row whose id ``store.ids`` allocates)
and prints it (kind ``term``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from pipelines.transcript_edit import SegmentFix, apply_fix
from workbench import store as st
from workbench.store.events import insert_events, new_event

RELABEL = {"PROBLEM": "TEST", "TEST": "PROBLEM"}  # toggled, so every relabel changes it
TERM_OWNER = "shared-vocabulary"  # both writers add terms to one vocabulary


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def fix_word(store: st.Store, enc: str, user: str, token: str) -> dict:
    """Replace the last word of segment 0 with ``token``: a new transcript version and its
    event in one transaction (what ``workbench.corrections.correct_transcript`` writes,
    without the NLP re-run)."""
    while True:
        base, transcript = st.get_transcript(store, enc)
        segment = transcript.segments[0]
        words = segment.text.split()
        fixed, changes = apply_fix(segment, SegmentFix(0, text=" ".join([*words[:-1], token])))
        corrected = transcript.with_segments((fixed, *transcript.segments[1:]))
        try:
            with store.transaction() as con:
                version = st.save_transcript(
                    store, enc, corrected, user, kind="corrected", base_version=base
                )
                events = [
                    new_event(
                        user,
                        enc,
                        c.kind,
                        object_type="segment",
                        object_id=f"{enc}/transcript/{version}/segment/{c.segment_idx}",
                        before=c.before,
                        after=c.after,
                        model_version=transcript.model,
                    )
                    for c in changes
                ]
                insert_events(con, events)
            return {"version": version, "events": len(events)}
        except st.ConcurrentEdit:
            continue


def relabel(store: st.Store, enc: str, user: str, index: int) -> dict:
    """Toggle entity ``index``'s label (PROBLEM <-> TEST) on the newest entity set."""
    while True:
        version = st.entity_set_version(store, enc)
        entity = st.get_entity_set(store, enc, version).entities[index]
        try:
            new = st.relabel_entity(store, enc, version, index, RELABEL[entity.label], user)
            return {"version": new, "events": 1, "label": RELABEL[entity.label]}
        except st.ConcurrentEdit:
            continue


def edit_note(store: st.Store, enc: str, user: str, token: str) -> dict:
    """Append ``token`` to the note's first sentence, as a new note version."""
    while True:
        note = st.get_note(store, enc)
        sentences = list(note.draft.sentences)
        sentences[0] = replace(sentences[0], text=f"{sentences[0].text} {token}")
        try:
            version = st.save_note(store, enc, note.version, tuple(sentences), user)
            return {"version": version, "events": 1}
        except st.ConcurrentEdit:
            continue


def race(store: st.Store, user: str, barrier: Path) -> None:
    """Both writers read the same note version, meet at the barrier, then save."""
    note = st.get_note(store, "race-note")
    (barrier / user).touch()
    deadline = time.monotonic() + 60
    while len(list(barrier.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    sentences = list(note.draft.sentences)
    token = f"race-{user}"
    sentences[0] = replace(sentences[0], text=f"{sentences[0].text} {token}")
    try:
        version = st.save_note(store, "race-note", note.version, tuple(sentences), user)
        emit(kind="race", outcome="saved", base=note.version, version=version, token=token)
    except st.ConcurrentEdit:
        emit(kind="race", outcome="ConcurrentEdit", base=note.version, token=token)


def correct(store: st.Store, kind: str, enc: str, user: str, token: str) -> dict:
    """One correction of ``kind`` (transcript, entity, note); its acknowledgement."""
    if kind == "transcript":
        return fix_word(store, enc, user, token)
    if kind == "entity":
        return relabel(store, enc, user, 0)
    return edit_note(store, enc, user, token)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("home", type=Path)
    parser.add_argument("user")
    parser.add_argument("rounds", type=int)
    parser.add_argument("encounters", nargs="+")
    parser.add_argument("--lake", default=None)
    parser.add_argument("--race", type=Path, default=None)
    parser.add_argument("--terms", action="store_true")
    args = parser.parse_args(argv)
    lake = st.parse_lake_url(args.lake) if args.lake else None
    store = st.open_store(args.home, key=None, lake=lake)
    if args.race is not None:
        race(store, args.user, args.race)
    for n in range(args.rounds):
        for enc in args.encounters:
            token = f"{args.user}-r{n}"
            for kind in ("transcript", "entity", "note"):
                started = time.perf_counter()
                result = correct(store, kind, enc, args.user, token)
                emit(kind=kind, encounter=enc, token=token, user=args.user,
                     seconds=time.perf_counter() - started, at=time.time(), **result)  # fmt: skip
        if args.terms:  # a new row numbered by store.ids, while the other writer numbers too
            term = f"{args.user}-r{n}"
            if not st.add_term(store, TERM_OWNER, term, args.user):
                raise SystemExit(f"term {term} was already there")
            emit(kind="term", term=term, user=args.user)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
