"""Active review time in a real browser: the heartbeat component reports activity and the
server records it as ``review.active`` events."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import CHROMIUM, ENCOUNTER, open_signed_in
from tests.e2e.test_review_browser import LOAD_MS, STEP_MS, _key, _shot, _wait_for_events
from workbench import review_time as rt
from workbench import store as st

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
    ),
]


def test_activity_in_the_review_page_becomes_review_active_events(
    app_url: str, page, e2e_data: Path
) -> None:
    from playwright.sync_api import expect

    page.set_default_timeout(STEP_MS)
    open_signed_in(page, app_url)
    open_button = _key(page, f"open-{ENCOUNTER}", "button")
    expect(open_button).to_be_enabled(timeout=LOAD_MS)
    open_button.click()
    expect(_key(page, "sign", "button")).to_be_attached(timeout=LOAD_MS)
    store = st.open_store(e2e_data)
    assert not st.list_events(store, ENCOUNTER, "review.active")

    # Move the pointer for a little longer than one heartbeat period.
    deadline = time.monotonic() + rt.HEARTBEAT_S + 3
    x = 0
    while time.monotonic() < deadline:
        x = (x + 37) % 800
        page.mouse.move(200 + x, 400)
        page.wait_for_timeout(500)
    (beat, *_) = _wait_for_events(store, "review.active", timeout_s=30)
    assert 0 < beat.after["seconds"] <= rt.MAX_BEAT_S
    assert beat.user_id and beat.note_version == 1
    _shot(page, "heartbeat-review")
    assert st.active_review_seconds(store, ENCOUNTER) >= beat.after["seconds"]
