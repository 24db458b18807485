"""`scribe export`: a signed note as plain text or FHIR JSON (`note`), transcripts and notes
for training (`training`), and the training-data formats of ``workbench.export_formats``
(`scribe export FORMAT --out DIR`, one command per format) with `verify DIR` (registered in
workbench.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from typer.core import TyperGroup

from workbench.export_formats import FORMATS


class ExportGroup(TyperGroup):
    """`scribe export` with an error naming the formats for an unknown one."""

    def resolve_command(self, ctx, args: list[str]):
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            ctx.fail(  # a usage error (exit 2), like click's "No such command"
                f"Unknown export format {name!r}; choose one of {', '.join(FORMATS)} "
                "(or: note, training, verify)"
            )
        return super().resolve_command(ctx, args)


export_app = typer.Typer(
    cls=ExportGroup,
    no_args_is_help=True,
    add_completion=False,
    help="Export signed notes (plain text or a FHIR R4 DocumentReference) and training data.",
)
console = Console(stderr=True)


@export_app.callback()
def main() -> None:
    """Export signed notes (plain text or a FHIR R4 DocumentReference) and training data
    (spacy, jsonl, parquet, preference, corrections: each into a folder with a manifest)."""


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
    from workbench import store as st
    from workbench.cli_context import open_as_user
    from workbench.export import export_note

    store, _, user = open_as_user(ctx)
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

    from workbench import store as st
    from workbench.cli_context import open_as_user
    from workbench.export import export_training, training_skipped

    store, _, user = open_as_user(ctx)
    ids = encounter_ids or [e.encounter.encounter_id for e in st.list_encounters(store)]
    try:
        with console.status("exporting"):
            records = export_training(store, ids, user, deid=deid)
    except st.NotFound as exc:
        console.print(f"[red]Not exported[/red]: {exc}")
        raise typer.Exit(1) from None
    out.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    console.print(f"{len(records)} encounters -> {out}" + (" (de-identified)" if deid else ""))
    skipped = training_skipped(store, ids)
    if skipped:
        console.print(
            f"Skipped {len(skipped)} encounter(s) without training-use consent "
            "(see `scribe consent list`)."
        )


def _format_command(name: str):
    """The `scribe export NAME` command of one registered format."""

    def command(
        ctx: typer.Context,
        out: Annotated[
            Path,
            typer.Option("--out", "-o", help="Folder to create (an existing one must be empty)."),
        ],
        since: Annotated[
            str | None,
            typer.Option(
                "--since",
                help="Only encounters created or changed on or after this date (YYYY-MM-DD, "
                "UTC); for corrections, only those made since.",
            ),
        ] = None,
        consented_only: Annotated[
            bool,
            typer.Option(
                "--consented-only/--all-encounters",
                help="Only encounters with training-use consent (default). --all-encounters "
                "also takes those without and is refused unless --deidentified.",
            ),
        ] = True,
        deidentified: Annotated[
            bool,
            typer.Option(
                "--deidentified",
                help="De-identify texts (pipelines.deid, each encounter's known names "
                "everywhere); dates keep only their year.",
            ),
        ] = False,
        force: Annotated[
            bool, typer.Option("--force", help="Replace a non-empty --out folder.")
        ] = False,
    ) -> None:
        _run_export(ctx, name, out, since, consented_only, deidentified, force)

    command.__doc__ = (
        f"Write {FORMATS[name].description} with a manifest.json (counts, schema versions, "
        "sha256 of every file) into --out."
    )
    return command


for _spec in FORMATS.values():
    export_app.command(_spec.name)(_format_command(_spec.name))


def _run_export(
    ctx: typer.Context,
    fmt: str,
    out: Path,
    since: str | None,
    consented_only: bool,
    deidentified: bool,
    force: bool,
) -> None:
    from pipelines.export import ExportError
    from workbench import store as st
    from workbench.cli_context import open_as_user
    from workbench.store.access import Forbidden
    from workbench.training_export import ExportRequest, export_dataset, parse_since

    try:
        request = ExportRequest(fmt, out, parse_since(since), consented_only, deidentified, force)
        store, _, user = open_as_user(ctx)
        with console.status(f"exporting {fmt}"):
            summary = export_dataset(store, request, user)
    except (ExportError, Forbidden, st.StoreError) as exc:
        console.print(f"[red]Not exported[/red]: {exc}")
        raise typer.Exit(1) from None
    counts = summary.manifest["counts"]
    records = "" if counts["records"] is None else f", {counts['records']} records"
    console.print(
        f"{fmt}: {counts['encounters']} encounters{records} -> {summary.out} "
        f"({summary.seconds:.1f} s)" + (" (de-identified)" if deidentified else "")
    )
    for reason, n in counts["skipped"].items():
        console.print(f"  skipped {n} encounter(s): {reason.replace('_', ' ')}")
    if counts["without_consent"]:
        console.print(
            f"  {counts['without_consent']} encounter(s) without training-use consent "
            "included (de-identified)"
        )
    details = summary.manifest.get("details", {})
    if details.get("spans_expanded_to_tokens"):
        console.print(
            f"  {details['spans_expanded_to_tokens']} span(s) widened to token "
            "boundaries (see manifest.json)"
        )
    for reason, n in (details.get("spans_dropped") or {}).items():
        if n:
            console.print(f"  {n} span(s) left out: {reason.replace('_', ' ')}")
    if details.get("events_unknown_kind"):
        console.print(f"  events of unknown kinds (not exported): {details['events_unknown_kind']}")


@export_app.command("verify")
def verify(
    folder: Annotated[Path, typer.Argument(help="An export folder (with manifest.json).")],
) -> None:
    """Check every file of an export against its manifest.json (size and sha256; missing or
    added files); exit 1 when anything differs."""
    from pipelines.export.manifest import verify_export

    problems = verify_export(folder)
    if problems:
        for problem in problems:
            console.print(f"[red]{problem}[/red]")
        raise typer.Exit(1)
    console.print(f"{folder}: every file matches its manifest")
