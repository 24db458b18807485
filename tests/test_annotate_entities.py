"""The entities task panel (``workbench/ui/annotate/entities.py``) driven with AppTest.

A tiny page opens the task named in session state and calls the panel's ``render``, as
``views/annotate.py`` does. The encounter is hand-built in a real DuckDB file with a model
entity set (the suggestions); the annotator has no ``phi`` grant, so they label the
de-identified text, and each test checks what the store then holds in the real text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.types import Entity
from tests.conftest import make_transcript, seed_encounter, sign_in
from workbench import store as st
from workbench.store import annotation_tasks as an
from workbench.store import users
from workbench.store.access import SYSTEM, Actor
from workbench.store.events import list_events
from workbench.ui.annotate.entity_widgets import context_key, label_key, seg_key, words_key

ENC = "enc-ann"
TURNS = [
    ("clinician", "Good morning Jane Okafor, is the wheezing any better?"),
    ("patient", "No, and now I have a cough and my asthma is worse."),
    ("clinician", "Take amoxicillin 500 mg twice a day for seven days."),
]


def _entity(seg: int, words: str, label: str) -> Entity:
    start = TURNS[seg][1].index(words)
    return Entity(seg, start, start + len(words), words, label)


MACHINE = (
    _entity(1, "cough", "PROBLEM"),  # m1-0
    _entity(1, "asthma", "PROBLEM"),  # m1-1
    _entity(2, "amoxicillin", "MEDICATION"),  # m1-2
)


def _panel_page() -> None:
    """The page under test: the task from session state, the panel, and (on request) the
    page's own save through ``pending_annotations``."""
    import streamlit as stl

    from workbench.store import annotation_tasks as tasks
    from workbench.ui import resources
    from workbench.ui.annotate import entities

    store = resources.session_store()
    task = tasks.get_task(store, stl.session_state["task_id"])
    if stl.session_state.pop("page_save", False):
        tasks.save_annotations(
            store, task.task_id, entities.pending_annotations(task), revision=task.revision
        )
        task = tasks.get_task(store, task.task_id)
    entities.render(store, task)
    stl.session_state["unresolved"] = entities.unresolved_suggestions(task)


@pytest.fixture
def panel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """(AppTest signed in as annotator 'ann' on a fresh entities task, store, task id)."""
    data = tmp_path / "data"
    store = seed_encounter(data, ENC, make_transcript(TURNS), entities=MACHINE)
    users.create_account(store, "lead", "annotator", "system")
    users.set_grant(store, "lead", "lead", True, "system")
    users.create_account(store, "ann", "annotator", "system")
    lead = store.as_actor(Actor("lead", "annotator", users.get_account(store, "lead").grants))
    task = an.create_task(lead, ENC, "entities", "ann")
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    return _open(data, task.task_id), store, task.task_id


def _open(data: Path, task_id: str) -> AppTest:
    at = sign_in(AppTest.from_function(_panel_page, default_timeout=60), data, "ann", "annotator")
    at.session_state["task_id"] = task_id
    return _run(at)


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, suffix: str):
    """The button whose key ends with ``suffix`` (per-span keys carry a generation)."""
    (found,) = [b for b in at.button if b.key and b.key.endswith(suffix)]
    return found


def _click(at: AppTest, suffix: str) -> AppTest:
    _button(at, suffix).click()
    return _run(at)


def _stored(store: st.Store, task_id: str):
    """The task's annotations as the store holds them (offsets into the real text)."""
    return an.task_annotations(store.as_actor(SYSTEM), task_id)


def _page_text(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown)


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _add_span(at: AppTest, task_id: str, seg: int, first: str, last: str, label: str) -> None:
    """Pick segment ``seg``, the words from ``first`` to ``last`` (as the slider shows them),
    the label, and press Add span."""
    at.selectbox(key=seg_key(task_id)).select(seg)
    _run(at)
    slider = at.select_slider(key=words_key(task_id, seg))
    words = slider.options
    slider.set_range(words.index(first), words.index(last))
    at.selectbox(key=label_key(task_id)).select(label)
    _run(at)
    at.button(key=f"annent-{task_id}-add").click()
    _run(at)


def test_a_word_range_and_label_become_a_stored_span(panel) -> None:
    at, store, tid = panel
    _add_span(at, tid, 2, "500", "mg", "DOSE")
    assert "Selected: “500 mg”" in _page_text(at)
    assert "unsaved changes" in _page_text(at)
    assert _stored(store, tid) == [], "nothing is written before a save"
    _run(at)  # an unrelated rerun keeps the unsaved work
    assert "unsaved changes" in _page_text(at) and "your label" in _page_text(at)
    _click(at, "-save")
    (span,) = _stored(store, tid)
    text = TURNS[2][1]
    assert (span.kind, span.label, span.segment_idx, span.origin) == ("span", "DOSE", 2, "human")
    assert (span.start_char, span.end_char, span.text) == (
        text.index("500"),
        text.index("500") + 6,
        "500 mg",
    )
    saved = [e for e in list_events(store, ENC) if e.kind == "annotation.saved"]
    assert [e.user_id for e in saved] == ["ann"]
    assert "saved]" in _page_text(at) and "unsaved" not in _page_text(at)


def test_context_flags_relabel_and_remove(panel) -> None:
    at, store, tid = panel
    at.multiselect(key=context_key(tid)).select("negated")
    _add_span(at, tid, 0, "wheezing", "wheezing", "PROBLEM")
    (span,) = _stored_draft(at, tid)
    assert span.value["context"] == ["negated"]
    _selectbox(at, f"relabel-{span.annotation_id}").select("VITAL")
    _run(at)
    _click(at, "-save")
    assert [(a.label, a.text, a.value["context"]) for a in _stored(store, tid)] == [
        ("VITAL", "wheezing", ["negated"])
    ]
    _click(at, f"remove-{span.annotation_id}")
    _click(at, "-save")
    assert _stored(store, tid) == []


def test_suggestions_are_marked_and_accept_or_reject_is_stored(panel) -> None:
    at, store, tid = panel
    page = _page_text(at)
    assert "3 suggestions to decide" in page
    assert "border:2px dashed" in page and "suggested" in page
    at.selectbox(key=seg_key(tid)).select(1)
    _run(at)
    # Each row of the selected segment says in words who suggested it (marks say it on hover).
    assert page.count(">suggested by nlp.test<") == 0, "segment 1 has no suggestions"
    assert _page_text(at).count(">suggested by nlp.test<") == 2
    _click(at, "accept-m1-0")  # cough
    _click(at, "reject-m1-1")  # asthma
    assert "1 suggestion to decide" in _page_text(at)
    assert "rejected suggestion of nlp.test" in _page_text(at)
    _click(at, "-save")
    stored = {a.annotation_id: a for a in _stored(store, tid)}
    assert set(stored) == {"m1-0", "m1-1"}, "the undecided amoxicillin is not saved"
    cough, asthma = stored["m1-0"], stored["m1-1"]
    assert (cough.origin, cough.model_version, cough.text) == ("confirmed", "nlp.test", "cough")
    assert (asthma.origin, asthma.value["decision"]) == ("suggestion", "rejected")
    # Reopened in a new session, the rejection holds and only amoxicillin is offered.
    again = _open(Path(store.path).parent, tid)
    assert again.session_state["unresolved"] == 1
    _click(again, "-accept-all")
    _click(again, "-save")
    origins = {a.annotation_id: a.origin for a in _stored(store, tid)}
    assert origins == {"m1-0": "confirmed", "m1-1": "suggestion", "m1-2": "confirmed"}


def test_medication_has_dose_relation_is_stored_and_goes_with_its_span(panel) -> None:
    at, store, tid = panel
    at.selectbox(key=seg_key(tid)).select(2)
    _run(at)
    _click(at, "accept-m1-2")  # amoxicillin
    _add_span(at, tid, 2, "500", "mg", "DOSE")
    dose = next(a for a in _stored_draft(at, tid) if a.label == "DOSE")
    _pick_relation(at, "m1-2", "has_dose", dose.annotation_id)
    assert "MEDICATION “amoxicillin” —has_dose→ DOSE “500 mg”" in _page_text(at)
    _click(at, "-save")
    (rel,) = [a for a in _stored(store, tid) if a.kind == "relation"]
    assert (rel.label, rel.value) == ("has_dose", {"from": "m1-2", "to": dose.annotation_id})
    # The dose cannot become a PROBLEM while the relation needs a DOSE: the label stays.
    _selectbox(at, f"relabel-{dose.annotation_id}").select("PROBLEM")
    _run(at)
    assert any("has_dose goes from a MEDICATION to a DOSE span" in e for e in _errors(at))
    kept = {a.annotation_id: a.label for a in _stored_draft(at, tid)}
    assert kept[dose.annotation_id] == "DOSE"
    assert _selectbox(at, f"relabel-{dose.annotation_id}").value == "DOSE"
    # Removing the dose span removes its relation.
    _click(at, f"remove-{dose.annotation_id}")
    _click(at, "-save")
    assert [a.annotation_id for a in _stored(store, tid)] == ["m1-2"]


def test_an_invalid_relation_shows_the_store_message_and_loses_nothing(panel) -> None:
    at, store, tid = panel
    _click(at, "-accept-all")
    _pick_relation(at, "m1-2", "has_dose", "m1-0")  # amoxicillin has_dose cough (a PROBLEM)
    assert any("has_dose goes from a MEDICATION to a DOSE span" in e for e in _errors(at)), _errors(
        at
    )
    draft = _stored_draft(at, tid)
    assert [a.annotation_id for a in draft] == ["m1-0", "m1-1", "m1-2"]
    assert "No relations yet." in [c.value for c in at.caption]
    _pick_relation(at, "m1-2", "treats", "m1-0")  # the right relation is taken
    _click(at, "-save")
    kinds = sorted((a.kind, a.label) for a in _stored(store, tid))
    assert kinds == [
        ("relation", "treats"),
        ("span", "MEDICATION"),
        ("span", "PROBLEM"),
        ("span", "PROBLEM"),
    ]


def test_deidentified_labels_point_at_the_same_words_in_the_real_text(panel) -> None:
    at, store, tid = panel
    at.selectbox(key=seg_key(tid)).select(0)
    _run(at)
    words = at.select_slider(key=words_key(tid, 0)).options
    assert "[NAME]" in words and "Okafor" not in " ".join(words), "the annotator reads no name"
    # A span over the hidden name is refused before anything is saved.
    _add_span(at, tid, 0, "[NAME]", "wheezing", "PROBLEM")
    assert any("de-identified text" in e for e in _errors(at)), _errors(at)
    assert _stored_draft(at, tid) == ()
    _add_span(at, tid, 0, "wheezing", "wheezing", "PROBLEM")
    _click(at, "-save")
    (span,) = _stored(store, tid)
    real = TURNS[0][1]
    assert (span.start_char, span.end_char) == (real.index("wheezing"), real.index("wheezing") + 8)
    assert real[span.start_char : span.end_char] == "wheezing"
    shown = _stored_draft(at, tid)[0]
    assert shown.start_char < span.start_char, "the annotator's offsets were the shorter text's"


def test_encounter_level_label_is_stored(panel) -> None:
    at, store, tid = panel
    radio = next(r for r in at.radio if r.key.endswith("question-audio_quality"))
    radio.set_value("fair")
    _run(at)
    _click(at, "-save")
    (label,) = _stored(store, tid)
    assert (label.kind, label.label, label.value) == (
        "encounter_label",
        "audio_quality",
        {"choice": "fair"},
    )


def test_the_page_save_uses_pending_annotations_and_the_panel_follows(panel) -> None:
    at, store, tid = panel
    at.selectbox(key=seg_key(tid)).select(1)
    _click(_run(at), "accept-m1-0")
    at.session_state["page_save"] = True
    _run(at)
    assert [a.annotation_id for a in _stored(store, tid)] == ["m1-0"]
    assert "saved]" in _page_text(at) and not at.warning, "no conflict after the page's save"
    assert an.get_task(store.as_actor(SYSTEM), tid).revision == 1


def test_a_save_elsewhere_is_not_overwritten_silently(panel) -> None:
    at, store, tid = panel
    _click(at, "-accept-all")
    ann = store.as_actor(Actor("ann", "annotator"))
    an.save_annotations(ann, tid, [], revision=0)  # e.g. another browser tab
    _run(at)
    assert any("saved elsewhere" in w.value for w in at.warning)
    _click(at, "-load-saved")
    assert _stored_draft(at, tid) == () and not at.warning


def test_a_submitted_task_is_read_only(panel) -> None:
    at, store, tid = panel
    ann = store.as_actor(Actor("ann", "annotator"))
    an.submit_task(ann, tid, revision=0)
    _run(at)
    keys = [b.key for b in at.button]
    assert not any(k.endswith(("-save", "-add", "-accept-all")) for k in keys)
    assert any("submitted; it is shown read-only" in c.value for c in at.caption)


def test_the_selected_segment_stays_selected_when_its_labels_change(panel) -> None:
    at, _, tid = panel
    at.selectbox(key=seg_key(tid)).select(1)
    shown = _run(at).selectbox(key=seg_key(tid)).options
    _click(at, "accept-m1-0")
    # A browser names the chosen option by its text: the texts must not change with labels.
    assert at.selectbox(key=seg_key(tid)).options == shown
    assert at.selectbox(key=seg_key(tid)).value == 1
    assert "This segment: 1 label · 1 suggested" in [c.value for c in at.caption]
    _click(at, "-next")  # Next segment
    assert at.selectbox(key=seg_key(tid)).value == 2 and not _errors(at)


def test_submit_saves_unsaved_work_then_hands_the_task_in(panel) -> None:
    at, store, tid = panel
    at.selectbox(key=seg_key(tid)).select(1)
    _click(_run(at), "accept-m1-0")  # cough, not saved yet
    _click(at, "-submit")
    task = an.get_task(store.as_actor(SYSTEM), tid)
    assert task.status == "submitted"
    assert [(a.annotation_id, a.origin) for a in _stored(store, tid)] == [("m1-0", "confirmed")]
    kinds = [e.kind for e in list_events(store, ENC) if e.kind.startswith("annotation.")]
    assert kinds == ["annotation.saved", "annotation.submitted"]
    assert any("undecided suggestions left out: 2" in s.value for s in at.success)
    assert any("submitted; it is shown read-only" in c.value for c in at.caption)
    assert not any(b.key.endswith("-submit") for b in at.button)


def test_submit_of_a_task_saved_elsewhere_is_refused_and_keeps_the_work(panel) -> None:
    at, store, tid = panel
    _click(at, "-accept-all")
    an.save_annotations(store.as_actor(Actor("ann", "annotator")), tid, [], revision=0)
    _click(at, "-submit")
    assert an.get_task(store.as_actor(SYSTEM), tid).status == "draft"
    assert any(e.startswith("Not submitted:") and "saved elsewhere" in e for e in _errors(at))
    assert len(_stored_draft(at, tid)) == 3, "the unsaved labels stay in the panel"


# -- helpers -------------------------------------------------------------------------------


def _stored_draft(at: AppTest, tid: str):
    return at.session_state[f"annent-draft-{tid}"].annotations


def _selectbox(at: AppTest, suffix: str):
    """The select whose key ends with ``suffix``."""
    (found,) = [s for s in at.selectbox if s.key and s.key.endswith(suffix)]
    return found


def _pick_relation(at: AppTest, source: str, name: str, target: str) -> None:
    def pick(suffix: str, value: str) -> None:
        _selectbox(at, suffix).select(value)
        _run(at)

    pick("rel-from", source)
    pick("rel-name", name)
    pick("rel-to", target)
    _click(at, "rel-add")
