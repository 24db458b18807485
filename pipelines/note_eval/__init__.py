"""Note evaluation: ROUGE as ACI-Bench reports it, a concept F1, and the support check of
``pipelines.verify``, for our drafts and any baseline's notes in one run (``scribe eval notes``)."""

from pipelines.note_eval.concepts import concept_f1, concept_scores, note_concepts
from pipelines.note_eval.data import (
    ACI_BASELINES,
    NoteDataError,
    NoteExample,
    aci_split_files,
    read_examples,
    read_predictions,
)
from pipelines.note_eval.rouge import ROUGE_TYPES, mean_scores, rouge_per_note
from pipelines.note_eval.runner import (
    Drafted,
    draft_all,
    draft_example,
    evaluate_notes,
    save_predictions,
    support_results,
)

__all__ = [
    "ACI_BASELINES",
    "ROUGE_TYPES",
    "Drafted",
    "NoteDataError",
    "NoteExample",
    "aci_split_files",
    "support_results",
    "concept_f1",
    "concept_scores",
    "draft_all",
    "draft_example",
    "evaluate_notes",
    "mean_scores",
    "note_concepts",
    "read_examples",
    "read_predictions",
    "rouge_per_note",
    "save_predictions",
]
