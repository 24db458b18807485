"""`scribe audit verify` and `scribe audit search`: the audit log from the operator's shell
(registered in workbench.cli). The operator acts as ``SYSTEM``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console

audit_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Check and search the append-only audit log.",
)
console = Console(stderr=True)


@audit_app.callback()
def main() -> None:
    """Check and search the append-only audit log."""


def _open(ctx: typer.Context):
    from workbench.cli_context import open_store

    return open_store(ctx)


@audit_app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Recompute the hash chain; exit 1 and name the first bad row if anything was changed,
    deleted or inserted outside the workbench."""
    from workbench.store.audit import verify_chain

    check = verify_chain(_open(ctx))
    if not check.ok:
        console.print(f"[red]Audit log broken[/red] at row {check.broken_at}: {check.reason}")
        raise typer.Exit(1)
    console.print(f"Audit log intact: {check.rows} rows")


def _when(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD[THH:MM])", param_hint=option
        ) from None


@audit_app.command("search")
def search(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user id.")] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Action or prefix, e.g. note or note.signed.")
    ] = None,
    object_id: Annotated[str | None, typer.Option("--object", help="Only this object id.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From (UTC, inclusive).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Until (UTC, exclusive).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option("--offset", min=0)] = 0,
) -> None:
    """Matching rows, newest first, one JSON object per line (ids only, no clinical text)."""
    from workbench.store.audit import search_audit

    rows, total = search_audit(
        _open(ctx),
        user=user,
        action=action,
        object_id=object_id,
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        limit=limit,
        offset=offset,
    )
    for row in rows:
        typer.echo(
            json.dumps(
                {
                    "seq": row.seq,
                    "at": row.at.isoformat(),
                    "user": row.user_id,
                    "role": row.role,
                    "action": row.action,
                    "object_type": row.object_type,
                    "object_id": row.object_id,
                    "outcome": row.outcome,
                    "detail": row.detail,
                }
            )
        )
    console.print(f"{len(rows)} of {total} matching rows")
