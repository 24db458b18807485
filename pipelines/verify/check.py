"""Label note sentences supported / partly supported / unsupported against the transcript.

For each sentence: align it to the passages that support it (``align``), then check that
what it claims agrees with them:

- entities: each medical entity of the sentence (the clinical NLP runs on the sentence) is
  mentioned in its evidence (ok), only elsewhere in the visit (weak) or nowhere (missing);
- numbers: each dose, vital, value, duration or frequency is said in the evidence, or the
  evidence says another value of the same measure (conflict: "500 mg" against "1000 mg");
- laterality: the side it names is the side in the evidence (or the evidence names another);
- negation: a sentence denying a problem the visit affirms, or affirming one the patient
  denied, is a conflict (the entities' context flags, from ConText and the dialogue);
- boilerplate: template phrases ("return precautions given") need a passage that says so.

The label: any conflict or unsupported boilerplate -> unsupported; key items (problems,
medications, tests, procedures and vitals, and numbers) all missing -> unsupported;
(nearly) all content in the evidence and nothing missing -> supported; enough content found
or at least half the key items -> partly supported; else unsupported. The same
rules judge every note, ours or another system's; a sentence's own evidence links are only
one more place to look (``VerifyOptions.use_links``), preferred when no other passage is
better.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spacy.language import Language

from pipelines.drafting.sentences import asks_presence
from pipelines.nlp.extract import extract_text
from pipelines.types import Entity, NoteSentence, SupportReason, SupportResult, Transcript
from pipelines.verify.align import Alignment, align, hint_passages, sentence_items
from pipelines.verify.lexicon import Lexicon, content_stems, load_lexicon
from pipelines.verify.numbers import quantities
from pipelines.verify.passages import Passage, TranscriptIndex, concept_keys, index_transcript
from pipelines.verify.sides import agree, sides

VERIFY_VERSION = "verify.rules.v1"
KEY_LABELS = frozenset({"PROBLEM", "MEDICATION", "TEST", "PROCEDURE", "VITAL"})


@dataclass(frozen=True)
class VerifyOptions:
    """How the support check aligns and labels; recorded with stored results.

    window: segments either side of an anchor passage that evidence may come from.
    anchors: how many best-matching passages to try as anchors.
    max_passages: passages an alignment may combine (answers to questions come on top).
    min_gain: share of a sentence's weight a further passage must add to be taken.
    supported: least share of content in the evidence for "supported".
    partly: least share (evidence, plus ``elsewhere_credit`` for content found elsewhere
        in the visit) for "partly supported" when the sentence has no key items (medical
        entities, numbers); with them, at least half found makes it partly supported and
        none found makes it unsupported.
    elsewhere_credit: how much content found only elsewhere in the visit counts.
    boilerplate_min: least share of a template phrase's content in its evidence.
    max_words: transcript sentences longer than this are cut (unpunctuated speech).
    use_links: also try a sentence's own evidence links as its evidence.
    """

    window: int = 5
    anchors: int = 3
    max_passages: int = 3
    min_gain: float = 0.15
    supported: float = 0.75
    partly: float = 0.35
    elsewhere_credit: float = 0.5
    boilerplate_min: float = 0.75
    max_words: int = 40
    use_links: bool = True


@dataclass(frozen=True)
class _Found:
    reasons: list[SupportReason]
    extra: set[int]  # passages found elsewhere that back an entity or a number


def _entities_check(ents: Sequence[Entity], index: TranscriptIndex, chosen: set[int]) -> _Found:
    reasons, extra = [], set()
    for ent in ents:
        if ent.label not in KEY_LABELS:
            continue
        where = index.passages_of(ent) | _lexical(ent, index)
        if where & chosen:
            reasons.append(SupportReason("entity", "ok", f"“{ent.text}” is in the evidence"))
        elif where:
            extra.add(min(where))
            reasons.append(
                SupportReason("entity", "weak", f"“{ent.text}” is mentioned elsewhere in the visit")
            )
        else:
            reasons.append(
                SupportReason("entity", "missing", f"“{ent.text}” is not mentioned in the visit")
            )
    return _Found(reasons, extra)


def _lexical(ent: Entity, index: TranscriptIndex) -> frozenset[int]:
    """Passages holding every content word of the entity (when the NLP did not code it)."""
    stems = list(dict.fromkeys(content_stems(ent.text, index.lexicon)))
    if not stems:
        return frozenset()
    where = index.passages_with(stems[0])
    for s in stems[1:]:
        where = where & index.passages_with(s)
    return where


def _numbers_check(text: str, index: TranscriptIndex, chosen: set[int]) -> _Found:
    reasons, extra = [], set()
    heard = [(p, r) for p in sorted(chosen) for r in index.passages[p].quantities]
    for q in quantities(text):
        if q.kind == "as_needed":
            continue  # "as needed" is no number to check; alignment counts its words
        said = text[q.start : q.end]
        if any(
            q.matches(r)
            or (q.kind == "number" and r.kind == "ratio" and q.value in r.value.split("/"))
            for _, r in heard
        ):
            reasons.append(SupportReason("number", "ok", f"“{said}” is in the evidence"))
            continue
        elsewhere = [p.index for p in index.passages if any(q.matches(r) for r in p.quantities)]
        rival = next(((p, r) for p, r in heard if q.competes(r)), None)
        if rival and not elsewhere:
            p, r = rival
            other = index.passages[p].text[r.start : r.end]
            reasons.append(
                SupportReason("number", "conflict", f"says “{said}”, the visit says “{other}”")
            )
        elif elsewhere:
            extra.add(elsewhere[0])
            reasons.append(
                SupportReason("number", "weak", f"“{said}” is said elsewhere in the visit")
            )
        else:
            reasons.append(SupportReason("number", "missing", f"“{said}” is not said in the visit"))
    return _Found(reasons, extra)


def _sides_check(said: frozenset[str], index: TranscriptIndex, chosen: set[int]) -> _Found:
    if not said:
        return _Found([], set())
    heard: frozenset[str] = frozenset().union(*(index.passages[p].sides for p in chosen))
    name = " and ".join(sorted(said))
    if agree(said, heard):
        return _Found([SupportReason("laterality", "ok", f"the side ({name}) agrees")], set())
    elsewhere = [p.index for p in index.passages if p.sides and agree(said, p.sides)]
    if heard and not elsewhere:
        other = " and ".join(sorted(heard))
        return _Found(
            [SupportReason("laterality", "conflict", f"says {name}, the visit says {other}")], set()
        )
    if elsewhere:
        return _Found(
            [
                SupportReason(
                    "laterality", "weak", f"the side ({name}) is said elsewhere in the visit"
                )
            ],
            {elsewhere[0]},
        )
    return _Found(
        [SupportReason("laterality", "missing", f"the side ({name}) is not said in the visit")],
        set(),
    )


# "ibuprofen for (any) fever", "call if the pain worsens": the problem is an indication or
# a condition, not something the patient has or denies.
_INDICATION = re.compile(
    r"\b(?:for|if|in case of|prevent\w*|against|treat\w*|manag\w*|control\w*|help with)"
    r"(?:\s+(?:any|the|your|his|her|their|a|an|some|possible|further))?\s*$",
    re.IGNORECASE,
)
# A negation word shortly before a mention, in the same clause. ConText's verdict is used
# only when this agrees with it (or when a "no" answered the question the mention is in):
# long spoken turns and rewritten sentences scope negations badly.
_NEGATION_CUE = re.compile(
    r"\b(?:no|not|n't|denie[sd]|deny|without|negative|never|none|nor|neither|free of|"
    r"absence of|rule[sd]? out)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(
    r"[.;?!]|\b(?:but|however|although|though|except|only|when|which|who|whose|because|"
    r"since|while|if|then|after|now|there is|there are|there's)\b",
    re.IGNORECASE,
)
_CUE_WORDS = 12


def _negated_nearby(before: str) -> bool:
    """A negation cue among the last few words before a mention, with no clause break
    between them ("denies chest pain, fever, or cough" yes; "no rash, but a cough" no)."""
    window = " ".join(before.split()[-_CUE_WORDS:])
    cues = list(_NEGATION_CUE.finditer(window))
    return bool(cues) and not _CLAUSE_BREAK.search(window[cues[-1].end() :])


def polarity(ent: Entity, text: str, question: bool = False) -> str | None:
    """present / absent, or None when a mention says neither clearly: a question, family,
    hypothetical or uncertain, an indication ("for any fever"), or a ConText flag that the
    words before the mention do not bear out. ``text`` is what the offsets point into."""
    if ent.family or ent.hypothetical or ent.uncertain:
        return None
    before = text[max(ent.start - 120, 0) : ent.start]
    if _INDICATION.search(before):
        return None
    if ent.negated:
        return "absent" if question or _negated_nearby(before) else None
    if question or _negated_nearby(before):
        return None
    return "present"


def heard_polarity(passage: Passage, ent: Entity) -> str | None:
    """present / absent / None for a transcript mention.

    A mention asked about ("Any chest pain?", or unpunctuated "do you have any pain or any
    shortness of breath" at the end of a turn) says nothing by itself; the other speaker's
    bare "yes" or "no" decides it.
    """
    topic = ent.start - passage.start
    asked = passage.question or (passage.turn_end and asks_presence(passage.text, topic))
    found = polarity(ent, passage.segment.text, asked)
    if found or not asked or passage.answer is None or ent.negated:
        return found
    if polarity(ent, passage.segment.text) is None:
        return None  # family, hypothetical, an indication: the answer is not about this
    if not asks_presence(passage.text, topic):
        return None
    return "present" if passage.answer else "absent"


def _negation_check(
    text: str, ents: Sequence[Entity], index: TranscriptIndex, chosen: set[int]
) -> list[SupportReason]:
    """A problem the sentence denies while the visit only ever affirms it, or the reverse.

    The whole visit decides, not just the aligned passages: a patient may deny a symptom in
    one answer and describe it later, and then neither reading is a contradiction. Nor is
    there one when the sentence's own evidence mentions the problem without saying yes or
    no ("I think you have an infection").
    """
    reasons = []
    for ent in ents:
        said = polarity(ent, text)
        # Problems only: "prescribe meloxicam" after "never taken it" is no contradiction.
        if ent.label != "PROBLEM" or said is None:
            continue
        keys = concept_keys(ent, index.lexicon)
        heard, local = set(), set()
        for p in index.passages:
            for tent, tkeys in zip(p.entities, p.entity_keys, strict=True):
                if keys & tkeys:
                    found = heard_polarity(p, tent)
                    heard.add(found)
                    if p.index in chosen:
                        local.add(found)
        heard.discard(None)
        if not heard or said in heard or None in local:
            continue
        if said == "absent":
            message = f"says no “{ent.text}”, but the visit affirms it"
        else:
            message = f"says “{ent.text}”, but the patient denied it"
        reasons.append(SupportReason("negation", "conflict", message))
    return reasons


def _alignment_reason(a: Alignment) -> SupportReason:
    share = f"{a.local:.0%} of its content is in the evidence"
    if a.total == 0:
        return SupportReason("alignment", "weak", "nothing specific to check")
    if a.local >= 0.75:
        return SupportReason("alignment", "ok", share)
    if a.anywhere > a.local:
        share += f", {a.anywhere:.0%} anywhere in the visit"
    verdict = "weak" if a.anywhere >= 0.4 else "missing"
    if a.anywhere == 0:
        share = "nothing like it is said in the visit"
    return SupportReason("alignment", verdict, share)


def _label(a: Alignment, score: float, reasons: list[SupportReason], options: VerifyOptions) -> str:
    verdicts = [r.verdict for r in reasons if r.kind != "alignment"]
    if "conflict" in verdicts or any(r.kind == "boilerplate" for r in reasons):
        return "unsupported"
    # Key items: the sentence's medical entities and numbers, the claims that matter most.
    key = [r.verdict for r in reasons if r.kind in ("entity", "number")]
    found = sum(v in ("ok", "weak") for v in key)
    if key and not found and score < 0.5:
        return "unsupported"
    if a.total == 0:
        return "partly_supported"
    if a.local >= options.supported and "missing" not in verdicts:
        return "supported"
    if score >= options.partly or (key and found >= len(key) / 2):
        return "partly_supported"
    return "unsupported"


def check_sentence(
    sentence: NoteSentence,
    entities: tuple[Entity, ...],
    index: TranscriptIndex,
    options: VerifyOptions = VerifyOptions(),
) -> SupportResult:
    """Label one sentence; ``entities`` are the NLP's entities of the sentence text."""
    text = sentence.text
    lexicon = index.lexicon
    said_sides = sides(text, lexicon)
    items = sentence_items(text, entities, quantities(text), said_sides, index)
    a = align(
        items,
        index,
        options.window,
        options.anchors,
        options.max_passages,
        options.min_gain,
        hint_passages(index, sentence.evidence) if options.use_links else frozenset(),
    )
    chosen = set(a.passages)
    reasons = [_alignment_reason(a)]
    found_ents = _entities_check(entities, index, chosen)
    found_nums = _numbers_check(text, index, chosen)
    found_sides = _sides_check(said_sides, index, chosen)
    reasons += found_ents.reasons + found_nums.reasons + found_sides.reasons
    reasons += _negation_check(text, entities, index, chosen)
    phrase = lexicon.boilerplate_phrase(text)
    if phrase and a.local < options.boilerplate_min:
        reasons.append(
            SupportReason(
                "boilerplate", "missing", f"template phrase ({phrase}) that this visit does not say"
            )
        )
    score = a.local + options.elsewhere_credit * (a.anywhere - a.local)
    label = _label(a, score, reasons, options)
    passages = sorted(chosen | found_ents.extra | found_nums.extra | found_sides.extra)
    concepts = sorted({k for e in entities for k in concept_keys(e, lexicon)})
    return SupportResult(
        sentence_id=sentence.sentence_id,
        section=sentence.section,
        text=text,
        label=label,
        score=round(min(score, 1.0), 3),
        reasons=tuple(reasons),
        evidence=tuple(index.passages[p].evidence() for p in passages),
        concepts=tuple(concepts),
        linked=bool(sentence.evidence),
    )


def verify_sentences(
    sentences: Iterable[NoteSentence],
    transcript: Transcript,
    entities: tuple[Entity, ...],
    nlp: Language | None,
    options: VerifyOptions = VerifyOptions(),
    lexicon: Lexicon | None = None,
    index: TranscriptIndex | None = None,
) -> tuple[SupportResult, ...]:
    """Check every sentence against the transcript and its entities (``pipelines.nlp``).

    ``nlp`` finds the medical entities of each sentence; without it only words, numbers
    and sides are compared (no entity or negation checks). Pass ``index`` (from
    :func:`index_transcript`) to reuse one transcript's index across calls.
    """
    lexicon = lexicon or load_lexicon()
    if index is None:
        index = index_transcript(transcript, entities, lexicon, options.max_words)
    results = []
    for sentence in sentences:
        ents = extract_text(nlp, sentence.text) if nlp is not None else ()
        results.append(check_sentence(sentence, ents, index, options))
    return tuple(results)
