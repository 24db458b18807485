"""The worklist's filters as a shareable URL and in the session.

The current :class:`WorklistQuery` lives in ``st.session_state[QUERY_KEY]`` (so the Review
page can move through the same list) and in the URL's query parameters (so a link restores
it). A new session starts from the URL; after that the session wins, because navigating
between pages drops the URL parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

import streamlit as st

from workbench import store as db
from workbench.store.records import STATUSES
from workbench.store.worklist import MAX_PAGE, SORTS, WorklistQuery
from workbench.ui.url_query import show_in_url, url_params

QUERY_KEY = "worklist_query"
ENCOUNTER_KEY = "encounter_id"
NOTICE_KEY = "worklist_notice"
# The URL parameters the worklist owns (others, like the Review page's, are left alone).
PARAMS = ("status", "clinician", "specialty", "from", "to", "q", "sort", "page")


def query_from_params(params: Mapping[str, Sequence[str]]) -> tuple[WorklistQuery, list[str]]:
    """The query a URL describes (parameter -> its values), and what was ignored in it."""
    problems: list[str] = []

    def one(name: str) -> str:
        values = params.get(name) or [""]
        return values[-1].strip()

    def day(name: str) -> date | None:
        text = one(name)
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            problems.append(f"Ignored the date {text!r}: use YYYY-MM-DD.")
            return None

    statuses = [s for s in params.get("status", []) if s]
    for bad in [s for s in statuses if s not in STATUSES]:
        problems.append(f"Ignored the unknown status {bad!r}.")
    sort = one("sort") or "newest"
    if sort not in SORTS:
        problems.append(f"Ignored the unknown sort {sort!r}.")
        sort = "newest"
    page_text = one("page") or "1"
    # ASCII digits only ("²".isdigit() is true), and a page the database can count to.
    digits = page_text.isascii() and page_text.isdigit()
    page = int(page_text) if digits and 1 <= int(page_text) <= MAX_PAGE else 1
    if page == 1 and page_text != "1":
        problems.append(f"Ignored the page {page_text!r}.")
    date_from, date_to = day("from"), day("to")
    if date_from and date_to and date_from > date_to:
        problems.append(f"Ignored the date range: {date_from} is after {date_to}.")
        date_from = date_to = None
    query = WorklistQuery(
        statuses=tuple(dict.fromkeys(s for s in statuses if s in STATUSES)),
        clinicians=tuple(dict.fromkeys(c for c in params.get("clinician", []) if c)),
        specialties=tuple(dict.fromkeys(s for s in params.get("specialty", []) if s)),
        date_from=date_from,
        date_to=date_to,
        text=one("q"),
        sort=sort,
        page=page,
    )
    return query, problems


def query_to_params(query: WorklistQuery) -> dict[str, str | list[str]]:
    """The URL parameters for a query; defaults are left out to keep links short."""
    params: dict[str, str | list[str]] = {
        "status": list(query.statuses),
        "clinician": list(query.clinicians),
        "specialty": list(query.specialties),
        "from": query.date_from.isoformat() if query.date_from else "",
        "to": query.date_to.isoformat() if query.date_to else "",
        "q": query.text,
        "sort": "" if query.sort == "newest" else query.sort,
        "page": "" if query.page == 1 else str(query.page),
    }
    return {name: value for name, value in params.items() if value}


def current_query() -> WorklistQuery:
    """The worklist query of this session (the default list if none was made yet)."""
    query = st.session_state.get(QUERY_KEY)
    return query if isinstance(query, WorklistQuery) else WorklistQuery()


def restore_query() -> tuple[WorklistQuery, list[str]]:
    """This session's query, or on its first visit the one in the URL (with its problems)."""
    query = st.session_state.get(QUERY_KEY)
    if isinstance(query, WorklistQuery):
        return query, []
    return query_from_params(url_params())


def remember(query: WorklistQuery) -> None:
    """Keep the query for this session and show it in the URL."""
    st.session_state[QUERY_KEY] = query
    show_in_url(query_to_params(query), PARAMS)


def seed_widgets(
    query: WorklistQuery, clinicians: Sequence[str], specialties: Sequence[str]
) -> None:
    """Give the Worklist filter widgets the query's values where they have none yet (a new
    session, or back from another page); names no longer in the store are dropped."""
    values = {
        "wl_status": list(query.statuses),
        "wl_clinician": [c for c in query.clinicians if c in clinicians],
        "wl_specialty": [s for s in query.specialties if s in specialties],
        "wl_from": query.date_from,
        "wl_to": query.date_to,
        "wl_text": query.text,
        "wl_sort": query.sort,
    }
    for key, value in values.items():
        st.session_state.setdefault(key, value)


def query_from_widgets(page: int) -> tuple[WorklistQuery, str | None]:
    """The query the filter widgets show, at ``page``; a reversed date range is left out
    (with the reason to show)."""
    state = st.session_state
    query = WorklistQuery(
        statuses=tuple(state["wl_status"]),
        clinicians=tuple(state["wl_clinician"]),
        specialties=tuple(state["wl_specialty"]),
        text=state["wl_text"].strip(),
        sort=state["wl_sort"],
        page=page,
    )
    try:
        return replace(query, date_from=state["wl_from"], date_to=state["wl_to"]), None
    except ValueError as exc:
        return query, f"{exc}: showing every date."


def set_page(page: int) -> None:
    """Widget callback: show another page of the current query."""
    st.session_state[QUERY_KEY] = replace(current_query(), page=page)


def open_encounter(encounter_id: str) -> None:
    """Widget callback: make this the encounter the Review page shows."""
    st.session_state[ENCOUNTER_KEY] = encounter_id


def open_next_unsigned(store: db.Store, exclude: str | None = None) -> None:
    """Widget callback: open the oldest unsigned draft under the worklist's filters."""
    found = db.next_unsigned(store, current_query(), exclude=exclude)
    if found is None:
        st.session_state[NOTICE_KEY] = "No unsigned drafts left under these filters."
    else:
        open_encounter(found)
