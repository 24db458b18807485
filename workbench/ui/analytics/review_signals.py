"""Review-signal panels: ASR word error by clinician and specialty, and rubber-stamp
signals (fast signatures, flagged sentences accepted unopened)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.ui.analytics.chart import TIME_AXIS, layout, show_figure


def asr_wer(data: pd.DataFrame, simulated: int = 0) -> None:
    """Estimated word error rate per clinician, one bar colour per specialty."""
    figure = go.Figure(
        [
            go.Bar(
                x=part["clinician"],
                y=part["wer"],
                name=str(specialty),
                customdata=part["encounters"],
                hovertemplate="%{x}: %{y:.1%} over %{customdata} encounters<extra></extra>",
            )
            for specialty, part in data.groupby("specialty", sort=True)
        ]
    )
    layout(figure, "clinician", "word error rate", barmode="group")
    show_figure(
        "asr_wer",
        "ASR word error by clinician and specialty",
        "Estimated from transcript corrections: words changed by reviewers (word-level edit "
        "distance) over the transcript's words. Uncorrected errors are not counted.",
        data,
        figure,
        simulated,
    )


def rubber_stamp(data: pd.DataFrame, reading_wpm: int, simulated: int = 0) -> None:
    """Fast-signature and unopened-flagged rates over time, and per clinician."""
    over_time = data.groupby("period", as_index=False)[
        ["signatures", "fast_signatures", "flagged_accepted", "flagged_unopened_accepted"]
    ].sum()
    per_clinician = data.groupby("clinician", as_index=False)[
        ["signatures", "fast_signatures", "flagged_accepted", "flagged_unopened_accepted"]
    ].sum()
    figure = go.Figure()
    for frame, axis in ((over_time, "x"), (per_clinician, "x2")):
        x = frame["period"] if axis == "x" else frame["clinician"]
        fast = frame["fast_signatures"] / frame["signatures"].where(frame["signatures"] > 0)
        unopened = frame["flagged_unopened_accepted"] / frame["flagged_accepted"].where(
            frame["flagged_accepted"] > 0
        )
        first = axis == "x"
        figure.add_bar(
            x=x,
            y=fast,
            name="fast signatures",
            xaxis=axis,
            marker_color="#6a1b9a",
            showlegend=first,
            legendgroup="fast",
        )
        figure.add_bar(
            x=x,
            y=unopened,
            name="flagged accepted unopened",
            xaxis=axis,
            marker_color="#ef6c00",
            showlegend=first,
            legendgroup="unopened",
        )
    layout(
        figure,
        TIME_AXIS,
        "share",
        barmode="group",
        xaxis={"domain": [0, 0.55], "title": {"text": TIME_AXIS}},
        xaxis2={"domain": [0.62, 1], "title": {"text": "clinician"}},
        yaxis_range=[0, 1],
    )
    show_figure(
        "rubber_stamp",
        "Rubber-stamp signals",
        f"Fast: signed after less active review than reading the note at {reading_wpm} words "
        "per minute takes. Unopened: sentences the checker flagged, accepted without being "
        "opened. Left over time, right per clinician.",
        data,
        figure,
        simulated,
    )
