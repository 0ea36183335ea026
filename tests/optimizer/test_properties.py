"""Property tests: the policy holds for random curves, budgets and bands."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import Allocator, Policy, ResponseCurves
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


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    budget_factor=st.floats(0.8, 1.2),
    obj_tol=st.sampled_from([0.0, 0.02, 0.1]),
    reg_tol=st.sampled_from([0.0, 0.02, 0.1]),
)
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
    try:
        plan = Allocator(curves, current).allocate(policy)
    except ValueError:  # an infeasible draw of bounds vs shares is allowed; it must say why
        return
    spend = plan.table["spend"].to_numpy()
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
    spend = Allocator(curves, np.full(n, 100.0)).allocate(policy).table["spend"].to_numpy()
    np.testing.assert_allclose(spend, spend.mean(), rtol=1e-4)
