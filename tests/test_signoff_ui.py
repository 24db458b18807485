"""The sign-off panel on the Review page, driven with AppTest from the app's entry point:
blockers listed with why, Accept unblocks, signing records time and sentences looked at,
Amend makes a new version that can be signed again, and the diff and history show it."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import attest_box, edit_sentence, open_review, seed_encounter
from tests.test_signoff import plan_draft, shaky_transcript
from workbench import review_time as rt
from workbench import store as st

ENC = "enc-signoff"


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "data"
    transcript = shaky_transcript()
    store = seed_encounter(data, ENC, transcript, draft=plan_draft(transcript), user="dr-test")
    return open_review(monkeypatch, data, ENC), store


def text_of(at: AppTest) -> str:
    return " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)


def blockers(at: AppTest) -> list[str]:
    return [
        b.key.removeprefix("signoff-accept-")
        for b in at.button
        if b.key and b.key.startswith("signoff-accept-")
    ]


def test_panel_lists_blockers_and_accepting_unblocks_signing(review) -> None:
    at, store = review
    assert blockers(at) == ["s1"]
    assert "rests on low-confidence words: 'amoxicillin' 0.31" in text_of(at)
    attest_box(at).check().run()
    assert at.button(key="sign").disabled, "a blocking sentence keeps Sign off"

    at.button(key="signoff-play-s1").click().run()
    assert [e.object_id for e in st.list_events(store, ENC, "sentence.viewed")] == ["s1"]
    at.button(key="signoff-accept-s1").click().run()
    assert not at.exception, at.exception
    assert blockers(at) == []
    assert "Nothing blocks signing: all 1 flagged sentences were decided" in text_of(at)
    assert "You looked at **1 of 2** sentences" in text_of(at)
    (accepted,) = st.list_events(store, ENC, "sentence.accepted")
    assert (accepted.object_id, accepted.user_id) == ("s1", "dr-test")

    # The browser's heartbeat component is not drivable here: call its server side.
    rt.record_heartbeat(store, ENC, "dr-test", {"active_s": 12.5}, 1)
    at.run()
    assert "12 s of active review" in text_of(at)  # "12 s" (rounded half to even)
    attest_box(at).check().run()
    assert any(
        m.value.startswith("> I have reviewed this note (2 sentences)")
        and "looked at 1 of its sentences" in m.value
        for m in at.markdown
    )
    at.button(key="sign").click().run()
    assert not at.exception, at.exception
    (sig,) = st.list_signatures(store, ENC)
    assert sig.looked_at == ("s1",) and sig.active_seconds == 12.5 and sig.flagged == 1
    assert "looked at 1 of its sentences" in sig.attestation
    assert any("read-only" in s.value for s in at.success)


def test_amend_keeps_the_signed_version_and_the_new_one_can_be_signed(review) -> None:
    at, store = review
    st.accept_sentences(store, ENC, 1, ["s1"], "dr-test")
    st.sign_note(store, ENC, 1, "dr-test")
    at.run()
    assert at.button(key="amend").disabled, "an amendment needs a reason"
    at.text_input(key="amend-reason").input("Dose was 250 mg").run()
    at.button(key="amend").click().run()
    assert not at.exception, at.exception
    note = st.get_note(store, ENC)
    assert (note.version, note.parent_version, note.signed) == (2, 1, False)
    assert st.get_note(store, ENC, 1).signed
    assert any("Amendment of signed version 1: Dose was 250 mg" in i.value for i in at.info)

    edit_sentence(at, "s1").input("We will start amoxicillin 250 milligrams three times a day.")
    at.run()
    at.button(key="save").click().run()
    assert not at.exception, at.exception
    changes = " ".join(m.value for m in at.markdown if "<del" in m.value)
    assert "<del style='color:#b3261e'>500</del>" in changes and ">250</ins>" in changes
    history = text_of(at)
    assert "started an amendment of version 1: “Dose was 250 mg”" in history
    assert "signed by Dr Test" in history or "signed by dr-test" in history

    # The tick given to version 1 does not carry over: the amendment is attested anew.
    assert not attest_box(at).value and attest_box(at).key.endswith("-3")
    assert at.button(key="sign").disabled
    attest_box(at).check().run()
    at.button(key="sign").click().run()
    assert not at.exception, at.exception
    assert [s.note_version for s in st.list_signatures(store, ENC)] == [1, 3]
    assert (
        st.get_note(store, ENC, 1)
        .draft.sentences[1]
        .text.startswith("We will start amoxicillin 500")
    )
