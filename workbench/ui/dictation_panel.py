"""Dictation panel: record or upload a dictation, check the interpreted text, insert it.

The work itself is :func:`workbench.dictation.dictate_bytes` (bytes -> DictationResult, no
Streamlit); this module only draws widgets, caches the ASR model and keeps the last result
in ``session_state`` so reruns do not transcribe the same recording again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

import streamlit as st

from pipelines.audio import AudioError
from pipelines.dictation import DictationResult
from workbench.dictation import dictate_bytes
from workbench.ui import resources

AUDIO_TYPES = ["wav", "mp3", "m4a", "ogg", "opus", "webm", "flac"]
HELP = (
    "Say punctuation and commands: *period*, *comma*, *question mark*, *colon*, "
    "*open/close paren*, *new line*, *new paragraph*, *scratch that*, *next section*, "
    "*go to plan*."
)


def dictation_panel(
    key_prefix: str,
    sections: tuple[str, ...],
    headings: dict[str, str],
    default_section: str,
    terms: Sequence[str] = (),
) -> DictationResult | None:
    """Draw the panel; return the (possibly hand-corrected) result when Insert is clicked.

    ``terms`` is the clinician's vocabulary (``store.list_terms``). Widget keys all start
    with ``key_prefix``, so two panels can live on one page.
    """
    st.caption(HELP)
    start = st.selectbox(
        "Start in section",
        sections,
        index=sections.index(default_section) if default_section in sections else 0,
        format_func=lambda s: headings.get(s, s.title()),
        key=f"{key_prefix}-start",
    )
    record_tab, file_tab = st.tabs(["Record", "Dictation file"])
    with record_tab:
        recorded = st.audio_input("Record a dictation", key=f"{key_prefix}-mic")
    with file_tab:
        uploaded = st.file_uploader("Dictation file", type=AUDIO_TYPES, key=f"{key_prefix}-file")
    source = recorded or uploaded
    if source is None:
        return None
    data = source.getvalue()
    fingerprint = f"{hashlib.sha256(data).hexdigest()}:{start}:{','.join(sections)}"
    if st.session_state.get(f"{key_prefix}-inserted") == fingerprint:
        st.success("Inserted into the note. Record or upload another dictation to continue.")
        return None
    result = _result_for(key_prefix, fingerprint, data, sections, start, headings, terms)
    if result is None:
        return None
    return _review(key_prefix, fingerprint, result, headings)


def _result_for(
    key_prefix: str,
    fingerprint: str,
    data: bytes,
    sections: tuple[str, ...],
    start: str,
    headings: dict[str, str],
    terms: Sequence[str],
) -> DictationResult | None:
    """The dictation's result, transcribed once per (recording, start section)."""
    cached = st.session_state.get(f"{key_prefix}-result")
    if cached and cached[0] == fingerprint:
        return cached[1]
    # The same shared model as encounter processing: one copy per server.
    engine = resources.get_engine()
    try:
        with st.spinner("Transcribing the dictation…"):
            result = dictate_bytes(
                engine.asr,
                data,
                sections,
                start,
                terms,
                headings=headings,
                asr_options=engine.options.asr,
            )
    except AudioError as exc:
        st.error(str(exc))
        return None
    st.session_state[f"{key_prefix}-result"] = (fingerprint, result)
    return result


def _review(
    key_prefix: str, fingerprint: str, result: DictationResult, headings: dict[str, str]
) -> DictationResult | None:
    """Editable text per dictated section, the command log, and the Insert button."""
    # Keys carry the recording's fingerprint so a new dictation starts from its own text.
    tag = hashlib.sha256(fingerprint.encode()).hexdigest()[:12]
    if not result.dictated_sections:
        st.warning("No dictated text was recognised.")
        return None
    texts: dict[str, str] = {}
    for section in result.dictated_sections:
        texts[section] = st.text_area(
            headings.get(section, section.title()),
            value=result.text[section],
            key=f"{key_prefix}-text-{tag}-{section}",
        )
    if result.commands:
        st.caption(
            "Commands: "
            + " · ".join(
                c.command + (f" ({c.detail})" if c.detail else "") for c in result.commands
            )
        )
    if st.button("Insert into note", key=f"{key_prefix}-insert", type="primary"):
        st.session_state.pop(f"{key_prefix}-result", None)
        st.session_state[f"{key_prefix}-inserted"] = fingerprint
        return replace(result, text={**result.text, **texts})
    return None
