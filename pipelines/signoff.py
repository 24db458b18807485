"""Sign-off gating: which sentences must a person decide on before a note can be signed.

Designed against complacency (after seven good drafts nobody checks the eighth): a sentence
*blocks* signing while it is unsupported by the transcript, or rests on words the recogniser
was unsure of, and no person has explicitly accepted, edited or removed it. A removed
sentence is no longer in the note, so only accepted/edited/added/moved ones need naming.

Pure functions over the shared types; the store and the Review page both call them, so the
page shows exactly what ``sign_note`` enforces.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from pipelines.types import Evidence, NoteSentence, SupportResult, Transcript
from pipelines.words import word_spans

# Below this recogniser probability a word is "low confidence" (the Review page greys and
# dots the same words: workbench.ui.components.LOW_CONFIDENCE).
LOW_CONFIDENCE = 0.5


@dataclass(frozen=True)
class ShakyWord:
    """A recognised word under a sentence's evidence with a low probability."""

    text: str
    probability: float


@dataclass(frozen=True)
class Blocker:
    """A sentence that blocks signing, and why."""

    sentence_id: str
    section: str
    text: str
    unsupported: bool
    shaky_words: tuple[ShakyWord, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it blocks, for the reviewer ("unsupported", "rests on low-confidence
        words: 'metformin' 0.31")."""
        out = ["unsupported"] if self.unsupported else []
        if self.shaky_words:
            words = ", ".join(f"'{w.text}' {w.probability:.2f}" for w in self.shaky_words)
            out.append(f"rests on low-confidence words: {words}")
        return tuple(out)


def sentence_evidence(sentence: NoteSentence, result: SupportResult | None) -> tuple[Evidence, ...]:
    """The sentence's own evidence, else the passages the support check aligned to it."""
    if sentence.evidence:
        return sentence.evidence
    return result.evidence if result else ()


def low_confidence_words(
    sentences: tuple[NoteSentence, ...],
    results: Mapping[str, SupportResult],
    transcript: Transcript,
    threshold: float = LOW_CONFIDENCE,
) -> dict[str, tuple[ShakyWord, ...]]:
    """Per sentence id, the words under its evidence whose probability is below
    ``threshold`` (sentences with none are absent).

    A word is under the evidence when its characters overlap the evidence span; where the
    segment's words cannot be placed in its text (after a heavy correction) their audio
    times are compared with the evidence's instead.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    segments = {s.idx: s for s in transcript.segments}
    out: dict[str, tuple[ShakyWord, ...]] = {}
    for sentence in sentences:
        found: list[ShakyWord] = []
        for ev in sentence_evidence(sentence, results.get(sentence.sentence_id)):
            segment = segments.get(ev.segment_idx)
            if segment is None:
                continue
            spans = word_spans(segment)
            if spans is not None:
                under = [w.word for w in spans if w.start < ev.end_char and ev.start_char < w.end]
            else:
                under = [w for w in segment.words if w.start < ev.end_s and ev.start_s < w.end]
            found += [
                ShakyWord(w.text.strip(), w.probability)
                for w in under
                if w.probability < threshold and w.text.strip()
            ]
        if found:
            out[sentence.sentence_id] = tuple(dict.fromkeys(found))
    return out


def blocking_sentences(
    sentences: tuple[NoteSentence, ...],
    support_results: Mapping[str, SupportResult],
    low_confidence: Mapping[str, tuple[ShakyWord, ...]],
    decided: Collection[str],
) -> tuple[Blocker, ...]:
    """Sentences that still block signing, in note order.

    ``decided`` holds the ids of sentences a person explicitly accepted, edited, added or
    moved (their newest decision; see ``workbench.store.decisions``). A sentence blocks
    when it is not decided and it is unsupported or has low-confidence words.
    """
    out = []
    for s in sentences:
        if s.sentence_id in decided:
            continue
        result = support_results.get(s.sentence_id)
        unsupported = result is not None and result.label == "unsupported"
        shaky = low_confidence.get(s.sentence_id, ())
        if unsupported or shaky:
            out.append(Blocker(s.sentence_id, s.section, s.text, unsupported, shaky))
    return tuple(out)


def flagged_ids(
    sentences: tuple[NoteSentence, ...],
    support_results: Mapping[str, SupportResult],
    low_confidence: Mapping[str, tuple[ShakyWord, ...]],
) -> tuple[str, ...]:
    """Every sentence that needs a decision (blocking or already decided), in note order."""
    return tuple(
        b.sentence_id for b in blocking_sentences(sentences, support_results, low_confidence, ())
    )


def attestation_text(sentences: int, looked_at: int, flagged: int) -> str:
    """What the signer confirms, naming the numbers they can check on screen."""
    flagged_part = (
        f"each of the {flagged} sentences the machine flagged (unsupported, or resting on "
        "words the recogniser was unsure of) was explicitly accepted, edited or removed; "
        if flagged
        else "no sentence was flagged as unsupported or resting on uncertain words; "
    )
    return (
        f"I have reviewed this note ({sentences} sentences) against the encounter recording "
        f"and transcript and looked at {looked_at} of its sentences individually; "
        + flagged_part
        + "and the note accurately reflects the visit."
    )
