"""The `labelstudio` training-data export: tasks JSON that Label Studio imports as it is.

The same tasks ``scribe labelstudio push`` uploads (``pipelines.labelstudio.build_task``:
turns with speaker and times, the model's entities as predictions with their stable ids),
written to a folder with the labelling config beside them, for teams that import by hand.
``deidentified`` replaces PHI in every turn (with the encounter's known names) and moves the
predictions with it, dropping those that covered a replaced piece. No audio URL: the
recording is not part of the export. Which encounters go in (consent, dates), the
manifest and the events are the caller's (``workbench.training_export``, through
``export_formats.write_labelstudio``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pipelines.annotation_schema import load_task_schema
from pipelines.labelstudio import build_task, project_config, redact_inputs
from pipelines.schema import load_label_schema
from workbench.store.access import SYSTEM, require
from workbench.store.annotation_tasks import model_suggestions
from workbench.store.db import NotFound, Store
from workbench.store.known_names import encounter_names
from workbench.store.transcripts import get_transcript

TASKS_FILE, CONFIG_FILE = "labelstudio_tasks.json", "labelstudio_config.xml"
SCHEMA = "labelstudio.tasks.v1"  # the manifest's record schema


def write_labelstudio_export(
    store: Store, encounter_ids: Sequence[str], out_dir: Path, *, deidentified: bool
) -> list[Path]:
    """Write ``labelstudio_tasks.json`` (one task per encounter with a transcript, its
    newest version) and ``labelstudio_config.xml`` into ``out_dir``; returns both paths.
    Needs ``training.export``, and ``text.phi`` on each encounter unless ``deidentified``.
    Encounters without a transcript are left out; unknown ids raise NotFound before
    anything is written."""
    from pipelines.deid import deidentify

    require(store, "training.export")
    labels = load_label_schema()
    raw = store.as_actor(SYSTEM)  # the stored text; de-identified below when asked
    tasks = []
    for encounter_id in dict.fromkeys(encounter_ids):
        if not deidentified:
            require(store, "text.phi", encounter_id)
        found = _transcript(raw, encounter_id)
        if found is None:
            continue
        version, transcript = found
        suggestions = model_suggestions(raw, encounter_id, transcript_version=version)
        if deidentified:
            names = encounter_names(raw, encounter_id)
            transcript, suggestions, _ = redact_inputs(
                transcript, suggestions, lambda text, n=names: deidentify(text, n)
            )
        tasks.append(build_task(encounter_id, version, transcript, suggestions, labels))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks_path, config_path = out_dir / TASKS_FILE, out_dir / CONFIG_FILE
    tasks_path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    config_path.write_text(
        project_config(labels, load_task_schema(), audio=False), encoding="utf-8"
    )
    return [tasks_path, config_path]


def _transcript(raw: Store, encounter_id: str):
    from workbench.store.encounters import get_encounter

    if get_encounter(raw, encounter_id) is None:
        raise NotFound(f"No encounter {encounter_id}")
    return get_transcript(raw, encounter_id)
