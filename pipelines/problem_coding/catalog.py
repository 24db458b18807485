"""ICD-10-CM as a lookup (descriptions, parents, children) and a word search over descriptions.

Built from the installed ``simple-icd-10-cm`` package (the classification the linker and the
entity editor use); nothing is downloaded. Loading walks the whole classification (about
98k codes, a few seconds), so callers build one catalog and pass it around.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Words that say nothing about which condition a description names.
STOPWORDS = frozenset(
    """a an and as at by for from in into of on or the to with without my your his her their
    is are was were be been has have had this that it its not no due than other""".split()
)
# Words of coder vocabulary that a heard problem name never needs to match.
CODER_WORDS = frozenset("unspecified specified elsewhere classified nos".split())
_WORD = re.compile(r"[a-z0-9]+")
_PAREN = re.compile(r"\([^)]*\)")
# Descriptions with these words are the classification's default for a condition.
_DEFAULT_WORDS = frozenset({"unspecified", "without"})


def words(text: str) -> tuple[str, ...]:
    """Lower-cased, lightly stemmed content words ("Knees hurt" -> ("knee", "hurt"))."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS:
            continue
        # a plural "s" only: "knees" -> "knee", but "diabetes" and "stress" stay whole
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "es", "is")):
            word = word[:-1]
        out.append(word)
    return tuple(out)


@dataclass(frozen=True)
class CatalogMatch:
    """A code whose description matches a search: ``score`` in 0..1, ``matched`` its words."""

    code: str
    description: str
    score: float
    matched: tuple[str, ...]


class IcdCatalog:
    """ICD-10-CM codes with descriptions and their hierarchy; billable (leaf) codes searchable.

    ``descriptions`` maps every category and code to its description; ``parents`` a code to
    its parent category or subcategory (absent for categories); ``leaves`` are the codes a
    claim can carry; ``terms`` are a leaf's inclusion terms ("high blood pressure" for I10),
    searched like its description.
    """

    def __init__(
        self,
        descriptions: Mapping[str, str],
        parents: Mapping[str, str],
        leaves: frozenset[str],
        terms: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._descriptions = dict(descriptions)
        self._parents = dict(parents)
        self._children: dict[str, list[str]] = {}
        for child, parent in self._parents.items():
            self._children.setdefault(parent, []).append(child)
        self._leaves = leaves
        self._words = {code: _content(d) for code, d in descriptions.items()}
        terms = terms or {}
        # every searchable wording of a leaf: its description and its inclusion terms
        self._variants = {
            code: (self._words[code], *(_content(t) for t in terms.get(code, ())))
            for code in leaves
        }
        self._index: dict[str, list[str]] = {}
        for code in sorted(leaves):
            for word in frozenset().union(*self._variants[code]):
                self._index.setdefault(word, []).append(code)

    def __contains__(self, code: object) -> bool:
        return code in self._descriptions

    def description(self, code: str) -> str:
        """The official description; raises KeyError for a code the classification lacks."""
        return self._descriptions[code]

    def parent(self, code: str) -> str | None:
        """The category or subcategory ``code`` belongs to (None for a category)."""
        return self._parents.get(code)

    def children(self, code: str) -> tuple[str, ...]:
        """The codes one level below ``code``, in code order."""
        return tuple(sorted(self._children.get(code, ())))

    def is_leaf(self, code: str) -> bool:
        """True for a billable code (no codes below it)."""
        return code in self._leaves

    def _default(self, code: str) -> bool:
        return bool(_DEFAULT_WORDS & set(_WORD.findall(self._descriptions[code].lower())))

    def description_words(self, code: str) -> frozenset[str]:
        """The description's content words, coder vocabulary removed."""
        return self._words[code]

    def search(self, text: str, limit: int = 3, min_score: float = 0.5) -> tuple[CatalogMatch, ...]:
        """Billable codes whose descriptions share the most words with ``text``.

        ``score`` = (share of the query's words found) x sqrt(share of the description's
        words that the query has), the best over the description and the inclusion terms, so
        "right knee pain" ranks "Pain in right knee" above "Pain in unspecified knee" and
        both above longer descriptions. Ties go to the classification's default wording
        ("unspecified", "without complications"), then the shorter description, then the code.
        """
        query = frozenset(words(text))
        if not query:
            return ()
        pool = {code for word in query for code in self._index.get(word, ())}
        scored = []
        for code in pool:
            best: tuple[float, frozenset[str]] = (0.0, frozenset())
            for described in self._variants[code]:
                matched = query & described
                score = len(matched) / len(query) * (len(matched) / max(len(described), 1)) ** 0.5
                best = max(best, (score, matched), key=lambda b: b[0])
            if best[0] >= min_score:
                scored.append((round(best[0], 3), code, tuple(sorted(best[1]))))
        scored.sort(
            key=lambda s: (-s[0], not self._default(s[1]), len(self._descriptions[s[1]]), s[1])
        )
        return tuple(
            CatalogMatch(code, self._descriptions[code], score, matched)
            for score, code, matched in scored[:limit]
        )


def _content(text: str) -> frozenset[str]:
    return frozenset(words(_PAREN.sub(" ", text))) - CODER_WORDS


def load_icd_catalog() -> IcdCatalog:
    """The ICD-10-CM catalog from the installed classification (a few seconds; cache it)."""
    import simple_icd_10_cm as cm  # slow import: loading the classification takes seconds

    descriptions: dict[str, str] = {}
    parents: dict[str, str] = {}
    leaves = set()
    terms: dict[str, tuple[str, ...]] = {}
    for code in cm.get_all_codes(with_dots=True):
        if cm.is_chapter_or_block(code):
            continue
        descriptions[code] = cm.get_description(code)
        parent = cm.get_parent(code)
        if parent and not cm.is_chapter_or_block(parent):
            parents[code] = parent
        if cm.is_leaf(code):
            leaves.add(code)
            terms[code] = (*cm.get_inclusion_term(code), *cm.get_includes(code))
    return IcdCatalog(descriptions, parents, frozenset(leaves), terms)
