"""The store's SQL on DuckLake: each correction flow, run on a single-file store and on a
lake-backed one (PostgreSQL catalog + Parquet), leaves the same rows a user sees (texts,
versions, labels, event kinds; ids that ``workbench.store.ids`` numbers, too), plus the
analytics refresh and a small simulated run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pipelines.code_suggestions import CodeSuggestion
from pipelines.nlp import NlpOptions, load_nlp
from pipelines.transcript_edit import SegmentFix
from pipelines.types import Entity, SupportResult
from tests.conftest import make_draft, make_transcript
from workbench import store as st
from workbench.corrections import correct_transcript
from workbench.simulate import SimulationSpec, simulate
from workbench.store import analytics, autosave, labelstudio
from workbench.store import annotation_tasks as an
from workbench.store.access import Actor
from workbench.store.assignments import assign_encounter, assigned_encounters, unassign_encounter
from workbench.store.lake import parse_lake_url

TURNS = [
    ("clinician", "Any chest pain or shortness of breath?"),
    ("patient", "I have had a cough for three days and I take metformin daily."),
    ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
]
LEAD = Actor("lead", "annotator", frozenset({"lead"}))


def _span(seg: int, words: str, label: str) -> Entity:
    start = TURNS[seg][1].index(words)
    return Entity(seg, start, start + len(words), words, label)


MACHINE = (_span(0, "chest pain", "PROBLEM"), _span(1, "metformin", "MEDICATION"))


@pytest.fixture(scope="module")
def nlp():
    return load_nlp(NlpOptions(vocabularies=("curated",)))


@pytest.fixture
def stores(tmp_path: Path, lake_url: str) -> dict[str, st.Store]:
    """A seeded single-file store and a seeded lake store: encounter ``enc-1`` (dr-a's) with
    transcript 1, machine entity set 1 and draft 1; annotators ``lead`` and ``ann``."""
    made = {
        "file": st.open_store(tmp_path / "file", key=None, lake=None),
        "lake": st.open_store(tmp_path / "lake", key=None, lake=parse_lake_url(lake_url)),
    }
    for store in made.values():
        for user, role in (("dr-a", "clinician"), ("lead", "annotator"), ("ann", "annotator")):
            st.ensure_user(store, user, user, role)
        st.add_encounter(store, st.EncounterRecord("enc-1", "Visit", clinician_id="dr-a"), "dr-a")
        transcript = make_transcript(TURNS)
        version = st.save_transcript(store, "enc-1", transcript, "dr-a")
        st.save_entities(store, "enc-1", version, MACHINE, "nlp.test", "pipeline")
        st.save_draft(store, "enc-1", make_draft(transcript), version, "dr-a")
    return made


def on_both(stores: dict[str, st.Store], flow: Callable[[st.Store], Any]) -> Any:
    """Run ``flow`` on each store; the lake's result must equal the file's. Returns it."""
    seen = {name: flow(store) for name, store in stores.items()}
    assert seen["lake"] == seen["file"]
    return seen["file"]


def kinds(store: st.Store) -> Counter:
    return Counter(e.kind for e in st.list_events(store, "enc-1"))


def entities(store: st.Store) -> list[tuple]:
    return [(e.segment_idx, e.text, e.label, e.source) for e in st.get_entities(store, "enc-1")]


def sentences(store: st.Store, version: int | None = None) -> list[tuple[str, str, str]]:
    note = st.get_note(store, "enc-1", version)
    return [(s.sentence_id, s.section, s.text) for s in note.draft.sentences]


def test_the_stores_are_what_they_say(stores: dict[str, st.Store]) -> None:
    assert stores["file"].lake is None and stores["lake"].lake is not None
    with stores["file"].connect() as con:
        assert con.execute("SELECT count(*) FROM duckdb_sequences()").fetchone()[0] > 0
    with stores["lake"].connect() as con:  # DuckLake has none: ids come from store.ids
        assert con.execute("SELECT count(*) FROM duckdb_sequences()").fetchone()[0] == 0


def test_a_transcript_word_edit(stores: dict[str, st.Store], nlp) -> None:
    def flow(store: st.Store):
        fix = SegmentFix(1, text="I have had a cough and wheezing for three days.")
        result = correct_transcript(store, nlp, "enc-1", 1, [fix], "dr-a")
        _, corrected = st.get_transcript(store, "enc-1")
        return (
            result.transcript_version,
            [s.text for s in corrected.segments],
            entities(store),
            st.get_note(store, "enc-1").version,
            kinds(store),
        )

    version, texts, found, note_version, counted = on_both(stores, flow)
    assert version == 2 and texts[1] == "I have had a cough and wheezing for three days."
    assert {"cough", "wheezing"} <= {text for _, text, _, _ in found}
    assert note_version == 2 and counted["transcript.segment_corrected"] == 1


def test_entity_add_relabel_and_remove(stores: dict[str, st.Store]) -> None:
    def flow(store: st.Store):
        v2 = st.add_entity(store, "enc-1", 1, _span(2, "amoxicillin", "MEDICATION"), "dr-a")
        index = next(
            i for i, e in enumerate(st.get_entities(store, "enc-1")) if e.text == "metformin"
        )
        v3 = st.relabel_entity(store, "enc-1", v2, index, "PROBLEM", "dr-a")
        chest = next(
            i for i, e in enumerate(st.get_entities(store, "enc-1")) if e.text == "chest pain"
        )
        v4 = st.remove_entity(store, "enc-1", v3, chest, "dr-a")
        return (v2, v3, v4), entities(store), kinds(store)

    versions, found, counted = on_both(stores, flow)
    assert versions == (2, 3, 4)
    assert found == [
        (1, "metformin", "PROBLEM", "human"),
        (2, "amoxicillin", "MEDICATION", "human"),
    ]
    assert [counted[k] for k in ("entity.added", "entity.relabelled", "entity.removed")] == [
        1,
        1,
        1,
    ]


def test_note_edit_autosave_and_sign(stores: dict[str, st.Store]) -> None:
    def flow(store: st.Store):
        note = st.get_note(store, "enc-1")
        s0, s1 = note.draft.sentences
        pending = (replace(s0, text="Dry cough for three days.", origin="human"), s1)
        autosave.put_autosave(store, "enc-1", note.version, "dr-a", note.draft.sentences)
        autosave.put_autosave(store, "enc-1", note.version, "dr-a", pending)  # replaces it
        kept = autosave.get_autosave(store, "enc-1", "dr-a")
        with store.connect() as con:
            rows = con.execute("SELECT count(*) FROM note_autosaves").fetchone()[0]
        v2 = autosave.save_version(store, "enc-1", note.version, kept.sentences, "dr-a")
        cleared = autosave.get_autosave(store, "enc-1", "dr-a") is None
        autosave.put_autosave(store, "enc-1", v2, "dr-a", (replace(s1, text="Stop."),))
        discarded = autosave.discard_autosave(store, "enc-1", "dr-a")
        state = st.sign_note(store, "enc-1", v2, "dr-a")
        signed = [(s.note_version, s.signed_by) for s in st.list_signatures(store, "enc-1")]
        return rows, v2, cleared, discarded, state.sentences, signed, sentences(store), kinds(store)

    rows, v2, cleared, discarded, n, signed, texts, counted = on_both(stores, flow)
    assert (rows, v2, cleared, discarded, n) == (1, 2, True, True, 2)
    assert signed == [(2, "dr-a")] and texts[0][2] == "Dry cough for three days."
    assert counted["note.signed"] == 1 and counted[autosave.DISCARDED] == 1
    with pytest.raises(st.NoteLocked):
        st.save_note(stores["lake"], "enc-1", v2, (), "dr-a")


def test_vocabulary_terms_and_code_decisions_keep_their_numbering(
    stores: dict[str, st.Store],
) -> None:
    suggestion = CodeSuggestion("I10", "Essential (primary) hypertension", 3.0, (1,), 1)

    def flow(store: st.Store):
        added = [
            st.add_term(store, "dr-a", t, "dr-a") for t in ("apixaban", "Apixaban", "ramipril")
        ]
        removed = st.remove_term(store, "dr-a", "apixaban", "dr-a")
        with store.connect() as con:
            vocabulary = con.execute(
                "SELECT seq, term, action FROM vocabulary ORDER BY seq"
            ).fetchall()
        first = st.accept_code(store, "enc-1", suggestion, "dr-a", rank=1, entity_set_version=1)
        second = st.reject_code(store, "enc-1", suggestion, "dr-a", rank=1, entity_set_version=1)
        decisions = [(d.seq, d.code, d.decision) for d in st.list_code_decisions(store, "enc-1")]
        returned = (first.seq, second.seq)
        return added, removed, vocabulary, returned, decisions, st.list_terms(store, "dr-a")

    added, removed, vocabulary, returned, decisions, terms = on_both(stores, flow)
    assert added == [True, False, True] and removed and terms == ["ramipril"]
    assert vocabulary == [(1, "apixaban", "add"), (2, "ramipril", "add"), (3, "apixaban", "remove")]
    assert returned == (1, 2) and decisions == [(1, "I10", "accepted"), (2, "I10", "rejected")]


def test_support_checks_styles_and_model_activations_are_numbered_in_order(
    stores: dict[str, st.Store],
) -> None:
    def flow(store: st.Store):
        note = st.get_note(store, "enc-1")
        results = tuple(
            SupportResult(s.sentence_id, s.section, s.text, "supported", 1.0)
            for s in note.draft.sentences
        )
        check = st.NewSupportCheck("enc-1", note.version, 1, 1, "test", results, (), {})
        checks = [st.save_support(store, check, "dr-a") for _ in range(2)]
        labels = [r.label for r in st.get_support(store, "enc-1", note.version).results]
        style = {"version": "style.test", "notes": 3}
        styles = [st.save_style(store, "dr-a", style, "terse", "dr-a") for _ in range(2)]
        st.register_model(
            store, st.NewModel("ner-1", "ner", "models/ner-1", "nlp.x", 1, 2, 3), "adm"
        )
        st.activate_model(store, "ner-1", "adm")
        st.deactivate_model(store, "ner", "adm")
        with store.connect() as con:
            activations = con.execute(
                "SELECT seq, model_id FROM model_activations ORDER BY seq"
            ).fetchall()
        return checks, labels, styles, activations

    checks, labels, styles, activations = on_both(stores, flow)
    assert checks == [1, 2] and labels == ["supported", "supported"] and styles == [1, 2]
    assert activations == [(1, "ner-1"), (2, None)]


def test_annotation_task_assignment(stores: dict[str, st.Store]) -> None:
    def flow(store: st.Store):
        lead = store.as_actor(LEAD)
        task = an.create_task(lead, "enc-1", "entities", "ann")
        again = an.create_task(lead, "enc-1", "entities", "ann").task_id == task.task_id
        twice = assign_encounter(lead, "enc-1", "ann")  # already assigned: False
        taken = unassign_encounter(lead, "enc-1", "ann")
        gone = assigned_encounters(lead, "ann")
        given = assign_encounter(lead, "enc-1", "ann")
        return again, twice, taken, gone, given, assigned_encounters(lead, "ann"), kinds(store)

    again, twice, taken, gone, given, assigned, counted = on_both(stores, flow)
    assert (again, twice, taken, gone, given, assigned) == (True, False, True, [], True, ["enc-1"])
    assert (counted["task.assigned"], counted["task.unassigned"]) == (2, 1)


def test_a_replayed_event_and_label_studio_sync_state_are_stored_once(
    stores: dict[str, st.Store],
) -> None:
    def flow(store: st.Store):
        event = st.new_event("dr-a", "enc-1", "note.exported", object_id="enc-1/note/1")
        st.append_event(store, event)
        st.append_event(store, event)  # a retry after a lost reply
        task = labelstudio.PushedTask(7, "enc-1", 1, "a" * 64)
        imported = labelstudio.Imported(70, "2026-01-01T10:00", 7, "enc-1", "ann", "ls:70")
        with store.transaction() as con:
            labelstudio.record_project(con, "http://ls", "demo", 3, "c1", "lead")
            labelstudio.record_project(con, "http://ls", "demo", 4, "c2", "lead")  # re-pushed
            labelstudio.record_tasks(con, "http://ls", 4, [task])
            labelstudio.record_tasks(con, "http://ls", 4, [replace(task, transcript_version=2)])
            labelstudio.record_imports(con, "http://ls", 4, [imported, imported])
            labelstudio.record_imports(con, "http://ls", 4, [imported])
        return (
            len(st.list_events(store, "enc-1", "note.exported")),
            labelstudio.project_id(store, "http://ls", "demo"),
            labelstudio.pushed_tasks(store, "http://ls", 4),
            labelstudio.import_count(store, "http://ls", 4),
            labelstudio.imported_keys(store, "http://ls", 4),
        )

    exported, project, tasks, count, keys = on_both(stores, flow)
    assert (exported, project, count, keys) == (1, (4, "c2"), 1, {(70, "2026-01-01T10:00")})
    assert tasks == [labelstudio.PushedTask(7, "enc-1", 2, "a" * 64)]


def _timeless(frame) -> list[dict]:
    """A figure's rows without what depends on the wall clock (hours to sign, first and last
    times); NaN as None, so that equal figures compare equal."""
    keep = [c for c in frame.columns if "hours" not in c and not c.endswith("_at")]
    return frame[keep].astype(object).where(frame[keep].notna(), None).to_dict("records")


def test_analytics_refresh_on_the_lake(stores: dict[str, st.Store]) -> None:
    def flow(store: st.Store):
        note = st.get_note(store, "enc-1")
        st.sign_note(store, "enc-1", note.version, "dr-a")
        first = analytics.refresh(store)
        again = analytics.refresh(store)  # nothing changed since: no recompute
        with store.connect() as con:
            state = con.execute(
                "SELECT name, encounters, full_rebuild FROM analytics_state"
            ).fetchall()
        shown = {name: _timeless(frame) for name, frame in analytics.figures(store).items()}
        return first.encounters, again.encounters, state, shown

    first, again, state, shown = on_both(stores, flow)
    assert (first, again) == (1, 0) and state == [("facts", 1, False)]
    assert any(shown.values()), "the figures show the signed encounter"


def test_a_simulated_run_on_the_lake_writes_the_files_rows(stores: dict[str, st.Store]) -> None:
    spec = SimulationSpec(encounters=12, seed=3, days=5, end=date(2026, 11, 30), chunk=5)
    simulated = " WHERE encounter_id LIKE 'sim-%'"  # not the seeded enc-1 (made now)
    tables = {  # columns that identify a row's content (not run-time stamps), which rows
        "encounters": ("*", simulated),
        "users": ("user_id, display_name, role, disabled", ""),
        "support_checks": ("*", ""),
        "sentence_support": ("*", ""),
        "note_sentences": ("*", simulated),
        "signatures": ("*", ""),
        "events": ("event_id, user_id, encounter_id, kind, object_id, after", simulated),
    }

    def flow(store: st.Store):
        first = simulate(store, spec).run
        second = simulate(store, replace(spec, seed=4)).run  # appends, numbered after it
        rows = {}
        with store.connect() as con:
            for table, (columns, where) in tables.items():
                sql = f"SELECT {columns} FROM {table}{where} ORDER BY ALL"  # names from above
                rows[table] = con.execute(sql).fetchall()
        return (first, second), rows

    runs, rows = on_both(stores, flow)
    assert runs == (1, 2)
    check_ids = [r[0] for r in rows["support_checks"]]
    assert check_ids == list(range(1, len(check_ids) + 1)), "numbered without gaps"
    assert len(rows["encounters"]) == 24 and rows["events"] and rows["signatures"]


def test_an_id_freed_by_a_purge_is_never_given_again(stores: dict[str, st.Store]) -> None:
    from workbench.store.purge import deidentify_encounter_text

    def flow(store: st.Store):
        note = st.get_note(store, "enc-1")
        results = tuple(
            SupportResult(s.sentence_id, s.section, s.text, "supported", 1.0)
            for s in note.draft.sentences
        )
        check = st.NewSupportCheck("enc-1", note.version, 1, 1, "test", results, (), {})
        first = [st.save_support(store, check, "dr-a") for _ in range(2)]
        # The purge drops the encounter's checks, the newest included...
        deidentify_encounter_text(store, "enc-1", lambda text: (text, []), "adm", {})
        assert st.get_support(store, "enc-1", note.version) is None
        # ...and the next check gets a new id, not the one the old note.verified names.
        again = st.save_support(store, check, "dr-a")
        named = [e.after["check_id"] for e in st.list_events(store, "enc-1", "note.verified")]
        assert again not in first and len(set(named)) == len(named) == 3
        return first, again

    assert on_both(stores, flow) == ([1, 2], 3)


def test_ids_continue_past_what_an_old_file_stores_sequences_handed_out(tmp_path: Path) -> None:
    from workbench.store.ids import next_id
    from workbench.store.migrations import available_migrations, migrate

    store = st.Store(tmp_path / st.DB_FILENAME)
    migrate(store, [m for m in available_migrations() if m.version < 25])
    with store.transaction() as con:  # an older server numbered 3 checks, since purged
        con.execute("SELECT nextval('support_checks_seq') FROM range(3)").fetchall()
        assert con.execute("SELECT count(*) FROM support_checks").fetchone()[0] == 0
    migrate(store)
    with store.transaction() as con:
        handed_out = con.execute(
            "SELECT last_value FROM duckdb_sequences() WHERE sequence_name = 'support_checks_seq'"
        ).fetchone()[0]
        assert handed_out >= 3
        assert next_id(con, "support_checks") == handed_out + 1, "not one the sequence gave"
        assert next_id(con, "vocabulary") == 1
