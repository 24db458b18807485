"""Signing a note (gated, with what the signer looked at and for how long) and amending it.

Signing is refused while a sentence blocks it (``pipelines.signoff``: unsupported, or resting
on low-confidence words, and nobody accepted, edited or removed it); the page shows the same
list, and this module enforces it so no caller can skip it. The signature records the active
review time and the sentences looked at in this signing round (``workbench.store.activity``).

An amendment never touches the signed version: it adds a new, unsigned version whose parent
is the signed one (``note.amendment_started``, with the reason); that version is edited and
signed like any other, and the export then says it replaces the earlier signed version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pipelines.signoff import (
    LOW_CONFIDENCE,
    Blocker,
    blocking_sentences,
    flagged_ids,
    low_confidence_words,
)
from pipelines.types import SupportResult
from workbench.store import activity
from workbench.store.access import require
from workbench.store.db import InvalidEdit, NoteLocked, Store, StoreError, utcnow
from workbench.store.decisions import sentence_decisions
from workbench.store.events import insert_events, new_event
from workbench.store.note_history import NoteHistory, note_history
from workbench.store.notes import (
    ATTESTATION,
    _insert_note,
    _read_note,
    check_unsigned,
    require_newest,
)
from workbench.store.records import NoteVersion
from workbench.store.support import get_support
from workbench.store.transcripts import get_transcript

AMENDMENT_STARTED = "note.amendment_started"


class SignoffBlocked(StoreError):
    """Sentences still need an explicit decision; nothing was signed."""

    def __init__(self, encounter_id: str, version: int, blockers: tuple[Blocker, ...]) -> None:
        listed = "; ".join(
            f"{b.sentence_id} ({b.section}: {', '.join(b.reasons)})" for b in blockers
        )
        super().__init__(
            f"Cannot sign version {version} of {encounter_id}: {len(blockers)} sentence(s) "
            f"must be accepted, edited or removed first: {listed}"
        )
        self.blockers = blockers


@dataclass(frozen=True)
class SignoffState:
    """Where one note version stands before signing."""

    note_version: int
    sentences: int
    blockers: tuple[Blocker, ...]
    flagged: tuple[str, ...]  # every sentence that needed a decision, decided or not
    looked_at: tuple[str, ...]  # the version's sentences a person looked at this round
    active_seconds: float  # active review time this round
    support_checked: bool  # False: no support check covers this version's sentences


@dataclass(frozen=True)
class RoundActivity:
    """This signing round so far: decided sentence ids, ids looked at, active seconds."""

    decided: frozenset[str]
    looked_at: frozenset[str]
    active_seconds: float


def round_activity(store: Store, encounter_id: str) -> RoundActivity:
    """Decisions, sentences looked at and active time of the current round (one connection:
    the Review page calls this on every rerun)."""
    require(store, "encounter.view", encounter_id)
    with store.connect():
        decided = {i for i, d in sentence_decisions(store, encounter_id).items() if d.reviewed}
        since = activity.round_start(store, encounter_id)
        return RoundActivity(
            decided=frozenset(decided),
            looked_at=frozenset(activity.looked_at_ids(store, encounter_id, since)),
            active_seconds=activity.active_review_seconds(store, encounter_id, since),
        )


def signoff_view(
    store: Store, encounter_id: str, version: int
) -> tuple[RoundActivity, NoteHistory]:
    """What the sign-off panel reads on every rerun, in one connection: the round's
    activity and the note's history up to ``version``."""
    require(store, "text.phi", encounter_id)
    with store.connect():
        return round_activity(store, encounter_id), note_history(store, encounter_id, version)


def support_results(store: Store, note: NoteVersion) -> dict[str, SupportResult]:
    """The support check's result per sentence: this version's newest check, else an older
    version's for sentences whose text is unchanged since."""
    require(store, "text.phi", note.encounter_id)
    texts = {s.sentence_id: s.text for s in note.draft.sentences}
    for version in range(note.version, 0, -1):
        check = get_support(store, note.encounter_id, version)
        if check is not None:
            return {r.sentence_id: r for r in check.results if texts.get(r.sentence_id) == r.text}
    return {}


def signoff_state(
    store: Store, encounter_id: str, version: int, threshold: float = LOW_CONFIDENCE
) -> SignoffState:
    """What blocks signing ``version``, and what this round's signature would record."""
    require(store, "text.phi", encounter_id)
    with store.connect():
        note = _read_note_version(store, encounter_id, version)
        results = support_results(store, note)
        found = get_transcript(store, encounter_id, note.transcript_version)
        sentences = note.draft.sentences
        shaky = low_confidence_words(sentences, results, found[1], threshold) if found else {}
        done = round_activity(store, encounter_id)
        return SignoffState(
            note_version=version,
            sentences=len(sentences),
            blockers=blocking_sentences(sentences, results, shaky, done.decided),
            flagged=flagged_ids(sentences, results, shaky),
            looked_at=tuple(s.sentence_id for s in sentences if s.sentence_id in done.looked_at),
            active_seconds=done.active_seconds,
            support_checked=bool(results) or not sentences,
        )


def _read_note_version(store: Store, encounter_id: str, version: int) -> NoteVersion:
    with store.connect() as con:
        return _read_note(con, encounter_id, version)


def sign_note(
    store: Store,
    encounter_id: str,
    version: int,
    user_id: str,
    attestation: str = ATTESTATION,
    threshold: float = LOW_CONFIDENCE,
) -> SignoffState:
    """Sign the newest version; after this the note is read-only until amended.

    Raises NoteLocked when it is already signed, ConcurrentEdit when ``version`` is not the
    newest, and SignoffBlocked (listing the sentences) while any sentence blocks signing;
    nothing is written then. The signature records the round's active review time, the
    sentences looked at, and how many needed a decision; returns that state.
    """
    require(store, "note.sign", encounter_id)
    with store.transaction() as con:
        check_unsigned(con, encounter_id)
        require_newest(con, encounter_id, version, "sign")
        state = signoff_state(store, encounter_id, version, threshold)
        if state.blockers:
            raise SignoffBlocked(encounter_id, version, state.blockers)
        con.execute(
            "INSERT INTO signatures (encounter_id, note_version, signed_by, signed_at,"
            " attestation, active_seconds, looked_at, sentences, flagged)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                encounter_id,
                version,
                user_id,
                utcnow(),
                attestation,
                round(state.active_seconds, 1),
                json.dumps(list(state.looked_at)),
                state.sentences,
                len(state.flagged),
            ],
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    "note.signed",
                    object_type="note",
                    object_id=f"{encounter_id}/note/{version}",
                    after={
                        "version": version,
                        "attestation": attestation,
                        "active_seconds": round(state.active_seconds, 1),
                        "looked_at": list(state.looked_at),
                        "sentences": state.sentences,
                        "flagged": list(state.flagged),
                        "support_checked": state.support_checked,
                    },
                    note_version=version,
                )
            ],
        )
        return state


def amend_note(store: Store, encounter_id: str, version: int, user_id: str, reason: str) -> int:
    """Start an amendment of the signed ``version``: a new unsigned version (a copy, whose
    parent is the signed one) with a ``note.amendment_started`` event; returns its number.

    The signed version and its signature stay as they are. Raises InvalidEdit without a
    reason or when ``version`` is not signed (edit it instead), and ConcurrentEdit when
    ``version`` is not the newest (an amendment may already be under way).
    """
    require(store, "note.sign", encounter_id)
    reason = reason.strip()
    if not reason:
        raise InvalidEdit("An amendment needs a reason (what is wrong with the signed note)")
    with store.transaction() as con:
        require_newest(con, encounter_id, version, "amend")
        try:
            check_unsigned(con, encounter_id)
        except NoteLocked:
            pass  # signed: the one state in which an amendment makes sense
        else:
            raise InvalidEdit(f"Version {version} of {encounter_id} is not signed; edit it instead")
        signed = _read_note(con, encounter_id, version)
        new = _insert_note(
            con, encounter_id, signed.draft, signed.transcript_version, user_id, version
        )
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    AMENDMENT_STARTED,
                    object_type="note",
                    object_id=f"{encounter_id}/note/{new}",
                    before={"version": version},
                    after={"version": new, "reason": reason},
                    model_version=signed.draft.model_version,
                    note_version=new,
                )
            ],
        )
        return new
