"""Annotation in a real browser: an annotator labels entities and submits; a lead accepts.

Drives the served app in headless Debian Chromium on a store seeded with the fixture clip's
encounter, the model's entities (the suggestions), an annotator and a lead (an annotator
with the "lead" grant) who put an entities task in the annotator's queue. The store is
checked afterwards as the system reads it (offsets into the real transcript text).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipelines.types import Entity
from tests.conftest import seed_encounter
from tests.e2e.conftest import CHROMIUM, ENCOUNTER, USER, clip_transcript, open_signed_in
from tests.e2e.test_review_browser import LOAD_MS, STEP_MS, _key, _settle, _shot
from workbench import store as st
from workbench.auth import hash_password
from workbench.store import annotation_tasks as an
from workbench.store import users
from workbench.store.access import SYSTEM, Actor
from workbench.store.records import AnnotationTask

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"
    ),
]
ANNOTATOR, LEAD = "ann-e2e", "lead-e2e"
PASSWORDS = {ANNOTATOR: "ann-e2e-password", LEAD: "lead-e2e-password"}  # test store only
MODEL = "nlp.e2e"
# The model's entities: (segment, words, label); their suggestion ids are m1-0, m1-1, m1-2.
SUGGESTED = ((1, "headache", "PROBLEM"), (1, "cough", "PROBLEM"), (2, "ibuprofen", "MEDICATION"))
DOSE_SEGMENT, DOSE_WORDS = 2, "400 milligrams"  # the span the annotator adds


def _entities() -> tuple[Entity, ...]:
    segments = clip_transcript().segments
    out = []
    for seg, words, label in SUGGESTED:
        start = segments[seg].text.index(words)
        out.append(Entity(seg, start, start + len(words), words, label))
    return tuple(out)


def _as(store: st.Store, user_id: str) -> st.Store:
    account = users.get_account(store, user_id)
    return store.as_actor(Actor(user_id, account.role, account.grants))


@pytest.fixture
def e2e_data(tmp_path: Path) -> Path:
    """This module's store (served by conftest's ``app_url``): the clip's encounter with the
    model's entities, an annotator, a lead, and an entities task the lead gave the annotator."""
    data = tmp_path / "data"
    store = seed_encounter(
        data,
        ENCOUNTER,
        clip_transcript(),
        entities=_entities(),
        nlp_version=MODEL,
        user=USER,
        clinician=USER,
    )
    for user_id, name in ((ANNOTATOR, "Ann Otator"), (LEAD, "Lea D")):
        users.create_account(
            store,
            user_id,
            "annotator",
            "system",
            display_name=name,
            password_hash=hash_password(PASSWORDS[user_id]),
        )
    users.set_grant(store, LEAD, "lead", True, "system")
    an.create_task(_as(store, LEAD), ENCOUNTER, "entities", ANNOTATOR)
    return data


def _task(data: Path) -> AnnotationTask:
    (task,) = an.list_tasks(st.open_store(data).as_actor(SYSTEM), encounter_id=ENCOUNTER)
    return task


def _choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the select with this key by typing it (the list filters as you
    type) and pressing Enter, as a keyboard user does."""
    from playwright.sync_api import expect

    _settle(page)
    box = _key(page, key, "input")
    box.click()
    box.press_sequentially(option)
    page.get_by_role("option", name=option, exact=True).first.wait_for()
    box.press("Enter")
    _settle(page)
    expect(box).to_have_value(option)
    expect(box).to_have_attribute("aria-expanded", "false")


def test_annotator_accepts_a_suggestion_adds_a_span_saves_and_submits(
    app_url: str, page, e2e_data: Path
) -> None:
    from playwright.sync_api import expect

    page.set_default_timeout(STEP_MS)
    tid = _task(e2e_data).task_id
    # An annotator lands on their queue, with the task the lead gave them.
    open_signed_in(page, app_url, user=ANNOTATOR, password=PASSWORDS[ANNOTATOR])
    expect(page.get_by_role("heading", name="My annotation queue").first).to_be_visible(
        timeout=LOAD_MS
    )
    link = page.get_by_role("link", name=f"Visit {ENCOUNTER}")
    expect(link).to_be_visible()
    expect(page.get_by_text("To do (1)").first).to_be_visible()
    _shot(page, "annot-01-queue")

    # Opening it shows the transcript with the model's entities marked as suggestions.
    link.click()
    save = _key(page, f"annent-{tid}-save", "button")
    expect(save).to_be_visible(timeout=LOAD_MS)
    expect(save).to_be_disabled()  # nothing to save yet
    expect(page.get_by_role("heading", name=f"Entity spans: Visit {ENCOUNTER}")).to_be_visible()
    expect(page.get_by_text("3 suggestions to decide").first).to_be_visible()
    transcript = _key(page, f"annent-{tid}-transcript")
    marks = transcript.locator(f"[title*='suggested by {MODEL}']")
    expect(marks).to_have_count(len(SUGGESTED))
    expect(marks.first).to_have_text("headache")
    expect(transcript).to_contain_text("PROBLEM? · suggested")
    _shot(page, "annot-02-task")

    # "Next suggestion" selects the segment with the first ones; their rows say, in words,
    # who suggested them. Accept "headache".
    _key(page, f"annent-{tid}-next-suggestion", "button").click()
    _settle(page)
    expect(page.get_by_text(f"suggested by {MODEL}", exact=True)).to_have_count(2)
    _key(page, f"annent-{tid}-0-accept-m1-0", "button").click()
    _settle(page)
    expect(page.get_by_text(f"accepted suggestion of {MODEL}").first).to_be_visible()
    expect(page.get_by_text("2 suggestions to decide").first).to_be_visible()
    expect(marks).to_have_count(len(SUGGESTED) - 1)

    # A new span: the next segment, the words "400" to "milligrams" with the arrow keys on
    # the word range, the label DOSE typed in its list, then Add span.
    _key(page, f"annent-{tid}-next", "button").click()
    _settle(page)
    words = _key(page, f"annent-{tid}-words-{DOSE_SEGMENT}")
    expect(words).to_be_visible()
    # The range's two ends are range inputs; the start cannot pass the end, so the end first.
    first, last = (words.locator("input[type='range']").nth(i) for i in (0, 1))
    last.focus()
    for _ in range(4):  # Please take ibuprofen 400 milligrams
        last.press("ArrowRight")
    expect(page.get_by_text("Selected: “Please take ibuprofen 400 milligrams”")).to_be_visible()
    _settle(page)
    first.focus()
    for _ in range(3):
        first.press("ArrowRight")
    expect(page.get_by_text(f"Selected: “{DOSE_WORDS}”")).to_be_visible()
    _choose(page, f"annent-{tid}-label", "DOSE")
    _key(page, f"annent-{tid}-add", "button").click()
    expect(page.get_by_text(f"Added DOSE “{DOSE_WORDS}”.")).to_be_visible()
    expect(page.get_by_text("unsaved changes").first).to_be_visible()
    _shot(page, "annot-03-labelled")

    # Save the draft, then submit it for review: the task turns read-only.
    _settle(page)
    expect(save).to_be_enabled()
    save.click()
    expect(page.get_by_text("Saved (2 labels).")).to_be_visible()
    _settle(page)
    _key(page, f"annent-{tid}-submit", "button").click()
    expect(page.get_by_text("Submitted for review (2 labels").first).to_be_visible()
    expect(page.get_by_text("This task is submitted; it is shown read-only.")).to_be_visible()
    expect(page.locator(f".st-key-annent-{tid}-submit")).to_have_count(0)
    _shot(page, "annot-04-submitted")

    # The store, as the system reads it: the accepted suggestion is confirmed, the new span
    # has the real text's offsets, the task is submitted, and both steps are events.
    store = st.open_store(e2e_data).as_actor(SYSTEM)
    task = _task(e2e_data)
    assert (task.status, task.assignee) == ("submitted", ANNOTATOR)
    saved = {a.annotation_id: a for a in an.task_annotations(store, tid)}
    assert set(saved) >= {"m1-0"} and len(saved) == 2, saved
    headache = saved.pop("m1-0")
    assert (headache.origin, headache.label, headache.text) == ("confirmed", "PROBLEM", "headache")
    assert headache.model_version == MODEL
    (dose,) = saved.values()
    text = clip_transcript().segments[DOSE_SEGMENT].text
    start = text.index(DOSE_WORDS)
    assert (dose.kind, dose.label, dose.origin, dose.segment_idx) == (
        "span",
        "DOSE",
        "human",
        DOSE_SEGMENT,
    )
    assert (dose.start_char, dose.end_char, dose.text) == (
        start,
        start + len(DOSE_WORDS),
        DOSE_WORDS,
    )
    events = st.list_events(store, ENCOUNTER)
    mine = [(e.kind, e.user_id) for e in events if e.object_id == tid]
    assert ("annotation.saved", ANNOTATOR) in mine and ("annotation.submitted", ANNOTATOR) in mine
    (submitted,) = [e for e in events if e.kind == "annotation.submitted"]
    assert {a["annotation_id"] for a in submitted.after["annotations"]} == {
        "m1-0",
        dose.annotation_id,
    }


def test_lead_accepts_a_submitted_task(app_url: str, page, e2e_data: Path) -> None:
    from playwright.sync_api import expect

    page.set_default_timeout(STEP_MS)
    # The annotator's part through the store: one accepted suggestion, submitted.
    store = st.open_store(e2e_data)
    ann = _as(store, ANNOTATOR)
    tid = _task(e2e_data).task_id
    (headache, *_) = an.model_suggestions(ann, ENCOUNTER)
    saved = an.save_annotations(ann, tid, [replace(headache, origin="confirmed")], revision=0)
    an.submit_task(ann, tid, revision=saved.revision)

    # The lead opens "Annotation tasks" from the sidebar and accepts it.
    open_signed_in(page, app_url, user=LEAD, password=PASSWORDS[LEAD])
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_role("link", name="Annotation tasks").click()
    expect(page.get_by_role("heading", name="Annotation tasks").first).to_be_visible(
        timeout=LOAD_MS
    )
    expect(page.get_by_role("link", name=f"Entity spans: Visit {ENCOUNTER}")).to_be_visible()
    accept = _key(page, f"review-accept-{tid}", "button")
    expect(accept).to_be_enabled()
    _shot(page, "annot-05-leads")
    accept.click()
    expect(page.get_by_text(f"Task {tid} accepted.")).to_be_visible()
    expect(page.get_by_text("Nothing submitted is waiting.")).to_be_visible()
    _shot(page, "annot-06-reviewed")

    task = _task(e2e_data)
    assert (task.status, task.reviewed_by) == ("reviewed", LEAD)
    (reviewed,) = st.list_events(store.as_actor(SYSTEM), ENCOUNTER, "annotation.reviewed")
    assert reviewed.user_id == LEAD and reviewed.object_id == tid
    assert reviewed.after["accepted"] is True and reviewed.after["status"] == "reviewed"
