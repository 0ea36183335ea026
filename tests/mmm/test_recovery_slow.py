"""End-to-end: the sample world's true ROIs are recovered about as well as an oracle recovers them (a couple of
minutes on 2 cores; still run in CI).

A seeded short MCMC run follows another numerical path on another CPU, so nothing here rests on one trajectory:
the error is judged against the exact oracle (:mod:`simulator.oracle`, which knows every true response curve) on
the same data, with a margin taken from the oracle's own spread over noise draws, and the sampler's health is
checked by properties that hold on any machine (no chain crawling at maximum tree depth, few divergences, chains
that agree). ``GA_RECOVERY_SEED`` picks the sampler seed (default 1) to re-run it under other seeds.
"""

import os
import warnings

import pytest

import mmm
from simulator import oracle, simulate_world
from simulator.scoring import roi_recovery


@pytest.fixture(scope="module")
def world():
    return simulate_world(seed=7, n_users=1_000)


@pytest.fixture(scope="module")
def oracle_with_lift(world):
    """The exact oracle with the lift tests: its error on this world's own draw and over 40 noise draws."""
    info = oracle.cell_information(world, baseline_known=False, lift_tests=True)
    realised, _ = oracle.realised_error(info)
    expected = oracle.expected_error(info, replicates=40)
    return realised, expected


@pytest.mark.slow
def test_sample_world_roi_recovery_is_close_to_the_oracle(world, oracle_with_lift):
    seed = int(os.environ.get("GA_RECOVERY_SEED", "1"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = mmm.fit(world.data, sampler=mmm.Sampler(draws=400, tune=400, chains=2), seed=seed, check=False)
    score = roi_recovery(fitted.roi(), world.truth.cells)
    coverage = score["roi_hdi90_coverage"]
    error = score["roi_median_abs_pct_error"]  # in percent
    realised, expected = oracle_with_lift
    # What even the oracle's error varies by from one noise draw to another (its 10th to 90th percentile): a model
    # that must also learn the curves may trail the oracle on these data by that much, no more.
    margin = expected["error_p90"] - expected["error_p10"]
    diag = fitted.diagnostics(warn=False)
    oracle_error = realised["median_abs_pct_error"]
    print(
        f"seed {seed}: median abs ROI error {error:.1f}% (exact oracle on this draw {oracle_error:.1f}%, "
        f"margin {margin:.1f}), HDI90 coverage {coverage:.3f}, max R-hat {diag.value('max_rhat'):.3f}, "
        f"divergences {diag.value('divergence_share'):.4f}, "
        f"max tree depth {diag.value('max_tree_depth_share'):.3f}, {fitted.info['seconds']:.0f} s"
    )
    assert 0 < margin < 15  # the oracle's spread is a real, bounded number, not a blank cheque
    assert error <= oracle_error + margin
    assert coverage >= 0.80
    # Healthy sampling on any CPU: no chain crawling at the maximum tree depth (the failure this test once hid),
    # chains that agree (R-hat from 2 x 400 draws is noisy, up to ~1.03 seen; a stuck chain gave 2.2), few
    # divergences.
    assert diag.value("max_tree_depth_share") <= 0.05
    assert diag.value("max_rhat") <= 1.1
    assert diag.value("divergence_share") <= 0.005
    assert diag.value("mape_in_sample") < 0.05
    assert diag.value("negative_baseline_share") == 0.0
    curves = fitted.response_curves(period_weeks=13, max_draws=100)
    assert curves.n_cells == 44 and curves.n_draws == 100
