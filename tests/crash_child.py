"""A child process for tests/test_crash_safety.py: writes through the store in a loop and
prints a line for every write once it is committed, until the parent SIGKILLs it.

    python -m tests.crash_child MODE DATA_DIR [ARG]

Modes: ``notes`` (autosave + save of note edits on encounter ARG, consent changes),
``pipeline`` (new encounters with a large transcript, entities, draft), ``ingest`` (unique
WAV files from ARG's folder, ingested one after another), ``open`` (open, and so migrate, the
store).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from pipelines.types import Draft, Entity, Evidence, NoteSentence
from tests.conftest import make_transcript
from workbench import store as st
from workbench.ingest import ingest_file
from workbench.store import autosave

USER = "dr-crash"
SEGMENTS, WORDS_PER_SEGMENT = 200, 12


def _say(line: str) -> None:
    print(line, flush=True)  # the parent trusts only what it has read


def notes(store: st.Store, encounter_id: str) -> None:
    i = 0
    while True:
        note = st.get_note(store, encounter_id)
        text = f"Edit number {i} of the first sentence."
        first = replace(note.draft.sentences[0], text=text, origin="human")
        sentences = (first, *note.draft.sentences[1:])
        autosave.put_autosave(store, encounter_id, note.version, USER, sentences)
        version = autosave.save_version(store, encounter_id, note.version, sentences, USER)
        _say(f"SAVED {version} {text}")
        if i % 4 == 0:
            granted = i % 8 == 0
            st.set_consent(store, encounter_id, granted, USER)
            _say(f"CONSENT {granted}")
        i += 1


def pipeline(store: st.Store) -> None:
    start = len(st.list_encounters(store))
    for i in range(start, start + 10_000):
        eid = f"p-{i:05d}"
        st.add_encounter(store, st.EncounterRecord(eid, "Crash visit"), USER)
        words = " ".join(f"w{k}" for k in range(WORDS_PER_SEGMENT))
        transcript = make_transcript([("patient", words)] * SEGMENTS)
        version = st.save_transcript(store, eid, transcript, USER)
        _say(f"TRANSCRIPT {eid} {version}")
        entities = tuple(Entity(k, 0, 2, "w0", "PROBLEM") for k in range(SEGMENTS))
        st.save_entities(store, eid, version, entities, "crash.v1", USER)
        _say(f"ENTITIES {eid}")
        sentences = tuple(
            NoteSentence(f"s{k}", "Plan", f"Sentence {k}.", (Evidence(k, 0, 2, 0.0, 1.0),))
            for k in range(50)
        )
        st.save_draft(store, eid, Draft("soap", ("Plan",), sentences, "crash.v1"), version, USER)
        _say(f"DRAFT {eid}")


def ingest(store: st.Store, data: Path, folder: Path) -> None:
    for path in sorted(folder.glob("*.wav")):
        result = ingest_file(store, data, path, USER)
        _say(f"INGESTED {result.encounter_id} {result.audio.sha256}")


def main(argv: list[str]) -> None:
    mode, data = argv[0], Path(argv[1])
    store = st.open_store(data)
    _say("OPEN")
    if mode == "notes":
        notes(store, argv[2])
    elif mode == "pipeline":
        pipeline(store)
    elif mode == "ingest":
        ingest(store, data, Path(argv[2]))


if __name__ == "__main__":
    main(sys.argv[1:])
