"""Repair misheard medical terms after recognition ("met for min" -> "metformin").

Whisper tiny.en often spells a drug or problem it does not know as a run of short words or
a near-miss ("i bue profen", "auto immune", "a trail fibrillation", "atorvastatine"). This
pass looks at word n-grams (1..3 words) of every segment and replaces one with a vocabulary
term only when the match is strong:

- spelling: the n-gram's letters (spaces removed) are within a small edit distance of the
  term's letters (0 for short terms, 1 from 7 letters, 2 from 12 letters); a single word
  that Whisper's tokenizer knows as one token (a common English word) is never replaced,
  nor is a plural or singular of the term, nor an n-gram that is itself a known term;
- function-word swaps in a curated phrase: "shortness and breath" -> "shortness of breath".

An n-gram made only of common words must match exactly ("met for min"); n-grams never span
sentence punctuation. Targets are the curated vocabularies (``annotations/vocab``:
medications, problems, tests, procedures) and the single-word drug names of the NLP term
table; terms that are one Whisper token are skipped (nothing to repair). A repaired word
spans the merged words' timings and keeps the lowest of their probabilities.

Runs right after :func:`pipelines.asr.transcribe` and before diarisation.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.paths import VOCAB_DIR
from pipelines.types import Segment, Transcript, Word

log = logging.getLogger(__name__)

CURATED_FILES: tuple[str, ...] = ("medications.tsv", "problems.tsv", "tests.tsv",
                                  "procedures.tsv")
FUNCTION_WORDS = frozenset({"of", "and", "on", "in", "a", "an", "the", "to", "for", "or"})
TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class RepairOptions:
    """How strict the repair is.

    max_ngram: longest run of recognised words that may become one term.
    min_letters: shortest term (letters) that may be produced.
    include_drug_table: also use the single-word drug names of the NLP term table.
    """

    max_ngram: int = 3
    min_letters: int = 6
    include_drug_table: bool = True
    vocab_dir: Path = VOCAB_DIR


def allowed_distance(letters: int) -> int:
    """Edit distance tolerated for a term of this many letters."""
    return 2 if letters >= 12 else 1 if letters >= 7 else 0


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance of ``a`` and ``b``, or ``limit + 1`` as soon as it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def _deletes(key: str) -> set[str]:
    return {key} | {key[:i] + key[i + 1:] for i in range(len(key))}


class TermIndex:
    """Vocabulary terms findable by approximate spelling (1-deletion neighbourhood index)."""

    def __init__(self, terms: Iterable[str], phrases: Iterable[str] = (),
                 count_tokens: TokenCounter | None = None, min_letters: int = 6,
                 known_words: Iterable[str] = ()) -> None:
        self.count_tokens = count_tokens or (lambda text: 2)
        phrases = list(phrases)
        self.curated = {" ".join(p.lower().split()) for p in phrases}
        self.known_words = set(known_words)  # real words that are never a misspelling
        self.terms: dict[str, str] = {}  # letters -> term
        self.known: set[str] = set()  # every term, lower-case, single-spaced
        self.min_letters = min_letters
        self._by_delete: dict[str, set[str]] = {}
        for term in terms:
            self._add(term)
        self.patterns: dict[tuple[str, ...], str] = {}
        for phrase in phrases:
            words = tuple(" ".join(phrase.lower().split()).split())
            if len(words) == 3 and words[1] == "of" and not {words[0], words[2]} & FUNCTION_WORDS:
                self.patterns.setdefault((words[0], "*", words[2]), " ".join(words))

    def _add(self, term: str) -> None:
        clean = " ".join(term.lower().split())
        self.known.add(clean)
        key = _letters(clean)
        if len(key) < self.min_letters or key in self.terms or not re.fullmatch(
                r"[a-z][a-z0-9 '-]*", clean):
            return
        if " " not in clean and self.count_tokens(clean) < 2:
            return  # one Whisper token: the model already knows the word
        self.terms[key] = clean
        for d in _deletes(key):
            # A new set, never an update in place: copies made by with_terms share sets.
            self._by_delete[d] = self._by_delete.get(d, set()) | {key}

    def with_terms(self, terms: Iterable[str]) -> TermIndex:
        """A copy that also repairs towards ``terms`` (a clinician's own vocabulary).

        They rank with the curated terms on ties. The shared default index is not changed,
        and copying it costs a few milliseconds, not the seconds of a rebuild.
        """
        extra = [" ".join(t.lower().split()) for t in terms if t.strip()]
        if not extra:
            return self
        new = copy.copy(self)
        new.terms = dict(self.terms)
        new.known = set(self.known)
        new.curated = self.curated | set(extra)
        new._by_delete = dict(self._by_delete)
        for term in extra:
            new._add(term)
        return new

    def lookup(self, letters: str, max_distance: int) -> tuple[str, int] | None:
        """The closest term within ``max_distance`` edits (ties: the first found), if any."""
        if letters in self.terms:
            return self.terms[letters], 0
        if max_distance <= 0:
            return None
        candidates: set[str] = set()
        for d in _deletes(letters):
            candidates |= self._by_delete.get(d, set())
        best: tuple[int, bool, int, str] | None = None
        for key in candidates:
            limit = min(max_distance, allowed_distance(len(key)))
            dist = levenshtein(letters, key, limit)
            if dist > limit:
                continue
            # Ties: curated terms first, then the length closest to what was heard.
            rank = (dist, self.terms[key] not in self.curated, abs(len(key) - len(letters)), key)
            if best is None or rank < best:
                best = rank
        return (self.terms[best[3]], best[0]) if best else None

    def is_common(self, word: str) -> bool:
        return self.count_tokens(word.lower()) < 2


def _pattern(words: Sequence[str]) -> tuple[str, ...]:
    return tuple("*" if w in FUNCTION_WORDS else w for w in words)


_SPLIT = re.compile(r"^(\W*)(.*?)(\W*)$", re.DOTALL)


def _parts(text: str) -> tuple[str, str, str]:
    """(leading punctuation/space, core, trailing punctuation) of a word's text."""
    match = _SPLIT.match(text)
    assert match
    return match.group(1), match.group(2), match.group(3)


def _is_plural_pair(a: str, b: str) -> bool:
    return a in (b + "s", b + "es") or b in (a + "s", a + "es")


def find_repair(words: Sequence[str], index: TermIndex) -> str | None:
    """The term that the recognised ``words`` (cores, no punctuation) stand for, if any."""
    lowers = [w.lower() for w in words]
    if not all(re.fullmatch(r"[a-z0-9][a-z0-9'-]*", w) for w in lowers):
        return None
    phrase = " ".join(lowers)
    if phrase in index.known:
        return None
    if len(lowers) == 3 and lowers[1] in FUNCTION_WORDS:
        target = index.patterns.get((lowers[0], "*", lowers[2]))
        if target and target != phrase:
            return target
    letters = _letters(phrase)
    common = [index.is_common(w) for w in lowers]
    if len(lowers) == 1 and (common[0] or lowers[0] in index.known_words):
        return None
    max_distance = 0 if all(common) else allowed_distance(len(letters))
    found = index.lookup(letters, max_distance)
    if found is None:
        return None
    term, _ = found
    if _is_plural_pair(letters, _letters(term)):
        return None
    if lowers[0] in FUNCTION_WORDS or lowers[-1] in FUNCTION_WORDS:
        # "a covid test" is an article and a term, not a misheard term; and only curated
        # terms may swallow a function word ("a trail fibrillation").
        rest = lowers[1:] if lowers[0] in FUNCTION_WORDS else lowers[:-1]
        if not rest or term not in index.curated or index.lookup(
                _letters(" ".join(rest)), allowed_distance(len(_letters(term)))) is not None:
            return None
    if len(lowers) == 1 and " " in term:
        return None  # one word becoming a phrase is a guess, not a repair
    if any(w == term for w in lowers):
        return None
    return term


def repair_words(words: Sequence[Word], index: TermIndex,
                 options: RepairOptions = RepairOptions()) -> tuple[tuple[Word, ...], int]:
    """``words`` with misheard terms merged and replaced; also the number of repairs."""
    out: list[Word] = []
    repairs = 0
    i = 0
    while i < len(words):
        done = False
        for n in range(min(options.max_ngram, len(words) - i), 0, -1):
            span = words[i:i + n]
            parts = [_parts(w.text) for w in span]
            # No sentence punctuation inside the span (only around it).
            if any(p[2] not in ("", "-") for p in parts[:-1]) or any(
                    p[0].strip() not in ("", "-") for p in parts[1:]):
                continue
            term = find_repair([p[1] for p in parts], index)
            heard = "".join(w.text for w in span).strip().lower()
            if term is None or heard.strip(".,;:!?") == term:  # "nt-probnp" as 2 words
                continue
            lead, first, _ = parts[0]
            tail = parts[-1][2]
            if first[:1].isupper():
                term = term[:1].upper() + term[1:]
            out.append(Word(start=span[0].start, end=span[-1].end,
                            text=f"{lead}{term}{tail}",
                            probability=min(w.probability for w in span)))
            log.info("term repair: %r -> %r", "".join(w.text for w in span).strip(), term)
            repairs += 1
            i += n
            done = True
            break
        if not done:
            out.append(words[i])
            i += 1
    return tuple(out), repairs


def repair_transcript(transcript: Transcript, index: TermIndex | None = None,
                      options: RepairOptions = RepairOptions()) -> Transcript:
    """``transcript`` with misheard medical terms repaired (segments without words kept)."""
    index = index or default_index(options)
    segments: list[Segment] = []
    for segment in transcript.segments:
        if not segment.words:
            segments.append(segment)
            continue
        words, count = repair_words(segment.words, index, options)
        if count:
            text = "".join(w.text for w in words).strip()
            segments.append(replace(segment, words=words, text=text))
        else:
            segments.append(segment)
    return transcript.with_segments(tuple(segments))


def curated_terms(vocab_dir: Path = VOCAB_DIR) -> list[str]:
    """Every surface form of the curated vocabularies (term, name and drug columns)."""
    import csv

    out: list[str] = []
    for name in CURATED_FILES:
        path = vocab_dir / name
        if not path.is_file():
            continue
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                for column in ("term", "drug", "name"):
                    value = (row.get(column) or "").strip()
                    if value:
                        out.append(value)
    return out


def drug_table_words() -> tuple[list[str], set[str]]:
    """Single-word drug names of the NLP term table (cached build), and every word of the
    table's problem, test, procedure and anatomy terms ("systolic" is a real word, never a
    misspelt "bystolic")."""
    import spacy

    from pipelines.nlp.cache import default_cache_dir, load_term_table
    from pipelines.nlp.vocab import SOURCES
    from pipelines.nlp.vocab import VOCAB_DIR as NLP_VOCAB_DIR

    table = load_term_table(spacy.blank("en").tokenizer, NLP_VOCAB_DIR, SOURCES,
                            default_cache_dir())
    drugs = [key for key, entry in table.items()
             if entry.label == "MEDICATION" and re.fullmatch(r"[a-z]+", key)]
    known = {word for key, entry in table.items() if entry.label != "MEDICATION"
             for word in key.split() if word.isalpha()}
    return drugs, known


@functools.lru_cache(maxsize=2)
def default_index(options: RepairOptions = RepairOptions()) -> TermIndex:
    """The index over curated terms (+ drug names), counting tokens with tiny.en's tokenizer."""
    from pipelines.biasing import model_token_counter

    curated = curated_terms(options.vocab_dir)
    drugs, known = drug_table_words() if options.include_drug_table else ([], set())
    return TermIndex(curated + drugs, phrases=curated,
                     count_tokens=model_token_counter("tiny.en"),
                     min_letters=options.min_letters, known_words=known)
