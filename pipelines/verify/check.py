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

from collections.abc import Iterable
from dataclasses import dataclass

from spacy.language import Language

from pipelines.nlp.extract import extract_text
from pipelines.types import Entity, NoteSentence, SupportReason, SupportResult, Transcript
from pipelines.verify.agreement import (
    entities_check,
    negation_check,
    numbers_check,
    sides_check,
)
from pipelines.verify.align import Alignment, align, hint_passages, sentence_items
from pipelines.verify.lexicon import Lexicon, load_lexicon
from pipelines.verify.numbers import quantities
from pipelines.verify.passages import TranscriptIndex, concept_keys, index_transcript
from pipelines.verify.sides import sides

VERIFY_VERSION = "verify.rules.v2"


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
    """Label one sentence; ``entities`` are the NLP's entities of its text without a
    sub-label (``Lexicon.without_label``), as ``verify_sentences`` finds them."""
    lexicon = index.lexicon
    text = lexicon.without_label(sentence.text)  # "Respiratory: Denies cough." is one claim
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
    found_ents = entities_check(entities, index, chosen)
    found_nums = numbers_check(text, index, chosen)
    found_sides = sides_check(said_sides, index, chosen)
    reasons += found_ents.reasons + found_nums.reasons + found_sides.reasons
    reasons += negation_check(text, entities, index, chosen)
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
        text=sentence.text,
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
        body = lexicon.without_label(sentence.text)
        ents = extract_text(nlp, body) if nlp is not None else ()
        results.append(check_sentence(sentence, ents, index, options))
    return tuple(results)
