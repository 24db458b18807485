"""The example notebooks in notebooks/ run top to bottom (nbclient, our venv's python3
kernel), so they cannot rot: every cell runs without an error and the charts are drawn."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO

NOTEBOOKS = REPO / "notebooks"
PLOTLY = "application/vnd.plotly.v1+json"
pytestmark = pytest.mark.slow


def run_notebook(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Execute the notebook in a kernel started in the repository (so it imports this
    checkout); plotly draws as its JSON mimetype (no browser, no network)."""
    monkeypatch.setenv("PLOTLY_RENDERER", "plotly_mimetype")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's store goes to tmp_path
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(REPO)}},
    )
    client.execute()
    return notebook


def test_edit_burden_notebook_runs_and_draws_its_charts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    notebook = run_notebook(NOTEBOOKS / "edit_burden.ipynb", monkeypatch, tmp_path)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    charts = [o for o in outputs if PLOTLY in o.get("data", {})]
    assert len(charts) == 4
    titles = [o["data"][PLOTLY]["layout"]["title"]["text"] for o in charts]
    assert titles[:2] == ["Edit burden per section", "Edit burden per drafter version"]
    # The drill's table names the section with the highest mean ned.
    burden_table = code[1].outputs[-1]["data"]["text/plain"]
    assert "mean_ned" in burden_table
    assert list(tmp_path.iterdir()), "the notebook built its store under TMPDIR"
