"""Note drafting: transcript segments + entities -> a Draft whose sentences carry evidence.

``draft_note`` is deterministic (rules, no model, no network): the same input always gives
the same Draft, sentence ids included. ``draft_with_llm`` is the optional model drafter
(an OpenAI-compatible server or a local GGUF file); its sentences are aligned back to the
transcript afterwards.
"""

from pipelines.drafting.align import Aligner, Alignment, AlignOptions
from pipelines.drafting.llm import LLM_DRAFTER_VERSION, LlmOptions, draft_with_llm, make_backend
from pipelines.drafting.llm_backends import Completion, is_loopback
from pipelines.drafting.llm_errors import LlmError
from pipelines.drafting.llm_output import parse_sections
from pipelines.drafting.prompts import PromptSpec, build_messages, load_prompt
from pipelines.drafting.rewrite import (
    FRAMING_WORDS,
    content_words,
    rewrite_clinician,
    rewrite_patient,
    unsupported_words,
)
from pipelines.drafting.sentences import evidence_for, span_times, split_sentences
from pipelines.drafting.soap import (
    DRAFTER_VERSION,
    SOAP_SECTIONS,
    DraftOptions,
    draft_note,
    transcript_fingerprint,
)
from pipelines.drafting.templates import (
    NoteTemplate,
    SectionSpec,
    available_templates,
    load_template,
)

__all__ = [
    "DRAFTER_VERSION",
    "LLM_DRAFTER_VERSION",
    "AlignOptions",
    "Aligner",
    "Alignment",
    "Completion",
    "LlmError",
    "LlmOptions",
    "PromptSpec",
    "build_messages",
    "draft_with_llm",
    "is_loopback",
    "load_prompt",
    "make_backend",
    "parse_sections",
    "FRAMING_WORDS",
    "SOAP_SECTIONS",
    "DraftOptions",
    "NoteTemplate",
    "SectionSpec",
    "available_templates",
    "content_words",
    "draft_note",
    "evidence_for",
    "load_template",
    "rewrite_clinician",
    "rewrite_patient",
    "span_times",
    "split_sentences",
    "transcript_fingerprint",
    "unsupported_words",
]
