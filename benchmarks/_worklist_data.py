"""Many synthetic encounters at every workflow step, bulk-inserted for worklist tests and
benchmarks (10,000 go in within seconds; adding them one by one would take minutes).

Only the rows the worklist reads are written: encounters, audio files, transcript and note
version headers, signatures. No sentences, words or events: these are load, not visits.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from workbench.store.bulk import insert_rows
from workbench.store.db import Store

CLINICIANS = ("Dr. Adeyemi", "Dr. Berg", "Dr. Chen", "Dr. Dubois", "Dr. Eriksen", "Dr. Farah")
SPECIALTIES = ("Cardiology", "Dermatology", "Paediatrics", "Primary care", "Respiratory")
VISITS = ("cough", "chest pain", "rash", "follow-up", "diabetes review", "ear infection")
START = datetime(2026, 1, 1, 8, 0)


@dataclass(frozen=True)
class FakeEncounter:
    """What one synthetic encounter is, so tests can work out the expected worklist."""

    encounter_id: str
    title: str
    specialty: str | None
    clinician: str | None
    created_at: datetime
    duration_s: float | None  # None: no audio file
    status: str
    note_versions: int  # 0 without a note
    signed_version: int | None  # the note version signed, if any


def fake_encounters(n: int, seed: int = 7) -> list[FakeEncounter]:
    """``n`` encounters over about 300 days, at every status; some have no clinician,
    specialty or audio, and some are amendments in progress (signed v2, unsigned v3)."""
    rng = random.Random(seed)
    found = []
    for i in range(n):
        step = rng.choices(
            ("ingested", "transcribed", "drafted", "in review", "signed", "amending"),
            weights=(1, 1, 4, 2, 4, 1),
        )[0]
        notes = {
            "ingested": 0,
            "transcribed": 0,
            "drafted": 1,
            "in review": 2,
            "signed": 2,
            "amending": 3,
        }[step]
        signed = {"signed": 2, "amending": 2}.get(step)
        found.append(
            FakeEncounter(
                encounter_id=f"enc-{i:05d}",
                title=f"{rng.choice(VISITS).title()} visit {i}",
                specialty=rng.choice((*SPECIALTIES, None)),
                clinician=rng.choice((*CLINICIANS, None)),
                created_at=START + timedelta(minutes=rng.randrange(300 * 24 * 60)),
                duration_s=None if rng.random() < 0.05 else round(rng.uniform(60, 1800), 1),
                status="in review" if step == "amending" else step,
                note_versions=notes,
                signed_version=signed,
            )
        )
    return found


def insert_fake(store: Store, encounters: list[FakeEncounter], user: str = "bench") -> None:
    """Write the encounters (and their audio, transcript, note and signature headers) in one
    transaction."""
    rows: dict[str, list[tuple]] = {
        "encounters": [],
        "audio_files": [],
        "transcripts": [],
        "notes": [],
        "signatures": [],
    }
    for enc in encounters:
        sha = None
        if enc.duration_s is not None:
            sha = hashlib.sha256(enc.encounter_id.encode()).hexdigest()
            rows["audio_files"].append(
                (
                    sha,
                    f"audio/{sha}.ogg",
                    "visit.ogg",
                    "ogg",
                    enc.duration_s,
                    16000,
                    1,
                    1000,
                    enc.created_at,
                )
            )
        rows["encounters"].append(
            (
                enc.encounter_id,
                enc.title,
                enc.specialty,
                "follow-up",
                enc.clinician,
                None,
                sha,
                "synthetic",
                enc.created_at,
                user,
            )
        )
        if enc.status != "ingested":
            rows["transcripts"].append(
                (
                    enc.encounter_id,
                    1,
                    "synthetic",
                    "en",
                    enc.duration_s,
                    None,
                    None,
                    enc.created_at,
                    user,
                )
            )
        for version in range(1, enc.note_versions + 1):
            at = enc.created_at + timedelta(minutes=version)
            rows["notes"].append(
                (
                    enc.encounter_id,
                    version,
                    version - 1 or None,
                    "soap",
                    "[]",
                    "synthetic",
                    1,
                    None,
                    None,
                    at,
                    user,
                )
            )
        if enc.signed_version is not None:
            rows["signatures"].append(
                (
                    enc.encounter_id,
                    enc.signed_version,
                    user,
                    enc.created_at + timedelta(hours=1),
                    "attested",
                )
            )
    with store.transaction() as con:
        for table, table_rows in rows.items():
            insert_rows(con, table, table_rows)
