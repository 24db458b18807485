"""The one error type of the LLM drafter, with a short machine-readable kind."""

from __future__ import annotations

# Kinds: what went wrong, for logs and the fallback record (never transcript text).
# "off_format": an answer that is not a note in the template's sections (llm_guard).
KINDS = (
    "config", "not_installed", "unreachable", "timeout", "http", "empty", "bad_response",
    "off_format",
)  # fmt: skip


class LlmError(RuntimeError):
    """The LLM drafter could not produce a note; the message says why, without patient text."""

    def __init__(self, kind: str, message: str):
        if kind not in KINDS:
            raise ValueError(f"unknown LLM error kind {kind!r}")
        super().__init__(message)
        self.kind = kind
