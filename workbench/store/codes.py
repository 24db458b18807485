"""Clinicians' accept/reject decisions on machine code suggestions (append-only).

A decision is a row plus a typed event (``code.accepted`` / ``code.rejected``) written in the
same transaction; changing one's mind appends a new row, and the newest row per code is the
current decision. A decision can be for one assessed problem (its heading sentence id and
name, migration 0009): then the newest row per (problem, code) is the current one for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipelines.code_suggestions import CODE_SUGGESTIONS_VERSION, CodeSuggestion
from pipelines.problem_coding.suggest import PROBLEM_CODES_VERSION
from workbench.store.access import require
from workbench.store.db import NotFound, Store, StoreError, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.ids import next_id

DECISIONS: tuple[str, ...] = ("accepted", "rejected")

_SELECT = (
    "SELECT seq, encounter_id, code_system, code, description, decision, score, rank, evidence,"
    " entity_set_version, model_version, decided_at, decided_by, problem_sentence_id, problem"
    " FROM code_decisions"
    " WHERE encounter_id = ? ORDER BY seq"
)


@dataclass(frozen=True)
class CodeDecision:
    """One stored decision on one suggested code (for one assessed problem when
    ``problem_sentence_id`` is set)."""

    seq: int
    encounter_id: str
    code_system: str
    code: str
    description: str | None
    decision: str
    score: float | None
    rank: int | None
    evidence: tuple[int, ...]
    entity_set_version: int | None
    model_version: str | None
    decided_at: datetime
    decided_by: str
    problem_sentence_id: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class ProblemRef:
    """The assessed problem a decision is for: its heading sentence id and its name."""

    sentence_id: str
    name: str


def accept_code(
    store: Store,
    encounter_id: str,
    suggestion: CodeSuggestion,
    user_id: str,
    rank: int | None = None,
    entity_set_version: int | None = None,
    problem: ProblemRef | None = None,
    detail: Mapping[str, Any] | None = None,
) -> CodeDecision:
    """Record that ``user_id`` accepted a suggested code (event ``code.accepted``)."""
    return decide_code(
        store,
        encounter_id,
        suggestion,
        "accepted",
        user_id,
        rank,
        entity_set_version,
        problem,
        detail,
    )


def reject_code(
    store: Store,
    encounter_id: str,
    suggestion: CodeSuggestion,
    user_id: str,
    rank: int | None = None,
    entity_set_version: int | None = None,
    problem: ProblemRef | None = None,
    detail: Mapping[str, Any] | None = None,
) -> CodeDecision:
    """Record that ``user_id`` rejected a suggested code (event ``code.rejected``)."""
    return decide_code(
        store,
        encounter_id,
        suggestion,
        "rejected",
        user_id,
        rank,
        entity_set_version,
        problem,
        detail,
    )


def decide_code(
    store: Store,
    encounter_id: str,
    suggestion: CodeSuggestion,
    decision: str,
    user_id: str,
    rank: int | None = None,
    entity_set_version: int | None = None,
    problem: ProblemRef | None = None,
    detail: Mapping[str, Any] | None = None,
) -> CodeDecision:
    """Append a decision row and its event in one transaction; returns the stored row.

    ``problem`` says which assessed problem the code is decided for; ``detail`` (JSON
    values: why it was suggested, its confidence, the linker's code) goes into the event.
    """
    require(store, "code.decide", encounter_id)
    if decision not in DECISIONS:
        raise StoreError(f"A code decision is one of {DECISIONS}, not {decision!r}")
    if not suggestion.code.strip():
        raise StoreError("A code decision needs a code")
    if problem is not None and not problem.sentence_id.strip():
        raise StoreError("A code decision for a problem needs the problem's sentence id")
    with store.transaction() as con:
        if not con.execute(
            "SELECT 1 FROM encounters WHERE encounter_id = ?", [encounter_id]
        ).fetchone():
            raise NotFound(f"No encounter {encounter_id}")
        problem_id = problem.sentence_id if problem else None
        model_version = PROBLEM_CODES_VERSION if problem else CODE_SUGGESTIONS_VERSION
        if problem is None:
            before = current_code_decisions(store, encounter_id).get(suggestion.code)
        else:
            before = problem_code_decisions(store, encounter_id).get((problem_id, suggestion.code))
        seq = next_id(con, "code_decisions")
        con.execute(
            "INSERT INTO code_decisions (seq, encounter_id, code_system, code, description,"
            " decision, score, rank, evidence, entity_set_version, model_version, decided_at,"
            " decided_by, problem_sentence_id, problem)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                seq,
                encounter_id,
                suggestion.code_system,
                suggestion.code,
                suggestion.description,
                decision,
                suggestion.score,
                rank,
                json.dumps(list(suggestion.evidence)),
                entity_set_version,
                model_version,
                utcnow(),
                user_id,
                problem_id,
                problem.name if problem else None,
            ],
        ).fetchone()[0]
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    f"code.{decision}",
                    object_type="code",
                    object_id=f"{encounter_id}/{suggestion.code_system}/{suggestion.code}",
                    before=None if before is None else {"decision": before.decision},
                    after={
                        "code": suggestion.code,
                        "code_system": suggestion.code_system,
                        "description": suggestion.description,
                        "score": suggestion.score,
                        "rank": rank,
                        "evidence": list(suggestion.evidence),
                        "entity_set_version": entity_set_version,
                        "problem_sentence_id": problem_id,
                        "problem": problem.name if problem else None,
                        **({"detail": dict(detail)} if detail else {}),
                    },
                    model_version=model_version,
                )
            ],
        )
        return next(d for d in list_code_decisions(store, encounter_id) if d.seq == seq)


def list_code_decisions(store: Store, encounter_id: str) -> list[CodeDecision]:
    """Every decision on the encounter's codes, oldest first."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        rows = con.execute(_SELECT, [encounter_id]).fetchall()
    return [
        CodeDecision(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            tuple(json.loads(r[8]) if r[8] else ()),
            r[9],
            r[10],
            r[11],
            r[12],
            r[13],
            r[14],
        )
        for r in rows
    ]


def current_code_decisions(store: Store, encounter_id: str) -> dict[str, CodeDecision]:
    """Code -> its newest decision (codes nobody decided on are absent)."""
    return {d.code: d for d in list_code_decisions(store, encounter_id)}


def problem_code_decisions(
    store: Store, encounter_id: str
) -> dict[tuple[str | None, str], CodeDecision]:
    """(problem sentence id, code) -> its newest decision; None for the encounter-wide list."""
    return {(d.problem_sentence_id, d.code): d for d in list_code_decisions(store, encounter_id)}
