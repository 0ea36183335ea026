"""The geo-hierarchical PyMC model.

Per region ``r`` and week ``t``, in units of the region's mean revenue::

    revenue = level_r · exp(trend_r t/52 + fourier_t · season_r + controls_rt · gamma_r)     (t, controls centred)
              + Σ_cells-of-r beta_c · saturation(adstock(spend_c)_t / spend_scale_c) + noise

(``MMMSpec(baseline="multiplicative")`` uses ``level (1 + trend t)(1 + season)(1 + controls gamma)`` instead.) In both,
the level is parameterised relative to what the media leave of mean revenue (see :func:`_baseline`).

The media part is parameterised by ROI: each cell's ROI over the data window has a LogNormal prior (from the
``roi_priors`` table or the spec's default), and ``beta_c`` follows from it as
``roi_c · Σ_t spend_c / Σ_t saturation_c``. Regions share a channel-level effect on log ROI and a learned
between-region sd (partial pooling), and one adstock shape per channel. Each lift test adds
``revenue_delta ~ Normal(implied delta, revenue_delta_se)``.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from mmm.adstock import convolve, lagged
from mmm.data import ModelData
from mmm.spec import MMMSpec, trend_term


def assemble_model(data: ModelData, spec: MMMSpec, roi_log_median: np.ndarray, roi_log_sd: np.ndarray) -> pm.Model:
    """Build (not sample) the PyMC model from prepared arrays (the public entry is :func:`mmm.build_model`).

    Parameters
    ----------
    data : ModelData
        Prepared arrays (:func:`mmm.data.prepare_data`).
    spec : MMMSpec
        Components and prior settings.
    roi_log_median, roi_log_sd : numpy.ndarray
        Per-cell LogNormal prior of ROI (C,).

    Returns
    -------
    pymc.Model
        Deterministics ``roi`` and ``beta`` (cell), ``cell_adstock_*`` / ``cell_saturation_*`` (cell) and
        ``baseline`` (week, region) are what the results are computed from.
    """
    n_train = data.n_weeks - spec.holdout_weeks
    if n_train < 8:
        raise ValueError(
            f"holdout_weeks must leave at least 8 weeks to fit; got holdout_weeks={spec.holdout_weeks} "
            f"with {data.n_weeks} weeks of data"
        )
    coords = {
        "week": data.weeks,
        "region": list(data.regions),
        "channel": list(data.channels),
        "cell": [data.cell_label(i) for i in range(len(data.cells))],
        "fourier": [f"{f}_{k}" for f in ("sin", "cos") for k in range(1, spec.fourier_order + 1)],
        "control": list(data.control_names),
    }
    scaled_spend = data.spend / data.spend_scale
    with pm.Model(coords=coords) as model:
        media_cell, sat_params, beta = _media(data, spec, scaled_spend, roi_log_median, roi_log_sd)
        media = pt.dot(media_cell, _region_matrix(data))
        y = data.revenue / data.revenue_scale
        baseline = pm.Deterministic("baseline", _baseline(data, spec, media, y[:n_train]), dims=("week", "region"))
        sigma = pm.HalfNormal("sigma", sigma=spec.noise_sigma, dims="region")
        mu = baseline + media
        pm.Normal("revenue", mu=mu[:n_train], sigma=sigma, observed=y[:n_train])
        if len(data.lift_tests):
            _lift_likelihood(data, spec, sat_params, beta)
    return model


def pooled_cells(data: ModelData) -> np.ndarray:
    """Which cells get a regional effect on log ROI (their channel has spend in two or more regions), (C,) bool."""
    counts = np.bincount(data.cell_channel, minlength=len(data.channels))
    return counts[data.cell_channel] >= 2


def prior_log_roi_sd(data: ModelData, spec: MMMSpec, roi_log_sd: np.ndarray) -> np.ndarray:
    """Prior sd of each cell's log ROI in :func:`assemble_model`, exactly.

    ``log ROI = m + s·channel_z + region_sd·cell_z`` (the last term for pooled cells only), with the z standard
    normal and independent of ``region_sd ~ Gamma(2, 2/r)``, so the variance is ``s² + E[region_sd²]`` with
    ``E[region_sd²] = r² + r²/2`` (mean² + variance of that Gamma).
    """
    region_var = 1.5 * spec.roi_region_sd**2
    return np.sqrt(np.asarray(roi_log_sd, dtype=float) ** 2 + np.where(pooled_cells(data), region_var, 0.0))


def _region_matrix(data: ModelData) -> np.ndarray:
    out = np.zeros((len(data.cells), len(data.regions)))
    out[np.arange(len(data.cells)), data.cell_region] = 1.0
    return out


def _media(data, spec, scaled_spend, roi_log_median, roi_log_sd):
    channel_index = data.cell_channel
    ad_params = {k: v[channel_index] for k, v in spec.adstock.priors("channel").items()}
    for name, value in ad_params.items():
        pm.Deterministic(f"cell_adstock_{name}", value, dims="cell")
    weights = spec.adstock.weights(ad_params)
    adstocked = convolve(lagged(scaled_spend, spec.adstock.l_max), weights)
    sat_params = spec.saturation.priors("cell", "channel", channel_index)
    for name, value in sat_params.items():
        pm.Deterministic(f"cell_saturation_{name}", value, dims="cell")
    response = spec.saturation.apply(adstocked, sat_params, pt)

    # Non-centred partial pooling with a learned between-region sd: a channel's regions share one effect on the
    # prior scale, and depart from it by as much as the data support. A channel with spend in one region only has
    # nothing to pool: a cell effect there would duplicate its channel effect (a flat ridge for the sampler), so
    # only cells of channels with two or more cells get one.
    channel_z = pm.Normal("roi_channel_z", 0.0, 1.0, dims="channel")
    log_roi = roi_log_median + roi_log_sd * channel_z[channel_index]
    pooled = np.flatnonzero(pooled_cells(data))
    if len(pooled):
        pm.modelcontext(None).add_coord("pooled_cell", [data.cell_label(i) for i in pooled])
        region_sd = pm.Gamma("roi_region_sd", alpha=2.0, beta=2.0 / spec.roi_region_sd)
        cell_z = pm.Normal("roi_cell_z", 0.0, 1.0, dims="pooled_cell")
        log_roi = pt.inc_subtensor(log_roi[pooled], region_sd * cell_z)
    roi = pm.Deterministic("roi", pt.exp(log_roi), dims="cell")
    spend_share = data.spend.sum(axis=0) / data.revenue_scale[data.cell_region]
    beta = pm.Deterministic("beta", roi * spend_share / response.sum(axis=0), dims="cell")
    return response * beta, (ad_params, sat_params), beta


def _baseline(data: ModelData, spec: MMMSpec, media, y_train: np.ndarray):
    """``level_r · shape_tr``: the level is stated relative to what media leave of mean revenue.

    ``level = (mean revenue − mean media) · exp(level_offset) / mean(shape)`` over the fitted weeks. Mean revenue is
    known almost exactly, so a free level would sit on a long ridge against the sum of the media effects (more
    media, less baseline) that chains get stuck on; with the offset, media can move while the baseline follows. The
    floor (5% of mean revenue) only binds where media alone would exceed revenue, which the likelihood rules out.
    """
    n_train = len(y_train)
    terms = _baseline_terms(data, spec)
    if spec.baseline == "log":
        # Every term adds to log revenue: the posterior of (trend, season, controls) is close to Gaussian, where the
        # product form has curved ridges that NUTS diverges on more.
        shape = pt.exp(sum(terms, pt.zeros((data.n_weeks, len(data.regions)))))
    else:
        shape = pt.ones((data.n_weeks, len(data.regions)))
        for term in terms:
            shape = shape * (1.0 + term)
    offset = standard_normal("level_offset", spec.level_offset_sd, dims="region")
    unexplained = pt.maximum(y_train.mean(axis=0) - media[:n_train].mean(axis=0), 0.05)
    level = pm.Deterministic("level", unexplained * pt.exp(offset) / shape[:n_train].mean(axis=0), dims="region")
    return level[None, :] * shape


def _baseline_terms(data: ModelData, spec: MMMSpec) -> list:
    """Trend, seasonality and control terms (week, region), time and controls centred. Control effects have sd 0.5
    on the log scale and 1.0 in the product form (the scales the two forms were tuned with)."""
    terms = []
    if spec.trend:
        trend = standard_normal("trend", 0.2, dims="region")
        terms.append(trend_term(spec, trend[None, :] * _weeks_from_middle(data)[:, None] / 52.0, pt))
    if spec.fourier_order:
        season = standard_normal("season", 0.1, dims=("fourier", "region"))
        terms.append(pt.dot(data.fourier(spec.fourier_order), season))
    if data.controls.shape[2]:
        sd = 0.5 if spec.baseline == "log" else 1.0
        gamma = standard_normal("control_effect", sd, dims=("region", "control"))
        terms.append((_centred_controls(data) * gamma[None, :, :]).sum(axis=2))
    return terms


def standard_normal(name: str, sd: float, dims) -> pt.TensorVariable:
    """``Normal(0, sd)`` written as ``sd · z`` with a free standard normal ``{name}_z``; the value is kept as the
    deterministic ``name``.

    Every free parameter of the model then has prior scale ~1 on the sampler's scale, which is what the sampler
    starts from: its initial mass matrix is the identity and each chain starts at a point jittered by U(-1, 1).
    Written directly, a Normal(0, 0.1) offset was jittered by up to 10 prior sds, and a chain could start (and
    stay) where the baseline was e-fold too large or small and the media soaked up the rest (issue 11).
    """
    z = pm.Normal(f"{name}_z", 0.0, 1.0, dims=dims)
    return pm.Deterministic(name, sd * z, dims=dims)


def _weeks_from_middle(data: ModelData) -> np.ndarray:
    return np.arange(data.n_weeks, dtype=float) - (data.n_weeks - 1) / 2.0


def _centred_controls(data: ModelData) -> np.ndarray:
    return data.controls - data.controls.mean(axis=0, keepdims=True)


def _lift_likelihood(data: ModelData, spec: MMMSpec, params, beta) -> None:
    ad_params, sat_params = params
    tests = data.lift_tests
    cell = tests["cell"].to_numpy()
    scale = data.spend_scale[cell]
    weights = spec.adstock.weights({k: v[cell] for k, v in ad_params.items()})
    test_sat = {k: v[cell] for k, v in sat_params.items()}
    observed = convolve(lagged(data.spend[:, cell] / scale, spec.adstock.l_max), weights)
    planned = convolve(lagged(data.lift_counterfactual / scale, spec.adstock.l_max), weights)
    diff = spec.saturation.apply(observed, test_sat, pt) - spec.saturation.apply(planned, test_sat, pt)
    implied = beta[cell] * (diff * data.lift_window.T).sum(axis=0)
    region_scale = data.revenue_scale[tests["region_index"].to_numpy()]
    pm.Normal(
        "lift",
        mu=implied,
        sigma=tests["revenue_delta_se"].to_numpy(dtype=float) / region_scale,
        observed=tests["revenue_delta"].to_numpy(dtype=float) / region_scale,
    )
