"""Sign-off against complacency: what blocks signing, what a signature records, amendments,
active review time, and the machine-draft diff."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from pipelines.note_diff import section_diffs, word_diff
from pipelines.signoff import (
    ShakyWord,
    attestation_text,
    blocking_sentences,
    low_confidence_words,
)
from pipelines.types import Evidence, NoteSentence, Segment, SupportResult, Transcript, Word
from tests.conftest import make_draft, make_transcript
from workbench import export
from workbench import review_time as rt
from workbench import store as st
from workbench.store.migrations import available_migrations, migrate

TURNS = [
    ("clinician", "What brings you in today?"),
    ("patient", "I have had a cough for three days."),
    ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
]


def shaky_transcript(word: str = "amoxicillin", probability: float = 0.31) -> Transcript:
    """The test transcript with one word the recogniser was unsure of."""
    transcript = make_transcript(TURNS)
    segments = tuple(
        replace(
            seg,
            words=tuple(
                replace(w, probability=probability) if w.text.strip() == word else w
                for w in seg.words
            ),
        )
        for seg in transcript.segments
    )
    return transcript.with_segments(segments)


def plan_draft(transcript: Transcript):
    """Subjective: the cough (segment 1); Plan: the amoxicillin sentence (segment 2)."""
    draft = make_draft(transcript)
    seg = transcript.segments[2]
    plan = NoteSentence(
        "s1", "Plan", seg.text, (Evidence(2, 0, len(seg.text), seg.start, seg.end),)
    )
    cough = transcript.segments[1]
    subjective = NoteSentence(
        "s0", "Subjective", cough.text, (Evidence(1, 0, len(cough.text), cough.start, cough.end),)
    )
    return replace(draft, sentences=(subjective, plan))


@pytest.fixture
def shaky(store: st.Store) -> str:
    """An encounter whose Plan sentence rests on 'amoxicillin' heard at 0.31."""
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    st.add_encounter(store, st.EncounterRecord("enc-s", "Shaky visit"), "dr-a")
    transcript = shaky_transcript()
    version = st.save_transcript(store, "enc-s", transcript, "dr-a")
    st.save_draft(store, "enc-s", plan_draft(transcript), version, "dr-a")
    return "enc-s"


def result(sentence: NoteSentence, label: str) -> SupportResult:
    return SupportResult(sentence.sentence_id, sentence.section, sentence.text, label, 0.0)


# -- the pure gate ---------------------------------------------------------------------


def test_unsupported_and_low_confidence_sentences_block_until_decided() -> None:
    transcript = shaky_transcript()
    s0, s1 = plan_draft(transcript).sentences
    shaky = low_confidence_words((s0, s1), {}, transcript)
    assert shaky == {"s1": (ShakyWord("amoxicillin", 0.31),)}
    results = {"s0": result(s0, "unsupported"), "s1": result(s1, "supported")}
    blockers = blocking_sentences((s0, s1), results, shaky, decided=())
    assert [b.sentence_id for b in blockers] == ["s0", "s1"]
    assert blockers[0].reasons == ("unsupported",)
    assert blockers[1].reasons == ("rests on low-confidence words: 'amoxicillin' 0.31",)
    assert [b.sentence_id for b in blocking_sentences((s0, s1), results, shaky, {"s0"})] == ["s1"]
    assert blocking_sentences((s0, s1), results, shaky, {"s0", "s1"}) == ()


def test_partly_supported_confident_sentences_do_not_block() -> None:
    transcript = make_transcript(TURNS)  # every word at 0.9
    s0, s1 = plan_draft(transcript).sentences
    results = {"s0": result(s0, "partly_supported"), "s1": result(s1, "supported")}
    shaky = low_confidence_words((s0, s1), results, transcript)
    assert shaky == {}
    assert blocking_sentences((s0, s1), results, shaky, ()) == ()


def test_only_words_under_the_evidence_count() -> None:
    transcript = shaky_transcript()
    seg = transcript.segments[2]
    start = seg.text.index("500")
    # Evidence covering "500 milligrams ..." but not "amoxicillin": nothing shaky.
    narrow = NoteSentence(
        "s1", "Plan", "500 mg TID.", (Evidence(2, start, len(seg.text), seg.start, seg.end),)
    )
    assert low_confidence_words((narrow,), {}, transcript) == {}
    # A sentence without evidence of its own uses the passages the support check aligned.
    bare = NoteSentence("s2", "Plan", "Start amoxicillin.")
    aligned = replace(
        result(bare, "supported"), evidence=(Evidence(2, 0, len(seg.text), seg.start, seg.end),)
    )
    assert low_confidence_words((bare,), {"s2": aligned}, transcript) == {
        "s2": (ShakyWord("amoxicillin", 0.31),)
    }
    with pytest.raises(ValueError, match="threshold"):
        low_confidence_words((bare,), {}, transcript, threshold=0)


def test_words_that_cannot_be_placed_in_the_text_are_matched_by_time() -> None:
    words = (Word(0.0, 0.5, " Start", 0.9), Word(0.5, 1.0, " metphormin", 0.2))
    seg = Segment(0, 0.0, 1.0, "Begin metformin today please now", "clinician", words)
    transcript = Transcript((seg,), "en", 1.0, "m")
    sentence = NoteSentence("s0", "Plan", "Metformin.", (Evidence(0, 6, 15, 0.6, 0.9),))
    assert low_confidence_words((sentence,), {}, transcript) == {
        "s0": (ShakyWord("metphormin", 0.2),)
    }


def test_attestation_names_what_the_signer_confirms() -> None:
    text = attestation_text(sentences=14, looked_at=3, flagged=2)
    assert "14 sentences" in text and "looked at 3" in text
    assert "each of the 2 sentences the machine flagged" in text
    assert "no sentence was flagged" in attestation_text(5, 5, 0)


# -- sign_note enforces it -----------------------------------------------------------


def test_sign_note_refuses_while_a_sentence_rests_on_low_confidence_words(
    store: st.Store, shaky: str
) -> None:
    with pytest.raises(
        st.SignoffBlocked,
        match=r"s1 \(Plan: rests on low-confidence words: "
        r"'amoxicillin' 0.31\)",
    ) as err:
        st.sign_note(store, shaky, 1, "dr-a")
    assert [b.sentence_id for b in err.value.blockers] == ["s1"]
    assert not st.get_note(store, shaky).signed
    assert not st.list_events(store, shaky, "note.signed")
    st.accept_sentences(store, shaky, 1, ["s1"], "dr-a")
    state = st.sign_note(store, shaky, 1, "dr-a")
    assert state.flagged == ("s1",) and state.looked_at == ("s1",)
    assert st.get_note(store, shaky).signed


def test_sign_note_refuses_an_unsupported_sentence_until_edited_or_removed(
    store: st.Store, encounter: str
) -> None:
    note = st.get_note(store, encounter)
    s0, s1 = note.draft.sentences
    check = st.NewSupportCheck(
        encounter, 1, 1, None, "test", (result(s0, "unsupported"), result(s1, "supported")), (), {}
    )
    st.save_support(store, check, "dr-a")
    with pytest.raises(st.SignoffBlocked, match=r"s0 \(Subjective: unsupported\)"):
        st.sign_note(store, encounter, 1, "dr-a")
    # Removing it unblocks (a support check of the new version is not needed for that).
    v2 = st.save_note(store, encounter, 1, (s1,), "dr-a")
    st.sign_note(store, encounter, v2, "dr-a")
    assert st.get_note(store, encounter).signed


def test_an_edited_unsupported_sentence_no_longer_blocks(store: st.Store, encounter: str) -> None:
    note = st.get_note(store, encounter)
    s0, s1 = note.draft.sentences
    st.save_support(
        store,
        st.NewSupportCheck(encounter, 1, 1, None, "test", (result(s0, "unsupported"),), (), {}),
        "dr-a",
    )
    v2 = st.save_note(store, encounter, 1, (replace(s0, text="Cough, three days."), s1), "dr-a")
    assert st.signoff_state(store, encounter, v2).blockers == ()
    st.sign_note(store, encounter, v2, "dr-a")


def test_signature_records_active_time_and_sentences_looked_at(store: st.Store, shaky: str) -> None:
    t0 = datetime(2026, 1, 5, 9, 0, 0)
    assert rt.record_heartbeat(store, shaky, "dr-a", {"active_s": 14.0}, 1, now=t0) == 14.0
    st.append_event(
        store,
        st.new_event(
            "dr-a", shaky, "sentence.viewed", object_type="sentence", object_id="s0", note_version=1
        ),
    )
    st.accept_sentences(store, shaky, 1, ["s1"], "dr-a")
    st.sign_note(store, shaky, 1, "dr-a", attestation="I checked it.")
    (sig,) = st.list_signatures(store, shaky)
    assert sig.active_seconds == 14.0 and sig.looked_at == ("s0", "s1")
    assert (sig.sentences, sig.flagged, sig.attestation) == (2, 1, "I checked it.")
    (event,) = st.list_events(store, shaky, "note.signed")
    assert event.after["looked_at"] == ["s0", "s1"] and event.after["active_seconds"] == 14.0


# -- amendments ----------------------------------------------------------------------


def test_amendment_keeps_the_signed_version_and_can_be_signed_again(
    store: st.Store, encounter: str
) -> None:
    st.sign_note(store, encounter, 1, "dr-a")
    with pytest.raises(st.InvalidEdit, match="reason"):
        st.amend_note(store, encounter, 1, "dr-a", "  ")
    v2 = st.amend_note(store, encounter, 1, "dr-a", "Wrong dose in the plan")
    amended = st.get_note(store, encounter)
    assert (amended.version, amended.parent_version, amended.signed) == (v2, 1, False)
    (started,) = st.list_events(store, encounter, "note.amendment_started")
    assert started.after == {"version": v2, "reason": "Wrong dose in the plan"}
    s0, s1 = amended.draft.sentences
    v3 = st.save_note(
        store, encounter, v2, (s0, replace(s1, text="Amoxicillin 250 mg TID.")), "dr-a"
    )
    old = st.get_note(store, encounter, 1)
    assert old.signed and old.draft.sentences[1].text != "Amoxicillin 250 mg TID."
    st.sign_note(store, encounter, v3, "dr-a")
    assert [s.note_version for s in st.list_signatures(store, encounter)] == [1, v3]
    # The export names the earlier signed version it replaces.
    note = export.signed_note(store, encounter)
    assert (note.version, note.replaces_version) == (v3, 1)
    fhir = json.loads(export.render(note, "fhir").content)
    assert fhir["docStatus"] == "amended"
    assert fhir["relatesTo"][0]["code"] == "replaces"
    assert fhir["relatesTo"][0]["target"]["identifier"]["value"] == f"{encounter}/note/1"


def test_only_the_newest_signed_version_can_be_amended(store: st.Store, encounter: str) -> None:
    with pytest.raises(st.InvalidEdit, match="not signed"):
        st.amend_note(store, encounter, 1, "dr-a", "typo")
    st.sign_note(store, encounter, 1, "dr-a")
    st.amend_note(store, encounter, 1, "dr-a", "typo")
    with pytest.raises(st.ConcurrentEdit):
        st.amend_note(store, encounter, 1, "dr-a", "another")
    # The signed version is never edited again: edits go to the amendment.
    with pytest.raises(st.ConcurrentEdit, match="newest is 2"):
        st.save_note(store, encounter, 1, (), "dr-a")


# -- active review time --------------------------------------------------------------


def test_heartbeats_become_review_active_events_capped_by_elapsed_time(
    store: st.Store, encounter: str
) -> None:
    t0 = datetime(2026, 1, 5, 9, 0, 0)
    assert rt.record_heartbeat(store, encounter, "dr-a", {"active_s": 15}, 1, now=t0) == 15.0
    # Only 6 s passed since: a client claiming 15 s gets 6.
    assert (
        rt.record_heartbeat(
            store, encounter, "dr-a", {"active_s": 15}, 1, now=t0 + timedelta(seconds=6)
        )
        == 6.0
    )
    # After a long idle gap the next heartbeat still credits at most MAX_BEAT_S.
    assert (
        rt.record_heartbeat(
            store, encounter, "dr-a", {"active_s": 500}, 1, now=t0 + timedelta(hours=1)
        )
        == rt.MAX_BEAT_S
    )
    assert (
        rt.record_heartbeat(
            store, encounter, "dr-a", {"active_s": 0}, 1, now=t0 + timedelta(hours=2)
        )
        == 0.0
    )
    events = st.list_events(store, encounter, "review.active")
    assert [e.after["seconds"] for e in events] == [15.0, 6.0, rt.MAX_BEAT_S]
    assert [e.after["since_last_s"] for e in events] == [None, 6.0, 3594.0]
    assert st.active_review_seconds(store, encounter) == 15 + 6 + rt.MAX_BEAT_S
    assert st.active_review_seconds(store, encounter, since=t0) == 6 + rt.MAX_BEAT_S


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {},
        {"active_s": "12"},
        {"active_s": -1},
        {"active_s": float("nan")},
        {"active_s": True},
    ],
)
def test_a_malformed_heartbeat_is_refused_and_writes_nothing(
    store: st.Store, encounter: str, payload
) -> None:
    with pytest.raises(rt.BadHeartbeat):
        rt.record_heartbeat(store, encounter, "dr-a", payload)
    assert not st.list_events(store, encounter, "review.active")


def test_a_new_signing_round_starts_after_each_signature(store: st.Store, encounter: str) -> None:
    rt.record_heartbeat(store, encounter, "dr-a", {"active_s": 10})
    st.accept_sentences(store, encounter, 1, ["s0"], "dr-a")
    st.sign_note(store, encounter, 1, "dr-a")
    v2 = st.amend_note(store, encounter, 1, "dr-a", "typo")
    state = st.signoff_state(store, encounter, v2)
    assert state.active_seconds == 0 and state.looked_at == ()
    assert st.active_review_seconds(store, encounter) == 10  # the encounter's total


def test_signatures_from_before_0010_read_as_unknown(tmp_path) -> None:
    store = st.Store(tmp_path / "old.duckdb")
    migrate(store, [m for m in available_migrations() if m.version < 10])
    with store.transaction() as con:
        con.execute("INSERT INTO signatures VALUES ('e', 1, 'dr-a', now(), 'ok')")
    migrate(store)
    (sig,) = st.list_signatures(store, "e")
    assert (sig.active_seconds, sig.looked_at, sig.sentences) == (None, None, None)


# -- the machine draft against the note ----------------------------------------------


def test_diff_marks_edited_words_added_removed_and_moved_sentences() -> None:
    assert word_diff("Start amoxicillin 500 mg.", "Start amoxicillin 250 mg.") == (
        ("same", "Start amoxicillin"),
        ("deleted", "500"),
        ("added", "250"),
        ("same", "mg."),
    )
    a = NoteSentence("a", "plan", "Start amoxicillin 500 mg.")
    b = NoteSentence("b", "plan", "Return in two weeks.")
    c = NoteSentence("c", "subjective", "Cough for three days.")
    final = (
        replace(c, section="assessment"),
        replace(a, text="Start amoxicillin 250 mg."),
        NoteSentence("d", "plan", "Call if fever.", origin="human"),
    )
    diffs = {
        d.section: d for d in section_diffs((a, b, c), final, ("subjective", "assessment", "plan"))
    }
    assert [(c.kind, c.sentence_id) for c in diffs["plan"].changes] == [
        ("edited", "a"),
        ("added", "d"),
        ("deleted", "b"),
    ]
    assert diffs["assessment"].changes[0].kind == "moved"
    assert diffs["assessment"].changes[0].moved_from == "subjective"
    assert "subjective" not in diffs  # nothing left there, nothing removed from it
