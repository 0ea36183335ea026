"""The app's pages in ``streamlit.testing.v1.AppTest``: each renders without an exception and with its controls; the
planner re-solves on a change and explains infeasible rules; bad uploads show the contract's errors and keep the
previous data; scenarios are saved, compared and promoted in a throwaway run store."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]

PLANNER = "app_pages/budget_planner.py"
SCENARIOS = "app_pages/scenarios_page.py"
PAGES = {
    "app_pages/overview.py": "Overview",
    "app_pages/data_page.py": "Data",
    "app_pages/attribution_page.py": "Attribution",
    "app_pages/media_mix.py": "Media mix",
    PLANNER: "Budget planner",
    SCENARIOS: "Scenarios",
}


def _clean(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _allocation(at) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if {"spend_period", "flag"} <= set(d.value.columns)]
    assert frames, "no allocation table on the page"
    return frames[0]


def _errors(at) -> str:
    return "\n".join(e.value for e in at.error)


# ---------------------------------------------------------------------------------------------------- every page
@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders(open_app, page: str) -> None:
    at = open_app(page)
    _clean(at)
    assert [t.value for t in at.title] == [PAGES[page]]


def test_unexpected_error_is_a_message_not_a_traceback(open_app, monkeypatch: pytest.MonkeyPatch) -> None:
    from app_pages import common

    def broken():
        raise RuntimeError("the posterior folder vanished")

    monkeypatch.setattr(common, "engine", broken)
    at = open_app()
    assert not at.exception
    assert "This page could not be shown" in _errors(at) and "the posterior folder vanished" in _errors(at)
    assert "Traceback" not in _errors(at)


def test_overview_shows_plan_readiness_and_model(open_app, warm) -> None:
    at = open_app()
    _clean(at)
    assert {m.label for m in at.metric} >= {"Expected uplift vs current spend", "Plan's marginal ROI"}
    assert any("90% equal-tailed" in m.value for m in at.markdown), "the uplift's interval is shown"
    facts = at.dataframe[-1].value.set_index("what")["value"]
    assert facts["posterior sha256"] == warm.sha256
    assert "104" in facts["weeks"]


# ---------------------------------------------------------------------------------------------------- data
def _sample_files(*tables: str) -> dict[str, tuple[str, bytes]]:
    return {t: (f"{t}.csv", (ROOT / "data" / "sample" / f"{t}.csv").read_bytes()) for t in tables}


def test_bad_upload_lists_contract_errors_and_loads_nothing() -> None:
    from app_pages.data_page import validate_uploads

    files = _sample_files("kpi", "channels")
    files["spend"] = ("my spend.csv", b"week,region,channel,spend\n2025-01-06,Asia,meta_ads,-5\n2025-01-13,Asia\n")
    result = validate_uploads(files)
    assert result.active is None
    text = "\n".join(result.errors)
    assert "my spend.csv: spend.spend: 1 values are negative; allowed: >= 0" in text
    assert "my spend.csv: spend.channel: 1 values are missing" in text
    assert "/tmp" not in text, "messages name the uploaded file, not the temporary copy"


def test_upload_without_required_tables_names_them() -> None:
    from app_pages.data_page import validate_uploads

    result = validate_uploads(_sample_files("kpi"))
    assert result.active is None
    assert any("spend" in e and "channels" in e for e in result.errors)


def test_good_upload_validates_and_replaces_the_dataset(open_app) -> None:
    from app_pages.data_page import validate_uploads

    result = validate_uploads(_sample_files("spend", "kpi", "channels"))
    assert result.errors == [] and result.active is not None
    assert set(result.active.data.names()) == {"spend", "kpi", "channels"}
    at = open_app("app_pages/data_page.py", {"dataset": result.active})
    assert not at.exception
    assert any("uploaded" in c.value for c in at.caption)


def test_data_page_shows_upload_errors_and_keeps_previous_data(open_app) -> None:
    at = open_app("app_pages/data_page.py", {"upload_errors": ["spend.spend: 1 rows are negative; allowed: >= 0"]})
    assert not at.exception
    assert "spend.spend: 1 rows are negative" in _errors(at)
    assert "previous data stay in use" in _errors(at)
    assert any("bundled sample" in c.value for c in at.caption)
    assert at.radio(key="data_source").value == "Bundled sample"
    at.radio(key="data_source").set_value("Upload tables").run()
    assert not at.exception


# ---------------------------------------------------------------------------------------------------- attribution
def test_attribution_methods_side_by_side(open_app) -> None:
    at = open_app("app_pages/attribution_page.py")
    _clean(at)
    assert at.selectbox(key="attr_order").value == "auto"
    at.number_input(key="attr_n_boot").set_value(10).run()
    at.selectbox(key="attr_order").set_value(2).run()
    _clean(at)
    wide = at.dataframe[-1].value
    assert {"markov", "shapley", "last_touch", "first_touch"} <= set(wide.columns)
    at.selectbox(key="attr_region").set_value("Europe").run()
    _clean(at)


# ---------------------------------------------------------------------------------------------------- media mix
def test_media_mix_roi_curves_and_diagnostics(open_app) -> None:
    at = open_app("app_pages/media_mix.py")
    _clean(at)
    headers = [h.value for h in at.subheader]
    assert "ROI per cell" in headers and "Response curves" in headers and "Model health" in headers
    assert any(h.startswith("Prior-dominated cells") for h in headers)
    diag = [d.value for d in at.dataframe if "metric" in d.value.columns]
    assert diag and "max_rhat" in set(diag[0]["metric"])
    at.selectbox(key="mmm_region").set_value("Other").run()
    _clean(at)
    at.text_input(key="mmm_posterior").input(str(ROOT / "data" / "sample"))
    next(b for b in at.button if b.label == "Load this posterior").click().run()
    assert "is not a saved posterior folder" in _errors(at)
    assert "posterior_path" not in at.session_state, "the posterior in use is kept"


# ---------------------------------------------------------------------------------------------------- planner
def test_planner_budget_change_reallocates(open_app) -> None:
    at = open_app(PLANNER)
    _clean(at)
    before = _allocation(at)
    budget = at.number_input(key="plan_budget").value
    assert before["spend_period"].sum() == pytest.approx(budget, abs=1.0)
    at.number_input(key="plan_budget").set_value(budget * 1.1).run()
    _clean(at)
    after = _allocation(at)
    assert after["spend_period"].sum() == pytest.approx(budget * 1.1, abs=1.0)
    assert any(c.value.startswith("Solved in") for c in at.caption)


def test_planner_share_change_reallocates(open_app) -> None:
    at = open_app(PLANNER)
    at.number_input(key="obj_acquisition").set_value(58.0)
    at.number_input(key="obj_brand").set_value(12.0).run()
    _clean(at)
    table = _allocation(at)
    brand = table.loc[table["objective"] == "brand", "spend_period"].sum() / table["spend_period"].sum()
    assert brand == pytest.approx(0.12, abs=1e-6)


def test_planner_shares_not_summing_to_one_explained(open_app) -> None:
    at = open_app(PLANNER)
    at.number_input(key="obj_brand").set_value(0.0).run()
    assert not at.exception
    assert "objective_shares must sum to 1" in _errors(at)


def test_planner_infeasible_budget_explained(open_app) -> None:
    at = open_app(PLANNER)
    at.number_input(key="plan_budget").set_value(1_000_000.0).run()
    assert not at.exception
    assert "No plan satisfies these rules" in _errors(at)
    assert "1,000,000" in _errors(at) or "1e+06" in _errors(at)


def test_planner_lock_above_budget_explained(open_app) -> None:
    at = open_app(PLANNER)
    key, base = at.session_state["plan_cells_base"]
    cells = base.copy()
    big = int(cells["spend_period_current"].idxmax())
    cells.loc[big, "locked"] = True
    at.switch_page("app_pages/overview.py").run()
    at.session_state["plan_cells_saved"] = (key, cells)
    at.switch_page(PLANNER).run()
    _clean(at)
    assert _allocation(at).loc[lambda t: t["channel"] == cells.loc[big, "channel"]].shape[0] > 0
    at.checkbox(key="plan_limit_change").uncheck().run()
    at.number_input(key="plan_budget").set_value(float(cells.loc[big, "spend_period_current"]) / 2).run()
    assert not at.exception
    assert "No plan satisfies these rules" in _errors(at)
    assert "lock" in _errors(at).lower()


def test_planner_cvar_and_frontier(open_app) -> None:
    at = open_app(PLANNER)
    at.radio(key="plan_risk").set_value("cvar").run()
    _clean(at)
    assert at.number_input(key="plan_lam").value == 0.5
    at.toggle(key="show_frontier").set_value(True).run()
    _clean(at)
    assert any("budget" in d.value.columns and "mroi" in d.value.columns for d in at.dataframe)


def test_report_downloads_built_on_request(open_app) -> None:
    at = open_app(PLANNER)
    labels = [b.label for b in at.get("download_button")]
    assert labels == [], "neither the CSV nor the report is built until asked for"
    at.button(key="build_csv").click().run(timeout=120)
    assert [b.label for b in at.get("download_button")] == ["Allocation (CSV)"]
    at.button(key="build_report").click().run(timeout=180)
    _clean(at)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Allocation (CSV)", "Report (HTML)", "Report (Excel)"]
    assert at.session_state["report"].html.lstrip().lower().startswith("<!doctype html")


# ---------------------------------------------------------------------------------------------------- scenarios
def _save(at, name: str) -> None:
    at.switch_page(SCENARIOS).run()
    at.text_input(key="scenario_name").input(name)
    at.text_area(key="scenario_note").input(f"note on {name}")
    next(b for b in at.button if b.label == "Save scenario").click().run()


@pytest.fixture
def quick_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example config with 20 bootstrap replicates: a promoted run's attribution in seconds, not tens."""
    from app_pages import common
    from planner.config import load_config_text

    text = common.CONFIG_PATH.read_text(encoding="utf-8").replace("n_boot = 200", "n_boot = 20")
    assert "n_boot = 20" in text
    config = load_config_text(text, common.CONFIG_PATH.parent, source=common.CONFIG_PATH)
    monkeypatch.setattr(common, "base_config", lambda: config)


@pytest.mark.slow
def test_scenarios_save_compare_promote(open_app, quick_runs) -> None:
    from planner.store import RunStore

    at = open_app(PLANNER)
    _save(at, "base")
    _clean(at)
    at.switch_page(PLANNER).run()
    budget = at.number_input(key="plan_budget").value
    at.number_input(key="plan_budget").set_value(budget * 1.1).run()
    _save(at, "bigger")
    _clean(at)
    _save(at, "base")
    assert "exists already" in _errors(at)

    at.multiselect(key="compare_names").set_value(["base", "bigger"]).run()
    assert not at.exception
    columns = set().union(*(d.value.columns for d in at.dataframe))
    assert {"base", "bigger", "delta: bigger", "revenue_period_low", "setting"} <= columns

    at.selectbox(key="promote_name").set_value("bigger")
    at.button(key="promote").click().run(timeout=600)
    assert not at.exception
    assert any("runs approve" in s.value for s in at.success)
    listed = RunStore(os.environ["GROWTH_ALLOCATOR_STORE"]).scenarios().set_index("name")
    assert pd.notna(listed.loc["bigger", "promoted_run_id"]) and pd.isna(listed.loc["base", "promoted_run_id"])
    assert listed.loc["bigger", "budget"] == pytest.approx(budget * 1.1, abs=1.0)
