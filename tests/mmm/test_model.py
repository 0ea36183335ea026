"""The model graph evaluated at random parameter values, checked against formulas computed here with plain loops."""

import numpy as np
import pytensor
import pytest

from contracts import Dataset
from mmm.model import assemble_model as build_model
from mmm.spec import MMMSpec


def _evaluate(data, holdout: int, seed: int = 0):
    """Perturb the model's initial point at random and evaluate its deterministics there."""
    spec = MMMSpec(holdout_weeks=holdout)
    n = len(data.cells)
    model = build_model(data, spec, np.full(n, np.log(1.5)), np.full(n, 0.8))
    rng = np.random.default_rng(seed)
    point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model.initial_point().items()}
    names = [
        "baseline",
        "beta",
        "level_offset",
        "cell_adstock_alpha",
        "cell_saturation_half_saturation",
        "cell_saturation_shape",
    ]
    return dict(zip(names, _at(model, names, point), strict=True))


def _at(model, names, point):
    """Values of the named variables with every free variable at ``point`` (values on the sampler's scale)."""
    outs = model.replace_rvs_by_values([model[name] for name in names])
    fn = pytensor.function(model.value_vars, outs, on_unused_input="ignore")
    return fn(*[point[v.name] for v in model.value_vars])


def _media_by_loops(data, out) -> np.ndarray:
    """Σ over a region's cells of beta·hill(normalised geometric adstock of scaled spend), week by week."""
    l_max = MMMSpec().adstock.l_max
    media = np.zeros((data.n_weeks, len(data.regions)))
    for c in range(len(data.cells)):
        alpha = out["cell_adstock_alpha"][c]
        weights = alpha ** np.arange(l_max)
        weights = weights / weights.sum()
        x = data.spend[:, c] / data.spend_scale[c]
        for t in range(data.n_weeks):
            ad = sum(weights[lag] * x[t - lag] for lag in range(l_max) if t - lag >= 0)
            k, s = out["cell_saturation_half_saturation"][c], out["cell_saturation_shape"][c]
            hill = (max(ad, 1e-12) / k) ** s / (1 + (max(ad, 1e-12) / k) ** s)
            media[t, data.cell_region[c]] += out["beta"][c] * hill
    return media


@pytest.mark.parametrize("holdout", [0, 10])
def test_log_baseline_level_is_what_media_leave_of_mean_revenue(data, holdout):
    out = _evaluate(data, holdout)
    n_train = data.n_weeks - holdout
    y = data.revenue / data.revenue_scale
    media = _media_by_loops(data, out)
    unexplained = np.maximum(y[:n_train].mean(axis=0) - media[:n_train].mean(axis=0), 0.05)
    # Mean baseline over the fitted weeks = (mean revenue − mean media) · exp(offset): what the parameterisation says.
    np.testing.assert_allclose(out["baseline"][:n_train].mean(axis=0), unexplained * np.exp(out["level_offset"]))


@pytest.mark.parametrize(
    "form, trend_form, growth",
    [
        ("log", None, "exponential"),
        ("log", "linear", "linear"),
        ("multiplicative", None, "linear"),
        ("multiplicative", "exponential", "exponential"),
    ],
)
def test_baseline_shape_combines_trend_and_season_as_the_form_says(world, form, trend_form, growth):
    from mmm.data import prepare_data

    # no controls: trend and season only
    data = prepare_data(Dataset(spend=world.spend, kpi=world.kpi, channels=world.channels))
    spec = MMMSpec(fourier_order=1, baseline=form, trend_form=trend_form)
    assert spec.trend_growth == growth
    n = len(data.cells)
    model = build_model(data, spec, np.full(n, np.log(1.5)), np.full(n, 0.8))
    point = {k: v + 0.2 for k, v in model.initial_point().items()}
    names = ["baseline", "level", "trend", "season"]
    baseline, level, trend, season = _at(model, names, point)
    t = np.arange(data.n_weeks)
    angle = 2 * np.pi * t / 52.1775
    for r in range(len(data.regions)):
        trend_term = (t - (data.n_weeks - 1) / 2) / 52 * trend[r]
        season_term = season[0, r] * np.sin(angle) + season[1, r] * np.cos(angle)
        trend_factor = np.exp(trend_term) if growth == "exponential" else 1 + trend_term
        season_factor = np.exp(season_term) if form == "log" else 1 + season_term
        shape = trend_factor * season_factor
        np.testing.assert_allclose(baseline[:, r], level[r] * shape, rtol=1e-10)


def test_prior_sd_of_log_roi_matches_prior_draws_with_and_without_a_cell_effect(world):
    import pymc as pm

    from contracts import DataWarning
    from mmm.data import prepare_data
    from mmm.model import pooled_cells, prior_log_roi_sd

    # youtube_video keeps spend in Asia only (none at all in Europe): that cell has nothing to pool with.
    spend = world.spend.copy()
    spend.loc[(spend["region"] == "Europe") & (spend["channel"] == "youtube_video"), "spend"] = 0.0
    with pytest.warns(DataWarning, match=r"1 cells have no spend and are left out of the model"):
        data = prepare_data(Dataset(spend=spend, kpi=world.kpi, channels=world.channels, controls=world.controls))
    single = (data.cells["channel"] == "youtube_video").to_numpy()
    assert single.sum() == 1 and not pooled_cells(data)[single].any() and pooled_cells(data)[~single].all()
    spec = MMMSpec(roi_region_sd=0.4)
    log_sd = np.linspace(0.5, 1.0, len(data.cells))
    model = build_model(data, spec, np.full(len(data.cells), np.log(1.5)), log_sd)
    assert len(model.coords["pooled_cell"]) == len(data.cells) - 1
    draws = np.log(pm.draw(model["roi"], draws=40_000, random_seed=1))
    expected = prior_log_roi_sd(data, spec, log_sd)
    np.testing.assert_allclose(expected[single], log_sd[single], rtol=1e-12)
    # log ROI = m + s z1 + region_sd z2 with region_sd ~ Gamma(2, 2/0.4): variance s² + 1.5 * 0.4².
    np.testing.assert_allclose(expected[~single], np.sqrt(log_sd[~single] ** 2 + 0.24), rtol=1e-12)
    np.testing.assert_allclose(draws.std(axis=0), expected, rtol=0.02)
