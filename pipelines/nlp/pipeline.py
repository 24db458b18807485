"""Assemble the spaCy pipeline: tokenizer, sentences, terms, values, ConText.

No statistical model is installed (or may be downloaded), so the pipeline is ``spacy.blank``
plus rule components: ``sentencizer`` -> ``scribe_medical_matcher`` ->
``scribe_value_extractor`` -> ``medspacy_context``.
"""

from __future__ import annotations

import spacy
from spacy.language import Language

from pipelines.nlp.context import add_context
from pipelines.nlp.matcher import MATCHER_NAME, MATCHER_VERSION
from pipelines.nlp.options import NlpOptions
from pipelines.nlp.values import VALUES_NAME, VALUES_VERSION

NLP_VERSION = "nlp.rules.v1"


def build_pipeline(options: NlpOptions) -> Language:
    """A ready ``Language``; its ``meta["scribe"]`` records versions and options."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe(
        MATCHER_NAME,
        config={
            "cache_dir": options.cache_dir or "",
            "use_cache": options.use_cache,
            "vocab_dir": str(options.vocab_path),
            "sources": list(options.vocabularies),
        },
    )
    nlp.add_pipe(VALUES_NAME)
    if options.context:
        add_context(nlp, options.vocab_path)
    nlp.meta["scribe"] = {
        "version": NLP_VERSION,
        "components": [MATCHER_VERSION, VALUES_VERSION],
        "options": options.to_dict(),
    }
    return nlp
