"""The audit log: what reaches it, its hash chain, search, the CLI and the admin page."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from tests.conftest import APP, sign_in
from workbench import export
from workbench import store as st
from workbench.cli import app
from workbench.store.access import Actor, Forbidden
from workbench.store.audit import record, record_view, search_audit, verify_chain
from workbench.store.db import utcnow

ADMIN = Actor("adm", "admin")
AUDIT_PAGE = str(Path(APP).parent / "views" / "audit.py")


def _rows(store: st.Store, **filters) -> list:
    return search_audit(store, limit=1000, **filters)[0]


def test_edits_signs_and_exports_are_audited_with_user_and_object(
    store: st.Store, encounter: str
) -> None:
    note = st.get_note(store, encounter)
    v2 = st.save_note(store, encounter, 1, note.draft.sentences[:1], "dr-a")
    st.sign_note(store, encounter, v2, "dr-a")
    export.export_note(store, encounter, "text", "dr-a")
    actions = [r.action for r in reversed(_rows(store, user="dr-a"))]
    assert actions[:3] == ["encounter.created", "transcript.asr", "note.drafted"]
    assert {"sentence.deleted", "note.signed", "note.exported"} <= set(actions)
    signed = _rows(store, action="note.signed")[0]
    assert (signed.role, signed.object_type, signed.object_id) == (
        "clinician",
        "note",
        "enc-1/note/2",
    )
    assert signed.outcome == "allowed" and signed.detail["encounter_id"] == encounter
    # Details carry ids, never the clinical text the events hold.
    dumped = json.dumps([r.detail for r in _rows(store)])
    assert "cough" not in dumped and "amoxicillin" not in dumped


def test_views_and_logins_are_audited_and_failed_logins_marked_failed(
    store: st.Store, encounter: str
) -> None:
    st.ensure_user(store, "dr-b", "Dr B", "clinician")
    with pytest.raises(Forbidden):
        record_view(store.as_actor(Actor("dr-b", "clinician")), encounter)
    record_view(store.as_actor(Actor("dr-a", "clinician")), encounter)
    # The sign-in (auth branch) writes these events; they reach the log through append_event.
    st.append_event(
        store, st.new_event("dr-a", None, "user.login", object_type="user", object_id="dr-a")
    )
    st.append_event(
        store,
        st.new_event("mallory", None, "user.login_failed", object_type="user", object_id="mallory"),
    )
    views = _rows(store, action="encounter.view")
    assert [(r.user_id, r.outcome) for r in views] == [("dr-a", "allowed"), ("dr-b", "denied")]
    assert views[0].detail == {"identified": True} and views[0].object_id == encounter
    logins = _rows(store, action="user")
    assert [(r.action, r.user_id, r.outcome) for r in logins] == [
        ("user.login_failed", "mallory", "failed"),
        ("user.login", "dr-a", "allowed"),
    ]


def test_reviewer_activity_is_not_audited_one_event_at_a_time(
    store: st.Store, encounter: str
) -> None:
    before = len(_rows(store))
    st.append_event(store, st.new_event("dr-a", encounter, "sentence.viewed", object_id="s0"))
    assert len(_rows(store)) == before


def test_the_chain_finds_an_edited_a_deleted_and_an_inserted_row(
    store: st.Store, encounter: str
) -> None:
    assert verify_chain(store).ok and verify_chain(store).rows == 3
    with store.transaction() as con:
        con.execute("UPDATE audit_log SET user_id = 'someone-else' WHERE seq = 2")
    check = verify_chain(store)
    assert (check.ok, check.broken_at, check.reason) == (False, 2, "row 2 was changed")
    with store.transaction() as con:
        con.execute("UPDATE audit_log SET user_id = 'dr-a' WHERE seq = 2")
    assert verify_chain(store).ok  # put back exactly as it was
    with store.transaction() as con:
        con.execute("DELETE FROM audit_log WHERE seq = 2")
    assert verify_chain(store).reason == "row 2 is missing"
    with store.transaction() as con:
        con.execute(
            "INSERT INTO audit_log SELECT 2, ts, user_id, role, action, object_type, object_id,"
            " outcome, detail, prev_hash, hash FROM audit_log WHERE seq = 3"
        )
    assert verify_chain(store).reason == "row 2 does not follow row 1"


def test_no_code_changes_or_deletes_an_audit_row() -> None:
    import workbench

    package = Path(workbench.__file__).parent
    for path in [*package.rglob("*.py"), *package.rglob("*.sql")]:
        source = " ".join(path.read_text().upper().split())
        for statement in ("UPDATE AUDIT_LOG", "DELETE FROM AUDIT_LOG", "DROP TABLE AUDIT_LOG"):
            assert statement not in source, (path.name, statement)


def test_search_filters_pages_and_is_for_admins_only(store: st.Store, encounter: str) -> None:
    admin = store.as_actor(ADMIN)
    for i in range(5):
        record(admin, "note.exported", "note", f"enc-{i}/note/1", "allowed")
    rows, total = search_audit(admin, user="adm", action="note", limit=2, offset=2)
    assert total == 5 and [r.object_id for r in rows] == ["enc-2/note/1", "enc-1/note/1"]
    assert search_audit(admin, object_id="enc-4/note/1")[1] == 1
    tomorrow = utcnow() + timedelta(days=1)
    assert search_audit(admin, since=tomorrow)[1] == 0
    assert search_audit(admin, until=tomorrow)[1] == 8
    with pytest.raises(ValueError, match="limit"):
        search_audit(admin, limit=0)
    with pytest.raises(Forbidden, match=r"may not audit\.view"):
        search_audit(store.as_actor(Actor("dr-a", "clinician")))


def test_cli_verify_and_search(store: st.Store, encounter: str) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(store.path.parent)]
    ok = runner.invoke(app, [*data, "audit", "verify"])
    assert ok.exit_code == 0 and "intact: 3 rows" in ok.output
    found = runner.invoke(app, [*data, "audit", "search", "--action", "note.drafted"])
    assert found.exit_code == 0, found.output
    line = json.loads(found.stdout.splitlines()[0])
    assert (line["action"], line["user"], line["object_id"]) == (
        "note.drafted",
        "dr-a",
        "enc-1/note/1",
    )
    bad_date = runner.invoke(app, [*data, "audit", "search", "--since", "yesterday"])
    assert bad_date.exit_code == 2 and "not a date" in bad_date.output
    with store.transaction() as con:
        con.execute("UPDATE audit_log SET action = 'nothing' WHERE seq = 1")
    broken = runner.invoke(app, [*data, "audit", "verify"])
    assert broken.exit_code == 1 and "broken" in broken.output and "row 1" in broken.output


def _page(monkeypatch: pytest.MonkeyPatch, store: st.Store, actor: Actor, path: str) -> AppTest:
    """``path`` (a page, or the app) with ``actor`` signed in (an account is made for it)."""
    monkeypatch.setenv("SCRIBE_HOME", str(store.path.parent))
    return sign_in(AppTest.from_file(path, default_timeout=60), store.path.parent,
                   actor.user_id, actor.role)


def test_admin_page_shows_the_log_and_the_chain(monkeypatch, store, encounter) -> None:
    at = _page(monkeypatch, store, ADMIN, AUDIT_PAGE).run()
    assert not at.exception, at.exception
    # The encounter's three events, then the admin's account being made (newest first).
    assert "Hash chain intact: 4 rows" in at.success[0].value
    assert list(at.dataframe[0].value["action"]) == [
        "user.created",
        "note.drafted",
        "transcript.asr",
        "encounter.created",
    ]
    at.text_input(key="audit_action").input("transcript").run()
    assert list(at.dataframe[0].value["action"]) == ["transcript.asr"]


def test_non_admins_cannot_open_the_audit_page_nor_see_it_listed(
    monkeypatch, store, encounter
) -> None:
    clinician = Actor("dr-a", "clinician")
    at = _page(monkeypatch, store, clinician, AUDIT_PAGE).run()
    assert not at.exception, at.exception
    assert "may not audit.view" in at.error[0].value and not at.dataframe
    assert _rows(store, user="dr-a", action="audit.view")[0].outcome == "denied"
    app_test = _page(monkeypatch, store, clinician, str(APP)).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app_test.switch_page("views/audit.py")  # not a page of a clinician's navigation
    admin_app = _page(monkeypatch, store, ADMIN, str(APP)).run()
    admin_app.switch_page("views/audit.py").run()
    assert not admin_app.exception, admin_app.exception
    assert [t.value for t in admin_app.title] == ["Audit log"]


def test_a_replayed_event_is_stored_and_audited_once(store: st.Store, encounter: str) -> None:
    event = st.new_event("dr-a", encounter, "note.exported", object_id="enc-1/note/1")
    st.append_event(store, event)
    st.append_event(store, event)  # a retry after a lost reply
    assert len(st.list_events(store, encounter, "note.exported")) == 1
    assert len(_rows(store, action="note.exported")) == 1
    assert verify_chain(store).ok
