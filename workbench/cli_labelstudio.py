"""`scribe labelstudio push|pull`: the Label Studio round trip (registered in workbench.cli).

Run by the operator, so pushes and imports are recorded as the ``system`` actor; pulled
annotations are attributed to their Label Studio annotators. The API token comes from
``--token`` or the ``SCRIBE_LABELSTUDIO_TOKEN`` setting (so it need not be on the command
line, where the shell history and the process list would keep it). Output is counts and
ids only, never transcript text.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

labelstudio_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Send encounters to a Label Studio project and import its annotations.",
)
console = Console(stderr=True)

Url = Annotated[
    str,
    typer.Option(
        "--url", help="Label Studio base URL: https://..., or http:// on this machine only."
    ),
]
Token = Annotated[
    str | None,
    typer.Option(
        "--token",
        help="API token (legacy or personal access token); default: $SCRIBE_LABELSTUDIO_TOKEN.",
        show_default=False,
    ),
]
Project = Annotated[str, typer.Option("--project", help="Project title in Label Studio.")]


def register(app: typer.Typer) -> None:
    """Add `labelstudio` to the `scribe` command line."""
    app.add_typer(labelstudio_app, name="labelstudio")


@labelstudio_app.callback()
def main() -> None:
    """Send encounters to a Label Studio project and import its annotations."""


@labelstudio_app.command("push")
def push_command(
    ctx: typer.Context,
    url: Url,
    project: Project,
    encounters: Annotated[
        list[str] | None,
        typer.Argument(help="Encounter ids (default: every encounter with a transcript)."),
    ] = None,
    token: Token = None,
    audio_url: Annotated[
        str | None,
        typer.Option(
            "--audio-url",
            help="Audio URL template Label Studio can fetch, {encounter_id} replaced; "
            "without it tasks carry no audio.",
        ),
    ] = None,
) -> None:
    """Create or update the project (labelling config from annotations/) and upload one
    task per encounter with the model's entities as predictions; again: updates, no
    duplicates."""
    from workbench.labelstudio_sync import push

    store = _store(ctx)
    ids = encounters or _transcribed(store)
    if not ids:
        raise _fail("No encounter with a transcript to push")
    result = _run(lambda: push(store, url, _token(token), project, ids, audio_url=audio_url))
    console.print(
        f"Project {result.project!r} (id {result.ls_project_id}) at {result.server}: "
        f"{result.created} tasks created, {result.updated} updated, {result.unchanged} "
        f"unchanged; {result.predictions} predicted entities sent"
    )


@labelstudio_app.command("pull")
def pull_command(ctx: typer.Context, url: Url, project: Project, token: Token = None) -> None:
    """Import the project's completed annotations as submitted tasks of their annotators;
    all or nothing, and each annotation version once (a rerun imports only what is new)."""
    from workbench.labelstudio_sync import pull

    store = _store(ctx)
    result = _run(lambda: pull(store, url, _token(token), project))
    console.print(
        f"Project {result.project!r} (id {result.ls_project_id}) at {result.server}: "
        f"{result.tasks} tasks, {result.annotations} completed annotations, "
        f"{result.imported} imported"
    )


def _store(ctx: typer.Context) -> Any:
    from workbench.cli_context import open_store

    return open_store(ctx)


def _token(given: str | None) -> str:
    from workbench.settings import setting

    return given or setting("SCRIBE_LABELSTUDIO_TOKEN")


def _transcribed(store: Any) -> list[str]:
    from workbench import store as st

    return sorted(
        s.encounter.encounter_id for s in st.list_encounters(store) if s.transcript_version
    )


def _run(action: Any) -> Any:
    from workbench.labelstudio_client import LabelStudioError
    from workbench.store import StoreError

    try:
        return action()
    except (LabelStudioError, StoreError) as exc:
        raise _fail(str(exc)) from None


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(1)
