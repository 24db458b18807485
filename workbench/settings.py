"""Every setting, declared once: its environment variable, default and meaning.

The README's settings table is checked against this list by a docs test.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    env: str
    default: str
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("SCRIBE_HOME", "./data", "Data directory: the DuckDB file, stored audio, caches."),
    Setting("SCRIBE_USER", "demo-clinician", "User id recorded on CLI actions and events."),
    Setting("SCRIBE_ASR_MODEL", "tiny.en", "Bundled `tiny.en` or a CTranslate2 Whisper folder."),
    Setting("SCRIBE_ASR_THREADS", "2", "CPU threads for one transcription."),
    Setting("SCRIBE_CACHE", "~/.cache/scribe-workbench", "Cache for built NLP vocabularies."),
    Setting("SCRIBE_MAX_AUDIO_HOURS", "4", "Longest recording ingest accepts, in hours."),
    Setting("SCRIBE_NOTE_TEMPLATE", "soap",
            "Note type of new drafts: a template id from `annotations/note_templates`."),
    Setting("SCRIBE_DATASETS", "../shared/datasets",
            "Evaluation datasets for `scribe eval` (relative paths: from the repository)."),
)


def setting(env: str) -> str:
    """The value of a declared setting (environment first, then the default)."""
    for s in SETTINGS:
        if s.env == env:
            return os.environ.get(env, s.default)
    raise KeyError(f"Undeclared setting {env}")


def data_dir(explicit: Path | str | None = None) -> Path:
    """The data directory: an explicit path, else $SCRIBE_HOME, else ./data."""
    return Path(explicit or setting("SCRIBE_HOME")).expanduser().resolve()
