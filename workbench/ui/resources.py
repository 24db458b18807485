"""Shared, process-wide resources for the Streamlit app (cached once per server)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from workbench import settings
from workbench import store as db


@st.cache_resource(show_spinner=False)
def _store(data_dir: str) -> db.Store:
    return db.open_store(Path(data_dir))


def get_store() -> db.Store:
    """The store for $SCRIBE_HOME (one handle per server; each call locks briefly)."""
    return _store(str(settings.data_dir()))


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


@st.cache_data(show_spinner=False, max_entries=16)
def audio_bytes(path: str) -> bytes:
    """The stored audio file, read once per file."""
    return Path(path).read_bytes()


def current_user() -> str:
    """The reviewing user's id (a picker until authentication lands)."""
    return st.session_state.get("user_id") or settings.setting("SCRIBE_USER")


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
