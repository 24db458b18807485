"""Clinical NLP: medical entities, their codes, values and context from transcript segments.

Rule-based (no pretrained statistical model is available offline): vocabularies from
curated lists, ICD-10-CM and a drug dictionary, scispaCy abbreviations and concept linking
over our own knowledge bases, spoken values by regex, and medspacy ConText; optionally plus
a small NER trained from clinicians' entity corrections (``training``).
"""

from pipelines.nlp.extract import extract_entities, extract_text, load_nlp
from pipelines.nlp.linking import LINKER_VERSION, ConceptLinker
from pipelines.nlp.matcher import MATCHER_VERSION, MedicalMatcher
from pipelines.nlp.ner_data import AnnotatedEncounter
from pipelines.nlp.options import NlpOptions
from pipelines.nlp.pipeline import NLP_VERSION, build_pipeline, model_version
from pipelines.nlp.trained import TRAINED_VERSION, TrainedNer
from pipelines.nlp.training import NotEnoughData, TrainOptions, TrainResult, train_ner
from pipelines.nlp.values import VALUES_VERSION, ValueExtractor
from pipelines.nlp.vocab import TermEntry, TermTable, count_by_label

__all__ = [
    "LINKER_VERSION",
    "MATCHER_VERSION",
    "NLP_VERSION",
    "TRAINED_VERSION",
    "VALUES_VERSION",
    "AnnotatedEncounter",
    "ConceptLinker",
    "MedicalMatcher",
    "NlpOptions",
    "NotEnoughData",
    "TermEntry",
    "TermTable",
    "TrainOptions",
    "TrainResult",
    "TrainedNer",
    "ValueExtractor",
    "build_pipeline",
    "count_by_label",
    "extract_entities",
    "extract_text",
    "load_nlp",
    "model_version",
    "train_ner",
]
