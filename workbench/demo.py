"""The demo encounters shipped in the repository: load, ingest and process them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbench.ingest import EncounterMeta
from workbench.store import Store, users

# The demo's accounts, all with the password DEMO_PASSWORD (demo data only): the demo
# encounters' clinicians ("Dr. Lindqvist" -> dr-lindqvist), one of each other role, an
# annotation lead and a second annotator (two people labelling one encounter give agreement).
DEMO_PASSWORD = "demo"
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("dr-lindqvist", "Dr. Lindqvist", "clinician"),
    ("dr-mensah", "Dr. Mensah", "clinician"),
    ("dr-petrova", "Dr. Petrova", "clinician"),
    ("dr-haddad", "Dr. Haddad", "clinician"),
    ("dr-okafor", "Dr. Okafor", "clinician"),
    ("annotator", "Demo annotator", "annotator"),
    ("annotator2", "Second demo annotator", "annotator"),
    ("lead", "Demo annotation lead", "annotator"),
    ("analyst", "Demo analyst", "analyst"),
    ("admin", "Demo admin", "admin"),
)

DEMO_GRANTS: dict[str, tuple[str, ...]] = {"lead": ("lead",)}
# The demo's annotation tasks: (task id, index into demo_encounters(), kind, annotator). The
# first encounter's entities and the second's sections go to two annotators (agreement).
DEMO_TASKS: tuple[tuple[str, int, str, str], ...] = (
    ("demo-entities-1", 0, "entities", "annotator"),
    ("demo-entities-2", 0, "entities", "annotator2"),
    ("demo-sections-1", 1, "sections", "annotator"),
    ("demo-sections-2", 1, "sections", "annotator2"),
    ("demo-quality-1", 2, "quality", "annotator"),
    ("demo-transcript-1", 3, "transcript", "annotator"),
)

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


def ensure_demo_accounts(store: Store, by: str) -> list[str]:
    """Create the demo accounts that are missing (password ``demo``); an existing account
    keeps its password and role. Returns the ids created."""
    from workbench.auth import hash_password

    created = []
    for user_id, name, role in DEMO_ACCOUNTS:
        if users.get_account(store, user_id) is None:
            users.create_account(
                store,
                user_id,
                role,
                by,
                display_name=name,
                password_hash=hash_password(DEMO_PASSWORD),
            )
            for grant in DEMO_GRANTS.get(user_id, ()):
                users.set_grant(store, user_id, grant, True, by)
            created.append(user_id)
    return created


def ensure_demo_tasks(store: Store, encounters: list[DemoEncounter] | None = None) -> int:
    """Put the demo encounters in the demo annotators' queues (``DEMO_TASKS``), assigned by
    the demo lead while it still holds the "lead" grant (else by the operator). Fixed task
    ids make a rerun add nothing. Returns how many tasks were created."""
    from workbench.store import annotation_tasks
    from workbench.store.access import SYSTEM

    encounters = demo_encounters() if encounters is None else encounters
    lead = users.get_account(store, "lead")
    by = lead.actor() if lead is not None and "lead" in lead.grants else SYSTEM
    assigner = store.as_actor(by)
    before = {t.task_id for t in annotation_tasks.list_tasks(store)}
    made = 0
    for task_id, index, kind, assignee in DEMO_TASKS:
        if index >= len(encounters) or users.get_account(store, assignee) is None:
            continue
        encounter_id = encounters[index].meta.encounter_id
        annotation_tasks.create_task(assigner, encounter_id, kind, assignee, task_id=task_id)
        made += task_id not in before
    return made


def ensure_demo_simulation(store: Store, encounters: int, seed: int = 1) -> int:
    """Simulated usage for the demo's Analytics page (``workbench.simulate``, marked as
    simulated wherever it shows): ``encounters`` of them, once per store (none again while
    a finished run exists, so re-running the demo does not pile them up). Returns how many
    were added."""
    from workbench.simulate import SimulationSpec, simulate
    from workbench.store.simulation import finished_runs

    if encounters <= 0 or finished_runs(store):
        return 0
    return simulate(store, SimulationSpec(encounters=encounters, seed=seed)).encounters


def demo_sign_in_hint(store: Store) -> str | None:
    """The sign-in page's hint, only while every demo account exists and the demo admin's
    password is still the demo one (a real deployment never shows it)."""
    from workbench.auth import verify_password

    ids = tuple(user_id for user_id, _, _ in DEMO_ACCOUNTS)
    if not users.demo_accounts_present(store, ids):
        return None
    admin = users.get_account(store, "admin")
    if admin is None or not verify_password(admin.password_hash, DEMO_PASSWORD):
        return None
    return (
        "Demo data: sign in as "
        + ", ".join(f"`{i}`" for i in ids)
        + f" with the password `{DEMO_PASSWORD}`."
    )
