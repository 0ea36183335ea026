"""A fitted media-mix model: ROI, contributions, response curves and model health, from the posterior alone."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from contracts import PERIOD_WEEKS, ROI_HURDLE, ResponseCurves, hdi, interval_label
from mmm import io
from mmm.adstock import lagged
from mmm.data import ModelData
from mmm.diagnostics import Diagnostics, diagnose
from mmm.forecast import Forecast, predict
from mmm.model import prior_log_roi_sd
from mmm.spec import MMMSpec

#: Draws processed at a time when the whole (draws, weeks, cells) array would be large.
_CHUNK = 500
#: A cell whose posterior sd of log ROI is above this share of its prior sd is reported as prior-dominated. On the
#: sample world (base fit) the 12 always-on retention cells sit at 0.82–0.94 and the other 32 cells at 0.36–0.79.
PRIOR_DOMINATED_RATIO = 0.8


@dataclass(frozen=True, eq=False)
class FittedMMM:
    """Posterior of a media-mix model with the data it was fitted on.

    Build it with :func:`mmm.fit` or :func:`mmm.load`. Every method works from ``idata.posterior`` and ``data``, so a
    saved fit gives the same answers as a fresh one.

    Attributes
    ----------
    data : ModelData
        The prepared panel.
    spec : MMMSpec
        The model specification.
    idata : arviz.InferenceData
        Posterior (with deterministics ``roi``, ``beta``, ``baseline``, ``cell_adstock_*``, ``cell_saturation_*``,
        ``sigma``) and sample stats.
    roi_prior : pandas.DataFrame
        Per cell: ``prior_log_median``, ``prior_log_sd``, ``prior_source`` (``table`` or ``default``).
    info : dict
        How it was fitted: sampler, draws, tune, chains, seed, seconds, free variable names, preview flag.
    """

    data: ModelData
    spec: MMMSpec
    idata: az.InferenceData
    roi_prior: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ draws
    def draws(self, name: str) -> np.ndarray:
        """Posterior draws of variable ``name`` with chains and draws stacked on axis 0."""
        values = self.idata.posterior[name].values
        return values.reshape(-1, *values.shape[2:])

    @property
    def n_draws(self) -> int:
        """Total posterior draws (chains × draws)."""
        post = self.idata.posterior
        return int(post.sizes["chain"] * post.sizes["draw"])

    def _cell_params(self, prefix: str, index: slice | np.ndarray = slice(None)) -> dict[str, np.ndarray]:
        names = [v for v in self.idata.posterior.data_vars if str(v).startswith(prefix)]
        return {str(v)[len(prefix) :]: self.draws(str(v))[index] for v in names}

    def _response_chunks(self) -> Iterator[tuple[slice, np.ndarray, dict[str, np.ndarray]]]:
        """Yield (draw slice, scaled adstock (d, T, C), saturation parameters (d, 1, C))."""
        lags = lagged(self.data.spend / self.data.spend_scale, self.spec.adstock.l_max)
        for start in range(0, self.n_draws, _CHUNK):
            index = slice(start, min(start + _CHUNK, self.n_draws))
            ad = self._cell_params("cell_adstock_", index)
            weights = np.stack(
                [self.spec.adstock.weights({k: v[d] for k, v in ad.items()}) for d in range(index.stop - index.start)]
            )
            adstocked = np.einsum("ltc,dlc->dtc", lags, weights)
            sat = {k: v[:, None, :] for k, v in self._cell_params("cell_saturation_", index).items()}
            yield index, adstocked, sat

    def contribution_draws(self) -> np.ndarray:
        """Weekly contribution of every cell per draw, in currency: shape (draws, weeks, cells)."""
        out = np.empty((self.n_draws, self.data.n_weeks, len(self.data.cells)))
        beta = self.draws("beta") * self.data.revenue_scale[self.data.cell_region]
        for index, adstocked, sat in self._response_chunks():
            out[index] = beta[index, None, :] * self.spec.saturation.apply(adstocked, sat, np)
        return out

    def predicted_draws(self) -> np.ndarray:
        """Expected weekly revenue per draw (without noise), in currency: shape (draws, weeks, regions)."""
        region = np.zeros((len(self.data.cells), len(self.data.regions)))
        region[np.arange(len(self.data.cells)), self.data.cell_region] = 1.0
        media = self.contribution_draws() @ region
        return self.draws("baseline") * self.data.revenue_scale + media

    # ------------------------------------------------------------------ answers
    def roi(self, roi_hurdle: float = ROI_HURDLE, hdi_prob: float = 0.9) -> pd.DataFrame:
        """ROI per (region, channel) over the data window, with uncertainty.

        Parameters
        ----------
        roi_hurdle : float
            ROI below which a cell is flagged; ``p_roi_below_hurdle`` is the posterior probability of that at the
            **observed** spend (the plan's ``flag`` is judged at the recommended spend instead).
        hdi_prob : float
            Mass of the highest-density intervals (recorded in ``attrs["interval"]``, e.g. ``"90% HDI"``).

        Returns
        -------
        pandas.DataFrame
            ``region``, ``channel``, ``objective``, ``spend_window`` (spend over the data window),
            ``contribution`` (posterior mean over the window) with ``contribution_low/high``, ``roi`` (posterior
            mean), ``roi_median``, ``roi_sd``, ``roi_low``, ``roi_high``, ``p_roi_below_hurdle``, ``mroi``,
            ``mroi_low``, ``mroi_high`` (marginal ROI: extra revenue per extra unit of spend when the cell's whole
            spend series grows in proportion), ``prior_source``, ``prior_sd_ratio`` (posterior sd of log ROI over
            its prior sd: near 1, the data hardly moved the prior), ``prior_dominated`` (``prior_sd_ratio`` above
            :data:`PRIOR_DOMINATED_RATIO`: the ROI is mostly the prior's; a lift test would inform it), and the
            ROI's own convergence: ``rhat`` (NaN with one chain) and ``ess_bulk``; see :meth:`diagnostics` for the
            verdict.
        """
        if isinstance(roi_hurdle, bool) or not (
            isinstance(roi_hurdle, (int, float)) and np.isfinite(roi_hurdle) and roi_hurdle > 0
        ):
            raise ValueError(f"roi_hurdle must be a finite number > 0; got {roi_hurdle!r}")
        roi = self.draws("roi")
        spend = self.data.spend.sum(axis=0)
        mroi = self.mroi_draws()
        out = self.data.cells.copy()
        out["spend_window"] = spend
        contribution = roi * spend
        out["contribution"] = contribution.mean(axis=0)
        out["contribution_low"], out["contribution_high"] = hdi(contribution, hdi_prob)
        out["roi"] = roi.mean(axis=0)
        out["roi_median"] = np.median(roi, axis=0)
        out["roi_sd"] = roi.std(axis=0)
        out["roi_low"], out["roi_high"] = hdi(roi, hdi_prob)
        out["p_roi_below_hurdle"] = (roi < roi_hurdle).mean(axis=0)
        out["mroi"] = mroi.mean(axis=0)
        out["mroi_low"], out["mroi_high"] = hdi(mroi, hdi_prob)
        out["prior_source"] = self.roi_prior["prior_source"].to_numpy()
        prior_sd = prior_log_roi_sd(self.data, self.spec, self.roi_prior["prior_log_sd"].to_numpy())
        out["prior_sd_ratio"] = np.log(roi).std(axis=0) / prior_sd
        out["prior_dominated"] = out["prior_sd_ratio"] > PRIOR_DOMINATED_RATIO
        post = self.idata.posterior
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # constant draws: 0/0 inside arviz, reported as NaN
            if post.sizes["chain"] > 1 and post.sizes["draw"] >= 4:
                out["rhat"] = az.rhat(post, var_names=["roi"])["roi"].values
            else:
                out["rhat"] = np.nan
            out["ess_bulk"] = az.ess(post, var_names=["roi"], method="bulk")["roi"].values
        out.attrs["interval"] = interval_label(hdi_prob)
        out.attrs["roi_hurdle"] = float(roi_hurdle)
        return out

    def mroi_draws(self) -> np.ndarray:
        """Marginal ROI per draw and cell (draws, cells): ``Σ_t beta·u·f'(u) / Σ_t spend`` at observed spend."""
        out = np.empty((self.n_draws, len(self.data.cells)))
        beta = self.draws("beta") * self.data.revenue_scale[self.data.cell_region]
        for index, adstocked, sat in self._response_chunks():
            out[index] = beta[index] * self.spec.saturation.elasticity(adstocked, sat).sum(axis=1)
        return out / self.data.spend.sum(axis=0)

    def channel_tradeoffs(self, threshold: float = -0.5) -> pd.DataFrame:
        """Pairs of channels whose effects the data do not tell apart: the posterior correlation, across draws, of
        their total contributions over the data window (summed over regions) is at or below ``threshold``.

        A strongly negative correlation means the data pin down the pair's combined effect better than its split,
        typically because their spend moves together: their ROI intervals are wider for it, chains can drift along
        the ridge (see :meth:`diagnostics`), and lift tests on one of the two (in the regions that matter) are what
        separates them. Channel totals are summed over regions, so a trade-off confined to one region may not show;
        trade-offs with the baseline are not covered.

        Parameters
        ----------
        threshold : float
            In [-1, 0]: pairs at or below it are returned. :func:`mmm.diagnostics.diagnose` uses
            :data:`mmm.diagnostics.TRADEOFF_CORRELATION` (-0.7).

        Returns
        -------
        pandas.DataFrame
            ``channel_a``, ``channel_b``, ``correlation``, most negative first (empty when none qualify).
        """
        if isinstance(threshold, bool) or not (isinstance(threshold, Real) and -1.0 <= threshold <= 0.0):
            raise ValueError(f"threshold must be a number in [-1, 0]; got {threshold!r}")
        contribution = self.draws("roi") * self.data.spend.sum(axis=0)
        channels = list(self.data.channels)
        totals = np.stack(
            [contribution[:, self.data.cell_channel == k].sum(axis=1) for k in range(len(channels))], axis=1
        )
        centred = totals - totals.mean(axis=0)
        # A constant channel (e.g. no cells, or a hand-built posterior) has no correlation: its mean is off by a
        # rounding step, which would otherwise give exactly +-1.
        sd = np.where(np.ptp(totals, axis=0) > 0, np.sqrt((centred**2).mean(axis=0)), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = (centred.T @ centred) / len(totals) / np.outer(sd, sd)
        rows = [
            {"channel_a": channels[i], "channel_b": channels[j], "correlation": float(corr[i, j])}
            for i in range(len(channels))
            for j in range(i + 1, len(channels))
            if corr[i, j] <= threshold  # NaN (constant channel) never qualifies
        ]
        out = pd.DataFrame(rows, columns=["channel_a", "channel_b", "correlation"])
        return out.sort_values("correlation", kind="stable").reset_index(drop=True)

    def contributions(self, hdi_prob: float = 0.9) -> pd.DataFrame:
        """Weekly contribution of every cell (and the baseline per region) with intervals.

        Returns
        -------
        pandas.DataFrame
            ``week``, ``region``, ``channel`` (``"baseline"`` for the baseline rows), ``spend_weekly``,
            ``contribution`` (posterior mean, currency per week), ``contribution_low``, ``contribution_high``
            (interval in ``attrs["interval"]``).
        """
        draws = self.contribution_draws()
        low, high = hdi(draws, hdi_prob)
        n_t, n_c = draws.shape[1:]
        media = pd.DataFrame(
            {
                "week": np.repeat(self.data.weeks, n_c),
                "region": np.tile(self.data.cells["region"].to_numpy(), n_t),
                "channel": np.tile(self.data.cells["channel"].to_numpy(), n_t),
                "spend_weekly": self.data.spend.reshape(-1),
                "contribution": draws.mean(axis=0).reshape(-1),
                "contribution_low": low.reshape(-1),
                "contribution_high": high.reshape(-1),
            }
        )
        base = self.draws("baseline") * self.data.revenue_scale
        b_low, b_high = hdi(base, hdi_prob)
        n_r = len(self.data.regions)
        baseline = pd.DataFrame(
            {
                "week": np.repeat(self.data.weeks, n_r),
                "region": np.tile(list(self.data.regions), n_t),
                "channel": "baseline",
                "spend_weekly": 0.0,
                "contribution": base.mean(axis=0).reshape(-1),
                "contribution_low": b_low.reshape(-1),
                "contribution_high": b_high.reshape(-1),
            }
        )
        out = pd.concat([media, baseline], ignore_index=True)
        out.attrs["interval"] = interval_label(hdi_prob)
        return out

    def response_curves(
        self,
        period_weeks: int = PERIOD_WEEKS,
        max_draws: int | None = None,
        seed: int = 0,
        currency: str | None = None,
    ) -> ResponseCurves:
        """Posterior response curves over a planning period, for the optimizer.

        With normalised adstock, a constant weekly spend ``x`` has adstock ``x`` in steady state, so the period
        revenue of period spend ``S`` is ``P · beta · f(S / P)`` with ``P = period_weeks``: the same family with
        ``beta_period = P · beta`` and the spend scale multiplied by ``P``.

        Parameters
        ----------
        period_weeks : int
            Planning period in weeks (13 = a quarter).
        max_draws : int, optional
            Keep at most this many posterior draws (chosen at random with ``seed``).
        seed : int
            Seed of that choice.
        currency : str, optional
            Currency of the spend and revenue tables (e.g. ``"EUR"``), carried by the curves into the plan.

        Returns
        -------
        contracts.ResponseCurves
        """
        if isinstance(period_weeks, bool) or not isinstance(period_weeks, (int, np.integer)) or period_weeks < 1:
            raise ValueError(f"period_weeks must be an integer >= 1; got {period_weeks!r}")
        cells = self.data.cells
        if cells["objective"].isna().any():
            raise ValueError(
                "response_curves needs each channel's objective: fit on a dataset with a channels table (the channel "
                "catalog: channel, objective)"
            )
        index = np.arange(self.n_draws)
        if max_draws is not None and max_draws < self.n_draws:
            index = np.sort(np.random.default_rng(seed).choice(self.n_draws, size=max_draws, replace=False))
        beta = self.draws("beta")[index] * self.data.revenue_scale[self.data.cell_region]
        sat = self._cell_params("cell_saturation_", index)
        family, scale, shape = self.spec.saturation.curve_family(sat, self.data.spend_scale)
        p = float(period_weeks)
        kwargs = {"beta": p * beta, "period_weeks": int(period_weeks), "currency": currency}
        if family == "hill":
            return ResponseCurves.hill(cells, half_saturation=p * scale, shape=shape, **kwargs)
        return getattr(ResponseCurves, family)(cells, lam=p * scale, **kwargs)

    def predict(
        self,
        spend: pd.DataFrame,
        controls: pd.DataFrame | None = None,
        *,
        hdi_prob: float = 0.9,
        seed: int = 0,
        max_draws: int | None = None,
    ) -> Forecast:
        """Posterior predictive revenue for weeks after the fit, given their spend (and controls).

        Each draw's expected revenue is the model's formula continued past the fitted window (see
        :mod:`mmm.forecast`): adstock carries the last fitted weeks' spend into the new ones, the trend continues on
        the same time index, the Fourier seasonality at the continued week index, the controls on the fit's scale;
        the predictive draws add the likelihood's noise (``sigma`` per region, in currency).

        Parameters
        ----------
        spend : pandas.DataFrame
            ``week``, ``region``, ``channel``, ``spend``: one row per new week and model cell, weeks contiguous from the
            week after the last fitted week. Rows at or before that week are accepted only if they repeat the fitted
            spend exactly (they are then ignored), so a full spend table with the history works too. Rows of
            (region, channel) pairs outside the model are accepted at spend 0 only.
        controls : pandas.DataFrame, optional
            ``week``, ``region`` and the model's control columns, required when the model has controls. It must
            cover the fitted weeks (as fitted: they set the scale the model divides controls by) and the new weeks.
            Ignored when the model has no controls.
        hdi_prob : float
            Mass of the intervals of the forecast's tables (``attrs["interval"]``).
        seed : int
            Seed of the observation noise (and of the draw subset with ``max_draws``).
        max_draws : int, optional
            Use at most this many posterior draws (chosen at random with ``seed``).

        Returns
        -------
        mmm.forecast.Forecast
            Draws of expected and predictive revenue (draws, weeks, regions), baseline and per-cell contribution,
            with tables :meth:`~mmm.forecast.Forecast.weekly`, :meth:`~mmm.forecast.Forecast.horizon`,
            :meth:`~mmm.forecast.Forecast.contributions` and :meth:`~mmm.forecast.Forecast.compare` (realized
            revenue against the predictive interval).

        Raises
        ------
        contracts.ContractError
            (a ``ValueError``) The spend or controls table is malformed: missing columns, NaN or negative spend,
            duplicated or missing (week, cell) rows, gaps in the new weeks, spend on cells the model lacks, history
            rows that differ from the fit. The message names the table, column, rows and what is allowed.
        ValueError
            Bad options; controls missing for a model with controls; a posterior without the baseline parameters
            (``level``, ``trend``, ``season``, ``control_effect``), e.g. a hand-built one.

        Examples
        --------
        >>> forecast = fitted.predict(next_quarter_spend, controls)          # doctest: +SKIP
        >>> forecast.compare(realized_kpi)                                   # doctest: +SKIP
        """
        return predict(self, spend, controls, hdi_prob=hdi_prob, seed=seed, max_draws=max_draws)

    def labelled(self) -> az.InferenceData:
        """The posterior with separate ``region`` and ``channel`` dimensions, for ArviZ plots and ``xarray`` selection.

        Every per-cell variable (``roi``, ``beta``, ``cell_*`` ...) is unstacked from ``cell`` into (``region``,
        ``channel``); a (region, channel) pair without spend is NaN. Weeks are dates. The fit itself is unchanged.

        Examples
        --------
        >>> fitted.labelled().posterior["roi"].sel(region="Asia", channel="meta_ads")   # doctest: +SKIP
        """
        post = self.idata.posterior
        cells = self.data.cells
        index = xr.Coordinates.from_pandas_multiindex(
            pd.MultiIndex.from_arrays(
                [cells["region"].to_numpy(), cells["channel"].to_numpy()], names=["region", "channel"]
            ),
            "cell",
        )
        per_cell = [v for v in post.data_vars if "cell" in post[v].dims]
        clash = [d for d in ("region", "channel") if d in post.dims]
        other = post.drop_vars(per_cell)
        stacked = post[per_cell].drop_vars("cell").assign_coords(index).unstack("cell")
        if clash:
            stacked = stacked.reindex({d: other[d].values for d in clash if d in stacked.dims})
        merged = other.merge(stacked)
        out = az.InferenceData(posterior=merged)
        for group in self.idata.groups():
            if group != "posterior":
                out.add_groups({group: self.idata[group]})
        return out

    def diagnostics(self, warn: bool = True, seed: int = 0) -> Diagnostics:
        """Model-health checks and a verdict (see :func:`mmm.diagnostics.diagnose`)."""
        return diagnose(self, warn=warn, seed=seed)

    def save(self, path: str | Path) -> Path:
        """Write the fit to directory ``path`` (ArviZ netCDF + JSON; no pickle). See :meth:`load`."""
        return io.save(self, path)

    @classmethod
    def load(cls, path: str | Path) -> FittedMMM:
        """Read a fit written by :meth:`save`; it gives the same answers as the fit that was saved.

        Raises
        ------
        FileNotFoundError
            ``path`` lacks ``posterior.nc`` or ``model.json``.
        ValueError
            The files were written by an incompatible version.
        """
        return cls(**io.read(path))


#: Read a fit written by :meth:`FittedMMM.save` (same as :meth:`FittedMMM.load`).
load = FittedMMM.load
