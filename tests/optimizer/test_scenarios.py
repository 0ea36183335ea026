"""Scenarios by re-solving: the budget frontier, the hurdle budget, the marginal-dollar ladder; and the plan in
whole currency and weeks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimizer import Allocation, Allocator, Policy
from tests.optimizer.conftest import mixed_world


@pytest.fixture(scope="module")
def setup():
    curves, current = mixed_world(draws=60, seed=2)
    allocator = Allocator(curves, current)
    policy = Policy(budget=float(current.sum()), objective_tolerance=0.05, region_tolerance=0.05)
    return curves, current, allocator, policy


def test_frontier_is_monotone_and_concave_with_falling_marginal_roi(setup):
    _curves, current, allocator, policy = setup
    budgets = np.linspace(0.75, 1.25, 20) * current.sum()
    frontier = allocator.frontier(budgets, policy)
    table = frontier.table
    assert (table["status"] == "optimal").all() and table["budget"].tolist() == budgets.tolist()
    revenue = table["revenue_period"].to_numpy()
    assert np.all(np.diff(revenue) > 0)
    slopes = np.diff(revenue) / np.diff(budgets)
    assert np.all(np.diff(slopes) <= 1e-6 * slopes.max())  # concave
    mroi = table["mroi"].to_numpy()
    assert np.all(np.diff(mroi) <= 1e-6)
    # the plan's marginal ROI is the slope of expected revenue in the budget: between the two ends of each step
    assert np.all(slopes <= mroi[:-1] + 1e-3) and np.all(slopes >= mroi[1:] - 1e-3)
    assert (table["revenue_period_low"] < revenue).all() and (revenue < table["revenue_period_high"]).all()
    assert table.attrs["interval"] == "90% equal-tailed"
    # the plans: each sums to its budget, and plan(b) re-solves the same point
    np.testing.assert_allclose(frontier.spend.sum(axis=1).to_numpy(), budgets, rtol=1e-9)
    again = frontier.plan(budgets[3])
    np.testing.assert_allclose(again.table["spend_period"].to_numpy(), frontier.spend.iloc[3].to_numpy(), rtol=1e-5)
    assert len(allocator._programs) == 1  # no rebuild


def test_hurdle_budget_is_where_the_plans_marginal_roi_meets_the_hurdle(setup):
    _curves, current, allocator, policy = setup
    plan = allocator.allocate(policy)
    hurdle = 0.5 * (plan.mroi + allocator.allocate(policy.with_budget(0.75 * current.sum())).mroi)
    found = allocator.hurdle_budget(policy.model_copy(update={"roi_hurdle": hurdle}).validated())
    assert found.where == "inside" and found.low <= found.budget <= found.high
    assert found.high - found.low <= 1e-4 * current.sum()
    # the plan's marginal ROI crosses the hurdle inside the bracket (it may jump there: where a rule starts to bind,
    # the value of the best plan has a kink)
    assert allocator.allocate(policy.with_budget(found.low)).mroi >= hurdle
    assert allocator.allocate(policy.with_budget(found.high)).mroi < hurdle
    assert f"spend up to {found.budget:,.0f}" in found.statement
    low = allocator.hurdle_budget(policy.model_copy(update={"roi_hurdle": 1e5}).validated())
    assert low.where == "below" and low.budget is None and "smallest budget the rules allow" in low.statement
    high = allocator.hurdle_budget(policy.model_copy(update={"roi_hurdle": 0.0}).validated())
    assert high.where == "above" and "largest budget the rules allow" in high.statement


def test_infeasible_budgets_get_a_row_that_says_why(setup):
    _curves, current, allocator, policy = setup
    frontier = allocator.frontier([current.sum(), 3 * current.sum()], policy)
    assert frontier.table["status"][0] == "optimal"
    assert (
        frontier.table["status"][1].startswith("infeasible: ") and "maximums sum to only" in frontier.table["status"][1]
    )
    assert np.isnan(frontier.table["revenue_period"][1])
    with pytest.raises(ValueError, match="budgets must be positive"):
        allocator.frontier([-1.0], policy)


def test_ladder_is_consistent_with_the_frontier(setup):
    _curves, current, allocator, policy = setup
    step = 0.02 * current.sum()
    plan = allocator.allocate(policy)
    ladder = plan.ladder(step)
    frontier = allocator.frontier([current.sum() - step, current.sum(), current.sum() + step], policy)
    revenue = frontier.table["revenue_period"].to_numpy()
    assert ladder.revenue.loc["add", "revenue_period_change"] == pytest.approx(revenue[2] - revenue[1], rel=1e-6)
    assert ladder.revenue.loc["cut", "revenue_period_change"] == pytest.approx(revenue[1] - revenue[0], rel=1e-6)
    # diminishing returns: the next step earns less than the last one cut would lose
    assert ladder.revenue.loc["add", "mroi"] <= ladder.revenue.loc["cut", "mroi"] + 1e-9
    assert ladder.add["amount"].sum() == pytest.approx(step, rel=1e-3, abs=len(current))
    assert ladder.cut["amount"].sum() == pytest.approx(step, rel=1e-3, abs=len(current))
    assert ladder.add["amount"].is_monotonic_decreasing and (ladder.add["amount"] > 0).all()
    row = ladder.revenue.loc["add"]
    assert row["revenue_period_change_low"] <= row["revenue_period_change"] <= row["revenue_period_change_high"]
    with pytest.raises(ValueError, match="step must be a positive amount"):
        plan.ladder(0)


def test_whole_currency_plan_and_weekly_plan_add_up(setup, tmp_path):
    _curves, current, allocator, policy = setup
    plan = allocator.allocate(policy.with_budget(1_000_000.0))
    rounded = plan.rounded()
    assert rounded.total == 1_000_000.0 and rounded.spend.sum() == 1_000_000.0
    assert np.all(rounded.spend == np.round(rounded.spend))
    assert np.all(np.abs(rounded.spend - plan.table["spend_period"].to_numpy()) <= 1.0 + 1e-9)
    assert rounded.rules["held"].all(), rounded.rules
    weeks = plan.weekly("2026-01-05", month_budgets={"2026-01": 300_000, "2026-02": 320_000, "2026-03": 380_000})
    assert len(weeks) == 13 * len(current)
    sums = weeks.groupby(["region", "channel"], sort=False)["spend_weekly"].sum()
    np.testing.assert_array_equal(sums.to_numpy(), rounded.spend)
    assert weeks.groupby("month")["spend_weekly"].sum().to_dict() == {
        "2026-01": 300_000.0,
        "2026-02": 320_000.0,
        "2026-03": 380_000.0,
    }
    # a saved plan keeps its notes and marginal ROI, and still rounds (it needs no allocator for that)
    loaded = Allocation.load(plan.save(tmp_path / "plan"))
    assert loaded.notes() == plan.notes() and loaded.mroi == pytest.approx(plan.mroi)
    np.testing.assert_array_equal(loaded.rounded().spend, rounded.spend)
    with pytest.raises(ValueError, match="needs the Allocator"):
        loaded.ladder(1000.0)


def test_plan_note_says_once_when_the_plans_marginal_roi_is_below_the_hurdle(setup):
    _curves, _current, allocator, policy = setup
    high_hurdle = policy.model_copy(update={"roi_hurdle": 1e3}).validated()
    plan = allocator.allocate(high_hurdle)
    assert plan.mroi < 1e3 and plan.table["mroi_below_hurdle"].all()
    notes = plan.notes()
    assert sum("marginal ROI" in n for n in notes) == 1
    assert "smallest budget the rules allow" in notes[0]
    low_hurdle = allocator.allocate(policy.model_copy(update={"roi_hurdle": 0.0}).validated())
    assert not any("marginal ROI" in n for n in low_hurdle.notes())
    assert not low_hurdle.table["mroi_below_hurdle"].any() and not low_hurdle.table["flag"].any()


def test_frontier_defaults_to_the_company_rules():
    curves, current = mixed_world(draws=20, seed=5)
    allocator = Allocator(curves, current)
    frontier = allocator.frontier([current.sum(), 1.1 * current.sum()])
    assert isinstance(frontier.table, pd.DataFrame) and frontier.policy.region_shares["Asia"] == 0.35
