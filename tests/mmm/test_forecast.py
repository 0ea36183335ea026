"""Predictive revenue after the fit (mmm.forecast), from the shipped sample posterior and prior draws (no MCMC)."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

import mmm
from contracts import ContractError, load_dataset
from mmm.data import prepare_data
from mmm.forecast import TOTAL, expected_draws, region_matrix

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
WEEK = pd.Timedelta(weeks=1)


@pytest.fixture(scope="module")
def fitted():
    return mmm.load(SAMPLE / "posterior")


_DATASET: dict[str, pd.DataFrame] = {}


@pytest.fixture(scope="module")
def dataset():
    data = load_dataset(SAMPLE)
    _DATASET["controls"] = data.controls
    return data


def shifted(table: pd.DataFrame, last: pd.Timestamp, weeks: int = 13) -> pd.DataFrame:
    """The last ``weeks`` weeks of ``table`` moved ``weeks`` weeks on: "the last quarter again"."""
    out = table[pd.to_datetime(table["week"]) > last - weeks * WEEK].copy()
    out["week"] = pd.to_datetime(out["week"]) + weeks * WEEK
    return out.reset_index(drop=True)


@pytest.fixture(scope="module")
def scenario(fitted, dataset):
    """Next quarter's spend = last quarter's; controls = the fitted weeks plus last quarter's repeated."""
    last = fitted.data.weeks[-1]
    controls = pd.concat([dataset.controls, shifted(dataset.controls, last)], ignore_index=True)
    return shifted(dataset.spend, last), controls


@pytest.fixture(scope="module")
def forecast(fitted, scenario):
    return fitted.predict(*scenario, seed=1)


# ------------------------------------------------------------------ the engine is the in-sample model
def test_in_sample_reproduces_predicted_draws(fitted):
    data = fitted.data
    draws = np.arange(0, fitted.n_draws, 25)
    baseline, contribution = expected_draws(fitted, data.spend, data.controls, np.arange(data.n_weeks), draws)
    expected = fitted.predicted_draws()[draws]
    np.testing.assert_allclose(baseline + contribution @ region_matrix(data), expected, rtol=1e-9)
    np.testing.assert_allclose(baseline, fitted.draws("baseline")[draws] * data.revenue_scale, rtol=1e-9)


@pytest.mark.slow  # compiling the PyMC graph for prior draws takes ~20 s
@pytest.mark.parametrize(
    "spec",
    [
        mmm.MMMSpec(
            baseline="multiplicative", adstock=mmm.DelayedAdstock(l_max=4), saturation=mmm.LogisticSaturation()
        ),
        mmm.MMMSpec(trend_form="linear"),
    ],
    ids=["product-delayed-logistic", "linear-trend"],
)
def test_in_sample_other_components_from_prior_draws(world, spec):
    """Other baseline forms, trends, adstock and saturation: the engine against the PyMC graph itself."""
    prior = mmm.prior_predictive(world.data, spec, draws=12, seed=3).prior
    data = prepare_data(world.data)
    fit = mmm.FittedMMM(data=data, spec=spec, idata=az.InferenceData(posterior=prior), roi_prior=pd.DataFrame())
    assert data.controls.shape[2] > 0  # the small world has controls: their term is exercised
    baseline, contribution = expected_draws(fit, data.spend, data.controls, np.arange(data.n_weeks))
    np.testing.assert_allclose(baseline + contribution @ region_matrix(data), fit.predicted_draws(), rtol=1e-9)


# ------------------------------------------------------------------ carry-over, noise, baseline
def test_zero_spend_decays_the_fitted_carry_over(fitted, dataset):
    data = fitted.data
    last = data.weeks[-1]
    weeks = pd.date_range(last + WEEK, periods=10, freq="7D")
    spend = pd.DataFrame(
        [(w, r, c, 0.0) for w in weeks for r, c in zip(data.cells["region"], data.cells["channel"], strict=True)],
        columns=["week", "region", "channel", "spend"],
    )
    controls = pd.concat([_controls_history(fitted), _controls_new(fitted, weeks)], ignore_index=True)
    fc = fitted.predict(spend, controls, max_draws=5, seed=2)
    d = np.sort(np.random.default_rng(2).choice(fitted.n_draws, size=5, replace=False))[0]
    cell = 7
    alpha = fitted.draws("cell_adstock_alpha")[d, cell]
    l_max = fitted.spec.adstock.l_max
    w = alpha ** np.arange(l_max) / (alpha ** np.arange(l_max)).sum()
    x = data.spend[:, cell] / data.spend_scale[cell]
    half = fitted.draws("cell_saturation_half_saturation")[d, cell]
    shape = fitted.draws("cell_saturation_shape")[d, cell]
    beta = fitted.draws("beta")[d, cell] * data.revenue_scale[data.cell_region[cell]]
    for h in range(10):
        # Week T+h sees the fitted spend at lags h+1 .. l_max-1 only.
        adstock = sum(w[lag] * x[data.n_weeks + h - lag] for lag in range(h + 1, l_max))
        p = (max(adstock, 1e-12) / half) ** shape
        assert fc.contribution[0, h, cell] == pytest.approx(beta * p / (1 + p), rel=1e-9, abs=1e-3)
    # The carry-over is gone after l_max - 1 weeks (up to the saturation floor at zero adstock: < 1 currency unit).
    assert np.all(fc.contribution[:, l_max - 1 :, :] < 1.0)
    assert np.all(np.diff(fc.contribution[:, :, cell], axis=1) <= 1e-9)


def test_predictive_noise_is_the_likelihood(fitted, scenario, forecast):
    sigma = fitted.draws("sigma") * fitted.data.revenue_scale  # (draws, regions), all draws: max_draws=None
    z = (forecast.predictive - forecast.expected) / sigma[:, None, :]
    assert abs(z.mean()) < 0.02
    assert z.std() == pytest.approx(1.0, abs=0.02)
    again = fitted.predict(*scenario, seed=1)
    np.testing.assert_array_equal(again.predictive, forecast.predictive)
    other = fitted.predict(*scenario, seed=2)
    np.testing.assert_array_equal(other.expected, forecast.expected)
    assert not np.array_equal(other.predictive, forecast.predictive)


def test_next_quarter_at_last_quarters_spend_is_in_range(fitted, dataset, forecast):
    last = fitted.data.weeks[-1]
    kpi = dataset.kpi[pd.to_datetime(dataset.kpi["week"]) > last - 13 * WEEK]
    last_quarter = kpi.groupby("region")["revenue"].sum()
    horizon = forecast.horizon().set_index("region")
    for region in fitted.data.regions:
        assert horizon.at[region, "mean"] == pytest.approx(last_quarter[region], rel=0.15)
    assert horizon.at[TOTAL, "mean"] == pytest.approx(horizon["mean"].drop(TOTAL).sum(), rel=1e-12)
    assert (horizon["low"] < horizon["expected_low"]).all() and (horizon["high"] > horizon["expected_high"]).all()
    assert horizon.attrs["interval"] == "90% HDI"


def test_tables(forecast, fitted):
    weekly = forecast.weekly()
    assert list(weekly.columns) == [
        "week", "region", "mean", "low", "high", "expected_low", "expected_high", "baseline", "media"
    ]  # fmt: skip
    assert len(weekly) == 13 * len(fitted.data.regions)
    assert weekly["week"].iloc[0] == fitted.data.weeks[-1] + WEEK
    np.testing.assert_allclose(weekly["baseline"] + weekly["media"], weekly["mean"], rtol=1e-12)
    assert (weekly["low"] <= weekly["mean"]).all() and (weekly["mean"] <= weekly["high"]).all()
    contributions = forecast.contributions()
    assert len(contributions) == 13 * len(fitted.data.cells)
    media = contributions.groupby(["week", "region"])["contribution"].sum()
    np.testing.assert_allclose(weekly.set_index(["week", "region"])["media"].loc[media.index], media, rtol=1e-9)


def test_compare(forecast, fitted):
    weekly = forecast.weekly()
    typical = weekly.rename(columns={"mean": "revenue"})[["week", "region", "revenue"]]
    out = forecast.compare(typical).set_index("region")
    assert list(out.index) == [*fitted.data.regions, TOTAL]
    assert out["inside"].all()
    assert out["position"].between(0.3, 0.7).all()
    assert out.at[TOTAL, "realized"] == pytest.approx(weekly["mean"].sum())
    high = typical.assign(revenue=typical["revenue"] * 1.5)
    history = typical.assign(week=typical["week"] - 52 * WEEK)  # other weeks are ignored
    out = forecast.compare(pd.concat([history, high])).set_index("region")
    assert not out["inside"].any() and (out["position"] == 1.0).all()
    with pytest.raises(
        ContractError, match=r"kpi\.revenue: 1 \(week, region\) values of the forecast weeks are missing"
    ):
        forecast.compare(typical.iloc[1:])


def test_history_rows_equal_to_the_fit_are_ignored(fitted, dataset, scenario, forecast):
    spend, controls = scenario
    full = fitted.predict(pd.concat([dataset.spend, spend]), controls, seed=1)
    np.testing.assert_array_equal(full.predictive, forecast.predictive)
    changed = dataset.spend.copy()
    changed.loc[3, "spend"] += 100.0
    with pytest.raises(
        ContractError, match=r"spend\.spend: 1 rows at or before the last fitted week 2025-12-22 differ"
    ):
        fitted.predict(pd.concat([changed, spend]), controls)


# ------------------------------------------------------------------ bad inputs
def _scenario_args(forecast, fitted):
    cells = forecast.cells
    spend = pd.DataFrame(
        {
            "week": np.repeat(forecast.weeks, len(cells)),
            "region": np.tile(cells["region"], len(forecast.weeks)),
            "channel": np.tile(cells["channel"], len(forecast.weeks)),
            "spend": forecast.spend.reshape(-1),
        }
    )
    return spend, pd.concat([_controls_history(fitted), _controls_new(fitted, forecast.weeks)], ignore_index=True)


def _controls_history(fitted):
    return _DATASET["controls"]


def _controls_new(fitted, weeks):
    regions = fitted.data.regions
    return pd.DataFrame({"week": np.repeat(weeks, len(regions)), "region": np.tile(regions, len(weeks))}).assign(
        promo_depth=0.1
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda s: s.assign(spend=s["spend"].where(s.index != 4, np.nan)),
            r"spend\.spend: 1 rows are missing, not fin",
        ),
        (lambda s: s.assign(spend=s["spend"].where(s.index != 4, -1.0)), r"spend\.spend: 1 rows are missing, not fin"),
        (lambda s: s.drop(index=5), r"1 \(week, cell\) values of the new weeks are missing.*cell "),
        (lambda s: pd.concat([s, s.iloc[[0]]]), r"spend\.channel: 2 rows repeat a \(week, region, channel\)"),
        (
            lambda s: s[s["week"] != s["week"].iloc[-1 - 60]],
            r"not contiguous; weeks missing inside the horizon: \['2026-03-16'\]; allowed",
        ),
        (lambda s: s.assign(week=s["week"] + pd.Timedelta(days=1)), r"weeks off the weekly grid"),
        (lambda s: s.assign(region=s["region"].where(s.index != 0, "Mars")), r"cells the model does not have"),
        (lambda s: s.drop(columns="spend"), r"spend\.spend: columns \['spend'\] are missing"),
        (lambda s: s.assign(week=s["week"] - 13 * WEEK), r"has no week after the last fitted week 2025-12-22"),
    ],
)
def test_bad_spend(fitted, dataset, forecast, edit, message):
    spend, controls = _scenario_args(forecast, fitted)
    with pytest.raises(ContractError, match=message):
        fitted.predict(edit(spend), controls)


def test_bad_controls_and_options(fitted, dataset, forecast, truth_fit):
    spend, controls = _scenario_args(forecast, fitted)
    with pytest.raises(ValueError, match=r"has controls \['promo_depth'\]: predict needs a controls table"):
        fitted.predict(spend)
    with pytest.raises(ContractError, match=r"controls\.promo_depth: columns \['promo_depth'\] are missing"):
        fitted.predict(spend, controls.drop(columns="promo_depth"))
    new_only = controls[controls["week"] > fitted.data.weeks[-1]]
    with pytest.raises(ContractError, match=r"controls\.week: 416 \(week, region\) rows are missing"):
        fitted.predict(spend, new_only)
    with pytest.raises(ContractError, match=r"controls\.week: 1 \(week, region\) rows are missing.*week 2026-03-23"):
        fitted.predict(spend, controls.iloc[:-1])
    with pytest.raises(ContractError, match="fitted weeks differ from the controls the model was fitted on"):
        fitted.predict(spend, controls.assign(promo_depth=controls["promo_depth"] + 0.01))
    with pytest.raises(ValueError, match="hdi_prob must be a number in"):
        fitted.predict(spend, controls, hdi_prob=1.5)
    with pytest.raises(ValueError, match="max_draws must be an integer >= 1"):
        fitted.predict(spend, controls, max_draws=0)
    assert fitted.predict(spend, controls, max_draws=7).expected.shape == (7, 13, len(fitted.data.regions))
    data = truth_fit.data
    tiny = pd.DataFrame(
        {"week": data.weeks[-1] + WEEK, "region": data.cells["region"], "channel": data.cells["channel"], "spend": 1.0}
    )
    with pytest.raises(ValueError, match=r"lacks \['level'"):
        truth_fit.predict(tiny)
