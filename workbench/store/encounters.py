"""Encounters, their audio files and users."""

from __future__ import annotations

from workbench.store.access import (
    SYSTEM,
    VISIBLE,
    Forbidden,
    allowed,
    list_scope,
    present_encounter,
    present_summaries,
    require,
)
from workbench.store.db import Store, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.records import AudioRecord, EncounterRecord, EncounterSummary


def add_audio(store: Store, audio: AudioRecord) -> bool:
    """Record an audio file by its sha256; returns False if it was already known."""
    require(store, "encounter.create")
    with store.transaction() as con:
        exists = con.execute(
            "SELECT 1 FROM audio_files WHERE sha256 = ?", [audio.sha256]
        ).fetchone()
        if exists:
            return False
        con.execute(
            "INSERT INTO audio_files (sha256, stored_path, original_name, format, duration_s,"
            " sample_rate, channels, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                audio.sha256,
                audio.stored_path,
                audio.original_name,
                audio.format,
                audio.duration_s,
                audio.sample_rate,
                audio.channels,
                audio.size_bytes,
                utcnow(),
            ],
        )
        return True


def get_audio(store: Store, sha256: str) -> AudioRecord | None:
    """The audio file with this content hash, if stored (``purged_at`` set when the retention
    policy deleted the file). The recording is identified data: the actor needs ``text.phi``
    on an encounter made from it."""
    _require_audio(store, sha256)
    with store.connect() as con:
        row = con.execute(
            "SELECT a.sha256, a.stored_path, a.original_name, a.format, a.duration_s,"
            " a.sample_rate, a.channels, a.size_bytes, p.purged_at FROM audio_files a"
            " LEFT JOIN audio_purges p ON p.sha256 = a.sha256 WHERE a.sha256 = ?",
            [sha256],
        ).fetchone()
    return AudioRecord(*row) if row else None


def _require_audio(store: Store, sha256: str) -> None:
    if store.actor == SYSTEM:
        return
    with store.connect() as con:
        ids = [r[0] for r in con.execute(_AUDIO_USERS, [sha256]).fetchall()]
    if not ids:  # audio of no encounter: no one but the operator reads it
        from workbench.store.audit import record

        reason = "the audio belongs to no encounter"
        record(store, "text.phi", "audio", sha256, "denied", {"reason": reason})
        raise Forbidden(f"{store.actor.user_id} ({store.actor.role}) may not read it: {reason}")
    if any(allowed(store, "text.phi", eid) for eid in ids):
        return
    require(store, "text.phi", ids[0])


_AUDIO_USERS = "SELECT encounter_id FROM encounters WHERE audio_sha256 = ? ORDER BY 1"


def add_encounter(store: Store, encounter: EncounterRecord, user_id: str) -> bool:
    """Create an encounter; returns False (and changes nothing) if the id exists. It belongs
    to ``encounter.clinician_id``; a clinician creates encounters for themself only."""
    require(store, "encounter.create")
    owner = encounter.clinician_id
    if store.actor.role == "clinician":
        if owner not in (None, store.actor.user_id):
            raise Forbidden(f"{store.actor.user_id} may not create encounters for {owner}")
        owner = store.actor.user_id
    with store.transaction() as con:
        if con.execute(
            "SELECT 1 FROM encounters WHERE encounter_id = ?", [encounter.encounter_id]
        ).fetchone():
            return False
        con.execute(
            "INSERT INTO encounters (encounter_id, title, specialty, visit_type, clinician,"
            " patient_label, audio_sha256, source, created_at, created_by, clinician_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                encounter.encounter_id,
                encounter.title,
                encounter.specialty,
                encounter.visit_type,
                encounter.clinician,
                encounter.patient_label,
                encounter.audio_sha256,
                encounter.source,
                utcnow(),
                user_id,
                owner,
            ],
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter.encounter_id,
                    "encounter.created",
                    object_type="encounter",
                    object_id=encounter.encounter_id,
                    after={
                        "audio_sha256": encounter.audio_sha256,
                        "source": encounter.source,
                        "clinician_id": owner,
                    },
                )
            ],
        )
        return True


_SELECT_ENCOUNTER = (
    "SELECT encounter_id, title, specialty, visit_type, clinician, patient_label, audio_sha256,"
    " source, created_at, created_by, clinician_id FROM encounters"
)
_VISIBLE_IDS = "(SELECT encounter_id FROM encounters WHERE " + VISIBLE + ")"


def get_encounter(store: Store, encounter_id: str) -> EncounterRecord | None:
    """One encounter by id (as the actor may read it: see ``access.present_encounter``)."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        row = con.execute(_SELECT_ENCOUNTER + " WHERE encounter_id = ?", [encounter_id]).fetchone()
    return present_encounter(store, EncounterRecord(*row)) if row else None


def find_encounter_by_audio(store: Store, sha256: str) -> EncounterRecord | None:
    """The first encounter made from this audio file that the actor may list, if any."""
    scope, me = list_scope(store)
    with store.connect() as con:
        row = con.execute(
            _SELECT_ENCOUNTER
            + " WHERE audio_sha256 = $sha AND encounter_id IN "
            + _VISIBLE_IDS
            + " ORDER BY created_at LIMIT 1",
            {"sha": sha256, "scope": scope, "me": me},
        ).fetchone()
    return present_encounter(store, EncounterRecord(*row)) if row else None


def list_encounters(store: Store) -> list[EncounterSummary]:
    """Every encounter the actor may list with its workflow status, newest first."""
    scope, me = list_scope(store)
    with store.connect() as con:
        rows = con.execute(
            "SELECT e.encounter_id, e.title, e.specialty, e.visit_type, e.clinician,"
            " e.patient_label, e.audio_sha256, e.source, e.created_at, e.created_by,"
            " a.duration_s, t.v AS transcript_version, n.v AS note_version, s.signed_at,"
            " e.clinician_id"
            " FROM encounters e"
            " LEFT JOIN audio_files a ON a.sha256 = e.audio_sha256"
            " LEFT JOIN (SELECT encounter_id, max(version) v FROM transcripts GROUP BY 1) t"
            "   ON t.encounter_id = e.encounter_id"
            " LEFT JOIN (SELECT encounter_id, max(version) v FROM notes GROUP BY 1) n"
            "   ON n.encounter_id = e.encounter_id"
            # Signed only while the newest version is: an amendment in progress is not.
            " LEFT JOIN signatures s ON s.encounter_id = e.encounter_id AND s.note_version = n.v"
            " WHERE e.encounter_id IN "
            + _VISIBLE_IDS
            + " ORDER BY e.created_at DESC, e.encounter_id",
            {"scope": scope, "me": me},
        ).fetchall()
    summaries = [
        EncounterSummary(
            encounter=EncounterRecord(*row[:10], clinician_id=row[14]),
            status=_status(row[11], row[12], row[13]),
            duration_s=row[10],
            transcript_version=row[11],
            note_version=row[12],
            signed_at=row[13],
        )
        for row in rows
    ]
    return present_summaries(store, summaries)


def _status(transcript_version: int | None, note_version: int | None, signed_at) -> str:
    if signed_at is not None:
        return "signed"
    if note_version is not None:
        return "in review" if note_version > 1 else "drafted"
    if transcript_version is not None:
        return "transcribed"
    return "ingested"


def ensure_user(store: Store, user_id: str, display_name: str, role: str) -> None:
    """Create the user if missing (``user.manage``)."""
    require(store, "user.manage")
    with store.transaction() as con:
        if con.execute("SELECT 1 FROM users WHERE user_id = ?", [user_id]).fetchone():
            return
        con.execute(
            "INSERT INTO users (user_id, display_name, role, created_at) VALUES (?, ?, ?, ?)",
            [user_id, display_name, role, utcnow()],
        )


def list_users(store: Store) -> list[tuple[str, str, str]]:
    """(user_id, display_name, role) for every user."""
    with store.connect() as con:
        return con.execute(
            "SELECT user_id, display_name, role FROM users ORDER BY user_id"
        ).fetchall()
