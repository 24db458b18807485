"""What the Review page knows about one encounter, loaded once per rerun and passed to panels.

The page is three panels (``source_panel``: recording and transcript; ``draft_panel``: the
note, its support badges and sign-off; ``facts_panel``: entities and codes). They share one
:class:`ReviewContext` instead of reading the store each, so a rerun reads it once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st

from pipelines.types import Entity, Evidence, NoteSentence, SupportResult, Transcript
from workbench import store as db
from workbench.store.audit import record_view
from workbench.support import is_current
from workbench.ui import resources
from workbench.ui import support_panel as sp
from workbench.ui.code_suggestions import CODE_EVIDENCE_KEY, code_evidence

SELECTED_KEY = "selected_sentence"
PLAY_FROM_KEY = "play_from"
VIEWED = "sentence.viewed"
# Counts play requests, so that asking for the same passage again replays it.
PLAY_SEQ_KEY = "play_seq"
VIEWS_KEY = "views-to-record"  # sentence.viewed events of ▶ presses, written next rerun
VIEW_AUDITED_KEY = "view-audited"  # (encounter id, actor) whose opening is in the audit log


def record_views(store: db.Store) -> None:
    """Write the ``sentence.viewed`` events that ▶ (``ReviewContext.play``) left for this
    rerun; the Review page calls it before it reads anything."""
    for viewed in st.session_state.pop(VIEWS_KEY, None) or ():
        db.append_event(store, viewed)


@dataclass
class ReviewContext:
    """One encounter as the reviewer sees it on this rerun."""

    store: db.Store
    user: str
    encounter: db.EncounterRecord
    audio: db.AudioRecord | None
    transcript_version: int
    transcript: Transcript
    entity_set: db.EntitySet | None
    note: db.NoteVersion
    support: db.SupportCheck | None
    evidence_changed: set[str] = field(default_factory=set)

    @property
    def encounter_id(self) -> str:
        return self.encounter.encounter_id

    @property
    def entities(self) -> tuple[Entity, ...]:
        return self.entity_set.entities if self.entity_set else ()

    @property
    def results(self) -> dict[str, SupportResult]:
        return self.support.by_sentence() if self.support else {}

    def sentence(self, sentence_id: str) -> NoteSentence | None:
        return next((s for s in self.note.draft.sentences if s.sentence_id == sentence_id), None)

    @property
    def selected(self) -> NoteSentence | None:
        """The sentence whose evidence the reviewer last asked to hear."""
        return self.sentence(st.session_state.get(SELECTED_KEY, ""))

    def evidence(self) -> tuple[Evidence, ...]:
        """What the transcript highlights: the selected sentence's evidence and the code
        mention last clicked."""
        selected = self.selected
        if selected is None:
            return ()
        return sp.evidence_for(selected, self.results) + code_evidence(self.transcript)

    def play(self, sentence_id: str) -> None:
        """Widget callback: select the sentence, start the audio at its evidence and record a
        ``sentence.viewed`` event."""
        sentence = self.sentence(sentence_id)
        if sentence is None:
            return
        st.session_state[SELECTED_KEY] = sentence_id
        st.session_state.pop(CODE_EVIDENCE_KEY, None)
        found = sp.evidence_for(sentence, self.results)
        st.session_state[PLAY_FROM_KEY] = min((e.start_s for e in found), default=0.0)
        # Sign-off records which sentences the reviewer actually looked at (store.activity).
        # Written by ``record_views`` at the start of the rerun this callback causes, in the
        # rerun's one database connection rather than an open of its own.
        viewed = db.new_event(
            self.user,
            self.encounter_id,
            VIEWED,
            object_type="sentence",
            object_id=sentence_id,
            note_version=self.note.version,
        )
        st.session_state.setdefault(VIEWS_KEY, []).append(viewed)
        st.session_state[PLAY_SEQ_KEY] = st.session_state.get(PLAY_SEQ_KEY, 0) + 1


@dataclass(frozen=True)
class _Stored:
    """What the store holds for one encounter at one database stamp (immutable)."""

    encounter: db.EncounterRecord
    audio: db.AudioRecord | None
    transcript_version: int
    transcript: Transcript
    entity_set: db.EntitySet | None
    note: db.NoteVersion
    support: db.SupportCheck | None  # None: signed, never checked, or stale
    evidence_changed: frozenset[str]


# cache_resource, not cache_data: every value is a frozen dataclass shared read-only, and a
# pickled copy per rerun (1,500 words, 60 sentences, their checks) would cost most of the
# time saved. The stamp changes with every commit, so an entry is never stale.
@st.cache_resource(show_spinner=False, max_entries=32)
def _read(_store: db.Store, key: tuple, encounter_id: str, stamp: tuple) -> _Stored:
    with _store.connect():  # one open of the database for all the reads below
        encounter = db.get_encounter(_store, encounter_id)
        if encounter is None:
            raise db.NotFound(f"No encounter {encounter_id}")
        version, transcript = db.get_transcript(_store, encounter_id)
        entity_set = db.get_entity_set(_store, encounter_id, transcript_version=version)
        note = db.get_note(_store, encounter_id)
        if note is None:
            raise db.NotFound(f"No note for {encounter_id}")
        support = None
        if not note.signed:
            stored = db.get_support(_store, encounter_id, note.version)
            support = stored if is_current(_store, stored, note) else None
        changed = set() if note.signed else db.evidence_changed_ids(_store, encounter_id)
        audio = db.get_audio(_store, encounter.audio_sha256) if encounter.audio_sha256 else None
    return _Stored(
        encounter, audio, version, transcript, entity_set, note, support, frozenset(changed)
    )


def load_context(store: db.Store, encounter_id: str, user: str) -> ReviewContext:
    """Read the encounter's newest transcript, entities and note, and its support check.

    The reads are cached until the database changes (``Store.stamp``): a rerun after ▶ or
    typing reads nothing. A note without a current support check is checked (and the check
    stored) here.
    """
    if st.session_state.get(VIEW_AUDITED_KEY) != (encounter_id, store.actor):
        record_view(store, encounter_id)  # once per opening, not per (cached) rerun
        st.session_state[VIEW_AUDITED_KEY] = (encounter_id, store.actor)
    found = _read(store, resources.cache_key(store), encounter_id, store.content_stamp())
    support = found.support
    if support is None and not found.note.signed:
        support = sp.load_support(store, encounter_id, found.note, user)
    return ReviewContext(
        store=store,
        user=user,
        encounter=found.encounter,
        audio=found.audio,
        transcript_version=found.transcript_version,
        transcript=found.transcript,
        entity_set=found.entity_set,
        note=found.note,
        support=support,
        evidence_changed=set(found.evidence_changed),
    )


def audio_path(ctx: ReviewContext) -> str | None:
    """The stored recording's path on disk (None without audio, or once it is purged)."""
    if ctx.audio is None or ctx.audio.purged_at is not None:
        return None
    return str(resources.data_dir() / ctx.audio.stored_path)
