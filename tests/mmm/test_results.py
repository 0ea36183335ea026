"""Answers of a FittedMMM whose posterior is the simulator's truth must equal the truth."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import mmm
from contracts import hdi


def _truth_cells(world, fitted):
    return world.truth.cells.set_index(["region", "channel"]).loc[
        list(zip(fitted.data.cells["region"], fitted.data.cells["channel"], strict=True))
    ]


def test_roi_and_mroi_equal_truth(world, truth_fit):
    table = truth_fit.roi(roi_hurdle=1.5)
    truth = _truth_cells(world, truth_fit)
    np.testing.assert_allclose(table["roi"], truth["roi"], rtol=1e-9)
    np.testing.assert_allclose(table["spend_window"], truth["spend_window"], rtol=1e-9)
    np.testing.assert_allclose(table["contribution"], truth["contribution_window"], rtol=1e-9)
    np.testing.assert_allclose(table["mroi"], truth["mroi"], rtol=1e-6)
    np.testing.assert_array_equal(table["p_roi_below_hurdle"], (truth["roi"] < 1.5).astype(float))
    # every draw is the truth: each interval collapses onto it
    np.testing.assert_allclose(table["roi_low"], truth["roi"], rtol=1e-9)
    np.testing.assert_allclose(table["roi_high"], truth["roi"], rtol=1e-9)
    np.testing.assert_allclose(table["mroi_low"], truth["mroi"], rtol=1e-6)
    np.testing.assert_allclose(table["roi_median"], truth["roi"], rtol=1e-9)
    assert table.attrs == {"interval": "90% HDI", "roi_hurdle": 1.5}
    assert truth_fit.roi(hdi_prob=0.5).attrs["interval"] == "50% HDI"


def test_contributions_equal_truth(world, truth_fit):
    got = truth_fit.contributions()
    media = got[got["channel"] != "baseline"].set_index(["week", "region", "channel"])
    truth = world.truth.weekly.set_index(["week", "region", "channel"])
    joined = media.join(truth["contribution"].rename("contribution_true"))
    np.testing.assert_allclose(joined["contribution"], joined["contribution_true"], rtol=1e-8, atol=1e-6)
    np.testing.assert_allclose(joined["contribution_low"], joined["contribution_true"], rtol=1e-8, atol=1e-6)
    assert (got["contribution_low"] <= got["contribution_high"]).all()
    assert got.attrs["interval"] == "90% HDI"
    assert (got["channel"] == "baseline").sum() == 78 * 2


def test_response_curves_equal_truth_curves(world, truth_fit):
    curves = truth_fit.response_curves(period_weeks=13)
    oracle = world.truth.response_curves(period_weeks=13)
    order = [
        list(zip(oracle.cells["region"], oracle.cells["channel"], strict=True)).index((r, c))
        for r, c in zip(curves.cells["region"], curves.cells["channel"], strict=True)
    ]
    spend = world.truth.average_period_spend(13)["spend_period"].to_numpy()[order]
    np.testing.assert_allclose(curves.revenue(spend)[0], oracle.revenue(spend[np.argsort(order)])[0][order], rtol=1e-9)
    assert curves.n_draws == truth_fit.n_draws
    assert (curves.period_weeks, curves.currency) == (13, None)
    assert truth_fit.response_curves(period_weeks=4, currency="EUR").currency == "EUR"
    assert truth_fit.response_curves(max_draws=7).n_draws == 7
    with pytest.raises(ValueError, match="period_weeks must be an integer >= 1; got 0"):
        truth_fit.response_curves(period_weeks=0)


def test_diagnostics_of_truth_pass_fit_checks_and_flag_no_mixing(truth_fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diag = truth_fit.diagnostics(warn=True)
    table = diag.table.set_index("metric")
    assert table.at["mape_in_sample", "value"] < 0.05
    assert table.at["r2_in_sample", "value"] > 0.9
    assert 0.75 <= table.at["ppc_coverage_90", "value"] <= 0.99
    assert table.at["negative_baseline_share", "value"] == 0.0
    assert table.at["mape_holdout", "passed"] is None  # no hold-out: not measured
    # constant draws have no effective sample size: the verdict must fail, loudly
    assert not diag.passed
    assert any(issubclass(w.category, mmm.MMMDiagnosticWarning) and "min_ess_bulk" in str(w.message) for w in caught)


def test_save_load_round_trip(tmp_path, truth_fit):
    truth_fit.save(tmp_path / "fit")
    loaded = mmm.load(tmp_path / "fit")
    assert loaded.spec == truth_fit.spec
    pd.testing.assert_frame_equal(loaded.roi(), truth_fit.roi())
    assert loaded.data.weeks.equals(truth_fit.data.weeks)
    assert list(loaded.data.lift_tests["start"]) == list(truth_fit.data.lift_tests["start"])
    assert not any(p.suffix in (".pkl", ".pickle") for p in (tmp_path / "fit").iterdir())
    with pytest.raises(FileNotFoundError, match=r"posterior\.nc is missing"):
        mmm.load(tmp_path)


def test_roi_hurdle_validation(truth_fit):
    with pytest.raises(ValueError, match="roi_hurdle must be a finite number > 0; got -1"):
        truth_fit.roi(roi_hurdle=-1)


def test_hdi_by_hand():
    draws = np.array([[0.0], [1.0], [2.0], [3.0], [100.0]])
    low, high = hdi(draws, 0.6)
    assert (low[0], high[0]) == (0.0, 3.0)


@pytest.mark.parametrize("jitter", [0.0, 0.3, 1.2])
def test_prior_sd_ratio_flags_posteriors_as_wide_as_the_prior(truth_fit, jitter):
    # ROI draws spread around the truth by exp(jitter * z): the posterior sd of log ROI is jitter (sample sd below).
    # The fixture's prior has log sd 1.0 and every cell of the small world is pooled (two regions), so the prior sd
    # of log ROI is sqrt(1.0 + 1.5 * 0.3**2) = 1.0654 (MMMSpec's default roi_region_sd 0.3).
    idata = truth_fit.idata.copy()
    z = np.random.default_rng(4).standard_normal(idata.posterior["roi"].shape)
    idata.posterior["roi"] = idata.posterior["roi"] * np.exp(jitter * z)
    table = dataclasses.replace(truth_fit, idata=idata).roi()
    sample_sd = (jitter * z).reshape(-1, z.shape[-1]).std(axis=0)
    np.testing.assert_allclose(table["prior_sd_ratio"], sample_sd / 1.0654, rtol=1e-4, atol=1e-12)
    assert (table["prior_dominated"] == (sample_sd / 1.0654 > 0.8)).all()
    assert table["prior_dominated"].all() if jitter == 1.2 else not table["prior_dominated"].any()


def test_diagnostics_name_the_parameter_whose_chains_disagree(world, data, truth_fit):
    # Draws jittered around the truth, independent across 2 chains (they mix), except one cell whose second chain
    # sits at twice the ROI: a stuck chain. The verdict must fail and name that cell with its chains' means.
    from tests.mmm.conftest import truth_posterior

    idata = truth_posterior(world, data, n_chains=2, n_draws=1000, jitter=0.05, seed=2)
    stuck = 3
    idata.posterior["roi"][1, :, stuck] *= 2.0
    fitted = dataclasses.replace(truth_fit, idata=idata)
    label = f"roi[{fitted.data.cell_label(stuck)}]"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diag = fitted.diagnostics(warn=True)
    assert not diag.passed
    params = diag.parameters
    assert params.loc[0, "parameter"] == label and params.loc[0, "rhat"] > 1.5
    means = params.loc[0, "chain_means"]
    assert means[1] / means[0] == pytest.approx(2.0, rel=0.02)
    assert (params["rhat"].iloc[1:].dropna() < 1.05).all()  # every other scalar mixes
    text = " ".join(str(w.message) for w in caught if issubclass(w.category, mmm.MMMDiagnosticWarning))
    assert f"worst mixing: {label} (R-hat" in text
    assert diag.value("max_rhat") == pytest.approx(params.loc[0, "rhat"])
    # The ROI table carries each ROI's own R-hat and ESS.
    roi = fitted.roi()
    assert roi.loc[stuck, "rhat"] == pytest.approx(params.loc[0, "rhat"])
    assert (roi.drop(index=stuck)["rhat"] < 1.05).all() and (roi["ess_bulk"] > 0).all()


def test_diagnostics_name_nothing_when_chains_agree(world, data, truth_fit):
    from tests.mmm.conftest import truth_posterior

    idata = truth_posterior(world, data, n_chains=2, n_draws=1000, jitter=0.05, seed=2)
    diag = dataclasses.replace(truth_fit, idata=idata).diagnostics(warn=False)
    assert diag.worst_mixing().empty
    assert "worst mixing" not in diag.message()


def test_diagnostics_label_multi_dimensional_parameters_and_put_constant_ones_last(world, data, truth_fit):
    # A 3 x 2 parameter (like season: fourier x region) with one element's second chain stuck, and a constant
    # scalar (no R-hat): the stuck element must be named by its own coordinates, and the constant one sorted last.
    from tests.mmm.conftest import truth_posterior

    idata = truth_posterior(world, data, n_chains=2, n_draws=1000, jitter=0.05, seed=2)
    rng = np.random.default_rng(8)
    season = rng.normal(0.0, 1.0, (2, 1000, 3, 2))
    season[1, :, 2, 0] += 3.0  # element (f3, r1): fourier index 2, region index 0
    idata.posterior["season"] = (("chain", "draw", "fourier", "reg"), season)
    idata.posterior = idata.posterior.assign_coords(fourier=["f1", "f2", "f3"], reg=["r1", "r2"])
    idata.posterior["fixed"] = (("chain", "draw"), np.full((2, 1000), 0.7))
    diag = dataclasses.replace(truth_fit, idata=idata).diagnostics(warn=False)
    params = diag.parameters
    assert params.loc[0, "parameter"] == "season[f3, r1]" and params.loc[0, "rhat"] > 1.5
    np.testing.assert_allclose(params.loc[0, "chain_means"], season[:, :, 2, 0].mean(axis=1))
    by_label = params.set_index("parameter")
    for f, r in [(0, 0), (0, 1), (1, 1), (2, 1)]:
        np.testing.assert_allclose(
            by_label.at[f"season[f{f + 1}, r{r + 1}]", "chain_means"], season[:, :, f, r].mean(1)
        )
    assert params["parameter"].iloc[-1] == "fixed" and np.isnan(params["rhat"].iloc[-1])
    assert list(diag.worst_mixing()["parameter"]) == ["season[f3, r1]"]


def _tradeoff_fit(world, data, truth_fit, a: float, b: float = 0.0):
    # ROI draws jittered around the truth, plus shared factors per draw: u raises every meta_ads cell and lowers every
    # email_crm cell by a, v lowers email_crm and raises youtube_video by b, as when channels' spend moves together
    # and only their combined effect is pinned. Expected correlations about -a/sqrt(a²+b²) and -b/sqrt(a²+b²).
    from tests.mmm.conftest import truth_posterior

    idata = truth_posterior(world, data, n_chains=2, n_draws=1000, jitter=0.02, seed=5)
    rng = np.random.default_rng(6)
    u, v = rng.normal(0.0, 0.3, (2, 2, 1000, 1))
    channel = data.cells["channel"].to_numpy()
    roi = idata.posterior["roi"].values
    roi[:, :, channel == "meta_ads"] *= np.exp(a * u)
    roi[:, :, channel == "email_crm"] *= np.exp(-a * u - b * v)
    roi[:, :, channel == "youtube_video"] *= np.exp(b * v)
    idata.posterior["roi"] = (idata.posterior["roi"].dims, roi)
    return dataclasses.replace(truth_fit, idata=idata)


def _direct_channel_corr(fitted, one: str, other: str) -> float:
    # Independent route: long table of draw x cell contributions, summed by channel with pandas, then .corr().
    roi = fitted.idata.posterior["roi"].values.reshape(-1, len(fitted.data.cells))
    long = pd.DataFrame(roi * fitted.data.spend.sum(axis=0), columns=fitted.data.cells["channel"].to_numpy())
    totals = long.T.groupby(level=0).sum().T
    return float(totals[one].corr(totals[other]))


def test_channel_tradeoffs_match_a_direct_correlation_most_negative_first(world, data, truth_fit):
    fitted = _tradeoff_fit(world, data, truth_fit, a=1.0, b=0.8)
    table = fitted.channel_tradeoffs(threshold=-0.5)
    pairs = [set(p) for p in zip(table["channel_a"], table["channel_b"], strict=True)]
    assert pairs == [{"meta_ads", "email_crm"}, {"email_crm", "youtube_video"}]
    strong = _direct_channel_corr(fitted, "meta_ads", "email_crm")
    weak = _direct_channel_corr(fitted, "email_crm", "youtube_video")
    assert strong < -0.7 and -0.7 < weak < -0.5
    np.testing.assert_allclose(table["correlation"], [strong, weak], atol=1e-10)
    # Pairs are named in the data's channel order.
    order = list(fitted.data.channels)
    assert all(order.index(r.channel_a) < order.index(r.channel_b) for r in table.itertuples())
    # Without shared factors nothing trades off; constant draws have no correlation at all; bad thresholds fail.
    assert _tradeoff_fit(world, data, truth_fit, a=0.0).channel_tradeoffs(-0.5).empty
    assert truth_fit.channel_tradeoffs(0.0).empty
    for bad in (0.5, -1.5, True, "x"):
        with pytest.raises(ValueError, match=r"threshold must be a number in \[-1, 0\]"):
            fitted.channel_tradeoffs(bad)


def test_failed_verdict_names_channels_that_trade_off(world, data, truth_fit):
    fitted = _tradeoff_fit(world, data, truth_fit, a=1.0, b=0.8)
    fitted.idata.sample_stats["diverging"][0, :10] = True  # 0.5% divergences: the verdict fails
    diag = fitted.diagnostics(warn=False)
    assert not diag.passed
    assert len(diag.tradeoffs) == 1  # only the pair at or below TRADEOFF_CORRELATION (-0.7)
    pair = f"{diag.tradeoffs.channel_a[0]} and {diag.tradeoffs.channel_b[0]} (their estimates trade off, correlation"
    assert f"the model cannot split credit between {pair}" in diag.message()
    # A passing verdict says nothing about them.
    assert _tradeoff_fit(world, data, truth_fit, a=1.0).diagnostics(warn=False).message() == "all checks passed"


@pytest.mark.parametrize("stat", ["maxdepth_reached", "reached_max_treedepth"])
def test_share_of_draws_at_maximum_tree_depth_is_reported_and_fails_the_verdict_when_high(truth_fit, stat):
    idata = truth_fit.idata.copy()
    flags = np.zeros((idata.posterior.sizes["chain"], idata.posterior.sizes["draw"]), dtype=bool)
    flags[1, :30] = True  # 30 of 100 draws: one chain crawling with tiny steps
    idata.sample_stats[stat] = (("chain", "draw"), flags)
    fitted = mmm.FittedMMM(truth_fit.data, truth_fit.spec, idata, truth_fit.roi_prior, truth_fit.info)
    diag = fitted.diagnostics(warn=False)
    assert diag.value("max_tree_depth_share") == pytest.approx(0.30)
    assert not diag.passed and "maximum length on many draws" in diag.message()
    with pytest.warns(mmm.MMMDiagnosticWarning, match=r"max_tree_depth_share = 0\.3 \(allowed <= 0\.05\)"):
        fitted.diagnostics(warn=True)
    flags[1, :30] = False
    flags[1, :4] = True  # 4%: reported, within the threshold
    idata.sample_stats[stat] = (("chain", "draw"), flags)
    assert fitted.diagnostics(warn=False).value("max_tree_depth_share") == pytest.approx(0.04)
    # A sampler that does not record tree depth: not measured, not failed.
    assert np.isnan(truth_fit.diagnostics(warn=False).value("max_tree_depth_share"))
