"""Browser-test fixtures: a seeded store, the served app, headless Debian Chromium.

Only Debian's /usr/bin/chromium is used (never a browser Playwright would download), with a
fresh profile per test; screenshots go to ``$SCRIBE_ARTIFACTS`` (default ``artifacts/e2e``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.drafting import load_template
from pipelines.types import Draft, Evidence, NoteSentence, Segment, Transcript
from tests.conftest import CLIP, REPO, make_words, seed_encounter
from tests.e2e.server import serve
from workbench.auth import hash_password
from workbench.store import users

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Loopback only, whatever proxy the environment names.
    "--no-proxy-server",
]
ENCOUNTER = "enc-e2e"
USER = "dr-e2e"
PASSWORD = "e2e-password"  # of USER's account in the test store only
# Sentence id -> (section, text, segment, quoted words of that segment).
SENTENCES = {
    "s-complaint": (
        "subjective",
        "The patient reports a headache and a cough for three days.",
        1,
        "a headache and a cough for three days",
    ),
    "s-fever": ("subjective", "The patient denies fever.", 1, "no fever"),
    "s-ibuprofen": (
        "plan",
        "Take ibuprofen 400 milligrams three times a day with food.",
        2,
        "ibuprofen 400 milligrams three times a day with food",
    ),
    "s-follow-up": ("plan", "The patient will come back next week.", 3, "come back next week"),
}


def artifacts_dir() -> Path:
    """Where screenshots and downloads are kept after the run (ignored by git)."""
    return Path(os.environ.get("SCRIBE_ARTIFACTS") or REPO / "artifacts" / "e2e")


def clip_transcript() -> Transcript:
    """The ASR fixture clip's script as a transcript, with the clip's real turn times."""
    turns = json.loads((CLIP.parent / "turns.json").read_text())
    segments = tuple(
        Segment(
            i,
            t["start"],
            t["end"],
            t["text"],
            t["speaker"],
            make_words(t["text"], t["start"], t["end"]),
            -0.2,
        )
        for i, t in enumerate(turns)
    )
    return Transcript(segments, "en", turns[-1]["end"], "test-model", "0" * 64)


def clip_draft(transcript: Transcript) -> Draft:
    """A SOAP draft whose sentences cite the passages they restate."""
    sentences = []
    for sentence_id, (section, text, seg_idx, quote) in SENTENCES.items():
        seg = transcript.segments[seg_idx]
        start = seg.text.index(quote)
        first_word = seg.words[len(seg.text[:start].split())]
        evidence = Evidence(seg_idx, start, start + len(quote), first_word.start, seg.end)
        sentences.append(NoteSentence(sentence_id, section, text, (evidence,)))
    return Draft("soap", load_template("soap").keys, tuple(sentences), "draft.e2e.v1")


@pytest.fixture
def e2e_data(tmp_path: Path) -> Path:
    """A store with one drafted encounter (the fixture clip as its audio)."""
    data = tmp_path / "data"
    transcript = clip_transcript()
    store = seed_encounter(
        data, ENCOUNTER, transcript, draft=clip_draft(transcript), user=USER, clinician=USER
    )
    users.create_account(
        store,
        USER,
        "clinician",
        "system",
        display_name="Dr E2E",
        password_hash=hash_password(PASSWORD),
    )
    return data


def open_signed_in(
    page, url: str, timeout_ms: float = 180_000, user: str = USER, password: str = PASSWORD
) -> None:
    """Go to ``url`` and sign in (as USER unless told) through the sign-in form, as a person
    does (every page load is a new Streamlit session, so a reload signs in again)."""
    from playwright.sync_api import expect

    page.goto(url)
    user_box = page.locator(".st-key-login_user input")
    expect(user_box).to_be_visible(timeout=timeout_ms)
    user_box.fill(user)
    page.locator(".st-key-login_password input").fill(password)
    page.locator(".st-key-login_submit button").click()
    expect(user_box).to_have_count(0, timeout=timeout_ms)


@pytest.fixture
def app_url(e2e_data: Path, tmp_path: Path) -> Iterator[str]:
    """The workbench served on a free loopback port; its log is kept as an artifact."""
    log = tmp_path / "streamlit.log"
    try:
        with serve(e2e_data, USER, log) as url:
            yield url
    finally:
        if log.exists():
            artifacts = artifacts_dir()
            artifacts.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, artifacts / "streamlit.log")


@pytest.fixture
def page(tmp_path: Path):
    """A page of headless Debian Chromium with an empty profile."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1600, "height": 1800},
            accept_downloads=True,
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
