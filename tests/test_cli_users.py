"""`scribe user ...` on a real DuckDB file in tmp_path, through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workbench import auth
from workbench import store as st
from workbench.cli import app
from workbench.store import users

PASSWORD = "a long pass phrase"


@pytest.fixture
def scribe(tmp_path: Path):
    data = tmp_path / "data"

    def run(*args: str, stdin: str | None = None):
        return CliRunner().invoke(app, ["--data-dir", str(data), "user", *args], input=stdin)

    run.data = data
    return run


def listed(scribe) -> dict[str, dict]:
    result = scribe("list", "--json")
    assert result.exit_code == 0, result.output
    return {row["user_id"]: row for row in json.loads(result.stdout)}


def test_add_with_password_on_stdin_then_sign_in(scribe) -> None:
    result = scribe(
        "add",
        "dr-mensah",
        "--role",
        "clinician",
        "--name",
        "Dr. Mensah",
        "--email",
        "mensah@clinic.example",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    row = listed(scribe)["dr-mensah"]
    assert row == {
        "user_id": "dr-mensah",
        "display_name": "Dr. Mensah",
        "role": "clinician",
        "email": "mensah@clinic.example",
        "grants": [],
        "disabled": False,
        "locked_until": None,
        "password_set": True,
    }
    store = st.open_store(scribe.data)
    assert auth.authenticate(store, "dr-mensah", PASSWORD).role == "clinician"
    assert PASSWORD not in result.output and PASSWORD not in scribe("list").output


def test_add_prompts_twice_and_refuses_a_mismatch_or_a_short_password(scribe) -> None:
    result = scribe("add", "dr-a", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}x\n")
    assert result.exit_code == 1 and "differ" in result.output
    result = scribe("add", "dr-a", "--role", "admin", stdin="short\nshort\n")
    assert result.exit_code == 1 and "at least 8" in result.output
    assert "dr-a" not in listed(scribe)
    result = scribe("add", "dr-a", "--role", "admin", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # the prompt does not echo it
    assert listed(scribe)["dr-a"]["role"] == "admin"


def test_the_password_is_never_an_argument(scribe) -> None:
    result = scribe("add", "dr-a", "--role", "admin", "--password", PASSWORD)
    assert result.exit_code != 0 and "No such option" in result.output


def test_bad_role_duplicate_and_unknown_user_are_clear_errors(scribe) -> None:
    result = scribe("add", "dr-a", "--role", "surgeon", "--no-password")
    assert result.exit_code == 1 and "Unknown role 'surgeon'" in result.output
    assert scribe("add", "dr-a", "--role", "analyst", "--no-password").exit_code == 0
    result = scribe("add", "dr-a", "--role", "analyst", "--no-password")
    assert result.exit_code == 1 and "exists already" in result.output
    for args in (
        ("disable", "dr-x"),
        ("role", "dr-x", "admin"),
        ("unlock", "dr-x"),
        ("grant", "dr-x", "phi"),
        ("password", "dr-x", "--password-stdin"),
    ):
        result = scribe(*args, stdin=PASSWORD + "\n")
        assert result.exit_code == 1 and "No user dr-x" in result.output, args


def test_disable_role_grant_unlock_and_enable(scribe) -> None:
    scribe("add", "ann", "--role", "annotator", "--password-stdin", stdin=PASSWORD + "\n")
    assert scribe("role", "ann", "analyst").exit_code == 0
    assert scribe("grant", "ann", "phi").exit_code == 0
    assert "already has phi" in scribe("grant", "ann", "phi").output
    assert scribe("grant", "ann", "everything").exit_code == 1
    assert scribe("disable", "ann").exit_code == 0
    row = listed(scribe)["ann"]
    assert (row["role"], row["grants"], row["disabled"]) == ("analyst", ["phi"], True)
    store = st.open_store(scribe.data)
    with pytest.raises(auth.AccountDisabled):
        auth.authenticate(store, "ann", PASSWORD)
    assert scribe("enable", "ann").exit_code == 0

    for _ in range(5):
        with pytest.raises(auth.AuthError):
            auth.authenticate(store, "ann", "wrong password")
    assert listed(scribe)["ann"]["locked_until"] is not None
    assert "locked" in scribe("list").output
    assert scribe("unlock", "ann").output.strip() == "ann: unlocked"
    assert auth.authenticate(store, "ann", PASSWORD).grants == frozenset({"phi"})
    kinds = [e.kind for e in st.list_events(store) if e.object_id == "ann"]
    for kind in (
        "user.created",
        "user.role_changed",
        "user.granted",
        "user.disabled",
        "user.enabled",
        "user.locked",
        "user.unlocked",
    ):
        assert kind in kinds


def test_password_resets_a_password_and_a_lockout(scribe) -> None:
    scribe("add", "dr-a", "--role", "clinician", "--no-password")
    store = st.open_store(scribe.data)
    with pytest.raises(auth.LoginFailed):  # no password: OpenID Connect only
        auth.authenticate(store, "dr-a", "")
    result = scribe("password", "dr-a", "--password-stdin", stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert auth.authenticate(store, "dr-a", PASSWORD).user_id == "dr-a"
    events = [e for e in st.list_events(store) if e.kind == "user.password_set"]
    assert [e.after for e in events] == [{"password_set": True}]
    assert users.get_account(store, "dr-a").password_hash.startswith("$argon2id$")


def test_assign_gives_a_covering_clinician_the_encounter_and_unassign_takes_it_back(
    scribe,
) -> None:
    from workbench.store.access import Actor, Forbidden

    store = st.open_store(scribe.data)
    st.add_encounter(store, st.EncounterRecord("enc-1", "Visit", clinician_id="dr-a"), "dr-a")
    for user, role in (("dr-c", "clinician"), ("ana", "analyst")):
        assert scribe("add", user, "--role", role, "--no-password").exit_code == 0
    covering = store.as_actor(Actor("dr-c", "clinician"))
    with pytest.raises(Forbidden):
        st.get_encounter(covering, "enc-1")

    done = scribe("assign", "dr-c", "enc-1")
    assert done.exit_code == 0 and "enc-1: assigned to dr-c" in done.output
    assert st.get_encounter(covering, "enc-1").title == "Visit"
    assert "already assigned" in scribe("assign", "dr-c", "enc-1").output

    assert "only clinicians and annotators" in scribe("assign", "ana", "enc-1").output
    assert "No account" in scribe("assign", "nobody", "enc-1").output
    missing = scribe("assign", "dr-c", "enc-404")
    assert missing.exit_code == 1 and "enc-404" in missing.output

    assert "enc-1: unassigned" in scribe("unassign", "dr-c", "enc-1").output
    with pytest.raises(Forbidden):
        st.get_encounter(covering, "enc-1")
