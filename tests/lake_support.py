"""A throwaway PostgreSQL, fresh lakes on it and a seeded encounter: shared by the test
fixtures (``tests/conftest.py``), the two-writer test and ``benchmarks/scale_lake.py``.

PostgreSQL: ``SCRIBE_TEST_POSTGRES`` (a ``postgresql://USER@HOST:PORT/DB`` that ``.ci/run``
exports after starting one on loopback), else one started by ``tests/postgres_server.sh``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from pipelines.types import Entity
from workbench import store as st

REPO = Path(__file__).resolve().parents[1]
POSTGRES_SCRIPT = REPO / "tests" / "postgres_server.sh"
TURNS = [
    ("clinician", "Any chest pain today?"),
    ("patient", "No chest pain but my cough is worse at night."),
]


class PostgresUnavailable(Exception):
    """No PostgreSQL for the shared-store tests: the named one does not answer, or the
    throwaway one did not start."""


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin(url: str):
    """An autocommit psycopg connection to ``url``."""
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10)


@contextmanager
def postgres_server(folder: Path) -> Iterator[str]:
    """A PostgreSQL server's URL (user with CREATE DATABASE rights, no password):
    ``SCRIBE_TEST_POSTGRES`` if set, else a cluster in ``folder`` stopped afterwards."""
    import psycopg

    url = os.environ.get("SCRIBE_TEST_POSTGRES", "").strip()
    if url:
        try:
            admin(url).close()
        except psycopg.Error as exc:
            raise PostgresUnavailable(
                f"SCRIBE_TEST_POSTGRES={url} does not answer: {exc}"
            ) from None
        yield url
        return
    port = free_port()
    started = subprocess.run(
        ["bash", str(POSTGRES_SCRIPT), "start", str(folder), str(port)],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    if started.returncode != 0:
        raise PostgresUnavailable(f"{POSTGRES_SCRIPT.name} start failed: {started.stderr[-500:]}")
    try:
        yield f"postgresql://scribe@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(["bash", str(POSTGRES_SCRIPT), "stop", str(folder)],
                       capture_output=True, timeout=120)  # fmt: skip


@contextmanager
def fresh_lake(server: str, data_dir: Path, prefix: str = "scribe_test") -> Iterator[str]:
    """A new, empty lake on ``server``: a new catalog database plus the data path
    ``data_dir``; its SCRIBE_LAKE URL. The database is dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin(server) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server)
    try:
        yield (f"postgresql://{parts.username}@{parts.hostname}:{parts.port or 5432}/{name}"
               f"?data_path={data_dir}")  # fmt: skip
    finally:
        with admin(server) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(store: st.Store, encounter_id: str) -> None:
    """An encounter with transcript, draft (note version 1) and entity set version 1."""
    from tests.conftest import make_draft, make_transcript

    st.add_encounter(store, st.EncounterRecord(encounter_id, f"Visit {encounter_id}"), "dr-a")
    transcript = make_transcript(TURNS)
    version = st.save_transcript(store, encounter_id, transcript, "dr-a")
    st.save_draft(store, encounter_id, make_draft(transcript), version, "dr-a")
    start = TURNS[0][1].index("chest pain")
    entity = Entity(0, start, start + len("chest pain"), "chest pain", "PROBLEM")
    st.save_entities(store, encounter_id, version, (entity,), "nlp.test", "pipeline")
