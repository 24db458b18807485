"""`scribe pairwise`: blind pairwise comparison of draft versions (registered in
workbench.cli). Output names tasks, encounters and versions only, never note text."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

pairwise_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Compare two draft versions blind: make pairwise tasks, show win rates.",
)
console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add `pairwise` to the `scribe` command line."""
    app.add_typer(pairwise_app, name="pairwise")


def _open(ctx: typer.Context):
    """The store, acting as the operator."""
    from workbench import store as st
    from workbench.cli_context import open_store

    try:
        return open_store(ctx)
    except st.StoreError as exc:
        console.print(f"[red]Cannot open the data[/red]: {exc}")
        raise typer.Exit(1) from None


@pairwise_app.command("create")
def create(
    ctx: typer.Context,
    encounters: Annotated[
        list[str],
        typer.Option("--encounters", "-e", help="Encounter ids (repeat, or comma-separated)."),
    ],
    a: Annotated[
        str,
        typer.Option(
            "--a", help="Version A: note, signed, rules, learned, llm or a stored model version."
        ),
    ],
    b: Annotated[str, typer.Option("--b", help="Version B (as --a).")],
    annotator: Annotated[str, typer.Option(help="The annotator (or admin) who judges.")],
    seed: Annotated[
        int | None, typer.Option(help="Seed of the shown order (default: drawn, stored).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Make one blind pairwise task per encounter: versions A and B side by side in a random
    order, for ANNOTATOR. Drafts of rules/learned/llm are re-drafted now; note is the
    stored machine draft, signed the clinician-signed note."""
    from workbench import store as st
    from workbench.pairwise import create_pairwise_tasks

    ids = [part.strip() for item in encounters for part in item.split(",") if part.strip()]
    store = _open(ctx)
    try:
        made = create_pairwise_tasks(store, ids, a, b, annotator, seed)
    except st.StoreError as exc:  # unknown encounter or version, same version twice, ...
        console.print(f"[red]No tasks made[/red]: {exc}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "tasks": [
                        {
                            "task_id": t.task_id,
                            "encounter_id": t.encounter_id,
                            "assignee": t.assignee,
                        }
                        for t in made
                    ]
                }
            )
        )
        return
    for task in made:
        typer.echo(f"{task.task_id}  {task.encounter_id}  -> {task.assignee} ({task.status})")


@pairwise_app.command("stats")
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Win rates per version and per pair (ties count half, 95% Wilson interval) and how
    often the left draft wins."""
    from dataclasses import asdict

    from workbench.store.pairwise_stats import win_rates

    result = win_rates(_open(ctx))
    if as_json:
        typer.echo(json.dumps(asdict(result)))
        return
    if not result.versions:
        typer.echo("No submitted pairwise judgements yet.")
        return
    for rate in result.versions:
        typer.echo(_line(rate.version, rate))
    for rate in result.pairs:
        typer.echo(_line(f"{rate.version} vs {rate.against}", rate))
    if result.position is not None:
        typer.echo(_line("left position", result.position))


def _line(name: str, rate) -> str:
    return (
        f"{name}: {rate.win_rate:.3f} [{rate.low:.3f}, {rate.high:.3f}] n={rate.n}"
        f" ({rate.wins} won, {rate.losses} lost, {rate.ties} tied)"
    )
