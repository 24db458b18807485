"""The demo encounters shipped in the repository: load, ingest and process them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from workbench.ingest import EncounterMeta
from workbench.store import Store, users

# The demo's accounts, all with the password DEMO_PASSWORD (demo data only): the demo
# encounters' clinicians ("Dr. Lindqvist" -> dr-lindqvist) and one of each other role.
DEMO_PASSWORD = "demo"
DEMO_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("dr-lindqvist", "Dr. Lindqvist", "clinician"),
    ("dr-mensah", "Dr. Mensah", "clinician"),
    ("dr-petrova", "Dr. Petrova", "clinician"),
    ("dr-haddad", "Dr. Haddad", "clinician"),
    ("dr-okafor", "Dr. Okafor", "clinician"),
    ("annotator", "Demo annotator", "annotator"),
    ("analyst", "Demo analyst", "analyst"),
    ("admin", "Demo admin", "admin"),
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
            created.append(user_id)
    return created


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
