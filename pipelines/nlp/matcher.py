"""The medical term matcher: greedy longest match of token n-grams against the term table.

Why not spaCy's PhraseMatcher: it needs every pattern as a Doc, and building one from ~80k
terms takes 5-10 s per process even when the table itself is cached. A dict lookup of
lower-cased token n-grams matches the same things (LOWER attribute, token boundaries), gives
"longest match wins, no overlaps" by construction and costs nothing to build.
"""

# No `from __future__ import annotations` here: spaCy validates factory signatures at
# runtime and cannot resolve string annotations.

from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipelines.nlp.cache import default_cache_dir, load_term_table
from pipelines.nlp.vocab import SOURCES, VOCAB_DIR, TermEntry, TermTable, term_key

MATCHER_NAME = "scribe_medical_matcher"
MATCHER_VERSION = "scribe_medical_matcher.v1"
CONCEPT_ATTR = "scribe_concept"  # Span._.scribe_concept: the matched TermEntry

if not Span.has_extension(CONCEPT_ATTR):
    Span.set_extension(CONCEPT_ATTR, default=None)


def _singular(word: str) -> str | None:
    """A crude singular for plural fallbacks ("headaches" -> "headache"); None if not plural."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return None
    return word[:-1]


class MedicalMatcher:
    """Sets ``doc.ents`` to the longest vocabulary matches, left to right, never overlapping.

    Usable without the factory: ``MedicalMatcher(table)(nlp.make_doc(text))``.
    """

    version = MATCHER_VERSION

    def __init__(self, table: TermTable, name: str = MATCHER_NAME) -> None:
        self.name = name
        self.table = table
        self.first_tokens = {key.split(" ", 1)[0] for key in table}
        self.max_len = max((key.count(" ") + 1 for key in table), default=1)

    def _lookup(self, lowers: list[str]) -> TermEntry | None:
        entry = self.table.get(term_key(lowers))
        if entry is None:
            singular = _singular(lowers[-1])
            if singular:
                entry = self.table.get(term_key([*lowers[:-1], singular]))
        return entry

    def _longest_at(self, lowers: list[str], i: int) -> tuple[int, TermEntry] | None:
        for end in range(min(len(lowers), i + self.max_len), i, -1):
            entry = self._lookup(lowers[i:end])
            if entry is not None:
                return end, entry
        return None

    def __call__(self, doc: Doc) -> Doc:
        lowers = [t.lower_ for t in doc]
        spans: list[Span] = []
        i = 0
        while i < len(lowers):
            first = lowers[i]
            if first in self.first_tokens or (_singular(first) or "") in self.first_tokens:
                found = self._longest_at(lowers, i)
                if found is not None:
                    end, entry = found
                    span = Span(doc, i, end, label=entry.label)
                    span._.set(CONCEPT_ATTR, entry)
                    spans.append(span)
                    i = end
                    continue
            i += 1
        doc.ents = filter_spans([*doc.ents, *spans])  # longest wins over any earlier ents
        return doc


@Language.factory(
    MATCHER_NAME,
    default_config={"cache_dir": "", "use_cache": True, "vocab_dir": "", "sources": list(SOURCES)},
)
def make_medical_matcher(
    nlp: Language,
    name: str,
    cache_dir: str,
    use_cache: bool,
    vocab_dir: str,
    sources: list[str],
) -> MedicalMatcher:
    """spaCy factory. Empty ``cache_dir``/``vocab_dir`` mean the defaults."""
    cache = (Path(cache_dir) if cache_dir else default_cache_dir()) if use_cache else None
    table = load_term_table(
        nlp.tokenizer, Path(vocab_dir) if vocab_dir else VOCAB_DIR, tuple(sources), cache
    )
    return MedicalMatcher(table, name=name)
