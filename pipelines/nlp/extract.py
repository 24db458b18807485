"""Public entry points: load the pipeline once, extract entities from transcripts."""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc, Span

from pipelines.nlp.context import CONTEXT_FLAGS, CONTEXT_NAME
from pipelines.nlp.dialogue import DIALOGUE_NAME, DialogueContext, Turn, split_turns
from pipelines.nlp.linking import LINK_ATTR
from pipelines.nlp.matcher import CONCEPT_ATTR
from pipelines.nlp.options import NlpOptions
from pipelines.nlp.pipeline import NLP_VERSION, build_pipeline, model_version
from pipelines.nlp.trained import MODEL_ATTR
from pipelines.nlp.values import ATTRS_ATTR
from pipelines.types import Entity, Transcript

__all__ = [
    "NLP_VERSION", "NlpOptions", "extract_entities", "extract_text", "load_nlp", "model_version",
]


def load_nlp(options: NlpOptions | None = None, trained: Language | None = None) -> Language:
    """Build the clinical NLP pipeline (warm: about a second; first run builds the cache).

    Load it once per process and reuse it (``st.cache_resource`` in the UI). ``trained``: a
    trained NER model already in memory (see ``build_pipeline``).
    """
    return build_pipeline(options or NlpOptions(), trained)


def _flag(span: Span, attr: str) -> bool:
    return bool(Span.has_extension(attr) and span._.get(attr))


def _entity(segment_idx: int, span: Span) -> Entity:
    concept = span._.get(CONCEPT_ATTR)
    attributes = dict(span._.get(ATTRS_ATTR) or {})
    if concept is not None:
        attributes["vocabulary"] = concept.source
    link = span._.get(LINK_ATTR) if Span.has_extension(LINK_ATTR) else None
    if link is not None:
        attributes["linked"] = link.how
        attributes["candidates"] = [c.to_dict() for c in link.candidates]
        if link.score is not None:
            attributes["link_score"] = round(link.score, 3)
        if link.query != span.text.lower():
            attributes["linked_as"] = link.query
    model_id = span._.get(MODEL_ATTR)
    if model_id is not None:
        attributes["model"] = model_id  # found by a model trained from corrections
    return Entity(
        segment_idx=segment_idx,
        start=span.start_char,
        end=span.end_char,
        text=span.text,
        label=span.label_,
        code=concept.code if concept else None,
        code_system=concept.code_system if concept else None,
        code_label=concept.code_label if concept else None,
        attributes=attributes,
        **{flag: _flag(span, attr) for flag, attr in CONTEXT_FLAGS.items()},
    )


def _entities(segment_idx: int, doc: Doc) -> list[Entity]:
    return [_entity(segment_idx, span) for span in doc.ents]


def _link_turns(nlp: Language, speakers_and_docs: list[tuple[str, Doc]]) -> None:
    """Questions and answers across turns (only when ConText is in the pipeline)."""
    if DIALOGUE_NAME not in nlp.pipe_names or CONTEXT_NAME not in nlp.pipe_names:
        return
    dialogue: DialogueContext = nlp.get_pipe(DIALOGUE_NAME)
    turns: list[Turn] = []
    for speaker, doc in speakers_and_docs:
        turns.extend(split_turns(doc, speaker))
    dialogue.apply(turns, nlp.get_pipe(CONTEXT_NAME).graph)


def extract_entities(nlp: Language, transcript: Transcript) -> tuple[Entity, ...]:
    """Entities of every segment; offsets are character offsets within ``segment.text``.

    Context flags take the dialogue into account: "Any fever?" followed by the patient's
    "No." negates the fever of the question (see :mod:`pipelines.nlp.dialogue`).
    """
    batch_size = int(nlp.meta.get("scribe", {}).get("options", {}).get("batch_size", 64))
    texts = (segment.text for segment in transcript.segments)
    docs = list(nlp.pipe(texts, batch_size=batch_size))
    segments = transcript.segments
    _link_turns(nlp, [(s.speaker, doc) for s, doc in zip(segments, docs, strict=True)])
    entities: list[Entity] = []
    for segment, doc in zip(segments, docs, strict=True):
        entities.extend(_entities(segment.idx, doc))
    return tuple(entities)


def extract_text(nlp: Language, text: str) -> tuple[Entity, ...]:
    """Entities of a single text, reported as segment 0.

    Speaker tags in the text (``[doctor] any chest pain? [patient] no``, or lines starting
    with ``D:``/``P:``) split it into turns; a question followed by a bare answer counts too.
    """
    doc = nlp(text)
    _link_turns(nlp, [("unknown", doc)])
    return tuple(_entities(0, doc))
