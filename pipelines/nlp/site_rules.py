"""Body-site rules of the NER guideline, applied to the term matcher's matches.

The vocabulary knows "knee", "pain" and "x-ray"; people say "right knee", "knee swelling",
"swollen knee", "knee x-ray", "had my appendix out". Rules 4 and 5 of
``annotations/ner_guideline.md`` decide the spans:

- laterality and site words belong to the site: "right middle [finger]" -> ANATOMY
  "right middle finger" (also before a problem, test or procedure that starts with a site:
  "left [knee pain]");
- a site written as part of a problem phrase is inside the PROBLEM: "[knee] [swelling]",
  "[stomach] problems", "swollen [ankle]" -> one PROBLEM span each;
- a site in front of a test or procedure is part of it: "[knee] [x-ray]", "[finger] [splint]";
- an organ taken out is a procedure: "[appendix] out", "[teeth] pulled" -> PROCEDURE;
- a few words are sites only after an owner ("my back", "your lower back"; not "come right
  back", "my back yard"), and a few problems are units after a number ("12 stone").

The word lists are data: ``annotations/vocab/site_rules.tsv`` (columns ``word`` and ``role``).
Spans here are plain ``(start token, end token, label, entry)`` tuples; the matcher turns
them into spaCy spans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from spacy.tokens import Doc

from pipelines.nlp.vocab import VOCAB_DIR, TermEntry, read_tsv

SITE_RULES_FILE = "site_rules.tsv"
ROLES: tuple[str, ...] = (
    "modifier",  # joins the site after it: left, right, upper, middle, index ...
    "owner",  # a guarded site counts after it: my, your, her ...
    "guarded_site",  # a site only after an owner ("my back", "my right back"): back
    "not_site_after",  # a guarded site followed by this is not a site: "back yard"
    "problem_before",  # adjective that makes a PROBLEM with the site after it: swollen
    "problem_after",  # word that makes a PROBLEM with the site before it: problems
    "removable",  # a site that can be taken out: appendix, tonsils
    "removal",  # words after a removable site that make a PROCEDURE: out, taken out
    "unit",  # not a problem right after a number: stone ("12 stone")
)
RULE_SOURCE = "rules"  # TermEntry.source of spans the rules made (the linker may code them)

Match = tuple[int, int, str, TermEntry]
Lookup = Callable[[list[str]], TermEntry | None]


@dataclass(frozen=True)
class SiteRules:
    """Word lists by role; multi-word entries ("taken out") are tuples of lower-cased words."""

    words: dict[str, frozenset[tuple[str, ...]]]

    @classmethod
    def load(cls, vocab_dir: Path = VOCAB_DIR) -> SiteRules:
        """Read ``site_rules.tsv``; an unknown role is an error."""
        words: dict[str, set[tuple[str, ...]]] = {role: set() for role in ROLES}
        for row in read_tsv(vocab_dir / SITE_RULES_FILE, key="word"):
            if row["role"] not in words:
                raise ValueError(
                    f"{SITE_RULES_FILE}: role {row['role']!r} of {row['word']!r} is not one of "
                    f"{ROLES}"
                )
            words[row["role"]].add(tuple(row["word"].lower().split()))
        return cls({role: frozenset(found) for role, found in words.items()})

    def has(self, role: str, words: tuple[str, ...]) -> bool:
        return words in self.words[role]

    def _phrase_at(self, role: str, lowers: list[str], i: int) -> int:
        """End of the longest ``role`` phrase starting at token ``i`` (``i`` if none)."""
        best = i
        for phrase in self.words[role]:
            end = i + len(phrase)
            if end > best and tuple(lowers[i:end]) == phrase:
                best = end
        return best

    def apply(
        self, doc: Doc, lowers: list[str], matches: list[Match], lookup: Lookup
    ) -> list[Match]:
        """The matches after every rule, sorted and never overlapping."""
        matches = self._drop_units(doc, lowers, matches)
        matches = self._guarded_sites(lowers, matches)
        matches = self._modifiers(lowers, matches, lookup)
        return self._merge(lowers, matches, lookup)

    # -- the rules, in order ---------------------------------------------------------------

    def _drop_units(self, doc: Doc, lowers: list[str], matches: list[Match]) -> list[Match]:
        return [
            m
            for m in matches
            if not (
                m[2] == "PROBLEM"
                and m[0] > 0
                and doc[m[0] - 1].like_num
                and self.has("unit", tuple(lowers[m[0] : m[1]]))
            )
        ]

    def _guarded_sites(self, lowers: list[str], matches: list[Match]) -> list[Match]:
        covered = {i for start, end, _, _ in matches for i in range(start, end)}
        added = []
        for i in range(1, len(lowers)):
            if i in covered or not self.has("guarded_site", (lowers[i],)):
                continue
            if i + 1 < len(lowers) and self.has("not_site_after", (lowers[i + 1],)):
                continue
            owned = self.has("owner", (lowers[i - 1],)) or (
                i > 1
                and self.has("modifier", (lowers[i - 1],))
                and self.has("owner", (lowers[i - 2],))
            )
            if owned:
                entry = TermEntry("ANATOMY", None, None, lowers[i].capitalize(), RULE_SOURCE)
                added.append((i, i + 1, "ANATOMY", entry))
        return sorted([*matches, *added], key=lambda m: m[0]) if added else matches

    def _modifiers(self, lowers: list[str], matches: list[Match], lookup: Lookup) -> list[Match]:
        out: list[Match] = []
        for start, end, label, entry in matches:
            floor = out[-1][1] if out else 0
            if label == "ANATOMY" or (
                label != "MEDICATION" and _starts_with_site(lowers, start, end, lookup)
            ):
                while start > floor and self.has("modifier", (lowers[start - 1],)):
                    start -= 1
            out.append((start, end, label, entry))
        return out

    def _merge(self, lowers: list[str], matches: list[Match], lookup: Lookup) -> list[Match]:
        out: list[Match] = []
        n = 0
        while n < len(matches):
            current = matches[n]
            after = matches[n + 1] if n + 1 < len(matches) else None
            merged = None
            if current[2] == "ANATOMY":
                merged = self._site_phrase(lowers, current, after, out, lookup)
            if merged is None:
                out.append(current)
            else:
                if after is not None and merged[1] >= after[1]:
                    n += 1  # the following match is now inside the merged span
                if out and out[-1][1] > merged[0]:
                    out.pop()  # the adjective before the site was its own match ("swollen")
                out.append(merged)
            n += 1
        return out

    def _site_phrase(
        self,
        lowers: list[str],
        site: Match,
        after: Match | None,
        done: list[Match],
        lookup: Lookup,
    ) -> Match | None:
        start, end, _, _ = site
        if after is not None and after[0] == end and after[2] in ("PROBLEM", "TEST", "PROCEDURE"):
            return _span(lowers, start, after[1], after[2], lookup, after[3])
        if self.has("removable", tuple(lowers[start:end])):
            stop = self._phrase_at("removal", lowers, end)
            if stop > end and (after is None or after[0] >= stop):
                return _span(lowers, start, stop, "PROCEDURE", lookup)
        stop = self._phrase_at("problem_after", lowers, end)
        if stop > end and (after is None or after[0] >= stop):
            return _span(lowers, start, stop, "PROBLEM", lookup)
        previous = done[-1] if done else None
        if start > 0 and self.has("problem_before", (lowers[start - 1],)):
            free = previous is None or previous[1] < start
            own = previous is not None and previous[:2] == (start - 1, start)
            if free:
                return _span(lowers, start - 1, end, "PROBLEM", lookup)
            if own and previous[2] == "PROBLEM":
                return _span(lowers, start - 1, end, "PROBLEM", lookup, previous[3])
        return None


def _starts_with_site(lowers: list[str], start: int, end: int, lookup: Lookup) -> bool:
    if end - start < 2:
        return False
    first = lookup(lowers[start : start + 1])
    return first is not None and first.label == "ANATOMY"


def _span(
    lowers: list[str],
    start: int,
    end: int,
    label: str,
    lookup: Lookup,
    head: TermEntry | None = None,
) -> Match:
    """A merged span. Its entry: the vocabulary's when it knows the whole phrase, else the
    code and name of the term it grew from ("[dislocation]" in "shoulder dislocation": a
    general code beats a guessed specific one; the linker lists the specific candidates),
    else none (the linker may fill it in)."""
    entry = lookup(lowers[start:end])
    if entry is None or entry.label != label:
        entry = replace(head, source=RULE_SOURCE) if head is not None else None
        entry = entry or TermEntry(label, None, None, None, RULE_SOURCE)
    return (start, end, label, entry)
