"""The problems of a problem-oriented assessment and plan, read from a draft.

The learned drafter (``pipelines.drafting.structure.problem_oriented``) writes such a section
as a problem's name ("Right knee pain.", evidence on its mention) followed by its labelled
sentences ("Medical Reasoning: ...", "Medical Treatment: ..."). A heading is an unlabelled,
short sentence that either comes before a labelled one (as the renderer reads it) or rests on a
problem mention that is present (a problem named without a plan). A clinician's edits keep
that shape, so edited notes are read the same way; no field on the sentence is needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.drafting.structure import split_label
from pipelines.drafting.templates import TemplateError, load_template
from pipelines.types import Draft, Entity, Evidence, NoteSentence

MAX_HEADING_WORDS = 8
_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")
# A negated statement ("No fever.") names no problem to code.
_NEGATION = re.compile(r"\b(?:no|not|never|denies|negative|n't|ruled out|rule out)\b", re.I)


@dataclass(frozen=True)
class AssessedProblem:
    """One assessed problem: its heading sentence and the sentences under it, in order."""

    name: str
    heading: NoteSentence
    sentences: tuple[NoteSentence, ...] = ()

    @property
    def sentence_id(self) -> str:
        """The heading's sentence id (stable across edits): the problem's identity."""
        return self.heading.sentence_id

    @property
    def all_sentences(self) -> tuple[NoteSentence, ...]:
        """The heading first, then its assessment and plan sentences."""
        return (self.heading, *self.sentences)


def overlaps(entity: Entity, evidence: Sequence[Evidence]) -> bool:
    """True when the entity's characters overlap any of the evidence spans."""
    return any(
        ev.segment_idx == entity.segment_idx
        and ev.start_char < entity.end
        and entity.start < ev.end_char
        for ev in evidence
    )


def problem_name(text: str) -> str:
    """ "1. Right knee pain." -> "Right knee pain"."""
    return _NUMBERED.sub("", text).strip().rstrip(".").strip()


def problem_sections(draft: Draft) -> tuple[str, ...]:
    """The draft's sections laid out by problem (none for an unknown template)."""
    try:
        template = load_template(draft.template)
    except TemplateError:
        return ()
    return tuple(
        s.key for s in template.sections if s.layout == "problems" and s.key in draft.sections
    )


def is_heading(
    sentence: NoteSentence, following: NoteSentence | None, entities: Sequence[Entity]
) -> bool:
    """Whether ``sentence`` names a problem in a problem-oriented section."""
    name = problem_name(sentence.text)
    if not name or split_label(sentence.text)[0] or len(name.split()) > MAX_HEADING_WORDS:
        return False
    if _NEGATION.search(name):
        return False
    if following is not None and split_label(following.text)[0]:
        return True
    return any(
        e.label == "PROBLEM"
        and not (e.negated or e.family or e.hypothetical)
        and overlaps(e, sentence.evidence)
        for e in entities
    )


def assessed_problems(
    draft: Draft, entities: Sequence[Entity] = (), sections: Sequence[str] | None = None
) -> tuple[AssessedProblem, ...]:
    """Every problem the draft's problem-oriented sections assess, in note order.

    ``sections`` defaults to the template's sections with the "problems" layout. Sentences
    before the first heading belong to no problem and are left out.
    """
    keys = problem_sections(draft) if sections is None else tuple(sections)
    out: list[AssessedProblem] = []
    for key in keys:
        members = draft.section_sentences(key)
        current: tuple[NoteSentence, list[NoteSentence]] | None = None
        for i, sentence in enumerate(members):
            following = members[i + 1] if i + 1 < len(members) else None
            if is_heading(sentence, following, entities):
                if current:
                    out.append(_problem(*current))
                current = (sentence, [])
            elif current:
                current[1].append(sentence)
        if current:
            out.append(_problem(*current))
    return tuple(out)


def _problem(heading: NoteSentence, sentences: list[NoteSentence]) -> AssessedProblem:
    return AssessedProblem(problem_name(heading.text), heading, tuple(sentences))
