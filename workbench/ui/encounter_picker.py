"""The Review page's header bar: which encounter is open, previous/next in the worklist,
"Open next unsigned" and a search by id or title. It never lists every encounter: the
store answers each question for the current worklist query."""

from __future__ import annotations

import streamlit as st

from workbench import store as db
from workbench.ui import resources
from workbench.ui import worklist_state as ws

SEARCH_KEY = "review_find"
SEARCH_LIMIT = 8


def _open_found(encounter_id: str) -> None:
    """Widget callback: open a search result and clear the search."""
    ws.open_encounter(encounter_id)
    st.session_state[SEARCH_KEY] = ""


def _search_results(store: db.Store, text: str) -> None:
    rows, total = db.list_worklist(store, db.WorklistQuery(text=text, page_size=SEARCH_LIMIT))
    if not rows:
        st.caption(f"No encounter matches “{text}”.")
        return
    for row in rows:
        enc = row.encounter
        st.button(
            f"{enc.title} · {enc.encounter_id} · {row.status}",
            key=f"find-{enc.encounter_id}",
            disabled=row.note_version is None,
            on_click=_open_found,
            args=(enc.encounter_id,),
        )
    if total > len(rows):
        st.caption(f"{total - len(rows)} more match; type more of the id or title.")


def pick_encounter(store: db.Store) -> str:
    """The encounter to review (from the session, else the URL), with the header bar to move
    to another; stops the page with a hint when there is none with a draft to show."""
    encounter_id = st.session_state.get(ws.ENCOUNTER_KEY) or st.query_params.get("encounter")
    at = (
        resources.review_position(store, ws.current_query(), encounter_id) if encounter_id else None
    )
    back, where, forward, next_unsigned, search = st.columns(
        [1, 1.6, 1, 1.8, 2.6], vertical_alignment="center"
    )
    previous, following = (at.previous, at.next) if at else (None, None)
    back.button(
        "Previous",
        key="review_prev",
        icon=":material/chevron_left:",
        disabled=previous is None,
        on_click=ws.open_encounter,
        args=(previous,),
        help="The previous encounter in the worklist's order and filters",
    )
    if at and at.position:
        where.caption(f"{at.position} of {at.total} in the worklist")
    elif at and at.row:
        where.caption("Not in the worklist's current filters")
    forward.button(
        "Next",
        key="review_next",
        icon=":material/chevron_right:",
        disabled=following is None,
        on_click=ws.open_encounter,
        args=(following,),
        help="The next encounter in the worklist's order and filters",
    )
    next_unsigned.button(
        "Open next unsigned",
        key="review_next_unsigned",
        icon=":material/skip_next:",
        on_click=ws.open_next_unsigned,
        args=(store, encounter_id),
        help="The oldest drafted note not yet signed, other than this one",
    )
    text = search.text_input(
        "Find encounter",
        key=SEARCH_KEY,
        placeholder="Find by id or title",
        label_visibility="collapsed",
    ).strip()
    if notice := st.session_state.pop(ws.NOTICE_KEY, None):
        st.info(notice)
    if text:
        _search_results(store, text)
    if at is None or at.row is None:
        if encounter_id:
            st.warning(f"There is no encounter `{encounter_id}`.")
        st.info("Open an encounter from the Worklist, or find one by id or title above.")
        st.stop()
    if at.row.note_version is None:
        st.info(f"`{encounter_id}` has no draft note yet ({at.row.status}).")
        st.stop()
    st.session_state[ws.ENCOUNTER_KEY] = encounter_id
    st.query_params["encounter"] = encounter_id
    return encounter_id
