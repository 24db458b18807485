"""Note versions, their sentences and evidence, and edits as events (signing and amending:
``workbench.store.signing``)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import replace

import duckdb

from pipelines.types import Draft, Evidence, NoteSentence
from workbench.store.access import present_draft, require
from workbench.store.bulk import insert_rows
from workbench.store.db import ConcurrentEdit, InvalidEdit, NoteLocked, NotFound, Store, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.limits import MAX_SENTENCE_CHARS, check_text
from workbench.store.records import Event, NoteVersion

ATTESTATION = (
    "I have reviewed this note against the encounter recording and transcript, "
    "and it accurately reflects the visit."
)


def save_draft(
    store: Store, encounter_id: str, draft: Draft, transcript_version: int | None, user_id: str
) -> int:
    """Store a machine draft as the next note version; refused once the note is signed."""
    require(store, "note.edit", encounter_id)
    with store.transaction() as con:
        check_unsigned(con, encounter_id)
        version = _insert_note(con, encounter_id, draft, transcript_version, user_id, None)
        insert_events(
            con,
            [
                new_event(
                    user_id,
                    encounter_id,
                    "note.drafted",
                    object_type="note",
                    object_id=f"{encounter_id}/note/{version}",
                    after={
                        "version": version,
                        "sentences": len(draft.sentences),
                        **_fallback(draft),
                    },
                    model_version=draft.model_version,
                    note_version=version,
                )
            ],
        )
        return version


def _fallback(draft: Draft) -> dict[str, str]:
    """Why the LLM drafter was not used for this draft (empty when it was, or not asked)."""
    fallback = draft.options.get("llm_fallback")
    return {"llm_fallback": str(fallback.get("kind", ""))} if isinstance(fallback, dict) else {}


def save_note(
    store: Store,
    encounter_id: str,
    base_version: int,
    sentences: tuple[NoteSentence, ...],
    user_id: str,
    transcript_version: int | None = None,
    extra_events: Sequence[Event] = (),
    redrafted: Collection[str] = (),
    sections: tuple[str, ...] | None = None,
) -> int:
    """Save a clinician's edit of ``base_version`` as a new version, with one event per change.

    ``transcript_version`` moves the note onto a corrected transcript (its evidence already
    remapped). ``sections`` puts the note's sections in another order (the same sections;
    anything else raises InvalidEdit). ``extra_events`` say more about the change (e.g.
    ``omission.added``); they are written in the same transaction, with the new note version.
    Raises ConcurrentEdit if someone saved a newer version meanwhile, and NoteLocked if the
    note is signed; in both cases nothing is written. ``redrafted`` names sentences the
    machine re-drafted (taken out or put in after a transcript correction): ``extra_events``
    describe them, so they get no ``sentence.added``/``sentence.deleted`` event, which would
    read as a person's.
    """
    require(store, "note.edit", encounter_id)
    with store.transaction() as con:
        check_unsigned(con, encounter_id)
        require_newest(con, encounter_id, base_version, "save an edit of")
        base = _read_note(con, encounter_id, base_version)
        all_changes = diff_sentences(base.draft.sentences, sentences)
        changes = [c for c in all_changes if c[1] not in redrafted]
        _check_changed_text(sentences, {c[1] for c in changes})
        sections = base.draft.sections if sections is None else tuple(sections)
        if sorted(sections) != sorted(base.draft.sections):
            raise InvalidEdit(
                f"A new section order must list the note's sections {base.draft.sections}, "
                f"each once; got {sections}"
            )
        reordered = sections != base.draft.sections
        transcript_version = transcript_version or base.transcript_version
        # Compared by sentence id: removing or adding a sentence moves no one's evidence.
        old_evidence = {s.sentence_id: s.evidence for s in base.draft.sentences}
        evidence_moved = transcript_version != base.transcript_version or any(
            s.sentence_id in old_evidence and old_evidence[s.sentence_id] != s.evidence
            for s in sentences
        )
        if not all_changes and not evidence_moved and not reordered:
            return base_version
        draft = Draft(
            template=base.draft.template,
            sections=sections,
            sentences=sentences,
            model_version=base.draft.model_version,
            input_sha256=base.draft.input_sha256,
            options=base.draft.options,
        )
        version = _insert_note(con, encounter_id, draft, transcript_version, user_id, base_version)
        events = [
            new_event(
                user_id,
                encounter_id,
                kind,
                object_type="sentence",
                object_id=sentence_id,
                before=before,
                after=after,
                model_version=draft.model_version,
                note_version=version,
            )
            for kind, sentence_id, before, after in changes
        ]
        if evidence_moved:
            events.append(
                new_event(
                    user_id,
                    encounter_id,
                    "note.evidence_remapped",
                    object_type="note",
                    object_id=f"{encounter_id}/note/{version}",
                    before={"transcript_version": base.transcript_version},
                    after={"transcript_version": transcript_version},
                    note_version=version,
                )
            )
        if reordered:
            events.append(
                new_event(
                    user_id,
                    encounter_id,
                    "note.sections_reordered",
                    object_type="note",
                    object_id=f"{encounter_id}/note/{version}",
                    before={"sections": list(base.draft.sections)},
                    after={"sections": list(sections)},
                    note_version=version,
                )
            )
        events += [replace(e, note_version=version) for e in extra_events]
        events.append(
            new_event(
                user_id,
                encounter_id,
                "note.saved",
                object_type="note",
                object_id=f"{encounter_id}/note/{version}",
                before={"version": base_version},
                after={"version": version, "changes": len(changes)},
                model_version=draft.model_version,
                note_version=version,
            )
        )
        insert_events(con, events)
        return version


def _check_changed_text(sentences: tuple[NoteSentence, ...], changed: set[str]) -> None:
    """InvalidEdit for a changed sentence whose text a person may not store (see limits)."""
    for s in sentences:
        if s.sentence_id in changed:
            check_text(s.text, "sentence", MAX_SENTENCE_CHARS)


def get_note(store: Store, encounter_id: str, version: int | None = None) -> NoteVersion | None:
    """The given or newest note version, or None if the encounter has no note; its text as
    the actor may read it (``access.present_draft``)."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        if version is None:
            version = _latest_version(con, encounter_id)
            if version is None:
                return None
        note = _read_note(con, encounter_id, version)
    return replace(note, draft=present_draft(store, encounter_id, note.draft))


def list_note_versions(store: Store, encounter_id: str) -> list[tuple[int, str, object]]:
    """(version, created_by, created_at) for every version, oldest first."""
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        return con.execute(
            "SELECT version, created_by, created_at FROM notes WHERE encounter_id = ?"
            " ORDER BY version",
            [encounter_id],
        ).fetchall()


def diff_sentences(
    before: tuple[NoteSentence, ...], after: tuple[NoteSentence, ...]
) -> list[tuple[str, str, dict | None, dict | None]]:
    """(kind, sentence_id, before, after) for every sentence added, deleted, edited or moved."""
    old = {s.sentence_id: s for s in before}
    new = {s.sentence_id: s for s in after}
    changes: list[tuple[str, str, dict | None, dict | None]] = []
    for s in after:
        prev = old.get(s.sentence_id)
        if prev is None:
            changes.append(("sentence.added", s.sentence_id, None, _snap(s)))
        elif prev.text != s.text:
            changes.append(("sentence.edited", s.sentence_id, _snap(prev), _snap(s)))
        elif prev.section != s.section:
            changes.append(("sentence.moved", s.sentence_id, _snap(prev), _snap(s)))
    for s in before:
        if s.sentence_id not in new:
            changes.append(("sentence.deleted", s.sentence_id, _snap(s), None))
    return changes


def _snap(s: NoteSentence) -> dict:
    return {"section": s.section, "text": s.text, "origin": s.origin}


def _latest_version(con: duckdb.DuckDBPyConnection, encounter_id: str) -> int | None:
    return con.execute(
        "SELECT max(version) FROM notes WHERE encounter_id = ?", [encounter_id]
    ).fetchone()[0]


def require_newest(
    con: duckdb.DuckDBPyConnection, encounter_id: str, version: int, doing: str
) -> None:
    """Raise ConcurrentEdit unless ``version`` is the note's newest: someone saved a newer one
    since the caller read it, so acting on it (``doing``: "sign", "undo" ...) would be blind."""
    latest = _latest_version(con, encounter_id)
    if latest != version:
        raise ConcurrentEdit(
            f"Cannot {doing} version {version} of {encounter_id}: the newest is {latest}. "
            "Reload to see the other changes."
        )


def check_unsigned(con: duckdb.DuckDBPyConnection, encounter_id: str) -> None:
    """Raise NoteLocked if the newest note version is signed (inside the caller's
    transaction); an amendment in progress (a newer unsigned version) is editable."""
    # Only the newest version counts: an amendment adds an unsigned version after a signed one.
    row = con.execute(
        "SELECT note_version, signed_by FROM signatures WHERE encounter_id = ?"
        " AND note_version = (SELECT max(version) FROM notes WHERE encounter_id = ?)",
        [encounter_id, encounter_id],
    ).fetchone()
    if row:
        raise NoteLocked(f"The note for {encounter_id} was signed (version {row[0]}) by {row[1]}")


def _insert_note(
    con: duckdb.DuckDBPyConnection,
    encounter_id: str,
    draft: Draft,
    transcript_version: int | None,
    user_id: str,
    parent_version: int | None,
) -> int:
    if not con.execute(
        "SELECT 1 FROM encounters WHERE encounter_id = ?", [encounter_id]
    ).fetchone():
        raise NotFound(f"No encounter {encounter_id}")
    version = (_latest_version(con, encounter_id) or 0) + 1
    con.execute(
        "INSERT INTO notes (encounter_id, version, parent_version, template, sections,"
        " model_version, transcript_version, input_sha256, options, created_at, created_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            encounter_id,
            version,
            parent_version,
            draft.template,
            json.dumps(draft.sections),
            draft.model_version,
            transcript_version,
            draft.input_sha256,
            json.dumps(draft.options, sort_keys=True, default=str),
            utcnow(),
            user_id,
        ],
    )
    insert_rows(
        con,
        "note_sentences",
        [
            (encounter_id, version, i, s.sentence_id, s.section, s.text, s.origin)
            for i, s in enumerate(draft.sentences)
        ],
    )
    insert_rows(
        con,
        "evidence",
        [
            (
                encounter_id,
                version,
                i,
                j,
                ev.segment_idx,
                ev.start_char,
                ev.end_char,
                ev.start_s,
                ev.end_s,
            )
            for i, s in enumerate(draft.sentences)
            for j, ev in enumerate(s.evidence)
        ],
    )
    return version


def _read_note(con: duckdb.DuckDBPyConnection, encounter_id: str, version: int) -> NoteVersion:
    head = con.execute(
        "SELECT n.parent_version, n.template, n.sections, n.model_version, n.transcript_version,"
        " n.input_sha256, n.options, n.created_at, n.created_by, s.signed_by, s.signed_at"
        " FROM notes n LEFT JOIN signatures s"
        "   ON s.encounter_id = n.encounter_id AND s.note_version = n.version"
        " WHERE n.encounter_id = ? AND n.version = ?",
        [encounter_id, version],
    ).fetchone()
    if head is None:
        raise NotFound(f"No note version {version} for {encounter_id}")
    ev_rows = con.execute(
        "SELECT sentence_idx, segment_idx, start_char, end_char, start_s, end_s FROM evidence"
        " WHERE encounter_id = ? AND note_version = ? ORDER BY sentence_idx, idx",
        [encounter_id, version],
    ).fetchall()
    evidence: dict[int, list[Evidence]] = {}
    for r in ev_rows:
        evidence.setdefault(r[0], []).append(Evidence(r[1], r[2], r[3], r[4], r[5]))
    sentences = tuple(
        NoteSentence(
            sentence_id=r[1],
            section=r[2],
            text=r[3],
            evidence=tuple(evidence.get(r[0], ())),
            origin=r[4],
        )
        for r in con.execute(
            "SELECT idx, sentence_id, section, text, origin FROM note_sentences"
            " WHERE encounter_id = ? AND note_version = ? ORDER BY idx",
            [encounter_id, version],
        ).fetchall()
    )
    draft = Draft(
        template=head[1],
        sections=tuple(json.loads(head[2])),
        sentences=sentences,
        model_version=head[3],
        input_sha256=head[5] or "",
        options=json.loads(head[6]) if head[6] else {},
    )
    return NoteVersion(
        encounter_id=encounter_id,
        version=version,
        parent_version=head[0],
        draft=draft,
        transcript_version=head[4],
        created_at=head[7],
        created_by=head[8],
        signed_by=head[9],
        signed_at=head[10],
    )
