"""`scribe consent` and `scribe retention`: training-use consent per encounter and the
retention policy (registered in workbench.cli)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

consent_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Training-use consent per encounter (exports of training data honour it).",
)
retention_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Retention: delete stored audio and de-identify old text.",
)
console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add the `consent` and `retention` command groups to the root command."""
    app.add_typer(consent_app, name="consent")
    app.add_typer(retention_app, name="retention")


def _open(ctx: typer.Context) -> tuple[Any, Path, str]:
    """(store, data dir, user) from the root command's options."""
    from workbench.cli_context import open_as_user

    return open_as_user(ctx)


@consent_app.command("set")
def consent_set(
    ctx: typer.Context,
    encounter_id: Annotated[str, typer.Argument(help="The encounter.")],
    granted: Annotated[
        bool | None,
        typer.Option("--granted/--withdrawn", help="Consent to training use, or withdraw it."),
    ] = None,
    note: Annotated[str, typer.Option(help="Optional note (e.g. how consent was taken).")] = "",
) -> None:
    """Record that the patient granted or withdrew consent to training use."""
    from workbench import store as st

    if granted is None:
        console.print("Say --granted or --withdrawn.")
        raise typer.Exit(2)
    store, _, user = _open(ctx)
    try:
        state = st.set_consent(store, encounter_id, granted, user, note)
    except st.NotFound as exc:
        console.print(f"[red]Not recorded[/red]: {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"{encounter_id}: training use {state.label} (by {user})")


@consent_app.command("list")
def consent_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Every encounter's current training-use consent."""
    from workbench import store as st

    store, _, _ = _open(ctx)
    for state in st.list_consent(store):
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "encounter_id": state.encounter_id,
                        "granted": state.granted,
                        "recorded_by": state.recorded_by,
                        "recorded_at": state.recorded_at.isoformat() if state.recorded_at else None,
                    }
                )
            )
        else:
            by = (
                f"  {state.recorded_by} {state.recorded_at:%Y-%m-%d %H:%M}"
                if (state.recorded_by and state.recorded_at)
                else ""
            )
            typer.echo(f"{state.encounter_id}  {state.label}{by}")


@retention_app.command("apply")
def retention_apply(
    ctx: typer.Context,
    audio_days: Annotated[
        int, typer.Option("--audio-days", help="Delete stored audio older than this many days.")
    ],
    text_days: Annotated[
        int | None,
        typer.Option(
            "--text-days",
            help="Replace transcripts and notes older than this by their de-identified form.",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Apply the retention policy: audio goes, the text stays (de-identified with --text-days).
    Safe to run again, and to rerun after an interruption."""
    from workbench.retention import RetentionPolicy, apply_retention

    try:
        policy = RetentionPolicy(audio_days, text_days)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    store, data_dir, user = _open(ctx)
    report = apply_retention(store, data_dir, policy, user, dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return
    verb = "would" if dry_run else "did"
    found = report.as_json()
    typer.echo(
        f"Audio: {verb} purge {len(report.audio)} file(s) of "
        f"{len(found['encounters_audio_purged'])} encounter(s), "
        f"{report.bytes_freed / 1e6:.1f} MB"
    )
    for encounter_id in found["encounters_audio_purged"]:
        typer.echo(f"  audio  {encounter_id}")
    if text_days is not None:
        typer.echo(f"Text: {verb} de-identify {len(report.texts)} encounter(s)")
        for encounter_id in report.texts:
            typer.echo(f"  text   {encounter_id}")
