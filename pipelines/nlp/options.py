"""Options of the clinical NLP stage (one frozen dataclass, recorded with every output)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipelines.nlp.vocab import SOURCES, VOCAB_DIR


@dataclass(frozen=True)
class NlpOptions:
    """How to build the NLP pipeline.

    Attributes:
        cache_dir: Where the built term table is cached. ``None`` means ``$SCRIBE_CACHE`` or
            ``~/.cache/scribe-workbench``.
        use_cache: Set False to always rebuild the term table (slow; for tests of the builder).
        vocabularies: Which term sources to use, any of ``"curated"`` (annotations/vocab/*.tsv),
            ``"icd10cm"`` (terms derived from ICD-10-CM) and ``"drugs"`` (drug dictionary).
            Curated only loads fastest and is the most precise; all three find the most.
        vocab_dir: Folder of the curated TSV files; ``None`` means the repository's
            ``annotations/vocab``.
        context: Add medspacy ConText (negation, history, family, hypothetical, uncertain).
        batch_size: Segments per ``nlp.pipe`` batch.
        linking: Add scispaCy's AbbreviationDetector and the concept linker (ICD-10-CM codes,
            normalised drugs, misspelt and abbreviated mentions). Its index is cached in
            ``cache_dir`` (first build about 25 s).
        link_threshold: Lowest TF-IDF cosine (0..1) at which the linker fills a missing code.
        link_top_k: Candidates kept on each linked entity (``attributes["candidates"]``).
        link_index: ``"exact"`` (sparse cosine over all aliases) or ``"hnsw"`` (nmslib).
        ner_model: Folder of a trained NER model (``scribe train ner``) to run together with
            the rules: it adds the entities the rules miss. ``None`` means rules only. When
            the model is handed to ``load_nlp`` in memory, this only records where it lives.
    """

    cache_dir: str | None = None
    use_cache: bool = True
    vocabularies: tuple[str, ...] = SOURCES
    vocab_dir: str | None = None
    context: bool = True
    batch_size: int = 64
    linking: bool = True
    link_threshold: float = 0.7
    link_top_k: int = 5
    link_index: str = "exact"
    ner_model: str | None = None

    @property
    def vocab_path(self) -> Path:
        return Path(self.vocab_dir) if self.vocab_dir else VOCAB_DIR

    def to_dict(self) -> dict[str, Any]:
        """Plain data for recording with outputs (``Transcript.options`` style)."""
        data = asdict(self)
        data["vocabularies"] = list(self.vocabularies)
        return data
