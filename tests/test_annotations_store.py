"""Annotation tasks in a real DuckDB file: queue, statuses, saves, review, imports, gold."""

from __future__ import annotations

import pytest

from pipelines.types import Annotation, Entity
from workbench import store as st
from workbench.store import annotation_tasks as an
from workbench.store.access import Actor, Forbidden
from workbench.store.events import list_events

from .conftest import make_transcript

LEAD = Actor("lead", "annotator", frozenset({"lead"}))
ANN = Actor("ann", "annotator")
ANN2 = Actor("ann2", "annotator")
ANALYST = Actor("ana", "analyst")

TURNS = [
    ("clinician", "Good morning Mrs Jane Okafor, how is the cough?"),
    ("patient", "Still coughing. I take metformin 500 mg twice a day."),
]


@pytest.fixture
def enc(store: st.Store) -> str:
    for user, role in (("dr-a", "clinician"), ("lead", "annotator"), ("ann", "annotator"),
                       ("ann2", "annotator"), ("ana", "analyst")):  # fmt: skip
        st.ensure_user(store, user, user, role)
    st.add_encounter(
        store,
        st.EncounterRecord("e1", "Visit", patient_label="Jane Okafor", clinician_id="dr-a"),
        "dr-a",
    )
    transcript = make_transcript(TURNS)
    version = st.save_transcript(store, "e1", transcript, "dr-a")
    text = TURNS[1][1]
    med = Entity(1, text.index("metformin"), text.index("metformin") + 9, "metformin",
                 "MEDICATION")  # fmt: skip
    st.save_entities(store, "e1", version, (med,), "nlp.v7", "dr-a")
    return "e1"


def span(aid: str, seg: int, word: str, label: str, text: str, **kw) -> Annotation:
    start = text.index(word)
    return Annotation(aid, "span", label, seg, start, start + len(word), **kw)


def test_task_lifecycle_queue_and_events(store: st.Store, enc: str) -> None:
    lead, ann = store.as_actor(LEAD), store.as_actor(ANN)
    task = an.create_task(lead, enc, "entities", "ann")
    assert (task.status, task.revision, task.transcript_version) == ("draft", 0, 1)
    # Creating it again gives the same open task; the encounter is now assigned to ann.
    assert an.create_task(lead, enc, "entities", "ann").task_id == task.task_id
    # Taken back and given again: the same task, and the annotator can open it again.
    from workbench.store.assignments import unassign_encounter

    unassign_encounter(lead, enc, "ann")
    assert an.create_task(lead, enc, "entities", "ann").task_id == task.task_id
    assert [t.task_id for t in an.list_tasks(ann)] == [task.task_id]
    assert st.get_encounter(ann, enc) is not None

    text = TURNS[1][1]
    labels = [
        span("a1", 1, "metformin", "MEDICATION", text),
        span("a2", 1, "500 mg", "DOSE", text),
        Annotation("r1", "relation", "has_dose", value={"from": "a1", "to": "a2"}),
        Annotation("q1", "encounter_label", "audio_quality", value={"choice": "good"}),
    ]
    saved = an.save_annotations(ann, task.task_id, labels, revision=0)
    assert saved.revision == 1
    got = an.task_annotations(ann, task.task_id)
    assert [(a.annotation_id, a.text) for a in got if a.kind == "span"] == [
        ("a1", "metformin"), ("a2", "500 mg")]  # fmt: skip
    # A stale revision is refused and writes nothing.
    with pytest.raises(st.ConcurrentEdit):
        an.save_annotations(ann, task.task_id, labels[:1], revision=0)
    assert len(an.task_annotations(ann, task.task_id)) == 4

    submitted = an.submit_task(ann, task.task_id, revision=1)
    assert submitted.status == "submitted"
    with pytest.raises(an.TaskStateError):
        an.save_annotations(ann, task.task_id, [], revision=submitted.revision)
    with pytest.raises(st.InvalidEdit, match="Say why"):
        an.review_task(lead, task.task_id, accept=False)
    returned = an.review_task(lead, task.task_id, accept=False, comment="dose span too long")
    assert (returned.status, returned.review_comment) == ("draft", "dose span too long")
    an.submit_task(ann, task.task_id, revision=returned.revision)
    assert an.review_task(lead, task.task_id, accept=True).status == "reviewed"

    kinds = [e.kind for e in list_events(store, enc) if e.object_id == task.task_id]
    assert kinds == ["task.created", "annotation.saved", "annotation.submitted",
                     "annotation.reviewed", "annotation.submitted",
                     "annotation.reviewed"]  # fmt: skip
    saved_event = next(e for e in list_events(store, enc) if e.kind == "annotation.saved")
    assert [a["annotation_id"] for a in saved_event.after["annotations"]] == [
        "a1",
        "a2",
        "r1",
        "q1",
    ]


def test_invalid_annotations_are_refused_with_reasons(store: st.Store, enc: str) -> None:
    task = an.create_task(store.as_actor(LEAD), enc, "entities", "ann")
    ann = store.as_actor(ANN)
    text = TURNS[1][1]
    bad = [
        span("a1", 1, "metformin", "DRUG", text),  # unknown label
        Annotation("a3", "span", "PROBLEM", 1, 0, 5, text="Hello"),  # text mismatch
        Annotation("a2", "span", "PROBLEM", 7, 0, 3),  # no such segment
        Annotation("r1", "relation", "has_dose", value={"from": "a1", "to": "zz"}),
        Annotation("x", "rating", "accurate", value={"score": 4}),  # not in an entities task
    ]
    with pytest.raises(st.InvalidEdit, match="'Hello' does not match"):
        an.save_annotations(ann, task.task_id, bad, revision=0)  # de-identified view: at once
    with pytest.raises(st.InvalidEdit) as err:  # an admin sees the real text: every problem
        an.save_annotations(store.as_actor(Actor("root", "admin")), task.task_id, bad, revision=0)
    message = str(err.value)
    for part in ("'DRUG' is not in the schema", "segment 7", "does not match", "two spans",
                 "does not belong"):  # fmt: skip
        assert part in message
    assert an.task_annotations(ann, task.task_id) == []


def test_roles_and_ownership(store: st.Store, enc: str) -> None:
    ann, ann2 = store.as_actor(ANN), store.as_actor(ANN2)
    with pytest.raises(Forbidden):
        an.create_task(ann, enc, "entities", "ann")  # only leads assign
    with pytest.raises(st.InvalidEdit, match="annotator or admin"):
        an.create_task(store.as_actor(LEAD), enc, "quality", "dr-a")
    task = an.create_task(store.as_actor(LEAD), enc, "quality", "ann")
    with pytest.raises(Forbidden):
        an.get_task(ann2, task.task_id)
    with pytest.raises(Forbidden):
        an.list_tasks(ann, assignee="ann2")
    with pytest.raises(Forbidden):
        an.list_tasks(store.as_actor(ANALYST))
    # A quality task must rate every PDQI-9 item before it can be submitted.
    one = [Annotation("q", "rating", "accurate", value={"score": 4})]
    saved = an.save_annotations(ann, task.task_id, one, revision=0)
    with pytest.raises(st.InvalidEdit, match="missing: up_to_date"):
        an.submit_task(ann, task.task_id, revision=saved.revision)
    with pytest.raises(Forbidden, match="own task"):
        an.review_task(store.as_actor(Actor("ann", "annotator", frozenset({"lead"}))),
                       task.task_id, accept=True)  # fmt: skip


def test_deidentified_offsets_round_trip(store: st.Store, enc: str) -> None:
    """An annotator without phi labels the de-identified text; the store keeps offsets into
    the real text and shows them back in the de-identified one."""
    task = an.create_task(store.as_actor(LEAD), enc, "entities", "ann")
    ann = store.as_actor(ANN)
    shown = st.get_transcript(ann, enc)[1].segments[0].text
    assert "Okafor" not in shown and "[NAME]" in shown
    cough = shown.index("cough")
    an.save_annotations(
        ann, task.task_id, [Annotation("c", "span", "PROBLEM", 0, cough, cough + 5)], revision=0
    )
    stored = an.task_annotations(store, task.task_id)[0]  # the system reads stored offsets
    real = TURNS[0][1]
    assert (stored.start_char, stored.end_char) == (real.index("cough"), real.index("cough") + 5)
    seen = an.task_annotations(ann, task.task_id)[0]
    assert (seen.start_char, seen.text) == (cough, "cough")
    name = shown.index("[NAME]")
    with pytest.raises(st.InvalidEdit, match="de-identified text"):
        an.save_annotations(
            ann, task.task_id, [Annotation("n", "span", "PROBLEM", 0, name, name + 6)],
            revision=1,
        )  # fmt: skip


def test_model_suggestions_carry_model_and_stable_ids(store: st.Store, enc: str) -> None:
    an.create_task(store.as_actor(LEAD), enc, "entities", "ann")
    (s,) = an.model_suggestions(store.as_actor(ANN), enc)
    assert (s.annotation_id, s.label, s.text, s.origin, s.model_version) == (
        "m1-0", "MEDICATION", "metformin", "suggestion", "nlp.v7")  # fmt: skip


def test_import_is_idempotent_and_all_or_nothing(store: st.Store, enc: str) -> None:
    text = TURNS[1][1]
    good = an.Submission(enc, "entities", "labelstudio:a@x.org",
                         (span("a1", 1, "metformin", "MEDICATION", text),), "ls:1:2026-12-01",
                         external_id="17", transcript_version=1)  # fmt: skip
    bad = an.Submission(enc, "entities", "labelstudio:b@x.org",
                        (Annotation("z", "span", "NOPE", 1, 0, 3),), "ls:2:2026-12-01",
                        external_id="17", transcript_version=1)  # fmt: skip
    with pytest.raises(st.InvalidEdit, match="ls:2"):
        an.import_submissions(store, [good, bad])
    assert an.list_tasks(store) == []  # nothing of the good one either
    assert an.import_submissions(store, [good]) == 1
    assert an.import_submissions(store, [good]) == 0
    (task,) = an.list_tasks(store)
    assert (task.source, task.assignee, task.status, task.external_id) == (
        "labelstudio", "labelstudio:a@x.org", "submitted", "17")  # fmt: skip
    event = next(e for e in list_events(store, enc) if e.kind == "annotation.submitted")
    assert event.user_id == "labelstudio:a@x.org"


def test_gold_choice_is_recorded(store: st.Store, enc: str) -> None:
    lead = store.as_actor(LEAD)
    text = TURNS[1][1]
    task = an.create_task(lead, enc, "entities", "ann")
    ann = store.as_actor(ANN)
    an.save_annotations(ann, task.task_id, [span("a1", 1, "metformin", "MEDICATION", text)],
                        revision=0)  # fmt: skip
    with pytest.raises(an.TaskStateError):
        an.set_gold(lead, enc, "entities", [], method="task", chosen_task=task.task_id)
    an.submit_task(ann, task.task_id, revision=1)
    choice = an.set_gold(lead, enc, "entities", [], method="task", chosen_task=task.task_id,
                         reason="complete")  # fmt: skip
    assert [a.text for a in choice.annotations] == ["metformin"]
    merged = an.set_gold(lead, enc, "entities", [span("g", 1, "500 mg", "DOSE", text)],
                         method="merged")  # fmt: skip
    assert merged.seq == 2
    assert [a.text for a in an.gold(lead, enc).annotations] == ["500 mg"]
    assert any(e.kind == "annotation.adjudicated" for e in list_events(store, enc))


def test_a_lead_reads_any_task_de_identified_and_the_gold_too(store: st.Store, enc: str) -> None:
    """A lead (no phi, encounter not assigned to them) opens a task to review it: the
    transcript and the model's suggestions through the task, and the gold, de-identified."""
    lead = store.as_actor(LEAD)
    task = an.create_task(lead, enc, "entities", "ann")
    with pytest.raises(Forbidden):
        st.get_transcript(lead, enc)  # not through encounter.view
    shown = an.task_transcript(lead, task.task_id)
    assert "Okafor" not in shown.segments[0].text and "[NAME]" in shown.segments[0].text
    assert [s.text for s in an.model_suggestions(lead, enc, task.transcript_version)] == [
        "metformin"
    ]
    first = TURNS[0][1]
    name = Annotation("n", "span", "PROBLEM", 0, first.index("Okafor"), first.index("Okafor") + 6)
    an.set_gold(store, enc, "entities", [name], method="merged")  # the operator, say
    (seen,) = an.gold(lead, enc).annotations
    assert "Okafor" not in repr(seen)
    (stored,) = an.gold(store, enc).annotations
    assert stored.text == "Okafor"
    with pytest.raises(Forbidden):
        an.task_transcript(store.as_actor(ANN2), task.task_id)
