"""Tiny real fits (few draws, one chain): wiring, reproducibility, lift-test calibration, bad input."""

import importlib.util
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import mmm
from contracts import ContractError

TINY = {"draws": 80, "tune": 120, "chains": 1, "check": False}


@pytest.fixture(scope="module")
def clean():
    from simulator import CHANNELS, simulate_world

    channels = {k: CHANNELS[k] for k in ("meta_ads", "email_crm")}
    return simulate_world(
        seed=11, weeks=78, n_users=300, regions={"Asia": 1.0}, channels=channels, n_lift_tests=1, noise_sd=0.003
    )


def _fit(world, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mmm.fit(world.spend, world.kpi, channels=world.channels, controls=world.controls, seed=3, **TINY, **kw)


@pytest.fixture(scope="module")
def base_fit(clean):
    return _fit(clean)


def test_tiny_fit_recovers_strong_effects(clean, base_fit):
    table = base_fit.roi().merge(clean.truth.cells[["region", "channel", "roi"]], on=["region", "channel"])
    assert np.all(np.abs(table["roi_mean"] / table["roi"] - 1) < 0.35), table[["channel", "roi_mean", "roi"]]
    assert base_fit.info["sampler"] == "nutpie"
    assert set(base_fit.info) >= {"seed", "draws", "tune", "chains", "seconds", "free_vars"}


def test_same_seed_same_posterior(clean, base_fit):
    again = _fit(clean)
    np.testing.assert_array_equal(again.draws("roi"), base_fit.draws("roi"))


def test_lift_test_pulls_estimate_toward_experiment(clean, base_fit):
    test = clean.lift_tests.iloc[[0]].copy()
    # claim twice the true effect, measured precisely: the cell's ROI must move up
    test["revenue_delta"] = 2.0 * clean.truth.lift_tests["revenue_delta_true"].iloc[0]
    test["revenue_delta_se"] = 0.05 * abs(test["revenue_delta"])
    calibrated = _fit(clean, lift_tests=test)
    cell = (base_fit.data.cells["channel"] == test["channel"].iloc[0]).to_numpy()
    before = base_fit.roi()["roi_mean"].to_numpy()[cell][0]
    after = calibrated.roi()["roi_mean"].to_numpy()[cell][0]
    assert after > before * 1.2


def test_bad_settings_and_tables(clean):
    with pytest.raises(ValueError, match="sampler must be one of"):
        mmm.fit(clean.spend, clean.kpi, sampler="gibbs")
    with pytest.raises(ValueError, match="draws must be an integer >= 1; got 0"):
        mmm.fit(clean.spend, clean.kpi, draws=0)
    with pytest.raises(ValueError, match="spec must be an MMMSpec"):
        mmm.fit(clean.spend, clean.kpi, spec={"l_max": 8})
    bad_priors = pd.DataFrame({"region": ["Asia"], "channel": ["meta_ads"], "roi": [0.0], "roi_sd": [1.0]})
    with pytest.raises(ContractError, match=r"roi_priors\.roi"):
        mmm.fit(clean.spend, clean.kpi, roi_priors=bad_priors)
    with pytest.raises(ContractError):
        mmm.fit(clean.spend.drop(columns="spend"), clean.kpi)


def test_pymc_fallback_sampler_is_seeded_and_agrees_with_nutpie(clean, base_fit):
    kw = {"draws": 60, "tune": 100, "chains": 1, "check": False, "seed": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = mmm.fit(clean.spend, clean.kpi, channels=clean.channels, controls=clean.controls, sampler="pymc", **kw)
        again = mmm.fit(clean.spend, clean.kpi, channels=clean.channels, controls=clean.controls, sampler="pymc", **kw)
    assert first.info["sampler"] == "pymc"
    np.testing.assert_array_equal(first.draws("roi"), again.draws("roi"))
    # Same model, another NUTS implementation: the ROI estimates agree within the posterior's spread.
    spread = base_fit.draws("roi").std(axis=0)
    assert np.all(np.abs(first.draws("roi").mean(axis=0) - base_fit.draws("roi").mean(axis=0)) < 3 * spread)


def test_numpyro_request_without_numpyro_warns_and_uses_pymc(clean, monkeypatch):
    monkeypatch.setitem(sys.modules, "numpyro", None)  # `import numpyro` now raises ImportError
    kw = {"draws": 30, "tune": 50, "chains": 1, "check": False, "seed": 3}
    with pytest.warns(UserWarning, match="numpyro is not installed; sampling with PyMC's NUTS instead"):
        fallback = mmm.fit(
            clean.spend, clean.kpi, channels=clean.channels, controls=clean.controls, sampler="numpyro", **kw
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = mmm.fit(clean.spend, clean.kpi, channels=clean.channels, controls=clean.controls, sampler="pymc", **kw)
    assert fallback.info["sampler"] == "pymc"
    np.testing.assert_array_equal(fallback.draws("roi"), direct.draws("roi"))


@pytest.mark.skipif(importlib.util.find_spec("numpyro") is None, reason="numpyro not installed (extra 'numpyro')")
def test_numpyro_sampler_is_seeded_and_agrees_with_nutpie(clean, base_fit):
    kw = {"draws": 100, "tune": 150, "chains": 2, "check": False, "seed": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = mmm.fit(
            clean.spend, clean.kpi, channels=clean.channels, controls=clean.controls, sampler="numpyro", **kw
        )
        again = mmm.fit(
            clean.spend, clean.kpi, channels=clean.channels, controls=clean.controls, sampler="numpyro", **kw
        )
    assert first.info["sampler"] == "numpyro"
    assert first.draws("roi").shape == (200, len(base_fit.roi()))
    np.testing.assert_array_equal(first.draws("roi"), again.draws("roi"))
    spread = base_fit.draws("roi").std(axis=0)
    assert np.all(np.abs(first.draws("roi").mean(axis=0) - base_fit.draws("roi").mean(axis=0)) < 3 * spread)
