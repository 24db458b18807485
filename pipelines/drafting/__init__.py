"""Note drafting: transcript segments + entities -> a Draft whose sentences carry evidence.

Three drafters:

- ``draft_visit`` (default): trained sentence models (``router``, built by ``training`` from
  ACI-Bench, MTS-Dialog and PriMock57), narrative restatement (``restate``) and structure
  from the entities (``structure``), for any note template (``templates``).
- ``draft_note``: the earlier rule-based SOAP drafter (no trained artefact).
- ``draft_with_llm`` (optional): an OpenAI-compatible server or a local GGUF file; its
  sentences are aligned back to the transcript afterwards.

The first two are deterministic and local. ``render_note`` turns a Draft into the plain-text
note its template describes.
"""

from pipelines.drafting.align import Aligner, Alignment, AlignOptions
from pipelines.drafting.learned import DRAFTER_VERSION as LEARNED_VERSION
from pipelines.drafting.learned import LearnedOptions, draft_visit
from pipelines.drafting.lexicon import content_words
from pipelines.drafting.llm import LLM_DRAFTER_VERSION, LlmOptions, draft_with_llm, make_backend
from pipelines.drafting.llm_backends import Completion, is_loopback
from pipelines.drafting.llm_errors import LlmError
from pipelines.drafting.llm_output import parse_sections
from pipelines.drafting.prompts import PromptSpec, build_messages, load_prompt
from pipelines.drafting.render import render_note
from pipelines.drafting.rewrite import (
    FRAMING_WORDS,
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
    TemplateError,
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
    "LEARNED_VERSION",
    "SOAP_SECTIONS",
    "DraftOptions",
    "LearnedOptions",
    "NoteTemplate",
    "SectionSpec",
    "TemplateError",
    "available_templates",
    "content_words",
    "draft_note",
    "draft_visit",
    "evidence_for",
    "load_template",
    "render_note",
    "rewrite_clinician",
    "rewrite_patient",
    "span_times",
    "split_sentences",
    "transcript_fingerprint",
    "unsupported_words",
]
