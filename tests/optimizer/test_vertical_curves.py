"""Curves that are vertical at zero spend (Hill with shape below 1) on a cell with no current spend.

Found on a simulated world (seed 3): at the low end of the budgets the rules allow, the outer approximation left such
a cell at zero, its tangent there had an infinite slope, HiGHS rejected the whole batch of cuts that held it, and
the solve stopped at a relative gap of 1e-3 ("not converged"), failing the planning run's hurdle-budget search.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import Allocator, ResponseCurves, Risk
from tests.optimizer.conftest import asia_cells, one_group_policy


def _curves(draws: int) -> tuple[ResponseCurves, np.ndarray]:
    """Cell 0: steep concave curve with current spend; cell 1: Hill shape 0.5 with none (vertical at zero)."""
    rng = np.random.default_rng(draws)
    cells = asia_cells(2)
    beta = np.column_stack([rng.lognormal(np.log(5e6), 0.05, draws), rng.lognormal(np.log(1e5), 0.05, draws)])
    half = np.column_stack([rng.lognormal(np.log(1e6), 0.05, draws), rng.lognormal(np.log(1e6), 0.05, draws)])
    shape = np.column_stack([np.full(draws, 1.0), rng.uniform(0.45, 0.55, draws)])
    return ResponseCurves.hill(cells, beta, half, shape), np.array([2e5, 0.0])


def _brute_force(curves: ResponseCurves, budget: float, objective) -> tuple[float, float]:
    """Best split of the budget between the two cells by ternary search on the zero cell's share (concave)."""
    lo, hi = 0.0, budget
    for _ in range(300):
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if objective(np.array([budget - a, a])) < objective(np.array([budget - b, b])):
            lo = a
        else:
            hi = b
    x = 0.5 * (lo + hi)
    return x, objective(np.array([budget - x, x]))


@pytest.mark.parametrize("budget", [1e4, 2e5, 1e6])
def test_a_vertical_cell_at_zero_is_certified_and_matches_brute_force(budget):
    curves, current = _curves(draws=20)
    allocator = Allocator(curves, current)
    plan = allocator.allocate(one_group_policy(budget))
    assert plan.status == "optimal"
    assert plan.optimality_gap <= 1e-6

    def mean_revenue(spend: np.ndarray) -> float:
        return float(curves.revenue(spend).sum(axis=1).mean())

    x, best = _brute_force(curves, budget, mean_revenue)
    spend = plan.table["spend_period"].to_numpy()
    assert mean_revenue(spend) >= best * (1 - 1e-6)
    assert spend[1] == pytest.approx(x, rel=1e-2, abs=1e-3 * budget)
    assert spend[1] > 0  # an infinite marginal return at zero: some money always goes there


def test_the_same_under_cvar():
    from optimizer.outer import cvar_of_loss

    curves, current = _curves(draws=200)
    lam, alpha = 1.0, 0.1

    def objective(spend: np.ndarray) -> float:
        total = curves.revenue(spend).sum(axis=1)
        return float(total.mean() - lam * cvar_of_loss(-total, alpha))

    plan = Allocator(curves, current).allocate(one_group_policy(2e5, risk=Risk(kind="cvar", lam=lam, alpha=alpha)))
    assert plan.status == "optimal"
    _, best = _brute_force(curves, 2e5, objective)
    assert objective(plan.table["spend_period"].to_numpy()) >= best - 1e-6 * abs(best)
