"""My vocabulary: terms that help the recogniser hear this clinician's drugs and names."""

from __future__ import annotations

import streamlit as st

from workbench import store as db
from workbench.ui import resources

store = resources.session_store()  # acts for the signed-in user
user = resources.current_user()

st.title("My vocabulary")
st.caption(
    "Drug names, conditions and names you say often. They bias speech recognition for "
    "encounters you record from now on; every change is kept in the audit trail."
)

with st.form("add_term", clear_on_submit=True, border=False):
    col, btn = st.columns([0.8, 0.2], vertical_alignment="bottom")
    term = col.text_input("Add a term", key="vocab_new", placeholder="e.g. apixaban")
    if btn.form_submit_button("Add", type="primary", key="vocab_add") and term.strip():
        try:
            added = db.add_term(store, user, term, user)
        except db.StoreError as exc:
            st.error(str(exc))
        else:
            st.toast(f"Added “{term.strip()}”" if added else "Already in your vocabulary")

terms = db.list_terms(store, user)
if not terms:
    st.info("No terms yet. The built-in medical terminology is always used as well.")
for item in terms:
    col, btn = st.columns([0.8, 0.2], vertical_alignment="center")
    col.markdown(f"`{item}`")
    if btn.button("Remove", key=f"vocab-remove-{item}"):
        db.remove_term(store, user, item, user)
        st.rerun()
