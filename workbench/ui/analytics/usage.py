"""Usage panels: volume over time, time to sign and active review time, adoption."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.ui.analytics.chart import TIME_AXIS, layout, show_figure


def volume(data: pd.DataFrame, simulated: int = 0) -> None:
    """Encounters ingested, first reviewed and first signed per period (each in the period
    it happened)."""
    figure = go.Figure(
        [
            go.Scatter(x=data["period"], y=data[col], name=col, mode="lines+markers")
            for col in ("ingested", "reviewed", "signed")
        ]
    )
    show_figure(
        "volume",
        "Volume over time",
        "Encounters counted in the period each thing happened: ingested; reviewed (their first "
        "review activity: active time on the Review page, a sentence opened or decided, an "
        "entity or transcript correction, a save or the signature); signed (first signature). "
        "Among the encounters ingested within the dates chosen.",
        data,
        layout(
            figure,
            TIME_AXIS,
            "encounters",
            yaxis={"title": {"text": "encounters"}, "rangemode": "tozero"},
        ),
        simulated,
    )


def time_to_sign(data: pd.DataFrame, simulated: int = 0) -> None:
    """Median and p90 hours from ingestion to signature, and active review minutes."""
    figure = go.Figure(
        [
            go.Scatter(x=data["period"], y=data["median_hours_to_sign"], name="median hours"),
            go.Scatter(
                x=data["period"], y=data["p90_hours_to_sign"], name="p90 hours", line_dash="dot"
            ),
            go.Bar(
                x=data["period"],
                y=data["median_active_minutes"],
                name="median active minutes",
                yaxis="y2",
                opacity=0.4,
            ),
        ]
    )
    layout(
        figure,
        TIME_AXIS,
        "hours to sign",
        yaxis={"title": {"text": "hours to sign"}, "rangemode": "tozero"},
        yaxis2={
            "title": {"text": "active minutes"},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
        },
    )
    show_figure(
        "time_to_sign",
        "Time to sign and active review time",
        "Hours from ingestion to signature of the notes signed in each period (median, p90), "
        "and the minutes of active review before signing.",
        data,
        figure,
        simulated,
    )


def adoption(data: pd.DataFrame, simulated: int = 0) -> None:
    """Encounters per clinician, and how many they review and sign."""
    shown = data.sort_values("encounters", ascending=False)
    figure = go.Figure(
        [
            go.Bar(x=shown["clinician"], y=shown["encounters"], name="encounters"),
            go.Scatter(
                x=shown["clinician"],
                y=shown["signed_rate"],
                name="signed rate",
                mode="markers",
                yaxis="y2",
            ),
        ]
    )
    layout(
        figure,
        "clinician",
        "encounters",
        yaxis2={
            "title": {"text": "signed rate"},
            "overlaying": "y",
            "side": "right",
            "range": [0, 1],
        },
    )
    show_figure(
        "adoption",
        "Adoption per clinician",
        "Encounters each clinician recorded, the share they signed (dots) and reviewed, with "
        "their first and last use in the CSV.",
        data,
        figure,
        simulated,
    )
