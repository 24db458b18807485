"""Blind pairwise comparison on a real DuckDB file, the real clinical NLP and the real
drafters: draft variants, pairwise tasks in a seeded random order, the judgement panel
(AppTest), win rates with Wilson intervals, the comparison page and `scribe pairwise`."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from pipelines.drafting import draft_visit
from pipelines.types import Annotation
from workbench import pairwise as pw
from workbench import store as st
from workbench.cli import app
from workbench.store import annotation_tasks as an
from workbench.store import users
from workbench.store.access import Actor, Forbidden
from workbench.store.draft_variants import SIGNED_VERSION, list_variants
from workbench.store.events import list_events
from workbench.store.pairwise_stats import comparison_csv, win_rates

from .conftest import REPO, make_transcript, seed_encounter, sign_in

LEAD = Actor("lead", "annotator", frozenset({"lead"}))
ANN = Actor("ann", "annotator")
ANALYST = Actor("ana", "analyst")
PAGE = REPO / "workbench" / "ui" / "views" / "draft_comparison.py"
TURNS = [
    ("clinician", "Good morning Mrs Jane Okafor, what brings you in today?"),
    ("patient", "I have had a cough for three days. I take metformin 500 mg twice a day."),
    ("clinician", "Any fever?"),
    ("patient", "No fever."),
    ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
]
TRANSCRIPT = make_transcript(TURNS)
# Hand-checked Wilson 95% interval of a rate of 0.5 over n = 3 (z = 1.959964):
# z²/n = 1.280486; centre (0.5 + 0.640243) / 2.280486 = 0.5;
# half-width 1.959964 * sqrt(0.25/3 + 3.841459/36) / 2.280486 = 0.374665.
HALF_OF_THREE = (0.1253, 0.8747)


@pytest.fixture(scope="module")
def entities():
    from pipelines.nlp import extract_entities, load_nlp

    return extract_entities(load_nlp(), TRANSCRIPT)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, entities) -> Path:
    """Three encounters, each with the real entities and the learned drafter's draft as its
    stored note; a lead, an annotator and an analyst. Built once; each test gets a copy."""
    data = tmp_path_factory.mktemp("pairwise") / "data"
    draft = draft_visit(TRANSCRIPT, entities)
    for eid in ("e1", "e2", "e3"):
        store = seed_encounter(data, eid, TRANSCRIPT, entities=entities, draft=draft)
    with store.connect() as con:  # the patient's name, as the de-identifier knows it
        con.execute("UPDATE encounters SET patient_label = 'Jane Okafor'")
    for user, role in (("lead", "annotator"), ("ann", "annotator"), ("ana", "analyst")):
        users.create_account(store, user, role, "system")
    users.set_grant(store, "lead", "lead", True, "system")
    return data


@pytest.fixture
def data(seeded: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(seeded, tmp_path / "data"))


def sign_with_name(store: st.Store, encounter_id: str) -> None:
    """The clinician edits the first sentence to name the patient, then signs."""
    note = st.get_note(store, encounter_id)
    named = replace(note.draft.sentences[0], text="Jane Okafor reports a cough.")
    st.save_note(store, encounter_id, 1, (named, *note.draft.sentences[1:]), "dr-test")
    ids = [s.sentence_id for s in note.draft.sentences]
    st.accept_sentences(store, encounter_id, 2, ids, "dr-test")
    st.sign_note(store, encounter_id, 2, "dr-test")


def judge(store: st.Store, task: an.AnnotationTask, choice: str, reason: str = "more accurate"):
    return pw.save_preference(store.as_actor(ANN), task, choice, reason, "", submit=True)


def choice_for(task: an.AnnotationTask, winner: str) -> str:
    """The side to click so that the lead's version ``winner`` ("a", "b") wins."""
    return "left" if task.payload["order"][0] == winner else "right"


def test_variants_of_two_drafters_on_a_seeded_encounter(data: Path) -> None:
    store = st.open_store(data)
    lead = store.as_actor(LEAD)
    rules = pw.ensure_variant(lead, "e1", "rules")
    learned = pw.ensure_variant(lead, "e1", "learned")
    note = pw.ensure_variant(lead, "e1", "note")
    assert (rules.drafter, rules.source) == ("rules", "redraft")
    assert rules.model_version.startswith("draft.soap-rules.")
    assert learned.model_version.startswith("draft.learned.")
    assert (note.source, note.note_version) == ("note", 1)
    assert note.model_version == st.get_note(store, "e1", 1).draft.model_version
    for variant in (rules, learned):
        assert variant.transcript_version == 1 and variant.draft.sentences
        for sentence in variant.draft.sentences:  # every sentence quotes the transcript
            for ev in sentence.evidence:
                assert ev.end_char <= len(TRANSCRIPT.segments[ev.segment_idx].text)
    # Stored once: asking again returns the same row and writes no second event.
    assert pw.ensure_variant(lead, "e1", "rules").variant_id == rules.variant_id
    created = [e for e in list_events(store, "e1") if e.kind == "draft_variant.created"]
    assert sorted(e.object_id for e in created) == sorted(
        v.variant_id for v in (rules, learned, note)
    )
    assert {v.variant_id for v in list_variants(lead, "e1")} == {
        rules.variant_id,
        learned.variant_id,
        note.variant_id,
    }
    # A stored version can be named exactly.
    assert pw.ensure_variant(lead, "e1", rules.model_version).variant_id == rules.variant_id
    # Variants are a lead's to make.
    with pytest.raises(Forbidden):
        pw.ensure_variant(store.as_actor(ANN), "e1", "rules")
    with pytest.raises(st.InvalidEdit, match="no signed note"):
        pw.ensure_variant(lead, "e1", "signed")
    with pytest.raises(st.InvalidEdit, match="llm drafter is not configured"):
        pw.ensure_variant(lead, "e1", "llm")


def test_order_is_random_across_seeds_and_the_judgement_maps_back(data: Path) -> None:
    store = st.open_store(data)
    orders = {pw.shows_b_first(seed, "e1") for seed in range(20)}
    assert orders == {True, False}
    # A seed where the lead's first version (A, rules) is shown second, on the right.
    seed = next(s for s in range(100) if pw.shows_b_first(s, "e1"))
    (task,) = pw.create_pairwise_tasks(
        store.as_actor(LEAD), ["e1"], "rules", "learned", "ann", seed
    )
    assert task.payload["order"] == ["b", "a"] and task.payload["seed"] == seed
    variants = {v.variant_id: v for v in list_variants(store.as_actor(LEAD), "e1")}
    left, right = (variants[v] for v in task.payload["variants"])
    assert (left.drafter, right.drafter) == ("learned", "rules")
    # The same request again returns the same task.
    again = pw.create_pairwise_tasks(store.as_actor(LEAD), ["e1"], "rules", "learned", "ann", seed)
    assert [t.task_id for t in again] == [task.task_id]

    judge(store, task, "left")  # the reviewer prefers Draft 1: the learned draft
    rates = {r.version: r for r in win_rates(store.as_actor(LEAD)).versions}
    assert (rates[left.model_version].wins, rates[left.model_version].losses) == (1, 0)
    assert (rates[right.model_version].wins, rates[right.model_version].losses) == (0, 1)
    assert rates[left.model_version].drafter == "learned"


def test_win_rates_match_a_hand_computed_example(data: Path) -> None:
    store = st.open_store(data)
    lead = store.as_actor(LEAD)
    made = pw.create_pairwise_tasks(lead, ["e1", "e2", "e3"], "rules", "learned", "ann", seed=7)
    a_version = pw.ensure_variant(lead, "e1", "rules").model_version
    b_version = pw.ensure_variant(lead, "e1", "learned").model_version
    assert win_rates(lead).versions == ()  # nothing submitted yet: nothing counted
    # A wins on e1, B on e2, a tie on e3.
    choices = [choice_for(made[0], "a"), choice_for(made[1], "b"), "tie"]
    for task, choice in zip(made, choices, strict=True):
        judge(store, task, choice)
    result = win_rates(store.as_actor(ANALYST))
    by_version = {r.version: r for r in result.versions}
    for version in (a_version, b_version):
        rate = by_version[version]
        assert (rate.n, rate.wins, rate.losses, rate.ties) == (3, 1, 1, 1)
        assert rate.win_rate == pytest.approx(0.5)
        assert (round(rate.low, 4), round(rate.high, 4)) == HALF_OF_THREE
    (pair,) = result.pairs
    assert {pair.version, pair.against} == {a_version, b_version}
    assert (pair.n, pair.wins, pair.losses, pair.ties, pair.win_rate) == (3, 1, 1, 1, 0.5)
    # Position: count the left wins by hand from what was clicked.
    left_wins = choices.count("left")
    assert (result.position.n, result.position.wins) == (3, left_wins)
    assert result.position.win_rate == pytest.approx((left_wins + 0.5) / 3)
    # A task returned to its annotator no longer counts.
    an.review_task(lead, made[2].task_id, accept=False, comment="look again")
    assert {r.n for r in win_rates(lead).versions} == {2}
    # Annotators without the lead grant see no aggregates.
    with pytest.raises(Forbidden):
        win_rates(store.as_actor(ANN))


def test_panel_is_blind_deidentified_and_submits_the_preference(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = st.open_store(data)
    # The signed note names the patient: the reviewer (no phi grant) must not read it.
    sign_with_name(store, "e1")
    (task,) = pw.create_pairwise_tasks(store.as_actor(LEAD), ["e1"], "signed", "rules", "ann", 3)
    variants = list_variants(store.as_actor(LEAD), "e1")
    secrets = {"rules", "learned", "soap", "aci_visit", "signed", SIGNED_VERSION, "Okafor",
               *(v.model_version for v in variants), *(v.variant_id for v in variants)}  # fmt: skip

    at = panel(data, monkeypatch, task.task_id)
    shown = rendered_text(at)
    assert "Draft 1" in shown and "Draft 2" in shown
    assert "[NAME]" in shown  # the name, de-identified, where the signed note had it
    for secret in secrets:
        assert secret.lower() not in shown.lower(), secret
    assert at.expander[0].label.startswith("Transcript")
    # A lead reading the task sees the same blind drafts and no form: it is ann's to judge.
    as_lead = panel(data, monkeypatch, task.task_id, "lead")
    assert not as_lead.radio and "holds no judgement yet" in as_lead.info[0].value
    assert "Okafor" not in rendered_text(as_lead)

    # Submitting without a reason is refused on the page; nothing is written.
    at.radio(key=f"pw-choice-{task.task_id}").set_value("right")
    at.button(key=f"pw-submit-{task.task_id}").click().run()
    assert "Say why" in at.error[0].value
    assert an.task_annotations(store, task.task_id) == []
    at.selectbox(key=f"pw-reason-{task.task_id}").set_value("more complete")
    at.text_area(key=f"pw-comment-{task.task_id}").set_value("lists the medication")
    at.button(key=f"pw-submit-{task.task_id}").click().run()
    assert not at.exception, at.exception
    assert an.get_task(store, task.task_id).status == "submitted"
    (saved,) = an.task_annotations(store, task.task_id)
    assert (saved.kind, saved.origin) == ("preference", "human")
    assert saved.value == {
        "choice": "right",
        "reason": "more complete",
        "comment": "lists the medication",
    }
    at.run()  # the page now shows the judgement, read-only
    assert not at.radio and "Draft 2 (right) is better" in at.info[0].value
    # "right" won: the version shown on the right gets the win, the other the loss.
    left, right = (
        next(v for v in variants if v.variant_id == vid) for vid in task.payload["variants"]
    )
    assert {left.drafter, right.drafter} == {"clinician", "rules"}
    rates = {r.version: (r.wins, r.losses) for r in win_rates(store).versions}
    assert rates == {right.model_version: (1, 0), left.model_version: (0, 1)}


def test_preference_checks(data: Path) -> None:
    store = st.open_store(data)
    (task,) = pw.create_pairwise_tasks(store.as_actor(LEAD), ["e2"], "rules", "learned", "ann", 1)
    ann = store.as_actor(ANN)
    with pytest.raises(st.InvalidEdit, match="Choose Draft 1"):
        pw.save_preference(ann, task, None, "more accurate")
    with pytest.raises(st.InvalidEdit, match="'other', say why"):
        pw.save_preference(ann, task, "tie", "other", "  ", submit=True)
    bad = Annotation("preference", "preference", value={"choice": "left", "reason": "shorter"})
    with pytest.raises(st.InvalidEdit, match="reason must be one of"):
        an.save_annotations(ann, task.task_id, [bad], revision=task.revision)
    with pytest.raises(st.InvalidEdit, match="Choose the better draft"):
        an.submit_task(ann, task.task_id, revision=task.revision)  # nothing saved yet
    saved = pw.save_preference(ann, task, "tie", None)  # a draft save may leave the reason
    assert saved.status == "draft" and pw.current_preference(ann, saved)["choice"] == "tie"
    # Someone else's task is not theirs to judge.
    with pytest.raises(Forbidden):
        pw.save_preference(store.as_actor(Actor("ann2", "annotator")), saved, "left", None)


def test_retention_de_identifies_the_variants_too(data: Path) -> None:
    from datetime import timedelta

    from pipelines.deid import deidentify
    from workbench.retention import RetentionPolicy, apply_retention
    from workbench.store.db import utcnow

    store = st.open_store(data)
    sign_with_name(store, "e1")
    signed = pw.ensure_variant(store.as_actor(LEAD), "e1", "signed")
    assert "Jane Okafor" in signed.draft.sentences[0].text  # stored as written
    with store.transaction() as con:  # back-dated: a test-only write
        con.execute("UPDATE encounters SET created_at = ?", [utcnow() - timedelta(days=40)])
    apply_retention(store, data, RetentionPolicy(365, 30), "admin", deidentify=deidentify)
    (kept,) = [v for v in list_variants(store, "e1") if v.variant_id == signed.variant_id]
    assert kept.draft.sentences[0].text == "[NAME] reports a cough."


def test_comparison_page_shows_aggregates_and_csv(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = st.open_store(data)
    made = pw.create_pairwise_tasks(store.as_actor(LEAD), ["e1", "e2"], "rules", "learned",
                                    "ann", seed=5)  # fmt: skip
    for task in made:
        judge(store, task, choice_for(task, "a"))
    rules = pw.ensure_variant(store.as_actor(LEAD), "e1", "rules").model_version

    at = page(data, monkeypatch, "ana", "analyst")
    assert not at.exception, at.exception
    versions = at.dataframe[0].value
    row = versions[versions["version"] == rules].iloc[0]
    assert (row["n"], row["wins"], row["losses"], row["win_rate"]) == (2, 2, 0, 1.0)
    assert len(at.get("plotly_chart")) == 1 and len(at.get("download_button")) == 1
    assert not at.expander  # no task form for analysts
    shown = rendered_text(at)
    assert "Okafor" not in shown and "cough" not in shown  # aggregates only, no text
    # The CSV the button serves: one line per version, per pair and the position check.
    lines = comparison_csv(win_rates(store)).splitlines()
    assert lines[0].startswith("scope,version,against,drafter,n,wins,losses,ties,win_rate")
    assert f"version,{rules},all,rules,2,2,0,0,1.0," in lines[1]
    assert len(lines) == 1 + 2 + 1 + 1

    # A lead also gets the form that makes tasks; bad input makes none and says why.
    lead = page(data, monkeypatch, "lead", "annotator")
    assert lead.expander[0].label == "Create pairwise tasks"
    lead.text_input(key="pairwise-encounters").set_value("e3, nope")
    lead.selectbox(key="pairwise-a").set_value("rules")
    lead.selectbox(key="pairwise-b").set_value("learned")
    lead.selectbox(key="pairwise-annotator").set_value("ann")
    lead.button[0].click().run()
    assert "No encounter nope" in lead.error[0].value
    lead.text_input(key="pairwise-encounters").set_value("e3")
    lead.button[0].click().run()
    assert not lead.error and "1 pairwise task(s) for ann" in lead.success[0].value
    assert [t.encounter_id for t in an.list_tasks(store, kind="pairwise")] == ["e1", "e2", "e3"]

    denied = page(data, monkeypatch, "ann", "annotator")
    assert "may not" in denied.error[0].value


def test_cli_creates_tasks_and_refuses_bad_input(data: Path) -> None:
    def scribe(*args: str):
        return CliRunner().invoke(app, ["--data-dir", str(data), "pairwise", *args])

    ok = scribe("create", "-e", "e1,e2", "--a", "rules", "--b", "learned", "--annotator", "ann",
                "--seed", "4", "--json")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    made = json.loads(ok.stdout)["tasks"]
    assert [t["encounter_id"] for t in made] == ["e1", "e2"]
    assert {t["assignee"] for t in made} == {"ann"}

    cases = {
        ("-e", "nope", "--a", "rules", "--b", "learned"): "No encounter nope",
        ("-e", "e1", "--a", "rules", "--b", "rules"): "are the same",
        ("-e", "e1", "--a", "rulez", "--b", "learned"): "Unknown version 'rulez'",
        ("-e", "e1", "--a", "note", "--b", "learned"): "same version",
        ("-e", "e1", "--a", "signed", "--b", "rules"): "no signed note",
    }
    for args, message in cases.items():
        result = scribe("create", *args, "--annotator", "ann")
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.output.split()), (args, result.output)
    bad_user = scribe("create", "-e", "e3", "--a", "rules", "--b", "learned", "--annotator", "ana")
    assert bad_user.exit_code == 2 and "not an enabled annotator" in bad_user.output
    # Nothing was made by the refused calls: only the two tasks from the first.
    store = st.open_store(data)
    assert len(an.list_tasks(store, kind="pairwise")) == 2

    empty = scribe("stats")
    assert empty.exit_code == 0 and "No submitted pairwise judgements" in empty.output


# -- helpers -------------------------------------------------------------------------------

PANEL_SCRIPT = """
import streamlit as st
from workbench.store import annotation_tasks as an
from workbench.ui import resources
from workbench.ui.annotate import pairwise

store = resources.session_store()
pairwise.render(store, an.get_task(store, st.session_state["task_id"]))
"""


def panel(data: Path, monkeypatch: pytest.MonkeyPatch, task_id: str, user: str = "ann") -> AppTest:
    """The pairwise panel for ``task_id``, signed in as ``user`` (an annotator)."""
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    at = sign_in(AppTest.from_string(PANEL_SCRIPT, default_timeout=60), data, user, "annotator")
    at.session_state["task_id"] = task_id
    at.run()
    assert not at.exception, at.exception
    return at


def page(data: Path, monkeypatch: pytest.MonkeyPatch, user: str, role: str) -> AppTest:
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    at = sign_in(AppTest.from_file(str(PAGE), default_timeout=60), data, user, role)
    return at.run()


def rendered_text(at: AppTest) -> str:
    """Everything the page rendered: every element's protobuf (labels, values, options,
    help texts, keys) as text, without the backslashes that escape markdown."""

    def walk(node):
        yield node
        for child in getattr(node, "children", {}).values():
            yield from walk(child)

    text = "\n".join(str(getattr(node, "proto", "") or "") for node in walk(at._tree))
    return text.replace("\\", "")
