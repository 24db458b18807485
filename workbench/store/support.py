"""Support checks of note versions: sentence labels, reasons, evidence and omissions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from pipelines.types import Evidence, Omission, SupportReason, SupportResult
from workbench.store.access import require
from workbench.store.db import NotFound, Store, StoreError, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.ids import next_id

VERIFIED = "note.verified"


@dataclass(frozen=True)
class SupportCheck:
    """One stored support check of one note version."""

    check_id: int
    encounter_id: str
    note_version: int
    transcript_version: int | None
    entity_set_version: int | None
    checker_version: str
    created_at: datetime
    created_by: str
    seconds: float | None
    results: tuple[SupportResult, ...]
    omissions: tuple[Omission, ...]

    def by_sentence(self) -> dict[str, SupportResult]:
        """Results keyed by sentence id."""
        return {r.sentence_id: r for r in self.results}


@dataclass(frozen=True)
class NewSupportCheck:
    """What a support check found, ready to store (see :func:`save_support`)."""

    encounter_id: str
    note_version: int
    transcript_version: int | None
    entity_set_version: int | None
    checker_version: str
    results: tuple[SupportResult, ...]
    omissions: tuple[Omission, ...]
    options: dict[str, Any]
    seconds: float | None = None


def _evidence_rows(evidence: tuple[Evidence, ...]) -> str:
    return json.dumps(
        [[e.segment_idx, e.start_char, e.end_char, e.start_s, e.end_s] for e in evidence]
    )


def _evidence(data: str) -> tuple[Evidence, ...]:
    return tuple(
        Evidence(int(a), int(b), int(c), float(d), float(e)) for a, b, c, d, e in json.loads(data)
    )


def save_support(store: Store, check: NewSupportCheck, user_id: str) -> int:
    """Store a support check (and a ``note.verified`` event) in one transaction.

    Raises NotFound when the note version does not exist; returns the new check id.
    """
    require(store, "note.edit", check.encounter_id)
    labels = [r.label for r in check.results]
    with store.transaction() as con:
        if not con.execute(
            "SELECT 1 FROM notes WHERE encounter_id = ? AND version = ?",
            [check.encounter_id, check.note_version],
        ).fetchone():
            raise NotFound(f"No note version {check.note_version} for {check.encounter_id}")
        check_id = next_id(con, "support_checks")
        con.execute(
            "INSERT INTO support_checks (check_id, encounter_id, note_version,"
            " transcript_version, entity_set_version, checker_version, options, sentences,"
            " unsupported, partly_supported, omissions, seconds, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                check_id,
                check.encounter_id,
                check.note_version,
                check.transcript_version,
                check.entity_set_version,
                check.checker_version,
                json.dumps(check.options, sort_keys=True, default=str),
                len(labels),
                labels.count("unsupported"),
                labels.count("partly_supported"),
                len(check.omissions),
                check.seconds,
                utcnow(),
                user_id,
            ],
        ).fetchone()[0]
        try:
            _insert_details(con, check_id, check)
        except duckdb.ConstraintException as exc:
            raise StoreError(f"Bad support check for {check.encounter_id}: {exc}") from exc
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    check.encounter_id,
                    VERIFIED,
                    object_type="note",
                    object_id=f"{check.encounter_id}/note/{check.note_version}",
                    after={
                        "check_id": check_id,
                        "sentences": len(labels),
                        "unsupported": labels.count("unsupported"),
                        "partly_supported": labels.count("partly_supported"),
                        "omissions": len(check.omissions),
                    },
                    model_version=check.checker_version,
                    note_version=check.note_version,
                )
            ],
        )
        return int(check_id)


def _insert_details(con: duckdb.DuckDBPyConnection, check_id: int, check: NewSupportCheck) -> None:
    if check.results:
        con.executemany(
            "INSERT INTO sentence_support (check_id, idx, sentence_id, section, text, label,"
            " score, reasons, evidence, concepts, linked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    check_id,
                    i,
                    r.sentence_id,
                    r.section,
                    r.text,
                    r.label,
                    r.score,
                    json.dumps([[x.kind, x.verdict, x.message] for x in r.reasons]),
                    _evidence_rows(r.evidence),
                    json.dumps(list(r.concepts)),
                    r.linked,
                ]
                for i, r in enumerate(check.results)
            ],
        )
    if check.omissions:
        con.executemany(
            "INSERT INTO omissions (check_id, idx, kind, reason, mentions, evidence, section,"
            " suggestion) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    check_id,
                    i,
                    o.kind,
                    o.reason,
                    json.dumps(list(o.mentions)),
                    _evidence_rows(o.evidence),
                    o.section,
                    o.suggestion,
                ]
                for i, o in enumerate(check.omissions)
            ],
        )


def get_support(store: Store, encounter_id: str, note_version: int) -> SupportCheck | None:
    """The newest support check of a note version, or None if it was never checked."""
    require(store, "text.phi", encounter_id)
    with store.connect() as con:
        head = con.execute(
            "SELECT check_id, transcript_version, entity_set_version, checker_version,"
            " created_at, created_by, seconds FROM support_checks"
            " WHERE encounter_id = ? AND note_version = ? ORDER BY check_id DESC LIMIT 1",
            [encounter_id, note_version],
        ).fetchone()
        if head is None:
            return None
        results = tuple(
            SupportResult(
                sentence_id=r[0],
                section=r[1],
                text=r[2],
                label=r[3],
                score=r[4],
                reasons=tuple(SupportReason(*x) for x in json.loads(r[5])),
                evidence=_evidence(r[6]),
                concepts=tuple(json.loads(r[7])),
                linked=r[8],
            )
            for r in con.execute(
                "SELECT sentence_id, section, text, label, score, reasons, evidence, concepts,"
                " linked FROM sentence_support WHERE check_id = ? ORDER BY idx",
                [head[0]],
            ).fetchall()
        )
        omissions = tuple(
            Omission(
                kind=r[0],
                reason=r[1],
                mentions=tuple(json.loads(r[2])),
                evidence=_evidence(r[3]),
                section=r[4],
                suggestion=r[5],
            )
            for r in con.execute(
                "SELECT kind, reason, mentions, evidence, section, suggestion FROM omissions"
                " WHERE check_id = ? ORDER BY idx",
                [head[0]],
            ).fetchall()
        )
    return SupportCheck(
        check_id=head[0],
        encounter_id=encounter_id,
        note_version=note_version,
        transcript_version=head[1],
        entity_set_version=head[2],
        checker_version=head[3],
        created_at=head[4],
        created_by=head[5],
        seconds=head[6],
        results=results,
        omissions=omissions,
    )
