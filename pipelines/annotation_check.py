"""Checks an annotation set against its task kind, the transcript and the label schemas.

One place decides what a valid annotation is, whether it was made in the app or imported
from Label Studio: a span must lie inside its segment and quote its text, labels and
choices must come from ``annotations/``, relations must join spans of the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipelines.annotation_schema import TaskSchema
from pipelines.schema import LabelSchema
from pipelines.types import Annotation, Transcript

# Which annotation kinds each task kind may hold.
TASK_ANNOTATIONS: dict[str, frozenset[str]] = {
    "entities": frozenset({"span", "relation", "encounter_label"}),
    "sections": frozenset({"section_label"}),
    "transcript": frozenset({"transcript_check"}),
    "quality": frozenset({"rating"}),
    "pairwise": frozenset({"preference"}),
}
ORIGINS = frozenset({"human", "suggestion", "confirmed"})


class InvalidAnnotation(ValueError):
    """An annotation set that does not fit its task; the message lists every problem."""


def check_annotations(
    task_kind: str,
    annotations: Sequence[Annotation],
    transcript: Transcript | None,
    labels: LabelSchema,
    tasks: TaskSchema,
) -> list[Annotation]:
    """The annotations with span texts filled in from the transcript; raises
    ``InvalidAnnotation`` listing every problem (at most 20) when any is found."""
    allowed = TASK_ANNOTATIONS.get(task_kind)
    if allowed is None:
        raise InvalidAnnotation(f"unknown task kind {task_kind!r}")
    problems: list[str] = []
    checked: list[Annotation] = []
    seen: set[str] = set()
    span_labels = {a.annotation_id: a.label for a in annotations if a.kind == "span"}
    for a in annotations:
        where = f"annotation {a.annotation_id!r}"
        if not a.annotation_id or a.annotation_id in seen:
            problems.append(f"{where}: missing or repeated id")
        seen.add(a.annotation_id)
        if a.kind not in allowed:
            problems.append(f"{where}: {a.kind!r} does not belong in the {task_kind} task")
            continue
        if a.origin not in ORIGINS:
            problems.append(f"{where}: origin must be one of {sorted(ORIGINS)}")
        problem, fixed = _check_one(a, transcript, labels, tasks, span_labels)
        if problem:
            problems.append(f"{where}: {problem}")
        checked.append(fixed)
    if problems:
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        raise InvalidAnnotation("; ".join(problems[:20]) + more)
    return checked


def span_labels(labels: LabelSchema, tasks: TaskSchema) -> tuple[str, ...]:
    """Every label a span may carry: the entity labels, then the medication attributes."""
    return (*labels.names, *(c.name for c in tasks.attribute_labels))


def _check_one(
    a: Annotation,
    transcript: Transcript | None,
    labels: LabelSchema,
    tasks: TaskSchema,
    spans: dict[str, str | None],
) -> tuple[str | None, Annotation]:
    if a.kind in ("span", "section_label", "transcript_check"):
        segment_problem = _segment_problem(a, transcript)
        if segment_problem:
            return segment_problem, a
    if a.kind == "span":
        return _check_span(a, transcript, labels, tasks)
    if a.kind == "relation":
        return _check_relation(a, tasks, spans), a
    if a.kind == "section_label":
        names = [c.name for c in tasks.section_labels]
        return (None if a.label in names else f"section must be one of {names}"), a
    if a.kind == "transcript_check":
        names = [c.name for c in tasks.transcript_checks]
        if a.label not in names:
            return f"check must be one of {names}", a
        if a.label == "words_wrong" and not str(a.value.get("text") or "").strip():
            return "words_wrong needs the corrected text in value['text']", a
        return None, a
    if a.kind in ("encounter_label", "rating"):
        return _check_choice(a, tasks), a
    if a.kind == "preference":
        choice = a.value.get("choice")
        if choice not in tasks.pairwise_choices:
            return f"choice must be one of {list(tasks.pairwise_choices)}", a
        if a.value.get("reason") not in (None, "", *tasks.pairwise_reasons):
            return f"reason must be one of {list(tasks.pairwise_reasons)}", a
        return None, a
    return f"unknown kind {a.kind!r}", a


def _segment_problem(a: Annotation, transcript: Transcript | None) -> str | None:
    if transcript is None:
        return "the encounter has no transcript"
    if a.segment_idx is None or not 0 <= a.segment_idx < len(transcript.segments):
        return f"segment {a.segment_idx} is not in the transcript"
    return None


def _check_span(
    a: Annotation, transcript: Transcript | None, labels: LabelSchema, tasks: TaskSchema
) -> tuple[str | None, Annotation]:
    if a.label not in span_labels(labels, tasks):
        return f"label {a.label!r} is not in the schema", a
    assert transcript is not None and a.segment_idx is not None  # checked by _segment_problem
    text = transcript.segments[a.segment_idx].text
    start, end = a.start_char, a.end_char
    if start is None or end is None or not 0 <= start < end <= len(text):
        return f"offsets {start}..{end} are outside segment {a.segment_idx}", a
    quoted = text[start:end]
    if a.text is not None and a.text != quoted:
        return f"text {a.text!r} does not match the transcript ({quoted!r})", a
    return None, _with_text(a, quoted)


def _check_relation(a: Annotation, tasks: TaskSchema, spans: dict[str, str | None]) -> str | None:
    try:
        relation = tasks.relation(a.label or "")
    except KeyError:
        return f"relation {a.label!r} is not in the schema"
    ends = (a.value.get("from"), a.value.get("to"))
    if any(end not in spans for end in ends):
        return "a relation must join two spans of the same task"
    if (spans[ends[0]], spans[ends[1]]) != (relation.source, relation.target):
        return f"{relation.name} goes from a {relation.source} to a {relation.target} span"
    return None


def _check_choice(a: Annotation, tasks: TaskSchema) -> str | None:
    try:
        question = tasks.question(a.label or "")
    except KeyError:
        return f"{a.label!r} is not a question of the schema"
    is_rating = question in tasks.quality_items
    if (a.kind == "rating") != is_rating:
        return f"{a.label!r} is not a {a.kind.replace('_', ' ')}"
    key = "score" if is_rating else "choice"
    if str(a.value.get(key)) not in question.choices:
        return f"value[{key!r}] must be one of {list(question.choices)}"
    return None


def _with_text(a: Annotation, text: str) -> Annotation:
    return a if a.text == text else replace(a, text=text)
