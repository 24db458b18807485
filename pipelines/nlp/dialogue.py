"""Turn-aware context: a yes/no answer in the next turn settles the entities of the question.

ConText works inside one sentence, but in a consultation the negation often sits in the next
turn ("Any fever?" / "No."). After ConText has run on every segment, :meth:`DialogueContext.apply`
walks the turns in order and, for each yes/no question followed by an answer:

- a bare negative answer ("No.", "Nope, nothing.", "Not that I know of.") negates the
  entities asked about; an unsure one ("Maybe, I'm not sure.") makes them uncertain;
- an answer that names the same concept ("No fever, but I do have a cough.") lends each
  question entity that mention's negation instead;
- an answer without entities of its own carries its history and family cues back
  ("When I was a kid, yes." -> historical; "My mom did." -> family);
- a question about the family ("What runs in your family?") makes the answer's entities
  family ones, until the patient speaks about themselves ("I have ...").

A question ends with "?", or (speech recognisers often drop it) ends a turn and opens like
one ("have you had kidney stones before"). Entities asked about are PROBLEM, MEDICATION,
PROCEDURE and TEST mentions in the question
sentences that end the turn, except presupposed ones ("anything for your diabetes?").
Wh-questions ("How long have you had the cough?") and questions about change ("Is the cough
any better?") carry no polarity. Turns are segments (consecutive segments of the same known
speaker form one turn), speaker tags inside a text (``[doctor]``, ``P:``), and within one turn
a question sentence directly followed by a bare answer ("Fever? No.").

Word lists live in ``annotations/vocab/dialogue.tsv`` (``phrase`` as spaCy tokens separated by
spaces, lower case; ``kind``). The pipeline component marks speaker tags and line breaks as
sentence starts so that ConText scopes never cross turns.
"""

# No `from __future__ import annotations` here: spaCy validates factory signatures at
# runtime and cannot resolve string annotations.

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from pipelines.nlp.context import CONTEXT_FLAGS
from pipelines.nlp.matcher import CONCEPT_ATTR
from pipelines.nlp.vocab import VOCAB_DIR

DIALOGUE_NAME = "scribe_dialogue_context"
DIALOGUE_VERSION = "scribe_dialogue_context.v1"
DIALOGUE_FILE = "dialogue.tsv"

ASKED_LABELS = frozenset({"PROBLEM", "MEDICATION", "PROCEDURE", "TEST"})
ANSWER_KINDS = ("negative", "affirmative", "uncertain")
_QUIET = frozenset({"PSEUDO", "TERMINATE"})
GraphOf = Callable[[Doc], Any]  # doc -> its medspacy ConTextGraph (or None)
_FIRST_PERSON = frozenset({"i", "me", "myself", "mine"})

# "[doctor] ...", "[patient] ..." anywhere; "D: ...", "Patient: ..." at the start of a line.
SPEAKER_TAG = re.compile(
    r"\[(?P<bracket>doctor|clinician|physician|dr|nurse|patient|pt)\]"
    r"|^[ \t]*(?P<prefix>d|dr|doctor|clinician|physician|p|pt|patient)[ \t]*:",
    re.IGNORECASE | re.MULTILINE,
)
_ROLE = {
    "doctor": "clinician",
    "clinician": "clinician",
    "physician": "clinician",
    "dr": "clinician",
    "d": "clinician",
    "nurse": "clinician",
    "patient": "patient",
    "pt": "patient",
    "p": "patient",
}


@dataclass(frozen=True)
class Turn:
    """Tokens ``[start, end)`` of ``doc`` spoken by ``speaker`` (``"unknown"`` if not known)."""

    speaker: str
    doc: Doc
    start: int
    end: int


@dataclass(frozen=True)
class DialogueRules:
    """The word lists of ``dialogue.tsv``: phrase (tuple of lower-case tokens) -> kind."""

    phrases: dict[tuple[str, ...], str]

    @classmethod
    def from_tsv(cls, path: Path) -> "DialogueRules":
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            rows = [(r["phrase"].strip().lower(), r["kind"].strip()) for r in reader]
        return cls({tuple(phrase.split()): kind for phrase, kind in rows if phrase})

    def words(self, kind: str) -> frozenset[str]:
        """Single-token phrases of one kind."""
        return frozenset(p[0] for p, k in self.phrases.items() if k == kind and len(p) == 1)

    def phrases_of(self, kind: str) -> tuple[tuple[str, ...], ...]:
        return tuple(p for p, k in self.phrases.items() if k == kind)

    def match_at(self, lowers: Sequence[str], i: int) -> tuple[str, int] | None:
        """(kind, end) of the longest phrase starting at ``lowers[i]``."""
        for n in range(min(len(lowers) - i, self.max_len), 0, -1):
            kind = self.phrases.get(tuple(lowers[i : i + n]))
            if kind is not None:
                return kind, i + n
        return None

    @property
    def max_len(self) -> int:
        return max((len(p) for p in self.phrases), default=1)


def speaker_tags(doc: Doc) -> list[tuple[Span, str]]:
    """Speaker tags inside ``doc`` as (tag span, role), in order."""
    tags = []
    for match in SPEAKER_TAG.finditer(doc.text):
        span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
        if span is not None and len(span):
            role = (match.group("bracket") or match.group("prefix")).lower()
            tags.append((span, _ROLE[role]))
    return tags


def split_turns(doc: Doc, speaker: str = "unknown") -> list[Turn]:
    """The turns of one doc: split at speaker tags; text before the first tag is ``speaker``'s."""
    turns: list[Turn] = []
    start, who = 0, speaker
    for tag, role in speaker_tags(doc):
        if tag.start > start:
            turns.append(Turn(who, doc, start, tag.start))
        start, who = tag.end, role
    if start < len(doc):
        turns.append(Turn(who, doc, start, len(doc)))
    return turns


@dataclass(frozen=True)
class _Sentence:
    span: Span
    group: int  # index of the speaker turn (consecutive segments of one speaker merged)
    ents: tuple[Span, ...]
    question: bool


def _sentences(turns: Iterable[Turn]) -> list[_Sentence]:
    out: list[_Sentence] = []
    group, previous = -1, None
    doc_ents: dict[int, tuple[Span, ...]] = {}  # doc.ents builds new Spans on every access
    for turn in turns:
        if turn.speaker == "unknown" or turn.speaker != previous:
            group += 1
        previous = turn.speaker
        ents = doc_ents.setdefault(id(turn.doc), tuple(turn.doc.ents))
        for sent in turn.doc[turn.start : turn.end].sents:
            span = turn.doc[max(sent.start, turn.start) : min(sent.end, turn.end)]
            if span.text.strip():
                inside = tuple(e for e in ents if span.start <= e.start and e.end <= span.end)
                out.append(_Sentence(span, group, inside, _is_question(span)))
    return out


def _is_question(span: Span) -> bool:
    return span.text.rstrip().endswith("?")


def _flag(span: Span, flag: str) -> bool:
    return bool(span._.get(CONTEXT_FLAGS[flag]))


def _set(span: Span, flag: str, value: bool) -> None:
    span._.set(CONTEXT_FLAGS[flag], value)


def _cues(span: Span, graph_of: GraphOf) -> set[str]:
    """Categories of ConText modifiers (not pseudo or terminating) inside ``span``."""
    graph = graph_of(span.doc)
    if graph is None:
        return set()
    return {
        m.category
        for m in graph.modifiers
        if span.start <= m.modifier_span[0] < span.end and m.direction not in _QUIET
    }


def _concept(span: Span) -> tuple[str, str]:
    entry = span._.get(CONCEPT_ATTR)
    if entry is not None and entry.code:
        return span.label_, entry.code
    text = span.text.lower()
    return span.label_, text[:-1] if text.endswith("s") else text


class DialogueContext:
    """Marks turn boundaries in each doc; :meth:`apply` links questions and answers.

    Usable without the factory: ``DialogueContext(DialogueRules.from_tsv(path))``.
    """

    version = DIALOGUE_VERSION

    def __init__(self, rules: DialogueRules, name: str = DIALOGUE_NAME) -> None:
        self.name = name
        self.rules = rules
        self.fillers = rules.words("filler")
        self.address = rules.words("address")
        self.wh = rules.words("wh")
        self.presupposing = rules.words("presupposing")
        self.change = rules.phrases_of("change")
        self.yes_no = rules.phrases_of("yes_no")
        self.openers = rules.phrases_of("question_opener")

    def __call__(self, doc: Doc) -> Doc:
        """Speaker tags and line breaks start sentences (runs before ConText)."""
        for tag, _ in speaker_tags(doc):
            doc[tag.start].is_sent_start = True
            if tag.end < len(doc):
                doc[tag.end].is_sent_start = True
        if "\n" in doc.text:
            for token in doc[:-1]:
                if "\n" in token.text_with_ws:
                    doc[token.i + 1].is_sent_start = True
        return doc

    # --- reading questions and answers ---

    def _content(self, span: Span) -> list[str]:
        """Lower-case tokens of ``span`` without leading fillers and punctuation."""
        lowers = [t.lower_ for t in span if not t.is_space]
        i = 0
        while i < len(lowers) and (lowers[i] in self.fillers or not lowers[i].isalnum()):
            i += 1
        return lowers[i:]

    def is_filler(self, span: Span) -> bool:
        return not self._content(span)

    def answer_kind(self, span: Span) -> str | None:
        """``negative`` / ``affirmative`` / ``uncertain`` for a bare answer, else None."""
        if _is_question(span):
            return None
        lowers = self._content(span)
        found = self.rules.match_at(lowers, 0) if lowers else None
        if found is None or found[0] not in ANSWER_KINDS:
            return None
        kind, end = found
        bare = (
            end == len(lowers)
            or not lowers[end][0].isalnum()
            or lowers[end] in self.address
            or self.rules.match_at(lowers, end) is not None
        )
        return kind if bare else None

    def opens_like_question(self, span: Span) -> bool:
        """ "have you had kidney stones before": a question that lost its "?" (speech)."""
        lowers = self._content(span)
        return any(tuple(lowers[: len(p)]) == p for p in self.openers)

    def is_yes_no(self, span: Span) -> bool:
        lowers = self._content(span)
        if not lowers:
            return False
        if any(tuple(lowers[: len(p)]) == p for p in self.yes_no):
            return True
        return lowers[0] not in self.wh

    def is_about_change(self, span: Span) -> bool:
        lowers = [t.lower_ for t in span]
        return any(
            tuple(lowers[i : i + len(p)]) == p for p in self.change for i in range(len(lowers))
        )

    def is_presupposed(self, ent: Span, sentence: Span) -> bool:
        """Whether the question takes ``ent`` as given ("anything for your diabetes?")."""
        return ent.start > sentence.start and ent.doc[ent.start - 1].lower_ in self.presupposing

    @staticmethod
    def speaks_of_self(span: Span, graph_of: GraphOf) -> bool:
        return any(t.lower_ in _FIRST_PERSON for t in span) or "SELF" in _cues(span, graph_of)

    # --- linking ---

    def apply(self, turns: Sequence[Turn], graph_of: GraphOf) -> None:
        """Settle question entities from the answers that follow them (sets Span flags).

        ``graph_of(doc)`` gives a doc's ConText graph (its modifiers), or None.
        """
        sentences = _sentences(turns)
        for i, sent in enumerate(sentences):
            turn_ends = i + 1 < len(sentences) and sentences[i + 1].group != sent.group
            if not (sent.question or (turn_ends and self.opens_like_question(sent.span))):
                continue
            following = sentences[i + 1] if i + 1 < len(sentences) else None
            if following and following.group == sent.group and following.question:
                continue  # not the last question of its block
            j = i + 1
            while j < len(sentences) and self.is_filler(sentences[j].span):
                j += 1
            if j == len(sentences) or sentences[j].question:
                continue
            k = i
            while k > 0 and sentences[k - 1].group == sent.group and sentences[k - 1].question:
                k -= 1
            region = [sentences[j]]
            for later in sentences[j + 1 :]:
                if later.group != sentences[j].group or later.question:
                    break
                region.append(later)
            same_turn = sentences[j].group == sent.group
            self._link(sentences[k : i + 1], region, same_turn, graph_of)

    def _link(
        self, block: list[_Sentence], region: list[_Sentence], same_turn: bool, graph_of: GraphOf
    ) -> None:
        answer = region[0]
        if "FAMILY" in _cues(block[-1].span, graph_of):
            for sent in region:
                if self.speaks_of_self(sent.span, graph_of):
                    break
                for ent in sent.ents:
                    if not _flag(ent, "family"):
                        _set(ent, "family", True)
                        _set(ent, "historical", False)
        kind = self.answer_kind(answer.span)
        if same_turn and kind is None:
            return  # within one turn only a bare answer ("Fever? No.") counts
        mentioned = [e for sent in region for e in sent.ents]
        own = [e for e in answer.ents if e.label_ in ASKED_LABELS]
        cues = _cues(answer.span, graph_of) if kind != "negative" and not own else set()
        for question in block:
            if not question.ents:
                continue
            if not self.is_yes_no(question.span) or self.is_about_change(question.span):
                continue
            for ent in question.ents:
                if ent.label_ not in ASKED_LABELS or self.is_presupposed(ent, question.span):
                    continue
                self._settle(ent, kind, mentioned, cues)

    @staticmethod
    def _settle(ent: Span, kind: str | None, mentioned: list[Span], cues: set[str]) -> None:
        same = [
            m
            for m in mentioned
            if _concept(m) == _concept(ent) and _flag(m, "family") == _flag(ent, "family")
        ]
        if same:
            _set(ent, "negated", _flag(same[0], "negated"))
            if _flag(same[0], "uncertain"):
                _set(ent, "uncertain", True)
        elif kind == "negative":
            _set(ent, "negated", True)
        elif kind == "uncertain":
            _set(ent, "uncertain", True)
        elif "FAMILY" in cues:
            _set(ent, "family", True)
            _set(ent, "historical", False)
        elif "HISTORICAL" in cues:
            _set(ent, "historical", True)


def load_dialogue_rules(vocab_dir: Path = VOCAB_DIR) -> DialogueRules:
    """``dialogue.tsv`` of ``vocab_dir``."""
    return DialogueRules.from_tsv(vocab_dir / DIALOGUE_FILE)


@Language.factory(DIALOGUE_NAME, default_config={"vocab_dir": ""})
def make_dialogue_context(nlp: Language, name: str, vocab_dir: str) -> DialogueContext:
    """spaCy factory. Empty ``vocab_dir`` means the repository's ``annotations/vocab``."""
    return DialogueContext(
        load_dialogue_rules(Path(vocab_dir) if vocab_dir else VOCAB_DIR), name=name
    )
