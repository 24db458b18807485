"""The annotation pages through the app (AppTest) on a real DuckDB file: an annotator's
queue, a lead's assignment and review page, and the sections, transcript and quality panels
with their saves, refusals, submissions and a save that lost a race."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import APP, make_draft, make_transcript, seed_encounter, sign_in
from workbench import store as st
from workbench.store import annotation_tasks as an
from workbench.store import users
from workbench.store.access import Actor
from workbench.store.audit import search_audit
from workbench.store.records import AnnotationTask
from workbench.ui.annotate.form import widget_key

LEAD = Actor("lead", "annotator", frozenset({"lead"}))
ANN, ANN2 = Actor("ann", "annotator"), Actor("ann2", "annotator")
TURNS = [
    ("clinician", "Good morning Mrs Jane Okafor, what brings you in?"),
    ("patient", "I have had a cough for three days."),
    ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
    ("patient", "Thank you, see you next week."),
]


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two encounters of dr-test with transcripts and drafts; a lead and two annotators."""
    data = tmp_path / "data"
    transcript = make_transcript(TURNS)
    for encounter_id in ("enc-1", "enc-2"):
        store = seed_encounter(data, encounter_id, transcript, draft=make_draft(transcript))
    with store.connect() as con:  # a patient name for de-identification to hide
        con.execute("UPDATE encounters SET patient_label = 'Jane Okafor'")
    for user in ("lead", "ann", "ann2"):
        users.create_account(store, user, "annotator", "system")
    users.set_grant(store, "lead", "lead", True, "system")
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    return data


def app(data: Path, user: str, role: str = "annotator") -> AppTest:
    return sign_in(AppTest.from_file(str(APP), default_timeout=60), data, user, role).run()


def open_task(at: AppTest, task_id: str) -> AppTest:
    at.query_params["task"] = task_id
    at.switch_page("views/annotate.py").run()
    assert not at.exception, at.exception
    return at


def task(data: Path, kind: str, assignee: str = "ann", encounter: str = "enc-1") -> AnnotationTask:
    return an.create_task(st.open_store(data).as_actor(LEAD), encounter, kind, assignee)


def links(at: AppTest) -> list[str]:
    """The task ids the page links to (the annotate page's ?task=)."""
    return [
        p.proto.query_string.removeprefix("task=")
        for p in at.page_link
        if p.proto.page == "annotate"
    ]


def texts(at: AppTest, kind: str) -> list[str]:
    """The values of the page's elements of one kind (the sidebar's notices left out)."""
    return [e.value for e in getattr(at.main, kind)]


def test_the_queue_shows_only_my_tasks_grouped_by_status(data: Path) -> None:
    store = st.open_store(data)
    ann, lead = store.as_actor(ANN), store.as_actor(LEAD)
    todo = task(data, "sections")
    submitted = task(data, "transcript")
    an.submit_task(ann, submitted.task_id, revision=0)
    returned = task(data, "sections", encounter="enc-2")
    an.submit_task(ann, returned.task_id, revision=0)
    an.review_task(lead, returned.task_id, accept=False, comment="label the greeting as other")
    theirs = task(data, "quality", assignee="ann2")

    at = app(data, "ann")
    assert not at.exception, at.exception
    assert texts(at, "title") == ["My annotation queue"]  # annotators land on their queue
    metrics = {m.label: int(m.value) for m in at.metric}
    assert metrics == {"Returned to you": 1, "To do": 1, "Submitted": 1, "Reviewed": 0}
    # Returned first (with the lead's comment), then to do, then submitted; never ann2's.
    assert links(at) == [returned.task_id, todo.task_id, submitted.task_id]
    assert theirs.task_id not in links(at)
    assert [s.value.split(" (")[0] for s in at.subheader] == [
        "Returned to you",
        "To do",
        "Submitted",
    ]
    assert "lead: label the greeting as other" in texts(at, "warning")
    assert "Note sections" in " ".join(texts(at, "markdown"))
    # The title as an annotator without phi may read it; one click opens the next task.
    assert all("Okafor" not in p.value for p in at.page_link)
    at.button(key="queue_next").click().run()
    assert not at.exception, at.exception
    assert texts(at, "title") == ["Note sections: Visit enc-2"]
    assert "Returned by lead: label the greeting as other" in texts(at, "warning")


def test_a_lead_assigns_one_encounter_to_two_annotators(data: Path) -> None:
    at = app(data, "lead")
    at.switch_page("views/annotation_leads.py").run()
    assert not at.exception, at.exception
    at.multiselect(key="lead_encounters").select("enc-1").run()
    at.selectbox(key="lead_kind").select("transcript").run()
    at.multiselect(key="lead_annotators").select("ann").select("ann2").run()
    at.button(key="lead_create").click().run()
    assert not at.exception, at.exception
    assert texts(at, "success") == ["Created 2 Transcript check tasks."]
    made = an.list_tasks(st.open_store(data))
    assert sorted((t.assignee, t.kind, t.encounter_id) for t in made) == [
        ("ann", "transcript", "enc-1"),
        ("ann2", "transcript", "enc-1"),
    ]
    counts = at.dataframe[0].value
    assert list(counts["annotator"]) == ["ann", "ann2"] and list(counts["draft"]) == [1, 1]
    # Again: nothing new, and it says so.
    at.multiselect(key="lead_encounters").select("enc-1").run()
    at.button(key="lead_create").click().run()
    assert texts(at, "success") == ["Created 0 Transcript check tasks; 2 were open already."]
    for user in ("ann", "ann2"):
        queue = app(data, user)
        mine = [t.task_id for t in made if t.assignee == user]
        assert links(queue) == mine
    # The table of all tasks filters by annotator.
    at.selectbox(key="lead_f_annotator").select("ann2").run()
    table = at.dataframe[1].value
    assert list(table["annotator"]) == ["ann2"] and list(table["status"]) == ["draft"]


def test_an_annotator_cannot_open_the_leads_page_nor_another_annotators_task(
    data: Path,
) -> None:
    theirs = task(data, "quality", assignee="ann2")
    at = app(data, "ann")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/annotation_leads.py")  # not in an annotator's navigation
    page = sign_in(
        AppTest.from_file(str(APP.parent / "views" / "annotation_leads.py"), default_timeout=60),
        data,
        "ann",
        "annotator",
    ).run()
    assert not page.exception, page.exception
    assert "Only annotation leads open this page" in page.error[0].value
    assert not page.button and not page.dataframe

    open_task(at, theirs.task_id)
    (error,) = texts(at, "error")
    assert f"Task {theirs.task_id} is not in your queue" in error
    assert not at.radio and not [b for b in at.button if b.key == "annot_save"]
    admin = st.open_store(data).as_actor(Actor("adm", "admin"))
    denied, _ = search_audit(admin, user="ann", limit=10)
    assert {r.outcome for r in denied} == {"denied"}


def test_sections_panel_labels_in_bulk_saves_and_submits(data: Path) -> None:
    sections = task(data, "sections")
    at = open_task(app(data, "ann"), sections.task_id)
    # De-identified for an annotator without phi; the speaker is shown beside the text.
    shown = " ".join(texts(at, "markdown"))
    assert "[NAME]" in shown and "Okafor" not in shown and "Patient" in shown

    def pick(idx: int):
        return at.selectbox(key=widget_key(sections.task_id, f"s{idx}"))

    pick(0).select("chief_complaint").run()
    at.button(key="sections_fill").click().run()  # "same as previous" for every empty one
    assert [pick(i).value for i in range(4)] == ["chief_complaint"] * 4
    at.number_input(key="sections_from").set_value(3).run()
    at.number_input(key="sections_to").set_value(4).run()
    at.selectbox(key="sections_range_label").select("assessment_and_plan").run()
    at.button(key="sections_apply").click().run()
    at.button(key="annot_save").click().run()
    assert not at.exception, at.exception
    assert texts(at, "success") == ["Draft saved (revision 1)."]
    saved = an.task_annotations(st.open_store(data), sections.task_id)
    assert [(a.annotation_id, a.label) for a in saved] == [
        ("sec-0", "chief_complaint"),
        ("sec-1", "chief_complaint"),
        ("sec-2", "assessment_and_plan"),
        ("sec-3", "assessment_and_plan"),
    ]

    at.button(key="annot_submit").click().run()
    assert texts(at, "success") == ["Submitted for review."]
    assert an.get_task(st.open_store(data), sections.task_id).status == "submitted"
    assert pick(0).disabled and not [b for b in at.button if b.key == "annot_save"]
    assert "Submitted: waiting for review" in texts(at, "info")[0]


def test_transcript_panel_needs_the_corrected_words(data: Path) -> None:
    check = task(data, "transcript")
    at = open_task(app(data, "ann"), check.task_id)
    at.selectbox(key=widget_key(check.task_id, "c1")).select("words_wrong").run()
    corrected = at.text_input(key=widget_key(check.task_id, "t1"))
    assert corrected.value == TURNS[1][1]  # starts from the words as heard
    corrected.input("  ").run()
    at.button(key="annot_save").click().run()
    (error,) = texts(at, "error")
    assert "words_wrong needs the corrected text" in error
    assert an.get_task(st.open_store(data), check.task_id).revision == 0  # nothing written

    at.text_input(key=widget_key(check.task_id, "t1")).input("I have had a cough for two days.")
    at.button(key="transcript_rest_correct").click().run()
    at.button(key="annot_submit").click().run()  # saves the draft, then submits it
    assert not at.exception, at.exception
    assert texts(at, "success") == ["Submitted for review."]
    stored = an.task_annotations(st.open_store(data), check.task_id)
    assert [(a.segment_idx, a.label, a.value) for a in stored] == [
        (0, "correct", {}),
        (1, "words_wrong", {"text": "I have had a cough for two days."}),
        (2, "correct", {}),
        (3, "correct", {}),
    ]
    # No phi grant: the recording (identified data) is not played.
    assert any("granted `phi`" in c.value for c in at.caption)


def test_quality_panel_refuses_to_submit_with_an_item_missing(data: Path) -> None:
    rating = task(data, "quality")
    at = open_task(app(data, "ann"), rating.task_id)
    assert len(at.radio) == 9
    assert at.radio[0].options == ["1 · not at all", "2", "3", "4", "5 · extremely"]
    assert any("cough for three days" in t.value for t in at.text)  # the draft beside it
    for item in at.radio[:8]:
        item.set_value(4)
    at.run()
    at.button(key="annot_submit").click().run()
    (error,) = texts(at, "error")
    assert "Rate every item before submitting; missing: internally_consistent" in error
    assert an.get_task(st.open_store(data), rating.task_id).status == "draft"
    assert at.radio[0].value == 4  # the ratings stay, and were saved as a draft
    assert len(an.task_annotations(st.open_store(data), rating.task_id)) == 8

    at.radio[8].set_value(2).run()
    at.button(key="annot_submit").click().run()
    assert texts(at, "success") == ["Submitted for review."]
    stored = {
        a.label: a.value["score"] for a in an.task_annotations(st.open_store(data), rating.task_id)
    }
    assert len(stored) == 9 and stored["internally_consistent"] == 2 and stored["accurate"] == 4


def test_the_lead_returns_with_a_comment_the_annotator_sees_then_accepts(data: Path) -> None:
    sections = task(data, "sections")
    ann = st.open_store(data).as_actor(ANN)
    an.save_annotations(ann, sections.task_id, [st_label(0, "chief_complaint")], revision=0)
    an.submit_task(ann, sections.task_id, revision=1)

    lead = app(data, "lead")
    lead.switch_page("views/annotation_leads.py").run()
    assert links(lead)[0] == sections.task_id
    lead.button(key=f"review-return-{sections.task_id}").click().run()
    assert "Say why the task goes back" in texts(lead, "error")[0]
    lead.text_input(key=f"review-comment-{sections.task_id}").input("segment 2 is history")
    lead.button(key=f"review-return-{sections.task_id}").click().run()
    assert texts(lead, "success") == [f"Task {sections.task_id} returned to ann."]

    at = app(data, "ann")
    assert "lead: segment 2 is history" in texts(at, "warning")
    open_task(at, sections.task_id)
    assert "Returned by lead: segment 2 is history" in texts(at, "warning")
    at.selectbox(key=widget_key(sections.task_id, "s1")).select("history_of_present_illness")
    at.button(key="annot_submit").click().run()
    assert texts(at, "success") == ["Submitted for review."]

    open_task(lead, sections.task_id)  # the lead reviews on the task itself
    assert lead.selectbox(key=widget_key(sections.task_id, "s1")).value == (
        "history_of_present_illness"
    )
    lead.button(key=f"review-accept-{sections.task_id}").click().run()
    assert texts(lead, "success") == [f"Task {sections.task_id} accepted."]
    assert an.get_task(st.open_store(data), sections.task_id).status == "reviewed"
    queue = {m.label: m.value for m in app(data, "ann").metric}
    assert queue["Reviewed"] == "1" and queue["Submitted"] == "0"


def st_label(idx: int, section: str):
    from pipelines.types import Annotation

    return Annotation(f"sec-{idx}", "section_label", section, segment_idx=idx)


def test_a_save_that_lost_a_race_keeps_what_was_typed(data: Path) -> None:
    sections = task(data, "sections")
    at = open_task(app(data, "ann"), sections.task_id)
    at.selectbox(key=widget_key(sections.task_id, "s0")).select("results").run()
    at.selectbox(key=widget_key(sections.task_id, "s3")).select("other").run()
    # Meanwhile the same task is saved from another tab.
    ann = st.open_store(data).as_actor(ANN)
    an.save_annotations(ann, sections.task_id, [st_label(0, "chief_complaint")], revision=0)

    at.button(key="annot_save").click().run()
    assert not at.exception, at.exception
    (error,) = texts(at, "error")
    assert "was saved elsewhere" in error and "Your changes are kept on this page" in error
    assert at.selectbox(key=widget_key(sections.task_id, "s0")).value == "results"
    assert at.selectbox(key=widget_key(sections.task_id, "s3")).value == "other"
    at.run()  # still kept on the next rerun
    assert at.selectbox(key=widget_key(sections.task_id, "s0")).value == "results"
    stored = an.task_annotations(st.open_store(data), sections.task_id)
    assert [(a.segment_idx, a.label) for a in stored] == [(0, "chief_complaint")]

    at.button(key="annot_overwrite").click().run()
    assert texts(at, "success") == ["Draft saved (revision 2)."]
    stored = an.task_annotations(st.open_store(data), sections.task_id)
    assert [(a.segment_idx, a.label) for a in stored] == [(0, "results"), (3, "other")]


def test_a_conflict_can_be_resolved_by_loading_the_saved_version(data: Path) -> None:
    sections = task(data, "sections")
    at = open_task(app(data, "ann"), sections.task_id)
    at.selectbox(key=widget_key(sections.task_id, "s0")).select("results").run()
    ann = st.open_store(data).as_actor(ANN)
    an.save_annotations(ann, sections.task_id, [st_label(2, "physical_exam")], revision=0)
    at.run()
    assert "saved elsewhere (revision 1)" in texts(at, "warning")[0]
    at.button(key="annot_reload").click().run()
    values = [at.selectbox(key=widget_key(sections.task_id, f"s{i}")).value for i in range(4)]
    assert values == [None, None, "physical_exam", None]
    assert not texts(at, "warning")


def test_navigation_follows_the_role(data: Path) -> None:
    clinician = app(data, "dr-test", "clinician")
    assert texts(clinician, "title") == ["Worklist"]
    for page in ("views/annotation_queue.py", "views/annotation_leads.py", "views/annotate.py"):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            clinician.switch_page(page)
    lead = app(data, "lead")
    assert texts(lead, "title") == ["My annotation queue"]
    lead.switch_page("views/annotation_leads.py").run()
    assert texts(lead, "title") == ["Annotation tasks"] and not lead.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        lead.switch_page("views/capture.py")  # annotators record no encounters
    admin = app(data, "adm", "admin")
    assert texts(admin, "title") == ["Worklist"]
    mine = task(data, "quality", assignee="adm")
    open_task(admin, mine.task_id)
    assert texts(admin, "title") == ["Note quality (PDQI-9): Visit enc-1"]
    assert len(admin.radio) == 9 and not admin.radio[0].disabled


def test_a_task_link_survives_signing_in(data: Path) -> None:
    from workbench.ui import login

    mine = task(data, "sections")
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["task"] = mine.task_id
    at.run()
    at.switch_page("views/annotate.py").run()  # a link opened before signing in
    assert texts(at, "title") == ["Scribe Workbench"]  # the sign-in page
    assert login.ACTOR_KEY not in at.session_state
    sign_in(at, data, "ann", "annotator").run()
    assert texts(at, "title") == ["Note sections: Visit enc-1"]


def test_the_demo_gives_annotators_tasks_and_a_lead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections import Counter

    from workbench import auth
    from workbench.demo import DEMO_TASKS, demo_encounters, ensure_demo_accounts, ensure_demo_tasks

    data = tmp_path / "demo"
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    store = st.open_store(data)
    transcript = make_transcript(TURNS)
    for item in demo_encounters():
        seed_encounter(data, item.meta.encounter_id, transcript, draft=make_draft(transcript))
    ensure_demo_accounts(store, "system")
    assert ensure_demo_tasks(store) == len(DEMO_TASKS)
    assert ensure_demo_tasks(store) == 0  # a rerun adds nothing
    made = an.list_tasks(store)
    assert {t.kind for t in made if t.assignee == "annotator"} >= {
        "entities",
        "sections",
        "quality",
    }
    assert {t.created_by for t in made} == {"lead"}
    pairs = Counter((t.encounter_id, t.kind) for t in made)
    shared = [pair for pair, n in pairs.items() if n == 2]
    assert ("entities" in {kind for _, kind in shared}) and shared
    assert "lead" in auth.authenticate(store, "lead", "demo").grants

    at = app(data, "lead")
    at.switch_page("views/annotation_leads.py").run()
    counts = at.dataframe[0].value
    assert dict(zip(counts["annotator"], counts["total"], strict=True)) == {
        "annotator": sum(t[3] == "annotator" for t in DEMO_TASKS),
        "annotator2": sum(t[3] == "annotator2" for t in DEMO_TASKS),
    }
