"""When the LLM server fails, drafting says why and falls back to the rules drafter.

A small HTTP server on 127.0.0.1 plays a broken LLM server (garbage, HTTP 500, too slow,
empty answer) or a working one; a closed port plays a server that is down. The OpenAI
client talks to it over real HTTP.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipelines.drafting import LlmError, LlmOptions, draft_with_llm
from pipelines.types import Entity
from tests.conftest import make_transcript
from tests.llm_server import free_port
from workbench import store as st
from workbench.jobs import (
    Engine,
    PipelineOptions,
    draft_encounter,
    options_from_settings,
    process_encounter,
)

SECRET = "zebra-striped palpitations"  # transcript words that must never reach a log
VISIT = [
    ("clinician", "What brings you in today?"),
    ("patient", f"I have had {SECRET} and a cough for three days."),
    ("clinician", "We will start albuterol two puffs every six hours as needed."),
]
NOTE = "Subjective\nReports a cough for three days.\nPlan\nStart albuterol as needed.\n"


def _completion(text: str) -> bytes:
    return json.dumps({
        "id": "x", "object": "chat.completion", "created": 0, "model": "stub-model",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62},
    }).encode()  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    """Behaviour by the first path segment: /ok, /garbage, /error, /slow, /empty."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        mode = self.path.strip("/").split("/")[0]
        status, body = 200, _completion(NOTE)
        if mode == "garbage":
            body = b"<html>this is not an API</html>"
        elif mode == "error":
            status, body = 500, b'{"error": {"message": "model crashed"}}'
        elif mode == "empty":
            body = _completion("")
        elif mode == "slow":
            time.sleep(3)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _options(url: str, **kw) -> LlmOptions:
    return LlmOptions(url=url, model="stub-model", **kw)


@pytest.mark.parametrize(
    ("mode", "kind", "says"),
    [
        ("garbage", "bad_response", "unreadable answer"),
        ("error", "http", "answered HTTP 500"),
        ("slow", "timeout", "did not answer within 0.5 s"),
        ("empty", "empty", "no note text"),
    ],
)
def test_server_failures_are_clear_errors_without_transcript_text(
    stub_url: str, mode: str, kind: str, says: str
) -> None:
    options = _options(f"{stub_url}/{mode}/v1", timeout_s=0.5)
    with pytest.raises(LlmError, match=says) as info:
        draft_with_llm(make_transcript(VISIT), (), "soap", options)
    assert info.value.kind == kind
    assert SECRET not in str(info.value)


def test_server_down_is_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LlmError, match="is unreachable") as info:
        draft_with_llm(make_transcript(VISIT), (), "soap", _options(url))
    assert info.value.kind == "unreachable" and url in str(info.value)


def test_working_server_drafts_over_http(stub_url: str) -> None:
    draft = draft_with_llm(make_transcript(VISIT), (), "soap", _options(f"{stub_url}/ok"))
    assert [(s.section, bool(s.evidence)) for s in draft.sentences] == [
        ("subjective", True), ("plan", True)
    ]  # fmt: skip
    assert draft.options["served_model"] == "stub-model"
    assert draft.options["completion_tokens"] == 12 and draft.options["seconds"] > 0


def _encounter_ready_to_draft(store: st.Store) -> str:
    """An encounter with a stored transcript and entity set but no note yet."""
    st.ensure_user(store, "dr-l", "Dr L", "clinician")
    st.add_encounter(store, st.EncounterRecord("enc-llm", "LLM visit"), "dr-l")
    transcript = make_transcript(VISIT)
    version = st.save_transcript(store, "enc-llm", transcript, "dr-l")
    cough = Entity(1, VISIT[1][1].index("cough"), VISIT[1][1].index("cough") + 5, "cough",
                   "PROBLEM")  # fmt: skip
    st.save_entities(store, "enc-llm", version, (cough,), "test-nlp", "dr-l")
    return "enc-llm"


def test_process_falls_back_to_the_rules_drafter_and_records_why(
    store: st.Store, caplog: pytest.LogCaptureFixture
) -> None:
    encounter = _encounter_ready_to_draft(store)
    url = f"http://127.0.0.1:{free_port()}/v1"
    engine = Engine(PipelineOptions(drafter="llm", llm=_options(url)), store)
    with caplog.at_level(logging.INFO):
        result = process_encounter(store, store.path.parent, engine, encounter, "dr-l")
    assert result.steps_run == ("draft", "verify")
    note = st.get_note(store, encounter)
    assert note.draft.model_version.startswith("draft.learned")
    assert note.draft.options["llm_fallback"]["kind"] == "unreachable"
    assert any("cough" in s.text.lower() for s in note.draft.sentences)
    (event,) = st.list_events(store, encounter, "note.drafted")
    assert event.after["llm_fallback"] == "unreachable"
    failures = [r.getMessage() for r in caplog.records if "LLM drafter failed" in r.getMessage()]
    assert len(failures) == 1 and "enc-llm" in failures[0] and "unreachable" in failures[0]
    assert all(SECRET not in r.getMessage() for r in caplog.records)


def test_process_uses_the_llm_draft_when_the_server_answers(store: st.Store, stub_url: str) -> None:
    encounter = _encounter_ready_to_draft(store)
    engine = Engine(PipelineOptions(drafter="llm", llm=_options(f"{stub_url}/ok/v1")), store)
    process_encounter(store, store.path.parent, engine, encounter, "dr-l")
    note = st.get_note(store, encounter)
    assert note.draft.model_version == "draft.llm.v1+openai:stub-model"
    assert [s.text for s in note.draft.sentences] == [
        "Reports a cough for three days.", "Start albuterol as needed."
    ]  # fmt: skip
    assert all(s.evidence for s in note.draft.sentences)
    (event,) = st.list_events(store, encounter, "note.drafted")
    assert "llm_fallback" not in event.after


def test_rules_drafter_is_the_default_and_never_calls_a_server(store: st.Store) -> None:
    encounter = _encounter_ready_to_draft(store)
    engine = Engine(PipelineOptions(), store)
    assert engine.options.drafter == "rules" and engine.llm is None
    transcript = st.get_transcript(store, encounter)[1]
    draft = draft_encounter(engine, encounter, transcript, ())
    assert draft.model_version.startswith("draft.learned")
    assert "llm_fallback" not in draft.options


def test_settings_choose_the_drafter(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in ("SCRIBE_DRAFTER", "SCRIBE_LLM_URL", "SCRIBE_LLM_GGUF", "SCRIBE_LLM_MODEL"):
        monkeypatch.delenv(env, raising=False)
    default = options_from_settings()
    assert default.drafter == "rules" and default.llm is None
    monkeypatch.setenv("SCRIBE_DRAFTER", "llm")
    with pytest.raises(ValueError, match="SCRIBE_LLM_URL or SCRIBE_LLM_GGUF"):
        options_from_settings()
    monkeypatch.setenv("SCRIBE_LLM_URL", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("SCRIBE_LLM_TIMEOUT", "7.5")
    chosen = options_from_settings()
    assert chosen.drafter == "llm" and chosen.llm.url == "http://127.0.0.1:8080/v1"
    assert chosen.llm.timeout_s == 7.5 and chosen.llm.temperature == 0.0
    monkeypatch.setenv("SCRIBE_DRAFTER", "gpt")
    with pytest.raises(ValueError, match="unknown drafter 'gpt'"):
        options_from_settings()


def test_a_remote_endpoint_is_logged_as_leaving_the_machine(
    caplog: pytest.LogCaptureFixture,
) -> None:
    remote = LlmOptions(url="https://llm.example.org/v1")
    with caplog.at_level(logging.WARNING):
        Engine(PipelineOptions(drafter="llm", llm=remote))
        Engine(PipelineOptions(drafter="llm", llm=_options("http://127.0.0.1:8080/v1")))
    warnings = [r.getMessage() for r in caplog.records if "not this machine" in r.getMessage()]
    assert warnings == [
        "the LLM drafter sends transcript text to https://llm.example.org/v1 (not this machine)"
    ]
