"""`scribe export note ID`: a signed note as plain text or FHIR JSON (registered in
workbench.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

export_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Export signed notes (plain text or a FHIR R4 DocumentReference).",
)
console = Console(stderr=True)


@export_app.callback()
def main() -> None:
    """Export signed notes (plain text or a FHIR R4 DocumentReference)."""


@export_app.command("note")
def note(
    ctx: typer.Context,
    encounter_id: Annotated[str, typer.Argument(help="The encounter whose note to export.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="text (headings, sentences, signature) or fhir (R4 "
            "DocumentReference JSON with the text as its attachment).",
        ),
    ] = "text",
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write to this file instead of standard output."),
    ] = None,
) -> None:
    """Export the newest signed version of an encounter's note; unsigned notes are refused."""
    from pipelines.export import ExportError
    from workbench import settings
    from workbench import store as st
    from workbench.export import export_note

    # The root command's --data-dir, read from the click context (see cli_models._open).
    data_dir = settings.data_dir(ctx.find_root().params.get("data_dir"))
    user = settings.setting("SCRIBE_USER")
    store = st.open_store(data_dir)
    st.ensure_user(store, user, user, "clinician")
    try:
        exported = export_note(store, encounter_id, fmt, user)
    except (ExportError, st.NotFound) as exc:
        console.print(f"[red]Not exported[/red]: {exc}")
        raise typer.Exit(1) from None
    if out is None:
        typer.echo(exported.content.decode("utf-8"), nl=False)
        return
    out.write_bytes(exported.content)
    console.print(
        f"{encounter_id}: note version {exported.version} as {fmt} -> {out} "
        f"({len(exported.content)} bytes)"
    )
