"""`scribe simulate`: generate simulated usage for demos and scale tests (registered in
workbench.cli). Output is counts and seconds only; the data is marked ``source = 'simulated'``.

Run by the operator (the ``system`` actor, like ``scribe user``), or with ``--as USER`` as
that account, which must be an admin: simulating writes encounters into the store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add `simulate` to the `scribe` command line."""
    app.command("simulate")(simulate_command)


def simulate_command(
    ctx: typer.Context,
    encounters: Annotated[int, typer.Option("--encounters", "-n", help="How many encounters.")],
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same data.")] = 0,
    days: Annotated[int, typer.Option(help="Days, ending yesterday (UTC).")] = 90,
    clinicians: Annotated[int, typer.Option(help="Simulated clinicians.")] = 24,
    data: Annotated[
        Path | None, typer.Option("--data", help="Data directory (default: --data-dir).")
    ] = None,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Act as this account (must be an admin).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Append N simulated encounters (clinicians, specialties, model versions, reviews, edits,
    corrections, signatures) to the store, marked as simulated everywhere they show; then
    refresh the analytics."""
    from workbench import store as st
    from workbench.cli_context import data_dir
    from workbench.simulate import SimulationError, SimulationSpec, simulate
    from workbench.store.access import Forbidden
    from workbench.store.users import get_account

    spec = SimulationSpec(encounters=encounters, seed=seed, days=days, clinicians=clinicians)
    try:
        spec.validated()  # a bad size is refused before the store is even opened
    except SimulationError as exc:
        console.print(f"[red]Nothing simulated[/red]: {exc}")
        raise typer.Exit(2) from None
    try:
        store = st.open_store(data or data_dir(ctx))
    except st.StoreError as exc:
        console.print(f"[red]Cannot open the data[/red]: {exc}")
        raise typer.Exit(1) from None
    if as_user is not None:
        account = get_account(store, as_user)
        if account is None or account.disabled:
            console.print(f"[red]Nothing simulated[/red]: no active account {as_user!r}")
            raise typer.Exit(2)
        store = store.as_actor(account.actor())
    try:
        result = simulate(store, spec)
    except Forbidden as exc:  # the refusal is in the audit log
        console.print(f"[red]Nothing simulated[/red]: {exc}")
        raise typer.Exit(3) from None
    except (SimulationError, st.StoreError) as exc:
        console.print(f"[red]Simulation failed[/red]: {exc}")
        raise typer.Exit(1) from None
    summary = {
        "run": result.run,
        "encounters": result.encounters,
        "seconds": round(result.seconds, 2),
        "rows": result.counts,
    }
    if as_json:
        typer.echo(json.dumps(summary))
        return
    typer.echo(
        f"Simulated run {result.run}: {result.encounters:,} encounters,"
        f" {result.counts.get('events', 0):,} events in {result.seconds:.1f} s"
    )
