"""A small Python API for Jupyter notebooks: read a workbench store, as a user, read-only.

    from workbench.notebook import Filters, open_store

    nb = open_store("~/scribe-data", user="ana", password="...")   # an analyst
    nb.figure("edit_burden", Filters(specialties=("cardiology",)))  # pandas DataFrame
    nb.figures(Filters(start=date(2026, 1, 1)))                     # every figure, one read
    nb.encounters(Filters(simulated=False), limit=1000)             # per-encounter measures
    nb.events(kinds=("sentence.edited",), since=datetime(2026, 1, 1), limit=5000)
    nb.corrections(encounter_ids=["enc-1"])                         # typed correction records
    with nb.connection() as con:                                    # lazy DuckDB relations
        con.encounters(Filters()).aggregate("specialty, avg(active_seconds)").df()

Read-only: nothing is ever written (no migration, no event, no audit row; sign-ins and
refusals here are therefore not recorded). Each call takes the store's lock, opens the
DuckDB file read-only, reads and closes it (``workbench.store.readonly``), so a running
workbench is blocked for one read at most; inside ``connection()`` the file stays open
(and the workbench waits) until the block ends, so keep such blocks short.

Roles are those of the app (``workbench.store.access``): ``user``/``password`` sign in as a
workbench account (a locked or disabled one is refused); no user acts as the operator
(``system``: everything, as anyone holding the data directory can). Figures, encounters
and events need ``analytics.view`` (analysts, admins); events carry their before/after text
only with ``audit.view`` (admins). Corrections are the typed records of
``pipelines.export.corrections``, de-identified (``deid=True``: text, users and times)
for every encounter whose identified text the user may not read (``text.phi``): analysts
only ever get de-identified text. The analytics facts are as fresh as the last
``analytics.refresh`` the workbench ran; this API does not refresh them.

Bounded: every row-level read has a ``limit`` (at most ``MAX_ROWS``); figures are small
aggregates.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from workbench.store import analytics
from workbench.store import notebook_reads as reads
from workbench.store.access import Actor, Forbidden, allowed
from workbench.store.analytics import FIGURES, Filters
from workbench.store.db import Store
from workbench.store.readonly import open_read_only

MAX_ROWS = reads.MAX_ROWS
__all__ = ["FIGURES", "MAX_ROWS", "Filters", "Notebook", "open_store"]


def open_store(
    data_dir: str | Path,
    user: str | None = None,
    password: str | None = None,
    key: bytes | None = None,
) -> Notebook:
    """The store in ``data_dir``, read-only, acting as ``user`` (signed in with
    ``password``) or, without a user, as the operator. ``key``: the master key of an
    encrypted store (default: SCRIBE_KEY / SCRIBE_KEY_FILE, as the workbench reads it)."""
    from workbench.keys import load_key

    store = open_read_only(Path(data_dir).expanduser(), key if key is not None else load_key())
    if user is None:
        return Notebook(store)
    return Notebook(store.as_actor(_sign_in(store, user, password)))


def _sign_in(store: Store, user: str, password: str | None) -> Actor:
    """The account's actor if the password is right and the account usable; the checks of
    ``workbench.auth.authenticate`` without its writes (no event, no failure count)."""
    from workbench.auth import verify_password
    from workbench.store.db import utcnow
    from workbench.store.users import get_account

    account = get_account(store, user)
    if account is None or not verify_password(account.password_hash, password or ""):
        raise Forbidden("Unknown user or wrong password")
    if account.locked(utcnow()):
        raise Forbidden(f"Account {user} is locked until {account.locked_until:%Y-%m-%d %H:%M}")
    if account.disabled:
        raise Forbidden(f"Account {user} is disabled")
    return account.actor()


def _need(store: Store, action: str) -> None:
    """``Forbidden`` unless the actor may take ``action`` (checked without auditing: this
    handle writes nothing)."""
    if not allowed(store, action):
        actor = store.actor
        raise Forbidden(f"{actor.user_id} ({actor.role}) may not {action}")


@dataclass(frozen=True)
class Relations:
    """Lazy DuckDB relations on one open read-only connection (see ``Notebook.connection``).
    Compose them with DuckDB's relational API, then ``.df()`` a small result."""

    con: duckdb.DuckDBPyConnection
    store: Store

    def encounters(self, filters: Filters | None = None, limit: int = MAX_ROWS):
        """Per-encounter analytics facts under ``filters`` (``analytics.view``)."""
        _need(self.store, "analytics.view")
        return reads.encounters_relation(self.con, filters or Filters(), limit)

    def events(
        self,
        kinds: Sequence[str] | None = None,
        since: datetime | None = None,
        limit: int = MAX_ROWS,
    ):
        """Events in time order (``analytics.view``; before/after with ``audit.view``)."""
        _need(self.store, "analytics.view")
        with_text = reads.events_with_text(self.store)
        return reads.events_relation(
            self.con, None if kinds is None else tuple(kinds), since, limit, with_text
        )

    def figure(self, name: str, filters: Filters | None = None):
        """One figure's aggregate table as a relation (``analytics.view``)."""
        _need(self.store, "analytics.view")
        return self.con.from_df(FIGURES[_figure_name(name)](self.con, filters or Filters()))


def _figure_name(name: str) -> str:
    if name not in FIGURES:
        raise ValueError(f"Unknown figure {name!r}; choose from {', '.join(FIGURES)}")
    return name


class Notebook:
    """A read-only store acting for one user; every method returns a pandas DataFrame."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def actor(self) -> Actor:
        """Who the reads act for."""
        return self.store.actor

    def __repr__(self) -> str:
        return f"Notebook({str(self.store.path)!r}, user={self.actor.user_id!r})"

    def figure(self, name: str, filters: Filters | None = None) -> pd.DataFrame:
        """One figure's aggregate table (``analytics.FIGURES``; ``analytics.view``)."""
        _need(self.store, "analytics.view")
        return analytics.figure(self.store, _figure_name(name), filters or Filters())

    def figures(self, filters: Filters | None = None) -> dict[str, pd.DataFrame]:
        """Every figure's aggregate table, read on one connection (``analytics.view``)."""
        _need(self.store, "analytics.view")
        return analytics.figures(self.store, filters or Filters())

    def encounters(self, filters: Filters | None = None, limit: int = 10_000) -> pd.DataFrame:
        """Per-encounter analytics facts (clinician, specialty, versions, times, measures; no
        patient text) under ``filters``, oldest first, at most ``limit`` rows."""
        _need(self.store, "analytics.view")
        return reads.encounters(self.store, filters or Filters(), limit)

    def events(
        self,
        kinds: Sequence[str] | None = None,
        since: datetime | None = None,
        limit: int = 10_000,
    ) -> pd.DataFrame:
        """Events of ``kinds`` (all kinds: None) since ``since``, oldest first, at most
        ``limit``. Before/after (identified text) only for ``audit.view``."""
        _need(self.store, "analytics.view")
        return reads.events(self.store, None if kinds is None else tuple(kinds), since, limit)

    def corrections(
        self,
        encounter_ids: Sequence[str] | None = None,
        since: datetime | None = None,
        limit: int = 100,
        deid: bool = False,
    ) -> pd.DataFrame:
        """People's corrections as typed records (``pipelines.export.corrections``), one row
        per record, for ``encounter_ids`` (or the first ``limit`` encounters of the analytics
        facts with events since ``since``). De-identified where the user lacks ``text.phi``,
        or everywhere with ``deid=True``. ``encounter.view`` on each encounter."""
        from pipelines.export import corrections as corr
        from workbench.export_formats import evidence_source
        from workbench.store.known_names import encounter_names

        reads.check_limit(limit)
        if encounter_ids is None:
            _need(self.store, "analytics.view")
            encounter_ids = reads.analytics_encounter_ids(self.store, since, limit)
        elif len(encounter_ids) > limit:
            raise ValueError(f"{len(encounter_ids)} encounters asked for; the limit is {limit}")
        counts, users = corr.CorrectionCounts(), corr.Pseudonyms()
        records: list[dict[str, Any]] = []
        with self.store.one_connection():
            for encounter_id in encounter_ids:
                _need_encounter(self.store, encounter_id)
                masked = deid or not allowed(self.store, "text.phi", encounter_id)
                records += corr.correction_records(
                    reads.correction_event_list(self.store, encounter_id, since),
                    evidence_source(self.store, encounter_id, masked),
                    counts,
                    deid=masked,
                    known_names=encounter_names(self.store, encounter_id) if masked else (),
                    users=users,
                )
        return pd.DataFrame.from_records(records)

    @contextmanager
    def connection(self) -> Iterator[Relations]:
        """One read-only connection for the block, with lazy relations on it. The workbench
        waits for the file until the block ends: keep it short."""
        with self.store.connect() as con:
            yield Relations(con, self.store)


def _need_encounter(store: Store, encounter_id: str) -> None:
    if not allowed(store, "encounter.view", encounter_id):
        raise Forbidden(f"{store.actor.user_id} may not view encounter {encounter_id}")
