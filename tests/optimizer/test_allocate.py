import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from optimizer import Allocator, InfeasiblePolicyError, Policy, ResponseCurves, Risk, allocate
from tests.optimizer.conftest import asia_cells, mixed_world, one_group_policy

METHODS = ["conic", "cuts"]


@pytest.mark.parametrize("method", METHODS)
def test_two_cell_michaelis_menten_closed_form(method):
    beta, half, budget = np.array([300.0, 200.0]), np.array([50.0, 40.0]), 150.0
    curves = ResponseCurves.michaelis_menten(asia_cells(2), [beta], [half])
    plan = allocate(curves, one_group_policy(budget), np.array([75.0, 75.0]), method=method)
    root = np.sqrt(beta * half)
    expected = root * (budget + half.sum()) / root.sum() - half
    # an interior-point optimum is accurate to ~sqrt(objective tolerance) in spend; the objective to far better
    np.testing.assert_allclose(plan.table["spend_period"], expected, rtol=1e-4 if method == "conic" else 1e-3)
    best = (beta * expected / (expected + half)).sum()
    assert plan.objective_value == pytest.approx(best, rel=1e-9 if method == "conic" else 2e-8)
    assert plan.status == "optimal"
    assert plan.optimality_gap < 1e-6


@pytest.mark.parametrize("method", METHODS)
def test_two_cell_exponential_closed_form(method):
    # beta*(1-exp(-S/lam)): equal marginal ROI gives S1 - S2 = ... ; with equal lam: S1 - S2 = lam*log(b1/b2)
    beta, lam, budget = np.array([500.0, 300.0]), np.array([100.0, 100.0]), 200.0
    curves = ResponseCurves.exponential(asia_cells(2), [beta], [lam])
    plan = allocate(curves, one_group_policy(budget), np.array([100.0, 100.0]), method=method)
    diff = lam[0] * np.log(beta[0] / beta[1])
    expected = [(budget + diff) / 2, (budget - diff) / 2]
    np.testing.assert_allclose(plan.table["spend_period"], expected, rtol=1e-4 if method == "conic" else 1e-3)


@pytest.mark.parametrize("method", METHODS)
def test_kkt_equal_marginal_roi_of_unconstrained_cells(method):
    curves, current = mixed_world(draws=30, seed=1)
    policy = Policy(budget=current.sum(), objective_tolerance=0.5, region_tolerance=0.5, max_change=None)
    plan = Allocator(curves, current, method).allocate(policy)
    funded = plan.table["spend_period"] > 1e-3 * current.mean()
    mroi = plan.table.loc[funded, "mroi"].to_numpy()
    # a wrong plan differs by percents; cut refinement stops at a 1e-8 objective gap (~1e-4 in spend)
    np.testing.assert_allclose(mroi, mroi.mean(), rtol=2e-3)
    budget_price = plan.shadow_prices.set_index("rule").loc["budget", "shadow_price"]
    assert budget_price == pytest.approx(mroi.mean(), rel=2e-3)


def _objective(curves, spend):
    return curves.revenue(spend).sum(axis=1).mean()


def test_three_cell_brute_force_grid():
    rng = np.random.default_rng(5)
    cells = asia_cells(3)
    curves = ResponseCurves.concat(
        [
            ResponseCurves.hill(
                cells[:1], rng.uniform(200, 400, (20, 1)), rng.uniform(30, 60, (20, 1)), rng.uniform(0.5, 0.9, (20, 1))
            ),
            ResponseCurves.exponential(cells[1:2], rng.uniform(200, 400, (20, 1)), rng.uniform(30, 60, (20, 1))),
            ResponseCurves.logistic(cells[2:], rng.uniform(200, 400, (20, 1)), rng.uniform(30, 60, (20, 1))),
        ]
    )
    budget = 120.0
    plan = allocate(curves, one_group_policy(budget), np.full(3, 40.0))
    ours = _objective(curves, plan.table["spend_period"].to_numpy())
    grid = np.linspace(0, budget, 241)
    best = max(
        _objective(curves, np.array([a, b, budget - a - b]))
        for a, b in itertools.product(grid, grid)
        if a + b <= budget
    )
    assert ours >= best - 1e-9 * abs(best)


def test_multistart_slsqp_never_beats_us():
    curves, current = mixed_world(draws=25, seed=2)
    budget = current.sum()
    policy = Policy(budget=budget, objective_tolerance=0.05, region_tolerance=0.05)
    plan = allocate(curves, policy, current)
    ours = plan.objective_value
    bounds = list(zip(0.7 * current, 1.3 * current, strict=True))
    cells = curves.cells
    cons = [{"type": "eq", "fun": lambda s: s.sum() - budget}]
    for col, shares, tol in (("objective", policy.objective_shares, 0.05), ("region", policy.region_shares, 0.05)):
        for name, share in shares.items():
            m = (cells[col] == name).to_numpy()
            cons.append({"type": "ineq", "fun": lambda s, m=m, sh=share, t=tol: s[m].sum() - (sh - t) * budget})
            cons.append({"type": "ineq", "fun": lambda s, m=m, sh=share, t=tol: (sh + t) * budget - s[m].sum()})
    rng = np.random.default_rng(0)
    scale = budget

    def neg(s):
        return -_objective(curves, s * scale) / scale

    def grad(s):
        return -curves.mroi(s * scale).mean(axis=0)

    for _ in range(6):
        start = rng.uniform(0.7, 1.3, current.size) * current
        res = minimize(
            neg,
            start / scale,
            jac=grad,
            bounds=[(a / scale, b / scale) for a, b in bounds],
            constraints=[{**c, "fun": (lambda s, f=c["fun"]: f(s * scale) / scale)} for c in cons],
            method="SLSQP",
            options={"maxiter": 500, "ftol": 1e-12},
        )
        s = res.x * scale
        feasible = all(
            c["fun"](s) >= -1e-6 * budget if c["type"] == "ineq" else abs(c["fun"](s)) <= 1e-6 * budget for c in cons
        )
        if feasible:
            assert _objective(curves, s) <= ours * (1 + 1e-6)


def test_resolve_after_budget_change_matches_fresh_build():
    curves, current = mixed_world(draws=20, seed=4)
    allocator = Allocator(curves, current)
    allocator.allocate(Policy(budget=current.sum()))
    again = allocator.allocate(Policy(budget=1.1 * current.sum()))
    fresh = allocate(curves, Policy(budget=1.1 * current.sum()), current)
    np.testing.assert_allclose(again.table["spend_period"], fresh.table["spend_period"], rtol=1e-3)
    assert again.objective_value == pytest.approx(fresh.objective_value, rel=1e-8)
    assert len(allocator._programs) == 1


def test_budget_shadow_price_matches_finite_difference():
    curves, current = mixed_world(draws=20, seed=6)
    allocator = Allocator(curves, current, "cuts")
    policy = Policy(budget=current.sum(), objective_tolerance=0.1, region_tolerance=0.1, max_change=None)
    base = allocator.allocate(policy)
    step = 1e-3 * current.sum()
    up = allocator.allocate(policy.with_budget(current.sum() + step))
    price = base.shadow_prices.set_index("rule").loc["budget", "shadow_price"]
    assert (up.objective_value - base.objective_value) / step == pytest.approx(price, rel=1e-3)


def test_table_totals_and_uplift(world):
    curves, current = world
    plan = allocate(curves, Policy(budget=current.sum()), current)
    t = plan.table
    assert list(t.columns[:3]) == ["region", "channel", "objective"]
    assert (t["revenue_period_low"] <= t["revenue_period"]).all() and (
        t["revenue_period"] <= t["revenue_period_high"]
    ).all()
    np.testing.assert_allclose(plan.by_objective["share"], plan.by_objective["target_share"], atol=1e-6)
    np.testing.assert_allclose(plan.by_region["share"], plan.by_region["target_share"], atol=1e-6)
    up = plan.uplift
    assert up["revenue_period_change_low"] <= up["revenue_period_change"] <= up["revenue_period_change_high"]
    assert up["revenue_period_change"] >= -1e-6 * t["revenue_period"].sum()  # current spend is feasible
    assert isinstance(plan.shadow_prices, pd.DataFrame) and (plan.shadow_prices["description"] != "").all()


@pytest.mark.parametrize("method", METHODS)
def test_hurdle_mode_returns_money_below_hurdle(method):
    curves = ResponseCurves.michaelis_menten(asia_cells(2), [[300.0, 120.0]], [[100.0, 100.0]])
    plan = allocate(curves, one_group_policy(1000.0, mode="hurdle", roi_hurdle=1.5), np.array([50.0, 50.0]), method)
    spend = plan.table["spend_period"].to_numpy()
    # unconstrained optimum: beta*K/(S+K)^2 = 1.5 → S = sqrt(beta*K/1.5) - K
    expected = np.maximum(np.sqrt(np.array([300.0, 120.0]) * 100 / 1.5) - 100, 0)
    rtol = 1e-5 if method == "conic" else 1e-3
    np.testing.assert_allclose(spend, expected, rtol=rtol, atol=1e-4)
    assert plan.unspent == pytest.approx(1000 - expected.sum(), rel=rtol)


def test_flags_carry_numbers():
    curves = ResponseCurves.michaelis_menten(asia_cells(2), [[300.0, 60.0], [320.0, 70.0]], [[100.0, 100.0]] * 2)
    plan = allocate(curves, one_group_policy(200.0), np.array([100.0, 100.0]))
    row = plan.table.set_index("channel").loc["channel_1"]
    assert row["flag"]
    assert (
        "ROI 0.5" in row["flag_reason"] and "90% HDI" in row["flag_reason"] and "P(<1.5) = 1.00" in row["flag_reason"]
    )


def test_s_shaped_cell_flagged_below_activation():
    cells = asia_cells(2)
    curves = ResponseCurves.concat(
        [
            ResponseCurves.hill(cells[:1], [[1000.0]], [[100.0]], [[3.0]]),
            ResponseCurves.michaelis_menten(cells[1:], [[100.0]], [[50.0]]),
        ]
    )
    plan = allocate(curves, one_group_policy(60.0), np.array([30.0, 30.0]))
    row = plan.table.set_index("channel").loc["channel_0"]
    # activation of Hill(shape 3): argmax of revenue/spend at K*(a-1)^(1/a) = 100*2^(1/3) ≈ 126
    assert row["spend_period"] > 0 and "below activation level: fund at ≥ 12" in row["flag_reason"]


def test_locked_and_unavailable_cells(world):
    curves, current = world
    cells = curves.cells
    locked = {"region": cells.region[0], "channel": cells.channel[0]}
    off = {"region": cells.region[1], "channel": cells.channel[1]}
    policy = Policy(
        budget=current.sum(),
        locked=[locked],
        unavailable=[off],
        max_change=None,
        objective_tolerance=0.05,
        region_tolerance=0.05,
    )
    plan = allocate(curves, policy, current)
    assert plan.table["spend_period"][0] == pytest.approx(current[0], rel=1e-6)
    assert plan.table["spend_period"][1] == pytest.approx(0.0, abs=1e-6 * current.sum())


def test_cvar_trades_mean_for_tail():
    curves, current = mixed_world(draws=30, seed=7)
    policy = Policy(budget=current.sum(), objective_tolerance=0.1, region_tolerance=0.1)
    mean_plan = allocate(curves, policy, current)
    risky = allocate(curves, policy.model_copy(update={"risk": Risk(kind="cvar", lam=2.0, alpha=0.2)}), current)
    assert risky.status == "optimal"

    def tail(spend):
        total = np.sort(curves.revenue(spend).sum(axis=1))
        return total[: int(0.2 * total.size)].mean()

    assert tail(risky.table["spend_period"].to_numpy()) >= tail(mean_plan.table["spend_period"].to_numpy()) - 1e-6
    assert risky.table["revenue_period"].sum() <= mean_plan.table["revenue_period"].sum() + 1e-6


# ---------------------------------------------------------------- infeasible policies
def test_region_minimums_exceed_budget_share(world):
    curves, current = world
    with pytest.raises(InfeasiblePolicyError, match=r"region 'Asia' share 0.35.*cell minimums sum to"):
        allocate(curves, Policy(budget=0.5 * current.sum(), max_change=0.1), current)


def test_cell_minimums_exceed_budget(world):
    curves, current = world
    with pytest.raises(InfeasiblePolicyError, match=r"cell minimums sum to [\d,]+, more than the budget"):
        allocate(
            curves,
            Policy(budget=0.5 * current.sum(), max_change=0.1, objective_tolerance=1, region_tolerance=1),
            current,
        )


def test_spend_all_cannot_reach_budget(world):
    curves, current = world
    with pytest.raises(InfeasiblePolicyError, match=r"spend_all.*cell maximums sum to only"):
        allocate(curves, Policy(budget=2 * current.sum()), current)


def test_joint_conflict_named_by_elastic_diagnosis():
    cells = [("Asia", "a", "acquisition"), ("Europe", "b", "retention")]
    curves = ResponseCurves.michaelis_menten(cells, [[100.0, 100.0]], [[50.0, 50.0]])
    policy = Policy(
        budget=100.0,
        objective_shares={"acquisition": 0.5, "retention": 0.5},
        region_shares={"Asia": 0.8, "Europe": 0.2},
        max_change=None,
    )
    with pytest.raises(InfeasiblePolicyError, match=r"would have to give 30") as info:
        allocate(curves, policy, np.array([50.0, 50.0]))
    assert "share" in str(info.value)


def test_unknown_cell_in_policy(world):
    curves, current = world
    with pytest.raises(ValueError, match="names cells that the response curves do not have"):
        allocate(curves, Policy(budget=1.0, locked=[{"region": "Mars", "channel": "x"}]), current)
