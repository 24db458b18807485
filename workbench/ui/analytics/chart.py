"""One figure on the Analytics page: title, one-line definition, the plotly chart with its
modebar (its camera button downloads a PNG) and a CSV of the figure's aggregate table."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

HEIGHT = 360
# The title of a time axis: periods are cut from UTC timestamps (the store keeps UTC).
TIME_AXIS = "period (UTC)"


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


def simulated_note(simulated: int) -> str:
    """The words that mark a chart or table whose selection includes simulated encounters."""
    return f"(includes {simulated:,} simulated encounters)"


def mark_simulated(figure: go.Figure, title: str, simulated: int) -> go.Figure:
    """Put the title and the simulated note in the chart itself, so its PNG (the modebar's
    camera) carries them; the page's banner does not travel with a downloaded image."""
    figure.update_layout(
        title={
            "text": f"{title} {simulated_note(simulated)}",
            "x": 0,
            "xanchor": "left",
            "font": {"size": 13},
        },
        # Room for the title above the legend (which sits just above the plot).
        margin={"t": 95},
    )
    return figure


def csv_table(data: pd.DataFrame, simulated: int) -> pd.DataFrame:
    """The figure's table as downloaded: with simulated encounters in the selection, a
    ``simulated_in_selection`` column holds their count on every row (a plain column, so the
    CSV stays a table any reader parses). A copy: the cached frame is shared."""
    return data.assign(simulated_in_selection=simulated) if simulated else data


def show_figure(
    name: str,
    title: str,
    definition: str,
    data: pd.DataFrame,
    figure: go.Figure | None,
    simulated: int = 0,
) -> None:
    """The figure's block; an empty aggregate says so instead of drawing an empty chart.
    ``simulated``: how many simulated encounters the selection holds (marks the chart's
    title and its CSV when above 0)."""
    st.subheader(title)
    st.caption(definition)
    if data.empty or figure is None:
        st.info("Nothing to show under these filters.", icon=":material/filter_alt_off:")
        return
    if simulated:
        mark_simulated(figure, title, simulated)
    st.plotly_chart(figure, key=f"an_chart_{name}", config=chart_config(name))
    st.download_button(
        "CSV",
        csv_table(data, simulated).to_csv(index=False),
        file_name=f"analytics_{name}.csv",
        mime="text/csv",
        key=f"an_csv_{name}",
        icon=":material/download:",
        on_click="ignore",
        help="The table behind this chart",
    )
