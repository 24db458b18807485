"""annotations/labels.json: round trip, colours readable, and every consumer (review UI, Label
Studio config, NLP labels and context flags) uses the same labels."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import fields

from pipelines.nlp.context import CONTEXT_FLAGS
from pipelines.nlp.vocab import CURATED_FILES
from pipelines.schema import (
    LABELS_PATH,
    LS_AUDIO,
    LS_TRANSCRIPT,
    label_studio_attribute_name,
    label_studio_config,
    load_label_schema,
    schema_from_dict,
)
from pipelines.types import ENTITY_LABELS, Entity, Segment


def _contrast_on_white(hex_color: str) -> float:
    channels = [int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_round_trip_is_lossless() -> None:
    schema = load_label_schema()
    raw = json.loads(LABELS_PATH.read_text(encoding="utf-8"))
    assert schema.to_dict() == raw
    assert schema_from_dict(schema.to_dict()) == schema


def test_labels_match_shared_types() -> None:
    assert load_label_schema().names == ENTITY_LABELS


def test_colours_distinct_and_readable_on_white() -> None:
    schema = load_label_schema()
    colours = [label.color for label in schema.labels] + [schema.negated.color]
    assert len(set(colours)) == len(colours)
    for colour in colours:
        assert _contrast_on_white(colour) >= 4.5, colour


def test_attributes_declared() -> None:
    schema = load_label_schema()
    assert schema.get("MEDICATION").attributes == ("dose", "route", "frequency", "duration")
    assert schema.get("VITAL").attributes == ("value", "unit")
    assert schema.get("TEST").attributes == ("value", "unit")


def _ls_config() -> ET.Element:
    return ET.fromstring(label_studio_config(load_label_schema()))


def test_label_studio_config_has_every_label_colour_and_flag() -> None:
    schema = load_label_schema()
    root = _ls_config()
    labels = root.find("ParagraphLabels")
    assert labels is not None and labels.get("toName") == LS_TRANSCRIPT
    assert [(e.get("value"), e.get("background")) for e in labels.findall("Label")] == [
        (s.name, s.color) for s in schema.labels
    ]
    [context] = root.iter("Choices")
    assert context.get("perRegion") == "true" and context.get("choice") == "multiple"
    assert [c.get("value") for c in context.findall("Choice")] == [f.name for f in schema.context]
    boxes = {t.get("name") for t in root.iter("TextArea") if t.get("perRegion") == "true"}
    assert boxes == {
        label_studio_attribute_name(s.name, a) for s in schema.labels for a in s.attributes
    }
    assert "medication_dose" in boxes and "vital_unit" in boxes


def test_label_studio_config_wiring() -> None:
    root = _ls_config()
    objects = {e.get("name"): e for e in root.iter() if e.tag in ("Audio", "Paragraphs")}
    assert set(objects) == {LS_AUDIO, LS_TRANSCRIPT}
    assert objects[LS_TRANSCRIPT].get("nameKey") == "speaker"
    assert objects[LS_TRANSCRIPT].get("layout") == "dialogue"
    assert objects[LS_AUDIO].get("sync") == LS_TRANSCRIPT
    controls = [e for e in root.iter() if e.get("toName")]
    assert controls and all(e.get("toName") in objects for e in controls)
    names = [e.get("name") for e in root.iter() if e.get("name")]
    assert len(names) == len(set(names))
    # Attribute boxes show only for regions of their own label.
    for view in root.iter("View"):
        if view.get("whenLabelValue"):
            label = load_label_schema().get(view.get("whenLabelValue"))
            assert [t.get("placeholder") for t in view.iter("TextArea")] == list(label.attributes)


def test_committed_label_studio_config_is_generated_from_the_schema() -> None:
    from pipelines.annotation_schema import load_task_schema

    committed = (LABELS_PATH.parent / "label_studio.xml").read_text(encoding="utf-8")
    assert committed == label_studio_config(load_label_schema(), load_task_schema())


def test_ui_label_studio_and_nlp_use_the_same_labels() -> None:
    from workbench.ui.components import highlight_segment
    from workbench.ui.resources import label_colours

    schema = load_label_schema()
    schema_colours = {s.name: s.color for s in schema.labels}
    # Review UI: colours come from the schema and reach the rendered transcript.
    assert label_colours() == schema_colours
    segment = Segment(0, 0.0, 1.0, "Any chest pain?", "clinician")
    html = highlight_segment(segment, [Entity(0, 4, 14, "chest pain", "PROBLEM")], label_colours())
    assert schema_colours["PROBLEM"] in html
    # Label Studio: the same labels and colours.
    ls = {e.get("value"): e.get("background") for e in _ls_config().iter("Label")}
    assert ls == schema_colours
    # NLP / training data: the labels entities can carry and the labels the vocabularies emit.
    assert set(ENTITY_LABELS) == set(schema_colours) == set(CURATED_FILES.values())
    # Context flags: schema == Entity fields == what the NLP stage sets.
    flags = tuple(f.name for f in schema.context)
    assert flags == tuple(CONTEXT_FLAGS)
    assert set(flags) <= {f.name for f in fields(Entity)}
