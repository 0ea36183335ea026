"""The plan as a result: its vocabulary, the forms of current spend it takes, and save/load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from contracts import hdi, period_spend
from optimizer import Allocation, Allocator, Policy, ResponseCurves, Risk, allocate
from tests.optimizer.conftest import asia_cells, mixed_world, one_group_policy


def test_vocabulary_of_the_plan(world):
    curves, current = world
    plan = allocate(curves, Policy(budget=current.sum()), current)
    assert list(plan.table.columns) == [
        "region",
        "channel",
        "objective",
        "spend_period_current",
        "spend_period",
        "spend_period_change",
        "revenue_period",
        "revenue_period_low",
        "revenue_period_high",
        "roi",
        "mroi",
        "mroi_below_hurdle",
        "flag",
        "flag_reason",
    ]
    totals = ["spend_period", "share", "target_share", "spend_period_current", "revenue_period"]
    assert list(plan.by_objective.columns) == totals and plan.by_objective.index.name == "objective"
    assert list(plan.by_region.columns) == totals and plan.by_region.index.name == "region"
    assert list(plan.uplift.index) == [
        "revenue_period_change",
        "revenue_period_change_low",
        "revenue_period_change_high",
    ]
    assert plan.interval == "90% equal-tailed"
    assert plan.table.attrs == {"interval": "90% equal-tailed"} and plan.uplift.attrs == plan.table.attrs
    assert plan.by_objective.attrs == {} and plan.by_region.attrs == {}
    assert (plan.period_weeks, plan.currency) == (13, None)
    t = plan.table
    np.testing.assert_allclose(t["spend_period_change"], t["spend_period"] - t["spend_period_current"])
    np.testing.assert_allclose(plan.by_region["spend_period"].sum(), t["spend_period"].sum())


def test_interval_is_the_equal_tailed_5_to_95_percent():
    rng = np.random.default_rng(0)
    beta = rng.uniform(100, 300, (101, 2))
    curves = ResponseCurves.michaelis_menten(asia_cells(2), beta, np.full((101, 2), 50.0))
    plan = allocate(curves, one_group_policy(100.0), np.array([50.0, 50.0]))
    revenue = curves.revenue(plan.table["spend_period"].to_numpy())
    # 101 draws: the 5% and 95% quantiles are the 6th and 96th sorted draws, no interpolation
    np.testing.assert_allclose(plan.table["revenue_period_low"], np.sort(revenue, axis=0)[5])
    np.testing.assert_allclose(plan.table["revenue_period_high"], np.sort(revenue, axis=0)[95])


def test_period_and_currency_come_from_the_curves():
    curves = ResponseCurves.michaelis_menten(asia_cells(2), [[300.0, 200.0]], [[50.0, 40.0]], period_weeks=4)
    eur = ResponseCurves.michaelis_menten(
        asia_cells(2), [[300.0, 200.0]], [[50.0, 40.0]], period_weeks=4, currency="EUR"
    )
    for c, currency in ((curves, None), (eur, "EUR")):
        plan = allocate(c, one_group_policy(100.0), np.array([50.0, 50.0]))
        assert (plan.period_weeks, plan.currency) == (4, currency)


def test_flag_reason_cites_the_contracts_hdi():
    rng = np.random.default_rng(1)
    beta = np.column_stack([rng.uniform(250, 350, 10), rng.uniform(40, 80, 10)])
    curves = ResponseCurves.michaelis_menten(asia_cells(2), beta, np.full((10, 2), 100.0))
    plan = allocate(curves, one_group_policy(200.0), np.array([100.0, 100.0]))
    low, high = hdi(curves.roi(plan.table["spend_period"].to_numpy()), 0.9)
    reason = plan.table["flag_reason"][1]
    assert f"90% HDI {low[1]:.2f}–{high[1]:.2f}" in reason and reason.startswith("ROI ")
    # marginal ROI below the hurdle is a column of its own, not a flag
    assert "mROI" not in reason and bool(plan.table["mroi_below_hurdle"][1])


# ---------------------------------------------------------------- current spend
def _weekly(curves: ResponseCurves, current: np.ndarray, weeks: int) -> pd.DataFrame:
    """A weekly spend table whose last 13 weeks sum to ``current`` per cell (and earlier weeks are different)."""
    week = pd.date_range("2025-01-06", periods=weeks, freq="W-MON")
    rows = []
    for (region, channel), total in zip(
        zip(curves.cells.region, curves.cells.channel, strict=True), current, strict=True
    ):
        for i, w in enumerate(week):
            rows.append((w, region, channel, total / 13 if i >= weeks - 13 else 2 * total))
    return pd.DataFrame(rows, columns=["week", "region", "channel", "spend"])


def test_period_spend_frame_gives_the_same_plan_as_the_array(world):
    curves, current = world
    spend = _weekly(curves, current, 20).sample(frac=1.0, random_state=0)  # any row order
    frame = period_spend(spend, 13)
    policy = Policy(budget=current.sum())
    from_frame = allocate(curves, policy, frame)
    from_array = allocate(curves, policy, current)
    np.testing.assert_allclose(from_frame.table["spend_period_current"], current, rtol=1e-12)
    pd.testing.assert_frame_equal(from_frame.table, from_array.table, rtol=1e-9)
    # the frame of before (region, channel, spend) still works
    legacy = frame.rename(columns={"spend_period": "spend"})[["region", "channel", "spend"]]
    np.testing.assert_allclose(Allocator(curves, legacy).current, current, rtol=1e-12)


def test_period_spend_frame_must_match_the_cells(world):
    curves, current = world
    frame = period_spend(_weekly(curves, current, 13), 13)
    first = (curves.cells.region[0], curves.cells.channel[0])
    with pytest.raises(ValueError, match=rf"no row for 1 cells of the response curves: {first[0]}/{first[1]}"):
        Allocator(curves, frame[~((frame.region == first[0]) & (frame.channel == first[1]))])
    extra = pd.concat([frame, frame.iloc[:1].assign(region="Mars")], ignore_index=True)
    with pytest.raises(ValueError, match=r"1 rows for cells the response curves do not have: Mars/"):
        Allocator(curves, extra)
    twice = pd.concat([frame, frame.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match=rf"more than one row for 1 cells: {frame.region[0]}/{frame.channel[0]}"):
        Allocator(curves, twice)
    with pytest.raises(ValueError, match=r"covers \[4\] weeks .* period_weeks = 13; use contracts.period_spend"):
        Allocator(curves, period_spend(_weekly(curves, current, 13), 4))
    with pytest.raises(ValueError, match="finite and >= 0"):
        Allocator(curves, frame.assign(spend_period=-1.0))


# ---------------------------------------------------------------- save / load
def _assert_same(loaded: Allocation, plan: Allocation) -> None:
    for name in ("table", "by_objective", "by_region", "shadow_prices"):
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(plan, name), check_exact=True)
        assert getattr(loaded, name).attrs == getattr(plan, name).attrs
    pd.testing.assert_series_equal(loaded.uplift, plan.uplift, check_exact=True)
    assert loaded.uplift.attrs == plan.uplift.attrs
    for name in (
        "status",
        "solver",
        "optimality_gap",
        "objective_value",
        "budget",
        "spent",
        "unspent",
        "period_weeks",
        "currency",
        "interval",
    ):
        assert getattr(loaded, name) == getattr(plan, name), name
    assert loaded.policy == plan.policy


def test_save_load_round_trip(world, tmp_path):
    curves, current = world
    policy = Policy(
        budget=current.sum(),
        objective_tolerance=0.05,
        region_tolerance=0.05,
        locked=[{"region": curves.cells.region[0], "channel": curves.cells.channel[0]}],
        risk=Risk(kind="cvar", lam=0.5, alpha=0.2),
    )
    plan = allocate(curves, policy, current)
    folder = plan.save(tmp_path / "plan")
    assert sorted(p.name for p in folder.iterdir()) == [
        "allocation.json",
        "by_objective.parquet",
        "by_region.parquet",
        "policy.toml",
        "shadow_prices.parquet",
        "table.parquet",
    ]
    _assert_same(Allocation.load(folder), plan)
    record = json.loads((folder / "allocation.json").read_text())
    assert record["policy_fingerprint"] == policy.fingerprint() and record["interval"] == "90% equal-tailed"


def test_save_load_keeps_currency_and_hurdle_mode(tmp_path):
    curves = ResponseCurves.michaelis_menten(
        asia_cells(2), [[300.0, 120.0]], [[100.0, 100.0]], period_weeks=4, currency="USD"
    )
    plan = allocate(curves, one_group_policy(1000.0, mode="hurdle"), np.array([50.0, 50.0]))
    _assert_same(Allocation.load(plan.save(tmp_path)), plan)


def test_load_names_what_is_wrong(tmp_path):
    curves, current = mixed_world(draws=5, seed=3)
    folder = allocate(curves, Policy(budget=current.sum()), current).save(tmp_path / "plan")
    (folder / "policy.toml").write_text(Policy(budget=current.sum(), roi_hurdle=2.0).to_toml())
    with pytest.raises(ValueError, match="does not match the policy this plan was made with"):
        Allocation.load(folder)
    (folder / "by_region.parquet").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing \['by_region.parquet'\]"):
        Allocation.load(folder)
