"""Shared, process-wide resources for the Streamlit app (cached once per server)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from workbench import settings
from workbench import store as db
from workbench.store.access import Actor


@st.cache_resource(show_spinner=False)
def _store(data_dir: str) -> db.Store:
    return db.open_store(Path(data_dir))


def get_store() -> db.Store:
    """The store for $SCRIBE_HOME (one handle per server; each call locks briefly).

    A key that does not fit the data (wrong key, or encrypted data without one) stops the
    page with the reason instead of a traceback."""
    try:
        return _store(str(settings.data_dir()))
    except db.StoreError as exc:
        st.error(f"Cannot open the data: {exc}")
        st.stop()


@st.cache_resource(show_spinner=False)
def _runner(data_dir: str):
    from workbench.runner import encounter_runner

    return encounter_runner(_store(data_dir), Path(data_dir))


def get_runner():
    """The server's background runner (one worker) for processing new encounters."""
    return _runner(str(settings.data_dir()))


def data_dir() -> Path:
    return settings.data_dir()


@st.cache_data(show_spinner=False)
def label_schema():
    """The entity label schema (annotations/labels.json): labels, colours, attributes."""
    from pipelines.schema import load_label_schema

    return load_label_schema()


def label_colours() -> dict[str, str]:
    """Entity label -> display colour, from the label schema in annotations/."""
    return {label.name: label.color for label in label_schema().labels}


# cache_resource: bytes are immutable, and cache_data would unpickle a copy of the whole
# recording (megabytes) on every rerun.
@st.cache_resource(show_spinner=False, max_entries=16)
def audio_bytes(path: str) -> bytes:
    """The stored audio file, read (and decrypted in memory) once per file."""
    from workbench.audio_store import read_audio

    return read_audio(Path(path), get_store().key)


def current_actor() -> Actor:
    """The signed-in actor (the app's sign-in gate runs before any page)."""
    from workbench.ui.login import ACTOR_KEY

    actor = st.session_state.get(ACTOR_KEY)
    if actor is None:
        raise RuntimeError("No one is signed in: pages run only after the sign-in gate")
    return actor


def current_user() -> str:
    """The signed-in user's id."""
    return current_actor().user_id


def session_store() -> db.Store:
    """The store acting as the signed-in user: every page reads and writes through it."""
    return get_store().as_actor(current_actor())


@st.cache_data(show_spinner=False)
def section_headings(template: str) -> dict[str, str]:
    """Section key -> heading for a note template (keys are shown if it is unknown)."""
    from pipelines.drafting import load_template

    try:
        spec = load_template(template)
    except FileNotFoundError:
        return {}
    return {section.key: section.heading for section in spec.sections}


@st.cache_resource(show_spinner="Loading the clinical language pipeline…")
def get_engine():
    """The process-wide pipeline engine; models load on first use and are shared, and the
    NLP follows the store's active trained model."""
    from workbench.jobs import Engine

    return Engine(store=get_store())


@st.cache_resource(show_spinner="Loading ICD-10-CM…")
def icd_catalog():
    """The ICD-10-CM classification for code suggestions (loaded once per server)."""
    from pipelines.problem_coding import load_icd_catalog

    return load_icd_catalog()


def cache_key(store: db.Store) -> tuple:
    """What cached reads are keyed by besides the stamp: the database and who reads it
    (reads are filtered and de-identified per actor, so actors never share a cached read)."""
    return (str(store.path), store.actor.cache_key())


# -- reads cached until the database changes ----------------------------------------------
# Each is keyed by the store's path and ``Store.content_stamp()`` (which changes with every
# commit here or in another process, except this server's records of reviewer activity such
# as ▶'s ``sentence.viewed``; ``signoff_view``, which shows that activity, is keyed by
# ``Store.stamp()``), so a rerun that changed nothing opens no database file:
# opening one costs 20-30 ms, and a Review rerun used to do it more than thirty times.
# cache_resource hands out the same immutable value (tuples, frozen records) to every
# session without a pickled copy.


@st.cache_resource(show_spinner=False, max_entries=64)
def _review_position(
    _store: db.Store, key: tuple, stamp: tuple, query: db.WorklistQuery, encounter_id: str
) -> db.ReviewPosition:
    return db.review_position(_store, query, encounter_id)


def review_position(
    store: db.Store, query: db.WorklistQuery, encounter_id: str
) -> db.ReviewPosition:
    """Where the encounter stands in the worklist (cached until the database changes)."""
    return _review_position(store, cache_key(store), store.content_stamp(), query, encounter_id)


@st.cache_resource(show_spinner=False, max_entries=4)
def _users(_store: db.Store, key: tuple, stamp: tuple) -> tuple[tuple[str, str, str], ...]:
    return tuple(db.list_users(_store))


def users(store: db.Store) -> tuple[tuple[str, str, str], ...]:
    """(user_id, display_name, role) of every user (cached until the database changes)."""
    return _users(store, cache_key(store), store.content_stamp())


@st.cache_resource(show_spinner=False, max_entries=64)
def _style_summary(_store: db.Store, key: tuple, stamp: tuple, clinician: str) -> str | None:
    found = db.latest_style(_store, clinician)
    return found.summary if found else None


def style_summary(store: db.Store, clinician: str) -> str | None:
    """The clinician's learned style in one line, if any (cached until the database changes)."""
    return _style_summary(store, cache_key(store), store.content_stamp(), clinician)


@st.cache_resource(show_spinner=False, max_entries=64)
def _vocabulary(_store: db.Store, key: tuple, stamp: tuple, owner: str) -> tuple[str, ...]:
    return tuple(db.list_terms(_store, owner))


def vocabulary(store: db.Store, owner: str) -> tuple[str, ...]:
    """The owner's custom vocabulary (cached until the database changes)."""
    return _vocabulary(store, cache_key(store), store.content_stamp(), owner)


@st.cache_resource(show_spinner=False, max_entries=32)
def _sentence_decisions(
    _store: db.Store, key: tuple, stamp: tuple, encounter_id: str
) -> dict[str, db.SentenceDecision]:
    return db.sentence_decisions(_store, encounter_id)


def sentence_decisions(store: db.Store, encounter_id: str) -> dict[str, db.SentenceDecision]:
    """Each sentence's newest decision (cached until the database changes; shared between
    sessions, so read it, never change it)."""
    return _sentence_decisions(store, cache_key(store), store.content_stamp(), encounter_id)


@st.cache_resource(show_spinner=False, max_entries=32)
def _round_activity(
    _store: db.Store, key: tuple, stamp: tuple, encounter_id: str
) -> db.RoundActivity:
    return db.round_activity(_store, encounter_id)


@st.cache_resource(show_spinner=False, max_entries=32)
def _note_history(
    _store: db.Store, key: tuple, stamp: tuple, encounter_id: str, version: int
) -> db.NoteHistory:
    return db.note_history(_store, encounter_id, version)


def signoff_view(
    store: db.Store, encounter_id: str, version: int
) -> tuple[db.RoundActivity, db.NoteHistory]:
    """The round's activity and the note's history, as the sign-off panel shows them (cached
    until the database changes; the history, which shows no activity, until its content
    does)."""
    key = cache_key(store)
    return (
        _round_activity(store, key, store.stamp(), encounter_id),
        _note_history(store, key, store.content_stamp(), encounter_id, version),
    )
