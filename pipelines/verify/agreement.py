"""Agreement checks between a note sentence and its aligned transcript passages.

Each check returns reasons (``SupportReason``: ok, weak, missing or conflict) and, for
claims found only elsewhere in the visit, the passages that back them. Polarity (is a
problem present or absent) comes from the entities' ConText flags and the dialogue, used
only when the words agree: a negation cue in the same clause, or a question answered by a
bare "yes" / "no".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.drafting.sentences import asks_presence, is_question
from pipelines.types import Entity, SupportReason
from pipelines.verify.lexicon import content_stems
from pipelines.verify.numbers import quantities
from pipelines.verify.passages import Passage, TranscriptIndex, concept_keys
from pipelines.verify.sides import agree

KEY_LABELS = frozenset({"PROBLEM", "MEDICATION", "TEST", "PROCEDURE", "VITAL"})


@dataclass(frozen=True)
class Found:
    """Reasons, and passages found elsewhere that back an entity, a number or a side."""

    reasons: list[SupportReason]
    extra: set[int]


def entities_check(ents: Sequence[Entity], index: TranscriptIndex, chosen: set[int]) -> Found:
    """Each key entity of the sentence: in the chosen passages, elsewhere, or nowhere."""
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
    return Found(reasons, extra)


def _lexical(ent: Entity, index: TranscriptIndex) -> frozenset[int]:
    """Passages holding every content word of the entity (when the NLP did not code it)."""
    stems = list(dict.fromkeys(content_stems(ent.text, index.lexicon)))
    if not stems:
        return frozenset()
    where = index.passages_with(stems[0])
    for s in stems[1:]:
        where = where & index.passages_with(s)
    return where


def numbers_check(text: str, index: TranscriptIndex, chosen: set[int]) -> Found:
    """Each quantity: said in the evidence, contradicted by it, said elsewhere, or not said."""
    reasons, extra = [], set()
    heard = [(p, r) for p in sorted(chosen) for r in index.passages[p].quantities]
    for q in quantities(text):
        if q.kind == "as_needed":
            continue  # "as needed" is no number to check; alignment counts its words
        said = text[q.start : q.end]
        if any(q.heard_in(r) for _, r in heard):
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
    return Found(reasons, extra)


def sides_check(said: frozenset[str], index: TranscriptIndex, chosen: set[int]) -> Found:
    """The sides the sentence names against those of its evidence (and of the visit)."""
    if not said:
        return Found([], set())
    heard: frozenset[str] = frozenset().union(*(index.passages[p].sides for p in chosen))
    name = " and ".join(sorted(said))
    if agree(said, heard):
        return Found([SupportReason("laterality", "ok", f"the side ({name}) agrees")], set())
    elsewhere = [p.index for p in index.passages if p.sides and agree(said, p.sides)]
    if heard and not elsewhere:
        other = " and ".join(sorted(heard))
        return Found(
            [SupportReason("laterality", "conflict", f"says {name}, the visit says {other}")], set()
        )
    if elsewhere:
        return Found(
            [
                SupportReason(
                    "laterality", "weak", f"the side ({name}) is said elsewhere in the visit"
                )
            ],
            {elsewhere[0]},
        )
    return Found(
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


def negation_check(
    text: str, ents: Sequence[Entity], index: TranscriptIndex, chosen: set[int]
) -> list[SupportReason]:
    """A problem the sentence denies while the visit only ever affirms it, or the reverse.

    The whole visit decides, not just the aligned passages: a patient may deny a symptom in
    one answer and describe it later, and then neither reading is a contradiction. Nor is
    there one when the sentence's own evidence mentions the problem without saying yes or
    no ("I think you have an infection"), or when the sentence is itself a question ("Any
    fever?" copied from the visit claims nothing).
    """
    reasons: list[SupportReason] = []
    if is_question(text):
        return reasons
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
