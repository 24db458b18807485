"""Lay -> clinical phrase mappings mined from training pairs ("high blood pressure" ->
"hypertension"), stored as data in ``annotations/drafting/phrases.tsv``.

Mining (``mine_phrases``) compares each transcript sentence with the note sentence it was
aligned to (``alignment``): where a short run of words was replaced by another short run
(``difflib`` opcodes), the pair is counted. A mapping is kept when it was seen in enough
encounters and, wherever its source phrase occurs in an aligned sentence, the note used the
target often enough. Numbers, negations and laterality are never mapped, so a mapping can
change the wording but not the facts.

The support check applies the same mappings to the evidence: a mapped word counts as
supported when its source phrase is in the evidence.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.drafting.lexicon import STOPWORDS, TOKEN
from pipelines.drafting.numbers import write_numbers
from pipelines.drafting.person import expand_contractions
from pipelines.paths import ANNOTATIONS_DIR

PHRASES_PATH = ANNOTATIONS_DIR / "drafting" / "phrases.tsv"
# Curated noun forms of symptom words ("lightheaded" -> "lightheadedness"), applied only to
# entity phrases (chief complaint, review of systems, problem names), never to sentences.
TERMS_PATH = ANNOTATIONS_DIR / "drafting" / "terms.tsv"
# Words a mapping may never add, drop or change: facts, not wording.
_PROTECTED = frozenset(
    """no not never without denies deny negative positive left right bilateral both zero
    dragon""".split()  # "hey dragon, show me ...": a voice-assistant command, not wording
)
_MAX_WORDS = 3


@dataclass(frozen=True)
class Phrase:
    """One mapping: ``source`` words (lower case) are written as ``target`` in notes."""

    source: str
    target: str
    support: int = 0  # encounters in which the replacement was seen
    precision: float = 0.0  # share of aligned occurrences of source that the note replaced


@dataclass(frozen=True)
class PhraseMap:
    """An ordered set of phrase mappings (longest source first) applied to whole words."""

    phrases: tuple[Phrase, ...] = ()
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.phrases, key=lambda p: (-len(p.source), p.source)))
        object.__setattr__(self, "phrases", ordered)
        if ordered:
            alternatives = "|".join(re.escape(p.source) for p in ordered)
            object.__setattr__(
                self, "_pattern", re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)
            )

    def merged(self, other: PhraseMap) -> PhraseMap:
        """Both maps' mappings (``other`` wins where both map the same source)."""
        mine = {p.source: p for p in self.phrases}
        mine.update({p.source: p for p in other.phrases})
        return PhraseMap(tuple(mine.values()))

    @property
    def targets(self) -> dict[str, str]:
        return {p.source: p.target for p in self.phrases}

    def apply(self, text: str) -> str:
        """``text`` with every mapped phrase replaced by its target."""
        if self._pattern is None:
            return text
        targets = self.targets
        return self._pattern.sub(lambda m: targets[m.group().lower()], text)

    def apply_whole(self, phrase: str) -> str:
        """The target when the whole phrase is a source ("dizzy" -> "dizziness"), else the
        phrase as it is ("sore throat" keeps "sore")."""
        return self.targets.get(phrase.strip().lower(), phrase)

    def supported_targets(self, evidence: str) -> set[str]:
        """Target words that the mappings derive from phrases present in ``evidence``."""
        if self._pattern is None:
            return set()
        targets = self.targets
        out: set[str] = set()
        for m in self._pattern.finditer(evidence):
            out.update(TOKEN.findall(targets[m.group().lower()].lower()))
        return out


def load_phrases(path: Path = PHRASES_PATH) -> PhraseMap:
    """The phrase map stored at ``path`` (an empty map when the file does not exist)."""
    if not Path(path).is_file():
        return PhraseMap()
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return PhraseMap(
        tuple(
            Phrase(r["source"], r["target"], int(r["support"]), float(r["precision"])) for r in rows
        )
    )


def save_phrases(phrases: PhraseMap, path: Path = PHRASES_PATH) -> None:
    """Write the map as TSV (``source, target, support, precision``), sorted by source."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["source", "target", "support", "precision"])
        for p in sorted(phrases.phrases, key=lambda p: p.source):
            writer.writerow([p.source, p.target, p.support, f"{p.precision:.3f}"])


def _tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


# Who a sentence is about and how it is framed: person rules handle these, not mappings.
_PERSON = frozenset(
    """she he her his him hers herself himself patient patient's denies reports states
    endorses notes""".split()
)


# Conversational words with no clinical meaning of their own: never the source of a mapping
# (a miner would otherwise learn "here" -> "who presents" from "I'm here for ...").
_DISCOURSE = frozenset(
    """here there now today okay ok well yeah yes like right sure good great really thing
    things stuff kind lot bit little pretty guess know think mean going got get go see look
    want tell say said come came back way actually sort time""".split()
)


def _mappable(words: list[str]) -> bool:
    """A short run with content, no pronoun, number, negation or laterality."""
    return (
        0 < len(words) <= _MAX_WORDS
        and any(w not in STOPWORDS and w not in _DISCOURSE for w in words)
        and not any(w in _PROTECTED or w in _PERSON or any(c.isdigit() for c in w) for w in words)
    )


def _spoken_form(text: str) -> str:
    # What restatement does anyway (digits, spelt-out contractions) is not a phrase to learn.
    return " ".join(_tokens(write_numbers(expand_contractions(text))))


def mine_phrases(
    pairs: Iterable[tuple[str, str, str]],
    min_support: int = 3,
    min_precision: float = 0.15,
) -> PhraseMap:
    """Mappings from (encounter id, spoken sentence, note sentence) pairs.

    A replacement (``difflib`` "replace" of at most three words on each side, both sides
    with a content word) must be seen in ``min_support`` encounters, and in at least
    ``min_precision`` of the aligned pairs whose spoken side contains the source.
    """
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    replaced: Counter[tuple[str, str]] = Counter()
    spoken_texts: list[str] = []
    for encounter, spoken, written in pairs:
        a, b = _spoken_form(spoken).split(), _tokens(written)
        spoken_texts.append(" ".join(a))
        matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "replace" and _mappable(a[i1:i2]) and _mappable(b[j1:j2]):
                key = (" ".join(a[i1:i2]), " ".join(b[j1:j2]))
                seen[key].add(encounter)
                replaced[key] += 1
    best: dict[str, Phrase] = {}
    for (source, target), encounters in sorted(seen.items()):
        if len(encounters) < min_support:
            continue
        pattern = re.compile(rf"\b{re.escape(source)}\b")
        occurrences = sum(1 for text in spoken_texts if pattern.search(text))
        precision = replaced[(source, target)] / max(occurrences, 1)
        phrase = Phrase(source, target, len(encounters), round(precision, 3))
        if precision >= min_precision and (
            source not in best or phrase.support > best[source].support
        ):
            best[source] = phrase
    return PhraseMap(tuple(best.values()))
