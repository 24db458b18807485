"""The Analytics page's filters: widgets, the URL that shares them, and the ``Filters`` they
make. Like the Worklist, a new session starts from the URL; after that the session's widgets
win (navigating between pages drops the URL parameters) and the URL follows them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import streamlit as st

from workbench.store.analytics import Filters
from workbench.ui.url_query import show_in_url, url_params

FILTERS_KEY = "analytics_filters"
# The URL parameters this page owns.
PARAMS = ("from", "to", "clinician", "specialty", "note_type", "model", "data", "grain")
DATA_CHOICES = {"all": None, "real": False, "simulated": True}
DATA_LABELS = {"all": "Real and simulated", "real": "Real only", "simulated": "Simulated only"}
GRAINS = ("day", "week", "month")


def filters_from_params(params: Mapping[str, Sequence[str]]) -> tuple[Filters, list[str]]:
    """The filters a URL describes (parameter -> its values), and what was ignored in it."""
    problems: list[str] = []

    def one(name: str) -> str:
        return (params.get(name) or [""])[-1].strip()

    def day(name: str) -> date | None:
        text = one(name)
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            problems.append(f"Ignored the date {text!r}: use YYYY-MM-DD.")
            return None

    def many(name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for v in params.get(name, []) if v))

    start, end = day("from"), day("to")
    if start and end and start > end:
        problems.append(f"Ignored the date range: {start} is after {end}.")
        start = end = None
    data = one("data") or "all"
    if data not in DATA_CHOICES:
        problems.append(f"Ignored the data choice {data!r}: use all, real or simulated.")
        data = "all"
    grain = one("grain") or "week"
    if grain not in GRAINS:
        problems.append(f"Ignored the period {grain!r}: use day, week or month.")
        grain = "week"
    found = Filters(
        start=start,
        end=end,
        clinicians=many("clinician"),
        specialties=many("specialty"),
        note_types=many("note_type"),
        model_versions=many("model"),
        simulated=DATA_CHOICES[data],
        grain=grain,
    )
    return found, problems


def filters_to_params(filters: Filters) -> dict[str, str | list[str]]:
    """The URL parameters for the filters; defaults are left out to keep links short."""
    data = next(k for k, v in DATA_CHOICES.items() if v is filters.simulated)
    params: dict[str, str | list[str]] = {
        "from": filters.start.isoformat() if filters.start else "",
        "to": filters.end.isoformat() if filters.end else "",
        "clinician": list(filters.clinicians),
        "specialty": list(filters.specialties),
        "note_type": list(filters.note_types),
        "model": list(filters.model_versions),
        "data": "" if data == "all" else data,
        "grain": "" if filters.grain == "week" else filters.grain,
    }
    return {name: value for name, value in params.items() if value}


def restore() -> tuple[Filters, list[str]]:
    """This session's filters, or on its first visit those in the URL (with its problems)."""
    saved = st.session_state.get(FILTERS_KEY)
    if isinstance(saved, Filters):
        return saved, []
    return filters_from_params(url_params())


def remember(filters: Filters) -> None:
    """Keep the filters for this session and show them in the URL."""
    st.session_state[FILTERS_KEY] = filters
    show_in_url(filters_to_params(filters), PARAMS)


def filter_widgets(saved: Filters, options) -> tuple[Filters, str | None]:
    """The filter widgets, seeded with ``saved`` where they have no value yet (values no
    longer in the store are dropped); returns the filters they show and a problem to show
    (a reversed date range is left out)."""
    choices = {
        "an_clinician": (saved.clinicians, options.clinicians),
        "an_specialty": (saved.specialties, options.specialties),
        "an_note_type": (saved.note_types, options.note_types),
        "an_model": (saved.model_versions, options.model_versions),
    }
    for key, (values, known) in choices.items():
        st.session_state.setdefault(key, [v for v in values if v in known])
    st.session_state.setdefault("an_from", saved.start)
    st.session_state.setdefault("an_to", saved.end)
    data = next(k for k, v in DATA_CHOICES.items() if v is saved.simulated)
    st.session_state.setdefault("an_data", data)
    st.session_state.setdefault("an_grain", saved.grain)

    with st.container(border=True):
        row1 = st.columns([1.2, 1.2, 2, 2])
        row1[0].date_input(
            "From (UTC)", value=None, key="an_from", help="Ingested on or after this UTC day"
        )
        row1[1].date_input(
            "To (UTC)", value=None, key="an_to", help="Ingested on or before this UTC day"
        )
        row1[2].multiselect(
            "Clinician",
            options.clinicians,
            key="an_clinician",
            format_func=lambda user: options.clinician_names.get(user, user),
        )
        row1[3].multiselect("Specialty", options.specialties, key="an_specialty")
        row2 = st.columns([2, 2, 2, 1.2])
        row2[0].multiselect("Note type", options.note_types, key="an_note_type")
        row2[1].multiselect(
            "Model version",
            options.model_versions,
            key="an_model",
            help="The version that drafted the note",
        )
        row2[2].radio(
            "Data",
            list(DATA_CHOICES),
            format_func=DATA_LABELS.__getitem__,
            key="an_data",
            horizontal=True,
        )
        row2[3].selectbox("Period", GRAINS, key="an_grain", help="Of the charts over time")

    state = st.session_state
    start, end, problem = state["an_from"], state["an_to"], None
    if start and end and start > end:
        start = end = None
        problem = f"The start date {state['an_from']} is after the end date: showing every date."
    filters = Filters(
        start=start,
        end=end,
        clinicians=tuple(state["an_clinician"]),
        specialties=tuple(state["an_specialty"]),
        note_types=tuple(state["an_note_type"]),
        model_versions=tuple(state["an_model"]),
        simulated=DATA_CHOICES[state["an_data"]],
        grain=state["an_grain"],
    )
    return filters, problem
