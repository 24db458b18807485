"""Note drafting: transcript segments + entities -> a Draft whose sentences carry evidence.

Two drafters, both deterministic and local:

- ``draft_visit`` (default): trained sentence models (``router``, built by ``training`` from
  ACI-Bench, MTS-Dialog and PriMock57), narrative restatement (``restate``) and structure
  from the entities (``structure``), for any note template (``templates``).
- ``draft_note``: the earlier rule-based SOAP drafter (no trained artefact).

``render_note`` turns a Draft into the plain-text note its template describes.
"""

from pipelines.drafting.learned import DRAFTER_VERSION as LEARNED_VERSION
from pipelines.drafting.learned import LearnedOptions, draft_visit
from pipelines.drafting.lexicon import content_words
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
