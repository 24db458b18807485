"""Shared fixtures: a real DuckDB store in tmp_path and small hand-built transcripts.

The shared store (DuckLake) tests get a real PostgreSQL: ``SCRIBE_TEST_POSTGRES`` (a
``postgresql://USER@HOST:PORT/DB`` that ``.ci/run`` exports after starting one on loopback),
else one started here by ``tests/postgres_server.sh`` for the session. ``SCRIBE_TEST_LAKE=1``
makes the ``store`` fixture (and every ``open_store`` in that test) lake-backed, for sweeps
of the whole suite against DuckLake.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from pipelines.types import Draft, Evidence, NoteSentence, Segment, Transcript, Word
from tests import lake_support
from workbench import store as st

REPO = Path(__file__).resolve().parents[1]


def _postgres_unavailable(reason: str) -> None:
    """Fail under CI (``.ci/run`` must provide PostgreSQL) or when ``SCRIBE_TEST_POSTGRES``
    names a server (a broken one must not skip every shared-store test); skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true" or os.environ.get("SCRIBE_TEST_POSTGRES"):
        pytest.fail(f"PostgreSQL for the shared-store tests: {reason}")
    pytest.skip(f"no PostgreSQL for the shared-store tests: {reason}")


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A PostgreSQL server's URL (user with CREATE DATABASE rights, no password)."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(
                lake_support.postgres_server(tmp_path_factory.mktemp("postgres") / "cluster")
            )
        except lake_support.PostgresUnavailable as exc:
            _postgres_unavailable(str(exc))
        yield url


@pytest.fixture
def lake_url(postgres_url: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty lake: a new catalog database plus a data path under tmp_path; the
    database is dropped afterwards."""
    with lake_support.fresh_lake(postgres_url, tmp_path / "lake") as url:
        yield url


@pytest.fixture
def store(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> st.Store:
    if os.environ.get("SCRIBE_TEST_LAKE") == "1":  # sweep: every open_store of this test
        monkeypatch.setenv("SCRIBE_LAKE", request.getfixturevalue("lake_url"))
    return st.open_store(tmp_path / "data")


def make_words(text: str, start: float, end: float) -> tuple[Word, ...]:
    """Whisper-style words (leading spaces) spread evenly over [start, end]."""
    tokens = text.split()
    step = (end - start) / len(tokens)
    return tuple(
        Word(start + i * step, start + (i + 1) * step, (" " if i else "") + t, 0.9)
        for i, t in enumerate(tokens)
    )


def make_transcript(turns: list[tuple[str, str]], gap: float = 0.5) -> Transcript:
    """A transcript with one segment per (speaker, text) turn, 0.4 s per word."""
    segments, t = [], 0.0
    for i, (speaker, text) in enumerate(turns):
        end = t + 0.4 * len(text.split())
        segments.append(Segment(i, t, end, text, speaker, make_words(text, t, end), -0.2))
        t = end + gap
    return Transcript(tuple(segments), "en", t, "test-model", "0" * 64)


def make_draft(transcript: Transcript) -> Draft:
    """A two-sentence draft whose evidence is each whole segment."""
    sentences = tuple(
        NoteSentence(
            f"s{i}",
            "Subjective" if i == 0 else "Plan",
            seg.text,
            (Evidence(seg.idx, 0, len(seg.text), seg.start, seg.end),),
        )
        for i, seg in enumerate(transcript.segments[:2])
    )
    return Draft("soap", ("Subjective", "Objective", "Assessment", "Plan"), sentences, "test-v1")


@pytest.fixture
def encounter(store: st.Store) -> str:
    """An encounter with a transcript and a draft in the store; returns its id."""
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    st.add_encounter(store, st.EncounterRecord("enc-1", "Test visit"), "dr-a")
    transcript = make_transcript(
        [
            ("clinician", "What brings you in today?"),
            ("patient", "I have had a cough for three days."),
            ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
        ]
    )
    version = st.save_transcript(store, "enc-1", transcript, "dr-a")
    st.save_draft(store, "enc-1", make_draft(transcript), version, "dr-a")
    return "enc-1"


CLIP = REPO / "tests" / "fixtures" / "asr_short" / "audio.ogg"
APP = REPO / "workbench" / "ui" / "app.py"


def seed_encounter(
    data: Path,
    encounter_id: str,
    transcript: Transcript,
    *,
    entities: tuple = (),
    draft: Draft | None = None,
    nlp_version: str = "nlp.test",
    user: str = "dr-a",
    clinician: str = "dr-test",
) -> st.Store:
    """A hand-built encounter in a real store at ``data``, with the ASR fixture clip as its
    audio: transcript version 1, then its entity set and draft when given. ``user`` made
    them; the encounter is ``clinician``'s (the one ``open_review`` signs in as)."""
    import hashlib
    import shutil

    store = st.open_store(data)
    sha = hashlib.sha256(CLIP.read_bytes()).hexdigest()
    (data / "audio").mkdir(exist_ok=True)
    shutil.copy(CLIP, data / "audio" / f"{sha}.ogg")
    st.add_audio(
        store,
        st.AudioRecord(
            sha, f"audio/{sha}.ogg", "clip.ogg", "ogg", 5.0, 16000, 1, CLIP.stat().st_size
        ),
    )
    st.add_encounter(
        store,
        st.EncounterRecord(
            encounter_id, f"Visit {encounter_id}", audio_sha256=sha, clinician_id=clinician
        ),
        user,
    )
    version = st.save_transcript(store, encounter_id, transcript, user)
    if entities:
        st.save_entities(store, encounter_id, version, entities, nlp_version, user)
    if draft is not None:
        st.save_draft(store, encounter_id, draft, version, user)
    return store


def sign_in(at, data: Path, user: str = "dr-test", role: str = "clinician"):
    """Seed ``user``'s account in the store at ``data`` (no password needed) and put its
    signed-in actor in the AppTest session, as the sign-in page would; returns ``at``."""
    import time

    from workbench.store import users
    from workbench.store.access import Actor
    from workbench.ui import login

    store = st.open_store(data)
    account = users.get_account(store, user)
    if account is None:
        account = users.create_account(store, user, role, "system")
    elif account.role != role:
        users.set_role(store, user, role, "system")
    at.session_state[login.ACTOR_KEY] = Actor(user, role, account.grants)
    at.session_state[login.SEEN_KEY] = time.time()
    return at


def attest_box(at):
    """The Review page's attestation checkbox (keyed per encounter and note version)."""
    return next(c for c in at.checkbox if c.key and c.key.startswith("attest-"))


def edit_sentence(at, sentence_id: str):
    """Open a sentence's text box as a reviewer does, with its Edit button (only the
    selected sentence has one), and return the box."""
    at.button(key=f"edit-{sentence_id}").click().run()
    assert not at.exception, at.exception
    boxes = [t for t in at.text_area if t.key and t.key.startswith("sent-")]
    assert [t.key.split("-", 2)[2] for t in boxes] == [sentence_id], "one box: the selected"
    return boxes[0]


def open_review(
    monkeypatch: pytest.MonkeyPatch, data: Path, encounter_id: str, timeout: float = 60
):
    """The app's Review page for ``encounter_id``, as ``dr-test``, driven by AppTest."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SCRIBE_HOME", str(data))
    monkeypatch.setenv("SCRIBE_USER", "dr-test")
    at = sign_in(AppTest.from_file(str(APP), default_timeout=timeout), data)
    at.session_state["encounter_id"] = encounter_id
    at.run()
    at.switch_page("views/review.py").run()
    assert not at.exception, at.exception
    return at
