"""Accounts: roles, grants, password hashes, lock-out counters and sign-in events.

Every change is a typed event written in the same transaction. Events never carry a
password or its hash: only whether one is set.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from workbench.store.access import Actor
from workbench.store.db import InvalidEdit, NotFound, Store, StoreError, utcnow
from workbench.store.events import insert_events, new_event

ROLES: tuple[str, ...] = ("clinician", "annotator", "analyst", "admin")
# Annotators see identifying text only with "phi"; "lead" lets one assign and review tasks.
GRANTS: tuple[str, ...] = ("phi", "lead")
_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_COLUMNS = (
    "SELECT user_id, display_name, role, email, grants, disabled, failed_logins, locked_until,"
    " password_hash, created_at, updated_at FROM users"
)


class AccountExists(StoreError):
    """An account with that id (or email) exists already; nothing was written."""


@dataclass(frozen=True)
class Account:
    """One row of ``users``. The password hash never appears in its repr."""

    user_id: str
    display_name: str
    role: str
    email: str | None
    grants: frozenset[str]
    disabled: bool
    failed_logins: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime | None
    password_hash: str | None = field(default=None, repr=False)

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    def locked(self, now: datetime) -> bool:
        """Whether sign-in is refused at ``now`` (naive UTC) because of failed attempts."""
        return self.locked_until is not None and self.locked_until > now

    def actor(self) -> Actor:
        """The actor this account signs in as (role and grants from our table)."""
        return Actor(self.user_id, self.role, self.grants)


def get_account(store: Store, user_id: str) -> Account | None:
    """The account with this id, or None."""
    with store.connect() as con:
        row = con.execute(_COLUMNS + " WHERE user_id = ?", [user_id]).fetchone()
    return _account(row) if row else None


def account_by_email(store: Store, email: str) -> Account | None:
    """The account whose email matches (case-insensitive), or None."""
    with store.connect() as con:
        row = con.execute(
            _COLUMNS + " WHERE lower(email) = lower(?) ORDER BY user_id LIMIT 1", [email.strip()]
        ).fetchone()
    return _account(row) if row else None


def list_accounts(store: Store) -> list[Account]:
    """Every account, by id."""
    with store.connect() as con:
        rows = con.execute(_COLUMNS + " ORDER BY user_id").fetchall()
    return [_account(row) for row in rows]


def demo_accounts_present(store: Store, user_ids: tuple[str, ...]) -> bool:
    """Whether all of these accounts exist with a password (the demo's sign-in hint)."""
    with store.connect() as con:
        (count,) = con.execute(
            "SELECT count(*) FROM users WHERE list_contains(?, user_id)"
            " AND password_hash IS NOT NULL",
            [list(user_ids)],
        ).fetchone()
    return count == len(user_ids)


def create_account(
    store: Store,
    user_id: str,
    role: str,
    by: str,
    *,
    display_name: str | None = None,
    email: str | None = None,
    password_hash: str | None = None,
    grants: tuple[str, ...] = (),
) -> Account:
    """Add an account (event ``user.created``); raises AccountExists or InvalidEdit."""
    if not _USER_ID.match(user_id or ""):
        raise InvalidEdit(
            f"Invalid user id {user_id!r}: 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit"
        )
    check_role(role)
    for grant in grants:
        _check_grant(grant)
    email = _check_email(email)
    now = utcnow()
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM users WHERE user_id = ?", [user_id]).fetchone():
            raise AccountExists(f"User {user_id} exists already")
        _check_email_free(con, email, user_id)
        con.execute(
            "INSERT INTO users (user_id, display_name, role, created_at, password_hash, disabled,"
            " failed_logins, locked_until, email, grants, updated_at)"
            " VALUES (?, ?, ?, ?, ?, false, 0, NULL, ?, ?, ?)",
            [
                user_id,
                display_name or user_id,
                role,
                now,
                password_hash,
                email,
                _dump_grants(grants),
                now,
            ],
        )
        after = {
            "role": role,
            "display_name": display_name or user_id,
            "email": email,
            "grants": sorted(grants),
            "password_set": password_hash is not None,
        }
        _event(con, by, "user.created", user_id, None, after)
    return _require(store, user_id)


def set_password(
    store: Store, user_id: str, password_hash: str, by: str, kind: str = "user.password_set"
) -> None:
    """Store a new password hash (``user.password_set``; ``user.password_rehashed`` when
    only the hashing parameters changed). Clears any lock-out."""
    with store.transaction() as con:
        _require_row(con, user_id)
        con.execute(
            "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL,"
            " updated_at = ? WHERE user_id = ?",
            [password_hash, utcnow(), user_id],
        )
        _event(con, by, kind, user_id, None, {"password_set": True})


def set_disabled(store: Store, user_id: str, disabled: bool, by: str) -> bool:
    """Disable (``user.disabled``) or re-enable (``user.enabled``) an account; returns
    whether anything changed."""
    with store.transaction() as con:
        row = _require_row(con, user_id)
        if bool(row[5]) == disabled:
            return False
        con.execute(
            "UPDATE users SET disabled = ?, updated_at = ? WHERE user_id = ?",
            [disabled, utcnow(), user_id],
        )
        kind = "user.disabled" if disabled else "user.enabled"
        _event(con, by, kind, user_id, {"disabled": not disabled}, {"disabled": disabled})
    return True


def set_role(store: Store, user_id: str, role: str, by: str) -> bool:
    """Change an account's role (``user.role_changed``); returns whether it changed."""
    check_role(role)
    with store.transaction() as con:
        row = _require_row(con, user_id)
        if row[2] == role:
            return False
        con.execute(
            "UPDATE users SET role = ?, updated_at = ? WHERE user_id = ?",
            [role, utcnow(), user_id],
        )
        _event(con, by, "user.role_changed", user_id, {"role": row[2]}, {"role": role})
    return True


def set_grant(store: Store, user_id: str, grant: str, granted: bool, by: str) -> bool:
    """Give (``user.granted``) or take away (``user.revoked``) a grant such as "phi";
    returns whether anything changed."""
    _check_grant(grant)
    with store.transaction() as con:
        row = _require_row(con, user_id)
        before = set(json.loads(row[4] or "[]"))
        after = before | {grant} if granted else before - {grant}
        if after == before:
            return False
        con.execute(
            "UPDATE users SET grants = ?, updated_at = ? WHERE user_id = ?",
            [_dump_grants(after), utcnow(), user_id],
        )
        kind = "user.granted" if granted else "user.revoked"
        _event(con, by, kind, user_id, {"grants": sorted(before)}, {"grants": sorted(after)})
    return True


def set_email(store: Store, user_id: str, email: str | None, by: str) -> None:
    """Change the email an OpenID Connect sign-in is matched by (``user.email_changed``)."""
    email = _check_email(email)
    with store.transaction() as con:
        row = _require_row(con, user_id)
        _check_email_free(con, email, user_id)
        con.execute(
            "UPDATE users SET email = ?, updated_at = ? WHERE user_id = ?",
            [email, utcnow(), user_id],
        )
        _event(con, by, "user.email_changed", user_id, {"email": row[3]}, {"email": email})


def unlock_account(store: Store, user_id: str, by: str) -> bool:
    """Lift a lock-out and reset the failure count (``user.unlocked``); returns whether the
    account was locked or had failures."""
    with store.transaction() as con:
        row = _require_row(con, user_id)
        if not row[6] and row[7] is None:
            return False
        con.execute(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = ?"
            " WHERE user_id = ?",
            [utcnow(), user_id],
        )
        _event(
            con,
            by,
            "user.unlocked",
            user_id,
            {"failed_logins": row[6], "locked_until": row[7]},
            None,
        )
    return True


def record_login(store: Store, user_id: str, ok: bool, reason: str) -> None:
    """A sign-in attempt as an event (``login.succeeded`` / ``login.failed``) with its
    reason ("password", "oidc", "wrong password", "locked", ...). Never a password."""
    with store.transaction() as con:
        kind = "login.succeeded" if ok else "login.failed"
        _event(con, user_id, kind, user_id, None, {"reason": reason})


def record_logout(store: Store, user_id: str, reason: str) -> None:
    """The end of a workbench session (``logout``): "signed out", "idle timeout", ..."""
    with store.transaction() as con:
        _event(con, user_id, "logout", user_id, None, {"reason": reason})


def record_failed_login(
    store: Store, user_id: str, now: datetime, max_failures: int, lockout: timedelta
) -> Account:
    """Count a wrong password; the ``max_failures``-th in a row locks the account until
    ``now + lockout`` (``user.locked``) and starts the count again. Returns the account."""
    with store.transaction() as con:
        row = _require_row(con, user_id)
        failures = int(row[6] or 0) + 1
        locked_until = now + lockout if failures >= max_failures else None
        con.execute(
            "UPDATE users SET failed_logins = ?, locked_until = ?, updated_at = ?"
            " WHERE user_id = ?",
            [0 if locked_until else failures, locked_until, utcnow(), user_id],
        )
        record_login(store, user_id, False, "wrong password")
        if locked_until:
            _event(
                con,
                user_id,
                "user.locked",
                user_id,
                {"failed_logins": failures},
                {"locked_until": locked_until},
            )
    return _require(store, user_id)


def record_successful_login(store: Store, user_id: str, reason: str) -> None:
    """A successful sign-in: resets the failure count and records ``login.succeeded``."""
    with store.transaction() as con:
        row = _require_row(con, user_id)
        if row[6] or row[7] is not None:
            con.execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL, updated_at = ?"
                " WHERE user_id = ?",
                [utcnow(), user_id],
            )
        record_login(store, user_id, True, reason)


# -- helpers ------------------------------------------------------------------------------


def _event(con: duckdb.DuckDBPyConnection, by: str, kind: str, user_id: str, before, after):
    insert_events(
        con,
        [
            new_event(
                by, None, kind, object_type="user", object_id=user_id, before=before, after=after
            )
        ],
    )


def _require(store: Store, user_id: str) -> Account:
    found = get_account(store, user_id)
    if found is None:
        raise NotFound(f"No user {user_id}")
    return found


def _require_row(con: duckdb.DuckDBPyConnection, user_id: str) -> tuple:
    row = con.execute(_COLUMNS + " WHERE user_id = ?", [user_id]).fetchone()
    if row is None:
        raise NotFound(f"No user {user_id}")
    return row


def check_role(role: str) -> None:
    """Refuse a role that is not one of ROLES (InvalidEdit)."""
    if role not in ROLES:
        raise InvalidEdit(f"Unknown role {role!r}: one of {', '.join(ROLES)}")


def _check_grant(grant: str) -> None:
    if grant not in GRANTS:
        raise InvalidEdit(f"Unknown grant {grant!r}: one of {', '.join(GRANTS)}")


def _check_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    email = email.strip()
    if not _EMAIL.match(email):
        raise InvalidEdit(f"Invalid email {email!r}")
    return email


def _check_email_free(con: duckdb.DuckDBPyConnection, email: str | None, user_id: str) -> None:
    if email is None:
        return
    other = con.execute(
        "SELECT user_id FROM users WHERE lower(email) = lower(?) AND user_id <> ?",
        [email, user_id],
    ).fetchone()
    if other:
        raise AccountExists(f"Email {email} belongs to user {other[0]} already")


def _dump_grants(grants) -> str:
    return json.dumps(sorted(set(grants)))


def _account(row: tuple) -> Account:
    return Account(
        user_id=row[0],
        display_name=row[1],
        role=row[2],
        email=row[3],
        grants=frozenset(json.loads(row[4] or "[]")),
        disabled=bool(row[5]),
        failed_logins=int(row[6] or 0),
        locked_until=row[7],
        password_hash=row[8],
        created_at=row[9],
        updated_at=row[10],
    )
