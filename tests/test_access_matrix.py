"""Every role x action cell of the access policy, through the real store functions on a real
DuckDB: allowed calls work, refused ones raise Forbidden and write nothing but their audit
row, and nobody without ``text.phi`` reads the patient's name.

Two clinicians own one encounter each (enc-a: dr-a, enc-b: dr-b); enc-a is assigned to both
annotators, one of whom holds the "phi" grant. The patient's name is in enc-a's title,
transcript and note.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pipelines.code_suggestions import CodeSuggestion
from pipelines.types import Entity
from tests.conftest import make_draft, make_transcript
from workbench import export
from workbench import store as st
from workbench.simulate import SimulationSpec, simulate
from workbench.store import analytics
from workbench.store import annotation_tasks as tasks
from workbench.store.access import ASSIGNED, OWN, POLICY, SYSTEM, Actor, Forbidden
from workbench.store.assignments import assign_encounter
from workbench.store.audit import search_audit

PATIENT = "Walter Kowalski"
OWNER = {"enc-a": "dr-a", "enc-b": "dr-b"}
# dr-c covers enc-b for its clinician: assigned, a clinician acts on it as on their own.
ASSIGNED_TO = {"enc-a": {"ann", "ann-phi"}, "enc-b": {"dr-c"}}
ACTORS = {
    "clinician": Actor("dr-a", "clinician"),
    "covering clinician": Actor("dr-c", "clinician"),
    "annotator": Actor("ann", "annotator"),
    "annotator+phi": Actor("ann-phi", "annotator", frozenset({"phi"})),
    "annotation lead": Actor("lead", "annotator", frozenset({"lead"})),
    "analyst": Actor("ana", "analyst"),
    "admin": Actor("adm", "admin"),
}
# The de-identification stage of this checkout (a stage found elsewhere on the path does not
# count: its data files would be missing).
UNAUTHORISED_READS: list[str] = []


def _turns(name: str) -> list[tuple[str, str]]:
    return [
        ("clinician", f"Good morning {name}, what brings you in today?"),
        ("patient", "I have had a cough for three days."),
        ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
    ]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded database, built once and copied for every cell."""
    data = tmp_path_factory.mktemp("access") / "data"
    store = st.open_store(data)
    for user, role in [
        ("dr-a", "clinician"),
        ("dr-b", "clinician"),
        ("dr-c", "clinician"),
        ("ann", "annotator"),
        ("ann-phi", "annotator"),
        ("lead", "annotator"),
        ("ana", "analyst"),
        ("adm", "admin"),
    ]:
        st.ensure_user(store, user, user, role)
    for eid, owner in OWNER.items():
        record = st.EncounterRecord(
            eid, f"{PATIENT} cough visit", patient_label="Walter K.", clinician_id=owner
        )
        st.add_encounter(store, record, owner)
        transcript = make_transcript(_turns(PATIENT))
        version = st.save_transcript(store, eid, transcript, owner)
        text = transcript.segments[0].text
        start = text.index(PATIENT)
        entity = Entity(0, start, start + len(PATIENT), PATIENT, "PERSON")
        st.save_entities(store, eid, version, (entity,), "nlp.test", owner)
        st.save_draft(store, eid, make_draft(transcript), version, owner)
    for eid, users in ASSIGNED_TO.items():
        for user in users:
            assign_encounter(store, eid, user)
    return data


@pytest.fixture
def base(template: Path, tmp_path: Path) -> st.Store:
    data = tmp_path / "data"
    shutil.copytree(template, data)
    return st.open_store(data)


@dataclass(frozen=True)
class Probe:
    """The real store call standing for one action (``setup`` runs as SYSTEM first)."""

    call: Callable[[st.Store, str | None], Any]
    per_encounter: bool = True
    reads: bool = False  # returns clinical text: checked for the patient's name
    setup: Callable[[st.Store, str], None] | None = None


def _view(store: st.Store, eid: str) -> Any:
    return (
        st.get_encounter(store, eid),
        st.get_transcript(store, eid),
        st.get_note(store, eid),
        st.get_entity_set(store, eid),
    )


def _edit_note(store: st.Store, eid: str) -> int:
    note = st.get_note(store.as_actor(SYSTEM), eid)
    first = replace(note.draft.sentences[0], text="Cough for three days.")
    return st.save_note(store, eid, 1, (first, *note.draft.sentences[1:]), store.actor.user_id)


def _correct(store: st.Store, eid: str) -> int:
    corrected = make_transcript(_turns(PATIENT)[:2])
    return st.save_transcript(store, eid, corrected, store.actor.user_id, "correction", 1)


def _sign(store: st.Store, eid: str) -> None:
    st.sign_note(store, eid, 1, OWNER[eid])


def _suggestion() -> CodeSuggestion:
    return CodeSuggestion("J06.9", "Acute upper respiratory infection", 0.8, (0,), 1)


PROBES: dict[str, Probe] = {
    "encounter.list": Probe(
        lambda s, e: st.list_worklist(s, st.WorklistQuery()), per_encounter=False, reads=True
    ),
    "encounter.view": Probe(_view, reads=True),
    "encounter.create": Probe(
        lambda s, e: st.add_encounter(s, st.EncounterRecord("new-1", "New"), s.actor.user_id),
        per_encounter=False,
    ),
    "transcript.edit": Probe(_correct),
    "note.edit": Probe(_edit_note),
    "note.sign": Probe(lambda s, e: st.sign_note(s, e, 1, s.actor.user_id)),
    "note.export": Probe(lambda s, e: export.signed_note(s, e), reads=True, setup=_sign),
    "entity.edit": Probe(lambda s, e: st.confirm_entities(s, e, 1, s.actor.user_id)),
    "code.decide": Probe(lambda s, e: st.accept_code(s, e, _suggestion(), s.actor.user_id)),
    "text.phi": Probe(lambda s, e: st.note_history(s, e, 1), reads=True),
    "training.export": Probe(lambda s, e: st.training_sources(s), per_encounter=False),
    "analytics.view": Probe(lambda s, e: st.status_counts(s), per_encounter=False),
    # Encounter rows (with their titles) behind a figure: admins only.
    "analytics.drilldown": Probe(
        lambda s, e: analytics.drilldown(s, analytics.Filters()),
        per_encounter=False,
        reads=True,
        setup=lambda s, e: analytics.refresh(s),
    ),
    "audit.view": Probe(lambda s, e: search_audit(s), per_encounter=False),
    "user.manage": Probe(
        lambda s, e: st.ensure_user(s, "new-user", "New", "clinician"), per_encounter=False
    ),
    "task.assign": Probe(lambda s, e: assign_encounter(s, e, "ann")),
    # Someone else's tasks are a lead's business; one's own queue needs annotation.work.
    "annotation.review": Probe(lambda s, e: tasks.list_tasks(s, assignee="x"), per_encounter=False),
    "annotation.work": Probe(lambda s, e: tasks.list_tasks(s), per_encounter=False),
    "model.manage": Probe(
        lambda s, e: st.deactivate_model(s, "ner", s.actor.user_id), per_encounter=False
    ),
    "simulation.run": Probe(
        lambda s, e: simulate(s, SimulationSpec(encounters=2, seed=1, end=date(2026, 1, 31))),
        per_encounter=False,
    ),
}


def expected(actor: Actor, action: str, eid: str | None) -> bool:
    """The cell's answer, worked out from the fixture's owners and assignments."""
    rule = POLICY[action].get(actor.role)
    if rule is None or (rule.grant and rule.grant not in actor.grants):
        return False
    if eid is None or rule.scope not in (OWN, ASSIGNED):
        return True
    if rule.scope == OWN:
        return OWNER[eid] == actor.user_id or actor.user_id in ASSIGNED_TO[eid]
    return actor.user_id in ASSIGNED_TO[eid]


def _cells():
    for action, probe in PROBES.items():
        for name in ACTORS:
            for eid in OWNER if probe.per_encounter else [None]:
                yield pytest.param(action, name, eid, id=f"{action}-{name}-{eid or 'all'}")


def _counts(store: st.Store) -> dict[str, int]:
    with store.connect() as con:
        tables = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        ]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_policy_covers_every_action_with_a_probe() -> None:
    assert set(PROBES) == set(POLICY)


@pytest.mark.parametrize(("action", "role", "eid"), list(_cells()))
def test_role_action_matrix(base: st.Store, action: str, role: str, eid: str | None) -> None:
    actor, probe = ACTORS[role], PROBES[action]
    if probe.setup is not None:
        probe.setup(base, eid)
    store = base.as_actor(actor)
    before = _counts(base)
    if not expected(actor, action, eid):
        with pytest.raises(Forbidden, match=f"may not {re.escape(action)}"):
            result = probe.call(store, eid)
            UNAUTHORISED_READS.append(f"{action}/{role}/{eid}: not refused")
        after = _counts(base)
        assert after.pop("audit_log") == before.pop("audit_log") + 1
        assert after == before  # nothing but the audit row
        denial = search_audit(base, user=actor.user_id, limit=1)[0][0]
        assert (denial.action, denial.outcome, denial.object_id) == (action, "denied", eid)
        return
    result = probe.call(store, eid)
    if probe.reads and PATIENT in repr(result):
        shown = [e for e in ([eid] if eid else OWNER) if expected(actor, "text.phi", e)]
        if not shown:
            UNAUTHORISED_READS.append(f"{action}/{role}/{eid}: patient name read")
        assert shown, "the patient's name reached an actor without text.phi"
    if action == "encounter.list":
        rows, total = result
        visible = {e for e in OWNER if expected(actor, "encounter.list", e)}
        assert {r.encounter.encounter_id for r in rows} == visible and total == len(visible)


def test_deidentified_reads_hide_the_name_but_keep_the_clinical_text(base: st.Store) -> None:
    for actor in (ACTORS["annotator"], ACTORS["analyst"]):
        _, transcript = st.get_transcript(base.as_actor(actor), "enc-a")
        text = " ".join(s.text for s in transcript.segments)
        assert "Kowalski" not in text and "[NAME]" in text
        assert "amoxicillin 500 milligrams" in text
        assert all(s.words == () for s in transcript.segments)


def test_the_analyst_gets_counts_never_rows(base: st.Store) -> None:
    analyst = base.as_actor(ACTORS["analyst"])
    with pytest.raises(Forbidden, match=r"may not encounter\.list"):
        st.worklist_view(analyst, st.WorklistQuery())
    with pytest.raises(Forbidden):
        st.list_encounters(analyst)
    assert st.worklist_status_counts(analyst)["drafted"] == 2
    assert st.status_counts(analyst)["encounters"] == 2


def test_a_clinician_cannot_read_or_sign_a_colleagues_note(base: st.Store) -> None:
    dr_a = base.as_actor(ACTORS["clinician"])
    with pytest.raises(Forbidden, match="not theirs"):
        st.get_note(dr_a, "enc-b")
    with pytest.raises(Forbidden):
        st.sign_note(dr_a, "enc-b", 1, "dr-a")
    with pytest.raises(Forbidden):
        st.get_audio(dr_a, "0" * 64)  # audio of no encounter of theirs
    assert not st.get_note(base, "enc-b").signed
    assert [s.encounter.encounter_id for s in st.list_encounters(dr_a)] == ["enc-a"]
    assert st.next_unsigned(dr_a) == "enc-a"


def test_a_clinician_capturing_owns_the_encounter_and_cannot_create_for_another(
    base: st.Store,
) -> None:
    dr_a = base.as_actor(ACTORS["clinician"])
    st.add_encounter(dr_a, st.EncounterRecord("cap-1", "Captured"), "dr-a")
    assert st.get_encounter(base, "cap-1").clinician_id == "dr-a"
    with pytest.raises(Forbidden, match="for dr-b"):
        st.add_encounter(dr_a, st.EncounterRecord("cap-2", "X", clinician_id="dr-b"), "dr-a")
    assert st.get_encounter(base, "cap-2") is None


def test_unknown_actions_are_an_error_not_a_silent_allow(base: st.Store) -> None:
    from workbench.store.access import require

    with pytest.raises(ValueError, match=r"Unknown action 'note\.delete'"):
        require(base.as_actor(ACTORS["admin"]), "note.delete")


def test_zz_unauthorised_reads_in_the_matrix_is_zero() -> None:
    print(f"\nunauthorised reads in the role x action matrix: {len(UNAUTHORISED_READS)}")
    assert UNAUTHORISED_READS == []


def test_older_encounters_belong_to_their_creator_after_the_migration(tmp_path: Path) -> None:
    from workbench.store.migrations import available_migrations, migrate

    store = st.Store(tmp_path / "old.duckdb")
    migrate(store, [m for m in available_migrations() if m.version < 15])
    with store.transaction() as con:
        con.execute(
            "INSERT INTO encounters (encounter_id, title, created_at, created_by)"
            " VALUES ('old-1', 'Old visit', now(), 'dr-a')"
        )
    assert migrate(store)[0] == 15
    assert st.get_encounter(store, "old-1").clinician_id is None
    dr_a, dr_b = (store.as_actor(Actor(u, "clinician")) for u in ("dr-a", "dr-b"))
    assert [s.encounter.encounter_id for s in st.list_encounters(dr_a)] == ["old-1"]
    assert st.list_encounters(dr_b) == []


def test_demo_encounters_belong_to_their_clinicians_accounts() -> None:
    from workbench.demo import clinician_user_id, demo_encounters

    metas = [d.meta for d in demo_encounters()]
    assert metas and all(m.clinician_id == clinician_user_id(m.clinician) for m in metas)
    assert clinician_user_id("Dr. Mensah") == "dr-mensah"
    assert clinician_user_id(None) is None


def test_an_actor_view_shares_the_connection_the_lock_and_the_stamps(base: st.Store) -> None:
    view = base.as_actor(ACTORS["admin"])
    assert view.actor == ACTORS["admin"] and base.actor == SYSTEM
    assert view.as_actor(ACTORS["analyst"]).root is base
    stamp = base.content_stamp()
    st.ensure_user(view, "someone", "Someone", "clinician")  # a write through the view
    assert base.content_stamp() != stamp and view.content_stamp() == base.content_stamp()
    with base.one_connection(), base.connect() as con, view.connect() as con2:
        assert con is con2
