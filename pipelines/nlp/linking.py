"""Concept linking: ICD-10-CM codes for problems, normalised drugs for medications.

Runs after the term matcher. For every PROBLEM and MEDICATION entity it asks scispaCy's
``CandidateGenerator`` (TF-IDF character 3-grams over our knowledge bases, ``kb`` and
``linking_index``) for the nearest concepts, by the abbreviation's long form when there is one
(scispaCy's ``AbbreviationDetector`` in the same text, else ``abbreviations.tsv``), and

- keeps an exact-vocabulary code (the matcher's) and lists the alternatives beside it;
- fills a missing code when the best candidate scores at least ``threshold``; curated
  drug-class terms ("water pill", "statin") deliberately have none and keep none;
- finds mentions the exact matcher missed: abbreviations written as such ("SOB", "DKD" after
  its definition) and misheard or misspelt terms ("amlodapine", "hypertenshun", "atrial
  fibrilation"). A misspelling must contain a word that is not common English (not one
  Whisper token, not a stop word, not a word of the vocabularies) and be within the edit
  distance that ``term_repair`` allows of a concept's alias.

Each linked span gets ``Span._.scribe_link`` (a :class:`LinkResult`: top-k candidates with
scores) and, like scispaCy's ``EntityLinker``, ``Span._.kb_ents`` ([(concept id, score)]).
Query results are cached per (knowledge base, mention string), so repeated mentions are free.
"""

# No `from __future__ import annotations` here: spaCy validates factory signatures at
# runtime and cannot resolve string annotations.

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from pipelines.nlp.abbreviations import load_abbreviations, looks_like_abbreviation
from pipelines.nlp.cache import default_cache_dir, load_term_table
from pipelines.nlp.kb import KB_LABELS, normalise_alias
from pipelines.nlp.linking_index import LinkerIndex, load_indexes
from pipelines.nlp.matcher import CONCEPT_ATTR, MATCHER_NAME
from pipelines.nlp.vocab import SOURCES, VOCAB_DIR, TermEntry, TermTable, term_key
from pipelines.term_repair import allowed_distance, levenshtein

LINKER_NAME = "scribe_linker"
LINKER_VERSION = "scribe_linker.v1"
LINK_ATTR = "scribe_link"
LINKED_LABELS: dict[str, str] = {label: kb for kb, label in KB_LABELS.items()}
CACHE_ENTRIES = 20_000
MAX_NGRAM = 3
PREFIX_LETTERS = 4
ANN_NEIGHBOURS = 30  # aliases fetched per query (scispaCy's default k), grouped into concepts
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]")

if not Span.has_extension(LINK_ATTR):
    Span.set_extension(LINK_ATTR, default=None)
if not Span.has_extension("kb_ents"):  # scispaCy EntityLinker's attribute
    Span.set_extension("kb_ents", default=[])


@dataclass(frozen=True)
class Candidate:
    """One concept a mention may mean, with its TF-IDF cosine similarity (0..1)."""

    concept_id: str
    code: str | None
    code_system: str | None
    name: str
    label: str
    score: float
    alias: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "code_system": self.code_system,
            "label": self.name,
            "score": round(self.score, 3),
        }


@dataclass(frozen=True)
class LinkResult:
    """What the linker found for one span. ``how``: ``vocabulary`` (exact term kept),
    ``linked`` (code filled by the linker), ``misspelling`` or ``abbreviation`` (span found
    by the linker), ``unlinked`` (nothing scored high enough)."""

    candidates: tuple[Candidate, ...]
    how: str
    query: str
    score: float | None = None


class ConceptLinker:
    """The linking component. Usable without the factory:
    ``ConceptLinker(indexes, table, abbreviations, key)(doc)``."""

    version = LINKER_VERSION

    def __init__(
        self,
        indexes: dict[str, LinkerIndex],
        table: TermTable,
        abbreviations: dict[str, str],
        kb_key: str,
        threshold: float = 0.7,
        top_k: int = 5,
        is_common: Callable[[str], bool] | None = None,
        name: str = LINKER_NAME,
    ) -> None:
        self.name = name
        self.kb_key = kb_key
        self.threshold = threshold
        self.top_k = top_k
        self.table = table
        self.abbreviations = abbreviations
        self.concepts = {kb: index.concepts for kb, index in indexes.items()}
        self.build_seconds = {kb: index.build_seconds for kb, index in indexes.items()}
        self.generators = {kb: index.candidate_generator() for kb, index in indexes.items()}
        self.alias_owner = {kb: gen.kb.alias_to_cuis for kb, gen in self.generators.items()}
        self.is_common = is_common or (lambda word: len(word) <= 4)
        self.known_words = {w for key in table for w in key.split()} | {
            w for index in indexes.values() for alias in index.aliases for w in alias.split()
        }
        self._cache: OrderedDict[tuple[str, str], tuple[Candidate, ...]] = OrderedDict()
        self._common: dict[str, bool] = {}
        self._lock = threading.Lock()

    # -- candidates -------------------------------------------------------------------

    def candidates(self, kb_name: str, queries: list[str]) -> list[tuple[Candidate, ...]]:
        """Top-k candidates per query (best first), computed once per distinct string."""
        # One lock: the workbench shares one pipeline between its UI and background threads.
        with self._lock:
            missing = sorted({q for q in queries if (kb_name, q) not in self._cache})
            if missing:
                found = self.generators[kb_name](missing, ANN_NEIGHBOURS)
                for query, mention_candidates in zip(missing, found, strict=True):
                    self._remember((kb_name, query), self._rank(kb_name, mention_candidates))
            out = []
            for query in queries:
                self._cache.move_to_end((kb_name, query))
                out.append(self._cache[(kb_name, query)])
            return out

    def link(self, text: str, label: str) -> tuple[Candidate, ...]:
        """Candidates for one mention of a PROBLEM or MEDICATION (for callers and tests)."""
        return self.candidates(LINKED_LABELS[label], [normalise_alias(text)])[0]

    def _rank(self, kb_name: str, mention_candidates: Iterable[Any]) -> tuple[Candidate, ...]:
        concepts = self.concepts[kb_name]
        scored = []
        for mc in mention_candidates:
            best = max(range(len(mc.similarities)), key=mc.similarities.__getitem__)
            c = concepts[mc.concept_id]
            scored.append(
                Candidate(
                    c.concept_id,
                    c.code,
                    c.code_system,
                    c.name,
                    c.label,
                    float(mc.similarities[best]),
                    mc.aliases[best],
                )
            )
        # Ties (one alias, several concepts; or equal scores): the shorter, general code.
        scored.sort(key=lambda c: (-round(c.score, 6), len(c.concept_id), c.concept_id))
        return tuple(scored[: self.top_k])

    def _remember(self, key: tuple[str, str], value: tuple[Candidate, ...]) -> None:
        self._cache[key] = value
        if len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)

    # -- the component ----------------------------------------------------------------

    def __call__(self, doc: Doc) -> Doc:
        long_forms = _doc_long_forms(doc)
        if long_forms:
            self._widen_to_long_forms(doc)
        self._widen_to_aliases(doc)
        linked = [e for e in doc.ents if e.label_ in LINKED_LABELS and e._.get(LINK_ATTR) is None]
        queries = [(LINKED_LABELS[e.label_], self._query(e, long_forms)) for e in linked]
        new_spans = self._abbreviation_spans(doc, long_forms) + self._misspelt_spans(doc)
        results = self._batch(queries)
        for span, (kb_name, query), cands in zip(linked, queries, results, strict=True):
            self._annotate(span, kb_name, query, cands)
        if new_spans:
            taken = {i for e in doc.ents for i in range(e.start, e.end)}
            added = []
            for span, result in new_spans:
                if taken.isdisjoint(range(span.start, span.end)):
                    taken.update(range(span.start, span.end))
                    span._.set(LINK_ATTR, result)
                    span._.set("kb_ents", [(c.concept_id, c.score) for c in result.candidates])
                    added.append(span)
            doc.ents = sorted([*doc.ents, *added], key=lambda s: s.start)
        return doc

    def _widen_to_long_forms(self, doc: Doc) -> None:
        """A defined long form that the matcher only partly found ("diabetic [kidney
        disease] (DKD)") becomes the entity, with the long form's own concept."""
        ents = list(doc.ents)
        for short in doc._.abbreviations:
            long = short._.long_form
            if not isinstance(long, Span):
                continue
            inside = [e for e in ents if long.start <= e.start and e.end <= long.end]
            if (
                not inside
                or any(e.label_ not in LINKED_LABELS for e in inside)
                or any((e.start, e.end) == (long.start, long.end) for e in inside)
            ):
                continue
            found = self._resolve_long_form(normalise_alias(long.text))
            if found is None or found[0].label not in LINKED_LABELS:
                continue
            entry, cands = found
            span = Span(doc, long.start, long.end, label=entry.label)
            span._.set(CONCEPT_ATTR, entry)
            how = "vocabulary" if entry.source != "linker" else "linked"
            span._.set(
                LINK_ATTR,
                LinkResult(
                    cands, how, normalise_alias(long.text), cands[0].score if cands else 1.0
                ),
            )
            span._.set("kb_ents", [(c.concept_id, c.score) for c in cands])
            ents = [e for e in ents if e not in inside] + [span]
        doc.ents = sorted(ents, key=lambda e: e.start)

    def _widen_to_aliases(self, doc: Doc) -> None:
        """An entity whose preceding word(s) make a longer alias of a concept ("diabetic
        [neuropathy]", "essential [hypertension]") grows to that alias and its concept."""
        ents = list(doc.ents)
        changed = False
        for n, ent in enumerate(ents):
            kb_name = LINKED_LABELS.get(ent.label_)
            if kb_name is None:
                continue
            floor = ents[n - 1].end if n else 0
            for start in range(max(floor, ent.start - 2), ent.start):
                words = doc[start : ent.start]
                if not all(_WORD.fullmatch(t.lower_) for t in words):
                    continue
                alias = normalise_alias(doc[start : ent.end].text)
                owners = self.alias_owner[kb_name].get(alias)
                if owners:
                    concept = self.concepts[kb_name][next(iter(owners))]
                    cand = Candidate(
                        concept.concept_id,
                        concept.code,
                        concept.code_system,
                        concept.name,
                        concept.label,
                        1.0,
                        alias,
                    )
                    span = Span(doc, start, ent.end, label=ent.label_)
                    span._.set(CONCEPT_ATTR, _entry(cand, "linker"))
                    ents[n] = span
                    changed = True
                    break
        if changed:
            doc.ents = ents

    def _query(self, span: Span, long_forms: dict[tuple[int, int], str]) -> str:
        long = long_forms.get((span.start, span.end)) or self.abbreviations.get(span.text.lower())
        return long or normalise_alias(span.text)

    def _batch(self, queries: list[tuple[str, str]]) -> list[tuple[Candidate, ...]]:
        by_kb: dict[str, list[str]] = {}
        for kb_name, query in queries:
            by_kb.setdefault(kb_name, []).append(query)
        answers = {
            kb: dict(zip(qs, self.candidates(kb, qs), strict=True)) for kb, qs in by_kb.items()
        }
        return [answers[kb][q] for kb, q in queries]

    def _annotate(self, span: Span, kb_name: str, query: str, cands: tuple[Candidate, ...]):
        entry: TermEntry | None = span._.get(CONCEPT_ATTR)
        if entry is not None and (entry.code or entry.source == "curated"):
            # An exact vocabulary term is right by construction; a curated term without a
            # code is a drug class on purpose. The linker only lists the alternatives.
            # Candidates of a class term ("statin") would be single drugs: none are listed.
            cands = _with_first(cands, entry, kb_name, self.concepts[kb_name]) if entry.code else ()
            result = LinkResult(cands, "vocabulary", query, 1.0 if entry.code else None)
        elif cands and cands[0].score >= self.threshold:
            best = cands[0]
            span._.set(CONCEPT_ATTR, _entry(best, "linker"))
            result = LinkResult(cands, "linked", query, best.score)
        else:
            result = LinkResult(cands, "unlinked", query)
        span._.set(LINK_ATTR, result)
        span._.set("kb_ents", [(c.concept_id, c.score) for c in result.candidates])

    # -- mentions the matcher missed ------------------------------------------------------

    def _abbreviation_spans(
        self, doc: Doc, long_forms: dict[tuple[int, int], str]
    ) -> list[tuple[Span, LinkResult]]:
        out = []
        for token in doc:
            if token.ent_type_:
                continue
            long = long_forms.get((token.i, token.i + 1))
            if long is None and looks_like_abbreviation(token.text):
                long = self.abbreviations.get(token.lower_)
            if long is None:
                continue
            found = self._resolve_long_form(long)
            if found is not None:
                entry, cands = found
                span = Span(doc, token.i, token.i + 1, label=entry.label)
                span._.set(CONCEPT_ATTR, entry)
                out.append(
                    (
                        span,
                        LinkResult(cands, "abbreviation", long, cands[0].score if cands else 1.0),
                    )
                )
        return out

    def _resolve_long_form(self, long: str) -> tuple[TermEntry, tuple[Candidate, ...]] | None:
        entry = self.table.get(term_key(_tokens(long)))
        if entry is not None and entry.label not in LINKED_LABELS:
            return entry, ()  # a vital or a test: the vocabulary says what it is
        best: tuple[Candidate, ...] = ()
        for kb_name in self.generators:
            cands = self.candidates(kb_name, [long])[0]
            if cands and (not best or cands[0].score > best[0].score):
                best = cands
        if entry is not None:
            return entry, best
        if best and best[0].score >= self.threshold:
            return _entry(best[0], "linker"), best
        return None

    def _misspelt_spans(self, doc: Doc) -> list[tuple[Span, LinkResult]]:
        grams = self._candidate_ngrams(doc)
        if not grams:
            return []
        texts = [text for _, _, text in grams]
        per_kb = {kb: self.candidates(kb, texts) for kb in self.generators}
        out: list[tuple[Span, LinkResult]] = []
        end_of_last = -1
        for n, (start, end, text) in enumerate(grams):
            if start < end_of_last:
                continue
            verified = [c for kb in per_kb for c in per_kb[kb][n] if _close(text, _fuzzy_target(c))]
            if not verified:
                continue
            best = max(verified, key=lambda c: c.score)
            cands = per_kb[LINKED_LABELS[best.label]][n]
            span = Span(doc, start, end, label=best.label)
            span._.set(CONCEPT_ATTR, _entry(best, "linker"))
            out.append((span, LinkResult(cands, "misspelling", text, best.score)))
            end_of_last = end
        return out

    def _candidate_ngrams(self, doc: Doc) -> list[tuple[int, int, str]]:
        """(start, end, text) of 1-3 word n-grams with an uncommon word, longest first at
        each start, never crossing an entity or punctuation."""
        usable = [not t.ent_type_ and bool(_WORD.fullmatch(t.lower_)) for t in doc]
        rare = [u and self._uncommon(t) for u, t in zip(usable, doc, strict=True)]
        grams = []
        for start in range(len(doc)):
            if not usable[start] or doc[start].is_stop:
                continue
            for end in range(min(len(doc), start + MAX_NGRAM), start, -1):
                if not all(usable[start:end]) or doc[end - 1].is_stop or not any(rare[start:end]):
                    continue
                text = " ".join(t.lower_ for t in doc[start:end])
                if len(_letters(text)) >= 6:
                    grams.append((start, end, text))
        return grams

    def _uncommon(self, token: Token) -> bool:
        word = token.lower_
        if word not in self._common:
            self._common[word] = (
                len(word) < 4 or token.is_stop or word in self.known_words or self.is_common(word)
            )
        return not self._common[word]


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+|[^\w\s]", text.lower())


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text)


def _close(heard: str, alias: str) -> bool:
    """True when ``heard`` is a misspelling of ``alias``: within term_repair's edit distance
    and with the same first four letters, because a different start is usually a different
    word, often the opposite ("afebrile"/"febrile", "hypolipidemia", "macromastia")."""
    a, b = _letters(heard), _letters(alias)
    if len(b) < 6 or a[:PREFIX_LETTERS] != b[:PREFIX_LETTERS]:
        return False
    limit = allowed_distance(len(b))
    return levenshtein(a, b, limit) <= limit


def _fuzzy_target(candidate: Candidate) -> str:
    """What a misspelling must be close to: a drug's generic name (the dictionary's thousands
    of foreign brand names are too close to ordinary words: "Radicut", "radicul"), else the
    alias that matched."""
    return candidate.concept_id if candidate.label == "MEDICATION" else candidate.alias


def _entry(candidate: Candidate, source: str) -> TermEntry:
    return TermEntry(candidate.label, candidate.code, candidate.code_system, candidate.name, source)


def _with_first(
    cands: tuple[Candidate, ...], entry: TermEntry, kb_name: str, concepts: dict
) -> tuple[Candidate, ...]:
    """The vocabulary's own concept first (score 1.0), then the others."""
    if not entry.code:
        return cands
    concept_id = entry.code if kb_name == "icd10cm" else normalise_alias(entry.code_label or "")
    concept = concepts.get(concept_id)
    own = Candidate(
        concept_id,
        entry.code,
        entry.code_system,
        concept.name if concept else (entry.code_label or ""),
        entry.label,
        1.0,
        "",
    )
    return (own, *(c for c in cands if c.code != entry.code))[: max(len(cands), 1)]


def _doc_long_forms(doc: Doc) -> dict[tuple[int, int], str]:
    """Token spans of abbreviations defined in this text -> their long form."""
    if not Doc.has_extension("abbreviations"):
        return {}
    out = {}
    for short in doc._.abbreviations:
        long = short._.long_form
        text = long.text if isinstance(long, Span) else str(long or "")
        if text:
            out[(short.start, short.end)] = normalise_alias(text)
    return out


@Language.factory(
    LINKER_NAME,
    default_config={
        "cache_dir": "",
        "use_cache": True,
        "vocab_dir": "",
        "threshold": 0.7,
        "top_k": 5,
        "index_kind": "exact",
    },
)
def make_concept_linker(
    nlp: Language,
    name: str,
    cache_dir: str,
    use_cache: bool,
    vocab_dir: str,
    threshold: float,
    top_k: int,
    index_kind: str,
) -> ConceptLinker:
    """spaCy factory. Reuses the matcher's term table when the matcher is in the pipeline."""
    from pipelines.biasing import model_token_counter

    vocab = Path(vocab_dir) if vocab_dir else VOCAB_DIR
    cache = (Path(cache_dir) if cache_dir else default_cache_dir()) if use_cache else None
    if MATCHER_NAME in nlp.pipe_names:
        table = nlp.get_pipe(MATCHER_NAME).table
    else:
        table = load_term_table(nlp.tokenizer, vocab, SOURCES, cache)
    key, indexes = load_indexes(vocab, cache, index_kind)
    count = model_token_counter("tiny.en")  # one Whisper token = a word the recogniser knows
    return ConceptLinker(
        indexes,
        table,
        load_abbreviations(vocab),
        key,
        threshold,
        top_k,
        lambda word: count(word) < 2,
        name=name,
    )
