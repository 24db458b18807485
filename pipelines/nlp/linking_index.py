"""TF-IDF character 3-gram index over a knowledge base's aliases, cached on disk.

scispaCy's ``create_tfidf_ann_index`` refuses Python >= 3.11 (it stores float16 sparse
vectors, which need scipy < 1.11). Its ``CandidateGenerator`` only needs three objects, so we
build them ourselves and hand them over: a scikit-learn ``TfidfVectorizer`` (``char_wb``
3-grams, as scispaCy), a nearest-neighbour index with nmslib's ``knnQueryBatch`` interface and
the alias list in index order.

Two index kinds, same interface:

- ``exact`` (default): cosine by one sparse matrix product over all aliases. Measured here on
  the 124k aliases: about 1-2 ms a query, built in seconds, and never misses an alias.
- ``hnsw``: nmslib HNSW (M=30, efConstruction=200, 2 threads), scispaCy's own choice for UMLS
  sized KBs. Here it took about 150 s to build, queried in about 1.5 ms and missed the best
  alias for 0.5-1.2% of one-letter misspellings of aliases, and for some short exact
  phrases ("type 2 diabetes" came back with a 0.14 match): worth it only for a KB ten times
  bigger.

The cache holds no pickle, so a cache file can never run code: the vectorizer is stored as
its vocabulary (JSON) and idf weights (``.npy``), the alias vectors as a scipy ``.npz``, the
graph with nmslib's own ``saveIndex`` and the concepts as JSON. A cache folder is named by a
content hash of everything that shapes it (``kb_key``) and written under a temporary name
and renamed, so concurrent builders never leave a half-written index.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.nlp import cache, kb
from pipelines.nlp.kb import Concept
from pipelines.nlp.vocab import SOURCES

log = logging.getLogger(__name__)

INDEX_FORMAT = 1
INDEX_KINDS: tuple[str, ...] = ("exact", "hnsw")
HNSW_PARAMS: dict[str, int] = {"M": 30, "efConstruction": 200, "indexThreadQty": 2, "post": 0}
EF_SEARCH = 200


class ExactCosineIndex:
    """Exact nearest aliases by cosine similarity, with nmslib's ``knnQueryBatch`` interface.

    ``vectors`` are the L2-normalised TF-IDF rows of the aliases, so a dot product is the
    cosine; distances are ``1 - cosine`` as nmslib's ``cosinesimil_sparse`` space reports.
    """

    def __init__(self, vectors) -> None:
        self.by_feature = vectors.T.tocsr().astype(np.float32)  # features x aliases

    def knnQueryBatch(self, queries, k: int = 10, num_threads: int = 0):
        """For each query row: (alias row ids, distances), nearest first, at most ``k``."""
        scores = (queries.tocsr().astype(np.float32) @ self.by_feature).tocsr()
        out = []
        for row in range(scores.shape[0]):
            start, end = scores.indptr[row], scores.indptr[row + 1]
            ids, sims = scores.indices[start:end], scores.data[start:end]
            if len(sims) > k:
                top = np.argpartition(-sims, k - 1)[:k]
                ids, sims = ids[top], sims[top]
            order = np.lexsort((ids, -sims))  # ties: lower row (earlier claim) first
            out.append((ids[order].astype(np.int32), (1.0 - sims[order]).astype(np.float32)))
        return out


class ConceptKB:
    """A scispaCy ``KnowledgeBase`` built straight from our concepts.

    scispaCy's own constructor reads a JSON file or indexes ``Entity`` tuples (about 1.5 s for
    our 56k concepts); the candidate generator only reads ``alias_to_cuis``, so that is built
    directly and ``cui_to_entity`` makes its ``Entity`` on access.
    """

    def __init__(self, concepts: dict[str, Concept]) -> None:
        self.concepts = concepts
        self.alias_to_cuis = {a: {c.concept_id} for c in concepts.values() for a in c.aliases}
        self.cui_to_entity = _EntityView(concepts)


class _EntityView(Mapping):
    def __init__(self, concepts: dict[str, Concept]) -> None:
        self._concepts = concepts

    def __getitem__(self, concept_id: str):
        from scispacy.linking_utils import Entity

        c = self._concepts[concept_id]
        return Entity(c.concept_id, c.name, list(c.aliases), [c.label])

    def __iter__(self) -> Iterator[str]:
        return iter(self._concepts)

    def __len__(self) -> int:
        return len(self._concepts)


@dataclass
class LinkerIndex:
    """One knowledge base, ready to query: concepts, vectorizer, index, alias rows."""

    kb_name: str
    concepts: dict[str, Concept]
    vectorizer: object  # sklearn TfidfVectorizer
    ann_index: object  # ExactCosineIndex or nmslib FloatIndex
    aliases: list[str]
    kind: str = "exact"
    build_seconds: float = 0.0

    def candidate_generator(self):
        """A scispaCy ``CandidateGenerator`` over this index (no download, no rebuild)."""
        from scispacy.candidate_generation import CandidateGenerator

        return CandidateGenerator(
            ann_index=self.ann_index,
            tfidf_vectorizer=self.vectorizer,
            ann_concept_aliases_list=self.aliases,
            kb=ConceptKB(self.concepts),  # type: ignore[arg-type]  (duck-typed KnowledgeBase)
        )


def kb_key(vocab_dir: Path, kind: str = "exact") -> str:
    """Hash of every input of the indexes: the term table's inputs, the synonyms, our code,
    the index libraries, kind and parameters. Cheap: hashes files, imports nothing heavy."""
    if kind not in INDEX_KINDS:
        raise ValueError(f"unknown index kind {kind!r}; expected one of {INDEX_KINDS}")
    digest = hashlib.sha256()
    digest.update(cache.content_key(vocab_dir, SOURCES).encode())
    params = HNSW_PARAMS if kind == "hnsw" else {}
    digest.update(json.dumps([INDEX_FORMAT, kind, params, list(kb.KB_NAMES)]).encode())
    for package in ("scikit-learn", "nmslib-metabrainz", "scispacy"):
        try:
            digest.update(importlib.metadata.version(package).encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(b"<none>")
    own_code = [Path(m.__file__) for m in (kb,) if m.__file__] + [Path(__file__)]
    cache._hash_files(digest, [*own_code, *kb.synonym_input_files(vocab_dir)])
    return digest.hexdigest()[:16]


def _vectorizer(vocabulary: list[str] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 3), dtype=np.float32, vocabulary=vocabulary
    )


def _index(vectors, kind: str, build: bool):
    if kind == "exact":
        return ExactCosineIndex(vectors)
    import nmslib

    index = nmslib.init(
        method="hnsw", space="cosinesimil_sparse", data_type=nmslib.DataType.SPARSE_VECTOR
    )
    index.addDataPointBatch(vectors)
    if build:  # (query parameters on a graph not yet built or loaded crash nmslib)
        index.createIndex(HNSW_PARAMS, print_progress=False)
        index.setQueryTimeParams({"efSearch": EF_SEARCH})
    return index


def build_index(
    kb_name: str, concepts: list[Concept], kind: str = "exact"
) -> tuple[LinkerIndex, object]:
    """Fit the vectorizer and build the index; also returns the alias vectors."""
    started = time.perf_counter()
    aliases = [alias for c in concepts for alias in c.aliases]
    vectorizer = _vectorizer()
    vectors = vectorizer.fit_transform(aliases).tocsr()
    keep = np.asarray(vectors.sum(axis=1)).ravel() != 0  # nmslib crashes on empty vectors
    aliases = [a for a, k in zip(aliases, keep, strict=True) if k]
    vectors = vectors[keep]
    index = _index(vectors, kind, build=True)
    built = LinkerIndex(
        kb_name,
        {c.concept_id: c for c in concepts},
        vectorizer,
        index,
        aliases,
        kind,
        time.perf_counter() - started,
    )
    return built, vectors


def save_index(folder: Path, built: LinkerIndex, vectors) -> None:
    """Write one index into ``folder`` (which must exist)."""
    import scipy.sparse

    vocabulary = sorted(built.vectorizer.vocabulary_, key=built.vectorizer.vocabulary_.get)
    (folder / "vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    np.save(folder / "idf.npy", built.vectorizer.idf_.astype(np.float32), allow_pickle=False)
    scipy.sparse.save_npz(folder / "vectors.npz", vectors.tocsr())
    if built.kind == "hnsw":
        built.ann_index.saveIndex(str(folder / "hnsw.bin"))
    payload = {
        "aliases": built.aliases,
        "build_seconds": built.build_seconds,
        "kind": built.kind,
        "concepts": [c.to_row() for c in built.concepts.values()],
    }
    (folder / "kb.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")


def load_index(folder: Path, kb_name: str) -> LinkerIndex:
    """Read one index written by :func:`save_index`."""
    import scipy.sparse

    payload = json.loads((folder / "kb.json").read_text(encoding="utf-8"))
    vocabulary = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
    vectorizer = _vectorizer(vocabulary)
    vectorizer.idf_ = np.load(folder / "idf.npy", allow_pickle=False)
    vectors = scipy.sparse.load_npz(folder / "vectors.npz").astype(np.float32)
    kind = payload["kind"]
    index = _index(vectors, kind, build=False)
    if kind == "hnsw":
        index.loadIndex(str(folder / "hnsw.bin"))
        index.setQueryTimeParams({"efSearch": EF_SEARCH})
    concepts = [Concept.from_row(row) for row in payload["concepts"]]
    return LinkerIndex(
        kb_name,
        {c.concept_id: c for c in concepts},
        vectorizer,
        index,
        payload["aliases"],
        kind,
        float(payload["build_seconds"]),
    )


def load_indexes(
    vocab_dir: Path, cache_dir: Path | None, kind: str = "exact"
) -> tuple[str, dict[str, LinkerIndex]]:
    """The key and the index of every knowledge base, from cache or built.

    Building takes about 15 s for ``exact`` (most of it reading ICD-10-CM and the drug
    dictionary) and about 160 s for ``hnsw``. ``cache_dir=None`` always builds, stores nothing.
    """
    key = kb_key(vocab_dir, kind)
    folder = cache_dir / f"nlp-linker-{key}" if cache_dir is not None else None
    if folder is not None and (folder / "complete").is_file():
        return key, {name: load_index(folder / name, name) for name in kb.KB_NAMES}
    log.info("building linker indexes (cache miss %s)", key)
    built = {}
    for name in kb.KB_NAMES:
        started = time.perf_counter()
        index, vectors = build_index(name, kb.build_concepts(name, vocab_dir), kind)
        index.build_seconds = time.perf_counter() - started  # with reading the sources
        built[name] = (index, vectors)
    if folder is not None:
        try:
            _write_all(folder, built)
        except OSError as exc:  # a read-only cache must not stop the pipeline
            log.warning("could not write linker cache %s: %s", folder, exc)
    return key, {name: index for name, (index, _) in built.items()}


def _write_all(folder: Path, built: dict[str, tuple[LinkerIndex, object]]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".tmp"))
    try:
        for name, (index, vectors) in built.items():
            (tmp / name).mkdir()
            save_index(tmp / name, index, vectors)
        (tmp / "complete").write_text("ok\n")
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "complete").is_file():  # another builder won only if it finished
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
