"""`scribe eval ...`: measure the pipeline on evaluation sets (registered in workbench.cli)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

eval_app = typer.Typer(
    no_args_is_help=True, add_completion=False,
    help="Measure ASR and NER quality and speed on evaluation sets (nothing is downloaded).",
)
console = Console(stderr=True)

REPO_ROOT = Path(__file__).resolve().parents[1]
NAMED = {"fareez": "fareez-osce-interviews", "synthetic-aci": "aci-bench"}


def datasets_root() -> Path:
    """``$SCRIBE_DATASETS`` (default ``../shared/datasets``); relative to the repository."""
    from workbench.settings import setting

    return (REPO_ROOT / Path(setting("SCRIBE_DATASETS")).expanduser()).resolve()


@eval_app.callback()
def main() -> None:
    """Measure ASR and NER quality and speed on evaluation sets (nothing is downloaded)."""


@eval_app.command()
def asr(
    dataset: Annotated[str, typer.Option(
        "--dataset", "-d",
        help="fareez, synthetic-aci, or a folder of NAME.<audio> + NAME.txt references.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    limit: Annotated[int | None, typer.Option(
        "--limit", help="At most N recordings (synthetic-aci default: 10).")] = None,
    split: Annotated[str, typer.Option(
        "--split", help="ACI-Bench split for synthetic-aci: train, valid, test1, test2.")
    ] = "test1",
    bias: Annotated[bool, typer.Option(
        "--bias/--no-bias",
        help="Medical vocabulary biasing (hotwords + prompt); experimental, off by default.")
    ] = False,
    terms: Annotated[list[str] | None, typer.Option(
        "--term", help="A custom vocabulary term (repeatable): term repair uses it, and with "
        "--bias it comes first in the prompt.")
    ] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="tiny.en, a CTranslate2 Whisper folder or an installed model package.")
    ] = None,
    beam_size: Annotated[int | None, typer.Option("--beam-size", help="1 = greedy.")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="CPU threads.")] = None,
    compute_type: Annotated[str | None, typer.Option(
        "--compute-type", help="CTranslate2 compute type (int8, float32, ...).")] = None,
    per_item: Annotated[bool, typer.Option("--per-item", help="Add per-recording counts.")
    ] = False,
    repair: Annotated[bool, typer.Option(
        "--repair/--no-repair", help="Repair misheard medical terms after recognition.")
    ] = True,
    prefer: Annotated[list[str] | None, typer.Option(
        "--prefer", help="A preferred spelling (repeatable), e.g. OK: its variants in "
        "annotations/vocab/spelling_variants.tsv are rewritten to it, as a clinician's "
        "vocabulary does.")
    ] = None,
) -> None:
    """Transcribe an evaluation set and print wer, medical_wer, medical_term_recall, rtf
    (and speaker_accuracy for synthetic-aci and folders), scored with medwer's protocol."""
    from pipelines.asr import AsrOptions, load_model
    from pipelines.asr_eval import evaluate, fareez_items, folder_items, synthetic_aci_items
    from pipelines.biasing import bias_options

    options = AsrOptions()
    overrides = {"model": model, "beam_size": beam_size, "cpu_threads": threads,
                 "compute_type": compute_type}
    options = replace(options, **{k: v for k, v in overrides.items() if v is not None})
    if bias:
        options = bias_options(options, tuple(terms or ()))

    speakers = True
    if dataset == "fareez":
        items, speakers = fareez_items(_named(dataset), limit), False
    elif dataset == "synthetic-aci":
        with console.status("synthesising ACI-Bench dialogues (cached after the first run)"):
            items = synthetic_aci_items(_named(dataset), split, 10 if limit is None else limit)
    elif Path(dataset).is_dir():
        items = folder_items(Path(dataset), limit)
    else:
        raise typer.BadParameter(
            f"{dataset!r} is not fareez, synthetic-aci or a folder", param_hint="--dataset")
    if not items:
        raise typer.BadParameter(f"no recordings with references in {dataset}",
                                 param_hint="--dataset")

    asr_model = load_model(options)
    with console.status("transcribing") as status:
        report = evaluate(
            asr_model, items, options, dataset=dataset, speakers=speakers, repair=repair,
            spelling=tuple(prefer or ()), terms=tuple(terms or ()),
            progress=lambda n, total, name: status.update(f"transcribing {n + 1}/{total} {name}"),
        )
    result = report.to_json(per_item=per_item)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for key in ("items", "audio_s", "wer", "medical_wer", "medical_term_recall",
                "speaker_accuracy", "rtf"):
        if key in result:
            typer.echo(f"{key:>20}  {result[key]}")


@eval_app.command()
def ner(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    split: Annotated[str, typer.Option(
        "--split", help="Gold split: dev (rule tuning), test (held out) or all.")] = "all",
    gold_dir: Annotated[Path | None, typer.Option(
        "--gold-dir", help="Folder of gold files (default annotations/gold/ner).")] = None,
) -> None:
    """Run the clinical NLP on the annotated gold dialogues and print precision, recall, f1
    (exact and overlap, per label), negation_accuracy, documents, entities, words_per_second."""
    from pipelines.nlp import load_nlp
    from pipelines.nlp_eval import GoldError, load_gold_dir
    from pipelines.nlp_eval.gold import GOLD_DIR
    from pipelines.nlp_eval.runner import evaluate

    if split not in ("dev", "test", "all"):
        raise typer.BadParameter(f"{split!r} is not dev, test or all", param_hint="--split")
    root = datasets_root()
    if not root.is_dir():
        raise typer.BadParameter(f"{root} not found (set SCRIBE_DATASETS)")
    docs = [d for d in load_gold_dir(gold_dir or GOLD_DIR) if split in ("all", d.split)]
    if not docs:
        raise typer.BadParameter(f"no gold documents for split {split}", param_hint="--split")
    with console.status("loading the clinical NLP"):
        nlp = load_nlp()
    try:
        with console.status("extracting entities") as status:
            report = evaluate(nlp, docs, root, progress=lambda n, total, name: status.update(
                f"extracting entities {n + 1}/{total} {name}"))
    except GoldError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    report = {"split": split, **report}
    if as_json:
        typer.echo(json.dumps(report))
        return
    for key in ("precision", "recall", "f1"):
        typer.echo(f"{key:>18}  exact {report[key]['exact']}  overlap {report[key]['overlap']}")
    for key in ("negation_accuracy", "documents", "entities", "words_per_second"):
        typer.echo(f"{key:>18}  {report[key]}")


def _named(name: str) -> Path:
    path = datasets_root() / NAMED[name]
    if not path.is_dir():
        raise typer.BadParameter(
            f"{path} not found (set SCRIBE_DATASETS to the folder holding {NAMED[name]})",
            param_hint="--dataset")
    return path


@eval_app.command()
def notes(
    data: Annotated[Path | None, typer.Option(
        "--data", help="CSV with encounter_id, dialogue, note (an ACI-Bench split file).")
    ] = None,
    baseline: Annotated[list[str] | None, typer.Option(
        "--baseline", help="NAME=CSV of another system's notes (encounter_id, note); "
        "repeatable.")
    ] = None,
    split: Annotated[str | None, typer.Option(
        "--split", help="test1 or test2: the shipped ACI-Bench split with the paper's GPT-4, "
        "BART+FT_SAMSum (Division), train_UMLS and transcript predictions as baselines.")
    ] = None,
    save_predictions: Annotated[Path | None, typer.Option(
        "--save-predictions", help="Write our notes (encounter_id, note, evidence JSON).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N encounters.")
    ] = None,
    template: Annotated[str, typer.Option(
        "--template", help="Note template id or JSON file for our drafts.")] = "aci_visit",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Draft a note for every encounter and score it beside the baselines: rouge1, rouge2,
    rougeLsum (rouge-score 0.1.2, the ACI-Bench protocol), concept_f1, and unsupported_rate and
    evidence_coverage (the support check, pipelines.verify, same rules for every system);
    prints {"ours": {...}, "baselines": {NAME: {...}}}."""
    from pipelines.drafting import LearnedOptions, TemplateError, load_template
    from pipelines.nlp import load_nlp
    from pipelines.note_eval import (
        NoteDataError,
        aci_split_files,
        evaluate_notes,
        read_examples,
        read_predictions,
    )
    from pipelines.note_eval import (
        save_predictions as write_predictions,
    )

    if (data is None) == (split is None):
        raise typer.BadParameter("give exactly one of --data CSV and --split test1|test2")
    if limit is not None and limit < 1:
        raise typer.BadParameter("--limit must be at least 1", param_hint="--limit")
    try:
        load_template(template)
        files: dict[str, Path] = {}
        if split is not None:
            if split not in ("test1", "test2"):
                raise typer.BadParameter(f"{split!r} is not test1 or test2", param_hint="--split")
            data, files = aci_split_files(datasets_root() / "aci-bench", split)
        for item in baseline or ():
            name, sep, path = item.partition("=")
            if not sep or not name.strip() or not path.strip():
                raise typer.BadParameter(f"{item!r} is not NAME=CSV", param_hint="--baseline")
            files[name.strip()] = Path(path.strip())
        examples = read_examples(data)[:limit]
        predictions = {name: read_predictions(path) for name, path in files.items()}
    except (NoteDataError, TemplateError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    with console.status("loading the clinical NLP"):
        nlp = load_nlp()
    with console.status("drafting") as status:
        report, drafted = evaluate_notes(
            examples, predictions, nlp, LearnedOptions(template=template),
            progress=lambda n, total, what: status.update(f"{n + 1}/{total} {what}"),
        )
    if save_predictions is not None:
        write_predictions(save_predictions, drafted)
    if as_json:
        typer.echo(json.dumps(report))
        return
    keys = ("rouge1", "rouge2", "rougeLsum", "concept_f1", "unsupported_rate",
            "evidence_coverage")
    typer.echo(f"{'system':<28}" + "".join(f"{k:>18}" for k in keys))
    rows = [("ours", report["ours"]), *report["baselines"].items()]
    for name, scores in rows:
        typer.echo(f"{name:<28}" + "".join(f"{scores[k]:>18}" for k in keys))


@eval_app.command()
def deid(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    split: Annotated[list[str] | None, typer.Option(
        "--split", help="ACI-Bench split (repeatable): train, valid, test1, test2; "
        "default all four.")] = None,
    gold: Annotated[Path | None, typer.Option(
        "--gold", help="Hand-labelled PHI spans (default annotations/deid/gold.jsonl).")
    ] = None,
    heldout: Annotated[Path | None, typer.Option(
        "--heldout", help="Held-out hand-labelled PHI spans, never tuned on "
        "(default annotations/deid/gold_heldout.jsonl).")] = None,
) -> None:
    """De-identify the ACI-Bench dialogues and print name_recall (the metadata names found
    without being told them; per split and field; misses as encounter ids only),
    name_recall_known_names (told them), span precision/recall per label on the tuning
    sample (sample) and on the held-out sample (heldout), and speed."""
    from pipelines.deid import find_phi
    from pipelines.deid.evaluate import (
        GOLD_FILE,
        HELDOUT_FILE,
        SPLIT_FILES,
        DeidDataError,
        evaluate_aci,
    )

    splits = split or list(SPLIT_FILES)
    for name in splits:
        if name not in SPLIT_FILES:
            raise typer.BadParameter(
                f"{name!r} is not one of {', '.join(SPLIT_FILES)}", param_hint="--split")
    try:
        with console.status("de-identifying ACI-Bench") as status:
            report = evaluate_aci(_named("synthetic-aci"), splits, find_phi, gold or GOLD_FILE,
                                  progress=status.update, heldout_path=heldout or HELDOUT_FILE)
    except DeidDataError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report))
        return
    recall, known = report["name_recall"], report["name_recall_known_names"]
    typer.echo(f"{'name recall':>24}  {recall['overall']['recall']} "
               f"({recall['overall']['found']}/{recall['overall']['occurrences']})")
    for name, entry in recall["splits"].items():
        typer.echo(f"{name:>24}  {entry['recall']}")
    typer.echo(f"{'with known names':>24}  {known['overall']['recall']}")
    typer.echo(f"{'sample precision':>24}  {report['sample']['precision']}")
    typer.echo(f"{'sample recall':>24}  {report['sample']['recall']}")
    typer.echo(f"{'held-out precision':>24}  {report['heldout']['precision']}")
    typer.echo(f"{'held-out recall':>24}  {report['heldout']['recall']}")
    typer.echo(f"{'words per second':>24}  {report['speed']['words_per_second']}")
