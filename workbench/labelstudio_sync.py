"""Push encounters to a Label Studio project and pull completed annotations back.

``push`` creates the project (or updates its labelling config) and uploads one task per
encounter with the model's entities as predictions; pushing again updates those tasks in
place (matched by the sync state and, should that be lost, by the encounter id in each
task's data), never duplicating them. ``pull`` reads every task of the project, checks every
completed annotation (``pipelines.labelstudio.parse_task``) and only then imports the new
ones in one transaction (``annotation_tasks.import_submissions``), each attributed to its
Label Studio annotator: our account with that email, else ``labelstudio:<email>``. A server
that fails halfway, a dropped connection or one malformed annotation imports nothing; a
rerun imports each annotation version exactly once.

Clinical text crosses the network here: plain http is refused unless the server is on this
machine, and each push and pull is a typed event (``labelstudio.pushed`` per encounter,
``labelstudio.pulled``). Logs carry ids and counts, never text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.annotation_schema import load_task_schema
from pipelines.labelstudio import (
    ENCOUNTER_KEY,
    VERSION_KEY,
    LabelStudioFormatError,
    PulledAnnotation,
    build_task,
    config_sha256,
    parse_task,
    project_config,
    same_config,
    task_digest,
    task_identity,
)
from pipelines.schema import load_label_schema
from workbench.labelstudio_client import (
    PAGE_SIZE,
    LabelStudioError,
    all_tasks,
    call,
    connect,
    lookup_project,
    plain_task,
    scribe_config,
    server_url,
    user_emails,
)
from workbench.store import labelstudio as state
from workbench.store.access import require
from workbench.store.annotation_tasks import Submission, import_submissions, model_suggestions
from workbench.store.db import InvalidEdit, NotFound, Store
from workbench.store.events import insert_events, new_event
from workbench.store.transcripts import get_transcript
from workbench.store.users import account_by_email

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushResult:
    """What a push did: tasks created, updated in place, or already up to date."""

    server: str
    project: str
    ls_project_id: int
    created: int
    updated: int
    unchanged: int
    predictions: int  # prediction regions (spans) sent with the created and updated tasks


@dataclass(frozen=True)
class PullResult:
    """What a pull found and imported."""

    server: str
    project: str
    ls_project_id: int
    tasks: int  # tasks read
    annotations: int  # completed annotations seen
    imported: int  # of which new (or edited since the last pull) and now imported


# -- push ----------------------------------------------------------------------------------


def push(
    store: Store,
    url: str,
    token: str,
    project: str,
    encounter_ids: Sequence[str],
    *,
    audio_url: str | None = None,
    client: Any = None,
) -> PushResult:
    """Create or update the project and upload one task per encounter (its newest
    transcript version, the model's entities as predictions). ``audio_url`` is a URL
    template where ``{encounter_id}`` is replaced (the project then gets an audio player);
    without it no audio is sent. Re-pushing updates tasks in place: a task whose
    transcript version changed is updated unless someone already annotated it, in which
    case the new version gets a task of its own."""
    server = server_url(url)
    require(store, "task.assign")
    if not encounter_ids:
        raise LabelStudioError("Name at least one encounter to push")
    labels, tasks_schema = load_label_schema(), load_task_schema()
    config = project_config(labels, tasks_schema, audio=audio_url is not None)
    started = time.perf_counter()
    wanted = [
        _task_for(store, encounter_id, labels, audio_url)
        for encounter_id in dict.fromkeys(encounter_ids)
    ]
    client = client or connect(url, token)
    project_id = _ensure_project(client, store, server, project, config)
    existing = _remote_tasks(client, server, project_id)
    recorded = {t.ls_task_id: t for t in state.pushed_tasks(store, server, project_id)}
    created, updated, unchanged, regions = [], [], [], 0
    to_create: list[tuple[str, int, dict, str]] = []
    for encounter_id, version, task in wanted:
        digest = task_digest(task)
        target = _match(existing.get(encounter_id, []), version)
        if target is None:
            to_create.append((encounter_id, version, task, digest))
            continue
        task_id = target["id"]
        known = recorded.get(task_id)
        if known and known.task_sha256 == digest and known.transcript_version == version:
            unchanged.append(state.PushedTask(task_id, encounter_id, version, digest))
            continue
        _replace_task(client, server, task_id, task)
        regions += _regions(task)
        updated.append(state.PushedTask(task_id, encounter_id, version, digest))
    if to_create:
        ids = call(
            server,
            "importing tasks",
            lambda: client.projects.import_tasks(
                id=project_id,
                request=[t for _, _, t, _ in to_create],
                return_task_ids=True,
                commit_to_project=True,
            ),
        ).task_ids
        if not ids or len(ids) != len(to_create):
            raise LabelStudioError(
                f"Label Studio at {server} did not return the ids of the imported tasks;"
                " push again to match them"
            )
        for task_id, (encounter_id, version, task, digest) in zip(ids, to_create, strict=True):
            created.append(state.PushedTask(int(task_id), encounter_id, version, digest))
            regions += _regions(task)
    _record_push(store, server, project, project_id, config, created, updated, unchanged)
    log.info(
        "labelstudio push %s project %s: %d created, %d updated, %d unchanged in %.1f s",
        server,
        project_id,
        len(created),
        len(updated),
        len(unchanged),
        time.perf_counter() - started,
    )
    return PushResult(
        server, project, project_id, len(created), len(updated), len(unchanged), regions
    )


def _task_for(
    store: Store, encounter_id: str, labels: Any, audio_url: str | None
) -> tuple[str, int, dict]:
    require(store, "text.phi", encounter_id)  # the identified text leaves the workbench
    found = get_transcript(store, encounter_id)
    if found is None:
        raise NotFound(f"Encounter {encounter_id} has no transcript to push")
    version, transcript = found
    suggestions = model_suggestions(store, encounter_id, transcript_version=version)
    audio = audio_url.replace("{encounter_id}", encounter_id) if audio_url else None
    task = build_task(encounter_id, version, transcript, suggestions, labels, audio_url=audio)
    return encounter_id, version, task


def _ensure_project(client: Any, store: Store, server: str, project: str, config: str) -> int:
    """The project's id: the remembered one if it still exists, else the one titled
    ``project``, else a new project; its config set to ``config`` when it differs. A project
    of that title that Scribe did not make (another config, and tasks) is refused."""
    found, remembered = lookup_project(client, store, server, project)
    if found is None:
        created = call(
            server,
            "creating the project",
            lambda: client.projects.create(
                title=project,
                label_config=config,
                description="Encounters from Scribe Workbench (labelling config generated from"
                " annotations/; do not edit it in Label Studio)",
            ),
        )
        return int(created.id)
    if not same_config(found.label_config or "<View/>", config):
        if not remembered and (found.task_number or 0) > 0 and not scribe_config(found):
            raise LabelStudioError(
                f"Project {project!r} on {server} has another labelling config and"
                f" {found.task_number} tasks: it is not Scribe's. Choose another --project."
            )
        call(
            server,
            "updating the labelling config",
            lambda: client.projects.update(id=found.id, label_config=config),
        )
    return int(found.id)


def _remote_tasks(client: Any, server: str, project_id: int) -> dict[str, list[dict]]:
    """Scribe's tasks in the project by encounter: id, transcript version, annotations."""
    out: dict[str, list[dict]] = {}
    for task in all_tasks(client, server, project_id, fields="task_only"):
        data = task.data if isinstance(task.data, dict) else {}
        if not isinstance(data.get(ENCOUNTER_KEY), str):
            continue  # not one of ours
        out.setdefault(data[ENCOUNTER_KEY], []).append(
            {
                "id": int(task.id),
                "version": data.get(VERSION_KEY),
                "annotated": (task.total_annotations or 0) > 0,
            }
        )
    return out


def _match(candidates: list[dict], version: int) -> dict | None:
    """The task to update for this transcript version: the one holding it, else one of an
    older version nobody annotated yet; None: create a new task."""
    for c in candidates:
        if c["version"] == version:
            return c
    for c in candidates:
        if not c["annotated"]:
            return c
    return None


def _replace_task(client: Any, server: str, task_id: int, task: dict) -> None:
    """New data and predictions for a task that exists (its annotations stay)."""
    call(
        server,
        f"updating task {task_id}",
        lambda: client.tasks.update(id=str(task_id), data=task["data"]),
    )
    old = call(
        server,
        f"reading predictions of task {task_id}",
        lambda: client.predictions.list(task=task_id),
    )
    for prediction in old:
        call(
            server,
            f"removing a prediction of task {task_id}",
            lambda p=prediction: client.predictions.delete(id=p.id),
        )
    for prediction in task.get("predictions", []):
        call(
            server,
            f"adding predictions to task {task_id}",
            lambda p=prediction: client.predictions.create(
                task=task_id, result=p["result"], model_version=p["model_version"]
            ),
        )


def _regions(task: dict) -> int:
    return sum(
        1
        for p in task.get("predictions", [])
        for r in p["result"]
        if r.get("type") == "paragraphlabels"
    )


def _record_push(
    store: Store,
    server: str,
    project: str,
    project_id: int,
    config: str,
    created: list,
    updated: list,
    unchanged: list,
) -> None:
    user = store.actor.user_id
    events = [
        new_event(
            user,
            t.encounter_id,
            "labelstudio.pushed",
            object_type="labelstudio_task",
            object_id=f"{server}/projects/{project_id}/tasks/{t.ls_task_id}",
            after={
                "server": server,
                "project": project,
                "ls_project_id": project_id,
                "ls_task_id": t.ls_task_id,
                "transcript_version": t.transcript_version,
                "action": action,
                "task_sha256": t.task_sha256,
            },
        )
        for action, tasks in (("created", created), ("updated", updated))
        for t in tasks
    ]
    with store.transaction() as con:
        state.record_project(con, server, project, project_id, config_sha256(config), user)
        state.record_tasks(con, server, project_id, [*created, *updated, *unchanged])
        insert_events(con, events)


# -- pull ----------------------------------------------------------------------------------


def pull(
    store: Store,
    url: str,
    token: str,
    project: str,
    *,
    client: Any = None,
    page_size: int = PAGE_SIZE,
) -> PullResult:
    """Import the project's completed annotations that are new or were edited since the
    last pull. Everything is fetched and checked first; then one transaction imports it
    all, with the sync state and a ``labelstudio.pulled`` event. Any failure before that
    (server error, dropped connection, malformed or foreign annotation) imports nothing."""
    server = server_url(url)
    require(store, "task.assign")
    labels, tasks_schema = load_label_schema(), load_task_schema()
    started = time.perf_counter()
    client = client or connect(url, token)
    found = _find_project(client, store, server, project)
    project_id = int(found.id)
    if not scribe_config(found):
        raise LabelStudioError(
            f"Project {project!r} on {server} does not have Scribe's labelling config (it was"
            " edited in Label Studio, or the project is not Scribe's): nothing was imported."
            " Push to it again to restore the config."
        )
    emails = user_emails(client, server)
    raw_tasks = list(all_tasks(client, server, project_id, fields="all", page_size=page_size))
    pulled: list[PulledAnnotation] = []
    for task in raw_tasks:
        item = plain_task(task)
        if not item.get("annotations"):
            continue
        pulled.extend(_parse(store, item, labels, tasks_schema))
    done = state.imported_keys(store, server, project_id)
    new = [p for p in pulled if (p.ls_annotation_id, p.updated_at) not in done]
    submissions = [_submission(store, server, project_id, p, emails) for p in new]
    _import(store, server, project, project_id, new, submissions, len(raw_tasks), len(pulled))
    log.info(
        "labelstudio pull %s project %s: %d tasks, %d annotations, %d imported in %.1f s",
        server,
        project_id,
        len(raw_tasks),
        len(pulled),
        len(new),
        time.perf_counter() - started,
    )
    return PullResult(server, project, project_id, len(raw_tasks), len(pulled), len(new))


def _find_project(client: Any, store: Store, server: str, project: str) -> Any:
    found, _ = lookup_project(client, store, server, project)
    if found is None:
        raise LabelStudioError(f"No project titled {project!r} on {server}; push to create it")
    return found


def _parse(store: Store, item: dict, labels: Any, tasks_schema: Any) -> list[PulledAnnotation]:
    """The task's annotations, checked against the stored transcript version."""
    from workbench.store.access import SYSTEM

    try:
        task_id, encounter_id, version = task_identity(item)
        try:  # the stored text itself, whoever pulls (import_submissions checks access)
            found = get_transcript(store.as_actor(SYSTEM), encounter_id, version)
        except NotFound:
            found = None
        if found is None:
            raise LabelStudioFormatError(
                f"task {task_id} names encounter {encounter_id} transcript version {version},"
                " which this database does not have"
            )
        return parse_task(item, [s.text for s in found[1].segments], labels, tasks_schema)
    except LabelStudioFormatError as exc:
        raise LabelStudioError(f"Cannot import: {exc}. Nothing was imported.") from None


def _submission(
    store: Store, server: str, project_id: int, p: PulledAnnotation, emails: dict[int, str]
) -> Submission:
    email = p.annotator if isinstance(p.annotator, str) else emails.get(p.annotator)
    if email is None:
        annotator = f"labelstudio:{server}/users/{p.annotator}"
    else:
        account = account_by_email(store, email)
        annotator = account.user_id if account else f"labelstudio:{email}"
    return Submission(
        encounter_id=p.encounter_id,
        kind="entities",
        annotator=annotator,
        annotations=p.annotations,
        external_ref=f"{server}/projects/{project_id}/annotations/{p.ls_annotation_id}"
        f"@{p.updated_at}",
        external_id=f"{server}/projects/{project_id}/tasks/{p.ls_task_id}",
        transcript_version=p.transcript_version,
        submitted_at=_timestamp(p.updated_at),
    )


def _timestamp(text: str) -> Any:
    from datetime import UTC, datetime

    try:
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found.astimezone(UTC).replace(tzinfo=None) if found.tzinfo else found


def _import(
    store: Store,
    server: str,
    project: str,
    project_id: int,
    new: list[PulledAnnotation],
    submissions: list[Submission],
    tasks: int,
    seen: int,
) -> None:
    rows = [
        state.Imported(
            p.ls_annotation_id,
            p.updated_at,
            p.ls_task_id,
            p.encounter_id,
            s.annotator,
            s.external_ref,
        )
        for p, s in zip(new, submissions, strict=True)
    ]
    event = new_event(
        store.actor.user_id,
        None,
        "labelstudio.pulled",
        object_type="labelstudio_project",
        object_id=f"{server}/projects/{project_id}",
        after={
            "server": server,
            "project": project,
            "ls_project_id": project_id,
            "tasks": tasks,
            "annotations": seen,
            "imported": len(rows),
            "encounters": sorted({r.encounter_id for r in rows}),
        },
    )
    try:
        with store.transaction() as con:
            import_submissions(store, submissions)
            state.record_imports(con, server, project_id, rows)
            insert_events(con, [event])
    except InvalidEdit as exc:
        raise LabelStudioError(f"Cannot import: {exc}. Nothing was imported.") from None
