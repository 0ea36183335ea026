"""CVaR risk on mixed curve families: it solves, and it trades expected revenue for a better worst tail."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer import Policy, ResponseCurves, Risk, allocate

REGIONS = {"Asia": 0.35, "Europe": 0.25, "North America": 0.20, "Other": 0.20}
CHANNELS = {"search": "acquisition", "social": "acquisition", "email": "retention", "video": "brand"}


def mixed_curves(draws: int, seed: int = 3) -> tuple[ResponseCurves, np.ndarray]:
    rng = np.random.default_rng(seed)
    cells = [(r, c, o) for r in REGIONS for c, o in CHANNELS.items()]
    n = len(cells)
    current = rng.uniform(20_000, 60_000, n)
    beta = rng.lognormal(np.log(3 * current), 0.35, (draws, n))
    half = rng.lognormal(np.log(current), 0.3, (draws, n))
    # Hill shapes just below 1 are the near-degenerate power cones that stalled the conic CVaR program.
    shape = np.clip(rng.uniform(0.6, 1.0, (draws, n)), None, 0.999)
    hill = ResponseCurves.hill(cells[: n // 2], beta[:, : n // 2], half[:, : n // 2], shape[:, : n // 2])
    expo = ResponseCurves.exponential(cells[n // 2 :], beta[:, n // 2 :], half[:, n // 2 :])
    return ResponseCurves.concat([hill, expo]), current


def tail_mean(revenue: np.ndarray, alpha: float = 0.1) -> float:
    return float(np.sort(revenue)[: max(1, int(alpha * len(revenue)))].mean())


@pytest.mark.parametrize("lam", [0.5, 2.0])
def test_cvar_solves_and_improves_the_tail(lam):
    curves, current = mixed_curves(draws=200)
    budget = float(current.sum())
    mean_plan = allocate(curves, Policy(budget=budget, max_change=None), current)
    risk = Risk(kind="cvar", lam=lam, alpha=0.1)
    risk_plan = allocate(curves, Policy(budget=budget, max_change=None, risk=risk), current)
    assert risk_plan.status in ("optimal", "optimal_inaccurate")
    assert risk_plan.table["spend_period"].sum() == pytest.approx(budget, rel=1e-6)

    def revenue(plan):
        spend = plan.table["spend_period"].to_numpy()
        return curves.revenue(spend).sum(axis=1)

    mean_rev, risk_rev = revenue(mean_plan), revenue(risk_plan)
    scale = mean_rev.mean()
    assert risk_rev.mean() <= mean_rev.mean() + 1e-6 * scale
    assert tail_mean(risk_rev) >= tail_mean(mean_rev) - 1e-6 * scale
    # The objective it maximised: mean + lam * (mean of the worst 10% of draws), no worse than the mean plan's.
    objective = risk_rev.mean() + lam * tail_mean(risk_rev)
    assert objective >= mean_rev.mean() + lam * tail_mean(mean_rev) - 1e-5 * scale
