"""The oracle information bound (benchmarks/mmm_information.py), checked against independent computations.

The bound is only evidence if its pieces are right: the least-squares standard errors against the spread of
estimates over simulated noise, the pooled posterior against Gaussian conditioning written the other way round
and against the one-cell conjugate formula, and the error simulation against its two limits (no noise, no data).
"""

import runpy
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simulator import simulate_world

# benchmarks/ is not a package: run the file for its functions (its main() only runs as a script).
info = SimpleNamespace(**runpy.run_path(str(Path(__file__).resolve().parents[2] / "benchmarks" / "mmm_information.py")))


def test_regression_se_matches_the_spread_of_least_squares_estimates_over_noise():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.gamma(2.0, 1.0, 80), rng.gamma(2.0, 1.0, 80), np.ones(80), np.arange(80) / 80])
    beta = np.array([1.0, 1.0, 5.0, 0.5])
    noise_sd = 0.7
    estimates = np.array(
        [np.linalg.lstsq(X, X @ beta + rng.normal(0, noise_sd, 80), rcond=None)[0][:2] for _ in range(4000)]
    )
    se = info.regression_se(X, noise_sd, 2)
    np.testing.assert_allclose(se, estimates.std(axis=0), rtol=0.05)


def test_pooled_posterior_of_one_cell_is_the_conjugate_normal():
    mean, cov = info.pooled_posterior(np.array([0.4]), np.array([0.5]), 0.1, 0.8, 0.3)
    prior_var = 0.8**2 + 0.3**2
    post_var = 1.0 / (1.0 / prior_var + 1.0 / 0.5**2)
    assert cov[0, 0] == pytest.approx(post_var)
    assert mean[0] == pytest.approx(post_var * (0.1 / prior_var + 0.4 / 0.5**2))


def test_pooled_posterior_matches_gaussian_conditioning():
    estimate, se = np.array([0.2, 1.1, 0.7]), np.array([0.3, 0.9, 0.5])
    m0, s0, tau = np.log(1.5), 0.8, 0.2
    mean, cov = info.pooled_posterior(estimate, se, m0, s0, tau)
    # theta ~ N(m0, S); estimate = theta + e, e ~ N(0, D): E[theta | estimate] = m0 + S (S + D)^-1 (estimate - m0).
    S = s0**2 * np.ones((3, 3)) + tau**2 * np.eye(3)
    gain = S @ np.linalg.inv(S + np.diag(se**2))
    np.testing.assert_allclose(mean, m0 + gain @ (estimate - m0), rtol=1e-10)
    np.testing.assert_allclose(cov, S - gain @ S, rtol=1e-10, atol=1e-14)


def _cells(se: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"channel": ["a", "a", "b", "b", "c"], "roi": [0.8, 1.2, 3.0, 4.0, 2.0], "se_log_roi": [se] * 5}
    )


def test_expected_error_vanishes_without_noise_and_equals_the_prior_without_data():
    exact = info.expected_error(_cells(1e-6), replicates=20)
    assert exact["median_abs_pct_error"] < 1e-3
    no_data = info.expected_error(_cells(1e6), replicates=20, tau=None)
    assert no_data["median_abs_pct_error"] == pytest.approx(info.prior_only_error(_cells(1.0)), rel=1e-4)
    # Prior mean 1.5 * exp(0.32) = 2.0657 against truths 0.8, 1.2, 3.0, 4.0, 2.0: errors 158%, 72%, 31%, 48%, 3%;
    # the median is the truth 4.0's.
    assert info.prior_only_error(_cells(1.0)) == pytest.approx(100 * (1 - 2.06569 / 4.0), abs=0.001)


def test_expected_error_coverage_is_nominal_when_the_prior_is_true():
    # Truth drawn from the prior itself: the Gaussian posterior's 90% intervals must cover ~90% of cells.
    rng = np.random.default_rng(5)
    mu = rng.normal(np.log(1.5), 0.8, 40)
    roi = np.exp(np.repeat(mu, 4) + rng.normal(0, 0.12, 160))
    cells = pd.DataFrame({"channel": np.repeat(np.arange(40), 4), "roi": roi, "se_log_roi": 0.6})
    result = info.expected_error(cells, tau=0.12, replicates=50)
    assert result["hdi90_coverage"] == pytest.approx(0.90, abs=0.03)


def test_sample_world_information_is_finite_and_falls_when_the_baseline_is_unknown():
    world = simulate_world(seed=7)
    known = info.cell_information(world, baseline_known=True)
    unknown = info.cell_information(world, baseline_known=False)
    assert len(known) == len(unknown) == 44
    assert np.isfinite(unknown["se_log_roi"]).all() and (unknown["se_log_roi"] > 0).all()
    # Estimating more parameters can only lose information about the rest.
    merged = known.merge(unknown, on=["region", "channel"], suffixes=("_known", "_unknown"))
    assert (merged["se_log_roi_unknown"] >= merged["se_log_roi_known"] - 1e-12).all()
