"""The draft comparison chart: win rate per version with its 95% interval (plotly)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from workbench.store.pairwise_stats import WinRate


def win_rate_chart(versions: Sequence[WinRate]) -> go.Figure:
    """One bar per version (its win rate, ties half), the Wilson interval as error bars and
    a dotted line at 0.5 (no better than the other drafts)."""
    figure = go.Figure(
        go.Bar(
            x=[r.version for r in versions],
            y=[r.win_rate for r in versions],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [r.high - r.win_rate for r in versions],
                "arrayminus": [r.win_rate - r.low for r in versions],
            },
            text=[f"n={r.n}" for r in versions],
            hovertemplate="%{x}: %{y:.2f}<extra></extra>",
        )
    )
    figure.add_hline(y=0.5, line_dash="dot")
    figure.update_layout(
        yaxis={"range": [0, 1], "title": {"text": "win rate"}},
        xaxis={"title": {"text": "version"}},
        margin={"t": 20},
        height=360,
    )
    return figure
