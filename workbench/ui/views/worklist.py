"""Worklist: encounters filtered, sorted, counted and paged by the store, and the oldest
unsigned draft one click away. The filters live in the URL, so a link shares them."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from workbench import store as db
from workbench.store.access import allowed
from workbench.store.records import STATUSES
from workbench.store.worklist import SORTS
from workbench.ui import resources
from workbench.ui import worklist_state as ws
from workbench.ui.simulated import simulated_badge

REVIEW = "views/review.py"
SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "status": "Status",
    "clinician": "Clinician",
    "duration": "Longest recording",
}
COLOURS = {"signed": "green", "in review": "orange", "drafted": "blue"}

store = resources.session_store()  # acts for the signed-in user
if not allowed(store, "encounter.list"):  # an analyst sees counts, never titles or patients
    st.title("Worklist")
    for col, (status, n) in zip(
        st.columns(len(STATUSES)), db.worklist_status_counts(store).items(), strict=True
    ):
        col.metric(status.capitalize(), n)
    st.stop()
clinicians, specialties = db.worklist_options(store)
saved, problems = ws.restore_query()
for problem in problems:
    st.warning(problem)
ws.seed_widgets(saved, clinicians, specialties)

head, action = st.columns([4, 1], vertical_alignment="bottom")
head.title("Worklist")
if action.button(
    "Open next unsigned",
    key="worklist_next_unsigned",
    type="primary",
    icon=":material/skip_next:",
    on_click=ws.open_next_unsigned,
    args=(store,),
    help="The oldest drafted note not yet signed, under these filters.",
):
    if notice := st.session_state.pop(ws.NOTICE_KEY, None):
        st.info(notice)
    else:
        st.switch_page(REVIEW)

with st.container(border=True):
    row1 = st.columns([2, 2, 2, 1.2, 1.2])
    row1[0].multiselect("Status", STATUSES, key="wl_status")
    row1[1].multiselect("Clinician", clinicians, key="wl_clinician")
    row1[2].multiselect("Specialty", specialties, key="wl_specialty")
    row1[3].date_input("From", value=None, key="wl_from")
    row1[4].date_input("To", value=None, key="wl_to")
    row2 = st.columns([4, 2])
    row2[0].text_input("Search", key="wl_text", placeholder="Title or encounter id")
    row2[1].selectbox("Sort", list(SORTS), format_func=SORT_LABELS.__getitem__, key="wl_sort")

query, problem = ws.query_from_widgets(saved.page)
if problem:
    st.error(problem)
if replace(query, page=1) != replace(saved, page=1):
    query = replace(query, page=1)  # other filters or order: back to the first page
view = db.worklist_view(store, query)
if query.page > view.pages:
    query = replace(query, page=view.pages)
    view = db.worklist_view(store, query)
ws.remember(query)

for col, status in zip(st.columns(len(STATUSES)), STATUSES, strict=True):
    col.metric(status.title(), view.counts[status], help="Under the filters other than status")
    col.caption(f"{view.overall[status]} overall")

if not sum(view.overall.values()):
    st.info("No encounters yet. Run `scribe demo` or `scribe ingest FILE` to add some.")
    st.stop()
if not view.rows:
    st.info("No encounters match these filters.")
    st.stop()

first = (query.page - 1) * query.page_size + 1
st.caption(f"Showing {first} to {first + len(view.rows) - 1} of {view.total}")
for row in view.rows:
    enc = row.encounter
    c1, c2, c3, c4, c5 = st.columns([5, 2, 1.5, 1.5, 1.2], vertical_alignment="center")
    c1.markdown(
        f"**{enc.title}**{simulated_badge(enc)}  \n`{enc.encounter_id}` · "
        f"{enc.specialty or '—'} · {enc.clinician or '—'}"
    )
    c2.markdown(f"{enc.created_at:%Y-%m-%d %H:%M}" if enc.created_at else "—")
    c3.markdown(f"{row.duration_s / 60:.1f} min" if row.duration_s else "no audio")
    colour = COLOURS.get(row.status)
    c4.markdown(f":{colour}[{row.status}]" if colour else row.status)
    if c5.button(
        "Open",
        key=f"open-{enc.encounter_id}",
        disabled=row.note_version is None,
        on_click=ws.open_encounter,
        args=(enc.encounter_id,),
    ):
        st.switch_page(REVIEW)

back, where, forward = st.columns([1, 2, 1], vertical_alignment="center")
back.button(
    "Previous page",
    key="wl_prev_page",
    icon=":material/chevron_left:",
    disabled=query.page <= 1,
    on_click=ws.set_page,
    args=(query.page - 1,),
)
where.caption(f"Page {query.page} of {view.pages}")
forward.button(
    "Next page",
    key="wl_next_page",
    icon=":material/chevron_right:",
    disabled=query.page >= view.pages,
    on_click=ws.set_page,
    args=(query.page + 1,),
)
