"""Note templates as data: ``annotations/note_templates/<id>.json`` -> frozen dataclasses.

A template names a note type and its ordered sections. The drafter decides which sentences
go where; the template only says which sections exist, in what order, and what belongs there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.paths import ANNOTATIONS_DIR

TEMPLATES_DIR = ANNOTATIONS_DIR / "note_templates"


@dataclass(frozen=True)
class SectionSpec:
    """One section of a note: a stable key, a display heading and what belongs in it."""

    key: str
    heading: str
    description: str = ""


@dataclass(frozen=True)
class NoteTemplate:
    """A note type: id, title and ordered sections (keys are unique)."""

    id: str
    title: str
    sections: tuple[SectionSpec, ...]
    version: int = 1
    description: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        """Section keys in note order."""
        return tuple(s.key for s in self.sections)

    def section(self, key: str) -> SectionSpec:
        """The section with this key (KeyError if the template has none)."""
        for spec in self.sections:
            if spec.key == key:
                return spec
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as stored in ``annotations/note_templates``."""
        return {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "description": self.description,
            "sections": [
                {"key": s.key, "heading": s.heading, "description": s.description}
                for s in self.sections
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NoteTemplate:
        """Build and validate a template from its JSON form."""
        sections = tuple(
            SectionSpec(
                key=str(s["key"]),
                heading=str(s["heading"]),
                description=str(s.get("description", "")),
            )
            for s in data["sections"]
        )
        keys = [s.key for s in sections]
        if not sections or len(set(keys)) != len(keys):
            raise ValueError(f"template {data.get('id')!r}: sections missing or keys repeated")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            sections=sections,
            version=int(data.get("version", 1)),
            description=str(data.get("description", "")),
        )


def available_templates(directory: Path = TEMPLATES_DIR) -> tuple[str, ...]:
    """Ids of the templates shipped in ``annotations/note_templates`` (sorted)."""
    if not directory.is_dir():
        return ()
    return tuple(sorted(p.stem for p in directory.glob("*.json")))


def load_template(name_or_path: str | Path) -> NoteTemplate:
    """Load a template by id (``"soap"``) or by path to a JSON file.

    Raises FileNotFoundError naming the available templates when the id is unknown.
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".json" or candidate.is_file():
        path = candidate
    else:
        path = TEMPLATES_DIR / f"{name_or_path}.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"note template {str(name_or_path)!r} not found; available: {available_templates()}"
        )
    return NoteTemplate.from_dict(json.loads(path.read_text(encoding="utf-8")))
