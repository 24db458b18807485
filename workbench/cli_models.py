"""`scribe train ner` and `scribe models`: the learning loop (registered in workbench.cli).

Training output shows counts, epochs and scores only; transcript text never reaches the
terminal or the log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

train_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Train models from the corrections kept in the store.",
)
models_app = typer.Typer(
    invoke_without_command=True,
    add_completion=False,
    help="List trained model versions and choose the active one.",
)
console = Console(stderr=True)


def _open(ctx: typer.Context) -> tuple[Any, Path, str]:
    """(store, data dir, user) from the root command's options."""
    from workbench.cli_context import open_as_user

    return open_as_user(ctx)


def register(app: typer.Typer) -> None:
    """Add `train` and `models` to the `scribe` command line."""
    app.add_typer(train_app, name="train")
    app.add_typer(models_app, name="models")


@train_app.callback()
def train_main() -> None:
    """Train models from the corrections kept in the store."""


@train_app.command("ner")
def train_ner(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="Seed of the held-out split and training.")] = 0,
    holdout: Annotated[
        float, typer.Option(help="Fraction of reviewed encounters held out for evaluation.")
    ] = 0.2,
    epochs: Annotated[int, typer.Option(help="At most this many epochs (stops early).")] = 30,
    activate: Annotated[
        bool, typer.Option("--activate", help="Make the new version active right away.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train a NER model from confirmed and corrected entities, evaluate it on held-out
    encounters and register the version with its metrics."""
    from pipelines.nlp import NotEnoughData, TrainOptions
    from workbench import store as st
    from workbench.jobs import Engine
    from workbench.learning import train_and_register

    if not 0 < holdout < 1 or epochs < 1:
        console.print("[red]--holdout must be between 0 and 1 and --epochs at least 1[/red]")
        raise typer.Exit(2)
    store, data_dir, user = _open(ctx)
    options = TrainOptions(seed=seed, holdout=holdout, max_epochs=epochs)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=as_json) as bar:
        task = bar.add_task("training", total=epochs, info="")

        def on_stage(name: str) -> None:
            bar.update(task, description=name)

        def on_epoch(epoch: int, total: int, loss: float) -> None:
            bar.update(task, completed=epoch, info=f"epoch {epoch}/{total} loss {loss:.2f}")

        try:
            record = train_and_register(
                store,
                data_dir,
                user,
                options,
                Engine().nlp_options(),
                activate=activate,
                on_stage=on_stage,
                on_epoch=on_epoch,
            )
        except NotEnoughData as exc:
            bar.stop()
            console.print(f"[red]Not trained[/red]: {exc}")
            _print_skipped(len(st.training_set(store).skipped_no_consent))
            raise typer.Exit(1) from None
        bar.update(task, completed=epochs, description="done")
    if as_json:
        typer.echo(json.dumps(model_json(record)))
        return
    _print_metrics(record)
    _print_skipped(record.training.get("skipped_no_consent", 0))


def _print_skipped(count: int) -> None:
    """Say how many reviewed encounters training left out, and why."""
    if count:
        console.print(f"Skipped {count} reviewed encounter(s) without training-use consent "
                      "(see `scribe consent list`).")


@train_app.command("drafter")
def train_drafter(
    seed: Annotated[int, typer.Option(help="Random state of the classifiers.")] = 0,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Folder for model.json and phrases.tsv (default annotations/drafting).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Train the default drafter's sentence models and phrase mappings from ACI-Bench train,
    MTS-Dialog and PriMock57 ($SCRIBE_DATASETS); the same data and seed give the same files."""
    from pipelines.drafting.router import ROUTER_PATH
    from pipelines.drafting.training import TrainOptions, train_and_save
    from pipelines.note_eval import NoteDataError
    from workbench.cli_eval import datasets_root

    try:
        with console.status("labelling the training dialogues and fitting the models"):
            summary = train_and_save(
                datasets_root(), TrainOptions(seed=seed), out or ROUTER_PATH.parent
            )
    except NoteDataError as exc:
        console.print(f"[red]Not trained[/red]: {exc} (set SCRIBE_DATASETS)")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(summary, sort_keys=True))
        return
    for name, counts in summary["corpora"].items():
        typer.echo(f"{name:>12}  {counts['encounters']} encounters, {counts['sentences']} "
                   f"sentences, {counts['kept_by_oracle']} kept by the oracle")
    for name, info in summary["files"].items():
        typer.echo(f"{name:>12}  {info['bytes']} bytes  sha256 {info['sha256'][:16]}")
    typer.echo(f"{'model':>12}  {summary['model']}  ({summary['seconds']} s)")


@models_app.callback()
def models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """List trained model versions: id, kind, created, data size, held-out F1, active."""
    if ctx.invoked_subcommand is not None:
        return
    from workbench import store as st

    records = st.list_models(_open(ctx)[0])
    if as_json:
        typer.echo(json.dumps({"models": [model_json(r) for r in records]}))
        return
    if not records:
        typer.echo("No trained models yet: review entities, then run `scribe train ner`.")
        return
    rows = [
        (
            "id",
            "kind",
            "created",
            "encounters",
            "entities",
            "corrections",
            "F1 model",
            "F1 with rules",
            "active",
        )
    ]
    rows += [
        (
            r.model_id,
            r.kind,
            f"{r.created_at:%Y-%m-%d %H:%M}",
            str(r.encounters),
            str(r.entities),
            str(r.corrections),
            _f1(r.metrics, "model"),
            _f1(r.metrics, "combined"),
            "yes" if r.active else "",
        )
        for r in records
    ]
    _echo_table(rows)


@models_app.command("activate")
def activate(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(help="A model id from `scribe models`.")],
) -> None:
    """Make the pipeline use this version together with the rules."""
    from workbench import model_store
    from workbench import store as st

    store, data_dir, user = _open(ctx)
    found = st.get_model(store, model_id)
    if found is not None and not model_store.exists(data_dir, found.path):
        console.print(
            f"[red]Not activated[/red]: the files of {model_id} are missing "
            f"({found.path} in the data directory)"
        )
        raise typer.Exit(1)
    try:
        record = st.activate_model(store, model_id, user)
    except st.NotFound as exc:
        console.print(f"[red]Not activated[/red]: {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"{record.model_id} is now the active {record.kind} model.")


@models_app.command("deactivate")
def deactivate(
    ctx: typer.Context, kind: Annotated[str, typer.Argument(help="Model kind.")] = "ner"
) -> None:
    """Go back to rules only for this kind of model."""
    from workbench import store as st

    store, _, user = _open(ctx)
    try:
        previous = st.deactivate_model(store, kind, user)
    except st.StoreError as exc:
        console.print(f"[red]Not deactivated[/red]: {exc}")
        raise typer.Exit(1) from None
    typer.echo(
        f"{previous.model_id} deactivated: rules only."
        if previous
        else f"No {kind} model was active."
    )


def model_json(record: Any) -> dict[str, Any]:
    """A registry row as plain JSON."""
    return {
        "id": record.model_id,
        "kind": record.kind,
        "created_at": record.created_at.isoformat(),
        "created_by": record.created_by,
        "path": record.path,
        "base_nlp_version": record.base_nlp_version,
        "encounters": record.encounters,
        "entities": record.entities,
        "corrections": record.corrections,
        "active": record.active,
        "f1": record.metrics.get("model", {}).get("exact", {}).get("f1"),
        "metrics": record.metrics,
        "training": record.training,
    }


def _echo_table(rows: list[tuple[str, ...]]) -> None:
    """Plain aligned columns: readable in a terminal, a pipe or a log file alike."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _f1(metrics: dict[str, Any], which: str) -> str:
    value = metrics.get(which, {}).get("exact", {}).get("f1")
    return "-" if value is None else f"{value:.3f}"


def _print_metrics(record: Any) -> None:
    training = record.training
    typer.echo(
        f"Registered {record.model_id}"
        f"{' (active)' if record.active else ''}: {record.encounters} encounters "
        f"({training.get('train_encounters')} train, "
        f"{training.get('heldout_encounters')} held out), {record.entities} entities, "
        f"{record.corrections} corrections, {training.get('epochs')} epochs in "
        f"{training.get('seconds')} s."
    )
    rows = [("held-out", "precision", "recall", "F1", "overlap F1", "entities")]
    scored = [(which, record.metrics.get(which)) for which in ("model", "rules", "combined")]
    scored += [
        (f"  model {label}", m)
        for label, m in record.metrics.get("model", {}).get("per_label", {}).items()
    ]
    for name, m in scored:
        if m:
            e = m["exact"]
            rows.append(
                (
                    name,
                    f"{e['precision']:.3f}",
                    f"{e['recall']:.3f}",
                    f"{e['f1']:.3f}",
                    f"{m['overlap']['f1']:.3f}",
                    str(m["support"]),
                )
            )
    _echo_table(rows)
    if not record.active:
        typer.echo(f"Use it with: scribe models activate {record.model_id}")
