"""An annotator's edits to an entities task: plain annotation tuples in, new tuples out.

The set these functions build is what the task saves. It holds the annotator's labels
(origin "human", or "confirmed" for a model suggestion they accepted, with the same id) plus
the suggestions they rejected (origin "suggestion", ``value["decision"] == "rejected"``), so
that a rejected suggestion stays rejected when the task is reopened. A suggestion nobody has
decided on is not in the set: it is offered again from the model's entity set. Only
``is_label`` annotations are labels (agreement, gold and exports count nothing else).

Each function checks its input and raises ``ValueError`` with a sentence an annotator can
act on; whether the set fits the schema is ``annotation_check.check_annotations``' job.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pipelines.types import Annotation

# The context flags a span may carry (``value["context"]``), as on ``Entity``.
CONTEXT_FLAGS: tuple[str, ...] = ("negated", "historical", "family", "hypothetical", "uncertain")
LABEL_ORIGINS = frozenset({"human", "confirmed"})
REJECTED = "rejected"
# A word: letters or digits, joined by inner hyphens, apostrophes, dots or slashes ("b.i.d",
# "don't", "3.5", "mg/dl"); a de-identification placeholder ("[NAME]") is one word too.
_WORD = re.compile(r"\[[A-Z]+\]|\w+(?:[-'\u2019./]\w+)*")
PLACEHOLDER = re.compile(r"\[(?:NAME|DATE|AGE|PHONE|ADDRESS|ID|EMAIL)\]")


@dataclass(frozen=True)
class Token:
    """One word of a segment's text: ``text == segment_text[start:end]``."""

    start: int
    end: int
    text: str


def word_tokens(text: str) -> tuple[Token, ...]:
    """The words of a segment's text with their character offsets (punctuation between
    words is left out of the words, and is inside a span only between its first and last)."""
    return tuple(Token(m.start(), m.end(), m.group()) for m in _WORD.finditer(text))


def new_id(prefix: str) -> str:
    """A fresh annotation id (``h-`` spans, ``r-`` relations)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def is_label(a: Annotation) -> bool:
    """Whether the annotation is a person's label (not a pending or rejected suggestion)."""
    return a.origin in LABEL_ORIGINS


def is_rejected(a: Annotation) -> bool:
    """Whether the annotation is a model suggestion the annotator rejected."""
    return a.origin == "suggestion" and a.value.get("decision") == REJECTED


def context_of(a: Annotation) -> tuple[str, ...]:
    """The span's context flags, in display order."""
    flags = set(a.value.get("context") or ())
    return tuple(f for f in CONTEXT_FLAGS if f in flags)


def span_from_words(
    segment_idx: int,
    text: str,
    tokens: Sequence[Token],
    first: int,
    last: int,
    label: str,
    context: Iterable[str] = (),
) -> Annotation:
    """A new human span covering words ``first..last`` (inclusive) of the segment."""
    if not tokens:
        raise ValueError("This segment has no words to label")
    first, last = min(first, last), max(first, last)
    if not 0 <= first <= last < len(tokens):
        raise ValueError(f"Choose words between 1 and {len(tokens)}")
    start, end = tokens[first].start, tokens[last].end
    return Annotation(
        new_id("h"),
        "span",
        label,
        segment_idx,
        start,
        end,
        text[start:end],
        value={"context": _flags(context)},
    )


def placeholder_problem(span: Annotation, text: str) -> str | None:
    """The store's refusal for a span over de-identified text, checked before it is sent."""
    start, end = span.start_char or 0, span.end_char or 0
    if any(m.start() < end and start < m.end() for m in PLACEHOLDER.finditer(text)):
        return f"annotation {span.annotation_id!r}: the span covers de-identified text ([NAME] ...)"
    return None


def add(annotations: Sequence[Annotation], new: Annotation) -> tuple[Annotation, ...]:
    """The set with ``new`` added; the same label on the same words twice is refused."""
    if new.kind == "span" and any(_same_span(a, new) for a in annotations if is_label(a)):
        raise ValueError(f"“{new.text}” is already labelled {new.label}")
    if new.kind == "relation" and any(
        a.kind == "relation" and a.label == new.label and a.value == new.value for a in annotations
    ):
        raise ValueError("That relation is already there")
    return (*annotations, new)


def remove_span(
    annotations: Sequence[Annotation], annotation_id: str, suggestions: Sequence[Annotation]
) -> tuple[Annotation, ...]:
    """The set without the span and its relations. A span that came from a model suggestion
    becomes that suggestion, rejected, so it is not offered again."""
    out = tuple(
        a
        for a in annotations
        if a.annotation_id != annotation_id
        and not (a.kind == "relation" and annotation_id in (a.value.get("from"), a.value.get("to")))
    )
    offered = next((s for s in suggestions if s.annotation_id == annotation_id), None)
    return (*out, _rejected(offered)) if offered is not None else out


def relabel(
    annotations: Sequence[Annotation], annotation_id: str, label: str
) -> tuple[Annotation, ...]:
    """The set with the span's label changed (the annotator's own label from then on)."""
    return _change(annotations, annotation_id, label=label)


def set_context(
    annotations: Sequence[Annotation], annotation_id: str, flags: Iterable[str]
) -> tuple[Annotation, ...]:
    """The set with the span's context flags replaced."""
    span = _find(annotations, annotation_id)
    return _change(annotations, annotation_id, value={**span.value, "context": _flags(flags)})


def accept(
    annotations: Sequence[Annotation], suggestions: Iterable[Annotation]
) -> tuple[Annotation, ...]:
    """The set with these suggestions accepted: origin "confirmed", same id, same words."""
    chosen = {s.annotation_id: replace(s, origin="confirmed") for s in suggestions}
    kept = tuple(a for a in annotations if a.annotation_id not in chosen)
    return (*kept, *chosen.values())


def reject(annotations: Sequence[Annotation], suggestion: Annotation) -> tuple[Annotation, ...]:
    """The set with the suggestion recorded as rejected."""
    kept = tuple(a for a in annotations if a.annotation_id != suggestion.annotation_id)
    return (*kept, _rejected(suggestion))


def restore(annotations: Sequence[Annotation], annotation_id: str) -> tuple[Annotation, ...]:
    """The set without the rejection: the suggestion is offered again."""
    return tuple(
        a for a in annotations if not (a.annotation_id == annotation_id and is_rejected(a))
    )


def pending_suggestions(
    annotations: Sequence[Annotation], suggestions: Sequence[Annotation]
) -> tuple[Annotation, ...]:
    """The model's suggestions nobody has decided on yet (neither a label nor rejected)."""
    decided = {a.annotation_id for a in annotations}
    return tuple(s for s in suggestions if s.annotation_id not in decided)


def relation(name: str, source_id: str, target_id: str) -> Annotation:
    """A new relation from one span to another."""
    if source_id == target_id:
        raise ValueError("A relation joins two different spans")
    return Annotation(new_id("r"), "relation", name, value={"from": source_id, "to": target_id})


def remove(annotations: Sequence[Annotation], annotation_id: str) -> tuple[Annotation, ...]:
    """The set without one annotation (a relation, an encounter label)."""
    return tuple(a for a in annotations if a.annotation_id != annotation_id)


def set_choice(
    annotations: Sequence[Annotation], question: str, choice: str | None
) -> tuple[Annotation, ...]:
    """The set with the encounter-level question answered (or its answer cleared)."""
    aid = f"q-{question}"
    kept = tuple(a for a in annotations if a.annotation_id != aid)
    if choice is None:
        return kept
    return (*kept, Annotation(aid, "encounter_label", question, value={"choice": choice}))


def choice_of(annotations: Sequence[Annotation], question: str) -> str | None:
    """The encounter-level answer to ``question``, if any."""
    for a in annotations:
        if a.kind == "encounter_label" and a.label == question:
            return a.value.get("choice")
    return None


def relations_of(annotations: Sequence[Annotation], span_id: str) -> tuple[Annotation, ...]:
    """The relations that start or end at the span."""
    return tuple(
        a
        for a in annotations
        if a.kind == "relation" and span_id in (a.value.get("from"), a.value.get("to"))
    )


# -- internals -----------------------------------------------------------------------------


def _flags(flags: Iterable[str]) -> list[str]:
    chosen = set(flags)
    unknown = chosen - set(CONTEXT_FLAGS)
    if unknown:
        raise ValueError(f"Unknown context {', '.join(sorted(unknown))}")
    return [f for f in CONTEXT_FLAGS if f in chosen]


def _same_span(a: Annotation, b: Annotation) -> bool:
    return (a.kind, a.segment_idx, a.start_char, a.end_char, a.label) == (
        b.kind,
        b.segment_idx,
        b.start_char,
        b.end_char,
        b.label,
    )


def _find(annotations: Sequence[Annotation], annotation_id: str) -> Annotation:
    for a in annotations:
        if a.annotation_id == annotation_id:
            return a
    raise ValueError(f"No annotation {annotation_id} in this task (reload it)")


def _change(annotations: Sequence[Annotation], annotation_id: str, **changes) -> tuple:
    """The set with one label changed; a changed model suggestion is the annotator's own
    label from then on (origin "human"; ``model_version`` still says where it came from)."""
    span = _find(annotations, annotation_id)
    if not is_label(span):
        raise ValueError("Accept the suggestion before changing it")
    if all(getattr(span, k) == v for k, v in changes.items()):
        return tuple(annotations)
    changed = replace(span, origin="human", **changes)
    return tuple(changed if a.annotation_id == annotation_id else a for a in annotations)


def _rejected(suggestion: Annotation) -> Annotation:
    return replace(
        suggestion, origin="suggestion", value={**suggestion.value, "decision": REJECTED}
    )
