"""NER evaluation: gold documents from the datasets, offset-only gold files, scoring, runner.

The runner (:mod:`pipelines.nlp_eval.runner`) imports spaCy; import it directly where needed.
"""

from pipelines.nlp_eval.documents import (
    DocumentError,
    document_text,
    primock_text,
    safe_id,
    text_sha256,
)
from pipelines.nlp_eval.draft import DraftError, parse_draft, resolve, to_draft
from pipelines.nlp_eval.gold import (
    FLAGS,
    GoldDocument,
    GoldEntity,
    GoldError,
    ManifestEntry,
    gold_path,
    gold_text,
    label_counts,
    label_schema,
    load_gold,
    load_gold_dir,
    load_manifest,
    save_gold,
    validate,
)
from pipelines.nlp_eval.scoring import Tally, match

__all__ = [
    "FLAGS",
    "DocumentError",
    "DraftError",
    "GoldDocument",
    "GoldEntity",
    "GoldError",
    "ManifestEntry",
    "Tally",
    "document_text",
    "gold_path",
    "gold_text",
    "label_counts",
    "label_schema",
    "load_gold",
    "load_gold_dir",
    "load_manifest",
    "match",
    "parse_draft",
    "primock_text",
    "resolve",
    "safe_id",
    "save_gold",
    "text_sha256",
    "to_draft",
    "validate",
]
