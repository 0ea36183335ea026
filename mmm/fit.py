"""Fit the media-mix model: validate tables, build the PyMC model, sample, check health."""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from mmm.data import prepare_data
from mmm.model import build_model
from mmm.priors import roi_prior_arrays
from mmm.results import FittedMMM
from mmm.spec import MMMSpec

SAMPLERS = ("nutpie", "pymc", "numpyro")
#: Settings of the fast preview (for the app): few draws, two chains.
PREVIEW = {"draws": 250, "tune": 300, "chains": 2}


def fit(
    spend: pd.DataFrame,
    kpi: pd.DataFrame,
    *,
    channels: pd.DataFrame | None = None,
    controls: pd.DataFrame | None = None,
    lift_tests: pd.DataFrame | None = None,
    roi_priors: pd.DataFrame | None = None,
    spec: MMMSpec | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    seed: int | None = None,
    sampler: str = "nutpie",
    target_accept: float = 0.98,
    preview: bool = False,
    check: bool = True,
) -> FittedMMM:
    """Fit the geo-hierarchical Bayesian media-mix model.

    Parameters
    ----------
    spend, kpi : pandas.DataFrame
        Weekly spend (``week``, ``region``, ``channel``, ``spend``) and revenue (``week``, ``region``, ``revenue``).
    channels : pandas.DataFrame, optional
        Channel catalog (``channel``, ``objective``); needed for :meth:`FittedMMM.response_curves`.
    controls : pandas.DataFrame, optional
        Weekly controls (``week``, ``region``, one column per control), e.g. promotion depth.
    lift_tests : pandas.DataFrame, optional
        Experiments (``region``, ``channel``, ``start``, ``end``, ``spend_delta``, ``revenue_delta``,
        ``revenue_delta_se``); each adds a likelihood term on the implied incremental revenue.
    roi_priors : pandas.DataFrame, optional
        Prior mean and sd of ROI per cell (``region``, ``channel``, ``roi``, ``roi_sd``).
    spec : MMMSpec, optional
        Model specification (default ``MMMSpec()``).
    draws, tune, chains : int
        Posterior draws and tuning steps per chain, and the number of chains.
    seed : int, optional
        Seed of the sampler; the same seed and data give the same posterior. ``None`` picks one and records it in
        ``FittedMMM.info["seed"]``.
    sampler : {"nutpie", "pymc", "numpyro"}
        NUTS implementation; falls back to PyMC's own (with a warning) when the chosen one is not installed.
        numpyro comes with the ``numpyro`` extra (``pip install -e ".[numpyro]"``).
    target_accept : float
        NUTS target acceptance rate in (0, 1). The default 0.98 takes smaller steps than the usual 0.8: lift tests
        pin a cell's curve at a few spend levels, a narrow curved ridge in (ROI, saturation, adstock) where 0.95
        diverged on up to 0.3% of draws and mixed the ROIs of always-on channels slowly (R-hat up to 1.02); 0.98
        gave 0–0.05% divergences and R-hat <= 1.007 on the sample world for about 1.5x the sampling time.
    preview : bool
        Fast preview for the app: at most 250 draws after 300 tuning steps on 2 chains (39 s on the sample world on
        the slower of this project's CPU types, compilation included; 57 s with 600 tuning steps). Since every free
        parameter sits on unit prior scale (issue 11), short tuning no longer leaves chains crawling at the maximum
        tree depth. Diagnostics will usually fail (few draws).
    check : bool
        Run :meth:`FittedMMM.diagnostics` and warn when a check fails.

    Returns
    -------
    FittedMMM

    Raises
    ------
    contracts.ContractError
        A table breaks its contract, or the ``roi_priors`` table is invalid.
    ValueError
        A sampling setting is out of range.
    """
    spec = spec if spec is not None else MMMSpec()
    if not isinstance(spec, MMMSpec):
        raise ValueError(f"spec must be an MMMSpec; got {type(spec).__name__}")
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {list(SAMPLERS)}; got {sampler!r}")
    for name, value, low in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    if isinstance(target_accept, bool) or not isinstance(target_accept, (int, float)) or not 0 < target_accept < 1:
        raise ValueError(f"target_accept must be a number in (0, 1); got {target_accept!r}")
    if preview:
        draws, tune, chains = min(draws, PREVIEW["draws"]), min(tune, PREVIEW["tune"]), min(chains, PREVIEW["chains"])
    seed = int(np.random.SeedSequence().entropy % 2**31) if seed is None else int(seed)

    data = prepare_data(spend, kpi, channels=channels, controls=controls, lift_tests=lift_tests)
    log_median, log_sd, from_table = roi_prior_arrays(
        roi_priors, data.cells, spec.roi_prior_median, spec.roi_prior_log_sd
    )
    model = build_model(data, spec, log_median, log_sd)
    started = time.perf_counter()
    idata, used = _sample(
        model, sampler, draws=draws, tune=tune, chains=chains, seed=seed, target_accept=float(target_accept)
    )
    seconds = time.perf_counter() - started
    prior = data.cells[["region", "channel"]].assign(
        prior_log_median=log_median, prior_log_sd=log_sd, prior_source=np.where(from_table, "table", "default")
    )
    info = {
        "sampler": used,
        "draws": int(draws),
        "tune": int(tune),
        "chains": int(chains),
        "seed": seed,
        "target_accept": float(target_accept),
        "seconds": seconds,
        "preview": bool(preview),
        "free_vars": [rv.name for rv in model.free_RVs],
    }
    fitted = FittedMMM(data=data, spec=spec, idata=idata, roi_prior=prior, info=info)
    if check:
        fitted.diagnostics(warn=True)
    return fitted


def _sample(
    model, sampler: str, *, draws: int, tune: int, chains: int, seed: int, target_accept: float
) -> tuple[Any, str]:
    keep = [v.name for v in model.free_RVs + model.deterministics]
    if sampler == "nutpie":
        try:
            import nutpie
        except ImportError:
            warnings.warn("nutpie is not installed; sampling with PyMC's NUTS instead", UserWarning, stacklevel=3)
            sampler = "pymc"
        else:
            compiled = nutpie.compile_pymc_model(model, backend="numba")
            idata = nutpie.sample(
                compiled,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=min(chains, 2),
                seed=seed,
                target_accept=target_accept,
                progress_bar=False,
                save_warmup=False,
            )
            return _only(idata, keep), "nutpie"
    import pymc as pm

    kwargs: dict[str, Any] = {}
    if sampler == "numpyro":
        try:
            import numpyro  # noqa: F401
        except ImportError:
            warnings.warn("numpyro is not installed; sampling with PyMC's NUTS instead", UserWarning, stacklevel=3)
            sampler = "pymc"
        else:
            kwargs["nuts_sampler"] = "numpyro"
    with model:
        idata = pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=min(chains, 2),
            random_seed=seed,
            target_accept=target_accept,
            progressbar=False,
            compute_convergence_checks=False,
            **kwargs,
        )
    return _only(idata, keep), sampler


def _only(idata, keep: list[str]):
    """Drop sampler extras (e.g. unconstrained copies) from the posterior; keep observed data and stats."""
    post = idata.posterior
    drop = [v for v in post.data_vars if v not in keep]
    if drop:
        idata.posterior = post.drop_vars(drop)
    return idata
