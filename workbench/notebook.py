"""A small Python API for Jupyter notebooks: read a workbench store, as a user, read-only.

    from workbench.notebook import Filters, open_store

    nb = open_store("~/scribe-data", user="ana", password="...")   # an analyst
    nb.figure("edit_burden", Filters(specialties=("cardiology",)))  # pandas DataFrame
    nb.figures(Filters(start=date(2026, 1, 1)))                     # every figure, one read
    nb.filter_options()                                             # the filters' choices
    nb.corrections(encounter_ids=["enc-1"])                         # typed, de-identified

    nb = open_store("~/scribe-data", user="adm", password="...")   # an admin (or no user)
    nb.encounters(Filters(simulated=False), limit=1000)             # per-encounter rows
    nb.events(kinds=("sentence.edited",), since=datetime(2026, 1, 1), limit=5000)
    with nb.connection() as con:                                    # lazy, unbounded relations
        con.encounters(Filters()).aggregate("specialty, avg(active_seconds)").df()

Read-only: nothing is ever written (no migration, no event, no audit row; sign-ins and
refusals here are therefore not recorded). Each call takes the store's lock, opens the
DuckDB file read-only, reads and closes it (``workbench.store.readonly``), so a running
workbench is blocked for one read at most; inside ``connection()`` the file stays open
(and the workbench waits) until the block ends, so keep such blocks short.

Roles are those of the app (``workbench.store.access``): ``user``/``password`` sign in as a
workbench account (a locked or disabled one is refused); no user acts as the operator
(``system``: everything). Figures and filter options need ``analytics.view`` (analysts,
admins): aggregates only. Row-level reads, one row per encounter or event with its id
(``encounters``, ``events`` and every relation of ``connection()``, whose DuckDB relations
can run any SQL on their connection) need ``analytics.drilldown`` (admins), as the
Analytics page's encounter lists do; events carry their before/after text only with
``audit.view`` (admins). Corrections are the typed records of
``pipelines.export.corrections``, de-identified (``deid=True``: text, users and times)
for every encounter whose identified text the user may not read (``text.phi``): analysts
only ever get de-identified text. The analytics facts are as fresh as the last
``analytics.refresh`` the workbench ran; this API does not refresh them.

What roles protect against: mistakes (an analyst's notebook reading rows it should not),
not the file's owner. Anyone holding the data directory (and, for an encrypted store, its
key) can open the DuckDB file directly and read everything; that is why the operator (no
user) may do everything here. The DuckDB connection is therefore kept private, not hidden.

Bounded: ``encounters``, ``events`` and ``corrections`` return at most ``limit`` rows (at
most ``MAX_ROWS``), oldest first, and warn (``RowLimitWarning``) when the limit cut rows
off. The relations of ``connection()`` carry no limit: they are lazy, so aggregate them in
DuckDB (``.aggregate(...)``, ``.count("*")``) and load only the small result.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
__all__ = ["FIGURES", "MAX_ROWS", "Filters", "Notebook", "RowLimitWarning", "open_store"]


_AGGREGATE = ", or aggregate a relation of nb.connection(), which has no limit"


class RowLimitWarning(UserWarning):
    """A read returned ``limit`` rows but more matched: the rest were left out."""


def _warn_cut(what: str, limit: int, instead: str = "") -> None:
    # stacklevel 3: the warning names the notebook cell that called the Notebook method.
    warnings.warn(
        f"{what}: more match than limit={limit:,}; only the first {limit:,} (oldest first) "
        f"are returned. Narrow the filters or raise the limit (at most {MAX_ROWS:,}){instead}.",
        RowLimitWarning,
        stacklevel=3,
    )


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
    ``workbench.auth.authenticate`` without its writes. Because this handle cannot write,
    failed attempts are neither recorded nor counted: there is no failed-attempt count and
    no lockout here (an account the workbench already locked stays refused). Password
    guessing is limited only by the hash's cost; whoever can run this code against the
    data directory can read the file anyway (see the module docstring)."""
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


_WHY = {
    "analytics.drilldown": (
        "rows per encounter or event, and the DuckDB connection, are for admins;"
        " analysts see aggregates only (figure, figures, filter_options) and"
        " de-identified corrections"
    ),
}


def _need(store: Store, action: str) -> None:
    """``Forbidden`` unless the actor may take ``action``. Checked with ``allowed``, not
    ``access.require``: ``require`` audits a refusal, and this handle writes nothing (so a
    refusal here is not recorded); the store reads behind it ``require`` again."""
    if not allowed(store, action):
        actor = store.actor
        why = f": {_WHY[action]}" if action in _WHY else ""
        raise Forbidden(f"{actor.user_id} ({actor.role}) may not {action}{why}")


class Relations:
    """Lazy DuckDB relations on one open read-only connection (see ``Notebook.connection``).
    Compose them with DuckDB's relational API, then ``.df()`` a small result. They have no
    LIMIT: an aggregate covers every matching row. Needs ``analytics.drilldown``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, store: Store) -> None:
        # Private: the raw connection reads any table (note text too) with no role check.
        self._con = con
        self._store = store

    def encounters(self, filters: Filters | None = None) -> duckdb.DuckDBPyRelation:
        """Every per-encounter analytics fact under ``filters``, unordered."""
        _need(self._store, "analytics.drilldown")
        return reads.encounters_relation(self._con, filters or Filters())

    def events(
        self, kinds: Sequence[str] | None = None, since: datetime | None = None
    ) -> duckdb.DuckDBPyRelation:
        """Every event of ``kinds`` since ``since``, unordered (``.order("ts, event_id")``);
        before/after with ``audit.view``."""
        _need(self._store, "analytics.drilldown")
        with_text = reads.events_with_text(self._store)
        return reads.events_relation(
            self._con, None if kinds is None else tuple(kinds), since, with_text
        )

    def figure(self, name: str, filters: Filters | None = None) -> duckdb.DuckDBPyRelation:
        """One figure's aggregate table as a relation (``analytics.view``)."""
        _need(self._store, "analytics.view")
        return self._con.from_df(FIGURES[_figure_name(name)](self._con, filters or Filters()))


def _figure_name(name: str) -> str:
    if name not in FIGURES:
        raise ValueError(f"Unknown figure {name!r}; choose from {', '.join(FIGURES)}")
    return name


class Notebook:
    """A read-only store acting for one user; every method returns a pandas DataFrame."""

    def __init__(self, store: Store) -> None:
        # Private: ``store.connect()`` would hand out a raw connection with no role check.
        self._store = store

    @property
    def actor(self) -> Actor:
        """Who the reads act for."""
        return self._store.actor

    def __repr__(self) -> str:
        return f"Notebook({str(self._store.path)!r}, user={self.actor.user_id!r})"

    def figure(self, name: str, filters: Filters | None = None) -> pd.DataFrame:
        """One figure's aggregate table (``analytics.FIGURES``; ``analytics.view``)."""
        _need(self._store, "analytics.view")
        return analytics.figure(self._store, _figure_name(name), filters or Filters())

    def figures(self, filters: Filters | None = None) -> dict[str, pd.DataFrame]:
        """Every figure's aggregate table, read on one connection (``analytics.view``)."""
        _need(self._store, "analytics.view")
        return analytics.figures(self._store, filters or Filters())

    def filter_options(self) -> analytics.FilterOptions:
        """The filters' choices: clinicians, specialties, note types, model versions, the
        date range and the simulated count (``analytics.view``)."""
        _need(self._store, "analytics.view")
        return analytics.filter_options(self._store)

    def encounters(self, filters: Filters | None = None, limit: int = 10_000) -> pd.DataFrame:
        """Per-encounter analytics facts (encounter id, clinician, specialty, versions, times,
        measures; no patient text) under ``filters``, oldest first, at most ``limit`` rows
        (``RowLimitWarning`` when more match). ``analytics.drilldown`` (admins)."""
        _need(self._store, "analytics.drilldown")
        rows = reads.encounters(self._store, filters or Filters(), limit)
        if rows.cut:
            _warn_cut("encounters", limit, _AGGREGATE)
        return rows.frame

    def events(
        self,
        kinds: Sequence[str] | None = None,
        since: datetime | None = None,
        limit: int = 10_000,
    ) -> pd.DataFrame:
        """Events of ``kinds`` (all kinds: None) since ``since``, oldest first, at most
        ``limit`` (``RowLimitWarning`` when more match). ``analytics.drilldown`` (admins);
        before/after (identified text) only for ``audit.view``."""
        _need(self._store, "analytics.drilldown")
        rows = reads.events(self._store, None if kinds is None else tuple(kinds), since, limit)
        if rows.cut:
            _warn_cut("events", limit, _AGGREGATE)
        return rows.frame

    def corrections(
        self,
        encounter_ids: Sequence[str] | None = None,
        since: datetime | None = None,
        limit: int = 100,
        deid: bool = False,
    ) -> pd.DataFrame:
        """People's corrections as typed records (``pipelines.export.corrections``), one row
        per record, for ``encounter_ids`` (or the first ``limit`` encounters of the analytics
        facts with events since ``since``; ``RowLimitWarning`` when more have). De-identified
        where the user lacks ``text.phi``, or everywhere with ``deid=True``.
        ``encounter.view`` on each encounter."""
        from pipelines.export import corrections as corr
        from workbench.export_formats import evidence_source
        from workbench.store.known_names import encounter_names

        reads.check_limit(limit)
        if encounter_ids is None:
            _need(self._store, "analytics.view")
            encounter_ids, cut = reads.analytics_encounter_ids(self._store, since, limit)
            if cut:
                _warn_cut("corrections: encounters", limit)
        elif len(encounter_ids) > limit:
            raise ValueError(f"{len(encounter_ids)} encounters asked for; the limit is {limit}")
        counts, users = corr.CorrectionCounts(), corr.Pseudonyms()
        records: list[dict[str, Any]] = []
        with self._store.one_connection():
            for encounter_id in encounter_ids:
                _need_encounter(self._store, encounter_id)
                masked = deid or not allowed(self._store, "text.phi", encounter_id)
                records += corr.correction_records(
                    reads.correction_event_list(self._store, encounter_id, since),
                    evidence_source(self._store, encounter_id, masked),
                    counts,
                    deid=masked,
                    known_names=encounter_names(self._store, encounter_id) if masked else (),
                    users=users,
                )
        if not allowed(self._store, "analytics.drilldown"):  # aggregates-only readers
            records = _pseudonymous(records)
        return pd.DataFrame.from_records(records)

    @contextmanager
    def connection(self) -> Iterator[Relations]:
        """One read-only connection for the block, with lazy, unbounded relations on it
        (``analytics.drilldown``: a DuckDB relation can run any SQL on its connection). The
        workbench waits for the file until the block ends: keep it short."""
        _need(self._store, "analytics.drilldown")
        with self._store.connect() as con:
            yield Relations(con, self._store)


def _need_encounter(store: Store, encounter_id: str) -> None:
    if not allowed(store, "encounter.view", encounter_id):
        raise Forbidden(f"{store.actor.user_id} may not view encounter {encounter_id}")


def _pseudonymous(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with each encounter named "encounter-N" (in order of appearance, per call)
    and no event ids: readers who see aggregates only can group corrections by encounter but
    not find the encounter."""
    names: dict[str, str] = {}
    out = []
    for record in records:
        real = record.get("encounter_id")
        alias = names.setdefault(real, f"encounter-{len(names) + 1}") if real else real
        record = {k: v for k, v in record.items() if k != "event_id"}
        record["encounter_id"] = alias
        object_id = record.get("object_id")
        if real and isinstance(object_id, str) and object_id.startswith(real):
            record["object_id"] = alias + object_id[len(real) :]
        out.append(record)
    return out
