"""The sign-in gate, driven with AppTest from the app's entry point on a real store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, make_draft, make_transcript, seed_encounter, sign_in
from workbench import auth
from workbench import store as st
from workbench.demo import ensure_demo_accounts
from workbench.store import users
from workbench.ui import login

PASSWORD = "a long pass phrase"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret",
    "client_id": "scribe",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://login.example.org/.well-known/openid-configuration",
}


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store with one drafted encounter and the account dr-lindqvist (a password)."""
    data = tmp_path / "data"
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    monkeypatch.setenv("SCRIBE_USER", "dr-test")
    transcript = make_transcript([("clinician", "Any cough?"), ("patient", "A dry cough.")])
    store = seed_encounter(data, "enc-1", transcript, draft=make_draft(transcript),
                           clinician="dr-lindqvist")
    users.create_account(
        store,
        "dr-lindqvist",
        "clinician",
        "system",
        display_name="Dr. Lindqvist",
        email="lindqvist@clinic.example",
        password_hash=auth.hash_password(PASSWORD),
    )
    return data


def app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=60)


def is_sign_in_page(at: AppTest) -> bool:
    keys = {w.key for w in at.text_input}
    return {"login_user", "login_password"} <= keys


def page_content(at: AppTest) -> bool:
    """Anything of the pages: the worklist's rows or the review page's buttons."""
    return any(b.key and (b.key.startswith("open-") or b.key == "save") for b in at.button)


def submit(at: AppTest, user_id: str, password: str) -> AppTest:
    at.text_input(key="login_user").input(user_id)
    at.text_input(key="login_password").input(password)
    return at.button(key="login_submit").click().run()


def test_without_sign_in_every_page_shows_only_the_sign_in_form(data: Path) -> None:
    at = app().run()
    assert not at.exception, at.exception
    assert is_sign_in_page(at) and not page_content(at)
    assert [t.value for t in at.title] == ["Scribe Workbench"]
    assert not at.sidebar.button and not at.sidebar.markdown
    at.session_state["encounter_id"] = "enc-1"
    at.switch_page("views/review.py").run()
    assert is_sign_in_page(at) and not page_content(at)
    assert login.ACTOR_KEY not in at.session_state


def test_signing_in_through_the_form_opens_the_page_asked_for(data: Path) -> None:
    at = app().run()
    at.session_state["encounter_id"] = "enc-1"
    at.switch_page("views/review.py").run()
    submit(at, "dr-lindqvist", PASSWORD)
    assert not at.exception, at.exception
    assert not is_sign_in_page(at) and at.button(key="save")  # the review page
    assert "Signed in as **Dr. Lindqvist** (`dr-lindqvist`) · clinician" in [
        m.value for m in at.sidebar.markdown
    ]
    assert at.session_state[login.ACTOR_KEY].user_id == "dr-lindqvist"
    assert st.list_events(st.open_store(data), kind="login.succeeded")[-1].user_id == (
        "dr-lindqvist"
    )


def test_an_annotator_signing_in_on_the_start_page_lands_on_their_queue(data: Path) -> None:
    users.create_account(
        st.open_store(data),
        "ann",
        "annotator",
        "system",
        password_hash=auth.hash_password(PASSWORD),
    )
    at = app().run()
    assert [t.value for t in at.title] == ["Scribe Workbench"]  # the form, on the worklist
    submit(at, "ann", PASSWORD)
    assert not at.exception, at.exception
    assert [t.value for t in at.main.title] == ["My annotation queue"]
    at.run()  # later runs stay where the annotator is
    assert [t.value for t in at.main.title] == ["My annotation queue"]


def test_a_wrong_password_is_refused_with_one_message(data: Path) -> None:
    at = submit(app().run(), "dr-lindqvist", "not the password")
    assert is_sign_in_page(at) and not page_content(at)
    assert [e.value for e in at.error] == [auth.LOGIN_FAILED]
    assert at.session_state["login_password"] == ""  # not kept in the session
    assert at.text_input(key="login_user").value == "dr-lindqvist"  # kept to try again
    at = submit(app().run(), "nobody", PASSWORD)
    assert [e.value for e in at.error] == [auth.LOGIN_FAILED]


def test_five_wrong_passwords_lock_the_account_on_the_page(data: Path) -> None:
    at = app().run()
    for attempt in range(5):
        submit(at, "dr-lindqvist", f"guess {attempt}")
    assert "locked after too many failed sign-ins" in at.error[0].value
    submit(at, "dr-lindqvist", PASSWORD)
    assert is_sign_in_page(at) and "locked" in at.error[0].value


def test_an_idle_session_is_signed_out_with_a_message(data: Path) -> None:
    at = sign_in(app(), data, "dr-lindqvist").run()
    assert page_content(at)
    at.session_state[login.SEEN_KEY] = time.time() - 16 * 60  # 15 minutes is the default
    at.run()
    assert is_sign_in_page(at) and not page_content(at)
    assert "signed out after 15 minutes without activity" in at.info[0].value
    (event,) = st.list_events(st.open_store(data), kind="logout")
    assert (event.user_id, event.after) == ("dr-lindqvist", {"reason": "idle timeout"})


def test_activity_within_the_timeout_keeps_the_session(data: Path, monkeypatch) -> None:
    monkeypatch.setenv("SCRIBE_SESSION_TIMEOUT_MINUTES", "30")
    at = sign_in(app(), data, "dr-lindqvist").run()
    at.session_state[login.SEEN_KEY] = time.time() - 16 * 60
    at.run()
    assert page_content(at) and at.session_state[login.SEEN_KEY] > time.time() - 60


def test_sign_out_ends_the_session(data: Path) -> None:
    at = sign_in(app(), data, "dr-lindqvist").run()
    at.sidebar.button(key="sign_out").click().run()
    assert is_sign_in_page(at) and not page_content(at)
    assert [i.value for i in at.info] == ["You signed out."]
    assert st.list_events(st.open_store(data), kind="logout")[-1].after == {"reason": "signed out"}


def test_an_account_disabled_meanwhile_is_signed_out_and_a_new_role_applies(data) -> None:
    at = sign_in(app(), data, "dr-lindqvist").run()
    store = st.open_store(data)
    users.set_role(store, "dr-lindqvist", "annotator", "system")
    at.run()
    assert at.session_state[login.ACTOR_KEY].role == "annotator"
    assert any(m.value.endswith("· annotator") for m in at.sidebar.markdown)
    users.set_disabled(store, "dr-lindqvist", True, "system")
    at.run()
    assert is_sign_in_page(at) and "disabled" in at.info[0].value


def test_the_identity_provider_button_appears_only_when_configured(data: Path) -> None:
    at = app().run()
    assert not [b for b in at.button if b.key and b.key.startswith("oidc-")]
    configured = app()
    configured.secrets["auth"] = AUTH
    configured.run()
    assert not configured.exception, configured.exception
    (button,) = [b for b in configured.button if b.key and b.key.startswith("oidc-")]
    assert button.label == "Sign in with login.example.org"
    assert is_sign_in_page(configured)  # local accounts still work beside it


def test_an_identity_provider_sign_in_is_matched_by_email(data: Path) -> None:
    at = app()
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "Lindqvist@clinic.example", "iat": time.time()}
    at.run()
    assert not at.exception, at.exception
    assert page_content(at) and at.session_state[login.ACTOR_KEY].user_id == "dr-lindqvist"
    assert st.list_events(st.open_store(data), kind="login.succeeded")[-1].after == {
        "reason": "oidc"
    }


def test_an_old_identity_provider_sign_in_must_sign_in_again(data: Path) -> None:
    at = app()
    at.secrets["auth"] = AUTH
    issued = time.time() - 16 * 60  # a tab opened later, from Streamlit's 30-day cookie
    at.user = {"is_logged_in": True, "email": "lindqvist@clinic.example", "iat": issued}
    at.run()
    assert is_sign_in_page(at) and not page_content(at)
    assert at.button(key="oidc-default").label == "Sign in with login.example.org"
    assert not st.list_events(st.open_store(data), kind="login.succeeded")


def test_an_identity_provider_sign_in_without_an_account_is_refused(data: Path) -> None:
    at = app()
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": "stranger@clinic.example", "iat": time.time()}
    at.run()
    assert not page_content(at) and not is_sign_in_page(at)
    assert "no workbench account has that email" in at.error[0].value
    assert at.button(key="oidc_logout")
    at.run()  # refused once: not recorded again on every rerun
    assert len(st.list_events(st.open_store(data), kind="login.failed")) == 1


def test_the_demo_hint_shows_only_with_the_demo_accounts(data: Path) -> None:
    at = app().run()
    assert not [c for c in at.caption if "demo" in c.value]
    store = st.open_store(data)
    ensure_demo_accounts(store, "system")
    at = app().run()
    (hint,) = [c.value for c in at.caption if "password `demo`" in c.value]
    assert "`dr-okafor`" in hint and "`admin`" in hint
    at = submit(at, "admin", "demo")
    assert at.session_state[login.ACTOR_KEY].role == "admin"
    # Once the admin's password is changed the hint is gone.
    users.set_password(store, "admin", auth.hash_password(PASSWORD), "system")
    at = app().run()
    assert not [c for c in at.caption if "demo" in c.value]


def _heartbeat_script() -> None:
    from workbench.ui import login

    login.note_activity()


@pytest.mark.parametrize(("idle_s", "extended"), [(60, True), (16 * 60, False)])
def test_review_heartbeats_extend_a_live_session_but_never_revive_an_expired_one(
    idle_s: int, extended: bool
) -> None:
    from workbench.store.access import Actor

    at = AppTest.from_function(_heartbeat_script, default_timeout=30)
    at.session_state[login.ACTOR_KEY] = Actor("dr-lindqvist", "clinician")
    at.session_state[login.SEEN_KEY] = time.time() - idle_s
    at.run()
    assert not at.exception, at.exception
    assert (at.session_state[login.SEEN_KEY] > time.time() - 10) is extended
