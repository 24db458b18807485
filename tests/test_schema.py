"""annotations/labels.json: round trip, labels match the shared types, colours readable."""

from __future__ import annotations

import json

from pipelines.schema import LABELS_PATH, load_label_schema, schema_from_dict
from pipelines.types import ENTITY_LABELS


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
