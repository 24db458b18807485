"""Label Studio annotations back to ``Annotation`` records, refusing anything foreign.

Input is a task as Label Studio returns it (the task API with ``fields=all``, or one entry
of a JSON export): ``id``, ``data`` (what ``tasks.task_data`` pushed), ``annotations`` and
``predictions``. Every problem raises ``LabelStudioFormatError`` naming the task, the
annotation and the result item, never quoting transcript text: a project whose config is
not Scribe's (an unknown control name), a label or choice outside ``annotations/``, a
region outside its turn or spanning two turns, a region whose text is not the transcript's,
a task whose transcript differs from the stored version, a missing field. A caller checks
every task before importing any, so one bad item imports nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pipelines.annotation_check import span_labels
from pipelines.annotation_schema import TaskSchema
from pipelines.labelstudio.tasks import ENCOUNTER_KEY, VERSION_KEY
from pipelines.schema import (
    LS_CONTEXT,
    LS_ENTITIES,
    LS_TRANSCRIPT,
    LabelSchema,
    label_studio_attribute_name,
    label_studio_question_name,
)
from pipelines.types import Annotation


class LabelStudioFormatError(ValueError):
    """A Label Studio task, annotation or export that Scribe cannot import as it is."""


@dataclass(frozen=True)
class PulledAnnotation:
    """One completed Label Studio annotation of one task, as Scribe annotations.

    ``annotator`` is the Label Studio user id, or their email when the export names it;
    ``updated_at`` is Label Studio's, so an edit made there after a pull is a new version.
    """

    ls_task_id: int
    ls_annotation_id: int
    updated_at: str
    annotator: int | str
    encounter_id: str
    transcript_version: int
    annotations: tuple[Annotation, ...]


@dataclass(frozen=True)
class _Controls:
    """What each control name of Scribe's config means."""

    span_labels: frozenset[str]
    flags: tuple[str, ...]
    boxes: dict[str, tuple[str, str]]  # textarea name -> (label, attribute)
    questions: dict[str, tuple[str, tuple[str, ...]]]  # choices name -> (question, choices)
    relations: dict[str, tuple[str, str]]  # relation -> (source label, target label)


def _controls(labels: LabelSchema, tasks: TaskSchema) -> _Controls:
    return _Controls(
        span_labels=frozenset(span_labels(labels, tasks)),
        flags=tuple(f.name for f in labels.context),
        boxes={
            label_studio_attribute_name(s.name, a): (s.name, a)
            for s in labels.labels
            for a in s.attributes
        },
        questions={
            label_studio_question_name(q.name): (q.name, q.choices) for q in tasks.encounter_labels
        },
        relations={r.name: (r.source, r.target) for r in tasks.relations},
    )


def task_identity(task: Any) -> tuple[int, str, int]:
    """(Label Studio task id, encounter id, transcript version) of a task Scribe pushed."""
    if not isinstance(task, Mapping):
        raise LabelStudioFormatError(f"a task must be a JSON object, got {type(task).__name__}")
    task_id = task.get("id")
    if not isinstance(task_id, int) or isinstance(task_id, bool):
        raise LabelStudioFormatError("a task has no integer 'id'")
    data = task.get("data")
    if not isinstance(data, Mapping):
        raise LabelStudioFormatError(f"task {task_id}: missing 'data'")
    encounter_id, version = data.get(ENCOUNTER_KEY), data.get(VERSION_KEY)
    if not isinstance(encounter_id, str) or not encounter_id:
        raise LabelStudioFormatError(
            f"task {task_id}: no '{ENCOUNTER_KEY}' in its data: it is not a task Scribe pushed"
        )
    if not isinstance(version, int) or isinstance(version, bool):
        raise LabelStudioFormatError(f"task {task_id}: no integer '{VERSION_KEY}' in its data")
    return task_id, encounter_id, version


def parse_task(
    task: Any, texts: Sequence[str], labels: LabelSchema, tasks: TaskSchema
) -> list[PulledAnnotation]:
    """The completed (not cancelled) annotations of one task. ``texts`` are the stored
    segment texts of the task's encounter and transcript version; the task's own transcript
    must equal them, and every region must quote them."""
    task_id, encounter_id, version = task_identity(task)
    _check_transcript(task_id, task["data"].get(LS_TRANSCRIPT), texts)
    controls = _controls(labels, tasks)
    suggested = _suggestions(task.get("predictions"), texts, controls)
    raw = task.get("annotations", [])
    if not isinstance(raw, list):
        raise LabelStudioFormatError(f"task {task_id}: 'annotations' must be a list")
    pulled = []
    for item in raw:
        where = f"task {task_id}"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), int):
            raise LabelStudioFormatError(f"{where}: an annotation has no integer 'id'")
        where = f"task {task_id}, annotation {item['id']}"
        if item.get("was_cancelled"):
            continue  # skipped in Label Studio: nothing was labelled
        updated = item.get("updated_at") or item.get("created_at")
        if not isinstance(updated, str) or not updated:
            raise LabelStudioFormatError(f"{where}: missing 'updated_at'")
        annotations = parse_results(item.get("result"), texts, controls, where)
        pulled.append(
            PulledAnnotation(
                ls_task_id=task_id,
                ls_annotation_id=item["id"],
                updated_at=updated,
                annotator=_annotator(item.get("completed_by"), where),
                encounter_id=encounter_id,
                transcript_version=version,
                annotations=tuple(_origin(a, suggested) for a in annotations),
            )
        )
    return pulled


def parse_results(
    results: Any, texts: Sequence[str], controls: _Controls, where: str
) -> list[Annotation]:
    """One annotation's result items as annotations: spans first (in Label Studio's order),
    then relations, then encounter labels."""
    if not isinstance(results, list):
        raise LabelStudioFormatError(f"{where}: 'result' must be a list")
    spans: dict[str, Annotation] = {}
    extras: list[tuple[int, Mapping]] = []
    others: list[Annotation] = []
    for n, item in enumerate(results):
        at = f"{where}, result {n}"
        if not isinstance(item, Mapping) or not isinstance(item.get("type"), str):
            raise LabelStudioFormatError(f"{at}: not a result item (no 'type')")
        if item["type"] == "relation":
            others.extend(_relations(item, at, controls))
            continue
        name = item.get("from_name")
        if item.get("to_name") != LS_TRANSCRIPT or not isinstance(item.get("value"), Mapping):
            raise LabelStudioFormatError(
                f"{at}: {name!r} does not label the transcript: the project's config is not"
                " the one Scribe pushed"
            )
        if name == LS_ENTITIES:
            span = _span(item, at, texts, controls)
            if span.annotation_id in spans:
                raise LabelStudioFormatError(f"{at}: region {span.annotation_id!r} is repeated")
            spans[span.annotation_id] = span
        elif name == LS_CONTEXT or name in controls.boxes:
            extras.append((n, item))
        elif name in controls.questions:
            others.append(_question(item, at, controls))
        else:
            raise LabelStudioFormatError(
                f"{at}: unknown control {name!r}: the project's config is not Scribe's"
            )
    for n, item in extras:
        _attach(spans, item, f"{where}, result {n}", controls)
    others = _orient(others, spans, controls)
    ids = [a.annotation_id for a in others]
    if len(ids) != len(set(ids)):
        raise LabelStudioFormatError(f"{where}: a relation or encounter label is repeated")
    return [*spans.values(), *others]


def load_tasks_json(text: str | bytes) -> list[dict]:
    """The tasks of a Label Studio JSON export (a list of task objects)."""
    try:
        found = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise LabelStudioFormatError(f"not a Label Studio JSON export: {exc}") from None
    if not isinstance(found, list) or not all(isinstance(t, dict) for t in found):
        raise LabelStudioFormatError("a Label Studio JSON export is a list of task objects")
    return found


# -- pieces --------------------------------------------------------------------------------


def _check_transcript(task_id: int, shown: Any, texts: Sequence[str]) -> None:
    if not isinstance(shown, list):
        raise LabelStudioFormatError(f"task {task_id}: missing '{LS_TRANSCRIPT}' in its data")
    if len(shown) != len(texts):
        raise LabelStudioFormatError(
            f"task {task_id}: {len(shown)} turns, the stored transcript version has"
            f" {len(texts)}: it is not the transcript Scribe pushed"
        )
    for idx, (turn, text) in enumerate(zip(shown, texts, strict=True)):
        if not isinstance(turn, Mapping) or turn.get("text") != text:
            raise LabelStudioFormatError(
                f"task {task_id}: turn {idx} differs from the stored transcript version"
                " (changed in Label Studio, or pushed from another database)"
            )


def _annotator(completed_by: Any, where: str) -> int | str:
    if isinstance(completed_by, Mapping):
        email = completed_by.get("email")
        if isinstance(email, str) and email.strip():
            return email.strip()
        completed_by = completed_by.get("id")
    if isinstance(completed_by, int) and not isinstance(completed_by, bool):
        return completed_by
    raise LabelStudioFormatError(f"{where}: missing 'completed_by' (who annotated it)")


def _index(value: Any) -> int | None:
    """A paragraph index: Label Studio writes numbers, older versions digit strings."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _region_id(item: Mapping, at: str) -> str:
    region = item.get("id")
    if not isinstance(region, str) or not region.strip():
        raise LabelStudioFormatError(f"{at}: missing region 'id'")
    return region


def _span(item: Mapping, at: str, texts: Sequence[str], controls: _Controls) -> Annotation:
    region = _region_id(item, at)
    value = item["value"]
    names = value.get("paragraphlabels")
    if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
        raise LabelStudioFormatError(f"{at}: region {region!r} needs exactly one label")
    if names[0] not in controls.span_labels:
        raise LabelStudioFormatError(f"{at}: unknown label {names[0]!r}")
    first, last = _index(value.get("start")), _index(value.get("end"))
    start, end = value.get("startOffset"), value.get("endOffset")
    if (
        first is None
        or last is None
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end))
    ):
        raise LabelStudioFormatError(f"{at}: region {region!r} lacks start/end turns or offsets")
    if first != last:
        raise LabelStudioFormatError(
            f"{at}: region {region!r} spans turns {first}-{last}; a Scribe span lies in one turn"
        )
    if not 0 <= first < len(texts):
        raise LabelStudioFormatError(
            f"{at}: region {region!r} is in turn {first}, which is not in the transcript"
        )
    if not 0 <= start < end <= len(texts[first]):
        raise LabelStudioFormatError(
            f"{at}: region {region!r} offsets {start}..{end} lie outside turn {first}"
            f" ({len(texts[first])} characters)"
        )
    quoted = texts[first][start:end]
    if "text" in value and value["text"] != quoted:
        raise LabelStudioFormatError(
            f"{at}: region {region!r}'s text does not match turn {first} at {start}..{end}"
        )
    return Annotation(
        annotation_id=region,
        kind="span",
        label=names[0],
        segment_idx=first,
        start_char=start,
        end_char=end,
        text=quoted,
        value={"context": [], "attributes": {}},
    )


def _attach(spans: dict[str, Annotation], item: Mapping, at: str, controls: _Controls) -> None:
    """Put a per-region context choice or attribute text on its span."""
    region = _region_id(item, at)
    span = spans.get(region)
    if span is None:
        raise LabelStudioFormatError(f"{at}: {item['from_name']!r} refers to no labelled region")
    value = item["value"]
    if item["from_name"] == LS_CONTEXT:
        chosen = value.get("choices")
        if not isinstance(chosen, list) or not all(c in controls.flags for c in chosen):
            raise LabelStudioFormatError(
                f"{at}: context choices must be among {list(controls.flags)}"
            )
        context = [f for f in controls.flags if f in chosen]  # the schema's order
        spans[region] = replace(span, value={**span.value, "context": context})
        return
    label, attribute = controls.boxes[item["from_name"]]
    if span.label != label:
        raise LabelStudioFormatError(
            f"{at}: {item['from_name']!r} belongs to {label} regions, not {span.label}"
        )
    lines = value.get("text")
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise LabelStudioFormatError(f"{at}: {item['from_name']!r} needs a list of texts")
    attributes = {**span.value["attributes"], attribute: "\n".join(lines)}
    spans[region] = replace(span, value={**span.value, "attributes": attributes})


def _relations(item: Mapping, at: str, controls: _Controls) -> list[Annotation]:
    ends = item.get("from_id"), item.get("to_id")
    if not all(isinstance(e, str) and e for e in ends):
        raise LabelStudioFormatError(f"{at}: a relation needs 'from_id' and 'to_id'")
    names = item.get("labels")
    if not isinstance(names, list) or not names:
        raise LabelStudioFormatError(f"{at}: a relation needs a label (one of the schema's)")
    unknown = [n for n in names if n not in controls.relations]
    if unknown:
        raise LabelStudioFormatError(f"{at}: unknown relation {unknown[0]!r}")
    direction = item.get("direction", "right")
    if direction not in ("right", "left", "bi"):
        raise LabelStudioFormatError(f"{at}: unknown relation direction {direction!r}")
    source, target = ends if direction != "left" else ends[::-1]
    return [
        Annotation(
            annotation_id=at,  # replaced by _orient once the spans are known
            kind="relation",
            label=name,
            value={"from": source, "to": target, "either_way": direction == "bi"},
        )
        for name in names
    ]


def _orient(
    others: list[Annotation], spans: dict[str, Annotation], controls: _Controls
) -> list[Annotation]:
    """Relations from the schema's source label to its target (a two-way arrow is turned
    round when needed), with stable ids; encounter labels as they are."""
    out = []
    for a in others:
        if a.kind != "relation":
            out.append(a)
            continue
        at, either_way = a.annotation_id, a.value["either_way"]
        source, target = a.value["from"], a.value["to"]
        if source not in spans or target not in spans:
            raise LabelStudioFormatError(
                f"{at}: relation {a.label!r} joins a region that is not a labelled span"
            )
        wanted = controls.relations[a.label or ""]
        if either_way and (spans[target].label, spans[source].label) == wanted:
            source, target = target, source
        if (spans[source].label, spans[target].label) != wanted:
            raise LabelStudioFormatError(
                f"{at}: {a.label} goes from a {wanted[0]} region to a {wanted[1]} region,"
                f" not from {spans[source].label} to {spans[target].label}"
            )
        rid = f"relation:{source}:{a.label}:{target}"
        out.append(replace(a, annotation_id=rid, value={"from": source, "to": target}))
    return out


def _question(item: Mapping, at: str, controls: _Controls) -> Annotation:
    question, allowed = controls.questions[item["from_name"]]
    chosen = item["value"].get("choices")
    if not isinstance(chosen, list) or len(chosen) != 1 or chosen[0] not in allowed:
        raise LabelStudioFormatError(f"{at}: {question!r} needs exactly one of {list(allowed)}")
    return Annotation(
        annotation_id=f"encounter:{question}",
        kind="encounter_label",
        label=question,
        value={"choice": chosen[0]},
    )


def _suggestions(
    predictions: Any, texts: Sequence[str], controls: _Controls
) -> dict[tuple, str | None]:
    """What the task's predictions suggested: signature -> model version. A prediction
    Scribe cannot read (another tool's) suggests nothing; it is never imported."""
    found: dict[tuple, str | None] = {}
    for prediction in predictions if isinstance(predictions, list) else ():
        if not isinstance(prediction, Mapping):
            continue  # an export lists prediction ids only
        try:
            annotations = parse_results(prediction.get("result"), texts, controls, "prediction")
        except LabelStudioFormatError:
            continue
        version = prediction.get("model_version")
        for a in annotations:
            found[_signature(a)] = version if isinstance(version, str) else None
    return found


def _signature(a: Annotation) -> tuple:
    """What makes an annotation the suggestion it came from: for a span its region id,
    label and place (its context and attributes are the annotator's to set)."""
    if a.kind == "span":
        return (a.kind, a.annotation_id, a.label, a.segment_idx, a.start_char, a.end_char)
    return (a.kind, a.annotation_id, a.label, json.dumps(a.value, sort_keys=True))


def _origin(a: Annotation, suggested: dict[tuple, str | None]) -> Annotation:
    key = _signature(a)
    if key in suggested:
        return replace(a, origin="confirmed", model_version=suggested[key])
    return a
