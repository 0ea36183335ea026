import numpy as np
import pandas as pd
import pytest

from contracts import ContractError
from mmm import DelayedAdstock, LogisticSaturation, MMMSpec
from mmm.priors import lognormal_from_mean_sd, relative_roi_priors, roi_prior_arrays


def test_spec_json_round_trip():
    spec = MMMSpec(
        adstock=DelayedAdstock(l_max=6),
        saturation=LogisticSaturation(),
        holdout_weeks=8,
        trend=False,
        baseline="multiplicative",
        level_offset_sd=0.2,
    )
    assert MMMSpec.from_json(spec.to_json()) == spec


def test_trend_form_round_trips_and_is_left_out_when_unset():
    spec = MMMSpec(trend_form="linear")
    assert MMMSpec.from_json(spec.to_json()) == spec
    assert spec.trend_growth == "linear"
    # a spec saved before the option existed has no key: it reads back as the default and writes the same JSON
    unset = MMMSpec().to_dict()
    assert "trend_form" not in unset
    assert MMMSpec.from_dict(unset) == MMMSpec() and MMMSpec().trend_growth == "exponential"


def test_trend_term_against_hand_values():
    from mmm.spec import trend_term

    growth = np.array([-0.2, 0.0, 0.1, -1.5])
    log_linear = trend_term(MMMSpec(trend_form="linear"), growth, np)
    np.testing.assert_allclose(np.exp(log_linear), [0.8, 1.0, 1.1, 0.05])  # floored at 0.05
    np.testing.assert_allclose(trend_term(MMMSpec(), growth, np), growth)
    product = MMMSpec(baseline="multiplicative")
    np.testing.assert_allclose(1 + trend_term(product, growth, np), [0.8, 1.0, 1.1, 0.05])
    product_exp = MMMSpec(baseline="multiplicative", trend_form="exponential")
    np.testing.assert_allclose(1 + trend_term(product_exp, growth, np), np.exp(growth))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"adstock": "geometric"}, "adstock must be an Adstock component"),
        ({"saturation": None}, "saturation must be a Saturation component"),
        ({"roi_prior_median": -1.0}, "roi_prior_median must be a finite number > 0; got -1.0"),
        ({"roi_region_sd": 0.0}, "roi_region_sd must be a finite number > 0; got 0.0"),
        ({"fourier_order": 1.5}, "fourier_order must be an integer >= 0"),
        ({"holdout_weeks": -2}, "holdout_weeks must be an integer >= 0; got -2"),
        ({"trend": "yes"}, "trend must be True or False"),
        ({"baseline": "additive"}, r"baseline must be one of \['log', 'multiplicative'\]; got 'additive'"),
        ({"level_offset_sd": 0}, "level_offset_sd must be a finite number > 0; got 0"),
        ({"trend_form": "cubic"}, r"trend_form must be None or one of \['exponential', 'linear'\]; got 'cubic'"),
    ],
)
def test_spec_errors_name_parameter_and_value(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MMMSpec(**kwargs)


def test_spec_is_frozen():
    with pytest.raises(AttributeError):
        MMMSpec().fourier_order = 3  # type: ignore[misc]


def test_lognormal_moments():
    mu, sigma = lognormal_from_mean_sd(np.array([2.5]), np.array([0.5]))
    draws = np.exp(np.random.default_rng(0).normal(mu[0], sigma[0], 400_000))
    assert draws.mean() == pytest.approx(2.5, rel=0.01)
    assert draws.std() == pytest.approx(0.5, rel=0.02)


CELLS = pd.DataFrame({"region": ["Asia", "Asia", "Europe"], "channel": ["meta_ads", "email_crm", "meta_ads"]})


def test_prior_table_fills_named_cells_and_defaults_the_rest():
    table = pd.DataFrame({"region": ["Europe"], "channel": ["meta_ads"], "roi": [3.0], "roi_sd": [1.0]})
    log_median, log_sd, from_table = roi_prior_arrays(table, CELLS, 1.5, 0.8)
    mu, sigma = lognormal_from_mean_sd(np.array([3.0]), np.array([1.0]))
    np.testing.assert_allclose(log_median, [np.log(1.5), np.log(1.5), mu[0]])
    np.testing.assert_allclose(log_sd, [0.8, 0.8, sigma[0]])
    assert from_table.tolist() == [False, False, True]


@pytest.mark.parametrize(
    "table, column",
    [
        (pd.DataFrame({"region": ["Asia"], "channel": ["meta_ads"], "roi": [2.0]}), "roi_sd"),
        (pd.DataFrame({"region": ["Asia"], "channel": ["meta_ads"], "roi": [-2.0], "roi_sd": [1.0]}), "roi"),
        (pd.DataFrame({"region": ["Asia"], "channel": ["meta_ads"], "roi": [2.0], "roi_sd": [np.nan]}), "roi_sd"),
        (pd.DataFrame({"region": ["Mars"], "channel": ["meta_ads"], "roi": [2.0], "roi_sd": [1.0]}), "region, channel"),
        (
            pd.DataFrame(
                {"region": ["Asia", "Asia"], "channel": ["meta_ads"] * 2, "roi": [2.0, 3.0], "roi_sd": [1.0, 1.0]}
            ),
            "region, channel",
        ),
    ],
)
def test_bad_prior_tables(table, column):
    with pytest.raises(ContractError) as info:
        roi_prior_arrays(table, CELLS, 1.5, 0.8)
    assert info.value.table == "roi_priors"
    assert info.value.column == column


def test_relative_priors_keep_only_the_ranking_within_each_region():
    # Attribution on a tiny sample's scale (ROI ~ 0.005): the priors come back on the MMM's scale, same ratios.
    attributed = pd.DataFrame(
        {
            "region": ["Asia", "Asia", "Europe", "Europe", "Europe"],
            "channel": ["meta_ads", "email_crm", "meta_ads", "email_crm", "tiktok_shop"],
            "roi": [0.002, 0.008, 0.004, 0.004, np.nan],
        }
    )
    table = relative_roi_priors(attributed, median=1.5, log_sd=0.8)
    assert table[["region", "channel"]].values.tolist() == [
        ["Asia", "meta_ads"],
        ["Asia", "email_crm"],
        ["Europe", "meta_ads"],
        ["Europe", "email_crm"],
    ]
    cells = table[["region", "channel"]]
    log_median, log_sd, from_table = roi_prior_arrays(table, cells, 1.5, 0.8)
    np.testing.assert_allclose(np.exp(log_median), [0.75, 3.0, 1.5, 1.5])
    np.testing.assert_allclose(log_sd, 0.8)
    assert from_table.all()
