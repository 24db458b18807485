"""The demo encounters shipped in the repository: load, ingest and process them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbench.ingest import EncounterMeta

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo" / "encounters"


@dataclass(frozen=True)
class DemoEncounter:
    folder: Path
    meta: EncounterMeta
    audio: Path
    script: Path


def clinician_user_id(name: str | None) -> str | None:
    """The demo clinician's account id: "Dr. Mensah" -> "dr-mensah" (None stays None)."""
    if not name:
        return None
    return "-".join(name.lower().replace(".", " ").split())


def demo_encounters(directory: Path = DEMO_DIR) -> list[DemoEncounter]:
    """Every demo encounter folder that has metadata, a script and audio."""
    found = []
    for meta_path in sorted(directory.glob("*/encounter.json")):
        folder = meta_path.parent
        data = json.loads(meta_path.read_text())
        audio = next(iter(sorted(folder.glob("audio.*"))), None)
        if audio is None:
            continue
        found.append(
            DemoEncounter(
                folder=folder,
                meta=EncounterMeta(
                    encounter_id=data["id"],
                    title=data.get("title"),
                    specialty=data.get("specialty"),
                    visit_type=data.get("visit_type"),
                    clinician=data.get("clinician"),
                    patient_label=data.get("patient_label"),
                    source="demo",
                    clinician_id=clinician_user_id(data.get("clinician")),
                ),
                audio=audio,
                script=folder / "script.txt",
            )
        )
    return found
