"""A trained NER model (``pipelines.nlp.training``) running beside the vocabulary rules.

Merge policy: where a model span overlaps a rule span, the rule span stays and the model
span is dropped; model spans that touch no rule span are added. Rule spans come from a
vocabulary match and carry the concept code and the spoken values the rest of the
workbench uses, while the model only contributes label and span, so the model's job is to
find what the vocabularies miss (new terms clinicians add in review). The model therefore
sees each segment without the rule entities, and the merge is explicit rather than left to
spaCy's preset-entity constraints.
"""

# No `from __future__ import annotations` here: spaCy validates factory signatures at
# runtime and cannot resolve string annotations.

from collections.abc import Iterable, Iterator
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, minibatch

from pipelines.nlp.training import MODEL_COMPONENT

TRAINED_NAME = "scribe_trained_ner"
TRAINED_VERSION = "scribe_trained_ner.v1"
MODEL_ATTR = "scribe_model"  # Span._.scribe_model: id of the model that found it (rules: None)

if not Span.has_extension(MODEL_ATTR):
    Span.set_extension(MODEL_ATTR, default=None)


class TrainedNer:
    """Adds a trained model's entities that do not overlap the entities already on the doc.

    Usable without the factory: ``TrainedNer(spacy.load(folder), nlp.vocab)(doc)``.
    """

    version = TRAINED_VERSION

    def __init__(self, model: Language, vocab, name: str = TRAINED_NAME) -> None:
        self.name = name
        self.ner = model.get_pipe(MODEL_COMPONENT)
        scribe = model.meta.get("scribe", {})
        self.model_id = str(scribe.get("model_id") or model.meta.get("name", "unknown"))
        self.labels = tuple(self.ner.labels)
        # The model's spans are made in the host's docs: their labels must be in its strings.
        for label in self.labels:
            vocab.strings.add(label)

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc], batch_size=1))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            rules = [tuple(doc.ents) for doc in batch]
            for doc in batch:
                doc.ents = ()  # predict on the bare text, then merge below
            for doc, rule_ents in zip(
                self.ner.pipe(batch, batch_size=len(batch)), rules, strict=True
            ):
                yield self._merge(doc, rule_ents)

    def _merge(self, doc: Doc, rule_ents: tuple[Span, ...]) -> Doc:
        added = [
            span
            for span in doc.ents
            if not any(span.start < r.end and r.start < span.end for r in rule_ents)
        ]
        for span in added:
            span._.set(MODEL_ATTR, self.model_id)
        # filter_spans only guards the invariant; rule and added spans never overlap here.
        doc.ents = filter_spans([*rule_ents, *added])
        return doc


@Language.factory(TRAINED_NAME, default_config={"path": ""})
def make_trained_ner(nlp: Language, name: str, path: str) -> TrainedNer:
    """spaCy factory: load the model folder written by ``pipelines.nlp.training``."""
    folder = Path(path)
    if not (folder / "meta.json").is_file():
        raise FileNotFoundError(f"No trained NER model in {folder} (meta.json missing)")
    return TrainedNer(spacy.load(folder), nlp.vocab, name=name)
