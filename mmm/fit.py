"""Fit the media-mix model, or build it for an analyst to extend: from a validated dataset to a posterior."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pymc as pm

from contracts import Dataset
from mmm.data import ModelData, prepare_data
from mmm.model import assemble_model
from mmm.priors import roi_prior_arrays
from mmm.results import FittedMMM
from mmm.sampler import LIMITS, Sampler, check_seed, run, without_blas_notice
from mmm.spec import MMMSpec


def _prepare(
    data: Dataset, spec: MMMSpec | None, roi_priors: pd.DataFrame | None, lift_tests: bool
) -> tuple[ModelData, MMMSpec, np.ndarray, np.ndarray, np.ndarray]:
    spec = spec if spec is not None else MMMSpec()
    if not isinstance(spec, MMMSpec):
        raise TypeError(f"spec must be an MMMSpec; got {type(spec).__name__}")
    model_data = prepare_data(data, lift_tests=lift_tests)
    log_median, log_sd, from_table = roi_prior_arrays(
        roi_priors, model_data.cells, spec.roi_prior_median, spec.roi_prior_log_sd
    )
    return model_data, spec, log_median, log_sd, from_table


def build_model(
    data: Dataset,
    spec: MMMSpec | None = None,
    *,
    roi_priors: pd.DataFrame | None = None,
    lift_tests: bool = True,
) -> pm.Model:
    """The PyMC model :func:`fit` samples, built but not sampled, for analysts to inspect or extend.

    Coordinates are labelled: ``week`` holds the Monday dates, ``region`` and ``channel`` the names, ``cell`` the
    ``region/channel`` pairs with spend (per-cell variables such as ``roi`` run along ``cell``; see
    :meth:`FittedMMM.labelled` for a posterior with separate ``region`` and ``channel`` dimensions). Revenue is
    modelled in units of each region's mean weekly revenue.

    Parameters
    ----------
    data : contracts.Dataset
        Needs ``spend`` and ``kpi``; uses ``channels``, ``controls`` and ``lift_tests`` when present.
    spec : MMMSpec, optional
        Components (adstock, saturation; custom subclasses of :class:`mmm.Adstock` / :class:`mmm.Saturation` plug in)
        and prior settings; default ``MMMSpec()``.
    roi_priors : pandas.DataFrame, optional
        Prior median and sd of ROI per cell (``region``, ``channel``, ``roi``, ``roi_sd``).
    lift_tests : bool
        Add the dataset's lift tests as likelihood terms.

    Returns
    -------
    pymc.Model
    """
    model_data, spec, log_median, log_sd, _ = _prepare(data, spec, roi_priors, lift_tests)
    return assemble_model(model_data, spec, log_median, log_sd)


def prior_predictive(
    data: Dataset,
    spec: MMMSpec | None = None,
    *,
    draws: int = 500,
    roi_priors: pd.DataFrame | None = None,
    lift_tests: bool = True,
    seed: int | None = None,
):
    """Draws from the prior and the prior predictive: what the model believes before it sees revenue.

    Returns
    -------
    arviz.InferenceData
        Groups ``prior`` (every parameter and deterministic, e.g. ``roi``) and ``prior_predictive`` with
        ``revenue`` in **currency** (week, region), beside ``observed_data`` (also in currency), so the two compare
        directly, e.g. ``az.plot_ppc(idata, group="prior")``.
    """
    high = LIMITS["draws"][1]
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be an integer >= 1; got {draws!r}")
    if draws > high:
        raise ValueError(f"draws must be <= {high:_}; got {draws:_}")
    seed = check_seed(seed)
    model_data, spec, log_median, log_sd, _ = _prepare(data, spec, roi_priors, lift_tests)
    model = assemble_model(model_data, spec, log_median, log_sd)
    with model, _quiet():
        idata = pm.sample_prior_predictive(draws=int(draws), random_seed=seed)
    scale = model_data.revenue_scale
    n_fit = model_data.n_weeks - spec.holdout_weeks
    labels = {"week": model_data.weeks[:n_fit], "region": list(model_data.regions)}
    for group in ("prior_predictive", "observed_data"):
        ds = idata[group]
        revenue = ds["revenue"]
        dims = dict(zip(revenue.dims[-2:], labels, strict=True))
        revenue = (revenue * scale).rename(dims).assign_coords(labels)
        revenue.attrs["units"] = "currency per week"
        idata[group] = ds.drop_vars("revenue").drop_dims(list(dims)).assign(revenue=revenue)
    return idata


@contextmanager
def _quiet() -> Iterator[None]:
    """Hide third-party noise a user cannot act on: PyMC's "Sampling: [...]" log line and PyTensor's notice that
    it found no BLAS library (:func:`mmm.sampler.without_blas_notice`)."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with without_blas_notice():
            yield
    finally:
        logger.setLevel(level)


def fit(
    data: Dataset,
    *,
    spec: MMMSpec | None = None,
    sampler: Sampler | None = None,
    roi_priors: pd.DataFrame | None = None,
    lift_tests: bool = True,
    seed: int | None = None,
    check: bool = True,
) -> FittedMMM:
    """Fit the geo-hierarchical Bayesian media-mix model.

    Parameters
    ----------
    data : contracts.Dataset
        Needs ``spend`` (weekly, per region and channel) and ``kpi`` (weekly revenue per region); uses ``channels``
        (needed for :meth:`FittedMMM.response_curves`), ``controls`` and ``lift_tests`` when present. Plain tables go
        in as ``contracts.Dataset(spend=spend, kpi=kpi, ...)``; a folder as ``contracts.load_dataset(folder)``; a
        simulated world as ``world.data``.
    spec : MMMSpec, optional
        Model specification (default ``MMMSpec()``).
    sampler : Sampler, optional
        NUTS settings (default ``Sampler()``: 4 chains × 1000 draws after 1000 tuning steps with nutpie);
        ``Sampler.preview()`` for the app's quick look; a ``progress`` callback reports while it runs.
    roi_priors : pandas.DataFrame, optional
        Prior median and sd of ROI per cell (``region``, ``channel``, ``roi``, ``roi_sd``).
    lift_tests : bool
        Use the dataset's lift tests (each adds a likelihood term on the implied incremental revenue).
    seed : int, optional
        Seed of the sampler, an integer in [0, 2**32 - 1] (a float, bool or text is refused, never truncated); the
        same seed, data and machine give the same posterior. ``None`` picks one and records it in
        ``FittedMMM.info["seed"]``.
    check : bool
        Run :meth:`FittedMMM.diagnostics` and warn when a check fails.

    Returns
    -------
    FittedMMM

    Raises
    ------
    TypeError
        ``data`` is not a Dataset, ``spec`` not an MMMSpec or ``sampler`` not a Sampler.
    contracts.ContractError
        The ``roi_priors`` table is invalid.
    """
    sampler = sampler if sampler is not None else Sampler()
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be an mmm.Sampler; got {type(sampler).__name__}")
    seed = check_seed(seed)
    seed = int(np.random.SeedSequence().entropy % 2**31) if seed is None else seed
    model_data, spec, log_median, log_sd, from_table = _prepare(data, spec, roi_priors, lift_tests)
    model = assemble_model(model_data, spec, log_median, log_sd)
    started = time.perf_counter()
    idata, used = run(model, sampler, seed)
    seconds = time.perf_counter() - started
    prior = model_data.cells[["region", "channel"]].assign(
        prior_log_median=log_median, prior_log_sd=log_sd, prior_source=np.where(from_table, "table", "default")
    )
    info = {
        **sampler.settings(),
        "sampler": used,
        "seed": seed,
        "seconds": seconds,
        "lift_tests": len(model_data.lift_tests),
        "preview": sampler.draws * sampler.chains <= 500,
        "free_vars": [rv.name for rv in model.free_RVs],
    }
    fitted = FittedMMM(data=model_data, spec=spec, idata=idata, roi_prior=prior, info=info)
    if check:
        fitted.diagnostics(warn=True)
    return fitted
