"""The worklist: encounters filtered, sorted, counted and paged in SQL.

Every query here reads one derived table (``_ROWS``): each encounter with its newest transcript
and note version, the signature of that newest note version and its workflow status. An
encounter counts as signed only while its newest note version is signed, so an amendment in
progress is unsigned work again. Filters are bound parameters (an empty list or NULL means
"any"); the sort is one of the fixed ORDER BY clauses in ``SORTS``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import duckdb

from workbench.store.access import VISIBLE, allowed, list_scope, present_summaries, require
from workbench.store.db import Store
from workbench.store.records import STATUSES, EncounterRecord, EncounterSummary

UNSIGNED_DRAFTS: tuple[str, ...] = ("drafted", "in review")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# A page number the database can multiply by the page size without overflowing.
MAX_PAGE = 1_000_000

_ROWS = (
    "WITH latest_notes AS ("
    "  SELECT encounter_id, max(version) AS note_version FROM notes GROUP BY encounter_id"
    "), latest_transcripts AS ("
    "  SELECT encounter_id, max(version) AS transcript_version FROM transcripts"
    "  GROUP BY encounter_id"
    "), worklist AS ("
    "  SELECT e.encounter_id, e.title, e.specialty, e.visit_type, e.clinician, e.patient_label,"
    "   e.audio_sha256, e.source, e.created_at, e.created_by, e.clinician_id,"
    "   a.duration_s, t.transcript_version, n.note_version, s.signed_at,"
    "   CASE WHEN s.signed_at IS NOT NULL THEN 'signed'"
    "        WHEN n.note_version > 1 THEN 'in review'"
    "        WHEN n.note_version IS NOT NULL THEN 'drafted'"
    "        WHEN t.transcript_version IS NOT NULL THEN 'transcribed'"
    "        ELSE 'ingested' END AS status"
    "  FROM encounters e"
    "  LEFT JOIN audio_files a ON a.sha256 = e.audio_sha256"
    "  LEFT JOIN latest_transcripts t ON t.encounter_id = e.encounter_id"
    "  LEFT JOIN latest_notes n ON n.encounter_id = e.encounter_id"
    "  LEFT JOIN signatures s"
    "    ON s.encounter_id = e.encounter_id AND s.note_version = n.note_version"
    ") "
)

# Empty lists, NULL dates and an empty text match everything. $scope and $me keep the rows
# the actor may list (``access.list_scope``).
_WHERE = (
    " WHERE encounter_id IN (SELECT encounter_id FROM encounters WHERE " + VISIBLE + ")"
    " AND (len($statuses::VARCHAR[]) = 0 OR list_contains($statuses::VARCHAR[], status))"
    " AND (len($clinicians::VARCHAR[]) = 0 OR list_contains($clinicians::VARCHAR[], clinician))"
    " AND (len($specialties::VARCHAR[]) = 0"
    "      OR list_contains($specialties::VARCHAR[], specialty))"
    " AND ($date_from::DATE IS NULL OR created_at >= $date_from::DATE)"
    " AND ($date_to::DATE IS NULL OR created_at < $date_to::DATE + INTERVAL 1 DAY)"
    " AND ($text::VARCHAR = '' OR contains(lower(title), lower($text::VARCHAR))"
    "      OR contains(lower(encounter_id), lower($text::VARCHAR)))"
)

_STATUS_RANK = (
    "CASE status WHEN 'ingested' THEN 0 WHEN 'transcribed' THEN 1 WHEN 'drafted' THEN 2"
    " WHEN 'in review' THEN 3 ELSE 4 END"
)

# Fixed ORDER BY clauses (never user text); the id breaks ties so paging is stable.
SORTS: dict[str, str] = {
    "newest": "created_at DESC, encounter_id",
    "oldest": "created_at ASC, encounter_id",
    "status": _STATUS_RANK + ", created_at DESC, encounter_id",
    "clinician": "clinician ASC NULLS LAST, created_at DESC, encounter_id",
    "duration": "duration_s DESC NULLS LAST, created_at DESC, encounter_id",
}

_COLUMNS = (
    "SELECT encounter_id, title, specialty, visit_type, clinician, patient_label, audio_sha256,"
    " source, created_at, created_by, duration_s, transcript_version, note_version, signed_at,"
    " status, clinician_id FROM worklist"
)
_PAGE_SQL = {
    sort: _ROWS + _COLUMNS + _WHERE + " ORDER BY " + order + " LIMIT $limit OFFSET $offset"
    for sort, order in SORTS.items()
}
_COUNT_SQL = _ROWS + "SELECT count(*) FROM worklist" + _WHERE
_STATUS_SQL = _ROWS + "SELECT status, count(*) FROM worklist" + _WHERE + " GROUP BY status"
_NEXT_UNSIGNED_SQL = (
    _ROWS
    + "SELECT encounter_id FROM worklist"
    + _WHERE
    + " AND ($exclude::VARCHAR IS NULL OR encounter_id <> $exclude::VARCHAR)"
    + " ORDER BY created_at ASC, encounter_id LIMIT 1"
)
# The row itself, and its neighbours among the encounters the Review page can open (those
# with a note) when the filters keep it.
_POSITION_SQL = {
    sort: _ROWS
    + "SELECT w.encounter_id, w.title, w.specialty, w.visit_type, w.clinician, w.patient_label,"
    + " w.audio_sha256, w.source, w.created_at, w.created_by, w.duration_s,"
    + " w.transcript_version, w.note_version, w.signed_at, w.status, w.clinician_id,"
    + " nb.previous, nb.next, nb.position, nb.total"
    + " FROM worklist w LEFT JOIN ("
    + "  SELECT encounter_id,"
    + "  lag(encounter_id) OVER (ORDER BY "
    + order
    + ") AS previous,"
    + "  lead(encounter_id) OVER (ORDER BY "
    + order
    + ") AS next,"
    + "  row_number() OVER (ORDER BY "
    + order
    + ") AS position,"
    + "  count(*) OVER () AS total"
    + "  FROM worklist"
    + _WHERE
    + " AND note_version IS NOT NULL"
    + " ) nb ON nb.encounter_id = w.encounter_id"
    + " WHERE w.encounter_id = $encounter_id"
    for sort, order in SORTS.items()
}


@dataclass(frozen=True)
class WorklistQuery:
    """What the worklist shows: filters (empty means any), a sort from ``SORTS`` and a page.

    Dates are inclusive calendar days of ``created_at`` (UTC); ``text`` matches the title or
    the id, case-insensitively. Bad values raise ValueError with the reason.
    """

    statuses: tuple[str, ...] = ()
    clinicians: tuple[str, ...] = ()
    specialties: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""
    sort: str = "newest"
    page: int = 1
    page_size: int = PAGE_SIZE

    def __post_init__(self) -> None:
        unknown = [s for s in self.statuses if s not in STATUSES]
        if unknown:
            raise ValueError(f"Unknown status {unknown[0]!r}; choose from {', '.join(STATUSES)}")
        if self.sort not in SORTS:
            raise ValueError(f"Unknown sort {self.sort!r}; choose from {', '.join(SORTS)}")
        if self.page < 1:
            raise ValueError(f"Page must be 1 or more, not {self.page}")
        if self.page > MAX_PAGE:
            raise ValueError(f"Page must be at most {MAX_PAGE:,}, not {self.page}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"Page size must be between 1 and {MAX_PAGE_SIZE}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"Date range starts after it ends ({self.date_from} > {self.date_to})")

    def filters(self) -> WorklistQuery:
        """The same filters, sorted and paged by default (to compare two queries' filters)."""
        return replace(self, sort="newest", page=1, page_size=PAGE_SIZE)

    def params(self) -> dict[str, Any]:
        """The bound parameters of ``_WHERE``."""
        return {
            "statuses": list(self.statuses),
            "clinicians": [_bindable(c) for c in self.clinicians],
            "specialties": [_bindable(s) for s in self.specialties],
            "date_from": self.date_from,
            "date_to": self.date_to,
            "text": _bindable(self.text.strip()),
        }


def _bindable(text: str) -> str:
    """``text`` as valid UTF-8: a lone surrogate (a browser can send one) cannot be bound."""
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class WorklistView:
    """One page of the worklist plus the counts its header shows."""

    rows: list[EncounterSummary]
    total: int
    counts: dict[str, int]  # per status, for the current filters except the status filter
    overall: dict[str, int]  # per status, all encounters
    pages: int  # at the query's page size, at least 1


@dataclass(frozen=True)
class ReviewPosition:
    """Where an encounter stands in the worklist as the Review page moves through it."""

    row: EncounterSummary | None  # None: no such encounter
    previous: str | None = None
    next: str | None = None
    position: int | None = None  # 1-based among openable rows; None when filtered out
    total: int = 0  # openable rows under the filters (0 when the encounter is filtered out)


def _summary(row: tuple) -> EncounterSummary:
    return EncounterSummary(
        encounter=EncounterRecord(*row[:10], clinician_id=row[15]),
        status=row[14],
        duration_s=row[10],
        transcript_version=row[11],
        note_version=row[12],
        signed_at=row[13],
    )


def _scope(store: Store) -> dict[str, str]:
    scope, me = list_scope(store)
    return {"scope": scope, "me": me}


def _shown(store: Store, rows: list[EncounterSummary]) -> list[EncounterSummary]:
    """Rows as the actor may read them (titles de-identified without ``text.phi``)."""
    return present_summaries(store, rows)


def _page(
    con: duckdb.DuckDBPyConnection, query: WorklistQuery, scope: dict[str, str]
) -> list[EncounterSummary]:
    params = (
        query.params()
        | scope
        | {
            "limit": query.page_size,
            "offset": (query.page - 1) * query.page_size,
        }
    )
    return [_summary(r) for r in con.execute(_PAGE_SQL[query.sort], params).fetchall()]


def _total(con: duckdb.DuckDBPyConnection, query: WorklistQuery, scope: dict[str, str]) -> int:
    return int(con.execute(_COUNT_SQL, query.params() | scope).fetchone()[0])


def _counts(
    con: duckdb.DuckDBPyConnection, query: WorklistQuery, scope: dict[str, str]
) -> dict[str, int]:
    found = dict(con.execute(_STATUS_SQL, query.params() | scope).fetchall())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def list_worklist(store: Store, query: WorklistQuery) -> tuple[list[EncounterSummary], int]:
    """One page of encounters matching ``query`` in its order, and how many match in all
    (only those the actor may list)."""
    scope = _scope(store)
    with store.connect() as con:
        rows, total = _page(con, query, scope), _total(con, query, scope)
    return _shown(store, rows), total


def worklist_status_counts(store: Store, query: WorklistQuery | None = None) -> dict[str, int]:
    """Encounters per status for the query's filters other than status (all without a query):
    those the actor may list, or, for an analyst (``analytics.view``), all of them."""
    base = WorklistQuery() if query is None else replace(query, statuses=())
    if allowed(store, "encounter.list") or not allowed(store, "analytics.view"):
        scope = _scope(store)  # (refuses and audits when neither is allowed)
    else:
        scope = {"scope": "any", "me": store.actor.user_id}
    with store.connect() as con:
        return _counts(con, base, scope)


def worklist_view(store: Store, query: WorklistQuery) -> WorklistView:
    """Everything the Worklist page shows, read over one connection."""
    scope = _scope(store)
    with store.connect() as con:
        counts = _counts(con, replace(query, statuses=()), scope)
        unfiltered = replace(query, statuses=()).params() == WorklistQuery().params()
        # The status filter only picks among these counts, so they give the total too.
        total = sum(n for status, n in counts.items() if status in (query.statuses or STATUSES))
        rows = _page(con, query, scope) if total else []
        overall = counts if unfiltered else _counts(con, WorklistQuery(), scope)
    return WorklistView(
        rows=_shown(store, rows),
        total=total,
        counts=counts,
        overall=overall,
        pages=max(1, -(-total // query.page_size)),
    )


def worklist_options(store: Store) -> tuple[list[str], list[str]]:
    """The clinicians and the specialties that occur among the encounters the actor may
    list, for the filter pickers."""
    scope = _scope(store)
    with store.connect() as con:
        clinicians = con.execute(
            "SELECT DISTINCT clinician FROM encounters WHERE clinician IS NOT NULL AND "
            + VISIBLE
            + " ORDER BY 1",
            scope,
        ).fetchall()
        specialties = con.execute(
            "SELECT DISTINCT specialty FROM encounters WHERE specialty IS NOT NULL AND "
            + VISIBLE
            + " ORDER BY 1",
            scope,
        ).fetchall()
    return [r[0] for r in clinicians], [r[0] for r in specialties]


def next_unsigned(
    store: Store, query: WorklistQuery | None = None, exclude: str | None = None
) -> str | None:
    """The oldest drafted-but-unsigned encounter matching the query's filters (its status
    filter aside), other than ``exclude``; None when every draft there is signed."""
    base = replace(query or WorklistQuery(), statuses=UNSIGNED_DRAFTS)
    scope = _scope(store)
    with store.connect() as con:
        row = con.execute(
            _NEXT_UNSIGNED_SQL, base.params() | scope | {"exclude": exclude}
        ).fetchone()
    return row[0] if row else None


def review_position(store: Store, query: WorklistQuery, encounter_id: str) -> ReviewPosition:
    """The encounter's worklist row and its previous and next openable neighbours under the
    query's filters and sort (no neighbours when the filters leave it out)."""
    scope = _scope(store)
    require(store, "encounter.view", encounter_id)
    with store.connect() as con:
        row = con.execute(
            _POSITION_SQL[query.sort], query.params() | scope | {"encounter_id": encounter_id}
        ).fetchone()
    if row is None:
        return ReviewPosition(row=None)
    previous, following, position, total = row[16:]
    summary = _shown(store, [_summary(row)])[0]
    if position is None:
        return ReviewPosition(row=summary)
    return ReviewPosition(summary, previous, following, int(position), int(total))
