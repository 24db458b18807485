"""Personalisation: drafts learn a clinician's phrasing, section order and brevity from the
notes they sign, through the real store, NLP and learned drafter."""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.personalisation import (
    Habits,
    aci_train_transcripts,
    note_distance,
    replay_visit,
)
from pipelines.drafting.style import (
    STYLE_VERSION,
    ClinicianStyle,
    StylePair,
    apply_style,
    describe,
    learn_style,
    style_from_dict,
    unstyled,
)
from pipelines.types import Draft, Evidence, NoteSentence
from tests.conftest import REPO, make_draft, make_transcript, open_review, seed_encounter
from workbench import personalisation as ps
from workbench import store as st
from workbench.jobs import (
    Engine,
    PipelineOptions,
    draft_encounter,
    options_from_settings,
    process_encounter,
)
from workbench.jobs import personalise as personalise_draft

SHARED = REPO.parent / "shared" / "datasets"
SECTIONS = ("hpi", "ros", "plan")


def _draft(rows: list[tuple[str, str, str]], sections: tuple[str, ...] = SECTIONS) -> Draft:
    """A machine draft of (sentence id, section, text) rows, evidence as long as the text."""
    return Draft(
        "aci_visit",
        sections,
        tuple(
            NoteSentence(i, sec, text, (Evidence(0, 0, len(text), 0.0, 1.0),))
            for i, sec, text in rows
        ),
        "draft.test.v1",
    )


def _visit(n: int) -> Draft:
    return _draft(
        [
            (f"{n}a", "hpi", f"He reports knee pain for {n + 2} days."),
            (f"{n}b", "hpi", "He has tried ice."),
            (f"{n}c", "ros", "Constitutional: Denies fever."),
            (f"{n}d", "plan", "Medical Treatment: Start ibuprofen."),
        ]
    )


def _signed(machine: Draft) -> Draft:
    """The clinician's habits: 'Pt reports', 'Tx:', no review of systems, plan first."""
    out = []
    for s in machine.sentences:
        if s.section == "ros":
            continue
        text = s.text.replace("He reports", "Pt reports").replace("Medical Treatment:", "Tx:")
        out.append(s if text == s.text else replace(s, text=text, origin="human"))
    order = ("plan", "hpi", "ros")
    out.sort(key=lambda s: order.index(s.section))
    return replace(machine, sections=order, sentences=tuple(out))


def test_a_style_from_zero_or_one_note_changes_nothing() -> None:
    for pairs in ([], [StylePair(_visit(0), _signed(_visit(0)))]):
        style = learn_style(pairs)
        assert style.empty and style.notes == len(pairs)
        draft = _visit(5)
        assert apply_style(draft, style) is draft
        assert describe(style).startswith("Drafts do not follow a style yet")
    draft = _visit(5)
    assert apply_style(draft, None) is draft


def test_habits_seen_in_two_notes_shape_the_next_draft() -> None:
    style = learn_style([StylePair(_visit(n), _signed(_visit(n))) for n in range(2)])
    assert {(r.before, r.after) for r in style.phrasings} == {
        ("He reports", "Pt reports"),
        ("Medical Treatment:", "Tx:"),
    }
    new = _visit(7)
    styled = apply_style(new, style)
    # The clinician's own note for this visit, exactly.
    assert [(s.section, s.text) for s in styled.sentences] == [
        (s.section, s.text) for s in _signed(new).sentences
    ]
    assert styled.sections == ("plan", "hpi", "ros")
    # Only deletions, a new order and learned rewrites: same ids and evidence, nothing new.
    before = {s.sentence_id: s for s in new.sentences}
    assert all(s.evidence == before[s.sentence_id].evidence for s in styled.sentences)
    assert styled.model_version == f"draft.test.v1+{STYLE_VERSION}"
    assert styled.options["style"]["notes"] == 2
    assert unstyled(styled) == new
    assert describe(style) == (
        "Drafts follow your style: 2 phrasings, section order, brevity — learned from 2 "
        "signed notes"
    )


def test_inconsistent_or_unsafe_rewrites_are_not_learned() -> None:
    def edit(machine: Draft, old: str, new: str) -> Draft:
        return replace(
            machine,
            sentences=tuple(replace(s, text=s.text.replace(old, new)) for s in machine.sentences),
        )

    # Rewritten in two notes, left alone in two: not a habit.
    half = [StylePair(_visit(n), edit(_visit(n), "He reports", "Pt reports")) for n in range(2)]
    half += [StylePair(_visit(n), _visit(n)) for n in range(2, 4)]
    assert not learn_style(half).phrasings
    # Numbers and negation are content, never a substitution.
    numbers = [StylePair(_visit(n), edit(_visit(n), f"{n + 2} days", "2 days")) for n in range(3)]
    assert not learn_style(numbers).phrasings
    units = [StylePair(_visit(0), edit(_visit(0), "2 days", "2 weeks"))] * 3
    assert not learn_style(units).phrasings
    negation = [StylePair(_visit(n), edit(_visit(n), "Denies", "Reports")) for n in range(3)]
    assert not learn_style(negation).phrasings
    # A new word before a sentence would be content: insertions are not learned.
    added = [StylePair(_visit(n), edit(_visit(n), "He has", "Also: He has")) for n in range(3)]
    assert not learn_style(added).phrasings


def test_sentence_cap_keeps_the_best_evidenced_and_every_human_sentence() -> None:
    long = _draft([(f"s{i}", "hpi", "word " * (i + 2)) for i in range(5)])

    def keep_three(d: Draft) -> Draft:
        return replace(d, sentences=d.sentences[:3])

    style = learn_style([StylePair(long, keep_three(long))] * 2)
    assert [(r.section, r.cap) for r in style.brevity] == [("hpi", 3)]
    human = NoteSentence("h", "hpi", "Typed by the clinician.", origin="human")
    styled = apply_style(replace(long, sentences=(*long.sentences, human)), style)
    # Evidence of s4, s3, s2 is longest; the human sentence is never cut.
    assert [s.sentence_id for s in styled.sentences] == ["s2", "s3", "s4", "h"]


def test_style_round_trips_through_json_and_refuses_another_version() -> None:
    style = learn_style([StylePair(_visit(n), _signed(_visit(n))) for n in range(3)])
    data = json.loads(json.dumps(style.to_dict()))
    assert style_from_dict(data) == style
    with pytest.raises(ValueError, match="style version"):
        style_from_dict({**data, "version": "style.v0"})
    assert style_from_dict(ClinicianStyle().to_dict()).empty


def test_a_clinician_can_reorder_sections_and_a_bad_order_is_refused(
    store: st.Store, encounter: str
) -> None:
    note = st.get_note(store, encounter)
    order = tuple(reversed(note.draft.sections))
    version = st.save_note(store, encounter, 1, note.draft.sentences, "dr-a", sections=order)
    assert version == 2 and st.get_note(store, encounter).draft.sections == order
    [event] = st.list_events(store, encounter, "note.sections_reordered")
    assert event.after == {"sections": list(order)}
    with pytest.raises(st.InvalidEdit, match="each once"):
        st.save_note(store, encounter, 2, note.draft.sentences, "dr-a", sections=order[:2])
    assert st.get_note(store, encounter).version == 2  # nothing written


def _sign_visit(store: st.Store, eid: str, clinician: str, machine: Draft) -> None:
    st.add_encounter(store, st.EncounterRecord(eid, "Visit", clinician=clinician), clinician)
    st.set_consent(store, eid, True, clinician)  # without it, the note teaches nothing
    st.save_draft(store, eid, machine, None, clinician)
    signed = _signed(machine)
    st.save_note(store, eid, 1, signed.sentences, clinician, sections=signed.sections)
    st.sign_note(store, eid, 2, clinician)
    ps.after_sign(store, eid, clinician)


def test_signing_stores_the_style_and_only_that_clinician_gets_it(store: st.Store) -> None:
    _sign_visit(store, "v0", "dr-a", _visit(0))
    assert ps.current_style(store, "dr-a").empty  # one note: nothing to follow yet
    _sign_visit(store, "v1", "dr-a", _visit(1))
    style = ps.current_style(store, "dr-a")
    assert style.notes == 2 and len(style.phrasings) == 2
    assert [e.object_id for e in st.list_events(store, kind="style.learned")] == ["dr-a", "dr-a"]
    assert ps.style_summary(store, "dr-a").startswith("Drafts follow your style: 2 phrasings")
    new = _visit(9)
    assert personalise_draft(store, new, "dr-a").sections[0] == "plan"
    assert personalise_draft(store, new, "dr-b") == new  # another clinician: the plain draft
    assert ps.current_style(store, "dr-b") is None


def test_the_setting_turns_personalisation_off(monkeypatch: pytest.MonkeyPatch) -> None:
    assert options_from_settings().personalise
    monkeypatch.setenv("SCRIBE_PERSONALISE", "off")
    assert not options_from_settings().personalise
    monkeypatch.setenv("SCRIBE_PERSONALISE", "maybe")
    with pytest.raises(ValueError, match="on or off"):
        options_from_settings()


def test_review_page_shows_the_style_and_saves_a_section_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    transcript = make_transcript([("patient", "My knee hurts."), ("clinician", "Rest it.")])
    store = seed_encounter(data, "enc-style", transcript, draft=make_draft(transcript))
    style = learn_style([StylePair(_visit(n), _signed(_visit(n))) for n in range(3)])
    st.save_style(store, "dr-test", style.to_dict(), describe(style), "dr-test")
    at = open_review(monkeypatch, data, "enc-style")
    assert any("Drafts follow your style" in c.value for c in at.caption)
    order = list(reversed(st.get_note(store, "enc-style").draft.sections))
    at.multiselect(key="order-1").set_value(order).run()
    at.button(key="save").click().run()
    assert not at.exception, at.exception
    assert list(st.get_note(store, "enc-style").draft.sections) == order


# -- replay on ACI-Bench visits ----------------------------------------------------------

VISITS = 8


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory):
    if not (SHARED / "aci-bench" / "data").is_dir():
        pytest.skip("needs ../shared datasets")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCRIBE_NOTE_TEMPLATE", "aci_visit")
        data = tmp_path_factory.mktemp("replay") / "data"
        store = st.open_store(data)
        engine = Engine(PipelineOptions(), store)
        visits = aci_train_transcripts(SHARED, VISITS + 2)
        steps = [
            replay_visit(store, data, engine, eid, transcript, "dr-habit", Habits())
            for eid, transcript in visits[:VISITS]
        ]
        # Another clinician, after dr-habit's style exists: the plain draft.
        other_id, other_transcript = visits[VISITS]
        st.add_encounter(store, st.EncounterRecord(other_id, "Other", clinician="dr-other"), "x")
        st.save_transcript(store, other_id, other_transcript, "dr-other")
        process_encounter(store, data, engine, other_id, "dr-other")
        # dr-habit again, with personalisation switched off.
        off_id, off_transcript = visits[VISITS + 1]
        off = Engine(PipelineOptions(personalise=False), store)
        st.add_encounter(store, st.EncounterRecord(off_id, "Off", clinician="dr-habit"), "x")
        st.save_transcript(store, off_id, off_transcript, "dr-habit")
        process_encounter(store, data, off, off_id, "dr-habit")
        yield store, engine, steps, (other_id, off_id)


def test_replay_edit_distance_falls_as_the_clinician_signs(replay) -> None:
    _, _, steps, _ = replay
    print("curve", [(s.learned_from, s.personalised, s.plain) for s in steps])
    first, later = steps[:2], steps[-4:]
    # From zero or one signed note nothing is learned: the draft is the plain one.
    assert [s.learned_from for s in first] == [0, 1]
    assert all(s.personalised == s.plain for s in first)
    mean = statistics.mean
    assert mean(s.personalised for s in later) < 0.5 * mean(s.personalised for s in first)
    learned = [s for s in steps if s.learned_from >= 2]
    assert len(learned) == VISITS - 2
    assert all(s.personalised < s.plain for s in learned)
    assert mean(s.personalised for s in learned) < 0.5 * mean(s.plain for s in learned)
    assert "section order" in steps[-1].summary and "brevity" in steps[-1].summary


def test_replay_other_clinician_and_setting_off_get_plain_drafts(replay) -> None:
    store, engine, _, encounter_ids = replay
    assert ps.current_style(store, "dr-habit").notes == VISITS
    for eid in encounter_ids:
        note = st.get_note(store, eid)
        _, transcript = st.get_transcript(store, eid)
        entities = st.get_entities(store, eid, 1)
        plain = draft_encounter(engine, eid, transcript, entities)
        assert "style" not in note.draft.options
        assert note.draft.sentences == plain.sentences and note.draft.sections == plain.sections
        assert note_distance(note.draft, plain) == 0.0
