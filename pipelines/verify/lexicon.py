"""Words of notes and transcripts, normalised for comparison, and the checker's word lists.

A sentence's content is its words minus function words (``drafting.rewrite.content_words``),
each reduced to a crude stem so "coughing" meets "cough" and "elevated" meets "elevation".
Framing words ("patient", "reports", "denies") carry no checkable content and weigh 0;
generic note words ("plan", "discussed", "follow") weigh little; everything else weighs 1.
The lists live in ``annotations/verify/terms.tsv`` (``framing``, ``generic``, note
sub-``label``s such as "Medical Reasoning:", ``shorthand`` with its long form, and words
that say the ``same`` in notes and in speech: "unremarkable" -> "normal", "hurts" ->
"pain") and
``annotations/verify/boilerplate.tsv`` (template phrases a note may pad with).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipelines.drafting.rewrite import FRAMING_WORDS, content_words
from pipelines.nlp.abbreviations import load_abbreviations, looks_like_abbreviation
from pipelines.nlp.vocab import read_tsv
from pipelines.paths import ANNOTATIONS_DIR, VOCAB_DIR
from pipelines.verify.numbers import QUANTITY_WORDS

VERIFY_DIR = ANNOTATIONS_DIR / "verify"
GENERIC_WEIGHT = 0.3
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_XRAY = re.compile(r"\bx[- ]?rays?\b")
_SPOKEN_JOINS = re.compile(r"\b(gon|wan) na\b", re.IGNORECASE)
# Numbers, units, frequencies and sides: compared by ``numbers`` and ``sides`` instead.
_NOT_WORDS = QUANTITY_WORDS | {"left", "right", "bilateral", "bilaterally"}
_KINDS = ("framing", "generic", "label", "shorthand", "same")
_LABEL = re.compile(r"^\s*([A-Za-z][A-Za-z ,/&'-]{1,50}):\s+")


@dataclass(frozen=True)
class Lexicon:
    """The checker's word lists (stems for framing/generic, phrases for the rest)."""

    framing: frozenset[str]
    generic: frozenset[str]
    labels: frozenset[str]
    shorthand: dict[str, str]  # note shorthand, spelt out in any case ("f/u", "pt")
    abbreviations: dict[str, str]  # clinical abbreviations, spelt out when written as one
    boilerplate: tuple[tuple[re.Pattern[str], str], ...]
    anatomy: frozenset[str]  # stems of body-part words
    same: dict[str, str] = field(default_factory=dict)  # stem -> stem of the common word

    def weight(self, stem_: str) -> float:
        """How much a content stem counts towards a sentence's checkable content."""
        if stem_ in self.framing:
            return 0.0
        return GENERIC_WEIGHT if stem_ in self.generic else 1.0

    def without_label(self, text: str) -> str:
        """``text`` without a leading note sub-label ("Respiratory: ", "Medical Reasoning: "):
        structure, not a claim. Problem labels ("Hypertension: continue lisinopril") stay."""
        m = _LABEL.match(text)
        if m and " ".join(m.group(1).lower().split()) in self.labels:
            return text[m.end() :]
        return text

    def boilerplate_phrase(self, text: str) -> str | None:
        """The description of the first template phrase in ``text``, or None."""
        low = text.lower()
        return next((desc for pattern, desc in self.boilerplate if pattern.search(low)), None)


def load_lexicon(verify_dir: Path = VERIFY_DIR, vocab_dir: Path = VOCAB_DIR) -> Lexicon:
    """Read the word lists; the NLP's spoken abbreviations count as shorthand too."""
    by_kind: dict[str, list[dict[str, str]]] = {k: [] for k in _KINDS}
    for row in read_tsv(verify_dir / "terms.tsv"):
        if row["kind"] not in by_kind:
            raise ValueError(f"terms.tsv: unknown kind {row['kind']!r} for {row['term']!r}")
        by_kind[row["kind"]].append(row)
    shorthand: dict[str, str] = {}
    for row in by_kind["shorthand"]:
        if not row.get("long_form"):
            raise ValueError(f"terms.tsv: shorthand {row['term']!r} has no long form")
        shorthand[row["term"].lower()] = row["long_form"].lower()
    boilerplate = tuple(
        (re.compile(row["term"]), row["description"])
        for row in read_tsv(verify_dir / "boilerplate.tsv")
    )
    anatomy = {
        stem(word)
        for row in read_tsv(vocab_dir / "anatomy.tsv")
        for word in row["term"].lower().split()
        if word not in ("left", "right", "lower", "upper", "side")
    }
    return Lexicon(
        # The drafter's own framing words ("Reports", "Clinician notes") add no content either.
        framing=frozenset(
            stem(w) for w in [*(r["term"].lower() for r in by_kind["framing"]), *FRAMING_WORDS]
        ),
        generic=frozenset(stem(r["term"].lower()) for r in by_kind["generic"]),
        labels=frozenset(" ".join(r["term"].lower().split()) for r in by_kind["label"]),
        shorthand=shorthand,
        abbreviations=load_abbreviations(vocab_dir),
        boilerplate=boilerplate,
        anatomy=frozenset(anatomy),
        same={stem(r["term"].lower()): stem(r["long_form"].lower()) for r in by_kind["same"]},
    )


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude suffix-stripping stem: "coughing" -> "cough", "allergies" -> "allergy".

    Only needs to be consistent: both sides of every comparison go through it.
    """
    w = word.lower()
    if not w.isalpha() or len(w) <= 3:
        return w
    if w.endswith(("ies", "ied")) and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith(("ches", "shes", "xes", "zes")):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix, repl in (
        ("ations", "at"),
        ("ation", "at"),
        ("ness", ""),
        ("ful", ""),
        ("ment", ""),
        ("ous", ""),
        ("ally", "al"),
        ("ing", ""),
        ("ed", ""),
    ):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: len(w) - len(suffix)] + repl
            break
    if len(w) > 3 and w.endswith("e"):
        w = w[:-1]  # "take" / "taking" -> "tak", "knee" / "knees" -> "kne"
    return w


def same_stem(a: str, b: str) -> bool:
    """Two stems of one word family: equal, or a long shared beginning ("diabet"/"diabetic")."""
    if a == b:
        return True
    if a.isdigit() or b.isdigit():
        return False
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 4 and n >= 0.75 * max(len(a), len(b))


@lru_cache(maxsize=16384)
def _is_content(word: str) -> bool:
    return bool(content_words(word))


_TOKEN_CASED = re.compile(r"[A-Za-z0-9]+(?:/[A-Za-z0-9]*)?")


def expand(text: str, lexicon: Lexicon) -> str:
    """Lower-case ``text`` with shorthand spelt out ("HTN" -> "hypertension", "f/u" ...).

    Clinical abbreviations are spelt out only when written like one ("PAD", not "pad").
    """

    def spell(m: re.Match[str]) -> str:
        word = m.group()
        low = word.lower()
        if low in lexicon.shorthand:
            return lexicon.shorthand[low]
        if low in lexicon.abbreviations and looks_like_abbreviation(word):
            return lexicon.abbreviations[low]
        return low if "/" not in low else low.replace("/", " ")

    text = _SPOKEN_JOINS.sub(r"\1na", text.replace("\u2019", "'"))  # ASR "wan na" -> "wanna"
    return _XRAY.sub("xray", _TOKEN_CASED.sub(spell, text).lower())


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """Lower-case words of ``text`` with their offsets (no expansion)."""
    low = text.lower().replace("\u2019", "'")
    return [(m.group(), m.start(), m.end()) for m in _WORD.finditer(low)]


def content_stems(text: str, lexicon: Lexicon) -> list[str]:
    """Stems of the content words of ``text`` after expanding shorthand, in order."""
    out = []
    for m in _WORD.finditer(expand(text, lexicon)):
        word = m.group()
        if word[0].isdigit() or word in _NOT_WORDS or not _is_content(word):
            continue  # quantities and sides are compared as such, not as words
        s = stem(word)
        out.append(lexicon.same.get(s, s))
    return out
