"""`scribe extract TEXT`: the medical entities of a text (registered in workbench.cli)."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pipelines.types import Entity

# The keys of every entity in `scribe extract --json`, in this order.
ENTITY_KEYS: tuple[str, ...] = (
    "text",
    "label",
    "start",
    "end",
    "negated",
    "historical",
    "family",
    "hypothetical",
    "uncertain",
    "code",
    "code_system",
    "code_label",
    "attributes",
)
CONTEXT_KEYS: tuple[str, ...] = ("negated", "historical", "family", "hypothetical", "uncertain")

err = Console(stderr=True)


def entity_json(entity: Entity) -> dict[str, Any]:
    """One entity as plain JSON data with exactly :data:`ENTITY_KEYS`."""
    return {key: getattr(entity, key) for key in ENTITY_KEYS}


def entity_table(entities: tuple[Entity, ...]) -> Table:
    """A readable table: text, label, offsets, context, code and attributes."""
    table = Table("text", "label", "span", "context", "code", "attributes")
    for e in entities:
        context = ", ".join(k for k in CONTEXT_KEYS if getattr(e, k)) or "-"
        code = f"{e.code_system} {e.code} ({e.code_label})" if e.code else "-"
        attrs = ", ".join(f"{k}={v}" for k, v in e.attributes.items()) or "-"
        table.add_row(e.text, e.label, f"{e.start}-{e.end}", context, code, attrs)
    return table


def extract(
    text: Annotated[str, typer.Argument(help='The text, or "-" to read it from standard input.')],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of entities.")] = False,
) -> None:
    """Find medical entities with their context and codes in TEXT (nothing is stored).

    Speaker tags split a dialogue into turns: "[doctor] any chest pain? [patient] no".
    """
    from pipelines.nlp import extract_text, load_nlp

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        err.print("[red]Nothing to extract[/red]: the text is empty.")
        raise typer.Exit(2)
    with err.status("Loading the clinical language pipeline…"):
        nlp = load_nlp()
    entities = extract_text(nlp, text)
    if as_json:
        typer.echo(json.dumps([entity_json(e) for e in entities], ensure_ascii=False))
        return
    if not entities:
        typer.echo("No medical entities found.")
        return
    Console().print(entity_table(entities))
