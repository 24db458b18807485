"""Assemble the spaCy pipeline: tokenizer, sentences, terms, codes, values, ConText.

No pretrained statistical model is installed (or may be downloaded), so the pipeline is
``spacy.blank`` plus rule components: ``sentencizer`` -> ``abbreviation_detector``
(scispaCy) -> ``scribe_medical_matcher`` -> (``scribe_trained_ner``, when a model trained
from corrections is given) -> ``scribe_linker`` -> ``scribe_value_extractor`` ->
``medspacy_context``. The two linking components are left out with ``linking=False``.
Values and ConText run after the trained model so its entities get them too.
"""

from __future__ import annotations

import warnings

import spacy
from spacy.language import Language

from pipelines.nlp.context import add_context
from pipelines.nlp.linking import LINKER_NAME, LINKER_VERSION
from pipelines.nlp.matcher import MATCHER_NAME, MATCHER_VERSION
from pipelines.nlp.options import NlpOptions
from pipelines.nlp.trained import TRAINED_NAME, TRAINED_VERSION, add_trained_ner
from pipelines.nlp.values import VALUES_NAME, VALUES_VERSION

NLP_VERSION = "nlp.rules.v3"
ABBREVIATIONS_VERSION = "abbreviation_detector.scispacy-0.6.2"


def build_pipeline(options: NlpOptions, trained: Language | None = None) -> Language:
    """A ready ``Language``; its ``meta["scribe"]`` records versions and options.

    ``trained``: a trained NER model already in memory (an encrypted one, decrypted by the
    caller), used instead of loading the folder ``options.ner_model``, which then only
    records where the model came from.

    ``meta["scribe"]["version"]`` is what outputs record: ``NLP_VERSION``, plus ``+kb.<hash>``
    of the linker's knowledge bases when linking is on (see :func:`model_version`).
    """
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    if options.linking:
        import scispacy.abbreviation  # noqa: F401  (registers "abbreviation_detector")

        # Its per-text matcher of defined short forms is empty in most texts, and spaCy warns
        # (W036) on every call then: silence that one warning from that one module.
        warnings.filterwarnings("ignore", message=r".*\[W036\]", module="scispacy.abbreviation")
        nlp.add_pipe("abbreviation_detector")
    nlp.add_pipe(
        MATCHER_NAME,
        config={
            "cache_dir": options.cache_dir or "",
            "use_cache": options.use_cache,
            "vocab_dir": str(options.vocab_path),
            "sources": list(options.vocabularies),
        },
    )
    components = [ABBREVIATIONS_VERSION] if options.linking else []
    components.append(MATCHER_VERSION)
    version = NLP_VERSION
    model_id = None
    if trained is not None or options.ner_model:
        # Before the linker, so the entities the model adds get codes too.
        if trained is not None:
            component = add_trained_ner(nlp, trained)
        else:
            component = nlp.add_pipe(TRAINED_NAME, config={"path": str(options.ner_model)})
        model_id = component.model_id
        components.append(TRAINED_VERSION)
    kb: dict[str, object] = {}
    if options.linking:
        linker = nlp.add_pipe(
            LINKER_NAME,
            config={
                "cache_dir": options.cache_dir or "",
                "use_cache": options.use_cache,
                "vocab_dir": str(options.vocab_path),
                "threshold": options.link_threshold,
                "top_k": options.link_top_k,
                "index_kind": options.link_index,
            },
        )
        components.append(LINKER_VERSION)
        version = f"{version}+kb.{linker.kb_key}"
        kb = {"key": linker.kb_key, "index": options.link_index,
              "concepts": {name: len(c) for name, c in linker.concepts.items()}}
    if model_id:
        version = f"{version}+{model_id}"  # outputs name the model version they used
    nlp.add_pipe(VALUES_NAME)
    components.append(VALUES_VERSION)
    if options.context:
        add_context(nlp, options.vocab_path)
    nlp.meta["scribe"] = {
        "version": version,
        "components": components,
        "kb": kb,
        "ner_model": model_id,
        "options": options.to_dict(),
    }
    return nlp


def model_version(nlp: Language) -> str:
    """The version string to record with this pipeline's outputs (includes the KB hash)."""
    return str(nlp.meta.get("scribe", {}).get("version", NLP_VERSION))
