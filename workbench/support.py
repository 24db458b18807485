"""The support check of stored notes: ``pipelines.verify`` on a note version, kept in the store.

A check belongs to one note version and records the transcript and entity set versions it
used; :func:`current_support` reuses a stored check while those (and the checker) are the
same, and checks again otherwise (after an edit, a transcript correction, new entities).
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from functools import lru_cache

from pipelines.types import Draft, Entity, Omission, SupportResult, Transcript
from pipelines.verify import (
    VERIFY_VERSION,
    Lexicon,
    VerifyOptions,
    find_omissions,
    index_transcript,
    load_lexicon,
    verify_sentences,
)
from workbench import store as st

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _lexicon() -> Lexicon:
    return load_lexicon()  # read once per process: the word lists are data files


@dataclass(frozen=True)
class Findings:
    """What the support check found for a draft: per-sentence results and omissions."""

    results: tuple[SupportResult, ...]
    omissions: tuple[Omission, ...]
    seconds: float


def verify_draft(
    nlp,
    transcript: Transcript,
    entities: tuple[Entity, ...],
    draft: Draft,
    options: VerifyOptions = VerifyOptions(),
) -> Findings:
    """The support check's computation alone (no store): ``nlp`` finds each sentence's
    entities. Runs wherever the models are (this process or a Ray worker)."""
    started = time.perf_counter()
    lexicon = _lexicon()
    index = index_transcript(transcript, entities, lexicon, options.max_words)
    sentences = draft.sentences
    results = verify_sentences(sentences, transcript, entities, nlp, options, lexicon, index)
    omissions = find_omissions(index, sentences, results, draft.sections)
    return Findings(tuple(results), tuple(omissions), time.perf_counter() - started)


def save_findings(
    store: st.Store,
    user_id: str,
    note: st.NoteVersion,
    transcript_version: int,
    entity_set_version: int | None,
    findings: Findings,
    options: VerifyOptions = VerifyOptions(),
) -> st.SupportCheck:
    """Keep the findings for ``note`` (checked against the given transcript and entity set
    versions) as its support check, with a ``note.verified`` event."""
    st.save_support(
        store,
        st.NewSupportCheck(
            encounter_id=note.encounter_id,
            note_version=note.version,
            transcript_version=transcript_version,
            entity_set_version=entity_set_version,
            checker_version=VERIFY_VERSION,
            results=findings.results,
            omissions=findings.omissions,
            options=asdict(options),
            seconds=round(findings.seconds, 4),
        ),
        user_id,
    )
    log.info(
        "checked %s note %d: %d sentences, %d unsupported, %d omissions in %.2f s",
        note.encounter_id,
        note.version,
        len(findings.results),
        sum(r.label == "unsupported" for r in findings.results),
        len(findings.omissions),
        findings.seconds,
    )
    checked = st.get_support(store, note.encounter_id, note.version)
    assert checked is not None
    return checked


def check_note(
    store: st.Store,
    engine,
    encounter_id: str,
    user_id: str,
    note: st.NoteVersion | None = None,
    options: VerifyOptions = VerifyOptions(),
) -> st.SupportCheck:
    """Check the given (or newest) note version against its transcript and store the result.

    ``engine`` is a :class:`workbench.jobs.Engine` (its NLP finds each sentence's entities).
    Raises NotFound when the encounter has no note or no transcript.
    """
    note = note or st.get_note(store, encounter_id)
    if note is None:
        raise st.NotFound(f"No note for {encounter_id}")
    found = st.get_transcript(store, encounter_id, note.transcript_version)
    if found is None:
        raise st.NotFound(f"No transcript for {encounter_id}")
    transcript_version, transcript = found
    entity_set = st.get_entity_set(store, encounter_id, transcript_version=transcript_version)
    entities = entity_set.entities if entity_set else ()
    findings = verify_draft(engine.nlp, transcript, entities, note.draft, options)
    entity_version = entity_set.version if entity_set else None
    return save_findings(
        store, user_id, note, transcript_version, entity_version, findings, options
    )


def is_current(store: st.Store, check: st.SupportCheck | None, note: st.NoteVersion) -> bool:
    """Whether a stored check still holds for the note: same checker, transcript, entities."""
    if check is None or check.checker_version != VERIFY_VERSION:
        return False
    transcript_version = note.transcript_version or st.latest_transcript_version(
        store, note.encounter_id
    )
    entity_version = st.entity_set_version(store, note.encounter_id, transcript_version)
    return (check.transcript_version, check.entity_set_version) == (
        transcript_version,
        entity_version,
    )


def current_support(
    store: st.Store, engine, encounter_id: str, user_id: str, note: st.NoteVersion | None = None
) -> st.SupportCheck:
    """The stored check of the note when still current, else a new one (stored)."""
    note = note or st.get_note(store, encounter_id)
    if note is None:
        raise st.NotFound(f"No note for {encounter_id}")
    stored = st.get_support(store, encounter_id, note.version)
    if is_current(store, stored, note):
        assert stored is not None
        return stored
    return check_note(store, engine, encounter_id, user_id, note)
