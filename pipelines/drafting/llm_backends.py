"""Chat completion backends: any OpenAI-compatible server, or a local GGUF file.

Both take the same chat messages and return a ``Completion`` with its token counts and
timing. Every failure becomes an ``LlmError`` whose message names the endpoint or file and
what went wrong, never the request or response text (they hold transcript words).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from ipaddress import ip_address
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from pipelines.drafting.llm_errors import LlmError


@dataclass(frozen=True)
class Completion:
    """One chat completion: the text and what it cost."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    finish_reason: str = ""

    @property
    def tokens_per_second(self) -> float:
        """Generated tokens per second of wall time (prompt processing included)."""
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0


class ChatBackend(Protocol):
    """Anything that turns chat messages into a Completion (or raises LlmError)."""

    name: str

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int, temperature: float
    ) -> Completion: ...


def api_base(url: str) -> str:
    """The OpenAI API base of a server URL: ``http://host:port`` -> ``http://host:port/v1``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LlmError("config", f"LLM endpoint must be an http(s) URL, got {url!r}")
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def display_url(url: str) -> str:
    """The URL without user name, password, query or fragment: safe for logs and records."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def is_loopback(url: str) -> bool:
    """Does the URL point at this machine (so transcript text never leaves it)?"""
    host = urlsplit(url.strip()).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


class OpenAiBackend:
    """A server speaking the OpenAI chat completions API (llama.cpp, Ollama, vLLM, ...)."""

    name = "openai"

    def __init__(self, url: str, model: str = "", api_key: str = "", timeout_s: float = 120.0):
        try:
            from openai import OpenAI
        except ImportError as exc:  # the lock installs it; a trimmed install may not
            raise LlmError("not_installed", "the 'openai' package is not installed") from exc
        self.url = display_url(api_base(url))
        self.model = model
        # Local servers ignore the key; the client refuses to start without one.
        self._client = OpenAI(
            base_url=api_base(url), api_key=api_key or "no-key", timeout=timeout_s, max_retries=0
        )
        self.timeout_s = timeout_s

    def _model(self) -> str:
        """The configured model, else the server's first (llama.cpp serves exactly one)."""
        if self.model:
            return self.model
        models = self._call(lambda: self._client.models.list())
        ids = [m.id for m in getattr(models, "data", None) or []]
        if not ids:
            raise LlmError("bad_response", f"LLM server {self.url} lists no model; set a model")
        return ids[0]

    def _call(self, fn: Any) -> Any:
        import openai

        try:
            return fn()
        except openai.APITimeoutError as exc:
            raise LlmError(
                "timeout", f"LLM server {self.url} did not answer within {self.timeout_s:g} s"
            ) from exc
        except openai.APIConnectionError as exc:
            raise LlmError("unreachable", f"LLM server {self.url} is unreachable") from exc
        except openai.APIStatusError as exc:
            raise LlmError(
                "http", f"LLM server {self.url} answered HTTP {exc.status_code}"
            ) from exc
        except (openai.APIError, ValueError) as exc:  # e.g. a body that is not JSON
            raise LlmError(
                "bad_response", f"LLM server {self.url} sent an unreadable answer"
            ) from exc

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int, temperature: float
    ) -> Completion:
        """One chat completion (no retries: the caller falls back instead)."""
        model = self._model()
        started = time.perf_counter()
        response = self._call(
            lambda: self._client.chat.completions.create(
                model=model,
                messages=messages,  # type: ignore[arg-type]
                temperature=temperature,
                max_tokens=max_tokens,
                seed=0,
            )
        )
        seconds = time.perf_counter() - started
        try:
            choice = response.choices[0]
            text = choice.message.content or ""
        except (AttributeError, IndexError, TypeError) as exc:
            raise LlmError("bad_response", f"LLM server {self.url} sent no choices") from exc
        usage = getattr(response, "usage", None)
        return Completion(
            text=text,
            model=str(getattr(response, "model", "") or model),
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            seconds=seconds,
            finish_reason=str(choice.finish_reason or ""),
        )


class GgufBackend:
    """A local GGUF model run in this process through llama-cpp-python (optional package).

    The model loads once, when the backend is created; keep the backend to reuse it.
    """

    name = "gguf"

    def __init__(self, path: str, n_ctx: int = 8192, threads: int = 2, chat_format: str = ""):
        file = Path(path).expanduser()
        if not file.is_file():
            raise LlmError("config", f"GGUF model file not found: {file}")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LlmError(
                "not_installed",
                "llama-cpp-python is not installed: install it (it compiles llama.cpp; "
                'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install llama-cpp-python) '
                "or point SCRIBE_LLM_URL at an OpenAI-compatible server",
            ) from exc
        self.model = file.name
        try:
            self._llm = Llama(
                model_path=str(file),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                chat_format=chat_format or None,
                seed=0,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise LlmError("config", f"llama.cpp could not load {file.name}") from exc

    def complete(
        self, messages: list[dict[str, str]], max_tokens: int, temperature: float
    ) -> Completion:
        """One chat completion with the GGUF's own chat template."""
        started = time.perf_counter()
        try:
            out = self._llm.create_chat_completion(
                messages=messages,  # type: ignore[arg-type]
                temperature=temperature,
                max_tokens=max_tokens,
            )
        except ValueError as exc:  # e.g. the prompt exceeds the context window
            raise LlmError(
                "bad_response", "llama.cpp refused the request (longer than its context window?)"
            ) from exc
        seconds = time.perf_counter() - started
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            text=choice["message"].get("content") or "",
            model=self.model,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            seconds=seconds,
            finish_reason=str(choice.get("finish_reason") or ""),
        )
