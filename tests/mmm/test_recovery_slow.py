"""End-to-end: the sample world's true ROIs are recovered (a few minutes; still run in CI)."""

import warnings

import numpy as np
import pytest

import mmm
from simulator import simulate_world


@pytest.mark.slow
def test_sample_world_roi_recovery():
    world = simulate_world(seed=7, n_users=1_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = mmm.fit(
            world.spend,
            world.kpi,
            channels=world.channels,
            controls=world.controls,
            lift_tests=world.lift_tests,
            draws=400,
            tune=400,
            chains=2,
            seed=1,
            check=False,
        )
    est = fitted.roi().merge(world.truth.cells[["region", "channel", "roi"]], on=["region", "channel"])
    coverage = ((est["roi"] >= est["roi_hdi_low"]) & (est["roi"] <= est["roi_hdi_high"])).mean()
    error = np.median(np.abs(est["roi_mean"] / est["roi"] - 1))
    assert coverage >= 0.75
    assert error <= 0.30
    diag = fitted.diagnostics(warn=False)
    assert diag.value("mape_in_sample") < 0.05
    assert diag.value("negative_baseline_share") == 0.0
    curves = fitted.response_curves(period_weeks=13, max_draws=100)
    assert curves.n_cells == 44 and curves.n_draws == 100
