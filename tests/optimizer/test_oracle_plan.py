"""End to end against the truth: the plan made from the simulator's true curves is the oracle plan."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import Policy, allocate
from simulator import simulate_world


@pytest.fixture(scope="module")
def world():
    return simulate_world(seed=7, n_users=1_000)


def true_revenue(world, spend: np.ndarray) -> float:
    return float(world.truth.response_curves(13).revenue(spend)[0].sum())


def current_spend(world):
    """The window's average quarter per cell (``spend_period``): the spend level the truth's ROI was realised at."""
    return world.truth.average_period_spend(13)


def test_oracle_plan_obeys_the_rules_and_beats_the_current_split(world):
    current = current_spend(world)
    budget = float(current["spend_period"].sum())
    policy = Policy(budget=budget, objective_tolerance=0.02, region_tolerance=0.02)
    plan = allocate(world.truth.response_curves(13), policy, current)
    table = plan.table.set_index(["region", "channel"]).loc[
        list(zip(current["region"], current["channel"], strict=True))
    ]

    assert plan.status == "optimal"
    assert table["spend_period"].sum() == pytest.approx(budget, rel=1e-6)
    by_objective = table.groupby("objective")["spend_period"].sum() / budget
    for objective, share in {"acquisition": 0.60, "retention": 0.30, "brand": 0.10}.items():
        assert abs(by_objective[objective] - share) <= 0.02 + 1e-6
    by_region = table.groupby("region")["spend_period"].sum() / budget
    for region, share in {"Asia": 0.35, "Europe": 0.25, "North America": 0.20, "Other": 0.20}.items():
        assert abs(by_region[region] - share) <= 0.02 + 1e-6
    ratio = table["spend_period"].to_numpy() / current["spend_period"].to_numpy()
    assert (ratio <= 1.3 + 1e-6).all() and (ratio >= 0.7 - 1e-6).all()

    # The oracle plan earns at least as much true revenue as today's split (which satisfies the same rules).
    now = true_revenue(world, current["spend_period"].to_numpy())
    assert true_revenue(world, table["spend_period"].to_numpy()) >= now
    # Its expected revenue is the true revenue (one draw: the truth).
    assert table["revenue_period"].sum() == pytest.approx(
        true_revenue(world, table["spend_period"].to_numpy()), rel=1e-6
    )


def test_oracle_plan_moves_money_toward_high_marginal_roi(world):
    current = current_spend(world)
    policy = Policy(budget=float(current["spend_period"].sum()), objective_tolerance=0.02, region_tolerance=0.02)
    plan = allocate(world.truth.response_curves(13), policy, current).table
    curves = world.truth.response_curves(13)
    mroi_now = curves.mroi(current["spend_period"].to_numpy())[0]
    change = plan.set_index(["region", "channel"]).loc[
        list(zip(current["region"], current["channel"], strict=True)), "spend_period_change"
    ]
    # Within each (region, objective) group, cells cut hardest have lower marginal ROI than cells grown most.
    frame = current.assign(mroi=mroi_now, change=change.to_numpy())
    for _, group in frame.groupby(["region", "objective"]):
        if len(group) >= 3 and group["change"].abs().max() > 1:
            assert group.loc[group["change"].idxmax(), "mroi"] >= group.loc[group["change"].idxmin(), "mroi"]


def test_oracle_plan_flags_only_cells_whose_true_roi_is_below_the_hurdle(world):
    """Default rules, budget = current spend: at a spent-out budget every funded cell's marginal ROI sits near the
    budget's price (about 1.03 here, below 1.5), so marginal ROI cannot single cells out; the flag does (14 of 44)."""
    current = current_spend(world)
    curves = world.truth.response_curves(13)
    plan = allocate(curves, Policy(budget=float(current["spend_period"].sum())), current)
    table = plan.table
    true_roi = curves.roi(table["spend_period"].to_numpy())[0]
    np.testing.assert_array_equal(table["flag"].to_numpy(), true_roi < 1.5)
    assert 0 < table["flag"].sum() < len(table)
    assert table["mroi_below_hurdle"].all() and plan.mroi < 1.5
    notes = plan.notes()
    assert sum("marginal ROI" in note for note in notes) == 1
    assert "spend up to " in notes[0]  # the budget at which the plan's marginal ROI reaches 1.5: 12.1M of 15.6M
    flagged = table[table["flag"]]
    assert (
        flagged["flag_reason"].str.startswith("ROI ").all() and flagged["flag_reason"].str.contains("P\\(<1.5\\)").all()
    )
