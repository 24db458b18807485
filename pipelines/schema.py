"""The entity label schema (annotations/labels.json) as frozen dataclasses.

One file drives the review UI's colours, the Label Studio labelling config
(:func:`label_studio_config`, with annotations/tasks.json for relations and encounter
labels) and the labels the NLP stage and training use.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.paths import ANNOTATIONS_DIR

if TYPE_CHECKING:
    from pipelines.annotation_schema import TaskSchema

LABELS_PATH = ANNOTATIONS_DIR / "labels.json"


@dataclass(frozen=True)
class LabelSpec:
    """One entity label: what it covers, how it is drawn, which attributes it may carry."""

    name: str
    description: str
    color: str
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContextSpec:
    """One context flag of an entity (``negated``, ``historical`` ...) and its short badge."""

    name: str
    badge: str
    description: str


@dataclass(frozen=True)
class NegatedStyle:
    """How negated entities are drawn (colour plus a non-colour cue)."""

    color: str
    style: str
    note: str


@dataclass(frozen=True)
class LabelSchema:
    """All entity labels, in display order."""

    version: str
    labels: tuple[LabelSpec, ...]
    negated: NegatedStyle
    palette_note: str = ""
    context: tuple[ContextSpec, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(label.name for label in self.labels)

    def get(self, name: str) -> LabelSpec:
        """The spec of one label; KeyError if unknown."""
        for label in self.labels:
            if label.name == name:
                return label
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON structure of annotations/labels.json."""
        return {
            "version": self.version,
            "palette_note": self.palette_note,
            "labels": [
                {
                    "name": s.name,
                    "description": s.description,
                    "color": s.color,
                    "attributes": list(s.attributes),
                }
                for s in self.labels
            ],
            "context": [
                {"name": c.name, "badge": c.badge, "description": c.description}
                for c in self.context
            ],
            "negated": {
                "color": self.negated.color,
                "style": self.negated.style,
                "note": self.negated.note,
            },
        }


class SchemaError(ValueError):
    """A label schema file that is not valid; the message says what is wrong."""


def schema_from_dict(data: dict[str, Any]) -> LabelSchema:
    """Parse the labels.json structure; SchemaError when a field is missing or mistyped."""
    try:
        schema = _schema(data)
    except (KeyError, TypeError, AttributeError) as exc:
        raise SchemaError(f"label schema: missing or malformed field ({exc})") from None
    for name in (*schema.names, *(c.name for c in schema.context)):
        if not isinstance(name, str) or not name.strip():
            raise SchemaError(f"label schema: every label needs a name, got {name!r}")
    for spec in schema.labels:
        if not all(isinstance(v, str) for v in (spec.description, spec.color, *spec.attributes)):
            raise SchemaError(f"label schema: label {spec.name!r} has a non-text field")
    if len(set(schema.names)) != len(schema.names):
        raise SchemaError("label schema: a label name is repeated")
    return schema


def _schema(data: dict[str, Any]) -> LabelSchema:
    return LabelSchema(
        version=str(data["version"]),
        palette_note=str(data.get("palette_note", "")),
        labels=tuple(
            LabelSpec(
                name=d["name"],
                description=d["description"],
                color=d["color"],
                attributes=tuple(d.get("attributes", ())),
            )
            for d in data["labels"]
        ),
        negated=NegatedStyle(**data["negated"]),
        context=tuple(ContextSpec(**c) for c in data.get("context", ())),
    )


def load_label_schema(path: Path = LABELS_PATH) -> LabelSchema:
    """Read the label schema from ``annotations/labels.json`` (or ``path``).

    Raises SchemaError for a file that is not UTF-8 JSON or not a schema.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as exc:  # JSON and UTF-8 errors are ValueErrors
        raise SchemaError(f"{Path(path).name}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SchemaError(f"{Path(path).name}: expected a JSON object")
    return schema_from_dict(data)


# Names inside the Label Studio config; tasks put the audio URL under ``audio`` and the
# turns under ``transcript`` as [{"speaker", "text", "start", "end"}, ...].
LS_AUDIO, LS_TRANSCRIPT, LS_ENTITIES, LS_CONTEXT = "audio", "transcript", "entities", "context"


def label_studio_attribute_name(label: str, attribute: str) -> str:
    """The per-region TextArea that holds one attribute of one label ("medication_dose")."""
    return f"{label.lower()}_{attribute}"


def label_studio_question_name(question: str) -> str:
    """The Choices tag of one encounter-level question ("encounter_audio_quality")."""
    return f"encounter_{question}"


def label_studio_config(
    schema: LabelSchema, tasks: TaskSchema | None = None, *, audio: bool = True
) -> str:
    """The Label Studio labelling config (XML) for encounters, generated from ``schema``
    (annotations/labels.json) and ``tasks`` (annotations/tasks.json).

    The transcript shown as dialogue paragraphs (speaker and text), synchronised with the
    recording when ``audio``; entity spans labelled with the schema's labels and colours,
    then the medication attribute labels (DOSE, ...) of ``tasks``; the relations of
    ``tasks`` (MEDICATION has_dose DOSE ...); per selected region, the context flags as
    multiple choices and, for labels that have them, one text box per attribute (dose,
    route, ... value, unit), shown only for regions of that label; last, one single choice
    per encounter-level question of ``tasks``.
    """
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="Listen to the encounter and label the transcript")
    if audio:
        ET.SubElement(view, "Audio", name=LS_AUDIO, value=f"${LS_AUDIO}", sync=LS_TRANSCRIPT)
    labels = ET.SubElement(view, "ParagraphLabels", name=LS_ENTITIES, toName=LS_TRANSCRIPT)
    for spec in schema.labels:
        ET.SubElement(
            labels, "Label", value=spec.name, background=spec.color, hint=spec.description
        )
    for choice in tasks.attribute_labels if tasks else ():
        ET.SubElement(
            labels, "Label", value=choice.name, background=choice.color or "#555555",
            hint=choice.description,
        )  # fmt: skip
    paragraphs = {"value": f"${LS_TRANSCRIPT}", "layout": "dialogue", "nameKey": "speaker",
                  "textKey": "text"}  # fmt: skip
    if audio:
        paragraphs.update(audioUrl=f"${LS_AUDIO}", sync=LS_AUDIO, contextScroll="true")
    ET.SubElement(view, "Paragraphs", name=LS_TRANSCRIPT, **paragraphs)
    if tasks and tasks.relations:
        relations = ET.SubElement(view, "Relations")
        for relation in tasks.relations:
            ET.SubElement(relations, "Relation", value=relation.name)
    selected = ET.SubElement(view, "View", visibleWhen="region-selected")
    ET.SubElement(selected, "Header", value="Context of the selected entity")
    choices = ET.SubElement(
        selected,
        "Choices",
        name=LS_CONTEXT,
        toName=LS_TRANSCRIPT,
        perRegion="true",
        choice="multiple",
        showInline="true",
    )
    for flag in schema.context:
        ET.SubElement(choices, "Choice", value=flag.name, hint=flag.description)
    for spec in schema.labels:
        if not spec.attributes:
            continue
        box = ET.SubElement(
            view,
            "View",
            visibleWhen="region-selected",
            whenTagName=LS_TRANSCRIPT,
            whenLabelValue=spec.name,
        )
        ET.SubElement(box, "Header", value=f"{spec.name} attributes")
        for attribute in spec.attributes:
            ET.SubElement(
                box,
                "TextArea",
                name=label_studio_attribute_name(spec.name, attribute),
                toName=LS_TRANSCRIPT,
                perRegion="true",
                editable="true",
                maxSubmissions="1",
                rows="1",
                placeholder=attribute,
            )
    if tasks and tasks.encounter_labels:
        encounter = ET.SubElement(view, "View")
        ET.SubElement(encounter, "Header", value="About the whole encounter")
        for question in tasks.encounter_labels:
            ET.SubElement(encounter, "Header", value=question.question, size="5")
            choices = ET.SubElement(
                encounter,
                "Choices",
                name=label_studio_question_name(question.name),
                toName=LS_TRANSCRIPT,
                choice="single",
                showInline="true",
            )
            for value in question.choices:
                ET.SubElement(choices, "Choice", value=value)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"
