"""ICD-10-CM code suggestions: under each assessed problem, then the rest of the visit.

Suggestions are machine output until a clinician decides; each decision is stored with a
typed event (``code.accepted`` / ``code.rejected``), for the problem it was made for, and
shown as a human decision. ▶ on a supporting mention plays it and marks it in the transcript.
"""

from __future__ import annotations

import streamlit as st

from pipelines.code_suggestions import CodeSuggestion, suggest_codes
from pipelines.problem_coding import (
    TEXT_SEARCH,
    ProblemCode,
    ProblemSuggestions,
    assessed_problems,
    suggest_problem_codes,
)
from pipelines.types import Draft, Entity, Evidence, Transcript
from workbench import store as db
from workbench.ui import components as ui
from workbench.ui import resources

# session_state key: the supporting mention last clicked, marked in the transcript
CODE_EVIDENCE_KEY = "code_evidence"
MAX_MENTIONS = 4


def decision_badge(decision: db.CodeDecision | None) -> str:
    """Machine suggestion or human decision, always visible."""
    if decision is None:
        return ":blue-badge[:material/smart_toy: suggestion]"
    icon, colour = ("check", "green") if decision.decision == "accepted" else ("close", "red")
    return f":{colour}-badge[:material/{icon}: {decision.decision} by {decision.decided_by}]"


def code_evidence(transcript: Transcript) -> tuple[Evidence, ...]:
    """The supporting mention the reviewer last clicked (empty when none, or when it is not
    in this transcript any more)."""
    found = st.session_state.get(CODE_EVIDENCE_KEY)
    if not found:
        return ()
    ev = Evidence(*found)
    if ev.segment_idx >= len(transcript.segments):
        return ()
    return (ev,) if ev.end_char <= len(transcript.segments[ev.segment_idx].text) else ()


def _show(evidence: Evidence, sentence_id: str) -> None:
    st.session_state["selected_sentence"] = sentence_id
    st.session_state["play_from"] = evidence.start_s
    st.session_state[CODE_EVIDENCE_KEY] = (
        evidence.segment_idx,
        evidence.start_char,
        evidence.end_char,
        evidence.start_s,
        evidence.end_s,
    )


def _evidence(
    suggestion: CodeSuggestion, entities: tuple[Entity, ...], transcript: Transcript
) -> str:
    quotes = []
    for i in suggestion.evidence[:3]:
        ent = entities[i]
        seg = transcript.segments[ent.segment_idx]
        quotes.append(f"“{ent.text}” ({ui.fmt_time(seg.start)}, {seg.speaker})")
    return " · ".join(quotes)


def _row():
    """Text, Accept and Reject columns of one code's row."""
    return st.columns([0.7, 0.15, 0.15], vertical_alignment="center")


def _decide_buttons(columns, prefix: str, suffix: str, decision, decide) -> None:
    """Accept / Reject buttons (keys ``{prefix}-accept-{suffix}``); the current decision's
    button is disabled."""
    for col, verb in zip(columns, ("accepted", "rejected"), strict=True):
        action = verb[:-2]  # accept, reject
        if col.button(
            action.title(),
            key=f"{prefix}-{action}-{suffix}",
            disabled=decision is not None and decision.decision == verb,
        ):
            decide(verb)
            st.rerun()


def _problem_code(
    store: db.Store,
    encounter_id: str,
    n: int,
    rank: int,
    group: ProblemSuggestions,
    code: ProblemCode,
    transcript: Transcript,
    decision: db.CodeDecision | None,
    entity_version: int | None,
    user_id: str,
) -> None:
    """One code under one problem: what, why, the mentions behind it, Accept / Reject."""
    text_col, *buttons = _row()
    lower = (
        " :orange-badge[lower confidence: description search]"
        if code.confidence == TEXT_SEARCH
        else ""
    )
    text_col.markdown(
        f"**{code.code}** {code.description}  \n{decision_badge(decision)}{lower} "
        f"score {code.score:.2f}  \n:small[{code.why}]"
    )
    sentence_id = code.sentence_ids[0] if code.sentence_ids else group.problem.sentence_id
    for j, ev in enumerate(code.evidence[:MAX_MENTIONS]):
        seg = transcript.segments[ev.segment_idx]
        words = seg.text[ev.start_char : ev.end_char]
        text_col.button(
            f"▶ “{words}” {ui.fmt_time(ev.start_s)} · {seg.speaker}",
            key=f"pcode-ev-{n}-{code.code}-{j}",
            help="Play this mention and mark it in the transcript",
            on_click=_show,
            args=(ev, sentence_id),
            type="tertiary",
        )
    problem = db.ProblemRef(group.problem.sentence_id, group.problem.name)
    detail = {"why": code.why, "confidence": code.confidence, "linked_code": code.linked_code}

    def decide(verb: str) -> None:
        fn = db.accept_code if verb == "accepted" else db.reject_code
        fn(
            store,
            encounter_id,
            code.as_suggestion(),
            user_id,
            rank,
            entity_version,
            problem=problem,
            detail=detail,
        )

    _decide_buttons(buttons, "pcode", f"{n}-{code.code}", decision, decide)


def _problem_groups(
    draft: Draft, entities: tuple[Entity, ...], transcript: Transcript
) -> tuple[ProblemSuggestions, ...]:
    if not assessed_problems(draft, entities):
        return ()  # no problem-oriented assessment: the classification need not load
    return suggest_problem_codes(draft, entities, transcript, resources.icd_catalog())


# Cached until the database changes (Store.stamp): a rerun that changed nothing reads nothing.
@st.cache_resource(show_spinner=False, max_entries=32)
def _decisions(
    _store: db.Store, key: tuple, stamp: tuple, encounter_id: str, transcript_version: int
) -> tuple[dict, dict, int | None]:
    """Decisions per (problem, code) and per code, and the entity set version they are for."""
    with _store.connect():  # one open for the three reads
        return (
            db.problem_code_decisions(_store, encounter_id),
            db.current_code_decisions(_store, encounter_id),
            db.entity_set_version(_store, encounter_id, transcript_version),
        )


def code_suggestions_panel(
    store: db.Store,
    encounter_id: str,
    transcript_version: int,
    transcript: Transcript,
    entities: tuple[Entity, ...],
    draft: Draft,
    user_id: str,
) -> None:
    """Codes under each problem of the assessment and plan, then the other coded problems
    of the visit, each with Accept / Reject."""
    groups = _problem_groups(draft, entities, transcript)
    shown = {c for g in groups for code in g.codes for c in (code.code, code.linked_code) if c}
    others = [s for s in suggest_codes(entities, transcript, draft) if s.code not in shown]
    by_problem, decisions, entity_version = _decisions(
        store, resources.cache_key(store), store.content_stamp(), encounter_id, transcript_version
    )
    count = sum(len(g.codes) for g in groups) + len(others)
    with st.expander(f"Code suggestions ({count})", icon=":material/label:"):
        if not count and not groups:
            st.caption("No coded problems were found in this encounter.")
            return
        st.caption(
            ":material/smart_toy: ICD-10-CM codes suggested for each problem of the assessment "
            "and plan, from the transcript words shown (clinician and assessment mentions count "
            "most); nothing is coded until you accept it."
        )
        for n, group in enumerate(groups, 1):
            st.markdown(f"##### {n}. {group.problem.name}")
            if not group.codes:
                st.caption("No ICD-10-CM code found for this problem.")
            for rank, code in enumerate(group.codes, 1):
                decision = by_problem.get((group.problem.sentence_id, code.code))
                _problem_code(
                    store,
                    encounter_id,
                    n,
                    rank,
                    group,
                    code,
                    transcript,
                    decision,
                    entity_version,
                    user_id,
                )
        if others:
            if groups:
                st.markdown("##### Other problems discussed")
            _other_codes(
                store,
                encounter_id,
                others,
                decisions,
                entities,
                transcript,
                entity_version,
                user_id,
            )


def _other_codes(
    store: db.Store,
    encounter_id: str,
    suggestions: list[CodeSuggestion],
    decisions: dict[str, db.CodeDecision],
    entities: tuple[Entity, ...],
    transcript: Transcript,
    entity_version: int | None,
    user_id: str,
) -> None:
    """The encounter-wide ranking of codes no problem above shows."""
    for rank, suggestion in enumerate(suggestions, 1):
        decision = decisions.get(suggestion.code)
        text_col, *buttons = _row()
        text_col.markdown(
            f"**{suggestion.code}** {suggestion.description}  \n"
            f"{decision_badge(decision)} score {suggestion.score:.2f} · "
            f"{suggestion.mentions} mention(s): {_evidence(suggestion, entities, transcript)}"
        )

        def decide(verb: str, suggestion: CodeSuggestion = suggestion, rank: int = rank) -> None:
            fn = db.accept_code if verb == "accepted" else db.reject_code
            fn(store, encounter_id, suggestion, user_id, rank, entity_version)

        _decide_buttons(buttons, "code", suggestion.code, decision, decide)
