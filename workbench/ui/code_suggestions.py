"""ICD-10-CM code suggestions for the assessment: accept or reject each, with its evidence.

Suggestions are machine output until a clinician decides; each decision is stored with a
typed event (``code.accepted`` / ``code.rejected``) and shown as a human decision.
"""

from __future__ import annotations

import streamlit as st

from pipelines.code_suggestions import CodeSuggestion, suggest_codes
from pipelines.types import Draft, Entity, Transcript
from workbench import store as db
from workbench.ui import components as ui


def decision_badge(decision: db.CodeDecision | None) -> str:
    """Machine suggestion or human decision, always visible."""
    if decision is None:
        return ":blue-badge[:material/smart_toy: suggestion]"
    icon, colour = ("check", "green") if decision.decision == "accepted" else ("close", "red")
    return f":{colour}-badge[:material/{icon}: {decision.decision} by {decision.decided_by}]"


def _evidence(
    suggestion: CodeSuggestion, entities: tuple[Entity, ...], transcript: Transcript
) -> str:
    quotes = []
    for i in suggestion.evidence[:3]:
        ent = entities[i]
        seg = transcript.segments[ent.segment_idx]
        quotes.append(f"“{ent.text}” ({ui.fmt_time(seg.start)}, {seg.speaker})")
    return " · ".join(quotes)


def code_suggestions_panel(
    store: db.Store,
    encounter_id: str,
    transcript_version: int,
    transcript: Transcript,
    entities: tuple[Entity, ...],
    draft: Draft,
    user_id: str,
) -> None:
    """An expander listing ranked code suggestions with Accept / Reject buttons."""
    suggestions = suggest_codes(entities, transcript, draft)
    decisions = db.current_code_decisions(store, encounter_id)
    entity_version = db.entity_set_version(store, encounter_id, transcript_version)
    with st.expander(f"Code suggestions ({len(suggestions)})", icon=":material/label:"):
        if not suggestions:
            st.caption("No coded problems were found in this encounter.")
            return
        st.caption(
            ":material/smart_toy: ICD-10-CM codes suggested from the problems discussed "
            "(clinician and assessment mentions count most); nothing is coded until "
            "you accept it."
        )
        for rank, suggestion in enumerate(suggestions, 1):
            decision = decisions.get(suggestion.code)
            text_col, accept_col, reject_col = st.columns(
                [0.7, 0.15, 0.15], vertical_alignment="center"
            )
            text_col.markdown(
                f"**{suggestion.code}** {suggestion.description}  \n"
                f"{decision_badge(decision)} score {suggestion.score:.2f} · "
                f"{suggestion.mentions} mention(s): {_evidence(suggestion, entities, transcript)}"
            )
            for col, verb, fn in (
                (accept_col, "accepted", db.accept_code),
                (reject_col, "rejected", db.reject_code),
            ):
                label = "Accept" if verb == "accepted" else "Reject"
                if col.button(
                    label,
                    key=f"code-{verb[:-2]}-{suggestion.code}",
                    disabled=decision is not None and decision.decision == verb,
                ):
                    fn(store, encounter_id, suggestion, user_id, rank, entity_version)
                    st.rerun()
