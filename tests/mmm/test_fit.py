"""Tiny real fits (few draws, one chain): wiring, reproducibility, lift-test calibration, bad input."""

import dataclasses
import importlib.util
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import mmm
from contracts import ContractError, Dataset

TINY = mmm.Sampler(draws=80, tune=120, chains=1)


def _data(world, **tables) -> Dataset:
    """The world's spend, KPI, channels and controls (no lift tests unless given)."""
    base = Dataset(spend=world.spend, kpi=world.kpi, channels=world.channels, controls=world.controls)
    return dataclasses.replace(base, **tables) if tables else base


@pytest.fixture(scope="module")
def clean():
    from simulator import CHANNELS, simulate_world

    channels = {k: CHANNELS[k] for k in ("meta_ads", "email_crm")}
    return simulate_world(
        seed=11, weeks=78, n_users=300, regions={"Asia": 1.0}, channels=channels, n_lift_tests=1, noise_sd=0.003
    )


def _fit(world, sampler=TINY, **tables):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mmm.fit(_data(world, **tables), sampler=sampler, seed=3, check=False)


@pytest.fixture(scope="module")
def base_fit(clean):
    return _fit(clean)


def test_tiny_fit_recovers_strong_effects(clean, base_fit):
    table = base_fit.roi().merge(clean.truth.cells[["region", "channel", "roi"]], on=["region", "channel"])
    table = table.rename(columns={"roi_x": "roi_fit", "roi_y": "roi_true"})
    ratio = table["roi_fit"] / table["roi_true"] - 1
    assert np.all(np.abs(ratio) < 0.35), table[["channel", "roi_fit", "roi_true"]]
    assert base_fit.info["sampler"] == "nutpie"
    assert set(base_fit.info) >= {"seed", "draws", "tune", "chains", "seconds", "free_vars", "target_accept"}
    assert (base_fit.info["draws"], base_fit.info["tune"], base_fit.info["chains"]) == (80, 120, 1)


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
    before = base_fit.roi()["roi"].to_numpy()[cell][0]
    after = calibrated.roi()["roi"].to_numpy()[cell][0]
    assert after > before * 1.2


def test_bad_settings_and_tables(clean):
    data = _data(clean)
    with pytest.raises(ValueError, match=r"Sampler\.backend must be one of"):
        mmm.Sampler(backend="gibbs")
    with pytest.raises(ValueError, match=r"Sampler\.draws must be an integer >= 1; got 0"):
        mmm.Sampler(draws=0)
    with pytest.raises(ValueError, match=r"Sampler\.target_accept must be a number in \(0, 1\); got 1\.2"):
        mmm.Sampler(target_accept=1.2)
    with pytest.raises(TypeError, match=r"sampler must be an mmm\.Sampler; got dict"):
        mmm.fit(data, sampler={"draws": 10})
    with pytest.raises(TypeError, match="spec must be an MMMSpec"):
        mmm.fit(data, spec={"l_max": 8})
    with pytest.raises(TypeError, match=r"data must be a contracts\.Dataset; got DataFrame\. Wrap plain tables"):
        mmm.fit(clean.spend)
    with pytest.raises(ValueError, match=r"the media-mix model needs the table\(s\) \['kpi'\]"):
        mmm.fit(Dataset(spend=clean.spend))
    with pytest.raises(TypeError, match="lift_tests must be True or False"):
        mmm.fit(data, lift_tests=clean.lift_tests)
    bad_priors = pd.DataFrame({"region": ["Asia"], "channel": ["meta_ads"], "roi": [0.0], "roi_sd": [1.0]})
    with pytest.raises(ContractError, match=r"roi_priors\.roi"):
        mmm.fit(data, roi_priors=bad_priors)


def test_preview_preset_and_progress_callback(clean):
    preview = mmm.Sampler.preview()
    assert (preview.draws, preview.tune, preview.chains) == (250, 300, 2)
    seen: list[mmm.Progress] = []
    tiny = dataclasses.replace(TINY, draws=20, tune=30, progress=seen.append)
    fitted = _fit(clean, sampler=tiny)
    stages = [p.stage for p in seen]
    assert stages[0] == "compiling" and stages[-1] == "done" and "sampling" in stages
    assert seen[-1].fraction == 1.0
    assert fitted.info["preview"] is True
    assert all(p.elapsed_s >= 0 for p in seen)


def test_pymc_fallback_sampler_is_seeded_and_agrees_with_nutpie(clean, base_fit):
    ticks: list[mmm.Progress] = []
    pymc = mmm.Sampler(draws=60, tune=100, chains=1, backend="pymc", progress=ticks.append)
    first = _fit(clean, sampler=pymc)
    again = _fit(clean, sampler=dataclasses.replace(pymc, progress=None))
    fractions = [p.fraction for p in ticks if p.stage == "sampling"]
    assert fractions == sorted(fractions) and 0 < fractions[-1] <= 1  # PyMC reports how far it is
    assert first.info["sampler"] == "pymc"
    np.testing.assert_array_equal(first.draws("roi"), again.draws("roi"))
    # Same model, another NUTS implementation: the ROI estimates agree within the posterior's spread.
    spread = base_fit.draws("roi").std(axis=0)
    assert np.all(np.abs(first.draws("roi").mean(axis=0) - base_fit.draws("roi").mean(axis=0)) < 3 * spread)


def test_numpyro_request_without_numpyro_warns_and_uses_pymc(clean, monkeypatch):
    monkeypatch.setitem(sys.modules, "numpyro", None)  # `import numpyro` now raises ImportError
    settings = mmm.Sampler(draws=30, tune=50, chains=1, backend="numpyro")
    with pytest.warns(UserWarning, match="numpyro is not installed; sampling with PyMC's NUTS instead"):
        fallback = mmm.fit(_data(clean), sampler=settings, seed=3, check=False)
    direct = _fit(clean, sampler=dataclasses.replace(settings, backend="pymc"))
    assert fallback.info["sampler"] == "pymc"
    np.testing.assert_array_equal(fallback.draws("roi"), direct.draws("roi"))


@pytest.mark.skipif(importlib.util.find_spec("numpyro") is None, reason="numpyro not installed (extra 'numpyro')")
def test_numpyro_sampler_is_seeded_and_agrees_with_nutpie(clean, base_fit):
    settings = mmm.Sampler(draws=100, tune=150, chains=2, backend="numpyro")
    first = _fit(clean, sampler=settings)
    again = _fit(clean, sampler=settings)
    assert first.info["sampler"] == "numpyro"
    assert first.draws("roi").shape == (200, len(base_fit.roi()))
    np.testing.assert_array_equal(first.draws("roi"), again.draws("roi"))
    spread = base_fit.draws("roi").std(axis=0)
    assert np.all(np.abs(first.draws("roi").mean(axis=0) - base_fit.draws("roi").mean(axis=0)) < 3 * spread)


def test_only_pytensors_blas_notice_is_hidden():
    from mmm.sampler import without_blas_notice

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with without_blas_notice():
            warnings.warn("PyTensor could not link to a BLAS installation. Operations ...", UserWarning, stacklevel=1)
            warnings.warn("the model's own warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["the model's own warning"]
