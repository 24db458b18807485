"""Note drafting: transcript segments + entities -> a Draft whose sentences carry evidence.

``draft_note`` is deterministic (rules, no model, no network): the same input always gives
the same Draft, sentence ids included.
"""

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
