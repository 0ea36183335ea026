"""The README's tour runs as a new user would run it: every ```python block of "A short tour", in order, in one
namespace, from the repository root, with the public API only."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tour_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index("## A short tour")
    end = text.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)


def test_the_tour_has_the_steps_of_a_user_session():
    joined = "\n".join(tour_blocks())
    for step in (
        "contracts.load_dataset",
        "contracts.period_spend",
        "attribution.build_paths",
        "attribution.attributed_roi",
        "mmm.fit(data",
        "fitted.response_curves",
        "allocate(curves",
        "mmm.build_model",
    ):
        assert step in joined, step
    # public names only: nothing private, nothing loaded by path
    assert not re.search(r"\._[a-z]|import_module|spec_from_file_location", joined)


@pytest.mark.slow
def test_readme_tour_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "readme_tour"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a preview fit warns that its few draws fail diagnostics: expected
        for number, block in enumerate(tour_blocks(), start=1):
            exec(compile(block, f"README.md tour block {number}", "exec"), namespace)
    # what the session produced is what the tour says it is
    plan, policy, current = namespace["plan"], namespace["policy"], namespace["current"]
    assert plan.spent == pytest.approx(current["spend_period"].sum(), rel=1e-6)
    assert plan.period_weeks == 13 and plan.currency == "EUR"
    roi = namespace["fitted"].roi()
    assert roi.attrs["interval"] == "90% HDI" and len(roi) == 44
    assert namespace["attributed"].table["roi"].median() > 0.3  # on the revenue scale, not the journey sample's
    assert len(policy.fingerprint()) == 64
