"""Accounts and sign-in on a real DuckDB file: argon2 hashes, lock-out, disabled accounts,
OpenID Connect matching by email, and no password anywhere but as a hash."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from workbench import auth
from workbench import store as st
from workbench.store import users
from workbench.store.access import SYSTEM, Actor
from workbench.store.migrations import available_migrations, migrate

PASSWORD = "correct horse battery"
T0 = datetime(2026, 12, 1, 9, 0, 0)
POLICY = auth.LoginPolicy(max_failures=5, lockout=timedelta(minutes=15))


@pytest.fixture
def account(store: st.Store) -> users.Account:
    return users.create_account(
        store,
        "dr-lindqvist",
        "clinician",
        "system",
        display_name="Dr. Lindqvist",
        email="Lindqvist@Clinic.example",
        password_hash=auth.hash_password(PASSWORD),
    )


def kinds(store: st.Store) -> list[str]:
    return [e.kind for e in st.list_events(store)]


def test_the_stored_password_is_an_argon2id_hash_never_the_text(store, account) -> None:
    stored = users.get_account(store, "dr-lindqvist")
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash
    assert "password_hash" not in repr(stored) and stored.password_hash not in repr(stored)
    # Salted: the same password hashes differently each time.
    assert auth.hash_password(PASSWORD) != auth.hash_password(PASSWORD)


def test_right_password_gives_the_actor_with_role_and_grants_from_our_table(store, account):
    users.set_grant(store, "dr-lindqvist", "phi", True, "system")
    actor = auth.authenticate(store, "dr-lindqvist", PASSWORD, now=T0, policy=POLICY)
    assert actor == Actor("dr-lindqvist", "clinician", frozenset({"phi"}))
    assert kinds(store)[-1] == "login.succeeded"


def test_wrong_password_and_unknown_user_get_the_same_message(store, account) -> None:
    with pytest.raises(auth.LoginFailed) as wrong:
        auth.authenticate(store, "dr-lindqvist", "not it", now=T0, policy=POLICY)
    with pytest.raises(auth.LoginFailed) as unknown:
        auth.authenticate(store, "dr-nobody", PASSWORD, now=T0, policy=POLICY)
    assert str(wrong.value) == str(unknown.value) == auth.LOGIN_FAILED
    failed = [e for e in st.list_events(store) if e.kind == "login.failed"]
    assert [e.after["reason"] for e in failed] == ["wrong password", "unknown user"]
    # An unknown id may be a password typed in the wrong box: only a digest is kept.
    assert failed[1].user_id.startswith("unknown:") and "dr-nobody" not in failed[1].user_id


def test_five_wrong_passwords_lock_the_account_until_the_lockout_ends(store, account) -> None:
    for attempt in range(4):
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(
                store,
                "dr-lindqvist",
                f"guess {attempt}",
                now=T0 + timedelta(seconds=attempt),
                policy=POLICY,
            )
    with pytest.raises(auth.AccountLocked) as locked:
        auth.authenticate(
            store, "dr-lindqvist", "guess 5", now=T0 + timedelta(seconds=5), policy=POLICY
        )
    until = T0 + timedelta(seconds=5, minutes=15)
    assert locked.value.until == until and f"{until:%H:%M}" in str(locked.value)
    assert "user.locked" in kinds(store)
    # While locked even the right password is refused.
    with pytest.raises(auth.AccountLocked):
        auth.authenticate(
            store, "dr-lindqvist", PASSWORD, now=until - timedelta(seconds=1), policy=POLICY
        )
    # Once the time has passed it works again, and the count starts from zero.
    actor = auth.authenticate(store, "dr-lindqvist", PASSWORD, now=until, policy=POLICY)
    assert actor.user_id == "dr-lindqvist"
    assert users.get_account(store, "dr-lindqvist").failed_logins == 0


def test_a_success_resets_the_failure_count(store, account) -> None:
    for _ in range(4):
        with pytest.raises(auth.LoginFailed):
            auth.authenticate(store, "dr-lindqvist", "wrong", now=T0, policy=POLICY)
    auth.authenticate(store, "dr-lindqvist", PASSWORD, now=T0, policy=POLICY)
    with pytest.raises(auth.LoginFailed):  # the fifth wrong one overall: not a lock
        auth.authenticate(store, "dr-lindqvist", "wrong", now=T0, policy=POLICY)
    assert not users.get_account(store, "dr-lindqvist").locked(T0)


def test_an_admin_unlock_lifts_the_lockout_at_once(store, account) -> None:
    for _ in range(5):
        with pytest.raises(auth.AuthError):
            auth.authenticate(store, "dr-lindqvist", "wrong", now=T0, policy=POLICY)
    assert users.unlock_account(store, "dr-lindqvist", "system")
    assert auth.authenticate(store, "dr-lindqvist", PASSWORD, now=T0, policy=POLICY)


def test_a_disabled_account_is_refused_but_only_revealed_with_the_right_password(
    store, account
) -> None:
    users.set_disabled(store, "dr-lindqvist", True, "system")
    with pytest.raises(auth.LoginFailed):
        auth.authenticate(store, "dr-lindqvist", "wrong", now=T0, policy=POLICY)
    with pytest.raises(auth.AccountDisabled, match="disabled"):
        auth.authenticate(store, "dr-lindqvist", PASSWORD, now=T0, policy=POLICY)
    users.set_disabled(store, "dr-lindqvist", False, "system")
    assert auth.authenticate(store, "dr-lindqvist", PASSWORD, now=T0, policy=POLICY)


def test_an_account_without_a_password_cannot_sign_in(store) -> None:
    st.ensure_user(store, "demo-clinician", "demo-clinician", "clinician")  # the CLI's user
    with pytest.raises(auth.LoginFailed):
        auth.authenticate(store, "demo-clinician", "", now=T0, policy=POLICY)


def test_a_hash_with_old_parameters_is_replaced_on_sign_in(store) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    users.create_account(
        store, "dr-old", "clinician", "system", password_hash=auth.hash_password(PASSWORD, weak)
    )
    auth.authenticate(store, "dr-old", PASSWORD, now=T0, policy=POLICY)
    renewed = users.get_account(store, "dr-old").password_hash
    assert not PasswordHasher().check_needs_rehash(renewed)
    assert "user.password_rehashed" in kinds(store)
    assert auth.authenticate(store, "dr-old", PASSWORD, now=T0, policy=POLICY)


def test_account_changes_are_typed_events_of_who_did_them(store, account) -> None:
    users.set_role(store, "dr-lindqvist", "admin", "system")
    users.set_grant(store, "dr-lindqvist", "phi", True, "system")
    users.set_disabled(store, "dr-lindqvist", True, "system")
    events = {e.kind: e for e in st.list_events(store)}
    assert events["user.created"].after["role"] == "clinician"
    assert events["user.role_changed"].before == {"role": "clinician"}
    assert events["user.role_changed"].after == {"role": "admin"}
    assert events["user.granted"].after == {"grants": ["phi"]}
    assert events["user.disabled"].after == {"disabled": True}
    assert {e.user_id for e in events.values()} == {SYSTEM.user_id}
    assert {e.object_id for e in events.values()} == {"dr-lindqvist"}


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda s: users.create_account(s, "x", "superuser", "system"), "Unknown role"),
        (lambda s: users.create_account(s, "has space", "admin", "system"), "Invalid user id"),
        (lambda s: users.create_account(s, "dr-lindqvist", "admin", "system"), "exists"),
        (
            lambda s: users.create_account(
                s, "dr-two", "clinician", "system", email="lindqvist@clinic.example"
            ),
            "belongs to",
        ),
        (lambda s: users.set_role(s, "dr-nobody", "admin", "system"), "No user"),
        (lambda s: users.set_grant(s, "dr-lindqvist", "root", True, "system"), "Unknown grant"),
    ],
)
def test_bad_account_changes_are_refused_and_write_nothing(store, account, call, error):
    before = len(st.list_events(store))
    with pytest.raises(st.StoreError, match=error):
        call(store)
    assert len(st.list_events(store)) == before


def test_no_password_in_events_logs_or_the_database_file(store, account, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    for password in ("wrong-guess-123", PASSWORD):
        try:
            auth.authenticate(store, "dr-lindqvist", password, now=T0, policy=POLICY)
        except auth.AuthError:
            pass
    with pytest.raises(auth.LoginFailed):  # a password typed as the user id
        auth.authenticate(store, "typed-secret-as-id", "x", now=T0, policy=POLICY)
    users.set_password(store, "dr-lindqvist", auth.hash_password("brand new pass"), "system")
    events = json.dumps([e.__dict__ for e in st.list_events(store)], default=str)
    hashes = users.get_account(store, "dr-lindqvist").password_hash
    for secret in ("wrong-guess-123", PASSWORD, "brand new pass", "typed-secret-as-id", hashes):
        assert secret not in events
        assert secret not in caplog.text
    with store.transaction() as con:
        con.execute("CHECKPOINT")
    raw = store.path.read_bytes()
    for secret in ("wrong-guess-123", PASSWORD, "brand new pass"):
        assert secret.encode() not in raw


def test_new_passwords_must_be_long_enough_and_confirmed() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        auth.check_new_password("short")
    with pytest.raises(ValueError, match="differ"):
        auth.check_new_password("long enough 1", "long enough 2")
    auth.check_new_password("long enough 1", "long enough 1")


def test_login_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRIBE_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("SCRIBE_SESSION_TIMEOUT_MINUTES", "30")
    policy = auth.LoginPolicy.from_settings()
    assert policy.max_failures == 3 and policy.session_timeout == timedelta(minutes=30)
    assert policy.lockout == timedelta(minutes=15)
    monkeypatch.setenv("SCRIBE_LOCKOUT_MINUTES", "soon")
    with pytest.raises(ValueError, match="SCRIBE_LOCKOUT_MINUTES"):
        auth.LoginPolicy.from_settings()


# -- OpenID Connect ------------------------------------------------------------------------


def test_an_identity_provider_sign_in_maps_to_our_account_by_email(store, account) -> None:
    users.set_role(store, "dr-lindqvist", "annotator", "system")
    # Case-insensitive email; the role is ours whatever the provider says.
    actor = auth.oidc_actor(store, "lindqvist@clinic.EXAMPLE")
    assert actor == Actor("dr-lindqvist", "annotator")
    assert st.list_events(store)[-1].after == {"reason": "oidc"}


def test_an_identity_provider_sign_in_without_an_account_is_refused(store, account) -> None:
    with pytest.raises(auth.NoAccount, match="no workbench account has that email"):
        auth.oidc_actor(store, "stranger@clinic.example")
    with pytest.raises(auth.NoAccount, match="did not send an email"):
        auth.oidc_actor(store, None)
    users.set_disabled(store, "dr-lindqvist", True, "system")
    with pytest.raises(auth.AccountDisabled):
        auth.oidc_actor(store, "lindqvist@clinic.example")
    assert [e.kind for e in st.list_events(store)].count("login.failed") == 3


def test_only_a_recent_identity_token_starts_a_session() -> None:
    window = timedelta(minutes=15)
    now = 1_800_000_000.0
    assert auth.oidc_sign_in_is_fresh(now - 30, now, window)
    assert auth.oidc_sign_in_is_fresh(int(now) + 30, now, window)  # clock skew
    assert not auth.oidc_sign_in_is_fresh(now - 16 * 60, now, window)
    assert not auth.oidc_sign_in_is_fresh(now + 600, now, window)
    for missing in (None, "1800000000", True):
        assert not auth.oidc_sign_in_is_fresh(missing, now, window)


def test_providers_come_from_the_auth_secrets_section() -> None:
    shared = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s"}
    provider = {
        "client_id": "id",
        "client_secret": "secret",
        "server_metadata_url": "https://login.example.org/.well-known/openid-configuration",
    }
    assert auth.oidc_providers(None) == []
    assert auth.oidc_providers({**provider}) == []  # no redirect_uri / cookie_secret
    assert auth.oidc_providers({**shared, **provider}) == [
        auth.OidcProvider("default", "login.example.org")
    ]
    assert auth.oidc_providers({**shared, "okta": provider, "half": {"client_id": "x"}}) == [
        auth.OidcProvider("okta", "Okta")
    ]


# -- schema ---------------------------------------------------------------------------------


def test_users_of_an_older_database_keep_their_role_and_have_no_password(tmp_path: Path):
    store = st.Store(tmp_path / "old.duckdb")
    migrate(store, [m for m in available_migrations() if m.version < 14])
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    migrate(store)
    found = users.get_account(store, "dr-a")
    assert (found.role, found.has_password, found.disabled, found.grants) == (
        "clinician",
        False,
        False,
        frozenset(),
    )
    assert found.failed_logins == 0 and found.locked_until is None


def test_a_store_view_acts_as_its_actor_and_shares_the_handle(store: st.Store) -> None:
    view = store.as_actor(Actor("adm", "admin"))
    assert (store.actor, view.actor) == (SYSTEM, Actor("adm", "admin"))
    before, content_before = store.stamp(), store.content_stamp()
    st.ensure_user(view, "dr-a", "Dr A", "clinician")
    # A commit through the view changes the base's stamps exactly as its own would.
    assert store.stamp() == view.stamp() != before
    assert store.content_stamp() == view.content_stamp() != content_before
    with store.connect() as con, view.connect() as same:
        assert con is same  # one open connection per thread, whichever view asks
    assert store.lock_path == view.lock_path
