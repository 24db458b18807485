"""Linking accuracy on a hand-checked list of mentions (mention, label, expected code).

Each mention is put in a short sentence ("The patient has X." / "She takes X every day.")
and run through the whole pipeline; it counts as right when an entity of the expected label
overlapping the mention carries the expected code.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language

from pipelines.nlp.extract import extract_text

TEMPLATES = {"PROBLEM": "The patient has {}.", "MEDICATION": "She takes {} every day."}


@dataclass(frozen=True)
class LinkCheck:
    """One hand-checked mention and what the pipeline made of it."""

    mention: str
    label: str
    expected: str
    found: str | None

    @property
    def correct(self) -> bool:
        return self.found == self.expected


def read_gold(path: Path) -> list[tuple[str, str, str]]:
    """(mention, label, code) rows of a gold TSV (columns ``mention``, ``label``, ``code``)."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = [
            (r["mention"].strip(), r["label"].strip(), r["code"].strip())
            for r in reader
            if (r.get("mention") or "").strip()
        ]
    for row in rows:
        if row[1] not in TEMPLATES:
            raise ValueError(f"{path.name}: label must be one of {sorted(TEMPLATES)}: {row}")
    return rows


def check_linking(nlp: Language, gold: list[tuple[str, str, str]]) -> list[LinkCheck]:
    """Run every gold mention through ``nlp``."""
    checks = []
    for mention, label, code in gold:
        text = TEMPLATES[label].format(mention)
        start = text.index(mention)
        end = start + len(mention)
        found = [
            e
            for e in extract_text(nlp, text)
            if e.label == label and e.start < end and start < e.end
        ]
        checks.append(LinkCheck(mention, label, code, found[0].code if found else None))
    return checks


def accuracy(checks: list[LinkCheck]) -> float:
    """Share of checks that are right (0 for none)."""
    return sum(c.correct for c in checks) / len(checks) if checks else 0.0
