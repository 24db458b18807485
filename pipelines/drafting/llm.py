"""The optional LLM drafter: transcript + entities -> prompt -> model -> Draft with evidence.

The model is any OpenAI-compatible server (``LlmOptions.url``) or a local GGUF file run by
llama-cpp-python (``LlmOptions.gguf``). The prompt comes from ``annotations/prompts``
(``prompts``), the output is parsed into the template's sections (``llm_output``) and each
sentence is aligned back to the transcript (``align``). Sentences the transcript does not
support are kept without evidence so that the support check flags them; they are never
silently dropped or "fixed".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.drafting.align import Aligner, AlignOptions
from pipelines.drafting.llm_backends import (
    ChatBackend,
    GgufBackend,
    OpenAiBackend,
    display_url,
)
from pipelines.drafting.llm_errors import LlmError
from pipelines.drafting.llm_guard import check_note_format
from pipelines.drafting.llm_output import parse_sections
from pipelines.drafting.prompts import build_messages, load_prompt
from pipelines.drafting.soap import transcript_fingerprint
from pipelines.drafting.templates import NoteTemplate, load_template
from pipelines.types import Draft, Entity, NoteSentence, Transcript

LLM_DRAFTER_VERSION = "draft.llm.v1"
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "scribe-workbench:drafting:llm")


@dataclass(frozen=True)
class LlmOptions:
    """Which model drafts and how; exactly one of ``url`` and ``gguf`` is set.

    url: base URL of an OpenAI-compatible server (``http://127.0.0.1:8080/v1``; a URL
        without a path gets ``/v1``). Any host other than loopback receives transcript text.
    model: model name sent to the server; empty asks the server for its first model.
    gguf: path of a local GGUF file, run in-process by llama-cpp-python.
    api_key: bearer token for servers that want one (never recorded in the Draft).
    temperature: 0 for repeatable drafts.
    max_tokens: longest note the model may write, in tokens.
    timeout_s: how long to wait for the server (the local GGUF path is bounded by max_tokens).
    n_ctx, threads: context window and CPU threads of the local GGUF model.
    chat_format: llama-cpp-python chat format of the local GGUF model (``gemma``, ...);
        empty: the file's own chat template.
    align: how strictly sentences must match the transcript to get evidence.
    check_format: refuse an answer that is not a note in the template's sections
        (``llm_guard``: the defence against a transcript that hijacks the model). Off only
        for protocol tests with a model too small to follow the format.
    """

    url: str = ""
    model: str = ""
    gguf: str = ""
    api_key: str = field(default="", repr=False)
    temperature: float = 0.0
    max_tokens: int = 1024
    timeout_s: float = 120.0
    n_ctx: int = 8192
    threads: int = 2
    chat_format: str = ""
    align: AlignOptions = field(default_factory=AlignOptions)
    check_format: bool = True

    def __post_init__(self) -> None:
        if bool(self.url) == bool(self.gguf):
            raise LlmError("config", "set exactly one of an LLM server URL and a GGUF file")
        if self.max_tokens < 1 or self.timeout_s <= 0:
            raise LlmError("config", "max_tokens and timeout_s must be positive")

    def record(self) -> dict[str, object]:
        """What goes into ``Draft.options``: no key, only the GGUF file name."""
        return {
            "url": display_url(self.url) if self.url else "",
            "model": self.model,
            "gguf": Path(self.gguf).name if self.gguf else "",
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "timeout_s": self.timeout_s,
        }


def make_backend(options: LlmOptions) -> ChatBackend:
    """The backend the options name (a GGUF model loads here, once)."""
    if options.gguf:
        return GgufBackend(options.gguf, options.n_ctx, options.threads, options.chat_format)
    return OpenAiBackend(options.url, options.model, options.api_key, options.timeout_s)


def draft_with_llm(
    transcript: Transcript,
    entities: tuple[Entity, ...],
    template: str | NoteTemplate,
    options: LlmOptions,
    backend: ChatBackend | None = None,
) -> Draft:
    """Draft a note with a language model; every sentence is aligned to transcript evidence.

    ``backend`` reuses a loaded model (default: ``make_backend(options)``). Raises
    ``LlmError`` when the model cannot be reached or returns no note, or (``off_format``)
    when its answer is not a note in the template's sections. A transcript without
    speech gives a Draft without sentences and no model call.
    """
    note = template if isinstance(template, NoteTemplate) else load_template(template)
    prompt = load_prompt(note.id)
    fingerprint = transcript_fingerprint(transcript)
    info: dict[str, object] = {
        "drafter": "llm",
        "template": note.id,
        "prompt": f"{prompt.id}.v{prompt.version}",
        **options.record(),
    }
    if not any(s.text.strip() for s in transcript.segments):
        return Draft(note.id, note.keys, (), LLM_DRAFTER_VERSION, fingerprint, info)
    backend = backend or make_backend(options)
    messages = build_messages(prompt, note, transcript, entities)
    completion = backend.complete(messages, options.max_tokens, options.temperature)
    if options.check_format:  # a hijacked answer (poem, JSON, HTML) is refused
        check_note_format(completion.text, note)
    sections = parse_sections(completion.text, note)
    aligner = Aligner(transcript, options.align)
    sentences: list[NoteSentence] = []
    for key in note.keys:
        for n, text in enumerate(sections[key]):
            sid = str(uuid.uuid5(_ID_NAMESPACE, f"{fingerprint}:{note.id}:{key}:{n}"))
            sentences.append(NoteSentence(sid, key, text, aligner.align(text).evidence))
    info.update(
        backend=backend.name,
        served_model=completion.model,
        seconds=round(completion.seconds, 3),
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        tokens_per_second=round(completion.tokens_per_second, 1),
        finish_reason=completion.finish_reason,
        without_evidence=sum(1 for s in sentences if not s.evidence),
        instruction_segments=sorted(aligner.instruction_segments),
    )
    return Draft(
        template=note.id,
        sections=note.keys,
        sentences=tuple(sentences),
        model_version=f"{LLM_DRAFTER_VERSION}+{backend.name}:{completion.model}",
        input_sha256=fingerprint,
        options=info,
    )
