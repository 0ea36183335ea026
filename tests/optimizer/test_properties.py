"""Property tests: the policy holds for random curves, budgets and bands; an infeasible one is refused with reasons."""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from optimizer import Allocator, InfeasiblePolicyError, Policy, ResponseCurves
from tests.optimizer.conftest import REGIONS

CHANNELS = [("meta_ads", "acquisition"), ("email_crm", "retention"), ("youtube_video", "brand")]
CELLS = [(r, c, o) for r in REGIONS for c, o in CHANNELS]
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _curves(seed: int, draws: int = 8) -> tuple[ResponseCurves, np.ndarray]:
    rng = np.random.default_rng(seed)
    current = rng.uniform(50, 150, len(CELLS))
    beta = current * rng.lognormal(np.log(3), 0.4, (draws, len(CELLS)))
    half = current * rng.lognormal(0, 0.4, (draws, len(CELLS)))
    shape = rng.uniform(0.4, 1.0, (draws, len(CELLS)))
    return ResponseCurves.hill(CELLS, beta, half, shape), current


def _feasible(current: np.ndarray, budget: float, obj_tol: float, reg_tol: float, slack: float) -> bool:
    """Whether the property's rules admit a plan, by an LP written independently of the optimizer.

    ``slack`` loosens (> 0) or tightens (< 0) every inequality (cell bounds, share bands) by that fraction;
    equalities (the budget, shares without a band) stay exact.
    """
    ub_rows, ub_rhs, eq_rows, eq_rhs = [], [], [np.ones(len(CELLS))], [budget]
    for position, share, tol in ((2, 1 / 3, obj_tol), (0, 0.25, reg_tol)):  # objectives in thirds, regions in quarters
        for name in sorted({cell[position] for cell in CELLS}):
            member = np.array([cell[position] == name for cell in CELLS], dtype=float)
            if tol == 0:
                eq_rows.append(member)
                eq_rhs.append(share * budget)
            else:
                ub_rows += [member, -member]
                ub_rhs += [(min(1.0, share + tol) + slack) * budget, -(max(0.0, share - tol) - slack) * budget]
    res = linprog(
        np.zeros(len(CELLS)),
        A_ub=np.array(ub_rows) if ub_rows else None,
        b_ub=np.array(ub_rhs) if ub_rhs else None,
        A_eq=np.array(eq_rows),
        b_eq=np.array(eq_rhs),
        bounds=list(zip(0.5 * current * (1 - slack), 1.5 * current * (1 + slack), strict=True)),
        method="highs",
    )
    return res.status == 0


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    budget_factor=st.floats(0.8, 1.2),
    obj_tol=st.sampled_from([0.0, 0.02, 0.1]),
    reg_tol=st.sampled_from([0.0, 0.02, 0.1]),
)
@example(seed=0, budget_factor=1.0, obj_tol=0.1, reg_tol=0.1)  # feasible: the rules must hold
@example(seed=0, budget_factor=1.2, obj_tol=0.0, reg_tol=0.0)  # infeasible: it must say which rules conflict
def test_spend_all_sums_to_budget_and_rules_hold(seed, budget_factor, obj_tol, reg_tol):
    curves, current = _curves(seed)
    budget = budget_factor * current.sum()
    policy = Policy(
        budget=budget,
        objective_tolerance=obj_tol,
        region_tolerance=reg_tol,
        max_change=0.5,
        objective_shares={"acquisition": 1 / 3, "retention": 1 / 3, "brand": 1 / 3},
        region_shares=dict.fromkeys(REGIONS, 0.25),
    )
    feasible = _feasible(current, budget, obj_tol, reg_tol, slack=-1e-6)
    # a draw within numerical tolerance of the edge of feasibility proves nothing either way
    assume(feasible == _feasible(current, budget, obj_tol, reg_tol, slack=1e-6))
    event("feasible" if feasible else "infeasible")
    if not feasible:
        with pytest.raises(InfeasiblePolicyError, match=r"^infeasible policy: .*share"):
            Allocator(curves, current).allocate(policy)
        return
    plan = Allocator(curves, current).allocate(policy)
    spend = plan.table["spend_period"].to_numpy()
    assert abs(spend.sum() - budget) <= 1e-6 * budget
    assert np.all(spend >= 0.5 * current * (1 - 1e-6)) and np.all(spend <= 1.5 * current * (1 + 1e-6))
    for frame, tol in ((plan.by_objective, obj_tol), (plan.by_region, reg_tol)):
        assert np.all(np.abs(frame["share"] - frame["target_share"]) <= tol + 1e-6)


@SETTINGS
@given(seed=st.integers(0, 10_000), step=st.floats(0.01, 0.3))
def test_more_budget_never_lowers_the_optimum(seed, step):
    curves, current = _curves(seed)
    allocator = Allocator(curves, current)
    policy = Policy(
        budget=current.sum(), objective_tolerance=1, region_tolerance=1, max_change=None, mode="hurdle", roi_hurdle=0.0
    )
    low = allocator.allocate(policy).objective_value
    high = allocator.allocate(policy.with_budget(current.sum() * (1 + step))).objective_value
    assert high >= low - 1e-7 * abs(low)


@SETTINGS
@given(beta=st.floats(50, 500), half=st.floats(10, 200), shape=st.floats(0.3, 1.0), n=st.integers(2, 4))
def test_identical_cells_get_identical_spend(beta, half, shape, n):
    cells = [("Asia", f"c{i}", "acquisition") for i in range(n)]
    curves = ResponseCurves.hill(cells, np.full((2, n), beta), np.full((2, n), half), np.full((2, n), shape))
    policy = Policy(
        budget=100.0 * n, objective_shares={"acquisition": 1.0}, region_shares={"Asia": 1.0}, max_change=None
    )
    spend = Allocator(curves, np.full(n, 100.0)).allocate(policy).table["spend_period"].to_numpy()
    np.testing.assert_allclose(spend, spend.mean(), rtol=1e-4)
