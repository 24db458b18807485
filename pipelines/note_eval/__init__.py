"""Note evaluation: ROUGE as ACI-Bench reports it, a concept F1, and a (provisional) support
check, for our drafts and any baseline's notes in one run (``scribe eval notes``)."""

from pipelines.note_eval.concepts import concept_f1, concept_scores, note_concepts
from pipelines.note_eval.data import (
    ACI_BASELINES,
    NoteDataError,
    NoteExample,
    aci_split_files,
    dialogue_transcript,
    read_examples,
    read_predictions,
)
from pipelines.note_eval.rouge import ROUGE_TYPES, mean_scores, rouge_per_note
from pipelines.note_eval.runner import Drafted, draft_all, evaluate_notes, save_predictions
from pipelines.note_eval.support import check_sentences, note_sentences, support_summary

__all__ = [
    "ACI_BASELINES",
    "ROUGE_TYPES",
    "Drafted",
    "NoteDataError",
    "NoteExample",
    "aci_split_files",
    "check_sentences",
    "concept_f1",
    "concept_scores",
    "dialogue_transcript",
    "draft_all",
    "evaluate_notes",
    "mean_scores",
    "note_concepts",
    "note_sentences",
    "read_examples",
    "read_predictions",
    "rouge_per_note",
    "save_predictions",
    "support_summary",
]
