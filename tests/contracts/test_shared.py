"""The ground floor the packages share: the one HDI, current spend, the response-curve file, the dataset type and an
import that leaves the process as it found it."""

from __future__ import annotations

import subprocess
import sys

import arviz as az
import numpy as np
import pandas as pd
import pytest

from contracts import ContractError, Dataset, ResponseCurves, hdi, interval_label, period_spend


@pytest.mark.parametrize("n", [10, 11, 57, 400])
@pytest.mark.parametrize("prob", [0.5, 0.8, 0.9, 0.94])
def test_hdi_matches_arviz(n, prob):
    rng = np.random.default_rng(n)
    draws = np.column_stack([rng.gamma(2.0, size=n), rng.normal(size=n), rng.lognormal(0, 1, size=n)])
    low, high = hdi(draws, prob)
    for k in range(draws.shape[1]):
        expected = az.hdi(draws[:, k], hdi_prob=prob)
        np.testing.assert_allclose([low[k], high[k]], expected, rtol=0, atol=0)


def test_hdi_of_ten_draws_spans_nine_gaps_as_arviz_does():
    low, high = hdi(np.arange(10.0)[:, None], 0.9)
    assert (low[0], high[0]) == (0.0, 9.0)


def test_hdi_keeps_infinite_draws_out_of_the_interval_when_it_can():
    draws = np.array([[1.0], [1.1], [1.2], [1.3], [np.inf]])
    low, high = hdi(draws, 0.6)  # floor(0.6 * 5) + 1 = 4 draws
    assert (low[0], high[0]) == (1.0, 1.3)
    assert interval_label(0.9) == "90% HDI"
    assert interval_label(0.5, "equal-tailed") == "50% equal-tailed"


@pytest.mark.parametrize("prob", [0, 1, 1.5, True, "0.9"])
def test_hdi_rejects_bad_mass(prob):
    with pytest.raises(ValueError, match="prob must be"):
        hdi(np.ones((5, 1)), prob)


def _spend(weeks: int = 6) -> pd.DataFrame:
    dates = pd.date_range("2025-01-06", periods=weeks, freq="W-MON")
    return pd.DataFrame(
        {
            "week": np.repeat(dates, 2),
            "region": ["Asia", "Europe"] * weeks,
            "channel": "meta_ads",
            "spend": np.arange(2 * weeks, dtype=float),
        }
    )


def test_period_spend_sums_the_last_weeks_by_hand():
    spend = _spend()
    out = period_spend(spend, 3)
    # weeks 4-6: Asia rows 6, 8, 10; Europe rows 7, 9, 11
    assert out[["region", "spend_period"]].to_dict("records") == [
        {"region": "Asia", "spend_period": 24.0},
        {"region": "Europe", "spend_period": 27.0},
    ]
    assert (out["weeks"] == 3).all()
    assert out["first_week"].iloc[0] == pd.Timestamp("2025-01-27")
    early = period_spend(spend, 2, end="2025-01-13")
    assert early["spend_period"].tolist() == [0.0 + 2.0, 1.0 + 3.0]


def test_period_spend_refuses_a_period_longer_than_the_data():
    with pytest.raises(ValueError, match="6 weeks up to 2025-02-10, fewer than period_weeks = 13"):
        period_spend(_spend(), 13)
    with pytest.raises(ValueError, match="period_weeks must be an integer"):
        period_spend(_spend(), 0)


def _curves(**kw) -> ResponseCurves:
    cells = [("Asia", "meta_ads", "acquisition"), ("Europe", "email_crm", "retention")]
    rng = np.random.default_rng(0)
    return ResponseCurves.hill(
        cells,
        beta=rng.uniform(100, 200, (7, 2)),
        half_saturation=rng.uniform(10, 50, (7, 2)),
        shape=rng.uniform(0.5, 2, (7, 2)),
        **kw,
    )


def test_response_curves_save_and_load_round_trip(tmp_path):
    curves = _curves(period_weeks=26, currency="EUR")
    back = ResponseCurves.load(curves.save(tmp_path / "curves.parquet"))
    assert (back.period_weeks, back.currency, back.family) == (26, "EUR", curves.family)
    pd.testing.assert_frame_equal(back.cells, curves.cells)
    for name in ("beta", "scale", "shape"):
        np.testing.assert_array_equal(getattr(back, name), getattr(curves, name))
    spend = np.array([30.0, 20.0])
    np.testing.assert_array_equal(back.revenue(spend), curves.revenue(spend))


def test_response_curves_carry_their_period_through_every_copy():
    curves = _curves(period_weeks=4, currency="USD")
    for copy in (curves.mean_draw(), curves.subset_draws(slice(0, 2)), ResponseCurves.concat([curves])):
        assert (copy.period_weeks, copy.currency) == (4, "USD")
    with pytest.raises(ValueError, match="one planning period"):
        ResponseCurves.concat([curves, _curves(period_weeks=13)])
    with pytest.raises(ValueError, match="period_weeks must be an integer"):
        _curves(period_weeks=0)


def test_loading_a_foreign_parquet_file_says_what_it_is(tmp_path):
    path = tmp_path / "other.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(path)
    with pytest.raises(ValueError, match="not a response-curve file"):
        ResponseCurves.load(path)


def test_dataset_validates_once_on_construction():
    spend = _spend().assign(spend=lambda d: d["spend"].astype(str))
    data = Dataset(spend=spend)
    assert data.spend["spend"].dtype == float  # the validated, coerced copy is what the dataset holds
    bad = _spend()
    bad.loc[3, "spend"] = -5.0
    with pytest.raises(ContractError, match="spend"):
        Dataset(spend=bad)
    with pytest.raises(TypeError, match=r"Dataset\.kpi must be a pandas DataFrame"):
        Dataset(kpi=[1, 2])
    with pytest.raises(ValueError, match=r"needs the table\(s\) \['kpi'\]"):
        data.require("spend", "kpi", purpose="the media-mix fit")


def test_importing_the_packages_changes_no_warning_filter():
    # Third-party libraries add filters of their own when imported; import them first so that only ours are seen.
    code = (
        "import warnings, numpy, scipy.stats, pandas, pandera.pandas, pymc, arviz, cvxpy, duckdb, ibis; "
        "before = list(warnings.filters); "
        "import contracts, attribution, mmm, optimizer, simulator; "
        "added = [f for f in warnings.filters if f not in before]; "
        "print(len(added)); print(added)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[0] == "0", out
