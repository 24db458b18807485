"""Adjudication: versions compared item by item, the gold taken from one version or merged
per disagreement, its history, and the leads-only Adjudication and Agreement pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.adjudication import compare_versions, merge
from pipelines.types import Annotation
from workbench import store as st
from workbench.store import adjudication as adj
from workbench.store import annotation_tasks as an
from workbench.store import users
from workbench.store.access import Actor, Forbidden
from workbench.store.events import list_events

from .conftest import APP, make_transcript, sign_in
from .test_agreement import LEAD, answer, encounter, labelled, span

VIEWS = Path(APP).parent / "views"


@pytest.fixture
def versions(store: st.Store) -> dict[str, str]:
    """Encounter e1 labelled by ann and bob (and a draft by cat); returns annotator -> task.

    Both: "metformin" MEDICATION. ann: "500 mg" DOSE, has_dose, "diabetes" PROBLEM, audio
    "good"; bob: "500" DOSE, has_dose, audio "fair", and an unconfirmed suggestion."""
    st.ensure_user(store, "dr-a", "dr-a", "clinician")
    users.create_account(store, "lead", "annotator", "system", grants=("lead",))
    for user in ("ann", "bob", "cat"):
        st.ensure_user(store, user, user, "annotator")
    enc = encounter(store, "e1")
    ann = labelled(store, enc, "entities", "ann", [
        span("a1", 1, "metformin", "MEDICATION"), span("a2", 1, "500 mg", "DOSE"),
        Annotation("r", "relation", "has_dose", value={"from": "a1", "to": "a2"}),
        span("a3", 1, "diabetes", "PROBLEM"), answer("q", "audio_quality", "good"),
    ])  # fmt: skip
    bob = labelled(store, enc, "entities", "bob", [
        span("b1", 1, "metformin", "MEDICATION"), span("b2", 1, "500", "DOSE"),
        Annotation("r", "relation", "has_dose", value={"from": "b1", "to": "b2"}),
        answer("q", "audio_quality", "fair"),
        span("b3", 0, "cough", "PROBLEM", origin="suggestion"),
    ])  # fmt: skip
    labelled(store, enc, "entities", "cat", [span("c", 1, "mg", "DOSE")], submit=False)
    return {"ann": ann.task_id, "bob": bob.task_id}


def test_versions_compare_item_by_item(store: st.Store, versions: dict[str, str]) -> None:
    lead = store.as_actor(LEAD)
    (found,) = adj.contested(lead)  # cat's draft is not a version
    assert (found.encounter_id, found.annotators, found.gold_seq) == ("e1", ("ann", "bob"), None)
    view = adj.compare(lead, "e1", "entities")
    assert [t.assignee for t in view.tasks] == ["ann", "bob"]
    assert [(a.text, a.label) for a in view.comparison.agreed] == [("metformin", "MEDICATION")]
    disputes = {d.key: d for d in view.comparison.disagreements}
    assert list(disputes) == ["span:1:17-23", "span:1:40-48", "encounter_label:audio_quality"]
    dose = disputes["span:1:17-23"]
    assert [(v.versions, [a.text for a in v.annotations]) for v in dose.variants] == [
        ((versions["ann"],), ["500 mg"]),
        ((versions["bob"],), ["500"]),
    ]
    assert disputes["span:1:40-48"].variants[1].annotations == ()  # bob: nothing there
    # bob's unconfirmed suggestion ("cough") is neither agreed nor disputed.
    texts = [a.text for d in disputes.values() for v in d.variants for a in v.annotations]
    assert "cough" not in texts
    with pytest.raises(Forbidden):
        adj.compare(store.as_actor(Actor("ann", "annotator")), "e1", "entities")
    with pytest.raises(st.InvalidEdit, match="needs two or more"):
        adj.compare(lead, "e1", "sections")


def test_merge_takes_picks_and_relations_follow_their_spans(
    store: st.Store, versions: dict[str, str]
) -> None:
    lead = store.as_actor(LEAD)
    with pytest.raises(st.InvalidEdit, match="missing: span:1:40-48"):
        adj.merge_gold(lead, "e1", "entities", {"span:1:17-23": 1})
    assert an.gold(lead, "e1") is None  # nothing recorded
    picks = {"span:1:17-23": 1, "span:1:40-48": 0, "encounter_label:audio_quality": 0}
    gold = adj.merge_gold(lead, "e1", "entities", picks, reason="dose is the number")
    got = [(a.annotation_id, a.kind, a.label, a.text, a.value) for a in gold.annotations]
    assert got == [
        ("g1", "span", "MEDICATION", "metformin", {}),
        ("g2", "span", "DOSE", "500", {}),
        ("g3", "span", "PROBLEM", "diabetes", {}),
        ("g4", "encounter_label", "audio_quality", None, {"choice": "good"}),
        # bob's has_dose joins two spans of the gold; ann's ("500 mg") does not.
        ("g5", "relation", "has_dose", None, {"from": "g1", "to": "g2"}),
    ]
    assert (gold.method, gold.chosen_by, gold.reason) == ("merged", "lead", "dose is the number")
    taken = an.set_gold(lead, "e1", "entities", [], method="task", chosen_task=versions["ann"])
    history = adj.gold_history(lead, "e1", "entities")
    assert [(g.seq, g.method, g.chosen_task) for g in history] == [
        (2, "task", versions["ann"]),
        (1, "merged", None),
    ]
    assert history[0].annotations == taken.annotations
    assert adj.contested(lead)[0].gold_method == "task"
    events = [e for e in list_events(store, "e1") if e.kind == "annotation.adjudicated"]
    assert [e.after["method"] for e in events] == ["merged", "task"]


def test_pure_merge_of_three_versions_groups_identical_variants() -> None:
    a = Annotation("x", "span", "DOSE", 0, 4, 7, "500")
    b = Annotation("y", "span", "DOSE", 0, 4, 10, "500 mg")
    comparison = compare_versions({"t1": [a], "t2": [a], "t3": [b]})
    (dispute,) = comparison.disagreements
    assert [v.versions for v in dispute.variants] == [("t1", "t2"), ("t3",)]
    assert [x.text for x in merge(comparison, {dispute.key: 1})] == ["500 mg"]
    with pytest.raises(ValueError, match="missing"):
        merge(comparison, {dispute.key: 2})


# -- pages ---------------------------------------------------------------------------------


def _page(monkeypatch, store: st.Store, user: str, page: str) -> AppTest:
    monkeypatch.setenv("SCRIBE_HOME", str(store.path.parent))
    at = AppTest.from_file(str(VIEWS / page), default_timeout=90)
    return sign_in(at, store.path.parent, user, "annotator").run()


def test_lead_takes_one_version_as_gold(monkeypatch, store, versions) -> None:
    at = _page(monkeypatch, store, "lead", "adjudicate.py")
    assert not at.exception, at.exception
    table = at.dataframe[0].value  # the versions side by side
    assert set(table.columns) >= {"where", "status", "ann", "bob"}
    assert list(table["status"]).count("differs ≠") == 3
    at.radio(key="adj_take").set_value(versions["bob"])
    at.text_input(key="adj_take_reason").input("bob is complete")
    at.button(key="adj_take_go").click().run()
    assert not at.exception, at.exception
    assert "bob's version" in at.success[0].value
    gold = an.gold(store.as_actor(LEAD), "e1")
    assert (gold.method, gold.chosen_task, gold.chosen_by, gold.reason) == (
        "task", versions["bob"], "lead", "bob is complete")  # fmt: skip
    history = at.dataframe[-1].value  # the gold's history comes last
    assert list(history["chosen by"]) == ["lead"] and list(history["version of"]) == ["bob"]


def test_lead_merges_per_disagreement(monkeypatch, store, versions) -> None:
    at = _page(monkeypatch, store, "lead", "adjudicate.py")
    at.radio(key="adj_pick_span:1:17-23").set_value(1)  # bob's "500"
    at.button(key="adj_merge_go").click().run()
    assert "Pick a version for every disagreement" in at.error[0].value
    assert an.gold(store.as_actor(LEAD), "e1") is None
    at.radio(key="adj_pick_span:1:40-48").set_value(1)  # bob: no PROBLEM there
    at.radio(key="adj_pick_encounter_label:audio_quality").set_value(1)  # "fair"
    at.button(key="adj_merge_go").click().run()
    assert not at.exception, at.exception
    gold = an.gold(store.as_actor(LEAD), "e1")
    assert (gold.method, gold.chosen_by) == ("merged", "lead")
    assert [(a.label, a.text or a.value) for a in gold.annotations] == [
        ("MEDICATION", "metformin"),
        ("DOSE", "500"),
        ("audio_quality", {"choice": "fair"}),
        ("has_dose", {"from": "g1", "to": "g2"}),
    ]
    assert list(at.dataframe[-1].value["method"]) == ["merged"]


def test_non_leads_cannot_open_adjudication_or_agreement(monkeypatch, store, versions) -> None:
    for page in ("adjudicate.py", "agreement.py"):
        at = _page(monkeypatch, store, "ann", page)
        assert not at.exception, at.exception
        assert "annotation.review" in at.error[0].value
        assert not at.dataframe and not at.radio


def test_agreement_page_shows_the_tables_for_a_lead(monkeypatch, store, versions) -> None:
    at = _page(monkeypatch, store, "lead", "agreement.py")
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["1", "1", "2"]
    spans = at.dataframe[0].value
    # all labels: tp 1 (metformin) of 3 (ann) and 2 (bob) spans -> F1 2/5
    assert (spans["label"].iloc[0], spans["F1 (exact)"].iloc[0]) == ("all labels", 0.4)
    assert "mean over annotator pairs" in " ".join(c.value for c in at.caption)
    at.selectbox(key="agree_kind").set_value("quality").run()
    assert "No encounter has two or more" in at.info[0].value


def test_merge_writes_stored_offsets_while_a_lead_sees_deidentified_text(
    store: st.Store,
) -> None:
    """Annotators with the phi grant label the real text; a lead without it compares the
    versions in the de-identified text, and the merged gold keeps the stored offsets."""
    st.ensure_user(store, "dr-a", "dr-a", "clinician")
    users.create_account(store, "lead", "annotator", "system", grants=("lead",))
    for user in ("ann", "bob"):
        users.create_account(store, user, "annotator", "system", grants=("phi",))
    record = st.EncounterRecord("e9", "Visit", patient_label="Jane Okafor", clinician_id="dr-a")
    st.add_encounter(store, record, "dr-a")
    text = "Mrs Jane Okafor takes metformin daily."
    st.save_transcript(store, "e9", make_transcript([("patient", text)]), "dr-a")
    lead = store.as_actor(LEAD)
    start = text.index("metformin")
    for who, label in (("ann", "MEDICATION"), ("bob", "PROBLEM")):
        task = an.create_task(lead, "e9", "entities", who)
        me = store.as_actor(Actor(who, "annotator", frozenset({"phi"})))
        saved = an.save_annotations(
            me, task.task_id, [Annotation("m", "span", label, 0, start, start + 9)], revision=0
        )
        an.submit_task(me, task.task_id, revision=saved.revision)
    (dispute,) = adj.compare(lead, "e9", "entities").comparison.disagreements
    shown = dispute.variants[0].annotations[0]
    assert (shown.start_char, shown.text) == (len("Mrs [NAME] takes "), "metformin")
    gold = adj.merge_gold(lead, "e9", "entities", {dispute.key: 0})
    (kept,) = gold.annotations
    assert (kept.label, kept.start_char, kept.end_char) == ("MEDICATION", start, start + 9)
    (current,) = adj.gold_history(lead, "e9", "entities")
    assert current.annotations[0].start_char == len("Mrs [NAME] takes ")  # shown de-identified
