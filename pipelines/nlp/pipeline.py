"""Assemble the spaCy pipeline: tokenizer, sentences, terms, values, ConText.

No pretrained statistical model is installed (or may be downloaded), so the pipeline is
``spacy.blank`` plus rule components: ``sentencizer`` -> ``scribe_medical_matcher`` ->
(``scribe_trained_ner``, when a model trained from corrections is given) ->
``scribe_value_extractor`` -> ``medspacy_context``. Values and ConText run after the
trained model so its entities get them too.
"""

from __future__ import annotations

import spacy
from spacy.language import Language

from pipelines.nlp.context import add_context
from pipelines.nlp.matcher import MATCHER_NAME, MATCHER_VERSION
from pipelines.nlp.options import NlpOptions
from pipelines.nlp.trained import TRAINED_NAME, TRAINED_VERSION
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
    components = [MATCHER_VERSION]
    version = NLP_VERSION
    model_id = None
    if options.ner_model:
        trained = nlp.add_pipe(TRAINED_NAME, config={"path": str(options.ner_model)})
        model_id = trained.model_id
        components.append(TRAINED_VERSION)
        version = f"{NLP_VERSION}+{model_id}"  # outputs name the model version they used
    nlp.add_pipe(VALUES_NAME)
    components.append(VALUES_VERSION)
    if options.context:
        add_context(nlp, options.vocab_path)
    nlp.meta["scribe"] = {
        "version": version,
        "components": components,
        "ner_model": model_id,
        "options": options.to_dict(),
    }
    return nlp
