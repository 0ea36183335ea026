"""Hostile and malformed input to the media-mix model's arguments and data (issue 13); no sampling."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

import mmm
from contracts import ContractError, Dataset
from mmm.data import prepare_data


def bypass(data: Dataset, **tables: pd.DataFrame) -> Dataset:
    """A copy of ``data`` with tables swapped in unchecked, as a Dataset built elsewhere might reach the model."""
    copy = dataclasses.replace(data)
    for name, table in tables.items():
        object.__setattr__(copy, name, table)
    return copy


def test_lift_test_on_a_cell_without_spend_names_test_and_cell(world):
    spend = world.data.spend.copy()
    spend.loc[(spend["region"] == "Europe") & (spend["channel"] == "meta_ads"), "spend"] = 0.0
    data = bypass(world.data, spend=spend)
    with (
        pytest.warns(UserWarning, match="Europe/meta_ads"),
        pytest.raises(
            ContractError,
            match=r"lift_tests\.channel: 1 tests are on cells with no spend.*test row 0 \(Europe/meta_ads",
        ),
    ):
        prepare_data(data)


@pytest.mark.parametrize("delta", [1e9, 1e12])
def test_lift_spend_delta_beyond_observed_spend_is_refused(world, delta):
    lift = world.data.lift_tests.copy()
    lift.loc[0, "spend_delta"] = delta
    with pytest.raises(
        ContractError, match=re.escape(f"lift_tests.spend_delta: spend_delta {delta:,.6g} exceeds the cell's observed")
    ) as info:
        prepare_data(bypass(world.data, lift_tests=lift))
    assert "would be -" in str(info.value) and "test row 0 (Europe/meta_ads" in str(info.value)


def test_lift_spend_delta_far_below_observed_spend_is_refused(world):
    lift = world.data.lift_tests.copy()
    lift.loc[0, "spend_delta"] = -1e12
    with pytest.raises(ContractError, match=r"implies a spend without the test of .* more than 100× the cell's"):
        prepare_data(bypass(world.data, lift_tests=lift))


def test_lift_window_outside_the_data_is_refused(world):
    lift = world.data.lift_tests.copy()
    lift.loc[1, ["start", "end"]] = [pd.Timestamp("2040-01-02"), pd.Timestamp("2040-01-30")]
    with pytest.raises(ContractError, match=r"overlaps no week of the data window.*test row 1 \(Europe/email_crm"):
        prepare_data(bypass(world.data, lift_tests=lift))


def test_valid_lift_tests_are_unchanged(world, data):
    again = prepare_data(bypass(world.data))
    np.testing.assert_array_equal(again.lift_counterfactual, data.lift_counterfactual)


def test_region_with_all_zero_revenue_is_named(world):
    kpi = world.data.kpi.copy()
    kpi.loc[kpi["region"] == "Asia", "revenue"] = 0.0
    with pytest.raises(ContractError, match=r"kpi\.revenue: 1 regions have zero revenue in every week.*region 'Asia'"):
        prepare_data(bypass(world.data, kpi=kpi))


def test_missing_revenue_weeks_are_named(world):
    kpi = world.data.kpi.copy()
    kpi = kpi.drop(index=kpi.index[(kpi["region"] == "Europe")][:3])
    with pytest.raises(ContractError, match=r"weeks have no revenue.*region 'Europe': 3 weeks, first 2024-01-01"):
        prepare_data(bypass(world.data, kpi=kpi))


@pytest.mark.parametrize("seed", [1.7, True, "7", -1, 2**40, np.float64(3.0)])
def test_fit_refuses_seeds_that_are_not_integers(world, seed):
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 4294967295\] or None; got"):
        mmm.fit(world.data, seed=seed)


@pytest.mark.parametrize("seed", [1.7, False])
def test_prior_predictive_refuses_seeds_that_are_not_integers(world, seed):
    with pytest.raises(ValueError, match=r"seed must be an integer .* got (float 1\.7|bool False)"):
        mmm.prior_predictive(world.data, draws=5, seed=seed)


def test_prior_predictive_bounds_draws(world):
    with pytest.raises(ValueError, match=r"draws must be <= 100_000; got 1_000_000_000"):
        mmm.prior_predictive(world.data, draws=10**9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"draws": 10**9}, r"Sampler\.draws must be <= 100_000; got 1_000_000_000"),
        ({"tune": 200_000}, r"Sampler\.tune must be <= 100_000; got 200_000"),
        ({"chains": 1000}, r"Sampler\.chains must be <= 64; got 1_000"),
        ({"chains": 2.0}, r"Sampler\.chains must be an integer >= 1; got 2\.0"),
        ({"draws": True}, r"Sampler\.draws must be an integer >= 1; got True"),
    ],
)
def test_sampler_bounds_its_work(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mmm.Sampler(**kwargs)


def test_sampler_limits_still_accept_the_largest_values():
    settings = mmm.Sampler(draws=100_000, tune=100_000, chains=64)
    assert (settings.draws, settings.tune, settings.chains) == (100_000, 100_000, 64)
