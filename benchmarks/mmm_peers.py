"""Peer media-mix models fitted on our contract tables, side by side with ours in ``benchmarks/mmm.py``.

The peer is pymc-marketing's geo-capable MMM (``pymc_marketing.mmm.multidimensional.MMM`` with ``dims=("geo",)``),
given a model comparable to ours: geometric adstock (``l_max`` 8), logistic saturation, yearly Fourier seasonality
(order 2), the controls and a per-geo intercept, all with pymc-marketing's default priors and scaling. Unlike ours
it has no trend term and no pooling across geos (every geo has its own adstock, saturation and effect parameters).

Heavy imports (pymc, pymc-marketing, arviz) happen inside :func:`fit_pymc_marketing`, so importing this module is
cheap and has no side effects. Its ROI table is scored like ours, with :func:`simulator.roi_recovery`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from contracts import check_panel, hdi, interval_label, validate_controls, validate_kpi, validate_spend

VARIANT = "pymc-marketing"
#: Mass of the ROI intervals (the same as our ``FittedMMM.roi`` default).
HDI_PROB = 0.9
NUTS_SAMPLERS = ("pymc", "nutpie", "numpyro", "blackjax")
# Column names pymc-marketing's wide layout uses for itself: no channel or control may take them.
_DATE, _GEO, _TARGET = "week", "geo", "revenue"
_RESERVED = frozenset({_DATE, _GEO, _TARGET, "date", "y", "channel", "control", "fourier_mode"})


def fit_pymc_marketing(
    spend: pd.DataFrame,
    kpi: pd.DataFrame,
    controls: pd.DataFrame | None = None,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    l_max: int = 8,
    fourier_order: int = 2,
    nuts_sampler: str = "pymc",
    cores: int | None = None,
    target_accept: float | None = None,
    scaling: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit pymc-marketing's geo MMM on our long tables and summarise speed, convergence and ROI.

    Parameters
    ----------
    spend, kpi, controls : pandas.DataFrame
        Our contract tables (``spend``: week, region, channel, spend; ``kpi``: week, region, revenue; ``controls``:
        week, region, one numeric column per control). They are validated with :mod:`contracts` and pivoted to
        pymc-marketing's wide layout (one row per week and geo, one column per channel and control). A channel
        with no spend in some geo gets zeros there (pymc-marketing needs the same channel columns in every geo);
        a channel with no spend anywhere is dropped.
    draws, tune, chains : int
        Posterior draws and tuning steps per chain, and the number of chains.
    seed : int
        Random seed of the sampler.
    l_max : int
        Maximum lag of the geometric adstock.
    fourier_order : int
        Yearly Fourier modes (0 for no seasonality).
    nuts_sampler : {"pymc", "nutpie", "numpyro", "blackjax"}
        NUTS implementation, passed to ``MMM.fit``.
    cores : int, optional
        Parallel chains (default ``min(chains, 2)``, as our fit).
    target_accept : float, optional
        NUTS target acceptance; ``None`` keeps the sampler's default (0.8).
    scaling : dict, optional
        pymc-marketing's ``scaling`` (e.g. ``{"channel": {"method": "max", "dims": ()}, "target": {"method": "max",
        "dims": ()}}`` to scale each geo by its own maxima). ``None`` keeps its default: each channel by its maximum
        over weeks *and geos*, the target by its maximum over weeks and geos. With geos of very different size that
        default puts small geos' spend at a few % of the scale, where the default saturation prior (``lam`` ~
        Gamma(3, 1)) is almost linear, and their ROI comes out biased low (we saw -27% on a geo 50x smaller).

    Returns
    -------
    dict
        ``variant`` ("pymc-marketing"), ``nuts_sampler``, ``chains``, ``draws``, ``tune``, ``wall_s`` (model build,
        compilation, sampling and deterministics), ``min_ess_bulk``, ``min_ess_tail``, ``min_ess_per_s``
        (``min(bulk, tail) / wall_s`` over every element of every free random variable), ``max_rhat`` (NaN for one
        chain), ``divergence_pct`` and ``roi_table``: a DataFrame with ``region``, ``channel``, ``spend_window``,
        ``contribution`` (posterior mean over the window), ``roi`` (posterior mean), ``roi_low``, ``roi_high``
        (90% HDI, ``attrs["interval"]``), one row per (region, channel) with spend, the columns of our
        ``FittedMMM.roi()``. Contributions are in revenue units: pymc-marketing's ``channel_contribution`` is on the
        scaled target, so it is multiplied back by the model's target scale.

    Raises
    ------
    contracts.ContractError
        A table breaks its contract or the tables do not line up.
    ValueError
        A setting is out of range, or a channel or control name clashes with a column pymc-marketing needs.
    """
    _validate_settings(draws=draws, tune=tune, chains=chains, l_max=l_max, fourier_order=fourier_order)
    if nuts_sampler not in NUTS_SAMPLERS:
        raise ValueError(f"nuts_sampler must be one of {list(NUTS_SAMPLERS)}; got {nuts_sampler!r}")
    cores = min(chains, 2) if cores is None else cores
    x, y, channel_names, control_names, spend_totals = wide_panel(spend, kpi, controls)

    from pymc_marketing.mmm import GeometricAdstock, LogisticSaturation
    from pymc_marketing.mmm.multidimensional import MMM

    sample_kwargs: dict[str, Any] = {
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "cores": cores,
        "nuts_sampler": nuts_sampler,
        "compute_convergence_checks": False,
    }
    if target_accept is not None:
        sample_kwargs["target_accept"] = float(target_accept)
    if nuts_sampler == "nutpie":
        sample_kwargs["nuts_sampler_kwargs"] = {"cores": cores}  # pm.sample does not pass `cores` on to nutpie

    started = time.perf_counter()
    model = MMM(
        date_column=_DATE,
        channel_columns=channel_names,
        target_column=_TARGET,
        adstock=GeometricAdstock(l_max=l_max),
        saturation=LogisticSaturation(),
        dims=(_GEO,),
        control_columns=control_names or None,
        yearly_seasonality=fourier_order or None,
        scaling=scaling,
    )
    idata = model.fit(x, y, progressbar=False, random_seed=seed, **sample_kwargs)
    wall = time.perf_counter() - started

    free_names = [rv.name for rv in model.model.free_RVs]
    health = _convergence(idata, free_names)
    target_scale = model.get_scales_as_xarray()["target_scale"]
    roi_table, roi_draws = _roi_table(idata.posterior["channel_contribution"] * target_scale, spend_totals)
    return {
        "variant": VARIANT,
        "nuts_sampler": nuts_sampler,
        "chains": int(chains),
        "draws": int(draws),
        "tune": int(tune),
        "wall_s": wall,
        "min_ess_bulk": health["min_ess_bulk"],
        "min_ess_tail": health["min_ess_tail"],
        "min_ess_per_s": min(health["min_ess_bulk"], health["min_ess_tail"]) / wall,
        "max_rhat": health["max_rhat"],
        "divergence_pct": health["divergence_pct"],
        "min_ess_roi": min_ess(roi_draws),
        "roi_table": roi_table,
    }


def min_ess(draws: np.ndarray) -> float:
    """Smallest bulk or tail ESS over the cells of ``draws`` shaped (chain, draw, cell)."""
    import arviz as az

    values = [float(az.ess(draws[:, :, c], method=m)) for c in range(draws.shape[2]) for m in ("bulk", "tail")]
    return min(values)


def wide_panel(
    spend: pd.DataFrame, kpi: pd.DataFrame, controls: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.Series, list[str], list[str], pd.DataFrame]:
    """Our long tables in pymc-marketing's wide layout.

    Returns
    -------
    x : pandas.DataFrame
        ``week``, ``geo``, one column per channel (spend, 0 where a geo has none) and per control; one row per
        (week, geo), sorted.
    y : pandas.Series
        ``revenue`` on the same index.
    channel_names, control_names : list of str
        The channel columns (those with any spend) and control columns of ``x``.
    spend_totals : pandas.DataFrame
        ``region``, ``channel``, ``spend_window``: total spend of each (region, channel) with spend.
    """
    spend = validate_spend(spend)
    kpi = validate_kpi(kpi)
    controls = validate_controls(controls) if controls is not None else None
    check_panel(spend, kpi, controls=controls)

    weeks = sorted(kpi["week"].unique())
    regions = sorted(kpi["region"].unique())
    grid = pd.MultiIndex.from_product([weeks, regions], names=[_DATE, _GEO])
    by_cell = spend.pivot_table(index=["week", "region"], columns="channel", values="spend", aggfunc="sum")
    by_cell = by_cell.rename_axis(index=[_DATE, _GEO], columns=None).reindex(grid).fillna(0.0)
    by_cell = by_cell.loc[:, by_cell.sum(axis=0) > 0]
    channel_names = [str(c) for c in by_cell.columns]
    x = by_cell
    control_names = [c for c in controls.columns if c not in ("week", "region")] if controls is not None else []
    _validate_names(channel_names, control_names)
    if controls is not None:
        values = controls.rename(columns={"week": _DATE, "region": _GEO}).set_index([_DATE, _GEO])
        x = x.join(values[control_names].reindex(grid))
    revenue = kpi.rename(columns={"week": _DATE, "region": _GEO}).set_index([_DATE, _GEO])["revenue"]
    x = x.reset_index()
    y = revenue.reindex(grid).reset_index(drop=True).rename(_TARGET).astype(float)
    totals = spend.groupby(["region", "channel"], as_index=False)["spend"].sum()
    totals = totals[totals["spend"] > 0].rename(columns={"spend": "spend_window"}).reset_index(drop=True)
    return x, y, channel_names, control_names, totals


# --------------------------------------------------------------------------------------------- internals


def _validate_settings(**settings: int) -> None:
    lowest = {"draws": 1, "tune": 0, "chains": 1, "l_max": 1, "fourier_order": 0}
    for name, value in settings.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lowest[name]:
            raise ValueError(f"{name} must be an integer >= {lowest[name]}; got {value!r}")


def _validate_names(channel_names: list[str], control_names: list[str]) -> None:
    clashes = sorted((set(channel_names) | set(control_names)) & _RESERVED)
    shared = sorted(set(channel_names) & set(control_names))
    if clashes:
        raise ValueError(
            f"channel and control names must not be any of {sorted(_RESERVED)} (pymc-marketing uses them); "
            f"got {clashes}"
        )
    if shared:
        raise ValueError(f"a control must not have the name of a channel; both: {shared}")


def _convergence(idata, free_names: list[str]) -> dict[str, float]:
    import arviz as az

    posterior = idata.posterior[free_names]
    ess_bulk = float(az.ess(posterior, method="bulk").to_array().min())
    ess_tail = float(az.ess(posterior, method="tail").to_array().min())
    if posterior.sizes["chain"] > 1 and posterior.sizes["draw"] >= 4:
        rhat = float(az.rhat(posterior).to_array().max())
    else:
        rhat = float("nan")
    diverging = idata.sample_stats["diverging"]
    return {
        "min_ess_bulk": ess_bulk,
        "min_ess_tail": ess_tail,
        "max_rhat": rhat,
        "divergence_pct": float(100.0 * diverging.values.sum() / diverging.size),
    }


def _roi_table(contribution, spend_totals: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """ROI per (region, channel): contribution (revenue units, summed over weeks) / spend_window; and its draws
    shaped (chain, draw, cell)."""
    total = contribution.sum("date").transpose("chain", "draw", ...)
    rows = []
    draws = []
    for region, channel, spend in spend_totals[["region", "channel", "spend_window"]].itertuples(index=False):
        cell = total.sel({_GEO: region, "channel": channel}).to_numpy()
        rows.append({"region": region, "channel": channel, "spend_window": spend, "contribution": cell.mean()})
        draws.append(cell / spend)
    out = pd.DataFrame(rows)
    roi = np.stack(draws, axis=-1)
    flat = roi.reshape(-1, roi.shape[-1])
    out["roi"] = flat.mean(axis=0)
    out["roi_low"], out["roi_high"] = hdi(flat, HDI_PROB)
    out.attrs["interval"] = interval_label(HDI_PROB)
    return out, roi
