"""Signing in: argon2 passwords, lock-out after failures, OpenID Connect account matching.

The store keeps accounts (``workbench.store.users``); this module decides whether a sign-in
succeeds and which ``Actor`` it yields. The role always comes from our ``users`` table,
never from an identity provider. Passwords are never logged, stored or put in an event:
only their argon2 hash is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import urlparse

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from workbench import settings
from workbench.store import users
from workbench.store.access import Actor
from workbench.store.db import Store, utcnow

MIN_PASSWORD_LENGTH = 8
# One message for an unknown user and a wrong password: a sign-in page must not tell
# which user ids exist.
LOGIN_FAILED = "Wrong user id or password."


class AuthError(Exception):
    """A refused sign-in, with a message that can be shown to the person signing in."""


class LoginFailed(AuthError):
    """Unknown user or wrong password (deliberately indistinguishable)."""

    def __init__(self, message: str = LOGIN_FAILED) -> None:
        super().__init__(message)


class AccountLocked(AuthError):
    """Too many wrong passwords in a row: sign-in is refused until ``until`` (naive UTC)."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            "This account is locked after too many failed sign-ins until "
            f"{until:%Y-%m-%d %H:%M} UTC. An admin can unlock it sooner."
        )


class AccountDisabled(AuthError):
    """The account exists but an admin disabled it."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"The account {user_id} is disabled. Ask an admin to enable it.")


class NoAccount(AuthError):
    """An identity provider signed someone in who has no (matching) workbench account."""


@dataclass(frozen=True)
class LoginPolicy:
    """Lock-out and idle timeout, from the settings by default."""

    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session_timeout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls) -> LoginPolicy:
        """The policy the SCRIBE_LOGIN_MAX_FAILURES / _LOCKOUT_MINUTES / _SESSION_TIMEOUT_MINUTES
        settings give; a value that is not a positive number is a clear error."""
        return cls(
            max_failures=_positive_int("SCRIBE_LOGIN_MAX_FAILURES"),
            lockout=timedelta(minutes=_positive_int("SCRIBE_LOCKOUT_MINUTES")),
            session_timeout=timedelta(minutes=_positive_int("SCRIBE_SESSION_TIMEOUT_MINUTES")),
        )


def _positive_int(env: str) -> int:
    raw = settings.setting(env)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{env} must be a whole number of at least 1, not {raw!r}")
    return value


# argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile); a hash made with
# other parameters is re-hashed on the next successful sign-in.
_HASHER = PasswordHasher()


def hash_password(password: str, hasher: PasswordHasher = _HASHER) -> str:
    """The argon2id hash (salted, with its parameters) of a password."""
    if not password:
        raise ValueError("The password is empty")
    return hasher.hash(password)


def check_new_password(password: str, again: str | None = None) -> None:
    """Refuse a password that is too short or that the confirmation does not match."""
    if again is not None and password != again:
        raise ValueError("The two passwords differ")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Verified against when the user does not exist, so both paths take the same time.
    return _HASHER.hash("no such user")


def authenticate(
    store: Store,
    user_id: str,
    password: str,
    now: datetime | None = None,
    policy: LoginPolicy | None = None,
    hasher: PasswordHasher = _HASHER,
) -> Actor:
    """Check a local account's password; returns the actor to act as.

    Raises ``LoginFailed`` (unknown user or wrong password, one message), ``AccountLocked``
    (during a lock-out, whatever the password; the ``max_failures``-th wrong password in a
    row starts one) or ``AccountDisabled`` (only once the password is right, so a
    disabled account is not revealed to someone guessing). Every attempt is an event.
    """
    now = now or utcnow()
    policy = policy or LoginPolicy.from_settings()
    user_id = (user_id or "").strip()
    account = users.get_account(store, user_id) if user_id else None
    if account is None or not account.has_password:
        _verify(hasher, _dummy_hash(), password or "")
        # The attempted id may be a password typed into the wrong box: keep only a digest.
        label = account.user_id if account else _unknown_label(user_id)
        users.record_login(
            store, label, False, "unknown user" if account is None else "no password set"
        )
        raise LoginFailed()
    if account.locked(now):
        users.record_login(store, account.user_id, False, "locked")
        raise AccountLocked(account.locked_until)
    if not _verify(hasher, account.password_hash, password or ""):
        updated = users.record_failed_login(
            store, account.user_id, now, policy.max_failures, policy.lockout
        )
        if updated.locked(now):
            raise AccountLocked(updated.locked_until)
        raise LoginFailed()
    if account.disabled:
        users.record_login(store, account.user_id, False, "disabled")
        raise AccountDisabled(account.user_id)
    if hasher.check_needs_rehash(account.password_hash):
        users.set_password(
            store,
            account.user_id,
            hasher.hash(password),
            account.user_id,
            kind="user.password_rehashed",
        )
    users.record_successful_login(store, account.user_id, "password")
    return account.actor()


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches an argon2 hash (False for no hash or a broken one)."""
    return bool(stored_hash) and _verify(_HASHER, stored_hash, password)


def _verify(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _unknown_label(user_id: str) -> str:
    return "unknown:" + hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:12]


# -- OpenID Connect ------------------------------------------------------------------------


def oidc_actor(store: Store, email: str | None) -> Actor:
    """The actor for someone an identity provider signed in with ``email``.

    The email must belong to an enabled account in our table; the role and grants come from
    that account, never from the provider's claims. Raises ``NoAccount`` or
    ``AccountDisabled``; every attempt is an event.
    """
    email = (email or "").strip()
    if not email:
        users.record_login(store, "unknown:oidc", False, "oidc: no email claim")
        raise NoAccount(
            "The identity provider did not send an email address, so no workbench account "
            "can be matched. Ask an admin to configure the provider's email scope."
        )
    account = users.account_by_email(store, email)
    if account is None:
        users.record_login(store, _unknown_label(email.lower()), False, "oidc: no account")
        raise NoAccount(
            f"You signed in as {email}, but no workbench account has that email. "
            "Ask an admin to add one (`scribe user add ID --role ROLE --email EMAIL`)."
        )
    if account.disabled:
        users.record_login(store, account.user_id, False, "oidc: disabled")
        raise AccountDisabled(account.user_id)
    users.record_successful_login(store, account.user_id, "oidc")
    return account.actor()


def oidc_sign_in_is_fresh(issued_at: object, now: float, window: timedelta) -> bool:
    """Whether an identity token issued at ``issued_at`` (its ``iat`` claim, epoch seconds)
    may start a workbench session at ``now``: only within ``window`` of it (a minute of
    clock skew allowed). Streamlit keeps the identity in a cookie for 30 days; without this
    check any new tab would sign that person in again, whatever our idle timeout."""
    if isinstance(issued_at, bool) or not isinstance(issued_at, int | float):
        return False
    return -60 <= now - issued_at <= window.total_seconds()


@dataclass(frozen=True)
class OidcProvider:
    """One configured OpenID Connect provider: the name ``st.login`` takes and a label."""

    name: str  # "default" for keys directly under [auth]
    label: str


_PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def oidc_providers(auth_section: Mapping | None) -> list[OidcProvider]:
    """The providers an ``[auth]`` secrets section configures (Streamlit's layout): the keys
    directly under ``[auth]`` are the "default" provider, each ``[auth.NAME]`` table with
    ``client_id``, ``client_secret`` and ``server_metadata_url`` is provider NAME (labelled
    by its name; the default one by its metadata host). Without
    ``redirect_uri`` and ``cookie_secret`` in ``[auth]`` nothing is configured."""
    if not auth_section or not all(auth_section.get(k) for k in ("redirect_uri", "cookie_secret")):
        return []
    found = []
    if all(auth_section.get(k) for k in _PROVIDER_KEYS):
        host = urlparse(str(auth_section["server_metadata_url"])).hostname or "single sign-on"
        found.append(OidcProvider("default", host))
    for name, value in auth_section.items():
        if isinstance(value, Mapping) and all(value.get(k) for k in _PROVIDER_KEYS):
            found.append(OidcProvider(str(name), str(name).title()))
    return found
