"""What annotators label besides entity spans (``annotations/tasks.json``) as frozen data.

The in-app annotation page, the Label Studio labelling config and the agreement figures all
read this one file, so a new question or PDQI item is a data change, not a code change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipelines.paths import ANNOTATIONS_DIR

TASKS_PATH = ANNOTATIONS_DIR / "tasks.json"


@dataclass(frozen=True)
class Choice:
    """A named label with its explanation (a section, a transcript check, a span label)."""

    name: str
    description: str
    color: str | None = None


@dataclass(frozen=True)
class Question:
    """An encounter-level question with its fixed choices."""

    name: str
    question: str
    choices: tuple[str, ...]


@dataclass(frozen=True)
class Relation:
    """A typed link from one span label to another (MEDICATION has_dose DOSE)."""

    name: str
    source: str
    target: str
    description: str


@dataclass(frozen=True)
class TaskSchema:
    """Everything ``annotations/tasks.json`` defines."""

    version: str
    encounter_labels: tuple[Question, ...]
    relations: tuple[Relation, ...]
    attribute_labels: tuple[Choice, ...]
    section_labels: tuple[Choice, ...]
    transcript_checks: tuple[Choice, ...]
    quality_instrument: str
    quality_source: str
    quality_items: tuple[Question, ...]  # choices: the scale's scores as strings
    scale: tuple[int, int]
    pairwise_choices: tuple[str, ...]
    pairwise_reasons: tuple[str, ...]
    scale_labels: tuple[str, str] = ("", "")  # what the scale's ends mean (low, high)

    def question(self, name: str) -> Question:
        """The encounter-level question or quality item called ``name`` (KeyError if none)."""
        for q in (*self.encounter_labels, *self.quality_items):
            if q.name == name:
                return q
        raise KeyError(name)

    def relation(self, name: str) -> Relation:
        """The relation called ``name`` (KeyError if none)."""
        for r in self.relations:
            if r.name == name:
                return r
        raise KeyError(name)


def load_task_schema(path: Path = TASKS_PATH) -> TaskSchema:
    """Read and check ``tasks.json``; a missing key raises ValueError naming it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        quality = data["quality"]
        low, high = int(quality["scale"]["min"]), int(quality["scale"]["max"])
        scores = tuple(str(n) for n in range(low, high + 1))
        return TaskSchema(
            version=data["version"],
            encounter_labels=tuple(
                Question(q["name"], q["question"], tuple(q["choices"]))
                for q in data["encounter_labels"]
            ),
            relations=tuple(
                Relation(r["name"], r["from"], r["to"], r["description"]) for r in data["relations"]
            ),
            attribute_labels=tuple(_choices(data["attribute_labels"])),
            section_labels=tuple(_choices(data["section_labels"])),
            transcript_checks=tuple(_choices(data["transcript_checks"])),
            quality_instrument=quality["instrument"],
            quality_source=quality["source"],
            quality_items=tuple(
                Question(i["name"], i["question"], scores) for i in quality["items"]
            ),
            scale=(low, high),
            pairwise_choices=tuple(data["pairwise"]["choices"]),
            pairwise_reasons=tuple(data["pairwise"]["reasons"]),
            scale_labels=(quality["scale"].get("low", ""), quality["scale"].get("high", "")),
        )
    except KeyError as exc:
        raise ValueError(f"{path.name} lacks {exc.args[0]!r}") from None


def _choices(rows: list[dict]) -> list[Choice]:
    return [Choice(r["name"], r["description"], r.get("color")) for r in rows]
