"""Person names without a statistical NER model: gazetteers, context and capitalisation.

Works on cased text (ASR, notes) and on the lower-cased, space-tokenised dialogues of
ACI-Bench ("hi , mrs. thompson"). A token is a name when

- it is a gazetteer name that is not an English word ("gutierrez", "carolyn");
- a title precedes it ("dr.", "mrs", "miss", "doctor"), a greeting ("hi", "thanks", "bye"),
  an introduction ("my name is", "this is", "next patient is", "i'm seeing"), or it opens
  "X is a 45-year-old" or "X, date of birth";
- it is a gazetteer name next to another name ("sophia brown"), or a comma-bounded vocative
  ("so , anna , how are you");
- in cased text, it is a gazetteer name capitalised inside a sentence;
- the same word was found by context elsewhere in the text (a patient greeted once is the
  same person later); or it is one of the names the system knows (``known_names``).

Eponyms ("Parkinson's", "Bell's palsy"), drugs and clinical words are kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.deid.lexicon import NameLexicon, fold

_TOKEN = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*|\d+|[^\w\s]", re.UNICODE)
TITLES = frozenset("dr doctor mr mrs ms miss mister missus nurse prof professor".split())
# Titles written as abbreviations, which a full stop may follow ("mrs . brown", "Dr. Lee").
_ABBREVIATED = frozenset("dr mr mrs ms prof".split())
GREETINGS = frozenset(
    "hi hey hello morning afternoon evening thanks thank bye goodbye care welcome".split()
)
_GREETING_BEFORE = {
    "morning": ("good",),
    "afternoon": ("good",),
    "evening": ("good",),
    "care": ("take",),
    "welcome": ("you're", "youre"),
}
_CLAUSE_WORDS = frozenset("that to you for is it the a and of in was will be".split())
_OPENERS = frozenset("alright okay ok so well".split())
# Words that may sit between a greeting and the name: "hi there carolyn", "hey , bobby".
_GREETING_FILLERS = frozenset("there again dear you so".split())
_INTRO = (
    ("my", "name", "is"),
    ("name", "is"),
    ("name's",),
    ("patient", "is"),
    ("patient", ","),
    ("this", "is"),
    ("next", "is"),
    ("seeing",),
    ("dictating", "on"),
    ("call", "me"),
)
# Family and friends: "my son Joey", "my friend diane", "a girl named isabella".
_RELATIONS = tuple(
    (rel,)
    for rel in "son daughter wife husband brother sister mother father mom dad friend cousin "
    "partner boyfriend girlfriend grandson granddaughter named".split()
)
_AFTER_NAME = (
    ("is", "a"),
    ("is", "an"),
    ("is", "here"),
    ("is", "accompanied"),
    ("presents",),
    ("date", "of", "birth"),
    ("dob",),
    ("birth", "date"),
    ("mrn",),
    ("medical", "record"),
)
_EPONYM_NEXT = frozenset(
    "disease diseases syndrome palsy sign signs test maneuver manoeuvre reflex phenomenon "
    "disorder ulcer cyst fracture node nodes lymphoma sarcoma tumor tumour procedure "
    "operation criteria score scale classification stain contracture esophagus triad "
    "neuroma encephalopathy thyroiditis arthritis".split()
)
_SENTENCE_END = frozenset(".?!:;\n]")


@dataclass
class _Tok:
    start: int
    end: int
    text: str
    low: str  # folded; for a possessive "karen's" the stem "karen"
    word: bool
    possessive: bool = False


def tokenize(text: str) -> list[_Tok]:
    """Words (with inner apostrophes), numbers and single punctuation marks."""
    tokens: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        raw = m.group()
        word = raw[0].isalpha()
        end, low, possessive = m.end(), fold(raw), False
        if word and re.search(r"['\u2019]s$", raw, re.IGNORECASE) and len(raw) > 2:
            end, low, possessive = m.end() - 2, fold(raw[:-2]), True
        tokens.append(_Tok(m.start(), end, raw, low, word, possessive))
    return tokens


def is_cased(text: str) -> bool:
    """True when the text uses capital letters (ASR, notes), not ACI-Bench's lower case."""
    return any(c.isupper() for c in text if c != "I")


def find_names(text: str, lexicon: NameLexicon) -> list[tuple[int, int]]:
    """Character spans of person names in ``text`` (adjacent name words form one span)."""
    toks = tokenize(text)
    hits = _Finder(text, toks, lexicon, is_cased(text)).run()
    return _join(text, toks, sorted(hits))


def find_known_names(
    text: str, known_names: Sequence[str], lexicon: NameLexicon | None = None
) -> list[tuple[int, int]]:
    """Every occurrence of a word of the given names ("Dr. Ana Ruiz" -> "ana", "ruiz"),
    whatever its case and context; titles, single letters and the lexicon's never-names
    ("Patient 12" -> nothing) are not name words."""
    known = _known_words(known_names)
    if lexicon is not None:
        known -= lexicon.not_names
    if not known:
        return []
    toks = tokenize(text)
    hits = [i for i, tok in enumerate(toks) if tok.word and tok.low in known]
    return _join(text, toks, hits)


def _known_words(known_names: Sequence[str]) -> set[str]:
    words: set[str] = set()
    for name in known_names:
        for tok in tokenize(name):
            if tok.word and tok.low not in TITLES and len(tok.low) > 1:
                words.add(tok.low)
    return words


class _Finder:
    """One pass of the context rules over one text (state: tokens and hits)."""

    def __init__(self, text: str, toks: list[_Tok], lex: NameLexicon, cased: bool) -> None:
        self.text, self.toks, self.lex, self.cased = text, toks, lex, cased
        self.hits: set[int] = set()
        self.context_words: set[str] = set()

    # -- classification ----------------------------------------------------------------

    def kind(self, i: int) -> str:
        """``strong``, ``ambiguous``, ``common``, ``unknown`` (not a word we know),
        ``word`` (an English word that no gazetteer lists) or ``none``."""
        tok = self.toks[i]
        w = tok.low
        if not tok.word or len(w) < 2 or w in TITLES or w in self.lex.not_names:
            return "none"
        if w in self.lex.clinical:
            return "none"
        if self._eponym(i):
            return "none"
        if "'" in w or "\u2019" in w:
            return "none" if self._has_word_part(w) else "unknown"
        if self.lex.is_gazetteer(w):
            if w in self.lex.common:
                return "common"
            return "ambiguous" if self.lex.is_ambiguous(w) else "strong"
        if len(w) < 3 or self.lex.is_word(w):
            return "word"
        return "unknown"

    def _has_word_part(self, w: str) -> bool:
        # "i'm", "don't", "we'll" are words; "o'brien" is not.
        head, _, tail = w.replace("\u2019", "'").partition("'")
        return len(head) > 1 or tail in ("m", "t", "ll", "re", "ve", "d", "s")

    def _eponym(self, i: int) -> bool:
        tok = self.toks[i]
        if tok.low not in self.lex.eponyms:
            return False
        nxt = self.next_word(i)
        return tok.possessive or (nxt is not None and self.toks[nxt].low in _EPONYM_NEXT)

    def capitalised(self, i: int) -> bool:
        t = self.toks[i].text
        return self.cased and t[:1].isupper() and not (len(t) > 1 and t.isupper())

    def sentence_start(self, i: int) -> bool:
        j = i - 1
        while j >= 0 and not self.toks[j].word and self.toks[j].text in "\"'(":
            j -= 1
        return (
            j < 0
            or self.toks[j].text in _SENTENCE_END
            or (self.text[self.toks[j].end : self.toks[i].start].count("\n") > 0)
        )

    # -- neighbours ---------------------------------------------------------------------

    def prev_word(self, i: int, skip: str = ".,") -> int | None:
        j = i - 1
        while j >= 0 and not self.toks[j].word and self.toks[j].text in skip:
            j -= 1
        return j if j >= 0 and self.toks[j].word else None

    def next_word(self, i: int, skip: str = "") -> int | None:
        j = i + 1
        while j < len(self.toks) and not self.toks[j].word and self.toks[j].text in skip:
            j += 1
        return j if j < len(self.toks) and self.toks[j].word else None

    def lows(self, start: int, n: int) -> tuple[str, ...]:
        return tuple(
            self.toks[j].low if self.toks[j].word else self.toks[j].text
            for j in range(start, min(len(self.toks), start + n))
        )

    def follows(self, i: int, phrases: tuple[tuple[str, ...], ...]) -> bool:
        """The tokens after ``i`` (after an optional comma) start with one of ``phrases``."""
        j = i + 1
        if j < len(self.toks) and self.toks[j].text == ",":
            j += 1
        return any(self.lows(j, len(p)) == p for p in phrases)

    def preceded_by(self, i: int, phrases: tuple[tuple[str, ...], ...]) -> bool:
        for p in phrases:
            j = i - len(p)
            if j >= 0 and self.lows(j, len(p)) == p:
                return True
            # "seeing , X" / "patient , X"
            if j >= 1 and self.toks[i - 1].text == "," and self.lows(j - 1, len(p)) == p:
                return True
        return False

    # -- rules --------------------------------------------------------------------------

    def run(self) -> set[int]:
        for i, tok in enumerate(self.toks):
            if not tok.word:
                continue
            k = self.kind(i)
            if k == "strong":
                self.hits.add(i)
            elif k != "none" and self._in_context(i, k):
                self._add_context(i)
        for _ in range(2):
            self._extend_adjacent()
        self._propagate()
        return self.hits

    def _add_context(self, i: int) -> None:
        self.hits.add(i)
        k, low = self.kind(i), self.toks[i].low
        if k in ("ambiguous", "unknown") and not self.lex.is_word(low):
            self.context_words.add(low)
        elif k in ("ambiguous", "common") and self._first_name_in_context(i):
            # The patient greeted as "mark" is "mark" later in the visit too.
            self.context_words.add(low)

    def _in_context(self, i: int, k: str) -> bool:
        p = self.prev_word(i, skip=".")
        if p is not None and p < i - 1 and self.toks[p].low not in _ABBREVIATED:
            p = None  # "my sister. She ...", "the doctor. Uh ..."
        if p is not None and self.toks[p].low in TITLES:
            # "dr. smith", "mrs . brown"; not "doctor , you know" nor "doctor said", nor
            # "mr arthrogram" (MR imaging).
            if (
                k == "unknown"
                and self.toks[p].low == "mr"
                and p == i - 1
                and not (self.capitalised(i))
            ):
                return False
            if k == "common" and self.toks[i].low == "will" and not self.capitalised(i):
                return False  # "the nurse will be in soon"
            return k in ("ambiguous", "common", "unknown") or (k == "word" and self.capitalised(i))
        if k == "ambiguous" and self.capitalised(i) and not self.sentence_start(i):
            return True
        if k == "common":
            # "hey there mark", "next patient is grace ross": an everyday word that is a
            # first name, right after a greeting or an introduction.
            return self._first_name_in_context(i)
        if k == "word":
            return False
        # ambiguous or unknown from here
        if self._greeted(i) or self.preceded_by(i, _INTRO) or self._before_age(i):
            return k == "ambiguous" or self._plausible_unknown(i)
        if self.preceded_by(i, _RELATIONS):
            return k == "ambiguous" or (k == "unknown" and self.capitalised(i))
        if k == "ambiguous" and self._opened(i):
            return True
        return k == "ambiguous" and not self.cased and self._vocative(i)

    def _first_name_in_context(self, i: int) -> bool:
        if self.toks[i].low not in self.lex.first:
            return False
        if self.cased and not self.capitalised(i):
            return False
        if self.preceded_by(i, _INTRO):
            return True
        # Not "thank you hope that you feel better": a vocative ends its phrase.
        nxt = self.lows(i + 1, 1)
        return self._greeted(i) and (not nxt or nxt[0] not in _CLAUSE_WORDS)

    def _before_age(self, i: int) -> bool:
        """ "X is a 45-year-old", "X, date of birth", "X's a 24 year old"."""
        if self.follows(i, _AFTER_NAME):
            return True
        if not self.toks[i].possessive or not self.follows(i, (("a",), ("an",))):
            return False
        ahead = self.lows(i + 1, 4)
        return any(t.isdigit() or t.startswith("year") for t in ahead)

    def _opened(self, i: int) -> bool:
        """ "alright scott so ...", "okay anna ...": a gazetteer name right after an opening
        word at the start of a turn or sentence."""
        j = i - 1
        return (
            j >= 0
            and self.toks[j].word
            and self.toks[j].low in _OPENERS
            and (self.sentence_start(j))
        )

    def _plausible_unknown(self, i: int) -> bool:
        tok = self.toks[i]
        if self.cased:
            return tok.text[:1].isupper()
        return len(tok.low) >= 3 and tok.low.isalpha()

    def _greeted(self, i: int) -> bool:
        j = self.prev_word(i)
        hops = 0
        while j is not None and self.toks[j].low in _GREETING_FILLERS and hops < 2:
            if self.toks[j].low == "you" and j >= 1:
                # "thank you , X", "nice to see you X", "good to meet you X"
                prev = self.prev_word(j)
                if prev is not None and self.toks[prev].low in ("thank", "see", "meet"):
                    return True
            j = self.prev_word(j)
            hops += 1
        if j is None or self.toks[j].low not in GREETINGS:
            return False
        # "good morning X" / "take care X", not "some morning aldosterone".
        before = self.prev_word(j, skip="")
        need = _GREETING_BEFORE.get(self.toks[j].low)
        return (
            need is None
            or (before is not None and self.toks[before].low in need)
            or (self.sentence_start(j))
        )

    def _vocative(self, i: int) -> bool:
        """ ", anna ," / "so , anna ," / ", anna ?" (lower-cased, punctuated text)."""
        before = self.toks[i - 1].text if i > 0 else "\n"
        after = self.toks[i + 1].text if i + 1 < len(self.toks) else "."
        return (
            before in (",", "]")
            and after in (",", "?", ".", "!")
            and (self.toks[i].low in self.lex.first)
        )

    def _extend_adjacent(self) -> None:
        for i in sorted(self.hits):
            for j in (i - 1, i + 1):
                if not (0 <= j < len(self.toks)) or j in self.hits:
                    continue
                gap = self.text[
                    min(self.toks[i].end, self.toks[j].end) : max(
                        self.toks[i].start, self.toks[j].start
                    )
                ]
                if gap.strip() or self.toks[min(i, j)].possessive:
                    continue
                k = self.kind(j)
                if (
                    k == "ambiguous"
                    or (k == "common" and self.capitalised(j))
                    or (k == "unknown" and self._plausible_unknown(j) and self.cased)
                    or (j == i + 1 and k == "common" and self._surname_after(i, j))
                ):
                    self.hits.add(j)

    def _surname_after(self, i: int, j: int) -> bool:
        """ "pamela cook ." / "betty hill , date of birth": an everyday-word surname right
        after a first name, closing the phrase (not "gabriel good to see you")."""
        if self.toks[i].low not in self.lex.first or self.toks[j].low not in self.lex.last:
            return False
        after = j + 1
        return after >= len(self.toks) or not self.toks[after].word or self.follows(j, _AFTER_NAME)

    def _propagate(self) -> None:
        if not self.context_words:
            return
        for i, tok in enumerate(self.toks):
            if tok.word and tok.low in self.context_words and self.kind(i) != "none":
                self.hits.add(i)


def _join(text: str, toks: list[_Tok], hits: list[int]) -> list[tuple[int, int]]:
    """Merge name tokens separated only by spaces into one span."""
    spans: list[tuple[int, int]] = []
    for i in hits:
        start, end = toks[i].start, toks[i].end
        if (
            spans
            and not text[spans[-1][1] : start].strip()
            and "\n" not in text[spans[-1][1] : start]
        ):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans
