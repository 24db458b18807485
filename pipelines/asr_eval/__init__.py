"""ASR evaluation: datasets, protocol scoring (medwer) and a runner."""

from pipelines.asr_eval.datasets import (
    EvalItem,
    default_cache_dir,
    fareez_items,
    folder_items,
    parse_reference,
    synthetic_aci_items,
)
from pipelines.asr_eval.runner import EvalReport, evaluate
from pipelines.asr_eval.scoring import (
    ItemScore,
    align,
    edit_distance,
    medical_units,
    normalize,
    score_item,
    speaker_counts,
    summarize,
    term_hits,
)

__all__ = [
    "EvalItem", "EvalReport", "ItemScore", "align", "default_cache_dir", "edit_distance",
    "evaluate", "fareez_items", "folder_items", "medical_units", "normalize",
    "parse_reference", "score_item", "speaker_counts", "summarize", "synthetic_aci_items",
    "term_hits",
]
