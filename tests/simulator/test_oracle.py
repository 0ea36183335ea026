"""The oracle information bound (simulator/oracle.py), checked against independent computations.

The bound is only evidence if its pieces are right: the least-squares standard errors against the spread of
estimates over simulated noise, the Gaussian starting point against Gaussian conditioning written the other way
round, the exact posterior against quadrature on a grid, and the error simulation against its two limits (no noise,
no data).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simulator import oracle as info
from simulator import roi_recovery, simulate_world


def test_regression_cov_matches_the_spread_of_least_squares_estimates_over_noise():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.gamma(2.0, 1.0, 80), rng.gamma(2.0, 1.0, 80), np.ones(80), np.arange(80) / 80])
    beta = np.array([1.0, 1.0, 5.0, 0.5])
    noise_sd = 0.7
    estimates = np.array(
        [np.linalg.lstsq(X, X @ beta + rng.normal(0, noise_sd, 80), rcond=None)[0][:2] for _ in range(4000)]
    )
    cov = info.regression_cov(X, noise_sd, 2)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), estimates.std(axis=0), rtol=0.05)
    empirical_corr = np.corrcoef(estimates.T)[0, 1]
    assert cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]) == pytest.approx(empirical_corr, abs=0.05)


def test_joint_posterior_of_one_cell_is_the_conjugate_normal():
    prior = info.prior_cov(np.array(["a"]), 0.8, 0.3)
    mean, cov = info.joint_posterior(np.array([0.4]), np.array([[0.25]]), np.array([0.1]), prior)
    prior_var = 0.8**2 + 0.3**2
    post_var = 1.0 / (1.0 / prior_var + 1.0 / 0.25)
    assert cov[0, 0] == pytest.approx(post_var)
    assert mean[0] == pytest.approx(post_var * (0.1 / prior_var + 0.4 / 0.25))


def test_joint_posterior_matches_gaussian_conditioning_with_correlated_data():
    channels = np.array(["a", "b", "a", "b"])  # two regions x two channels
    S = info.prior_cov(channels, 0.8, 0.2)
    assert S[0, 2] == pytest.approx(0.64) and S[0, 1] == 0.0 and S[0, 0] == pytest.approx(0.68)
    block = np.array([[0.09, -0.05], [-0.05, 0.25]])  # a region's two channels, negatively correlated
    D = np.block([[block, np.zeros((2, 2))], [np.zeros((2, 2)), 2.0 * block]])
    estimate, m0 = np.array([0.2, 1.1, 0.7, -0.3]), np.full(4, np.log(1.5))
    mean, cov = info.joint_posterior(estimate, D, m0, S)
    # theta ~ N(m0, S); estimate = theta + e, e ~ N(0, D): E[theta | estimate] = m0 + S (S + D)^-1 (estimate - m0).
    gain = S @ np.linalg.inv(S + D)
    np.testing.assert_allclose(mean, m0 + gain @ (estimate - m0), rtol=1e-10)
    np.testing.assert_allclose(cov, S - gain @ S, rtol=1e-9, atol=1e-14)
    # Several replicates at once give the same rows.
    both, _ = info.joint_posterior(np.vstack([estimate, estimate[::-1]]), D, m0, S)
    np.testing.assert_allclose(both[0], mean, rtol=1e-12)
    np.testing.assert_allclose(both[1], m0 + gain @ (estimate[::-1] - m0), rtol=1e-10)
    with pytest.raises(ValueError, match="tau must be > 0"):
        info.prior_cov(channels, 0.8, 0.0)


def _info(se: float):
    cells = pd.DataFrame(
        {
            "region": ["r1", "r2", "r1", "r2", "r1"],
            "channel": ["a", "a", "b", "b", "c"],
            "roi": [0.8, 1.2, 3.0, 4.0, 2.0],
        }
    ).assign(se_log_roi=se)
    return info.Information(cells, se**2 * np.eye(5), np.ones(5))


def test_expected_error_limits_no_noise_and_no_data():
    assert info.expected_error(_info(1e-6), replicates=5)["median_abs_pct_error"] < 1e-3
    # Prior mean 1.5 * exp(0.32) = 2.0657 against truths 0.8, 1.2, 3.0, 4.0, 2.0: errors 158%, 72%, 31%, 48%, 3%;
    # the median is the truth 4.0's.
    assert info.prior_only_error(_info(1.0).cells) == pytest.approx(100 * (1 - 2.06569 / 4.0), abs=0.001)
    # No data: the posterior is the prior; its mean is estimated from draws (Monte Carlo error ~1%).
    unpooled = info.expected_error(_info(1e6), replicates=5, draws=400, tau=None)
    assert unpooled["median_abs_pct_error"] == pytest.approx(info.prior_only_error(_info(1.0).cells), rel=0.04)
    # Pooled, no data: every cell's posterior is its prior, log ROI ~ N(log 1.5, 0.8² + 0.3²).
    pooled = info.expected_error(_info(1e6), replicates=5, draws=400, tau=0.3)
    prior_mean = 1.5 * np.exp((0.8**2 + 0.3**2) / 2)
    assert pooled["median_abs_pct_error"] == pytest.approx(100 * (1 - prior_mean / 4.0), rel=0.04)


def test_expected_error_coverage_is_nominal_when_the_prior_is_true():
    # Truth drawn from the prior itself: the exact posterior's 90% intervals must cover ~90% of cells.
    rng = np.random.default_rng(5)
    mu = rng.normal(np.log(1.5), 0.8, 25)
    roi = np.exp(np.repeat(mu, 4) + rng.normal(0, 0.12, 100))
    cells = pd.DataFrame({"channel": np.repeat(np.arange(25), 4), "roi": roi, "se_log_roi": 0.6})
    result = info.expected_error(info.Information(cells, 0.36 * np.eye(100), np.ones(100)), tau=0.12, replicates=30)
    assert result["interval90_coverage"] == pytest.approx(0.90, abs=0.03)


@pytest.fixture(scope="module")
def sample():
    return simulate_world(seed=7)


def test_sample_world_information_matches_a_direct_computation(sample):
    # Independent route for one region, baseline known: the weekly truth reshaped (not pivoted), the noise sd from
    # the world's config and the region's level (not the meta table), the covariance from a QR factorisation.
    weekly = sample.truth.weekly.sort_values(["week", "region", "channel"])
    region, channels = "Europe", sorted(sample.channels["channel"])
    rows = weekly[weekly["region"] == region]
    X = rows["contribution"].to_numpy().reshape(-1, len(channels))
    level = sample.config.regions[region] * sample.config.weekly_revenue * (1 - sample.config.marketing_share * 2.2)
    noise_sd = sample.config.noise_sd * level
    r = np.linalg.qr(X, mode="r")
    expected = noise_sd**2 * np.linalg.inv(r.T @ r)
    known = info.cell_information(sample, baseline_known=True)
    at = np.flatnonzero(known.cells["region"].to_numpy() == region)
    order = np.argsort(known.cells["channel"].to_numpy()[at])
    np.testing.assert_allclose(known.cov[np.ix_(at[order], at[order])], expected, rtol=1e-8)
    assert list(known.cells["channel"].to_numpy()[at][order]) == channels
    # Baseline estimated: add baseline × (1, trend, Fourier, promo), time taken from the dates.
    base = sample.truth.baseline.sort_values(["week", "region"])
    base = base[base["region"] == region]
    promo = sample.controls.sort_values(["week", "region"])
    promo = promo[promo["region"] == region]["promo_depth"].to_numpy()
    weeks = (base["week"] - base["week"].min()).dt.days.to_numpy() / 7.0
    omega = 2 * np.pi * weeks / 52.1775
    z = [np.ones_like(weeks), (weeks - weeks.mean()) / 52.0]
    z += [np.sin(omega), np.cos(omega), np.sin(2 * omega), np.cos(2 * omega), promo]
    full = np.column_stack([X, base["baseline"].to_numpy()[:, None] * np.column_stack(z)])
    r = np.linalg.qr(full, mode="r")
    expected = (noise_sd**2 * np.linalg.inv(r.T @ r))[: len(channels), : len(channels)]
    estimated = info.cell_information(sample, baseline_known=False)
    assert (estimated.cells[["region", "channel"]].to_numpy() == known.cells[["region", "channel"]].to_numpy()).all()
    np.testing.assert_allclose(estimated.cov[np.ix_(at[order], at[order])], expected, rtol=1e-6)
    # The oracle's estimate on this draw: revenue minus the true baseline and media (the noise, from the tables an
    # analyst would see plus the truth) regressed on the same columns; its first coefficients are ROI ratios - 1.
    kpi = sample.kpi.sort_values(["week", "region"])
    kpi = kpi[kpi["region"] == region]["revenue"].to_numpy()
    noise = kpi - base["baseline"].to_numpy() - X.sum(axis=1)
    ratio = np.linalg.lstsq(full, noise, rcond=None)[0][: len(channels)]
    np.testing.assert_allclose(estimated.estimate[at[order]] - 1.0, ratio, atol=1e-9)
    assert np.abs(ratio).max() > 0.05  # this draw's noise does move the estimates
    # Regions are independent: nothing outside the region blocks.
    other = np.flatnonzero(known.cells["region"].to_numpy() != region)
    assert not known.cov[np.ix_(at, other)].any()


def test_sample_world_information_falls_when_the_baseline_is_estimated(sample):
    known = info.cell_information(sample, baseline_known=True)
    unknown = info.cell_information(sample, baseline_known=False)
    truth = sample.truth.cells[["region", "channel", "roi"]]
    cells = unknown.cells.merge(truth, on=["region", "channel"], suffixes=("", "_truth"), validate="one_to_one")
    assert len(cells) == 44 and (cells["roi"] == cells["roi_truth"]).all()  # every cell, with its true ROI
    assert (unknown.cells["se_log_roi"] > 0).all() and np.isfinite(unknown.cells["se_log_roi"]).all()
    merged = known.cells.merge(unknown.cells, on=["region", "channel"], suffixes=("_known", "_unknown"))
    assert (merged["se_log_roi_unknown"] >= merged["se_log_roi_known"] - 1e-12).all()


def _grid_posterior(true_roi, estimate, cov, prior_mean, prior_cov, half_width=7.0, n=801):
    """Posterior mean of ROI and 5%/50%/95% quantiles of log ROI (first cell) on a regular grid of log ROI (1 or 2
    cells)."""
    d = len(true_roi)
    sd = np.sqrt(np.diag(prior_cov))
    axes = [np.linspace(prior_mean[i] - half_width * sd[i], prior_mean[i] + half_width * sd[i], n) for i in range(d)]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)
    log_prior = stats.multivariate_normal(prior_mean, prior_cov).logpdf(mesh)
    log_like = stats.multivariate_normal(estimate, cov).logpdf(np.exp(mesh) / true_roi)
    w = np.exp(log_prior + log_like - (log_prior + log_like).max())
    w /= w.sum()
    mean = w @ np.exp(mesh)
    marginal = w.reshape([n] * d).sum(axis=tuple(range(1, d))) if d > 1 else w
    cdf = np.cumsum(marginal)
    return mean, tuple(axes[0][np.searchsorted(cdf, q)] for q in (0.05, 0.5, 0.95))


def test_exact_posterior_of_one_cell_matches_quadrature():
    # A cell whose estimate is far above its prior and noisy: posterior skewed, neither log- nor ROI-scale Gaussian.
    true_roi, estimate, cov = np.array([2.0]), np.array([1.6]), np.array([[0.35**2]])
    prior_mean, prior_cov = np.array([np.log(1.5)]), np.array([[0.8**2]])
    post = info.exact_posterior(true_roi, estimate, cov, prior_mean, prior_cov, seed=3)
    mean, (q05, q50, q95) = _grid_posterior(true_roi, estimate, cov, prior_mean, prior_cov)
    assert post.roi[0] == pytest.approx(mean[0], abs=4 * post.roi_mcse[0] + 1e-3)
    assert np.log(post.roi_low[0]) == pytest.approx(q05, abs=0.03)
    assert np.log(post.roi_median[0]) == pytest.approx(q50, abs=0.02)
    assert post.roi_median[0] < post.roi[0]  # skewed to the right: the median sits below the mean
    assert np.log(post.roi_high[0]) == pytest.approx(q95, abs=0.03)
    # The log-scale approximation that this replaces is off by more than the Monte Carlo error here.
    approx_mean, approx_cov = info.joint_posterior(np.log(true_roi * estimate), cov, prior_mean, prior_cov)
    assert abs(np.exp(approx_mean[0] + approx_cov[0, 0] / 2) - mean[0]) > 10 * post.roi_mcse[0]


def test_exact_posterior_of_two_pooled_correlated_cells_matches_quadrature():
    # One channel in two regions (pooled prior) with correlated, unequal estimates.
    true_roi = np.array([1.2, 3.0])
    estimate = np.array([1.5, 0.7])
    cov = np.array([[0.3**2, 0.5 * 0.3 * 0.4], [0.5 * 0.3 * 0.4, 0.4**2]])
    prior_mean = np.full(2, np.log(1.5))
    prior_cov = info.prior_cov(np.array(["a", "a"]), 0.8, 0.3)
    post = info.exact_posterior(true_roi, estimate, cov, prior_mean, prior_cov, seed=4)
    mean, _ = _grid_posterior(true_roi, estimate, cov, prior_mean, prior_cov, n=601)
    np.testing.assert_allclose(post.roi, mean, atol=4 * post.roi_mcse.max() + 1e-3)
    assert post.acceptance > 0.6


def test_realised_error_summarises_the_exact_posterior_on_the_world_draw():
    base = _info(0.5)
    estimate = np.array([1.3, 0.8, 1.5, 0.6, 1.1])
    summary, cells = info.realised_error(info.Information(base.cells, base.cov, estimate), tau=None)
    truth = base.cells["roi"].to_numpy()
    # Unpooled, independent cells: each is its own one-cell problem, solved here on a grid.
    grids = [
        _grid_posterior(truth[[i]], estimate[[i]], base.cov[[i]][:, [i]], np.array([np.log(1.5)]), np.eye(1) * 0.64)
        for i in range(5)
    ]
    np.testing.assert_allclose(cells["roi"], [g[0][0] for g in grids], rtol=0.02)
    np.testing.assert_allclose(np.log(cells["roi_median"]), [g[1][1] for g in grids], atol=0.02)
    np.testing.assert_array_equal(cells["roi_true"], truth)
    assert cells.attrs["interval"] == "90% equal-tailed"
    assert summary["median_abs_pct_error"] == pytest.approx(100 * np.median(np.abs(cells["roi"] / truth - 1)))
    by_median = 100 * np.median(np.abs(cells["roi_median"] / truth - 1))
    assert summary["median_abs_pct_error_of_median"] == pytest.approx(by_median)
    inside = (truth >= cells["roi_low"]) & (truth <= cells["roi_high"])
    assert summary["interval90_coverage"] == pytest.approx(inside.mean())
    # The oracle's cells score like any estimate (simulator.roi_recovery), with the same figures.
    score = roi_recovery(cells, base.cells)
    assert score["roi_median_abs_pct_error"] == pytest.approx(summary["median_abs_pct_error"])
    assert score["roi_hdi90_coverage"] == pytest.approx(summary["interval90_coverage"])


def test_realised_estimate_is_the_truth_without_noise_and_tracks_the_noise_with_it():
    # With no noise (revenue rounded to cents only), least squares on the true regressors returns the true ROIs.
    quiet = info.cell_information(simulate_world(seed=7, noise_sd=0.0), baseline_known=False)
    np.testing.assert_allclose(quiet.estimate, 1.0, atol=1e-4)
    # With noise: one region by hand, baseline known, regressing revenue minus the true baseline on the true
    # contributions gives each cell's ratio of estimated to true ROI.
    world = simulate_world(seed=3)
    known = info.cell_information(world, baseline_known=True)
    region = "Other"
    weekly = world.truth.weekly[world.truth.weekly["region"] == region].sort_values(["week", "channel"])
    channels = sorted(weekly["channel"].unique())
    X = weekly["contribution"].to_numpy().reshape(-1, len(channels))
    kpi = world.kpi[world.kpi["region"] == region].sort_values("week")
    base = world.truth.baseline[world.truth.baseline["region"] == region].sort_values("week")
    ratio = np.linalg.lstsq(X, kpi["revenue"].to_numpy() - base["baseline"].to_numpy(), rcond=None)[0]
    in_region = np.flatnonzero(known.cells["region"].to_numpy() == region)
    at = in_region[np.argsort(known.cells["channel"].to_numpy()[in_region])]
    assert list(known.cells["channel"].to_numpy()[at]) == channels
    np.testing.assert_allclose(known.estimate[at], ratio, atol=1e-8)
    assert np.abs(ratio - 1.0).max() > 0.05  # the noise does move the estimates: the check above is not vacuous


def test_lift_tests_add_one_weighted_observation_of_their_cell(sample):
    # By hand for one region with the baseline known: the weekly rows (true contributions, noise sd from the config)
    # and one row per lift test (its true delta in its cell's column, its se), weighted least squares via QR.
    tests = sample.truth.lift_tests
    region = tests["region"].value_counts().index[0]
    weekly = sample.truth.weekly[sample.truth.weekly["region"] == region].sort_values(["week", "channel"])
    channels = sorted(weekly["channel"].unique())
    X = weekly["contribution"].to_numpy().reshape(-1, len(channels))
    level = sample.config.regions[region] * sample.config.weekly_revenue * (1 - sample.config.marketing_share * 2.2)
    base = sample.truth.baseline[sample.truth.baseline["region"] == region].sort_values("week")
    kpi = sample.kpi[sample.kpi["region"] == region].sort_values("week")["revenue"].to_numpy()
    rows, y, sd = [X], [kpi - base["baseline"].to_numpy()], [np.full(len(X), sample.config.noise_sd * level)]
    for test in tests[tests["region"] == region].itertuples():
        row = np.zeros((1, len(channels)))
        row[0, channels.index(test.channel)] = test.revenue_delta_true
        rows.append(row)
        y.append([test.revenue_delta])
        sd.append([test.revenue_delta_se])
    A, b, s = np.vstack(rows), np.concatenate(y), np.concatenate(sd)
    q, r = np.linalg.qr(A / s[:, None])
    expected_cov = np.linalg.inv(r.T @ r)
    expected_estimate = np.linalg.solve(r, q.T @ (b / s))
    lifted = info.cell_information(sample, baseline_known=True, lift_tests=True)
    plain = info.cell_information(sample, baseline_known=True)
    in_region = np.flatnonzero(lifted.cells["region"].to_numpy() == region)
    at = in_region[np.argsort(lifted.cells["channel"].to_numpy()[in_region])]
    np.testing.assert_allclose(lifted.cov[np.ix_(at, at)], expected_cov, rtol=1e-8)
    np.testing.assert_allclose(lifted.estimate[at], expected_estimate, atol=1e-8)
    # The tested cells are measured better; the others no worse.
    tested = np.isin(lifted.cells["channel"].to_numpy()[at], tests[tests["region"] == region]["channel"].to_numpy())
    assert tested.any()
    ratio = np.sqrt(np.diag(lifted.cov)[at] / np.diag(plain.cov)[at])
    assert (ratio[tested] < 0.9).all() and (ratio <= 1 + 1e-12).all()


@pytest.fixture(scope="module")
def small():
    world = simulate_world(seed=5, weeks=60, n_users=500)
    return world, world.realize(world.truth.average_period_spend(13), weeks=13, seed=11)


def test_forecast_oracle_without_noise_forecasts_the_truth():
    quiet = simulate_world(seed=5, weeks=60, n_users=500, noise_sd=0.0)
    real = quiet.realize(quiet.truth.average_period_spend(13), weeks=13, seed=0)
    forecast = info.forecast_oracle(quiet, real, draws=100)
    assert list(forecast["region"]) == [*quiet.kpi["region"].unique(), "total"]
    np.testing.assert_allclose(forecast["mean"], forecast["truth"], rtol=1e-5)
    assert (forecast["noise_sd"] == 0).all()
    assert forecast.attrs["interval"] == "90% HDI"


def test_forecast_oracle_mean_is_the_baseline_regression_given_the_posterior_mean_roi(small):
    # The forecast is linear in the cells' r and the baseline's coefficients, and given r the coefficients are the
    # least-squares fit of revenue less the media at r (Gaussian conditioning, flat prior). So its mean must equal,
    # up to the Monte Carlo error of the conditional draws, this by-hand regression at the posterior mean of r,
    # with the baseline's terms (trend centred on the window, two Fourier harmonics, the controls) continued by hand.
    world, real = small
    forecast = info.forecast_oracle(world, real, draws=200, seed=3).set_index("region")
    cells = info.cell_information(world, baseline_known=False, lift_tests=True)
    post = info.oracle_posterior(cells, draws=200, seed=3)
    r_mean = np.exp(post.log_roi_draws).mean(axis=0) / cells.cells["roi"].to_numpy()
    n = world.kpi["week"].nunique()
    total = 0.0
    for region in world.kpi["region"].unique():
        channels = list(cells.cells.loc[cells.cells["region"] == region, "channel"])
        r = r_mean[(cells.cells["region"] == region).to_numpy()]
        weekly = world.truth.weekly[world.truth.weekly["region"] == region]
        media = weekly.pivot(index="week", columns="channel", values="contribution")[channels].to_numpy() @ r
        kpi = world.kpi[world.kpi["region"] == region].sort_values("week")["revenue"].to_numpy()
        base = world.truth.baseline[world.truth.baseline["region"] == region].sort_values("week")["baseline"]
        promo = world.controls[world.controls["region"] == region].sort_values("week")["promo_depth"].to_numpy()

        def terms(t, promo):
            omega = 2 * np.pi * t / 52.1775
            harmonics = [np.sin(omega), np.cos(omega), np.sin(2 * omega), np.cos(2 * omega)]
            return np.column_stack([np.ones(len(t)), (t - (n - 1) / 2) / 52, *harmonics, promo])

        t = np.arange(n, dtype=float)
        gamma = np.linalg.lstsq(base.to_numpy()[:, None] * terms(t, promo), kpi - media, rcond=None)[0]
        new = real.revenue[real.revenue["region"] == region].sort_values("week")
        future = real.contributions[real.contributions["region"] == region]
        future_media = future.pivot(index="week", columns="channel", values="contribution")[channels].sum() @ r
        future_terms = new["baseline"].to_numpy()[:, None] * terms(n + np.arange(len(new)), new["promo_depth"])
        expected = future_media + future_terms.sum(axis=0) @ gamma
        total += expected
        assert abs(forecast.loc[region, "mean"] - expected) < 0.02 * forecast.loc[region, "sd"], region
        assert forecast.loc[region, "low"] < forecast.loc[region, "mean"] < forecast.loc[region, "high"]
    assert abs(forecast.loc["total", "mean"] - total) < 0.02 * forecast.loc["total", "sd"]
    # The noise is the simulator's: sd share × level a week over 13 independent weeks.
    share = world.truth.meta["noise_sd_share_of_level"]
    level = {p["region"]: p["level"] for p in world.truth.meta["baseline_params"]}
    region = world.kpi["region"].iloc[0]
    assert forecast.loc[region, "noise_sd"] == pytest.approx(np.sqrt(13) * share * level[region])


def test_forecast_oracle_is_wider_without_lift_tests_and_the_truth_sits_inside(small):
    world, real = small
    lifted = info.forecast_oracle(world, real, lift_tests=True, draws=200)
    plain = info.forecast_oracle(world, real, lift_tests=False, draws=200)
    tested = world.truth.lift_tests["region"].unique()
    at = lifted["region"].isin(tested).to_numpy()
    assert at.any()
    assert (lifted["sd"].to_numpy()[at] < plain["sd"].to_numpy()[at]).all()
    assert (lifted["truth_z"].abs() < 3.5).all()
