"""What the annotation pages read: queues with encounter titles, the encounters a lead may
assign, and one task with everything its panel shows. Reads only: every change goes through
``annotation_tasks``.

Texts come as the actor may read them (``access.present_*``): without ``text.phi`` on an
encounter, its title, transcript and draft are de-identified. A lead reviews tasks on
encounters not assigned to them, so a task's transcript and draft are read through the task
(``get_task`` decides who may), not through ``encounter.view``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pipelines.types import Annotation, Draft, Transcript
from workbench.store.access import (
    SYSTEM,
    allowed,
    present_draft,
    present_encounter,
    present_text,
    present_transcript,
    require,
)
from workbench.store.annotation_tasks import get_task, list_tasks, task_annotations
from workbench.store.audit import record
from workbench.store.db import Store
from workbench.store.records import AnnotationTask, AudioRecord, EncounterSummary


@dataclass(frozen=True)
class TaskRow:
    """A task as a queue or the leads' table lists it."""

    task: AnnotationTask
    title: str  # the encounter's title, as the actor may read it
    labels: int  # how many annotations the task holds


@dataclass(frozen=True)
class TaskView:
    """One task and what its panel shows, as the actor may read it."""

    task: AnnotationTask
    title: str
    identified: bool  # the actor reads this encounter's text as it is (``text.phi``)
    audio: AudioRecord | None  # the recording, only with ``text.phi`` (it is identified data)
    transcript: Transcript | None  # the task's transcript version
    draft: Draft | None  # the note version the task was made from
    annotations: tuple[Annotation, ...]


def task_rows(
    store: Store,
    *,
    assignee: str | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> list[TaskRow]:
    """``list_tasks`` (same filters and permissions: an annotator gets their own, a lead
    everyone's) with each encounter's title and each task's number of annotations."""
    with store.connect() as con:
        tasks = list_tasks(store, assignee=assignee, status=status, kind=kind)
        if not tasks:
            return []
        encounter_ids = sorted({t.encounter_id for t in tasks})
        titles = dict(
            con.execute(
                "SELECT encounter_id, title FROM encounters WHERE list_contains(?, encounter_id)",
                [encounter_ids],
            ).fetchall()
        )
        counts = dict(
            con.execute(
                "SELECT task_id, count(*) FROM annotations WHERE list_contains(?, task_id)"
                " GROUP BY task_id",
                [[t.task_id for t in tasks]],
            ).fetchall()
        )
        shown = {
            eid: present_text(store, titles[eid], eid) if titles.get(eid) else eid
            for eid in encounter_ids
        }
    return [TaskRow(t, shown[t.encounter_id], counts.get(t.task_id, 0)) for t in tasks]


def assignable_encounters(store: Store) -> list[EncounterSummary]:
    """Every encounter with its workflow status, newest first, for a lead picking what to
    assign (``task.assign``): titles de-identified and patient labels hidden wherever the
    lead lacks ``text.phi``."""
    require(store, "task.assign")
    from workbench.store.encounters import list_encounters  # encounters import access too

    with store.connect():
        rows = list_encounters(store.as_actor(SYSTEM))
        return [replace(r, encounter=present_encounter(store, r.encounter)) for r in rows]


def task_view(store: Store, task_id: str) -> TaskView:
    """The task, its encounter's title, the transcript and draft versions it was made from
    and its annotations, for its assignee or a lead (``get_task``)."""
    from workbench.store.encounters import get_audio  # these modules import access too
    from workbench.store.notes import get_note
    from workbench.store.transcripts import get_transcript

    raw = store.as_actor(SYSTEM)
    with store.connect() as con:
        task = get_task(store, task_id)
        eid = task.encounter_id
        title, audio = con.execute(
            "SELECT title, audio_sha256 FROM encounters WHERE encounter_id = ?", [eid]
        ).fetchone()
        found = get_transcript(raw, eid, task.transcript_version)
        transcript = present_transcript(store, eid, found[1]) if found else None
        note = get_note(raw, eid, task.note_version) if task.note_version else None
        draft = present_draft(store, eid, note.draft) if note else None
        identified = allowed(store, "text.phi", eid)
        return TaskView(
            task=task,
            title=present_text(store, title, eid) if title else eid,
            identified=identified,
            audio=get_audio(store, audio) if identified and audio else None,
            transcript=transcript,
            draft=draft,
            annotations=tuple(task_annotations(store, task_id)),
        )


def record_task_opened(store: Store, task_id: str) -> None:
    """Audit that the actor opened the task's encounter (once per opening, not per rerun);
    ``Forbidden`` (audited) when the task is not theirs to read."""
    task = get_task(store, task_id)
    identified = allowed(store, "text.phi", task.encounter_id)
    detail = {"identified": identified, "task": task_id}
    record(store, "encounter.view", "encounter", task.encounter_id, "allowed", detail)
