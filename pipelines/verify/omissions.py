"""Omissions: clinically important transcript passages that no note sentence covers.

What counts as important (from entity labels, context flags and cue words):

- ``problem``: a PROBLEM the visit affirms (not negated, family, hypothetical or uncertain,
  not only asked about, not an indication such as "tylenol for any fever");
- ``medication_change``: a MEDICATION next to a change word (start, stop, increase,
  decrease, switch, refill, prescribe, ...): what the patient will take next;
- ``abnormal_vital``: a VITAL whose value is out of range (blood pressure >= 140/90 or
  systolic < 90, heart rate > 100 or < 50, temperature >= 100.4 F / 38 C, oxygen
  saturation < 92%, respiratory rate > 20) or said to be high/low/abnormal;
- ``abnormal_result``: a TEST whose result is said to be elevated, high, low, abnormal or
  positive;
- ``plan``: a clinician's plan sentence (drafting cues: orders, referrals, follow-up) with
  a test, procedure or medication in it, or a follow-up with its interval.

A mention is covered when a note sentence names the same concept (code, ICD-10-CM
category or words), or when a sentence's evidence overlaps it. Each uncovered concept is
reported once, at its most telling mention; mentions in one passage form one omission.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.drafting import cues
from pipelines.drafting.rewrite import clean, rewrite_clinician, rewrite_patient, unsupported_words
from pipelines.types import Entity, Evidence, NoteSentence, Omission, SupportResult
from pipelines.verify.agreement import heard_polarity
from pipelines.verify.lexicon import Lexicon, content_stems, same_stem
from pipelines.verify.numbers import Quantity, quantities
from pipelines.verify.passages import Passage, TranscriptIndex

KIND_ORDER = ("medication_change", "abnormal_vital", "abnormal_result", "plan", "problem")
_CHANGE = re.compile(
    r"\b(?:start\w*|stop\w*|increas\w*|decreas\w*|reduc\w*|switch\w*|discontinu\w*|"
    r"prescrib\w*|refill\w*|hold\w*|taper\w*|add\w*|begin|restart\w*|double|halve|"
    r"put (?:you|him|her) on|give you|change\w*|cut (?:back|down))\b",
    re.IGNORECASE,
)
_ABNORMAL = re.compile(
    r"\b(?:elevated|high|higher|low|lower|abnormal|positive|worse|increased|decreased|"
    r"raised|up)\b",
    re.IGNORECASE,
)
_SECTION_PREFS: dict[str, tuple[str, ...]] = {
    "subjective": ("subjective", "history_of_present_illness", "hpi", "history", "chief"),
    "objective": ("objective", "vital", "physical_exam", "exam"),
    "results": ("results", "objective", "data", "findings"),
    "assessment": ("assessment", "impression"),
    "plan": ("plan", "assessment_and_plan", "recommendation"),
}
_ROLE = {
    "problem": "subjective",
    "medication_change": "plan",
    "abnormal_vital": "objective",
    "abnormal_result": "results",
    "plan": "plan",
}


@dataclass(frozen=True)
class _Mention:
    kind: str
    passage: Passage
    words: str
    keys: frozenset[str]
    span: tuple[int, int]  # characters of the segment


def _vital_out_of_range(ent: Entity, after: list[Quantity], text: str) -> str | None:
    name = (ent.code_label or ent.text).lower()
    if _ABNORMAL.search(text):
        return f"{ent.text} said to be abnormal"
    for q in after:
        try:
            if "pressure" in name and q.kind == "ratio":
                sys_, dia = (int(v) for v in q.value.split("/"))
                if sys_ >= 140 or dia >= 90 or sys_ < 90:
                    return f"{ent.text} {q.value}"
            elif q.kind == "number":
                v = float(q.value)
                if (
                    (("heart" in name or "pulse" in name) and (v > 100 or v < 50))
                    or ("temp" in name and (v >= 100.4 or 38 <= v < 45))
                    or (("oxygen" in name or "saturation" in name) and 50 < v < 92)
                    or ("respiratory" in name and v > 20)
                ):
                    return f"{ent.text} {q.value}"
        except ValueError:
            continue
        break  # only the first value after the vital is its reading
    return None


def _mentions(index: TranscriptIndex) -> list[_Mention]:
    found: list[_Mention] = []
    for p in index.passages:
        low = clean(p.text).lower()
        planned = p.speaker != "patient" and bool(
            cues.PLAN.search(low) or cues.FOLLOW_UP.search(low) or cues.TEST_ORDER.search(low)
        )
        for ent, keys in zip(p.entities, p.entity_keys, strict=True):
            if ent.negated or ent.family or ent.hypothetical:
                continue
            rest = p.segment.text[ent.end : p.end]
            span = (ent.start, ent.end)
            kind = None
            words = ent.text
            if ent.label == "PROBLEM" and heard_polarity(p, ent) == "present":
                kind = "problem"
            elif ent.label == "MEDICATION" and _CHANGE.search(p.text):
                kind = "medication_change"
            elif ent.label == "VITAL":
                after = [q for q in p.quantities if q.start + p.start >= ent.end]
                reading = _vital_out_of_range(ent, after, rest[:40])
                if reading:
                    kind, words = "abnormal_vital", reading
            elif ent.label == "TEST" and _ABNORMAL.search(rest[:60]) and not p.question:
                kind = "abnormal_result"
            if kind is None and planned and ent.label in ("TEST", "PROCEDURE", "MEDICATION"):
                kind = "plan"
            if kind:
                found.append(_Mention(kind, p, words, keys, span))
        if planned and cues.FOLLOW_UP.search(low) and p.quantities:
            q = p.quantities[0]
            span = (p.start + q.start, p.start + q.end)
            found.append(
                _Mention(
                    "plan",
                    p,
                    "follow-up " + p.text[q.start : q.end],
                    frozenset({"f:" + q.value + q.unit}),
                    span,
                )
            )
    return found


def _covered(
    m: _Mention,
    evidence: list[Evidence],
    concepts: set[str],
    stems: list[set[str]],
    quantities: set[str],
    lexicon: Lexicon,
) -> bool:
    seg = m.passage.segment.idx
    if any(
        ev.segment_idx == seg and ev.start_char < m.span[1] and ev.end_char > m.span[0]
        for ev in evidence
    ):
        return True
    if m.keys & concepts:
        return True
    follow_up = next((k for k in m.keys if k.startswith("f:")), None)
    if follow_up:
        return follow_up[2:] in quantities
    words = set(content_stems(m.passage.segment.text[m.span[0] : m.span[1]], lexicon))
    return bool(words) and any(
        all(any(same_stem(w, s) for s in sent) for w in words) for sent in stems
    )


def pick_section(role: str, sections: Sequence[str]) -> str:
    """The note section for a kind of content ("plan", "objective", ...)."""
    for pref in _SECTION_PREFS.get(role, (role,)):
        for key in sections:
            if key == pref:
                return key
        for key in sections:
            if pref in key:
                return key
    return sections[-1] if role == "plan" else sections[0]


def _suggestion(p: Passage, role: str) -> str:
    text = p.text
    soap = {"results": "objective"}.get(role, role)
    if p.speaker == "patient":
        out = rewrite_patient(text)
    else:
        out = rewrite_clinician(text, soap)
    if not out or unsupported_words(out, [text]):
        tidy = clean(text)
        out = tidy[:1].upper() + tidy[1:] + "." if tidy else text
    return out


def find_omissions(
    index: TranscriptIndex,
    sentences: Sequence[NoteSentence],
    results: Sequence[SupportResult],
    sections: Sequence[str],
) -> tuple[Omission, ...]:
    """Important passages (see the module docstring) that no sentence covers, in time order.

    ``results`` are the support check's results for ``sentences`` (their concepts and
    aligned evidence); ``sections`` are the note's section keys, for "add to note".
    """
    # A passage is covered by a sentence's own evidence links, or by the aligned evidence of
    # a sentence the check supports (a wrong sentence aligned to it covers nothing).
    evidence = [ev for s in sentences for ev in s.evidence] + [
        ev for r in results if r.label == "supported" for ev in r.evidence
    ]
    concepts = {c for r in results for c in r.concepts}
    stems = [set(content_stems(s.text, index.lexicon)) for s in sentences]
    said = {q.value + q.unit for s in sentences for q in quantities(s.text)}
    by_concept: dict[frozenset[str], list[_Mention]] = {}
    for m in _mentions(index):
        by_concept.setdefault(m.keys, []).append(m)
    chosen: list[_Mention] = []
    for mentions in by_concept.values():
        if any(_covered(m, evidence, concepts, stems, said, index.lexicon) for m in mentions):
            continue
        chosen.append(min(mentions, key=lambda m: (KIND_ORDER.index(m.kind), m.passage.index)))
    by_passage: dict[int, list[_Mention]] = {}
    for m in chosen:
        by_passage.setdefault(m.passage.index, []).append(m)
    out = []
    for pid in sorted(by_passage):
        group = sorted(by_passage[pid], key=lambda m: KIND_ORDER.index(m.kind))
        passage = group[0].passage
        kind = group[0].kind
        role = _ROLE[kind]
        if (
            kind == "problem"
            and passage.speaker == "clinician"
            and cues.IMPRESSION.search(clean(passage.text).lower())
        ):
            role = "assessment"
        mentions = tuple(dict.fromkeys(m.words for m in group))
        out.append(
            Omission(
                kind=kind,
                reason=_reason(kind, mentions),
                mentions=mentions,
                evidence=(passage.evidence(),),
                section=pick_section(role, sections),
                suggestion=_suggestion(passage, role),
            )
        )
    return tuple(out)


def _reason(kind: str, mentions: tuple[str, ...]) -> str:
    what = ", ".join(f"“{m}”" for m in mentions)
    return {
        "problem": f"problem discussed but not in the note: {what}",
        "medication_change": f"medication change not in the note: {what}",
        "abnormal_vital": f"abnormal vital sign not in the note: {what}",
        "abnormal_result": f"abnormal result not in the note: {what}",
        "plan": f"plan item not in the note: {what}",
    }[kind]
