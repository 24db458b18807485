"""Draft-quality panels: edit burden per section, sentence outcomes by support label, entity
corrections, model-version comparison."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from workbench.ui.analytics.chart import layout, show_figure

OUTCOME_COLOURS = {"accepted": "#2e7d32", "edited": "#f9a825", "rejected": "#c62828"}


def edit_burden(data: pd.DataFrame, simulated: int = 0) -> None:
    """Mean and median normalised edit distance per section, and the accept-as-is rate."""
    shown = data.sort_values("mean_ned", ascending=False)
    figure = go.Figure(
        [
            go.Bar(x=shown["section"], y=shown["mean_ned"], name="mean ned"),
            go.Bar(x=shown["section"], y=shown["median_ned"], name="median ned"),
            go.Scatter(
                x=shown["section"],
                y=shown["accept_as_is_rate"],
                name="accepted as is",
                mode="markers",
                marker={"size": 11, "symbol": "diamond"},
            ),
        ]
    )
    layout(figure, "section", "share (0 to 1)", yaxis_range=[0, 1], barmode="group")
    show_figure(
        "edit_burden",
        "Edit burden per section",
        "Normalised edit distance (Levenshtein / longer length, 0 = unchanged) from the "
        "machine draft of each section to the signed text; diamonds: share of sections "
        "signed exactly as drafted.",
        data,
        figure,
        simulated,
    )


def sentence_outcomes(data: pd.DataFrame, simulated: int = 0) -> None:
    """Stacked shares of accepted, edited and rejected sentences per support label."""
    figure = go.Figure(
        [
            go.Bar(
                x=data["support_label"],
                y=data[f"{outcome}_rate"],
                name=outcome,
                marker_color=colour,
                customdata=data[outcome],
                hovertemplate="%{x}: %{y:.0%} (%{customdata})<extra>" + outcome + "</extra>",
            )
            for outcome, colour in OUTCOME_COLOURS.items()
        ]
    )
    layout(
        figure, "support label (checker)", "share of sentences", barmode="stack", yaxis_range=[0, 1]
    )
    show_figure(
        "sentence_outcomes",
        "Sentence outcomes by support label",
        "What clinicians did with drafted sentences, by the support checker's label: if the "
        "checker predicts edits, unsupported sentences are edited or rejected more often.",
        data,
        figure,
        simulated,
    )


def entity_confusion(data: pd.DataFrame, simulated: int = 0) -> None:
    """Heatmap of the model's entity label against the label after correction."""
    table = data.pivot_table(
        index="model_label", columns="final_label", values="n", aggfunc="sum", fill_value=0
    )
    figure = (
        go.Figure(
            go.Heatmap(
                z=table.to_numpy(),
                x=list(table.columns),
                y=list(table.index),
                colorscale="Blues",
                text=table.to_numpy(),
                texttemplate="%{text}",
                hovertemplate="model %{y} → final %{x}: %{z}<extra></extra>",
            )
        )
        if not data.empty
        else None
    )
    if figure is not None:
        layout(figure, "final label (after review)", "model label")
    show_figure(
        "entity_confusion",
        "Entity corrections",
        'Entities by the label the model gave and the label after review; "(none)" is an '
        "entity a reviewer added (model side) or removed (final side).",
        data,
        figure,
        simulated,
    )


def model_versions(data: pd.DataFrame, simulated: int = 0) -> None:
    """Edit burden, accept-as-is and reject rates per drafter version."""
    figure = go.Figure(
        [
            go.Bar(x=data["drafter_version"], y=data[col], name=label)
            for col, label in (
                ("mean_ned", "mean ned"),
                ("accept_as_is_rate", "accepted as is"),
                ("rejected_rate", "sentences rejected"),
                ("wer", "ASR WER"),
            )
        ]
    )
    layout(figure, "drafter version", "share (0 to 1)", barmode="group")
    show_figure(
        "model_versions",
        "Model-version comparison",
        "Per version that drafted the note: edit burden, share of notes accepted as is, share "
        "of sentences rejected and the ASR word error (hours to sign in the CSV).",
        data,
        figure,
        simulated,
    )
