"""On-disk cache of the term table, keyed by a content hash of everything that shapes it.

Deriving terms imports ICD-10-CM and the drug dictionary (about 5 s together) and tokenises
~100k phrases; the cached table is a plain JSON file that loads in well under a second.
JSON rather than pickle so that a cache file can never execute code.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import spacy
from spacy.tokenizer import Tokenizer

from pipelines.nlp import drug_terms, icd_terms, vocab
from pipelines.nlp.vocab import TermEntry, TermTable

log = logging.getLogger(__name__)

CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    """``$SCRIBE_CACHE`` if set, else ``~/.cache/scribe-workbench``."""
    env = os.environ.get("SCRIBE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "scribe-workbench"


def _package_files(package: str) -> list[Path]:
    # find_spec does not import the package, so hashing stays cheap on the warm path.
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    return sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _hash_files(digest: hashlib._Hash, files: Iterable[Path]) -> None:
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")


def content_key(vocab_dir: Path, sources: tuple[str, ...]) -> str:
    """Hash of the inputs: curated files, vocabulary packages, our derivation code, spaCy."""
    digest = hashlib.sha256()
    digest.update(json.dumps([CACHE_FORMAT, list(sources), spacy.__version__]).encode())
    own_code = [Path(m.__file__) for m in (vocab, icd_terms, drug_terms) if m.__file__]
    _hash_files(digest, own_code)
    _hash_files(digest, vocab.curated_input_files(vocab_dir))
    for source, package in (
        ("icd10cm", "simple_icd_10_cm"),
        ("drugs", "drug_named_entity_recognition"),
    ):
        if source in sources:
            digest.update(importlib.metadata.version(package.replace("_", "-")).encode())
            _hash_files(digest, _package_files(package))
    return digest.hexdigest()[:20]


def _read(path: Path, key: str) -> TermTable | None:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if payload.get("key") != key:
        return None
    return {term: TermEntry.from_row(row) for term, row in payload["terms"].items()}


def _write(path: Path, key: str, table: TermTable) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"key": key, "terms": {term: e.to_row() for term, e in table.items()}}
    # Write then rename, so a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_term_table(
    tokenizer: Tokenizer,
    vocab_dir: Path,
    sources: tuple[str, ...],
    cache_dir: Path | None,
) -> TermTable:
    """The term table from cache when its inputs are unchanged, else built and cached.

    ``cache_dir=None`` disables the cache (always builds).
    """
    if cache_dir is None:
        return vocab.build_term_table(tokenizer, vocab_dir, sources)
    key = content_key(vocab_dir, sources)
    path = cache_dir / f"nlp-terms-{key}.json"
    table = _read(path, key)
    if table is not None:
        return table
    log.info("building NLP term table (cache miss %s)", key)
    table = vocab.build_term_table(tokenizer, vocab_dir, sources)
    try:
        _write(path, key, table)
    except OSError as exc:  # a read-only cache must not stop the pipeline
        log.warning("could not write NLP term cache %s: %s", path, exc)
    return table
