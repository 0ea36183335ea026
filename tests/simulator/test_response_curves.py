"""The simulator's true response curves agree with its weekly model run at a constant spend."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import simulate_world
from simulator.media import geometric_adstock, hill


@pytest.fixture(scope="module")
def world():
    return simulate_world(seed=5, weeks=52, n_users=1_000)


def test_period_curve_is_the_steady_state_of_the_weekly_model(world):
    period = 13
    curves = world.truth.response_curves(period_weeks=period)
    cells = world.truth.cells
    assert curves.beta.shape == (1, len(cells))
    assert list(curves.cells["channel"]) == list(cells["channel"])
    for multiple in (0.5, 1.0, 2.0):
        weekly = multiple * cells["spend"].to_numpy() / 52
        # Run the weekly model for l_max weeks of warm-up, then one period at that constant spend.
        n_weeks = int(cells["l_max"].iloc[0]) + period
        spend = np.tile(weekly, (n_weeks, 1))
        adstock = geometric_adstock(spend, cells["adstock_alpha"].to_numpy(), int(cells["l_max"].iloc[0]))
        weekly_revenue = cells["beta"].to_numpy() * hill(
            adstock, cells["half_saturation"].to_numpy(), cells["hill_shape"].to_numpy()
        )
        expected = weekly_revenue[-period:].sum(axis=0)
        np.testing.assert_allclose(curves.revenue(period * weekly)[0], expected, rtol=1e-9)


def test_period_spend_scales_the_window_total(world):
    current = world.truth.period_spend(period_weeks=13)
    assert current["spend"].sum() == pytest.approx(world.spend["spend"].sum() / 4, rel=1e-12)
    with pytest.raises(ValueError, match="period_weeks must be >= 1"):
        world.truth.response_curves(period_weeks=0)
