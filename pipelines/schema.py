"""The entity label schema (annotations/labels.json) as frozen dataclasses."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LABELS_PATH = Path(__file__).resolve().parents[1] / "annotations" / "labels.json"


@dataclass(frozen=True)
class LabelSpec:
    """One entity label: what it covers, how it is drawn, which attributes it may carry."""

    name: str
    description: str
    color: str
    attributes: tuple[str, ...] = ()


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
            "negated": {
                "color": self.negated.color,
                "style": self.negated.style,
                "note": self.negated.note,
            },
        }


def schema_from_dict(data: dict[str, Any]) -> LabelSchema:
    """Parse the labels.json structure."""
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
    )


def load_label_schema(path: Path = LABELS_PATH) -> LabelSchema:
    """Read the label schema from ``annotations/labels.json`` (or ``path``)."""
    return schema_from_dict(json.loads(path.read_text(encoding="utf-8")))
