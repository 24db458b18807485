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

from pipelines.paths import ANNOTATIONS_DIR

PHRASES_PATH = ANNOTATIONS_DIR / "drafting" / "phrases.tsv"
_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
# Words a mapping may never add, drop or change: facts, not wording.
_PROTECTED = frozenset(
    """no not never without denies deny negative positive left right bilateral both zero""".split()
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

    @property
    def targets(self) -> dict[str, str]:
        return {p.source: p.target for p in self.phrases}

    def apply(self, text: str) -> str:
        """``text`` with every mapped phrase replaced by its target."""
        if self._pattern is None:
            return text
        targets = self.targets
        return self._pattern.sub(lambda m: targets[m.group().lower()], text)

    def supported_targets(self, evidence: str) -> set[str]:
        """Target words that the mappings derive from phrases present in ``evidence``."""
        if self._pattern is None:
            return set()
        targets = self.targets
        out: set[str] = set()
        for m in self._pattern.finditer(evidence):
            out.update(_TOKEN.findall(targets[m.group().lower()].lower()))
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
    return _TOKEN.findall(text.lower())


def _mappable(words: list[str]) -> bool:
    return 0 < len(words) <= _MAX_WORDS and not any(
        w in _PROTECTED or any(c.isdigit() for c in w) for w in words
    )


def mine_phrases(
    pairs: Iterable[tuple[str, str, str]],
    min_support: int = 3,
    min_precision: float = 0.3,
) -> PhraseMap:
    """Mappings from (encounter id, spoken sentence, note sentence) pairs.

    A replacement must be seen in ``min_support`` encounters, and the note must use the
    target in ``min_precision`` of the aligned pairs whose spoken side has the source.
    """
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    occurrences: Counter[str] = Counter()
    pair_list = list(pairs)
    for encounter, spoken, written in pair_list:
        a, b = _tokens(spoken), _tokens(written)
        matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op != "replace" or not (_mappable(a[i1:i2]) and _mappable(b[j1:j2])):
                continue
            seen[(" ".join(a[i1:i2]), " ".join(b[j1:j2]))].add(encounter)
    candidates = {k: v for k, v in seen.items() if len(v) >= min_support}
    sources = {s for s, _ in candidates}
    for _, spoken, _ in pair_list:
        text = " ".join(_tokens(spoken))
        for source in sources:
            if re.search(rf"\b{re.escape(source)}\b", text):
                occurrences[source] += 1
    best: dict[str, Phrase] = {}
    for (source, target), encounters in candidates.items():
        precision = len(encounters) / max(occurrences[source], 1)
        phrase = Phrase(source, target, len(encounters), round(precision, 3))
        if precision >= min_precision and (
            source not in best or phrase.support > best[source].support
        ):
            best[source] = phrase
    return PhraseMap(tuple(best.values()))
