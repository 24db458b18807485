"""Support check: is each note sentence said in the visit, and what did the note leave out?

``verify_sentences`` labels sentences ``supported`` / ``partly_supported`` /
``unsupported`` with reasons and evidence links, for our drafts and for any other system's
note alike (``note_sentences`` splits plain note text); ``find_omissions`` lists clinically
important transcript passages no sentence covers; ``unsupported_rate`` and
``evidence_coverage`` are the note-level figures. Deterministic rules, no model besides the
clinical NLP of ``pipelines.nlp``.
"""

from pipelines.verify.check import VERIFY_VERSION, VerifyOptions, check_sentence, verify_sentences
from pipelines.verify.lexicon import Lexicon, load_lexicon
from pipelines.verify.metrics import evidence_coverage, label_counts, unsupported_rate
from pipelines.verify.numbers import Quantity, quantities
from pipelines.verify.omissions import find_omissions
from pipelines.verify.passages import TranscriptIndex, index_transcript
from pipelines.verify.plain import dialogue_transcript, note_sentences
from pipelines.verify.sides import sides

__all__ = [
    "VERIFY_VERSION",
    "Lexicon",
    "Quantity",
    "TranscriptIndex",
    "VerifyOptions",
    "check_sentence",
    "dialogue_transcript",
    "evidence_coverage",
    "find_omissions",
    "index_transcript",
    "label_counts",
    "load_lexicon",
    "note_sentences",
    "quantities",
    "sides",
    "unsupported_rate",
    "verify_sentences",
]
