"""A page's state in its URL query: read every parameter, write the wanted ones back (so a
link shares the view). Used by the Worklist and the Analytics filters."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import streamlit as st


def url_params() -> dict[str, list[str]]:
    """The page's URL query parameters, each with all its values."""
    return {name: st.query_params.get_all(name) for name in st.query_params}


def show_in_url(wanted: Mapping[str, str | list[str]], names: Iterable[str]) -> None:
    """Set the ``wanted`` parameters and drop the page's other ``names`` from the URL."""
    for name in names:
        if name in wanted:
            st.query_params[name] = wanted[name]
        elif name in st.query_params:
            del st.query_params[name]
