"""The medical term matcher: greedy longest match of token n-grams against the term table.

Why not spaCy's PhraseMatcher: it needs every pattern as a Doc, and building one from ~80k
terms takes 5-10 s per process even when the table itself is cached. A dict lookup of
lower-cased token n-grams matches the same things (LOWER attribute, token boundaries), gives
"longest match wins, no overlaps" by construction and costs nothing to build.

Two curated lists shape the matches further: ``not_mentions.tsv`` holds phrases that contain
a term but are no mention ("right hand side", "doctor's surgery", "ice cream"); they compete
in the longest match and, when they win, hide the term. ``site_rules.tsv`` drives the body-site
rules of the annotation guideline (:mod:`pipelines.nlp.site_rules`).
"""

# No `from __future__ import annotations` here: spaCy validates factory signatures at
# runtime and cannot resolve string annotations.

from pathlib import Path

from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipelines.nlp.cache import default_cache_dir, load_term_table
from pipelines.nlp.site_rules import SiteRules
from pipelines.nlp.vocab import SOURCES, VOCAB_DIR, TermEntry, TermTable, read_tsv, term_key

MATCHER_NAME = "scribe_medical_matcher"
MATCHER_VERSION = "scribe_medical_matcher.v2"
CONCEPT_ATTR = "scribe_concept"  # Span._.scribe_concept: the matched TermEntry
NOT_MENTIONS_FILE = "not_mentions.tsv"

if not Span.has_extension(CONCEPT_ATTR):
    Span.set_extension(CONCEPT_ATTR, default=None)


def _singulars(word: str) -> tuple[str, ...]:
    """Crude singulars for plural fallbacks ("headaches" -> "headache", "rashes" -> "rash",
    "injuries" -> "injury"); empty if the word does not look plural."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return ()
    if word.endswith("ies"):
        return (word[:-3] + "y", word[:-1])
    if word.endswith(("shes", "ches", "xes", "sses", "zes")):
        return (word[:-1], word[:-2])
    return (word[:-1],)


def _lookup_form(word: str) -> str:
    """The form a token is looked up in: a word cut off mid-speech ("pain-") without its
    dash."""
    if len(word) > 2 and word.endswith("-") and word[-2].isalpha():
        return word[:-1]
    return word


def read_not_mentions(tokenizer: Tokenizer, vocab_dir: Path = VOCAB_DIR) -> frozenset[str]:
    """Table keys of the phrases in ``not_mentions.tsv`` (tokenised like the terms)."""
    path = vocab_dir / NOT_MENTIONS_FILE
    if not path.exists():
        return frozenset()
    rows = read_tsv(path)
    return frozenset(
        term_key(t.lower_ for t in tokenizer(row["term"]) if not t.is_space) for row in rows
    )


class MedicalMatcher:
    """Sets ``doc.ents`` to the longest vocabulary matches, left to right, never overlapping.

    Usable without the factory: ``MedicalMatcher(table)(nlp.make_doc(text))``.
    """

    version = MATCHER_VERSION

    def __init__(
        self,
        table: TermTable,
        name: str = MATCHER_NAME,
        not_mentions: frozenset[str] = frozenset(),
        site_rules: SiteRules | None = None,
    ) -> None:
        self.name = name
        self.table = table
        self.not_mentions = not_mentions
        self.site_rules = site_rules
        # Every token prefix of every key: the scan at a token stops as soon as no longer
        # term can start with the words read so far.
        self.prefixes: set[str] = set()
        for key in (*table, *not_mentions):
            words = key.split(" ")
            self.prefixes.update(" ".join(words[:n]) for n in range(1, len(words) + 1))
        self.max_len = max((key.count(" ") + 1 for key in self.prefixes), default=1)

    def _lookup(self, lowers: list[str]) -> TermEntry | None:
        entry = self.table.get(term_key(lowers))
        if entry is None:
            for singular in _singulars(lowers[-1]):
                entry = self.table.get(term_key([*lowers[:-1], singular]))
                if entry is not None:
                    break
        return entry

    def _longest_at(self, lowers: list[str], i: int) -> tuple[int, TermEntry | None] | None:
        """End and entry of the longest term at ``i``; entry None for a not-mention."""
        found = None
        for end in range(i + 1, min(len(lowers), i + self.max_len) + 1):
            key = term_key(lowers[i:end])
            if key in self.not_mentions:
                found = (end, None)
            else:
                entry = self._lookup(lowers[i:end])
                if entry is not None:
                    found = (end, entry)
            if key not in self.prefixes:
                break
        return found

    def __call__(self, doc: Doc) -> Doc:
        lowers = [_lookup_form(t.lower_) for t in doc]
        matches: list[tuple[int, int, str, TermEntry]] = []
        i = 0
        while i < len(lowers):
            found = self._longest_at(lowers, i)
            if found is not None:
                end, entry = found
                if entry is not None:
                    matches.append((i, end, entry.label, entry))
                i = end
                continue
            i += 1
        if self.site_rules is not None:
            matches = self.site_rules.apply(doc, lowers, matches, self._lookup)
        spans = []
        for start, end, label, entry in matches:
            span = Span(doc, start, end, label=label)
            span._.set(CONCEPT_ATTR, entry)
            spans.append(span)
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
    folder = Path(vocab_dir) if vocab_dir else VOCAB_DIR
    table = load_term_table(nlp.tokenizer, folder, tuple(sources), cache)
    return MedicalMatcher(
        table,
        name=name,
        not_mentions=read_not_mentions(nlp.tokenizer, folder),
        site_rules=SiteRules.load(folder),
    )
