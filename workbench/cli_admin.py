"""`scribe key generate`, `scribe rekey`, `scribe backup`, `scribe restore` (registered in
workbench.cli): the operator's commands for encryption at rest and backups.

Keys are never printed unless asked for (``key generate`` without ``--out``) and never
logged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

key_app = typer.Typer(no_args_is_help=True, add_completion=False, help="Make encryption keys.")
console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add `key`, `rekey`, `backup` and `restore` to the `scribe` command line."""
    app.add_typer(key_app, name="key")
    app.command()(rekey)
    app.command()(backup)
    app.command()(restore)


def _data_dir(ctx: typer.Context, explicit: Path | None = None) -> Path:
    """The data directory from this command's or the root command's ``--data-dir``."""
    from workbench import settings

    return settings.data_dir(explicit or ctx.find_root().params.get("data_dir"))


def _current_key() -> bytes | None:
    from workbench.keys import KeyProblem, load_key

    try:
        return load_key()
    except KeyProblem as exc:
        console.print(f"[red]Key problem[/red]: {exc}")
        raise typer.Exit(2) from None


@key_app.callback()
def key_main() -> None:
    """Make encryption keys."""


@key_app.command("generate")
def key_generate(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the key to this new file (mode 600) instead."),
    ] = None,
) -> None:
    """A new random 32-byte key (base64): for SCRIBE_KEY, or a file for SCRIBE_KEY_FILE."""
    from workbench.keys import KeyProblem, encode_key, generate_key, write_key_file

    key = generate_key()
    if out is None:
        typer.echo(encode_key(key))
        return
    try:
        write_key_file(out, key)
    except KeyProblem as exc:
        console.print(f"[red]Not written[/red]: {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"Key written to {out} (mode 600). Keep a copy apart from the backups: "
        "without it the data cannot be read."
    )


def rekey(
    ctx: typer.Context,
    new_key_file: Annotated[
        Path | None, typer.Option("--new-key-file", help="File with the new key.")
    ] = None,
    decrypt: Annotated[
        bool, typer.Option("--decrypt", help="Store the data unencrypted from now on.")
    ] = False,
) -> None:
    """Re-encrypt the database, audio and trained models with a new key (the current key
    comes from SCRIBE_KEY / SCRIBE_KEY_FILE; none set: the data is encrypted for the first
    time)."""
    from workbench.keys import KeyProblem, read_key_file
    from workbench.rekey import RekeyError
    from workbench.rekey import rekey as run_rekey

    if decrypt == (new_key_file is not None):
        console.print("Pass either --new-key-file FILE or --decrypt.")
        raise typer.Exit(2)
    old_key = _current_key()
    if decrypt and old_key is None:
        console.print("The data is not encrypted (no SCRIBE_KEY / SCRIBE_KEY_FILE set).")
        raise typer.Exit(2)
    try:
        new_key = None if decrypt else read_key_file(new_key_file)
    except KeyProblem as exc:
        console.print(f"[red]Key problem[/red]: {exc}")
        raise typer.Exit(2) from None
    data_dir = _data_dir(ctx)
    try:
        result = run_rekey(data_dir, old_key, new_key)
    except RekeyError as exc:
        console.print(f"[red]Nothing changed[/red]: {exc}")
        raise typer.Exit(1) from None
    state = "encrypted with the new key" if result.encrypted else "UNENCRYPTED"
    console.print(
        f"{data_dir}: {result.tables} tables ({result.rows} rows), "
        f"{result.audio_files} audio files and {result.models} trained models are now {state}."
    )
    if result.encrypted:
        console.print(f"Now set SCRIBE_KEY_FILE={new_key_file} (and unset SCRIBE_KEY).")
    else:
        console.print("Now unset SCRIBE_KEY and SCRIBE_KEY_FILE.")


def backup(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The backup file to write (.tar).")],
) -> None:
    """A consistent, checksummed snapshot of the data directory (stays encrypted)."""
    from workbench import store as st
    from workbench.backup import BackupError
    from workbench.backup import backup as run_backup

    try:
        result = run_backup(_data_dir(ctx), out, _current_key())
    except (BackupError, st.StoreError) as exc:
        console.print(f"[red]No backup[/red]: {exc}")
        raise typer.Exit(1) from None
    state = "encrypted" if result.encrypted else "UNENCRYPTED"
    console.print(f"{result.path}: {result.files} files, {result.bytes} bytes, {state}.")


def restore(
    ctx: typer.Context,
    backup_file: Annotated[Path, typer.Argument(help="A file made by `scribe backup`.")],
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Restore into this directory.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a non-empty directory (kept aside).")
    ] = False,
) -> None:
    """Check every checksum of a backup, then restore it into the data directory."""
    from workbench.backup import BackupError
    from workbench.backup import restore as run_restore

    target = _data_dir(ctx, data_dir)
    try:
        result = run_restore(backup_file, target, force=force)
    except BackupError as exc:
        console.print(f"[red]Not restored[/red]: {exc}")
        raise typer.Exit(1) from None
    note = " (encrypted: set the key it was made with)" if result.encrypted else ""
    console.print(f"Restored {result.files} files into {result.path}{note}.")
