"""Where the repository's data files live (label schema, vocabularies, note templates)."""

from __future__ import annotations

from pathlib import Path

ANNOTATIONS_DIR = Path(__file__).resolve().parents[1] / "annotations"
VOCAB_DIR = ANNOTATIONS_DIR / "vocab"
