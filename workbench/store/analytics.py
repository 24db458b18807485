"""Usage and quality analytics: the facts behind the Analytics page, its figures and filters.

Data flow: raw tables -> ``refresh`` (``analytics_refresh``: SQL only, incremental) -> facts
tables (migration 0023) -> one SQL query per figure (``analytics_figures``) -> DataFrames of
a few hundred rows at most. Figures carry no patient text and no encounter ids.

Definitions (what the figures mean):

- machine draft: the note version of the encounter's first ``note.drafted`` event.
- signed note: the version of the encounter's first signature; signed_at is its time.
- ingested: the encounter's created_at (the date filter applies to it).
- reviewed: a person worked on it (review.active, sentence.viewed, a sentence or entity
  decision, a transcript correction, a save or the signature); first_review_at is the first.
- hours to sign: signed_at - created_at, in hours.
- active minutes: the signature's recorded active review time (else the sum of
  ``review.active`` seconds up to the signature; unknown when neither exists, e.g. a
  signature older than the activity records, and then left out, never counted as 0).
- ned (normalised edit distance) of a section: the character edit distance from the machine
  draft's section text to the signed note's, divided by the longer of the two (0..1);
  sentences are paired by sentence id (an edited one costs its Levenshtein distance, a
  removed or added one its length), so it is the exact distance when edits stay within
  sentences and an upper bound otherwise. Only sections with text in either note count.
- accept-as-is rate: the share of sections (or sentences) signed exactly as drafted.
- sentence outcome (signed notes): accepted = in the signed note with the draft's text,
  edited = with other text (a person's, or the machine's re-draft after a transcript
  correction), rejected = not in the signed note.
- support label: the label of the newest support check of the machine draft's version
  (``unchecked`` without one); flagged = partly_supported or unsupported.
- opened: a ``sentence.viewed`` event (evidence played) for the sentence before signing.
- entity confusion: the machine's entities (the newest set the NLP pipeline wrote,
  ``entities.extracted``, on the newest set's transcript version) matched by span
  (segment, start, end) to the newest set's: machine label -> final label, "(none)" on
  the side without one (added / removed). Each entity counts once, however many edits it
  went through.
- ASR WER (estimate): word errors / words of the first transcript version, signed encounters
  only, for encounters a person corrected (transcript.word_corrected / segment_corrected).
  Word errors per segment = the larger of words removed and words added between the first
  (machine) version's text and the newest version's (case-insensitive multiset
  difference): the word edit distance unless a fix reorders words; a fix undone counts 0.
  Errors nobody corrected are not seen, so it is a lower bound.
- fast signature: active review seconds < the signed note's words / READING_WPM (450, a
  skimming speed) * 60; fast_rate is over the signatures whose review time is known
  (``unknown_review_time`` counts the others).
- flagged unopened accepted: a flagged sentence signed as drafted without being opened;
  unopened_rate = those / flagged sentences signed as drafted.
- simulated: encounters.source = 'simulated' (the page says when the selection has any).

Access: figures and filter options need ``analytics.view`` (analysts, admins); the
encounter lists of ``drilldown`` need ``analytics.drilldown`` (admins: analysts see
aggregates only). ``refresh`` writes derived tables only (no event) and logs timings only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import pandas as pd

from workbench.store import analytics_figures as sql
from workbench.store import analytics_refresh
from workbench.store.access import require
from workbench.store.db import Store, utcnow

log = logging.getLogger(__name__)

GRAINS = ("day", "week", "month")
READING_WPM = sql.READING_WPM


@dataclass(frozen=True)
class Filters:
    """Which encounters a figure covers (empty tuples and None: all)."""

    start: date | None = None  # created_at (ingested) date, inclusive
    end: date | None = None  # inclusive
    clinicians: tuple[str, ...] = ()  # user ids
    specialties: tuple[str, ...] = ()
    note_types: tuple[str, ...] = ()
    model_versions: tuple[str, ...] = ()  # drafter versions
    simulated: bool | None = None  # None: both, True: only simulated, False: only real
    grain: str = "week"  # "day" | "week" | "month" for time series


@dataclass(frozen=True)
class FilterOptions:
    """The values the filters can take, from the facts."""

    clinicians: tuple[str, ...]
    specialties: tuple[str, ...]
    note_types: tuple[str, ...]
    model_versions: tuple[str, ...]
    first_date: date | None
    last_date: date | None
    encounters: int
    simulated: int  # how many of them are simulated
    clinician_names: dict[str, str]  # user id -> display name


@dataclass(frozen=True)
class RefreshResult:
    """What a refresh did."""

    encounters: int  # encounters recomputed
    seconds: float
    full: bool


def refresh(store: Store, full: bool = False) -> RefreshResult:
    """Bring the facts tables up to date with the raw tables in one transaction: the
    encounters whose raw rows changed since the last refresh (all with ``full``)."""
    require(store, "analytics.view")
    start = time.perf_counter()
    now = utcnow()
    with store.transaction() as con:
        n = analytics_refresh.rebuild(con, full, now)
        seconds = time.perf_counter() - start
        analytics_refresh.record_state(con, now, n, seconds, full)
    n = n or 0
    seconds = time.perf_counter() - start
    log.info("analytics refresh: %d encounters in %.2f s (full=%s)", n, seconds, full)
    return RefreshResult(n, seconds, full)


def filter_params(filters: Filters) -> dict[str, Any]:
    """The bound parameters of ``WHERE_ENCOUNTERS`` (ValueError for impossible filters)."""
    if filters.grain not in GRAINS:
        raise ValueError(f"Unknown grain {filters.grain!r}; choose from {', '.join(GRAINS)}")
    if filters.start and filters.end and filters.start > filters.end:
        raise ValueError(f"The start date {filters.start} is after the end date {filters.end}")
    return {
        "start": filters.start,
        "end": filters.end + timedelta(days=1) if filters.end else None,
        "clinicians": list(filters.clinicians),
        "specialties": list(filters.specialties),
        "note_types": list(filters.note_types),
        "model_versions": list(filters.model_versions),
        "simulated": filters.simulated,
        "grain": filters.grain,
    }


def _run(con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any]) -> pd.DataFrame:
    # DuckDB refuses parameters a query does not use: bind only the ones it names.
    used = {k: v for k, v in params.items() if "$" + k in query}
    return con.execute(query, used).df()


def _figure_function(name: str) -> Callable[[duckdb.DuckDBPyConnection, Filters], pd.DataFrame]:
    query = sql.FIGURE_SQL[name]

    def compute(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
        return _run(con, query, filter_params(filters))

    compute.__name__ = name
    compute.__doc__ = f"The {name!r} figure's rows for ``filters`` on an open connection."
    return compute


# One function per figure, in page order: (connection, filters) -> DataFrame.
FIGURES: dict[str, Callable[[duckdb.DuckDBPyConnection, Filters], pd.DataFrame]] = {
    name: _figure_function(name) for name in sql.FIGURE_SQL
}


def figure(store: Store, name: str, filters: Filters = Filters()) -> pd.DataFrame:
    """One figure's aggregate rows (see the module docstring for what they mean)."""
    require(store, "analytics.view")
    if name not in FIGURES:
        raise ValueError(f"Unknown figure {name!r}; choose from {', '.join(FIGURES)}")
    with store.connect() as con:
        return FIGURES[name](con, filters)


def figures(store: Store, filters: Filters = Filters()) -> dict[str, pd.DataFrame]:
    """Every figure of the page, on one connection, in page order."""
    require(store, "analytics.view")
    filter_params(filters)  # a bad filter fails before any query
    start = time.perf_counter()
    with store.connect() as con:
        out = {name: compute(con, filters) for name, compute in FIGURES.items()}
    log.debug("analytics figures in %.0f ms", (time.perf_counter() - start) * 1000)
    return out


def filter_options(store: Store) -> FilterOptions:
    """The distinct clinicians, specialties, note types and model versions, the date range
    and how many encounters (and simulated ones) the facts hold."""
    require(store, "analytics.view")
    with store.connect() as con:
        row = con.execute(sql.OPTIONS).fetchone()
        names = dict(con.execute(sql.CLINICIAN_NAMES).fetchall())
    return FilterOptions(
        clinicians=tuple(row[0] or ()),
        specialties=tuple(row[1] or ()),
        note_types=tuple(row[2] or ()),
        model_versions=tuple(row[3] or ()),
        first_date=row[4],
        last_date=row[5],
        encounters=row[6],
        simulated=row[7],
        clinician_names=names,
    )


def drilldown(
    store: Store,
    filters: Filters = Filters(),
    *,
    clinician: str | None = None,
    section: str | None = None,
    support_label: str | None = None,
    model_label: str | None = None,
    final_label: str | None = None,
    fast_sign: bool | None = None,
    limit: int = 200,
) -> pd.DataFrame:
    """The encounters behind a figure's bar or cell (admins only), highest ned first: at
    most ``limit`` rows of encounter_id, title, clinician, specialty, note_type,
    drafter_version, simulated, created_at, signed_at, ned (mean over its sections)."""
    require(store, "analytics.drilldown")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    params = filter_params(filters) | {
        "clinician": clinician,
        "section": section,
        "support_label": support_label,
        "model_label": model_label,
        "final_label": final_label,
        "fast_sign": fast_sign,
        "limit": limit,
    }
    with store.connect() as con:
        return _run(con, sql.DRILLDOWN, params)
