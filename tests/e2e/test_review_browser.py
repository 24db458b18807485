"""A clinician's review in a real browser: open, play evidence, edit, delete, sign, export.

Drives the served app in headless Debian Chromium and checks the store afterwards.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM, ENCOUNTER, SENTENCES, USER, artifacts_dir, open_signed_in
from workbench import store as st

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
    ),
]
# Streamlit renders after each rerun; the Review page's first run loads the NLP pipeline.
LOAD_MS = 180_000
STEP_MS = 60_000
EDITED = "The patient reports a headache and a dry cough for three days."


def _settle(page) -> None:
    """Wait until the script run is over and no element of an earlier run is left."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    page.wait_for_selector("[data-stale='true']", state="detached")


def _key(page, key: str, inner: str = ""):
    """The widget with this Streamlit key (its element carries the class st-key-KEY).

    ``.first``: while a rerun replaces the page, an element can briefly be there twice.
    """
    return page.locator(f".st-key-{key} {inner}".strip()).first


def _wait_for_events(store: st.Store, kind: str, timeout_s: float = 30.0) -> list:
    """The encounter's events of ``kind``, polled until there is one or the time is up."""
    deadline = time.monotonic() + timeout_s
    while not (events := st.list_events(store, ENCOUNTER, kind)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return events


def _shot(page, name: str) -> None:
    _settle(page)
    folder = artifacts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_review_play_edit_delete_sign_export(app_url: str, page, e2e_data: Path) -> None:
    from playwright.sync_api import expect

    page.set_default_timeout(STEP_MS)
    # Worklist: the encounter is listed; Open goes to its Review page.
    open_signed_in(page, app_url)
    open_button = _key(page, f"open-{ENCOUNTER}", "button")
    expect(open_button).to_be_enabled(timeout=LOAD_MS)
    _shot(page, "01-worklist")
    open_button.click()
    play = _key(page, "play-s-ibuprofen", "button")
    expect(play).to_be_enabled(timeout=LOAD_MS)
    expect(page.get_by_role("heading", name=f"Visit {ENCOUNTER}").first).to_be_visible()
    _shot(page, "02-review")

    # ▶ plays the sentence's evidence: the source passage is shown and the audio seeks there.
    _settle(page)
    play.click()
    source = page.locator("[data-testid='stAlert']", has_text="Source of:").first
    expect(source).to_contain_text(SENTENCES["s-ibuprofen"][1])
    expect(source).to_contain_text("ibuprofen 400 milligrams three times a day with food")
    page.wait_for_function(
        "() => { const a = document.querySelector('audio'); return a && a.currentTime >= 8; }"
    )
    _shot(page, "03-evidence")

    # Edit one sentence and remove another (an empty sentence is deleted), then save.
    # Only the selected sentence is in a box: Edit selects one and opens its box.
    _settle(page)
    expect(page.locator(".st-key-sent-1-s-complaint")).to_have_count(0)
    _key(page, "edit-s-complaint", "button").click()
    # The box is drawn by the rerun the click starts: type once that run is over (right
    # after the click the page may not yet say it is running).
    edit = _key(page, "sent-1-s-complaint", "textarea")
    expect(edit).to_be_visible()
    _settle(page)
    edit.fill(EDITED)
    edit.press("Control+Enter")
    _settle(page)
    # The edit is pending (and autosaved) before the reviewer moves on.
    expect(_key(page, "save", "button")).to_contain_text("Save (1 changes)")
    _key(page, "edit-s-follow-up", "button").click()
    delete = _key(page, "sent-1-s-follow-up", "textarea")
    expect(delete).to_be_visible()
    _settle(page)
    expect(page.locator(".st-key-sent-1-s-complaint")).to_have_count(0)
    expect(_key(page, "row-s-complaint", "p").first).to_contain_text(EDITED)
    delete.fill("")
    delete.press("Control+Enter")
    save = _key(page, "save", "button")
    expect(save).to_contain_text("Save (2 changes)")
    _shot(page, "04-edited")
    save.click()
    _settle(page)
    # After the save the note is version 2: the edit kept, the emptied sentence gone.
    expect(_key(page, "row-s-complaint", "p").first).to_contain_text(EDITED)
    expect(page.locator(".st-key-row-s-follow-up")).to_have_count(0)

    # Attest and sign: the note becomes read-only and offers its exports.
    _settle(page)
    page.locator("[class*='st-key-attest-'] label").first.click()
    sign = _key(page, "sign", "button")
    expect(sign).to_be_enabled()
    sign.click()
    expect(page.get_by_text("(read-only)").first).to_be_visible()
    expect(page.locator(".st-key-row-s-complaint")).to_have_count(0)
    download = _key(page, "export-text", "button")
    expect(download).to_be_visible()
    _shot(page, "05-signed")
    with page.expect_download() as info:
        download.click()
    exported = artifacts_dir() / info.value.suggested_filename
    info.value.save_as(exported)
    text = exported.read_text()
    assert EDITED in text and f"Encounter: {ENCOUNTER}" in text
    assert SENTENCES["s-follow-up"][1] not in text

    # The store: a new version, signed, with the edit and without the removed sentence.
    store = st.open_store(e2e_data)
    note = st.get_note(store, ENCOUNTER)
    assert note.version == 2 and note.parent_version == 1
    assert note.signed and note.signed_by == USER
    texts = {s.sentence_id: s.text for s in note.draft.sentences}
    assert texts["s-complaint"] == EDITED and "s-follow-up" not in texts
    assert texts["s-ibuprofen"] == SENTENCES["s-ibuprofen"][1]
    kinds = [e.kind for e in st.list_events(store, ENCOUNTER)]
    for kind in ("sentence.edited", "sentence.deleted", "note.saved", "note.signed"):
        assert kind in kinds, kind
    # The download's callback runs on the server after the browser has the file.
    (export,) = _wait_for_events(store, "note.exported")
    assert export.after["format"] == "text" and export.note_version == 2
    (edited,) = st.list_events(store, ENCOUNTER, "sentence.edited")
    assert edited.object_id == "s-complaint" and edited.after["text"] == EDITED
    (deleted,) = st.list_events(store, ENCOUNTER, "sentence.deleted")
    assert deleted.object_id == "s-follow-up" and deleted.user_id == USER
