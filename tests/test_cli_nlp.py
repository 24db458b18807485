"""`scribe extract`: entities of a text as JSON or a table, from an argument or stdin."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from workbench.cli import app
from workbench.cli_nlp import ENTITY_KEYS

runner = CliRunner()
DIALOGUE = "[doctor] any chest pain? [patient] no. I take metformin 500 mg twice a day."


def test_json_has_exactly_the_documented_keys_and_offsets() -> None:
    result = runner.invoke(app, ["extract", DIALOGUE, "--json"])
    assert result.exit_code == 0, result.output
    entities = json.loads(result.stdout)
    assert [tuple(e) for e in entities] == [ENTITY_KEYS] * len(entities)
    assert set(ENTITY_KEYS) == {
        "text",
        "label",
        "start",
        "end",
        "negated",
        "historical",
        "family",
        "hypothetical",
        "code",
        "attributes",
        "uncertain",
        "code_system",
        "code_label",
    }
    by_text = {e["text"]: e for e in entities}
    assert set(by_text) == {"chest pain", "metformin"}
    for e in entities:
        assert DIALOGUE[e["start"] : e["end"]] == e["text"]
    pain, met = by_text["chest pain"], by_text["metformin"]
    assert (pain["label"], pain["negated"], pain["code"]) == ("PROBLEM", True, "R07.9")
    assert (met["label"], met["negated"], met["code_label"]) == ("MEDICATION", False, "Metformin")
    assert met["attributes"]["dose"] == "500 mg"


def test_reads_stdin_for_dash() -> None:
    result = runner.invoke(app, ["extract", "-", "--json"], input="My mom had diabetes.\n")
    assert result.exit_code == 0, result.output
    [diabetes] = json.loads(result.stdout)
    assert (diabetes["text"], diabetes["family"], diabetes["negated"]) == ("diabetes", True, False)


def test_table_without_json() -> None:
    result = runner.invoke(app, ["extract", "No fever but a bad cough."])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    fever = next(line for line in lines if "fever" in line)
    cough = next(line for line in lines if "cough" in line)
    assert "negated" in fever and "negated" not in cough


def test_empty_text_is_refused_with_a_reason() -> None:
    result = runner.invoke(app, ["extract", "-"], input="   \n")
    assert result.exit_code == 2
    assert "text is empty" in result.output


def test_no_entities_is_an_empty_list() -> None:
    result = runner.invoke(app, ["extract", "Hello, nice to meet you.", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == []
