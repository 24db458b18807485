"""The `scribe` command line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from workbench import cli_admin, cli_labelstudio, cli_models, cli_users, settings
from workbench import store as st
from workbench.cli_audit import audit_app
from workbench.cli_eval import eval_app
from workbench.cli_export import export_app
from workbench.cli_nlp import extract
from workbench.cli_pairwise import register as register_pairwise
from workbench.cli_privacy import register as register_privacy
from workbench.cli_simulate import register as register_simulate

# No local variables in tracebacks: they would print transcript text.
app = typer.Typer(no_args_is_help=True, add_completion=False, help="Scribe Workbench",
                  pretty_exceptions_show_locals=False)
app.add_typer(eval_app, name="eval")
app.add_typer(export_app, name="export")
app.add_typer(audit_app, name="audit")
cli_models.register(app)
cli_admin.register(app)
cli_users.register(app)
cli_labelstudio.register(app)  # scribe labelstudio push|pull
app.command()(extract)
register_privacy(app)  # scribe consent, scribe retention
register_pairwise(app)  # scribe pairwise create, scribe pairwise stats
register_simulate(app)  # scribe simulate --encounters N --seed S
console = Console(stderr=True)

APP_PATH = Path(__file__).resolve().parent / "ui" / "app.py"
REPO_ROOT = Path(__file__).resolve().parents[1]  # holds .streamlit/config.toml


class State:
    data_dir: Path = settings.data_dir()
    user: str = settings.setting("SCRIBE_USER")


@app.callback()
def main(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory (default $SCRIBE_HOME or ./data)."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log timings.")] = False,
) -> None:
    """Ambient clinical documentation, reviewed by clinicians, kept on this machine."""
    State.data_dir = settings.data_dir(data_dir)
    State.user = settings.setting("SCRIBE_USER")
    # Logs carry ids and timings only, never transcript text.
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _open() -> st.Store:
    try:
        store = st.open_store(State.data_dir)
    except st.StoreError as exc:  # a key problem (wrong key, encrypted or not): say what to do
        console.print(f"[red]Cannot open the data[/red]: {exc}")
        raise typer.Exit(1) from None
    st.ensure_user(store, State.user, State.user, "clinician")
    return store


@app.command()
def ingest(files: Annotated[list[Path], typer.Argument(help="Audio files to add.")]) -> None:
    """Validate audio files and create one encounter each (again: no duplicates)."""
    from pipelines.audio import AudioError
    from workbench.ingest import ingest_file

    store = _open()
    failed = 0
    for path in files:
        try:
            result = ingest_file(store, State.data_dir, path, State.user)
        except AudioError as exc:
            console.print(f"[red]Not ingested[/red]: {exc}")
            failed += 1
            continue
        verb = "created" if result.created else "already present"
        console.print(f"{result.encounter_id}: {verb} ({result.audio.duration_s:.1f} s)")
        for note in result.audio.notes:
            console.print(f"  [yellow]note[/yellow]: {note}")
    if failed:
        raise typer.Exit(1)


@app.command()
def process(
    ids: Annotated[list[str] | None, typer.Argument(help="Encounter ids.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every encounter not yet done.")] = False,
    engine: Annotated[
        str, typer.Option(help="local (this process) or ray (a Ray cluster's workers).")
    ] = "local",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster HOST:PORT (default: start a local one).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Ray workers (default: the cluster's CPUs).", min=1)
    ] = None,
) -> None:
    """Transcribe, find entities and draft notes for encounters."""
    if engine not in ("local", "ray"):
        console.print(f"[red]Unknown engine {engine!r}[/red]: choose local or ray.")
        raise typer.Exit(2)
    if engine == "ray":
        from workbench.batch_ray import RayUnavailable, connect
        from workbench.keys import KeyProblem, load_key

        try:
            encrypted = load_key() is not None
        except KeyProblem:  # opening the store below fails saying what is wrong with the key,
            encrypted = False  # before anything is sent to the cluster
        try:  # before the store is opened: a cluster that does not answer changes nothing
            connect(address, encrypted)
        except RayUnavailable as exc:
            console.print(f"[red]Cannot process on Ray[/red]: {exc}")
            raise typer.Exit(1) from None
    store = _open()
    if all_:
        ids = [s.encounter.encounter_id for s in st.list_encounters(store)]
    if not ids:
        console.print("Name encounter ids or pass --all.")
        raise typer.Exit(2)
    if engine == "ray":
        _process_on_ray(store, ids, workers)
    else:
        _process_ids(store, ids)


def _process_on_ray(store: st.Store, ids: list[str], workers: int | None) -> None:
    from dataclasses import replace

    from workbench.batch_ray import cluster_cpus, run_batch, start_pool, worker_ner
    from workbench.jobs import options_from_settings

    options = replace(options_from_settings(), reproducible_asr=True)  # as the local engine's
    pool = start_pool(options, worker_ner(store), workers or cluster_cpus())
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[step]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        overall = bar.add_task("encounters", total=len(ids), step="")
        tasks = {eid: bar.add_task(eid, total=1.0, step="waiting") for eid in ids}

        def report(eid: str, step: str, fraction: float) -> None:
            bar.update(tasks[eid], completed=fraction, step=step)
            if fraction >= 1.0:
                bar.advance(overall)

        summary = run_batch(store, State.data_dir, ids, State.user, pool, report)
    for eid, reason in summary.skipped.items():
        console.print(f"[yellow]{eid} skipped[/yellow]: {reason}")
    for eid, reason in summary.failed.items():
        console.print(f"[red]{eid} failed[/red]: {reason}")
    console.print(summary.line())
    if summary.failed:
        raise typer.Exit(1)


def _process_ids(store: st.Store, ids: list[str]) -> None:
    from dataclasses import replace

    from workbench.jobs import Engine, options_from_settings, process_encounter

    # Reproducible ASR: a re-run, and Ray's workers, give the same transcripts.
    engine = Engine(replace(options_from_settings(), reproducible_asr=True), store=store)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[step]}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        overall = bar.add_task("encounters", total=len(ids), step="")
        for encounter_id in ids:
            task = bar.add_task(encounter_id, total=1.0, step="starting")

            def report(step: str, fraction: float, task=task) -> None:
                bar.update(task, completed=fraction, step=step)

            try:
                result = process_encounter(store, State.data_dir, engine, encounter_id,
                                           State.user, progress=report)
            except st.NotFound as exc:  # e.g. audio purged before it was transcribed
                console.print(f"[yellow]{encounter_id} skipped[/yellow]: {exc}")
                bar.advance(overall)
                continue
            bar.update(task, completed=1.0, step=",".join(result.steps_run) or "up to date")
            bar.advance(overall)


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(help="An audio file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Segments as one JSON object.")] = False,
) -> None:
    """Transcribe one file with speaker turns, without storing anything."""
    import tempfile

    from pipelines.audio import AudioError, probe_audio
    from workbench.jobs import Engine, recognise

    try:
        probe_audio(file)
    except AudioError as exc:
        console.print(f"[red]Cannot transcribe[/red]: {exc}")
        raise typer.Exit(1) from None
    with tempfile.TemporaryDirectory(prefix="scribe-transcribe-") as scratch:
        result = recognise(Engine(), file, Path(scratch))
    if as_json:
        typer.echo(json.dumps(transcript_json(result)))
        return
    for seg in result.segments:
        typer.echo(f"[{seg.start:7.2f}-{seg.end:7.2f}] {seg.speaker:>9}: {seg.text}")


def transcript_json(transcript) -> dict:
    """The transcript as plain JSON: segments with speaker, text and word probabilities."""
    return {
        "model": transcript.model,
        "duration_s": transcript.duration_s,
        "segments": [
            {
                "start": s.start, "end": s.end, "speaker": s.speaker, "text": s.text,
                "words": [{"start": w.start, "end": w.end, "word": w.text.strip(),
                           "probability": w.probability} for w in s.words],
            }
            for s in transcript.segments
        ],
    }


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False):
    """Counts of encounters at each step and of events, and whether data is encrypted."""
    store = _open()
    counts = st.status_counts(store)
    if as_json:
        typer.echo(json.dumps({**counts, "encrypted": store.encrypted}))
    else:
        for key, value in counts.items():
            typer.echo(f"{key:>14}: {value}")
        typer.echo(f"{'encrypted':>14}: {'yes' if store.encrypted else 'no'}")
        if not store.encrypted:
            from workbench.keys import UNENCRYPTED_WARNING

            console.print(f"[yellow]{UNENCRYPTED_WARNING}[/yellow]")


@app.command()
def demo(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build only, do not serve.")] = False,
    port: Annotated[int, typer.Option(help="Port for the workbench.")] = 8501,
    simulate: Annotated[
        int, typer.Option(help="Also add this many simulated encounters (once), for Analytics.")
    ] = 0,
) -> None:
    """Create the database, ingest and process the demo encounters, then serve the app."""
    from workbench.demo import (
        demo_encounters,
        ensure_demo_accounts,
        ensure_demo_simulation,
        ensure_demo_tasks,
    )
    from workbench.ingest import ingest_file
    from workbench.store.access import SYSTEM

    store = _open()
    created = ensure_demo_accounts(store, SYSTEM.user_id)
    if created:
        console.print(f"Demo accounts (password `demo`): {', '.join(created)}")
    encounters = demo_encounters()
    if not encounters:
        console.print("[red]No demo encounters found in demo/encounters[/red]")
        raise typer.Exit(1)
    ids = []
    for item in encounters:
        result = ingest_file(store, State.data_dir, item.audio, State.user, item.meta)
        ids.append(result.encounter_id)
    _process_ids(store, ids)
    if tasks := ensure_demo_tasks(store, encounters):
        console.print(f"Annotation tasks for `annotator` and `annotator2` (lead `lead`): {tasks}")
    if simulated := ensure_demo_simulation(store, simulate):
        console.print(f"Simulated encounters for the Analytics page (`analyst`): {simulated:,}")
    console.print(json.dumps(st.status_counts(store)))
    if not no_serve:
        serve(port=port)


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port (loopback only).")] = 8501,
    address: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
) -> None:
    """Serve the workbench at http://localhost:PORT."""
    if not _open().encrypted:
        from workbench.keys import UNENCRYPTED_WARNING

        console.print(f"[yellow]{UNENCRYPTED_WARNING}[/yellow]")
    env = dict(os.environ, SCRIBE_HOME=str(State.data_dir), SCRIBE_USER=State.user)
    console.print(f"Scribe Workbench on http://localhost:{port}  (Ctrl+C stops it)")
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP_PATH),
           "--server.port", str(port), "--server.address", address,
           "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    raise typer.Exit(subprocess.call(cmd, env=env, cwd=REPO_ROOT))


if __name__ == "__main__":
    app()
