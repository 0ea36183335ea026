"""``runs list | show | compare | approve`` through their handlers, on a SQLite store."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from rich.console import Console

from planner.runs_cli import DEFAULT_STORE, add_runs_parser
from planner.store import RunStore

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _plan(scale: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["EU", "EU", "US"],
            "channel": ["search", "tv", "search"],
            "objective": ["profit", "profit", "growth"],
            "spend_period": [100.0 * scale, 200.0, 300.0],
            "revenue_period": [300.0 * scale, 500.0, 900.0],
            "flag": [False, True, False],
            "flag_reason": [None, "tv capped at 30%", None],
        }
    )


def _add_run(store: RunStore, run_id: str, hours: int, scale: float, roi_hurdle: float) -> None:
    store.start_run(
        run_id,
        config={"policy": {"budget": 600, "roi_hurdle": roi_hurdle}},
        config_toml=f"[policy]\nroi_hurdle = {roi_hurdle}\n",
        input_hashes={"spend": "1" * 64, "revenue": str(hours) * 64},
        versions={"pymc": "5.28.5"},
        package_version="0.1.0",
        git_commit="07c9bad0123456789",
        seeds={"fit": 1},
        run_dir=f"runs/{run_id}",
        started_at=T0 + timedelta(hours=hours),
    )
    allocation = _plan(scale)
    revenue = float(allocation["revenue_period"].sum())
    store.complete_run(
        run_id,
        allocation=allocation,
        headline={
            "budget": float(allocation["spend_period"].sum()),
            "revenue_period": revenue,
            "revenue_period_low": revenue - 100,
            "revenue_period_high": revenue + 100,
        },
        solver={"status": "optimal", "name": "HiGHS", "optimality_gap": 0.0},
        gate={"passed": True, "failures": [], "checks": []},
        forced=False,
        force_reasons=[],
        posterior_hash="f" * 64,
        posterior_path=f"runs/{run_id}/posterior.nc",
        finished_at=T0 + timedelta(hours=hours, minutes=5),
    )


@pytest.fixture
def store_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    with RunStore(url) as store:
        _add_run(store, "2026Q1-first", 0, 1.0, 1.2)
        _add_run(store, "2026Q1-second", 1, 2.0, 1.5)
        store.start_run(
            "2026Q1-broken",
            config={},
            config_toml="",
            input_hashes={},
            versions={},
            package_version="0.1.0",
            git_commit=None,
            seeds={},
            run_dir=None,
            started_at=T0 + timedelta(hours=2),
        )
        store.fail_run("2026Q1-broken", status="failed", error="ValueError: spend has negative rows")
    return url


def run_cli(*argv: str) -> tuple[int, str]:
    """Parse ``argv`` as the real CLI would and call the handler; returns the exit code and what it printed."""
    parser = argparse.ArgumentParser(prog="growth-allocator")
    add_runs_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    console = Console(record=True, width=200, color_system=None)
    with console.capture() as captured:
        code = args.handler(args, console)
    return code, captured.get()


def test_default_store_is_the_runs_folder() -> None:
    parser = argparse.ArgumentParser()
    add_runs_parser(parser.add_subparsers(dest="command"))
    assert parser.parse_args(["runs", "list"]).store == DEFAULT_STORE == "sqlite:///runs/runs.db"


def test_list_shows_runs_newest_first(store_url: str) -> None:
    code, out = run_cli("runs", "list", "--store", store_url)
    assert code == 0
    assert out.index("2026Q1-broken") < out.index("2026Q1-second") < out.index("2026Q1-first")
    assert "failed" in out and "complete" in out and "700" in out  # second run's budget: 200 + 200 + 300
    code, out = run_cli("runs", "list", "--store", store_url, "--status", "failed")
    assert code == 0 and "2026Q1-broken" in out and "2026Q1-first" not in out


def test_show_prints_provenance_and_plan(store_url: str) -> None:
    code, out = run_cli("runs", "show", "2026Q1-f", "--store", store_url)
    assert code == 0
    for expected in ("Run 2026Q1-first", "0.1.0 @ 07c9bad0123456789", "HiGHS", "passed", "tv capped at 30%", "not yet"):
        assert expected in out, expected
    code, out = run_cli("runs", "show", "2026Q1-broken", "--store", store_url)
    assert code == 0 and "ValueError: spend has negative rows" in out and "failed" in out


def test_compare_says_what_changed(store_url: str) -> None:
    code, out = run_cli("runs", "compare", "2026Q1-first", "2026Q1-second", "--store", store_url)
    assert code == 0
    assert "Run 2026Q1-second compared with run 2026Q1-first:" in out
    assert "table revenue changed" in out and "roi_hurdle: 1.2 -> 1.5" in out
    assert "Expected revenue: 1,700 [1,600 to 1,800] -> 2,000 [1,900 to 2,100], a change of +300" in out
    assert "EU / search: 100 -> 200 (+100)" in out and "Spend by region" in out


def test_approve_then_refuse_a_second_approval(store_url: str) -> None:
    code, out = run_cli("runs", "approve", "2026Q1-sec", "--by", "Dana", "--note", "Q1 go", "--store", store_url)
    assert code == 0 and "Run 2026Q1-second approved by Dana" in out
    code, out = run_cli("runs", "approve", "2026Q1-second", "--by", "Eve", "--store", store_url)
    assert code == 2 and "approved by Dana" in out and "cannot be altered" in out
    code, out = run_cli("runs", "show", "2026Q1-second", "--store", store_url)
    assert "by Dana at 20" in out and "(Q1 go)" in out
    code, out = run_cli("runs", "list", "--store", store_url)
    assert "Dana" in out


def test_errors_exit_2_with_the_message(store_url: str, tmp_path) -> None:
    code, out = run_cli("runs", "approve", "2026Q1-broken", "--by", "Dana", "--store", store_url)
    assert code == 2 and "only a complete run can be approved" in out
    code, out = run_cli("runs", "show", "2026Q1-firts", "--store", store_url)
    assert code == 2 and "no run '2026Q1-firts'" in out and "did you mean 2026Q1-first" in out
    code, out = run_cli("runs", "show", "2026Q1", "--store", store_url)
    assert code == 2 and "ambiguous" in out
    code, out = run_cli("runs", "list", "--store", f"sqlite:///{tmp_path / 'nowhere' / 'runs.db'}")
    assert code == 2 and "unavailable" in out and "nowhere/runs.db" in out
    code, out = run_cli("runs", "list", "--status", "done", "--store", store_url)
    assert code == 2 and "status must be one of running, complete, failed, interrupted; got 'done'" in out
