"""A trained NER model (``pipelines.nlp.training``) running beside the vocabulary rules.

Merge policy: where a model span overlaps a rule span, the rule span stays and the model
span is dropped; model spans that touch no rule span are added. Rule spans come from a
vocabulary match and carry the concept code and the spoken values the rest of the
workbench uses, while the model only contributes label and span, so the model's job is to
find what the vocabularies miss (new terms clinicians add in review). The model therefore
sees each segment without the rule entities, and the merge is explicit rather than left to
spaCy's preset-entity constraints.

A model comes either as the folder ``pipelines.nlp.training`` writes (the factory's
``path``) or already in memory (``add_trained_ner``): the workbench keeps a model encrypted
at rest and hands it over decrypted, so no plaintext copy of it is ever written.
``pack_model``/``unpack_model`` turn a model into one bytes object and back, in memory,
for the caller to seal; nothing here knows about keys.
"""

# No `from __future__ import annotations` here: spaCy validates factory signatures at
# runtime and cannot resolve string annotations.

from collections.abc import Iterable, Iterator
from pathlib import Path

import spacy
import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, load_model_from_config, minibatch
from thinc.api import Config

from pipelines.nlp.training import MODEL_COMPONENT

TRAINED_NAME = "scribe_trained_ner"
TRAINED_VERSION = "scribe_trained_ner.v1"
MODEL_ATTR = "scribe_model"  # Span._.scribe_model: id of the model that found it (rules: None)
PACK_FORMAT = "scribe_ner_pack.v1"

if not Span.has_extension(MODEL_ATTR):
    Span.set_extension(MODEL_ATTR, default=None)


class TrainedNer:
    """Adds a trained model's entities that do not overlap the entities already on the doc.

    Usable without the factory: ``TrainedNer(spacy.load(folder), nlp.vocab)(doc)``. Made
    without a model (``model=None``) it waits for ``use``, and refuses to run until then.
    """

    version = TRAINED_VERSION

    def __init__(self, model: Language | None, vocab, name: str = TRAINED_NAME) -> None:
        self.name = name
        self.vocab = vocab
        self.ner = None
        self.model_id = ""
        self.labels: tuple[str, ...] = ()
        if model is not None:
            self.use(model)

    def use(self, model: Language) -> None:
        """Run ``model`` (a pipeline made by ``pipelines.nlp.training``) from now on."""
        self.ner = model.get_pipe(MODEL_COMPONENT)
        scribe = model.meta.get("scribe", {})
        self.model_id = str(scribe.get("model_id") or model.meta.get("name", "unknown"))
        self.labels = tuple(self.ner.labels)
        # The model's spans are made in the host's docs: their labels must be in its strings.
        for label in self.labels:
            self.vocab.strings.add(label)

    def __call__(self, doc: Doc) -> Doc:
        return next(self.pipe([doc], batch_size=1))

    def pipe(self, docs: Iterable[Doc], batch_size: int = 64) -> Iterator[Doc]:
        if self.ner is None:
            raise ValueError(f"{self.name} has no model: give it one with TrainedNer.use")
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
    """spaCy factory: load the model folder written by ``pipelines.nlp.training``.

    An empty ``path`` makes the component without a model (``add_trained_ner`` gives it one
    from memory: spaCy configs hold only JSON values, not a loaded model).
    """
    return TrainedNer(load_model_folder(Path(path)) if path else None, nlp.vocab, name=name)


def add_trained_ner(nlp: Language, model: Language) -> TrainedNer:
    """Add ``model``, already in memory (e.g. decrypted by the caller), to ``nlp``."""
    component = nlp.add_pipe(TRAINED_NAME, config={"path": ""})
    component.use(model)
    return component


def load_model_folder(folder: Path) -> Language:
    """The trained model in ``folder``; FileNotFoundError when there is none."""
    folder = Path(folder)
    if not (folder / "meta.json").is_file():
        raise FileNotFoundError(f"No trained NER model in {folder} (meta.json missing)")
    return spacy.load(folder)


def pack_model(model: Language) -> bytes:
    """A trained model as one bytes object (its config text and ``Language.to_bytes``).

    The bytes hold the model's vocabulary, so words of the training transcripts: the caller
    encrypts them before they reach a disk. ``unpack_model`` reverses it.
    """
    return srsly.msgpack_dumps(
        {"format": PACK_FORMAT, "config": model.config.to_str(), "model": model.to_bytes()}
    )


def unpack_model(blob: bytes) -> Language:
    """The model packed by ``pack_model``, rebuilt in memory (no file is written or read).

    Raises ValueError when ``blob`` is not a packed model.
    """
    try:
        data = srsly.msgpack_loads(blob)
    except ValueError as exc:
        raise ValueError("Not a packed trained NER model") from exc
    if not isinstance(data, dict) or data.get("format") != PACK_FORMAT:
        raise ValueError(f"Not a packed trained NER model (expected format {PACK_FORMAT})")
    # auto_fill=True as spacy.load does: the rebuilt model serialises to the same bytes.
    model = load_model_from_config(Config().from_str(data["config"]), auto_fill=True)
    return model.from_bytes(data["model"])
