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
    help="Export signed notes (plain text or a FHIR R4 DocumentReference) and training data.",
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
    deid: Annotated[
        bool,
        typer.Option(
            "--deid",
            help="De-identify: names (the encounter's known ones everywhere), dates, ages "
            "over 89, phone numbers, addresses, record numbers and e-mails become [NAME] ...; "
            "the signature keeps only its year.",
        ),
    ] = False,
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
        exported = export_note(store, encounter_id, fmt, user, deid=deid)
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


@export_app.command("training")
def training(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON Lines file to write.")],
    encounter_ids: Annotated[
        list[str] | None,
        typer.Argument(help="Encounters to export (default: every encounter)."),
    ] = None,
    deid: Annotated[
        bool,
        typer.Option(
            "--deid",
            help="De-identify transcripts and notes (word timings kept); the encounter's "
            "known names are redacted wherever they occur.",
        ),
    ] = False,
) -> None:
    """Export transcripts (segments, words with timings) and newest notes as JSON Lines, one
    encounter a line, for training; encounters without a transcript, or without training-use
    consent (`scribe consent`), are skipped."""
    import json

    from workbench import settings
    from workbench import store as st
    from workbench.export import export_training, training_skipped

    data_dir = settings.data_dir(ctx.find_root().params.get("data_dir"))
    user = settings.setting("SCRIBE_USER")
    store = st.open_store(data_dir)
    st.ensure_user(store, user, user, "clinician")
    ids = encounter_ids or [e.encounter.encounter_id for e in st.list_encounters(store)]
    try:
        with console.status("exporting"):
            records = export_training(store, ids, user, deid=deid)
    except st.NotFound as exc:
        console.print(f"[red]Not exported[/red]: {exc}")
        raise typer.Exit(1) from None
    out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    console.print(
        f"{len(records)} encounters -> {out}" + (" (de-identified)" if deid else "")
    )
    skipped = training_skipped(store, ids)
    if skipped:
        console.print(f"Skipped {len(skipped)} encounter(s) without training-use consent "
                      "(see `scribe consent list`).")
