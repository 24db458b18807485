"""The audit log: who viewed, changed, signed or exported what, and every refusal.

Append-only by construction: this module has no update or delete, and each row carries
``hash = sha256(prev_hash + the row's fields)``, so ``verify_chain`` finds a row that was
edited, deleted or inserted afterwards by raw SQL. Details hold ids and reasons, never
clinical text.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from workbench.store.db import Store, utcnow

OUTCOMES: tuple[str, ...] = ("allowed", "denied", "failed")
GENESIS = "0" * 64  # the prev_hash of the first row
MAX_PAGE = 1000

_INSERT = (
    "INSERT INTO audit_log (seq, ts, user_id, role, action, object_type, object_id, outcome,"
    " detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_HEAD = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
# The user's role and the chain's head in one statement (each costs a few ms per event).
_ROLE_AND_HEAD = (
    "SELECT u.role, h.seq, h.hash FROM (SELECT 1) one"
    " LEFT JOIN users u ON u.user_id = ?"
    " LEFT JOIN (" + _HEAD + ") h ON true"
)
_COLUMNS = (
    "SELECT seq, ts, user_id, role, action, object_type, object_id, outcome, detail,"
    " prev_hash, hash FROM audit_log"
)
_FILTER = (
    " WHERE ($user::VARCHAR IS NULL OR user_id = $user::VARCHAR)"
    " AND ($action::VARCHAR IS NULL OR action = $action::VARCHAR"
    "      OR starts_with(action, $action::VARCHAR || '.'))"
    " AND ($object_id::VARCHAR IS NULL OR object_id = $object_id::VARCHAR)"
    " AND ($since::TIMESTAMP IS NULL OR ts >= $since::TIMESTAMP)"
    " AND ($until::TIMESTAMP IS NULL OR ts < $until::TIMESTAMP)"
)
_SEARCH = _COLUMNS + _FILTER + " ORDER BY seq DESC LIMIT $limit OFFSET $offset"
_COUNT = "SELECT count(*) FROM audit_log" + _FILTER


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log."""

    seq: int
    at: datetime
    user_id: str
    role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    outcome: str
    detail: dict[str, Any] | None
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainCheck:
    """What ``verify_chain`` found: ok, how many rows, and the first broken row."""

    ok: bool
    rows: int
    broken_at: int | None = None  # seq of the first row whose hash or link is wrong
    reason: str = ""


def record(
    store: Store,
    action: str,
    object_type: str | None,
    object_id: str | None,
    outcome: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one row for the store's actor (its own transaction, or the caller's). Like
    reviewer activity it changes no clinical data, so cached reads stay valid."""
    actor = store.actor
    with store.transaction(activity=True) as con:
        append_row(con, actor.user_id, actor.role, action, object_type, object_id, outcome, detail)


def append_row(
    con: duckdb.DuckDBPyConnection,
    user_id: str,
    role: str | None,
    action: str,
    object_type: str | None,
    object_id: str | None,
    outcome: str,
    detail: dict[str, Any] | None = None,
    head: tuple[int, str] | None = None,
) -> tuple[int, str]:
    """Append one row inside the caller's transaction (the store lock makes ``seq`` safe);
    returns the new (seq, hash) head. ``head``, the value the previous call in the same
    transaction returned, saves reading it again when appending many rows."""
    if outcome not in OUTCOMES:
        raise ValueError(f"Unknown audit outcome {outcome!r}; choose from {', '.join(OUTCOMES)}")
    if head is None:
        head = con.execute(_HEAD).fetchone() or (0, GENESIS)
    seq, prev = head[0] + 1, head[1]
    at = utcnow()
    dumped = None if detail is None else json.dumps(detail, sort_keys=True, default=str)
    fields = (seq, at, user_id, role, action, object_type, object_id, outcome, dumped)
    digest = _hash(prev, fields)
    con.execute(_INSERT, [*fields, prev, digest])
    return seq, digest


def role_and_head(
    con: duckdb.DuckDBPyConnection, user_id: str
) -> tuple[str | None, tuple[int, str]]:
    """The user's role (None without an account) and the chain's head, for ``append_row``."""
    role, seq, digest = con.execute(_ROLE_AND_HEAD, [user_id]).fetchone()
    return role, (seq, digest) if seq is not None else (0, GENESIS)


def _hash(prev: str, fields: tuple) -> str:
    text = json.dumps([prev, *(str(f) if isinstance(f, datetime) else f for f in fields)])
    return hashlib.sha256(text.encode()).hexdigest()


def record_view(store: Store, encounter_id: str) -> None:
    """Audit that the actor opened the encounter (once per opening, not per cached read);
    ``Forbidden`` (audited too) when they may not."""
    from workbench.store.access import allowed, require

    require(store, "encounter.view", encounter_id)
    identified = allowed(store, "text.phi", encounter_id)
    record(
        store, "encounter.view", "encounter", encounter_id, "allowed", {"identified": identified}
    )


def search_audit(
    store: Store,
    user: str | None = None,
    action: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Rows matching every given filter, newest first, and how many match in all. ``action``
    matches itself and its sub-actions ("note" finds "note.signed"); ``until`` is exclusive.
    Admins only (``audit.view``)."""
    from workbench.store.access import require

    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValueError(f"limit must be 1..{MAX_PAGE} and offset 0 or more")
    require(store, "audit.view")
    params = {
        "user": user or None,
        "action": action or None,
        "object_id": object_id or None,
        "since": since,
        "until": until,
    }
    with store.connect() as con:
        rows = con.execute(_SEARCH, params | {"limit": limit, "offset": offset}).fetchall()
        total = con.execute(_COUNT, params).fetchone()[0]
    return [_entry(r) for r in rows], int(total)


def verify_chain(store: Store) -> ChainCheck:
    """Recompute every row's hash in order; the first mismatch or gap is reported."""
    from workbench.store.access import require

    require(store, "audit.view")
    with store.connect() as con:
        rows = con.execute(_COLUMNS + " ORDER BY seq").fetchall()
    prev = GENESIS
    for expected_seq, row in enumerate(rows, start=1):
        seq = row[0]
        if seq != expected_seq:
            return ChainCheck(False, len(rows), expected_seq, f"row {expected_seq} is missing")
        if row[9] != prev:
            return ChainCheck(False, len(rows), seq, f"row {seq} does not follow row {seq - 1}")
        if _hash(prev, _fields(row)) != row[10]:
            return ChainCheck(False, len(rows), seq, f"row {seq} was changed")
        prev = row[10]
    return ChainCheck(True, len(rows))


def _fields(row: tuple) -> tuple:
    return tuple(row[:9])  # seq .. detail (stored as TEXT, so it comes back as written)


def _entry(row: tuple) -> AuditEntry:
    detail = None if row[8] is None else json.loads(row[8])
    return AuditEntry(*row[:8], detail, row[9], row[10])
