"""The default method's CVaR against independent answers: the cvxpy references, brute force, and optimality checks."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import Allocator, Policy, ResponseCurves, Risk, allocate
from optimizer.outer import cvar_of_loss
from tests.optimizer.test_cvar import mixed_curves

ONE_GROUP = {"objective_shares": {"acquisition": 1.0}, "region_shares": {"Asia": 1.0}, "max_change": None}


def _objective(curves: ResponseCurves, spend: np.ndarray, lam: float, alpha: float) -> float:
    """mean − λ·CVaR_α of the loss −revenue, straight from the definition (sorted draws)."""
    total = curves.revenue(np.asarray(spend, dtype=float)).sum(axis=1)
    return float(total.mean() - lam * cvar_of_loss(-total, alpha))


def _ternary(f, lo: float, hi: float, iters: int = 200) -> tuple[float, float]:
    """Maximiser of a concave function on [lo, hi] by ternary search (no derivative, so kinks are fine)."""
    for _ in range(iters):
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if f(a) < f(b):
            lo = a
        else:
            hi = b
    x = 0.5 * (lo + hi)
    return x, f(x)


def _cells(n: int) -> list[tuple[str, str, str]]:
    return [("Asia", f"c{i}", "acquisition") for i in range(n)]


@pytest.mark.parametrize("draws", [50, 1000])
@pytest.mark.parametrize("lam", [0.5, 3.0])
def test_two_cells_match_brute_force(draws, lam):
    rng = np.random.default_rng(draws + int(10 * lam))
    beta = rng.lognormal(np.log([300.0, 200.0]), 0.5, (draws, 2))
    half = rng.lognormal(np.log([100.0, 60.0]), 0.4, (draws, 2))
    curves = ResponseCurves.michaelis_menten(_cells(2), beta, half)
    budget = 200.0
    plan = allocate(curves, Policy(budget=budget, risk=Risk(kind="cvar", lam=lam, alpha=0.1), **ONE_GROUP), [100, 100])
    x, best = _ternary(lambda s: _objective(curves, [s, budget - s], lam, 0.1), 0.0, budget)
    spend = plan.table["spend_period"].to_numpy()
    assert plan.optimality_gap <= 1e-6
    assert _objective(curves, spend, lam, 0.1) == pytest.approx(best, rel=1e-6)
    assert plan.objective_value == pytest.approx(best, rel=1e-6)
    np.testing.assert_allclose(spend, [x, budget - x], atol=2e-3 * budget)


def test_three_cells_match_nested_brute_force():
    rng = np.random.default_rng(5)
    draws = 80
    beta = rng.lognormal(np.log([300.0, 220.0, 150.0]), 0.6, (draws, 3))
    half = rng.lognormal(np.log([100.0, 80.0, 40.0]), 0.4, (draws, 3))
    curves = ResponseCurves.exponential(_cells(3), beta, half)
    budget, lam = 240.0, 1.0

    def inner(a: float) -> float:  # best split of the rest between cells 1 and 2 (concave in a: nested search holds)
        return _ternary(lambda b: _objective(curves, [a, b, budget - a - b], lam, 0.1), 0.0, budget - a, 80)[1]

    _, best = _ternary(inner, 0.0, budget, 80)
    plan = allocate(curves, Policy(budget=budget, risk=Risk(kind="cvar", lam=lam, alpha=0.1), **ONE_GROUP), [80] * 3)
    assert _objective(curves, plan.table["spend_period"].to_numpy(), lam, 0.1) == pytest.approx(best, rel=1e-6)


@pytest.mark.parametrize("lam, alpha", [(0.5, 0.1), (2.0, 0.05), (1.0, 0.3)])
def test_same_optimum_as_the_reference_methods(lam, alpha):
    curves, current = mixed_curves(draws=120)
    policy = Policy(
        budget=float(current.sum()),
        max_change=0.5,
        objective_tolerance=0.2,
        region_tolerance=0.1,
        risk=Risk(kind="cvar", lam=lam, alpha=alpha),
    )
    fast = allocate(curves, policy, current)
    reference = allocate(curves, policy, current, method="cuts")
    values = [_objective(curves, p.table["spend_period"].to_numpy(), lam, alpha) for p in (fast, reference)]
    assert fast.optimality_gap <= 1e-6
    assert values[0] == pytest.approx(values[1], rel=1e-6)
    assert values[0] >= values[1] - 1e-6 * abs(values[1])


def test_re_solves_after_changes_of_budget_lambda_and_alpha_match_fresh_builds():
    curves, current = mixed_curves(draws=100, seed=8)
    allocator = Allocator(curves, current)
    base = Policy(budget=float(current.sum()), max_change=None, risk=Risk(kind="cvar", lam=1.0, alpha=0.1))
    allocator.allocate(base)
    for policy in (
        base.with_budget(1.1 * current.sum()),
        base.model_copy(update={"risk": Risk(kind="cvar", lam=4.0, alpha=0.1)}).validated(),
        base.model_copy(update={"risk": Risk(kind="cvar", lam=1.0, alpha=0.25)}).validated(),
    ):
        again = allocator.allocate(policy)
        fresh = allocate(curves, policy, current)
        assert again.objective_value == pytest.approx(fresh.objective_value, rel=2e-7)
    assert len(allocator._programs) == 1


def test_thousand_draws_48_cells_is_certified_and_no_feasible_move_improves_it():
    rng = np.random.default_rng(11)
    regions = {"Asia": 0.35, "Europe": 0.25, "North America": 0.2, "Other": 0.2}
    objectives = {"acquisition": 0.6, "retention": 0.3, "brand": 0.1}
    per_objective = {"acquisition": 5, "retention": 4, "brand": 3}
    cells = [(r, f"{o}_{k}", o) for r in regions for o in objectives for k in range(per_objective[o])]
    current = np.array([1e6 * regions[r] * objectives[o] / per_objective[o] for r, _, o in cells])
    current *= rng.uniform(0.8, 1.2, current.size)
    draws = 1000
    curves = ResponseCurves.michaelis_menten(
        cells, current * rng.lognormal(np.log(4.0), 0.3, (draws, 48)), current * rng.lognormal(0, 0.3, (draws, 48))
    )
    budget, lam, alpha = float(current.sum()), 1.0, 0.1
    plan = allocate(curves, Policy(budget=budget, risk=Risk(kind="cvar", lam=lam, alpha=alpha)), current)
    assert plan.status == "optimal" and plan.optimality_gap <= 1e-6
    spend = plan.table["spend_period"].to_numpy()
    value = _objective(curves, spend, lam, alpha)
    assert value == pytest.approx(plan.objective_value, rel=1e-9)
    # moving money between two cells of the same region and objective keeps every share rule; within the ±30% limits
    # no such move may improve the certified optimum by more than its gap
    table = plan.table
    for (_, _), group in table.groupby(["region", "objective"]):
        idx = group.index.to_numpy()
        for i in idx[:2]:
            for j in idx:
                if i == j:
                    continue
                for amount in (0.002 * budget / 48, 0.02 * budget / 48):
                    moved = spend.copy()
                    moved[i] += amount
                    moved[j] -= amount
                    if moved[i] <= 1.3 * current[i] and moved[j] >= 0.7 * current[j]:
                        assert _objective(curves, moved, lam, alpha) <= value + 1e-6 * abs(value)


def test_cvar_when_every_cell_has_s_shaped_draws():
    """A media-mix posterior's Hill shapes straddle 1 in every cell: each draw's S-shaped curves are handled by their
    envelopes, none by the plain formulas; the optimum matches the cvxpy reference."""
    rng = np.random.default_rng(4)
    n, draws = 6, 60
    current = rng.uniform(50, 150, n)
    curves = ResponseCurves.hill(
        _cells(n),
        current * rng.lognormal(np.log(3.0), 0.3, (draws, n)),
        current * rng.lognormal(0, 0.3, (draws, n)),
        rng.uniform(0.8, 1.6, (draws, n)),
    )
    policy = Policy(budget=float(current.sum()), risk=Risk(kind="cvar", lam=1.0, alpha=0.1), **ONE_GROUP)
    fast = allocate(curves, policy, current)
    reference = allocate(curves, policy, current, method="cuts")
    assert fast.optimality_gap <= 1e-6
    assert fast.objective_value == pytest.approx(reference.objective_value, rel=1e-6)


def test_lambda_and_alpha_changes_keep_the_cuts_and_match_fresh_programs():
    """What the app does on a CVaR control change: one program, its cuts kept across λ and α (they are tangents of the
    curves, valid for every λ and α), re-solved. Each re-solve is certified and agrees with a program built from
    scratch for that (λ, α): each plan's true objective lies within the other's certified bound, and the plans agree
    to the accuracy the certificate gives spend."""
    curves, current = mixed_curves(draws=120, seed=3)
    budget = float(current.sum())
    base = Policy(budget=budget, max_change=0.5, objective_tolerance=0.2, region_tolerance=0.1)
    allocator = Allocator(curves, current)
    rows_before = 0
    for lam, alpha in [(0.5, 0.1), (3.0, 0.1), (0.3, 0.1), (3.0, 0.2), (1.0, 0.05), (0.5, 0.1)]:
        policy = base.model_copy(update={"risk": Risk(kind="cvar", lam=lam, alpha=alpha)}).validated()
        again = allocator.allocate(policy)
        fresh = allocate(curves, policy, current)
        (program,) = allocator._programs.values()
        assert program.n_rows >= rows_before  # the earlier cuts are still in the LP
        rows_before = program.n_rows
        for plan in (again, fresh):
            assert plan.status == "optimal" and plan.optimality_gap <= 1e-7
        spends = [p.table["spend_period"].to_numpy() for p in (again, fresh)]
        v_again, v_fresh = (_objective(curves, s, lam, alpha) for s in spends)
        assert v_again == pytest.approx(again.objective_value, rel=1e-9)
        # each plan's upper bound covers the other plan's value: the two certificates are consistent
        assert v_fresh <= v_again + again.optimality_gap * abs(v_again) + 1e-9 * abs(v_again)
        assert v_again <= v_fresh + fresh.optimality_gap * abs(v_fresh) + 1e-9 * abs(v_fresh)
        np.testing.assert_allclose(spends[0], spends[1], atol=5e-3 * budget / len(spends[0]))
    assert len(allocator._programs) == 1
