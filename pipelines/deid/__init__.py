"""De-identification of transcripts and notes for exports and analytics (pure, offline).

``deidentify(text, known_names)`` finds names, dates, ages over 89, phone numbers,
addresses, record numbers and e-mail addresses and replaces them with ``[NAME]``,
``[DATE]``, ``[AGE]``, ``[PHONE]``, ``[ADDRESS]``, ``[ID]`` and ``[EMAIL]``.
"""

from pipelines.deid.documents import deidentify_draft, deidentify_sentences, deidentify_transcript
from pipelines.deid.engine import deidentify, find_phi, load_analyzer
from pipelines.deid.spans import PHI_LABELS, Deidentified, PhiSpan

__all__ = [
    "PHI_LABELS",
    "Deidentified",
    "PhiSpan",
    "deidentify",
    "deidentify_draft",
    "deidentify_sentences",
    "deidentify_transcript",
    "find_phi",
    "load_analyzer",
]
