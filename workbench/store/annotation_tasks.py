"""Annotation tasks and what annotators label in them.

A task puts one encounter in one annotator's queue for one kind of work (``TASK_KINDS``:
entity spans and relations, note-section labels, transcript verification, a PDQI-9 rating
of the draft, a blind pairwise comparison). Its status goes draft -> submitted -> reviewed;
a lead may return a submitted task to draft with a comment. Creating a task also assigns
the encounter to the annotator (``assignments``), which is what lets them open it.

The tables hold the current state; the history is the events, written in the same
transaction: ``task.created``, ``annotation.saved`` and ``annotation.submitted`` (before
and after: the annotation sets as dicts), ``annotation.reviewed``, ``annotation.adjudicated``.
Saves carry the task's ``revision``; a stale one raises ``ConcurrentEdit`` and writes
nothing. Submissions made outside the app (Label Studio) come in through
``import_submissions``: idempotent by an external reference, all or nothing.

Annotators without ``text.phi`` read and write span offsets in the de-identified text;
the store maps them to and from the stored text (``pipelines.deid.spans``) and refuses a
span that would cover a redacted piece.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

import duckdb

from pipelines.annotation_check import TASK_ANNOTATIONS, InvalidAnnotation, check_annotations
from pipelines.annotation_schema import load_task_schema
from pipelines.schema import load_label_schema
from pipelines.types import Annotation, Transcript
from workbench.store.access import (
    SYSTEM,
    Forbidden,
    allowed,
    phi_redactor,
    present_transcript,
    require,
)
from workbench.store.assignments import add_assignment
from workbench.store.db import ConcurrentEdit, InvalidEdit, NotFound, Store, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.records import AnnotationTask, GoldChoice

TASK_KINDS: tuple[str, ...] = tuple(TASK_ANNOTATIONS)
DRAFT, SUBMITTED, REVIEWED = "draft", "submitted", "reviewed"
TASK_STATUSES: tuple[str, ...] = (DRAFT, SUBMITTED, REVIEWED)
# Who may hold a task: annotation is an annotator's (or an admin's) work. A clinician given
# a task would gain covering access (``assignments``) to someone else's patient.
ASSIGNEE_ROLES = frozenset({"annotator", "admin"})

_TASK_COLUMNS = (
    "SELECT task_id, encounter_id, kind, assignee, status, transcript_version, note_version,"
    " payload, source, external_id, revision, created_by, created_at, updated_at,"
    " submitted_at, reviewed_by, reviewed_at, review_comment FROM annotation_tasks"
)
_ANNOTATION_COLUMNS = (
    "SELECT annotation_id, kind, label, segment_idx, start_char, end_char, text, value,"
    " origin, model_version FROM annotations WHERE task_id = ? ORDER BY rowid"
)
_INSERT_ANNOTATION = (
    "INSERT INTO annotations (task_id, annotation_id, encounter_id, annotator, kind, label,"
    " segment_idx, start_char, end_char, text, value, origin, model_version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class TaskStateError(InvalidEdit):
    """The task is not in a state that allows this (e.g. saving a submitted task)."""


@dataclass(frozen=True)
class Submission:
    """An annotation set made outside the app (a Label Studio annotation), to import."""

    encounter_id: str
    kind: str
    annotator: str  # our user id, or ``labelstudio:<email>``
    annotations: tuple[Annotation, ...]
    external_ref: str  # unique per external annotation *revision* (id plus updated_at)
    external_id: str | None = None  # the external task id
    transcript_version: int | None = None
    submitted_at: datetime | None = None


# -- tasks ---------------------------------------------------------------------------------


def create_task(
    store: Store,
    encounter_id: str,
    kind: str,
    assignee: str,
    *,
    payload: dict[str, Any] | None = None,
    task_id: str | None = None,
) -> AnnotationTask:
    """Put the encounter in the assignee's queue (``task.assign``) and assign it to them.

    Idempotent: an open task of the same kind for the same person (or the same ``task_id``)
    is returned as it is. Pairwise tasks differ by their payload (the two drafts), so each
    call makes a new one unless ``task_id`` repeats."""
    if kind not in TASK_KINDS:
        raise InvalidEdit(f"Unknown task kind {kind!r}: one of {', '.join(TASK_KINDS)}")
    require(store, "task.assign", encounter_id)
    with store.transaction() as con:
        _require_encounter(con, encounter_id)
        role = con.execute(
            "SELECT role FROM users WHERE user_id = ? AND NOT coalesce(disabled, false)",
            [assignee],
        ).fetchone()
        if role is None or role[0] not in ASSIGNEE_ROLES:
            raise InvalidEdit(f"{assignee} is not an enabled annotator or admin account")
        task = _existing_task(con, encounter_id, kind, assignee, task_id)
        if task is None:
            task = _insert_task(
                con, store, encounter_id, kind, assignee, payload, "app", None, task_id
            )
        # Also for an existing task: the encounter may have been unassigned since.
        add_assignment(con, store, encounter_id, assignee)
        return task


def list_tasks(
    store: Store,
    *,
    assignee: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    encounter_id: str | None = None,
) -> list[AnnotationTask]:
    """Tasks, oldest first. Leads (``annotation.review``) see everyone's; an annotator sees
    only their own (asking for someone else's raises ``Forbidden``)."""
    me = store.actor.user_id
    if not allowed(store, "annotation.review"):
        if assignee not in (None, me):
            require(store, "annotation.review")  # audits the refusal, then raises
        require(store, "annotation.work")
        assignee = me
    if status is not None and status not in TASK_STATUSES:
        raise InvalidEdit(f"Unknown status {status!r}: one of {', '.join(TASK_STATUSES)}")
    with store.connect() as con:
        rows = con.execute(
            _TASK_COLUMNS + " WHERE (? IS NULL OR assignee = ?) AND (? IS NULL OR status = ?)"
            " AND (? IS NULL OR kind = ?) AND (? IS NULL OR encounter_id = ?)"
            " ORDER BY created_at, task_id",
            [assignee, assignee, status, status, kind, kind, encounter_id, encounter_id],
        ).fetchall()
    return [_task(r) for r in rows]


def get_task(store: Store, task_id: str) -> AnnotationTask:
    """One task: for its assignee (``annotation.work`` on its encounter) or a lead."""
    with store.connect() as con:
        task = _read_task(con, task_id)
    _require_reader(store, task)
    return task


def task_annotations(store: Store, task_id: str) -> list[Annotation]:
    """The task's current annotations, as the actor may read them (offsets into the
    de-identified text without ``text.phi``)."""
    task = get_task(store, task_id)
    with store.connect() as con:
        stored = _read_annotations(con, task_id)
    return present_annotations(store, task.encounter_id, task.transcript_version, stored)


def save_annotations(
    store: Store, task_id: str, annotations: Sequence[Annotation], *, revision: int
) -> AnnotationTask:
    """Replace the task's annotation set (a draft save) and return the task at its new
    revision. Only the assignee (or an admin) saves, only while the task is a draft, only
    from the current ``revision``; invalid annotations raise ``InvalidEdit`` listing why."""
    task = get_task(store, task_id)
    _require_worker(store, task)
    stored = _to_stored(store, task, annotations)
    with store.transaction() as con:
        current = _check_open(con, task_id, revision)
        before = _read_annotations(con, task_id)
        _replace_annotations(con, current, stored)
        saved = _bump(con, current, DRAFT)
        insert_events(
            con, [_change_event(store.actor.user_id, saved, "annotation.saved", before, stored)]
        )
        return saved


def submit_task(store: Store, task_id: str, *, revision: int) -> AnnotationTask:
    """Hand the draft in for review (draft -> submitted)."""
    task = get_task(store, task_id)
    _require_worker(store, task)
    with store.transaction() as con:
        current = _check_open(con, task_id, revision)
        stored = _read_annotations(con, task_id)
        _check_complete(current, stored)
        now = utcnow()
        con.execute(
            "UPDATE annotation_tasks SET submitted_at = ? WHERE task_id = ?", [now, task_id]
        )
        submitted = _bump(con, current, SUBMITTED)
        insert_events(
            con,
            [_change_event(store.actor.user_id, submitted, "annotation.submitted", stored, stored)],
        )
        return submitted


def review_task(
    store: Store, task_id: str, *, accept: bool, comment: str | None = None
) -> AnnotationTask:
    """A lead accepts a submitted task (-> reviewed) or returns it to its annotator
    (-> draft, a comment is then required). Nobody reviews their own task."""
    require(store, "annotation.review")
    comment = (comment or "").strip() or None
    if not accept and comment is None:
        raise InvalidEdit("Say why the task goes back to its annotator")
    with store.transaction() as con:
        task = _read_task(con, task_id)
        if task.assignee == store.actor.user_id:
            raise Forbidden("Nobody reviews their own task")
        if task.status != SUBMITTED:
            raise TaskStateError(f"Task {task_id} is {task.status}, not submitted")
        now = utcnow()
        con.execute(
            "UPDATE annotation_tasks SET reviewed_by = ?, reviewed_at = ?, review_comment = ?"
            " WHERE task_id = ?",
            [store.actor.user_id, now, comment, task_id],
        )
        reviewed = _bump(con, task, REVIEWED if accept else DRAFT)
        event = new_event(
            store.actor.user_id,
            task.encounter_id,
            "annotation.reviewed",
            object_type="annotation_task",
            object_id=task_id,
            before={"status": SUBMITTED},
            after={"status": reviewed.status, "accepted": accept, "comment": comment},
        )
        insert_events(con, [event])
        return reviewed


# -- imports (Label Studio) ----------------------------------------------------------------


def imported_refs(store: Store, refs: Iterable[str]) -> set[str]:
    """Which of these external references were imported already."""
    wanted = list(refs)
    if not wanted:
        return set()
    with store.connect() as con:
        rows = con.execute(
            "SELECT external_ref FROM annotation_imports WHERE list_contains(?, external_ref)",
            [wanted],
        ).fetchall()
    return {r[0] for r in rows}


def import_submissions(store: Store, submissions: Sequence[Submission]) -> int:
    """Import external annotation sets as submitted tasks, attributed to their annotators,
    in one transaction: every submission is checked first, and one bad submission imports
    nothing (``InvalidEdit`` naming it). Already imported references are skipped, so a rerun
    after a dropped connection adds no duplicates. Returns how many were imported."""
    require(store, "task.assign")
    raw = store.as_actor(SYSTEM)
    labels, tasks_schema = load_label_schema(), load_task_schema()
    done = imported_refs(store, [s.external_ref for s in submissions])
    checked: list[tuple[Submission, list[Annotation]]] = []
    for sub in submissions:
        if sub.external_ref in done:
            continue
        transcript = _raw_transcript(raw, sub.encounter_id, sub.transcript_version)
        try:
            annotations = check_annotations(
                sub.kind, sub.annotations, transcript, labels, tasks_schema
            )
        except InvalidAnnotation as exc:
            raise InvalidEdit(f"{sub.external_ref} (encounter {sub.encounter_id}): {exc}") from None
        checked.append((sub, annotations))
        done.add(sub.external_ref)
    with store.transaction() as con:
        for sub, annotations in checked:
            _require_encounter(con, sub.encounter_id)
            task = _external_task(con, store, sub)
            before = _read_annotations(con, task.task_id)
            _replace_annotations(con, task, annotations)
            if sub.submitted_at is not None:
                con.execute(
                    "UPDATE annotation_tasks SET submitted_at = ? WHERE task_id = ?",
                    [sub.submitted_at, task.task_id],
                )
            submitted = _bump(con, task, SUBMITTED)
            con.execute(
                "INSERT INTO annotation_imports VALUES (?, ?, ?)",
                [sub.external_ref, task.task_id, utcnow()],
            )
            event = _change_event(
                sub.annotator, submitted, "annotation.submitted", before, annotations
            )
            insert_events(con, [event])
    return len(checked)


# -- model suggestions and gold ------------------------------------------------------------


def suggestion_id(set_version: int, idx: int) -> str:
    """The stable id of a model entity as a suggestion (also its Label Studio region id)."""
    return f"m{set_version}-{idx}"


def model_suggestions(
    store: Store, encounter_id: str, transcript_version: int | None = None
) -> list[Annotation]:
    """The NLP model's entities as span suggestions (origin "suggestion"), as the actor may
    read them; empty when there is no entity set for that transcript version."""
    from workbench.store.entities import get_entity_set  # entities import access too

    if not allowed(store, "annotation.review"):  # a lead reads any task's encounter
        require(store, "encounter.view", encounter_id)
    found = get_entity_set(
        store.as_actor(SYSTEM), encounter_id, transcript_version=transcript_version
    )
    if found is None:
        return []
    out = []
    for idx, e in enumerate(found.entities):
        context = [
            f
            for f in ("negated", "historical", "family", "hypothetical", "uncertain")
            if getattr(e, f)
        ]
        value: dict[str, Any] = {"context": context, "attributes": dict(e.attributes)}
        if e.code:
            value["code"] = {"system": e.code_system, "code": e.code, "label": e.code_label}
        out.append(
            Annotation(
                annotation_id=suggestion_id(found.version, idx),
                kind="span",
                label=e.label,
                segment_idx=e.segment_idx,
                start_char=e.start,
                end_char=e.end,
                text=e.text,
                value=value,
                origin="suggestion",
                model_version=found.model_version,
            )
        )
    return present_annotations(store, encounter_id, found.transcript_version, out)


def set_gold(
    store: Store,
    encounter_id: str,
    kind: str,
    annotations: Sequence[Annotation],
    *,
    method: str,
    chosen_task: str | None = None,
    reason: str | None = None,
) -> GoldChoice:
    """Record the gold annotation set of an encounter and task kind (``annotation.review``):
    ``method`` "task" takes ``chosen_task``'s labels (not the suggestions it rejected),
    "merged" a set built by the lead.
    Earlier choices stay (append-only); the newest is the gold."""
    require(store, "annotation.review")
    if method not in ("task", "merged"):
        raise InvalidEdit("method must be 'task' or 'merged'")
    with store.transaction() as con:
        _require_encounter(con, encounter_id)
        if method == "task":
            if chosen_task is None:
                raise InvalidEdit("method 'task' needs the chosen task")
            chosen = _read_task(con, chosen_task)
            if (chosen.encounter_id, chosen.kind) != (encounter_id, kind):
                raise InvalidEdit(f"Task {chosen_task} is not a {kind} task of {encounter_id}")
            if chosen.status not in (SUBMITTED, REVIEWED):
                raise TaskStateError(f"Task {chosen_task} has not been submitted")
            # Labels only: a suggestion still in the set is one the annotator rejected.
            annotations = [
                a for a in _read_annotations(con, chosen_task) if a.origin != "suggestion"
            ]
        else:
            transcript = _raw_transcript(store.as_actor(SYSTEM), encounter_id, None)
            try:
                annotations = check_annotations(
                    kind, annotations, transcript, load_label_schema(), load_task_schema()
                )
            except InvalidAnnotation as exc:
                raise InvalidEdit(str(exc)) from None
        seq = con.execute(
            "SELECT coalesce(max(seq), 0) + 1 FROM annotation_gold"
            " WHERE encounter_id = ? AND kind = ?",
            [encounter_id, kind],
        ).fetchone()[0]
        now = utcnow()
        dicts = [annotation_dict(a) for a in annotations]
        con.execute(
            "INSERT INTO annotation_gold VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                encounter_id,
                kind,
                seq,
                method,
                chosen_task,
                json.dumps(dicts),
                store.actor.user_id,
                now,
                reason,
            ],
        )
        event = new_event(
            store.actor.user_id,
            encounter_id,
            "annotation.adjudicated",
            object_type="annotation_gold",
            object_id=f"{encounter_id}:{kind}:{seq}",
            after={
                "method": method,
                "chosen_task": chosen_task,
                "reason": reason,
                "annotations": dicts,
            },
        )
        insert_events(con, [event])
        return GoldChoice(
            encounter_id,
            kind,
            seq,
            method,
            chosen_task,
            tuple(annotations),
            store.actor.user_id,
            now,
            reason,
        )


def gold(store: Store, encounter_id: str, kind: str = "entities") -> GoldChoice | None:
    """The newest gold choice of the encounter and kind, or None. Stored offsets (training
    data): ``text.phi`` or ``annotation.review`` is needed."""
    if not allowed(store, "annotation.review"):
        require(store, "text.phi", encounter_id)
    with store.connect() as con:
        row = con.execute(
            "SELECT encounter_id, kind, seq, method, chosen_task, annotations, chosen_by,"
            " chosen_at, reason FROM annotation_gold WHERE encounter_id = ? AND kind = ?"
            " ORDER BY seq DESC LIMIT 1",
            [encounter_id, kind],
        ).fetchone()
    if row is None:
        return None
    annotations = [annotation_from_dict(d) for d in json.loads(row[5])]
    # A lead without text.phi reads the gold de-identified, like the versions it came from.
    annotations = present_annotations(store, encounter_id, None, annotations)
    return GoldChoice(*row[:5], tuple(annotations), *row[6:])


def task_transcript(store: Store, task_id: str) -> Transcript | None:
    """The transcript version the task's spans point into, as the actor may read it; for
    the task's assignee or a lead (``get_task``), also on encounters not assigned to them."""
    task = get_task(store, task_id)
    found = _raw_transcript(store.as_actor(SYSTEM), task.encounter_id, task.transcript_version)
    return present_transcript(store, task.encounter_id, found) if found else None


# -- plain conversions ---------------------------------------------------------------------


def annotation_dict(a: Annotation) -> dict[str, Any]:
    """The annotation as a JSON-ready dict (events, gold, exports)."""
    return asdict(a)


def annotation_from_dict(d: dict[str, Any]) -> Annotation:
    """The inverse of ``annotation_dict``."""
    return Annotation(**{**d, "value": dict(d.get("value") or {})})


# -- internals -----------------------------------------------------------------------------


def _require_encounter(con: duckdb.DuckDBPyConnection, encounter_id: str) -> None:
    if not con.execute(
        "SELECT 1 FROM encounters WHERE encounter_id = ?", [encounter_id]
    ).fetchone():
        raise NotFound(f"No encounter {encounter_id}")


def _require_reader(store: Store, task: AnnotationTask) -> None:
    if task.assignee == store.actor.user_id and allowed(
        store, "annotation.work", task.encounter_id
    ):
        return
    require(store, "annotation.review")


def edit_refusal(store: Store, task: AnnotationTask) -> str | None:
    """Why the store's actor may not change ``task`` now (None: they may). The one rule the
    store's writes and the annotation pages both follow: the assignee (or an admin) changes
    a task while it is a draft."""
    if store.actor.role not in ("admin", "system") and task.assignee != store.actor.user_id:
        return f"This is {task.assignee}'s task: you see it read-only."
    if task.status == SUBMITTED:
        return "Submitted: waiting for review, it can no longer change."
    if task.status == REVIEWED:
        return "Reviewed: this task is done."
    return None


def _require_worker(store: Store, task: AnnotationTask) -> None:
    # Only ownership here: the status is checked against the row read in the transaction.
    if store.actor.role not in ("admin", "system") and task.assignee != store.actor.user_id:
        raise Forbidden(f"Task {task.task_id} is {task.assignee}'s, not yours")
    require(store, "annotation.work", task.encounter_id)


def _existing_task(
    con: duckdb.DuckDBPyConnection,
    encounter_id: str,
    kind: str,
    assignee: str,
    task_id: str | None,
) -> AnnotationTask | None:
    if task_id is not None:
        row = con.execute(_TASK_COLUMNS + " WHERE task_id = ?", [task_id]).fetchone()
        return _task(row) if row else None
    if kind == "pairwise":
        return None
    row = con.execute(
        _TASK_COLUMNS + " WHERE encounter_id = ? AND kind = ? AND assignee = ?"
        " AND source = 'app' AND status <> 'reviewed' ORDER BY created_at LIMIT 1",
        [encounter_id, kind, assignee],
    ).fetchone()
    return _task(row) if row else None


def _insert_task(
    con: duckdb.DuckDBPyConnection,
    store: Store,
    encounter_id: str,
    kind: str,
    assignee: str,
    payload: dict[str, Any] | None,
    source: str,
    external_id: str | None,
    task_id: str | None,
    transcript_version: int | None = None,
) -> AnnotationTask:
    if transcript_version is None:
        transcript_version = con.execute(
            "SELECT max(version) FROM transcripts WHERE encounter_id = ?", [encounter_id]
        ).fetchone()[0]
    note_version = con.execute(
        "SELECT max(version) FROM notes WHERE encounter_id = ?", [encounter_id]
    ).fetchone()[0]
    now = utcnow()
    task_id = task_id or f"t-{uuid.uuid4().hex[:12]}"
    con.execute(
        "INSERT INTO annotation_tasks (task_id, encounter_id, kind, assignee, status,"
        " transcript_version, note_version, payload, source, external_id, revision,"
        " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
        [
            task_id,
            encounter_id,
            kind,
            assignee,
            DRAFT,
            transcript_version,
            note_version,
            json.dumps(payload or {}),
            source,
            external_id,
            store.actor.user_id,
            now,
            now,
        ],
    )
    task = _read_task(con, task_id)
    insert_events(
        con,
        [
            new_event(
                store.actor.user_id,
                encounter_id,
                "task.created",
                object_type="annotation_task",
                object_id=task_id,
                after={
                    "kind": kind,
                    "assignee": assignee,
                    "source": source,
                    "external_id": external_id,
                },
            )
        ],
    )
    return task


def _external_task(con: duckdb.DuckDBPyConnection, store: Store, sub: Submission) -> AnnotationTask:
    """The task an external submission belongs to (one per external task and annotator)."""
    row = con.execute(
        _TASK_COLUMNS + " WHERE source = 'labelstudio' AND encounter_id = ? AND kind = ?"
        " AND assignee = ? AND external_id IS NOT DISTINCT FROM ?",
        [sub.encounter_id, sub.kind, sub.annotator, sub.external_id],
    ).fetchone()
    if row is not None:
        return _task(row)
    return _insert_task(
        con,
        store,
        sub.encounter_id,
        sub.kind,
        sub.annotator,
        None,
        "labelstudio",
        sub.external_id,
        None,
        sub.transcript_version,
    )


def _read_task(con: duckdb.DuckDBPyConnection, task_id: str) -> AnnotationTask:
    row = con.execute(_TASK_COLUMNS + " WHERE task_id = ?", [task_id]).fetchone()
    if row is None:
        raise NotFound(f"No annotation task {task_id}")
    return _task(row)


def _task(row: tuple) -> AnnotationTask:
    values = list(row)
    values[7] = json.loads(values[7]) if values[7] else {}
    return AnnotationTask(*values)


def _read_annotations(con: duckdb.DuckDBPyConnection, task_id: str) -> list[Annotation]:
    return [
        Annotation(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7]) if r[7] else {}, r[8], r[9]
        )
        for r in con.execute(_ANNOTATION_COLUMNS, [task_id]).fetchall()
    ]


def _replace_annotations(
    con: duckdb.DuckDBPyConnection, task: AnnotationTask, annotations: Sequence[Annotation]
) -> None:
    con.execute("DELETE FROM annotations WHERE task_id = ?", [task.task_id])
    if annotations:
        con.executemany(
            _INSERT_ANNOTATION,
            [
                [
                    task.task_id,
                    a.annotation_id,
                    task.encounter_id,
                    task.assignee,
                    a.kind,
                    a.label,
                    a.segment_idx,
                    a.start_char,
                    a.end_char,
                    a.text,
                    json.dumps(a.value),
                    a.origin,
                    a.model_version,
                ]
                for a in annotations
            ],
        )


def _check_open(con: duckdb.DuckDBPyConnection, task_id: str, revision: int) -> AnnotationTask:
    current = _read_task(con, task_id)
    if current.status != DRAFT:
        raise TaskStateError(f"Task {task_id} is {current.status}: it can no longer change")
    if current.revision != revision:
        raise ConcurrentEdit(
            f"Task {task_id} was saved elsewhere (revision {current.revision}, yours"
            f" {revision}); reload it. Nothing was written."
        )
    return current


def _check_complete(task: AnnotationTask, annotations: Sequence[Annotation]) -> None:
    """What a submitted task must hold: a rating for every PDQI item, a pairwise choice.
    Entity, section and transcript tasks may legitimately be empty (nothing to label)."""
    if task.kind == "quality":
        schema = load_task_schema()
        rated = {a.label for a in annotations if a.kind == "rating"}
        missing = [q.name for q in schema.quality_items if q.name not in rated]
        if missing:
            raise InvalidEdit(f"Rate every item before submitting; missing: {', '.join(missing)}")
    if task.kind == "pairwise" and not any(a.kind == "preference" for a in annotations):
        raise InvalidEdit("Choose the better draft (or a tie) before submitting")


def _bump(con: duckdb.DuckDBPyConnection, task: AnnotationTask, status: str) -> AnnotationTask:
    con.execute(
        "UPDATE annotation_tasks SET status = ?, revision = revision + 1, updated_at = ?"
        " WHERE task_id = ?",
        [status, utcnow(), task.task_id],
    )
    return _read_task(con, task.task_id)


def _change_event(
    user_id: str,
    task: AnnotationTask,
    kind: str,
    before: Sequence[Annotation],
    after: Sequence[Annotation],
):
    return new_event(
        user_id,
        task.encounter_id,
        kind,
        object_type="annotation_task",
        object_id=task.task_id,
        before={"task_kind": task.kind, "annotations": [annotation_dict(a) for a in before]},
        after={
            "task_kind": task.kind,
            "revision": task.revision,
            "status": task.status,
            "annotations": [annotation_dict(a) for a in after],
        },
    )


def _raw_transcript(raw: Store, encounter_id: str, version: int | None) -> Transcript | None:
    from workbench.store.transcripts import get_transcript  # transcripts import access too

    found = get_transcript(raw, encounter_id, version)
    return found[1] if found else None


def _to_stored(
    store: Store, task: AnnotationTask, annotations: Sequence[Annotation]
) -> list[Annotation]:
    """Check the annotations and map offsets the actor gave in the de-identified text back
    to the stored text. Spans the actor could not see (``start_char`` None) keep their
    stored offsets."""
    raw = store.as_actor(SYSTEM)
    transcript = _raw_transcript(raw, task.encounter_id, task.transcript_version)
    redact = phi_redactor(store, task.encounter_id)
    if redact is not None and transcript is not None:
        with store.connect() as con:
            kept = {a.annotation_id: a for a in _read_annotations(con, task.task_id)}
        annotations = [
            _span_to_stored(a, transcript, redact, kept.get(a.annotation_id)) for a in annotations
        ]
    try:
        return check_annotations(
            task.kind, annotations, transcript, load_label_schema(), load_task_schema()
        )
    except InvalidAnnotation as exc:
        raise InvalidEdit(str(exc)) from None


def _span_to_stored(
    a: Annotation, transcript: Transcript, redact: Callable, kept: Annotation | None
) -> Annotation:
    from pipelines.deid.spans import to_original

    if a.kind != "span" or a.segment_idx is None:
        return a
    if a.start_char is None and kept is not None:
        return kept
    if not 0 <= a.segment_idx < len(transcript.segments) or a.start_char is None:
        return a  # check_annotations says what is wrong
    shown = redact(transcript.segments[a.segment_idx].text)
    end = a.end_char if a.end_char is not None else a.start_char
    quoted = shown.text[a.start_char : end]
    if a.text is not None and a.text != quoted:
        raise InvalidEdit(
            f"annotation {a.annotation_id!r}: text {a.text!r} does not match the transcript"
            f" ({quoted!r})"
        )
    mapped = to_original(shown.spans, a.start_char, end)
    if mapped is None:
        raise InvalidEdit(
            f"annotation {a.annotation_id!r}: the span covers de-identified text ([NAME] ...)"
        )
    return replace(a, start_char=mapped[0], end_char=mapped[1], text=None)


def present_annotations(
    store: Store,
    encounter_id: str,
    transcript_version: int | None,
    annotations: list[Annotation],
) -> list[Annotation]:
    """Annotations as the actor may read them: without ``text.phi``, span offsets into the
    de-identified segment text and every free text de-identified."""
    redact = phi_redactor(store, encounter_id)
    if redact is None:
        return annotations
    from pipelines.deid.spans import to_rendered

    transcript = _raw_transcript(store.as_actor(SYSTEM), encounter_id, transcript_version)
    out = []
    for a in annotations:
        value = {k: redact(v).text if isinstance(v, str) else v for k, v in a.value.items()}
        if a.kind == "span" and transcript is not None and a.segment_idx is not None:
            shown = redact(transcript.segments[a.segment_idx].text)
            mapped = to_rendered(shown.spans, a.start_char or 0, a.end_char or 0)
            start, end = mapped if mapped else (None, None)
            text = shown.text[start:end] if mapped else redact(a.text or "").text
            out.append(replace(a, start_char=start, end_char=end, text=text, value=value))
        else:
            out.append(replace(a, text=redact(a.text).text if a.text else a.text, value=value))
    return out
