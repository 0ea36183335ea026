"""Every notebook in notebooks/ runs top to bottom on the public API (an error in any cell fails the test), and
shows what it says it shows."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _execute(path: Path) -> nbformat.NotebookNode:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return notebook


def _printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(
        out.get("text", "")
        for cell in notebook.cells
        for out in cell.get("outputs", [])
        if out["output_type"] == "stream"
    )


def test_the_walkthroughs_are_there():
    assert [p.name for p in NOTEBOOKS] == [
        "00_simulated_world.ipynb",
        "01_attribution.ipynb",
        "02_media_mix_model.ipynb",
        "03_budget_scenarios.ipynb",
        "04_quarterly_run.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_are_stored_without_outputs_and_open_and_close_in_prose(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "clear the outputs before committing"
    assert notebook.cells[0].cell_type == "markdown"
    if path.name != "00_simulated_world.ipynb":
        # they open with the question and end with what the analyst learned
        assert notebook.cells[-1].cell_type == "markdown"
        # the analyst notebooks check their own key figures: a wrong answer fails, not only an exception
        assert any("assert " in c.source for c in code)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path):
    notebook = _execute(path)
    errors = [out for cell in notebook.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors
    if path.name == "00_simulated_world.ipynb":
        # the counts it prints are the bundled truth's, computed here independently of the notebook's code
        cells = json.loads((ROOT / "data" / "sample" / "truth.json").read_text())["cells"]
        below = sum(c["roi"] < 1.5 for c in cells)
        assert f"{below} of {len(cells)} cells are below ROI 1.5" in _printed(notebook)
        assert "marketing spend is" in _printed(notebook)
