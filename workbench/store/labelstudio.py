"""Label Studio sync state (migration 0022): projects, pushed tasks, imported annotations.

``workbench.labelstudio_sync`` talks to the server; this module only remembers what was
pushed and pulled, so that a re-push updates tasks instead of duplicating them and a pull
imports each Label Studio annotation (at a given ``updated_at``) once. The ``record_*``
functions run inside the caller's transaction, next to the events and imports they go with.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from workbench.store.db import Store, utcnow

_PROJECT = (
    "SELECT ls_project_id, config_sha256 FROM labelstudio_projects WHERE server = ? AND project = ?"
)
# Keyed upserts and insert-once as MERGE (portable to DuckLake, which has no keys; the
# store's one-writer lock keeps them correct).
_UPSERT_PROJECT = (
    "MERGE INTO labelstudio_projects AS t USING (SELECT ? AS server, ? AS project,"
    " ? AS ls_project_id, ? AS config_sha256, ? AS pushed_by, ? AS pushed_at) AS s"
    " USING (server, project) WHEN MATCHED THEN UPDATE SET ls_project_id = s.ls_project_id,"
    " config_sha256 = s.config_sha256, pushed_by = s.pushed_by, pushed_at = s.pushed_at"
    " WHEN NOT MATCHED THEN INSERT BY NAME"
)
_TASKS = (
    "SELECT ls_task_id, encounter_id, transcript_version, task_sha256 FROM labelstudio_tasks"
    " WHERE server = ? AND ls_project_id = ? ORDER BY ls_task_id"
)
_UPSERT_TASK = (
    "MERGE INTO labelstudio_tasks AS t USING (SELECT ? AS server, ? AS ls_task_id,"
    " ? AS ls_project_id, ? AS encounter_id, ? AS transcript_version, ? AS task_sha256,"
    " ? AS pushed_at) AS s USING (server, ls_task_id) WHEN MATCHED THEN UPDATE SET"
    " ls_project_id = s.ls_project_id, encounter_id = s.encounter_id,"
    " transcript_version = s.transcript_version, task_sha256 = s.task_sha256,"
    " pushed_at = s.pushed_at WHEN NOT MATCHED THEN INSERT BY NAME"
)
_IMPORTED = (
    "SELECT ls_annotation_id, ls_updated_at FROM labelstudio_imports"
    " WHERE server = ? AND ls_project_id = ?"
)
_INSERT_IMPORT = (
    "MERGE INTO labelstudio_imports AS t USING (SELECT ? AS server, ? AS ls_annotation_id,"
    " ? AS ls_updated_at, ? AS ls_project_id, ? AS ls_task_id, ? AS encounter_id,"
    " ? AS user_id, ? AS submission_ref, ? AS imported_at) AS s"
    " USING (server, ls_annotation_id, ls_updated_at) WHEN NOT MATCHED THEN INSERT BY NAME"
)
_COUNT_IMPORTS = "SELECT count(*) FROM labelstudio_imports WHERE server = ? AND ls_project_id = ?"


@dataclass(frozen=True)
class PushedTask:
    """One Label Studio task Scribe created: which encounter and transcript version it holds
    and the digest of what was pushed last (data and predictions)."""

    ls_task_id: int
    encounter_id: str
    transcript_version: int
    task_sha256: str


@dataclass(frozen=True)
class Imported:
    """One Label Studio annotation, as of its ``updated_at``, imported as a submission."""

    ls_annotation_id: int
    ls_updated_at: str
    ls_task_id: int
    encounter_id: str
    user_id: str
    submission_ref: str


def project_id(store: Store, server: str, project: str) -> tuple[int, str] | None:
    """(Label Studio project id, sha256 of the config pushed last) of a project Scribe
    pushed to, or None."""
    with store.connect() as con:
        row = con.execute(_PROJECT, [server, project]).fetchone()
    return None if row is None else (int(row[0]), row[1])


def pushed_tasks(store: Store, server: str, ls_project_id: int) -> list[PushedTask]:
    """The tasks Scribe pushed to one project, by Label Studio task id."""
    with store.connect() as con:
        rows = con.execute(_TASKS, [server, ls_project_id]).fetchall()
    return [PushedTask(int(r[0]), r[1], int(r[2]), r[3]) for r in rows]


def imported_keys(store: Store, server: str, ls_project_id: int) -> set[tuple[int, str]]:
    """(annotation id, updated_at) of every annotation already imported from the project."""
    with store.connect() as con:
        rows = con.execute(_IMPORTED, [server, ls_project_id]).fetchall()
    return {(int(r[0]), r[1]) for r in rows}


def import_count(store: Store, server: str, ls_project_id: int) -> int:
    """How many Label Studio annotation versions were imported from the project."""
    with store.connect() as con:
        return int(con.execute(_COUNT_IMPORTS, [server, ls_project_id]).fetchone()[0])


def record_project(
    con: duckdb.DuckDBPyConnection,
    server: str,
    project: str,
    ls_project_id: int,
    config_sha256: str,
    user_id: str,
) -> None:
    """Remember the project and the config pushed to it (inside the caller's transaction)."""
    con.execute(_UPSERT_PROJECT, [server, project, ls_project_id, config_sha256, user_id, utcnow()])


def record_tasks(
    con: duckdb.DuckDBPyConnection, server: str, ls_project_id: int, tasks: Iterable[PushedTask]
) -> None:
    """Remember pushed tasks (a task pushed again gets its new version and digest)."""
    now = utcnow()
    for t in tasks:
        con.execute(
            _UPSERT_TASK,
            [
                server,
                t.ls_task_id,
                ls_project_id,
                t.encounter_id,
                t.transcript_version,
                t.task_sha256,
                now,
            ],
        )


def record_imports(
    con: duckdb.DuckDBPyConnection, server: str, ls_project_id: int, rows: Iterable[Imported]
) -> None:
    """Remember imported annotation versions (inside the transaction that imports them)."""
    now = utcnow()
    for r in rows:
        con.execute(
            _INSERT_IMPORT,
            [
                server,
                r.ls_annotation_id,
                r.ls_updated_at,
                ls_project_id,
                r.ls_task_id,
                r.encounter_id,
                r.user_id,
                r.submission_ref,
                now,
            ],
        )
