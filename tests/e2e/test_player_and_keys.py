"""The transcript player and the keyboard in a real browser: what AppTest cannot run.

Clicking a word plays the recording from that word, the spoken word is highlighted while it
plays, ▶ on a sentence seeks to its evidence; j/k move the selection, p plays it, a accepts,
r marks it for removal, Ctrl+S is caught, and keys typed into a text box stay text.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import (
    CHROMIUM,
    ENCOUNTER,
    SENTENCES,
    USER,
    artifacts_dir,
    clip_draft,
    clip_transcript,
    open_signed_in,
)
from tests.e2e.test_review_browser import LOAD_MS, STEP_MS, _key, _settle, _wait_for_events
from workbench import store as st

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
    ),
]
AUDIO = ".st-key-source-audio audio"
# Sentence ids in the order the note shows them (section by section).
NOTE_ORDER = ["s-complaint", "s-fever", "s-ibuprofen", "s-follow-up"]


def _open_review(page, app_url: str) -> None:
    from playwright.sync_api import expect

    page.set_default_timeout(STEP_MS)
    open_signed_in(page, f"{app_url}/review?encounter={ENCOUNTER}")
    expect(page.locator(".w").first).to_be_visible(timeout=LOAD_MS)
    expect(_key(page, "play-s-ibuprofen", "button")).to_be_enabled(timeout=LOAD_MS)
    _settle(page)


def _audio(page, prop: str):
    return page.evaluate(f"() => document.querySelector('{AUDIO}').{prop}")


def _wait_audio_near(page, seconds: float, tolerance: float = 0.6) -> None:
    """Until the recording's position is within ``tolerance`` s after ``seconds``."""
    page.wait_for_function(
        f"([t, tol]) => {{ const a = document.querySelector('{AUDIO}');"
        " return a && a.currentTime >= t - 0.05 && a.currentTime <= t + tol; }",
        arg=[seconds, tolerance],
    )


def _evidence_start(sentence_id: str) -> float:
    transcript = clip_transcript()
    sentence = next(s for s in clip_draft(transcript).sentences if s.sentence_id == sentence_id)
    return min(e.start_s for e in sentence.evidence)


def _source_box(page):
    return page.locator("[data-testid='stAlert']", has_text="Source of:").first


def _shot(page, name: str) -> None:
    folder = artifacts_dir()
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_click_a_word_plays_from_it_and_the_spoken_word_is_followed(app_url: str, page) -> None:
    from playwright.sync_api import expect

    _open_review(page, app_url)
    transcript = clip_transcript()
    seg = transcript.segments[2]
    index = next(i for i, w in enumerate(seg.words) if w.text.strip() == "ibuprofen")
    word = page.locator(f".w[data-w='2.{index}']").first
    expect(word).to_have_text("ibuprofen")

    word.click()
    _wait_audio_near(page, seg.words[index].start)
    assert not _audio(page, "paused"), "clicking a word starts playback"
    # While it plays, the word being spoken carries the class `now`, later ones in turn.
    spoken = page.locator(".w.now").first
    expect(spoken).to_be_visible()
    first = spoken.get_attribute("data-w")
    expect(page.locator(".w.now").first).not_to_have_attribute("data-w", first, timeout=10_000)
    _shot(page, "player-01-following")
    # The click reached Python: the correction editor now offers that segment.
    expect(page.get_by_text("Segment at 0:08 is ready to correct").first).to_be_visible()
    page.get_by_text("Correct the transcript").first.click()
    picker = _key(page, "fix_segment", "input")
    expect(picker).to_have_value(re.compile(r"^0:08 · clinician · Please take ibuprofen"))

    # A segment's time plays the segment from its start.
    page.evaluate(f"() => document.querySelector('{AUDIO}').pause()")
    page.locator(".ts[data-seg='3']").first.click()
    _wait_audio_near(page, transcript.segments[3].words[0].start)
    expect(picker).to_have_value(re.compile(r"^0:13 · patient · Thank you"))


def test_play_evidence_seeks_and_marks_the_source(app_url: str, page) -> None:
    from playwright.sync_api import expect

    _open_review(page, app_url)
    _key(page, "play-s-follow-up", "button").click()
    _wait_audio_near(page, _evidence_start("s-follow-up"))
    expect(_source_box(page)).to_contain_text(SENTENCES["s-follow-up"][1])
    marks = page.locator(".seg.cited mark")
    expect(marks.first).to_be_visible()
    assert "".join(marks.all_text_contents()) == "come back next week"
    expect(page.locator(".seg.cited")).to_have_attribute("data-seg", "3")

    # Asking for the same evidence again replays it from its start.
    _settle(page)
    page.evaluate(f"() => {{ const a = document.querySelector('{AUDIO}'); a.currentTime = 1; }}")
    _key(page, "play-s-follow-up", "button").click()
    _wait_audio_near(page, _evidence_start("s-follow-up"))


def test_keys_move_play_accept_and_reject(app_url: str, page, e2e_data) -> None:
    from playwright.sync_api import expect

    _open_review(page, app_url)
    expect(page.get_by_text("Keyboard: j/k next").first).to_be_visible()
    page.get_by_role("heading", name=f"Visit {ENCOUNTER}").first.click()  # focus: the page

    page.keyboard.press("j")
    expect(_source_box(page)).to_contain_text(SENTENCES[NOTE_ORDER[0]][1])
    _settle(page)
    page.keyboard.press("j")
    expect(_source_box(page)).to_contain_text(SENTENCES[NOTE_ORDER[1]][1])
    _settle(page)
    page.keyboard.press("ArrowDown")
    expect(_source_box(page)).to_contain_text(SENTENCES[NOTE_ORDER[2]][1])
    _settle(page)
    page.keyboard.press("k")
    expect(_source_box(page)).to_contain_text(SENTENCES[NOTE_ORDER[1]][1])

    # p plays the selected sentence's evidence.
    _settle(page)
    page.keyboard.press("p")
    _wait_audio_near(page, _evidence_start(NOTE_ORDER[1]))

    # a accepts the selected sentence: a sentence.accepted event in the store.
    _settle(page)
    page.keyboard.press("a")
    store = st.open_store(e2e_data)
    (accepted,) = _wait_for_events(store, "sentence.accepted")
    assert accepted.object_id == NOTE_ORDER[1] and accepted.user_id == USER

    # r removes the selected sentence: a saved version 2 without it (undoable).
    _settle(page)
    page.keyboard.press("r")
    expect(page.locator(f".st-key-row-{NOTE_ORDER[0]}")).to_have_count(1)
    expect(page.locator(f".st-key-row-{NOTE_ORDER[1]}")).to_have_count(0)
    (deleted,) = _wait_for_events(store, "sentence.deleted")
    assert deleted.object_id == NOTE_ORDER[1] and deleted.user_id == USER

    # ? shows the key help, ? again hides it.
    _settle(page)
    page.keyboard.press("?")
    expect(page.locator(".ks-help")).to_be_visible()
    _shot(page, "keys-01-help")
    page.keyboard.press("?")
    expect(page.locator(".ks-help")).to_be_hidden()

    # e puts the cursor in the selected sentence's box (the one after the removed one).
    page.keyboard.press("e")
    focused = f"() => !!document.activeElement.closest('.st-key-sent-2-{NOTE_ORDER[2]}')"
    page.wait_for_function(focused)


def test_typing_in_a_text_box_is_not_a_shortcut_but_ctrl_s_is(app_url: str, page) -> None:
    from playwright.sync_api import expect

    _open_review(page, app_url)
    _key(page, f"edit-{NOTE_ORDER[0]}", "button").click()
    box = _key(page, f"sent-1-{NOTE_ORDER[0]}", "textarea")
    expect(box).to_be_visible()
    _settle(page)  # type once the run that drew the box is over
    box.click()
    box.press("End")
    box.type(" jkpar")
    expect(box).to_have_value(SENTENCES[NOTE_ORDER[0]][1] + " jkpar")
    assert _audio(page, "paused"), "p typed into the box did not play"
    # j/k typed into the box did not move the selection away from the edited sentence.
    expect(_source_box(page)).to_contain_text(SENTENCES[NOTE_ORDER[0]][1])
    assert page.evaluate("() => document.activeElement.tagName") == "TEXTAREA"

    # Ctrl+S leaves the box (keeping the text) and saves it as version 2.
    box.press("Control+s")
    expect(page.get_by_text("Saved version 2").first).to_be_visible()
    expect(_key(page, f"sent-2-{NOTE_ORDER[0]}", "textarea")).to_have_value(
        SENTENCES[NOTE_ORDER[0]][1] + " jkpar"
    )
