"""The simulator's true response curves agree with its weekly model run at a constant spend; the average period
spend is the window's average, not the current (last-period) spend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contracts import ResponseCurves, period_spend
from simulator import simulate_world
from simulator.media import geometric_adstock, hill


@pytest.fixture(scope="module")
def world():
    return simulate_world(seed=5, weeks=52, n_users=1_000)


def test_period_curve_is_the_steady_state_of_the_weekly_model(world):
    period = 13
    curves = world.truth.response_curves(period_weeks=period)
    cells = world.truth.cells
    assert isinstance(curves, ResponseCurves)
    assert (curves.period_weeks, curves.currency) == (13, None)
    assert curves.beta.shape == (1, len(cells))
    assert list(curves.cells["channel"]) == list(cells["channel"])
    for multiple in (0.5, 1.0, 2.0):
        weekly = multiple * cells["spend_window"].to_numpy() / 52
        # Run the weekly model for l_max weeks of warm-up, then one period at that constant spend.
        n_weeks = int(cells["l_max"].iloc[0]) + period
        spend = np.tile(weekly, (n_weeks, 1))
        adstock = geometric_adstock(spend, cells["adstock_alpha"].to_numpy(), int(cells["l_max"].iloc[0]))
        weekly_revenue = cells["beta_weekly"].to_numpy() * hill(
            adstock, cells["half_saturation_weekly"].to_numpy(), cells["hill_shape"].to_numpy()
        )
        expected = weekly_revenue[-period:].sum(axis=0)
        np.testing.assert_allclose(curves.revenue(period * weekly)[0], expected, rtol=1e-9)


def test_curves_record_their_period_and_currency(world):
    curves = world.truth.response_curves(period_weeks=4, currency="EUR")
    assert (curves.period_weeks, curves.currency) == (4, "EUR")
    np.testing.assert_allclose(curves.beta[0], 4 * world.truth.cells["beta_weekly"].to_numpy())
    np.testing.assert_allclose(curves.scale[0], 4 * world.truth.cells["half_saturation_weekly"].to_numpy())
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="period_weeks must be an integer >= 1"):
            world.truth.response_curves(period_weeks=bad)


def test_average_period_spend_is_the_window_average_not_the_current_spend(world):
    average = world.truth.average_period_spend(period_weeks=13)
    assert average.columns.tolist() == ["region", "channel", "objective", "spend_period"]
    assert average["spend_period"].sum() == pytest.approx(world.spend["spend"].sum() / 4, rel=1e-12)
    # Current spend is the last 13 weeks' (contracts.period_spend): another number wherever spend moves.
    current = period_spend(world.spend, 13)
    both = average.merge(current, on=["region", "channel"], suffixes=("_average", "_current"), validate="one_to_one")
    last = world.spend[world.spend["week"] >= world.spend["week"].max() - pd.Timedelta(weeks=12)]
    expected = last.groupby(["region", "channel"])["spend"].sum()
    got = both.set_index(["region", "channel"])["spend_period_current"]
    np.testing.assert_allclose(got, expected.loc[got.index])
    assert not np.allclose(both["spend_period_average"], both["spend_period_current"], rtol=0.01)
    with pytest.raises(ValueError, match="period_weeks must be an integer >= 1"):
        world.truth.average_period_spend(period_weeks=0)
