"""``deidentify``: find PHI with a Presidio analyzer that needs no NER model, replace it."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts, NoOpNlpEngine

from pipelines.deid.lexicon import NameLexicon, load_lexicon
from pipelines.deid.names import find_known_names, find_names
from pipelines.deid.patterns import pattern_recognizers
from pipelines.deid.spans import PHI_LABELS, Deidentified, PhiSpan, merge_spans, render


class NameRecognizer(EntityRecognizer):
    """Presidio recogniser for person names from gazetteers and context (no NER model)."""

    def __init__(self, lexicon: NameLexicon) -> None:
        self.lexicon = lexicon
        super().__init__(supported_entities=["NAME"], name="scribe_name", supported_language="en")

    def load(self) -> None:
        """Nothing to load: the lexicon is given."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """A result per name span (score 0.85)."""
        return [RecognizerResult("NAME", s, e, 0.85) for s, e in find_names(text, self.lexicon)]


@functools.lru_cache(maxsize=1)
def load_analyzer() -> AnalyzerEngine:
    """The analyzer: our recognisers only, and Presidio's no-op NLP engine (no spaCy model,
    no network). Built once per process."""
    registry = RecognizerRegistry(
        recognizers=[NameRecognizer(load_lexicon()), *pattern_recognizers()],
        supported_languages=["en"],
    )
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}]),
        supported_languages=["en"],
    )


def find_phi(text: str, known_names: Sequence[str] = ()) -> list[PhiSpan]:
    """PHI spans of ``text``, merged (no overlaps) and sorted."""
    if not text.strip():
        return []
    results = load_analyzer().analyze(text=text, language="en", entities=list(PHI_LABELS))
    spans = [PhiSpan(r.start, r.end, r.entity_type, text[r.start : r.end]) for r in results]
    spans += [
        PhiSpan(s, e, "NAME", text[s:e])
        for s, e in find_known_names(text, known_names, load_lexicon())
    ]
    return merge_spans(_trim(text, s) for s in spans)


def deidentify(text: str, known_names: Sequence[str] = ()) -> Deidentified:
    """Replace names, dates, ages over 89, phone numbers, addresses, record numbers and
    e-mail addresses with ``[NAME]``, ``[DATE]`` ...; ``known_names`` (the encounter's
    patient and clinician names) are redacted wherever their words occur."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    spans = find_phi(text, known_names)
    return Deidentified(text=render(text, spans), spans=spans)


def _trim(text: str, span: PhiSpan) -> PhiSpan:
    """Without the spaces and separators a pattern may take at its ends."""
    start, end = span.start, span.end
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",/.-:"):
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return PhiSpan(start, end, span.label, text[start:end])
