"""One figure on the Analytics page: title, one-line definition, the plotly chart with its
modebar (its camera button downloads a PNG) and a CSV of the figure's aggregate table."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

HEIGHT = 360


def chart_config(name: str) -> dict:
    """Plotly config: the modebar always shown, its "Download plot as a png" named after the
    figure."""
    return {
        "displayModeBar": True,
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": f"analytics_{name}", "scale": 2},
    }


def layout(figure: go.Figure, x: str, y: str, **extra) -> go.Figure:
    """The house layout: axis titles, a legend on top, tight margins (``extra`` overrides)."""
    settings = {
        "xaxis": {"title": {"text": x}},
        "yaxis": {"title": {"text": y}},
        # Legend above the plot on the left, the modebar above it on the right.
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "margin": {"t": 60, "b": 10},
        "height": HEIGHT,
    }
    figure.update_layout(**{**settings, **extra})
    return figure


def show_figure(
    name: str, title: str, definition: str, data: pd.DataFrame, figure: go.Figure | None
) -> None:
    """The figure's block; an empty aggregate says so instead of drawing an empty chart."""
    st.subheader(title)
    st.caption(definition)
    if data.empty or figure is None:
        st.info("Nothing to show under these filters.", icon=":material/filter_alt_off:")
        return
    st.plotly_chart(figure, key=f"an_chart_{name}", config=chart_config(name))
    st.download_button(
        "CSV",
        data.to_csv(index=False),
        file_name=f"analytics_{name}.csv",
        mime="text/csv",
        key=f"an_csv_{name}",
        icon=":material/download:",
        on_click="ignore",
        help="The table behind this chart",
    )
