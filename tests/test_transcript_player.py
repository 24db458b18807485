"""What the transcript player and the key listener receive, and what their callbacks change.

The browser side (clicks, playback, keys) is in tests/e2e/test_player_and_keys.py; here the
server side: the player's HTML and seek request, the Review page mounting both components,
and the key actions run against a real store.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipelines.types import Draft, Entity, Evidence, NoteSentence
from tests.conftest import make_draft, make_transcript, open_review, seed_encounter
from workbench import store as st
from workbench.ui import transcript_player as tp
from workbench.ui.components import highlight_segment
from workbench.ui.shortcuts import HINT, shortcuts

COLOURS = {"PROBLEM": "#882255"}
TURNS = [
    ("clinician", "What brings you in today?"),
    ("patient", "No fever but a <cough> for three days."),
    ("clinician", "We will start amoxicillin 500 milligrams."),
]


class _Words(HTMLParser):
    """Collects the player's word spans (id, start, end, text) and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.words: dict[str, list] = {}
        self.text: list[str] = []
        self._open: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        word = a.get("data-w") if a.get("class") == "w" else None
        if word is not None:
            self.words.setdefault(word, [float(a["data-t"]), float(a["data-e"]), ""])
        self._open.append(word)

    def handle_endtag(self, tag):
        self._open.pop()

    def handle_data(self, data):
        self.text.append(data)
        word = next((w for w in reversed(self._open) if w is not None), None)
        if word is not None:
            self.words[word][2] += data


def _parse(html: str) -> _Words:
    parser = _Words()
    parser.feed(html)
    return parser


def player_data_of(at: AppTest) -> dict:
    """The data the Review page sent to the transcript player on the last run."""
    (player,) = [
        e for e in at.get("bidi_component") if e.proto.component_name == "scribe_transcript_player"
    ]
    return json.loads(player.proto.json)


def player_html(at: AppTest) -> str:
    """The transcript HTML the player shows."""
    return player_data_of(at)["html"]


def test_every_word_carries_its_times_and_the_text_is_unchanged() -> None:
    transcript = make_transcript(TURNS)
    ents = (
        Entity(1, 3, 8, "fever", "PROBLEM", negated=True),
        Entity(1, 15, 22, "<cough>", "PROBLEM"),
    )
    evidence = (Evidence(1, 15, 38, 4.0, 6.0),)
    html = tp.transcript_html(transcript, ents, COLOURS, evidence)
    parsed = _parse(html)
    for seg in transcript.segments:
        for i, word in enumerate(seg.words):
            start, end, text = parsed.words[f"{seg.idx}.{i}"]
            assert (start, end) == (round(word.start, 2), round(word.end, 2))
            assert text == word.text.strip()
        assert f"data-seg='{seg.idx}' data-t='{seg.start:.2f}'" in html, "the time plays it"
    visible = "".join(parsed.text)
    for seg in transcript.segments:
        assert seg.text in visible
    assert "&lt;cough&gt;" in html and "<cough>" not in html
    assert "line-through" in html, "negated entities keep their style"
    assert html.count("class='seg cited'") == 1 and "<mark" in html
    assert "Patient" in html and "Clinician" in html


def test_a_word_cut_by_the_evidence_keeps_one_id() -> None:
    seg = make_transcript([("patient", "I take amoxicillin daily")]).segments[0]
    # Evidence starting inside "amoxicillin": the word is cut into two pieces.
    html = highlight_segment(seg, (), COLOURS, (Evidence(0, 10, 24, 1.0, 2.0),), word_times=True)
    assert html.count("data-w='0.2'") == 2
    assert _parse(html).words["0.2"][2] == "amoxicillin"
    assert "class='w'" not in highlight_segment(seg, (), COLOURS), "off unless asked"


def test_seek_requests_and_clicks() -> None:
    assert tp.seek_request(None, 3) is None
    assert tp.seek_request(8.1234, 2) == {"t": 8.123, "seq": 2}
    assert tp.clicked({"segment": 2, "word": 5, "time": 8.4}) == tp.PlayerClick(2, 5, 8.4)
    assert tp.clicked({"segment": 2, "word": None, "time": 8.1}) == tp.PlayerClick(2, None, 8.1)
    assert tp.clicked({"segment": "x", "time": 1}) is None
    assert tp.clicked(None) is None


@pytest.fixture
def review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "data"
    transcript = make_transcript(TURNS)
    store = seed_encounter(data, "enc-tp", transcript, draft=make_draft(transcript))
    return open_review(monkeypatch, data, "enc-tp"), store, transcript


def test_review_page_mounts_the_player_and_the_keys(review) -> None:
    at, _, transcript = review
    data = player_data_of(at)
    assert data["audio_selector"] == tp.AUDIO_SELECTOR and data["seek"] is None
    assert len(_parse(data["html"]).words) == sum(len(s.words) for s in transcript.segments)
    assert "<mark" not in data["html"], "nothing selected, nothing marked"
    assert any(HINT in c.value for c in at.caption), "the keys are named on the page"
    names = [e.proto.component_name for e in at.get("bidi_component")]
    assert names.count("scribe_review_shortcuts") == 1
    # The recording is served by URL (not sent in the page) and keeps it across reruns.
    (audio,) = at.get("audio")
    assert "/media/" in audio.proto.url and audio.proto.url.endswith((".oga", ".ogg"))
    at.run()
    assert at.get("audio")[0].proto.url == audio.proto.url


def test_play_evidence_asks_the_player_to_seek_and_marks_the_source(review) -> None:
    at, store, transcript = review
    first = st.get_note(store, "enc-tp").draft.sentences[1]
    at.button(key=f"play-{first.sentence_id}").click().run()
    data = player_data_of(at)
    assert data["seek"] == {"t": transcript.segments[1].start, "seq": 1}
    assert "class='seg cited' data-seg='1'" in data["html"] and "<mark" in data["html"]
    at.button(key=f"play-{first.sentence_id}").click().run()
    assert player_data_of(at)["seek"]["seq"] == 2, "asking again replays it"


def _keys_app() -> None:
    """A page that runs the Review shortcuts' actions named in session state."""
    import streamlit as st

    from workbench.ui import resources
    from workbench.ui import sentence_actions as sa
    from workbench.ui import shortcuts as ks
    from workbench.ui.review_context import SELECTED_KEY, load_context

    ctx = load_context(resources.get_store(), "enc-keys", "dr-keys")
    actions = {
        "next": lambda: sa.select_next(ctx, 1),
        "previous": lambda: sa.select_next(ctx, -1),
        "play": lambda: ks.play_selected(ctx),
        "accept": lambda: ks._on_selected(ctx, sa.accept),
        "reject": lambda: ks._on_selected(ctx, sa.reject),
    }
    seen = st.session_state.setdefault("seen", [])
    for name in st.session_state.pop("press", []):
        actions[name]()
        seen.append(st.session_state.get(SELECTED_KEY))


@pytest.fixture
def keys_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    data = tmp_path / "data"
    transcript = make_transcript(TURNS)
    # Stored Plan first: the keys follow the note's order (Subjective before Plan).
    sentences = (
        NoteSentence("p1", "Plan", "Start amoxicillin.", (Evidence(2, 0, 10, 9.0, 10.0),)),
        NoteSentence("s1", "Subjective", "No fever.", (Evidence(1, 0, 8, 3.5, 4.5),)),
        NoteSentence("s2", "Subjective", "Cough for three days.", (Evidence(1, 15, 38, 5.0, 6.0),)),
    )
    draft = Draft("soap", ("Subjective", "Objective", "Assessment", "Plan"), sentences, "t-v1")
    store = seed_encounter(data, "enc-keys", transcript, draft=draft, user="dr-keys")
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    return AppTest.from_function(_keys_app, default_timeout=60), store


def _press(at: AppTest, *names: str) -> list:
    at.session_state["press"] = list(names)
    at.run()
    assert not at.exception, at.exception
    return at.session_state["seen"]


def test_next_and_previous_follow_the_note_order_and_stop_at_the_ends(keys_app) -> None:
    at, _ = keys_app
    seen = _press(at, "next", "next", "next", "next", "previous")
    assert seen == ["s1", "s2", "p1", "p1", "s2"]
    at.session_state["selected_sentence"] = None
    assert _press(at, "previous")[-1] == "p1", "from nothing, previous starts at the end"


def test_play_accept_and_reject_act_on_the_selected_sentence(keys_app) -> None:
    at, store = keys_app
    _press(at, "accept")
    assert not st.list_events(store, "enc-keys", "sentence.accepted"), "nothing selected"
    _press(at, "play")  # with nothing selected, plays the first sentence
    assert at.session_state["selected_sentence"] == "s1"
    assert at.session_state["play_from"] == 3.5 and at.session_state["play_seq"] == 1
    _press(at, "next", "accept")
    (accepted,) = st.list_events(store, "enc-keys", "sentence.accepted")
    assert accepted.object_id == "s2" and accepted.user_id == "dr-keys"
    _press(at, "reject")
    after = st.get_note(store, "enc-keys")
    assert after.version == 2, "a reject is saved at once (Undo last save brings it back)"
    assert [s.sentence_id for s in after.draft.sentences] == ["p1", "s1"]
    assert [e.object_id for e in st.list_events(store, "enc-keys", "sentence.deleted")] == ["s2"]


def test_unknown_shortcut_actions_are_refused() -> None:
    with pytest.raises(ValueError, match="Unknown shortcut actions \\['delete'\\]"):
        shortcuts({"delete": lambda: None})
