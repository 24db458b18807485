"""Name gazetteers and word lists for the name recogniser (loaded once per process).

First and last names come from Faker's person providers (MIT licence; the en_US lists are
built from US Census and Social Security name frequencies), for several English- and
Spanish-speaking locales. Whether a name is also an everyday word is decided with the
``web2`` list of the english-words package (MIT; Webster's Second International, public
domain), where only proper nouns are capitalised, refined by the hand-reviewed lists in
``annotations/deid/`` (see its README).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.metadata
import json
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pipelines.paths import ANNOTATIONS_DIR, VOCAB_DIR

DATA_DIR = ANNOTATIONS_DIR / "deid"
LOCALES: tuple[str, ...] = ("en_US", "en_GB", "en_IE", "en_IN", "en_NZ", "es_MX")
_FIRST_ATTRS = ("first_names", "first_names_female", "first_names_male")
_TOKEN = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class NameLexicon:
    """Lower-case, accent-free word sets used to classify a token.

    - ``first``/``last``: gazetteer names; ``words``: lower-case English words (web2);
    - ``overrides``: names despite being in ``words``;
    - ``common``: everyday words that are names only in strong context;
    - ``not_names``: never names; ``clinical``: one-word drug names and clinical vocabulary
      terms, never names ("xeljanz");
    - ``eponyms``: names of diseases and signs when followed by "'s" or a disease word;
    - ``needs_context``: names that are also places or nationalities ("georgia", "french"),
      counted only in context.
    """

    first: frozenset[str]
    last: frozenset[str]
    words: frozenset[str]
    overrides: frozenset[str]
    common: frozenset[str]
    not_names: frozenset[str]
    eponyms: frozenset[str]
    needs_context: frozenset[str] = frozenset()
    clinical: frozenset[str] = frozenset()

    def is_gazetteer(self, word: str) -> bool:
        return word in self.first or word in self.last

    def is_word(self, word: str) -> bool:
        """An English word, also in an inflected form ("weeks", "burns", "talked")."""
        if word in self.words or word in SPOKEN_WORDS:
            return True
        return any(stem in self.words for stem in _stems(word))

    def is_ambiguous(self, word: str) -> bool:
        """A gazetteer name that is also an English word (needs context to count)."""
        if word in self.overrides:
            return False
        return word in self.common or word in self.needs_context or self.is_word(word)


# Conversational words that web2 (a dictionary of headwords) lacks.
SPOKEN_WORDS = frozenset(
    "okay ok yeah yep yup nope uh um uhm hmm mm mhm alright gonna wanna gotta has does was "
    "were is are am been doing having its hers theirs ours yours whom".split()
)


def _stems(word: str) -> list[str]:
    """Candidate base forms of an inflected word: plural, past, -ing, -er, -ly."""
    stems: list[str] = []
    for suffix, repl in (
        ("ies", "y"),
        ("es", ""),
        ("s", ""),
        ("ied", "y"),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("ers", ""),
        ("er", ""),
        ("er", "e"),
        ("ly", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + repl
            stems.append(stem)
            if len(stem) > 3 and stem[-1] == stem[-2]:  # "stopped" -> "stop"
                stems.append(stem[:-1])
    return stems


def fold(text: str) -> str:
    """Lower-case and strip accents ("José" -> "jose")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def read_list(path: Path) -> frozenset[str]:
    """One entry a line; ``#`` starts a comment line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(fold(x.strip()) for x in lines if x.strip() and not x.startswith("#"))


def _faker_names(attrs: tuple[str, ...]) -> frozenset[str]:
    names: set[str] = set()
    for locale in LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in attrs:
            for name in getattr(provider, attr, ()):
                # Multi-word entries ("maría luisa", "del río") give one token each;
                # one- and two-letter pieces ("o", "de") are not names on their own.
                names.update(t for t in _TOKEN.findall(fold(name)) if len(t) > 2)
    return frozenset(names)


@functools.lru_cache(maxsize=1)
def load_lexicon() -> NameLexicon:
    """The gazetteers and word lists (cached for the process; under a second once the
    clinical words are in the on-disk cache)."""
    from english_words import get_english_words_set

    web2 = get_english_words_set(["web2"])
    clinical = clinical_words()
    words = frozenset(w for w in web2 if w.islower())
    not_names = read_list(DATA_DIR / "not_names.txt")
    return NameLexicon(
        first=(_faker_names(_FIRST_ATTRS) | read_list(DATA_DIR / "nicknames.txt")) - not_names,
        last=_faker_names(("last_names",)) - not_names,
        words=words,
        overrides=read_list(DATA_DIR / "name_overrides.txt"),
        common=read_list(DATA_DIR / "common_words.txt"),
        not_names=not_names,
        eponyms=read_list(DATA_DIR / "eponyms.txt"),
        needs_context=read_list(DATA_DIR / "needs_context.txt"),
        clinical=clinical - read_list(DATA_DIR / "name_overrides.txt"),
    )


_CLINICAL_SOURCES = ("medications", "problems", "tests", "procedures", "anatomy")


def clinical_words(cache_dir: Path | None = None) -> frozenset[str]:
    """One-word drug names (drug-named-entity-recognition, as the clinical NLP uses them) and
    one-word terms of the project's vocabularies (annotations/vocab).

    Deriving the drug names takes seconds, so the set is cached as JSON in the project's
    cache folder, keyed by the drug package's version and the vocabulary files' bytes.
    """
    from pipelines.nlp.cache import default_cache_dir

    files = [VOCAB_DIR / f"{name}.tsv" for name in _CLINICAL_SOURCES]
    digest = hashlib.sha256(importlib.metadata.version("drug-named-entity-recognition").encode())
    for path in files:
        digest.update(path.read_bytes())
    cache = (cache_dir or default_cache_dir()) / f"deid-clinical-{digest.hexdigest()[:20]}.json"
    if cache.is_file():
        return frozenset(json.loads(cache.read_text(encoding="utf-8")))
    from pipelines.nlp.drug_terms import derive_drug_terms

    words = {t for t in derive_drug_terms() if t.isalpha()}
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            term = fold(line.split("\t", 1)[0].strip())
            if term.isalpha():
                words.add(term)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(sorted(words)), encoding="utf-8")
    tmp.replace(cache)
    return frozenset(words)
