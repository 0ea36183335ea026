"""Predictive revenue for the weeks after a fit, given their spend (and controls).

The expected revenue of week ``t`` is the model's own formula (:mod:`mmm.model`) evaluated per posterior draw at the
continued week index ``t = T, T+1, ...`` (``T`` fitted weeks):

* the baseline ``level_r · shape_tr`` keeps the fitted ``level`` and continues every term on the fit's scale: the trend
  on the same centred time index (``t - (T-1)/2``, weeks / 52), the yearly Fourier terms at ``t``, and the controls
  divided by the fit's control scale and centred on the fitted window's mean;
* the media adstock runs over the fitted spend followed by the new spend, so carry-over from the last fitted weeks
  enters the first new weeks exactly as it would in sample.

:func:`expected_draws` is that one computation for any week index; on the fitted weeks it reproduces
:meth:`mmm.FittedMMM.predicted_draws` (tested), and :func:`predict` calls it on the new weeks. The predictive draws add
the likelihood's noise, ``Normal(0, sigma_r · revenue_scale_r)`` per week and region.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from contracts import ContractError, Problem, hdi, interval_label
from contracts.errors import MAX_ROWS_SHOWN
from mmm.adstock import lagged
from mmm.data import ModelData
from mmm.spec import WEEKS_PER_YEAR, trend_term

if TYPE_CHECKING:
    from mmm.results import FittedMMM

#: The ``region`` label of the all-regions row in :meth:`Forecast.horizon` and :meth:`Forecast.compare`.
TOTAL = "total"
_WEEK = pd.Timedelta(days=7)


@dataclass(frozen=True, eq=False)
class Forecast:
    """Posterior predictive revenue for weeks after the fit (from :meth:`mmm.FittedMMM.predict`).

    Attributes
    ----------
    weeks : pandas.DatetimeIndex
        The forecast weeks (H), contiguous, starting the week after the last fitted week.
    regions : tuple of str
        Region labels (R).
    cells : pandas.DataFrame
        ``region``, ``channel`` of the model's cells (C).
    spend : numpy.ndarray
        The new weeks' spend (H, C) in currency.
    baseline : numpy.ndarray
        Baseline revenue per draw (draws, H, R) in currency.
    contribution : numpy.ndarray
        Media contribution of every cell per draw (draws, H, C) in currency, carry-over from the fitted weeks included.
    expected : numpy.ndarray
        Expected revenue per draw, without noise: baseline + media (draws, H, R).
    predictive : numpy.ndarray
        ``expected`` plus one draw of the observation noise (draws, H, R): what realized revenue is compared to.
    hdi_prob : float
        Mass of every interval in the tables (``attrs["interval"]``).
    """

    weeks: pd.DatetimeIndex
    regions: tuple[str, ...]
    cells: pd.DataFrame
    spend: np.ndarray
    baseline: np.ndarray
    contribution: np.ndarray
    expected: np.ndarray
    predictive: np.ndarray
    hdi_prob: float = 0.9

    @property
    def n_draws(self) -> int:
        """Number of posterior draws."""
        return int(self.expected.shape[0])

    def weekly(self) -> pd.DataFrame:
        """Forecast per week and region.

        Returns
        -------
        pandas.DataFrame
            ``week``, ``region``, ``mean`` (posterior mean of expected revenue), ``low``, ``high`` (predictive
            interval: where realized revenue should fall), ``expected_low``, ``expected_high`` (interval of the
            expected revenue, without noise), ``baseline`` and ``media`` (posterior means), in currency.
        """
        n_t, n_r = self.expected.shape[1:]
        out = pd.DataFrame({"week": np.repeat(self.weeks, n_r), "region": np.tile(list(self.regions), n_t)})
        out = out.assign(**self._summary(self.expected, self.predictive, axis_shape=(n_t * n_r,)))
        out["baseline"] = self.baseline.mean(axis=0).reshape(-1)
        out["media"] = (self.expected - self.baseline).mean(axis=0).reshape(-1)
        return self._label(out)

    def horizon(self) -> pd.DataFrame:
        """Forecast summed over the forecast weeks, per region and for all regions (``region == TOTAL``, last).

        Each draw is summed before the interval is taken, so the intervals are those of the horizon's total.

        Returns
        -------
        pandas.DataFrame
            ``region``, ``mean``, ``low``, ``high``, ``expected_low``, ``expected_high`` as in :meth:`weekly`.
        """
        expected, predictive = self._totals(self.expected), self._totals(self.predictive)
        out = pd.DataFrame({"region": [*self.regions, TOTAL]})
        return self._label(out.assign(**self._summary(expected, predictive, axis_shape=(len(out),))))

    def contributions(self) -> pd.DataFrame:
        """Media contribution of every cell per forecast week.

        Returns
        -------
        pandas.DataFrame
            ``week``, ``region``, ``channel``, ``spend_weekly``, ``contribution`` (posterior mean),
            ``contribution_low``, ``contribution_high``, in currency.
        """
        n_t, n_c = self.contribution.shape[1:]
        low, high = hdi(self.contribution, self.hdi_prob)
        out = pd.DataFrame(
            {
                "week": np.repeat(self.weeks, n_c),
                "region": np.tile(self.cells["region"].to_numpy(), n_t),
                "channel": np.tile(self.cells["channel"].to_numpy(), n_t),
                "spend_weekly": self.spend.reshape(-1),
                "contribution": self.contribution.mean(axis=0).reshape(-1),
                "contribution_low": low.reshape(-1),
                "contribution_high": high.reshape(-1),
            }
        )
        return self._label(out)

    def compare(self, realized_kpi: pd.DataFrame) -> pd.DataFrame:
        """Realized revenue over the forecast weeks against the predictive interval, per region and in total.

        Parameters
        ----------
        realized_kpi : pandas.DataFrame
            ``week``, ``region``, ``revenue``: one row per forecast week and region (rows of other weeks, e.g. the
            fitted history, are ignored).

        Returns
        -------
        pandas.DataFrame
            ``region`` (the regions, then ``TOTAL``), ``realized`` (revenue summed over the forecast weeks), ``mean``,
            ``low``, ``high`` (predictive interval of that sum), ``inside`` (``low <= realized <= high``) and
            ``position``: the share of predictive draws below the realized value (its predictive percentile; near 0
            or 1, the realized revenue is surprising given the spend).

        Raises
        ------
        contracts.ContractError
            Columns are missing, revenue is not finite, a (week, region) is duplicated or missing, or a region is
            not the model's.
        """
        realized = self._totals(_realized_grid(realized_kpi, self.weeks, self.regions)[None])[0]
        predictive = self._totals(self.predictive)
        low, high = hdi(predictive, self.hdi_prob)
        out = pd.DataFrame(
            {
                "region": [*self.regions, TOTAL],
                "realized": realized,
                "mean": self._totals(self.expected).mean(axis=0),
                "low": low,
                "high": high,
                "inside": (low <= realized) & (realized <= high),
                "position": (predictive < realized).mean(axis=0),
            }
        )
        return self._label(out)

    def _totals(self, draws: np.ndarray) -> np.ndarray:
        per_region = draws.sum(axis=1)
        return np.concatenate([per_region, per_region.sum(axis=1, keepdims=True)], axis=1)

    def _summary(self, expected: np.ndarray, predictive: np.ndarray, axis_shape: tuple[int]) -> dict[str, np.ndarray]:
        low, high = hdi(predictive, self.hdi_prob)
        e_low, e_high = hdi(expected, self.hdi_prob)
        parts = {
            "mean": expected.mean(axis=0),
            "low": low,
            "high": high,
            "expected_low": e_low,
            "expected_high": e_high,
        }
        return {k: v.reshape(axis_shape) for k, v in parts.items()}

    def _label(self, out: pd.DataFrame) -> pd.DataFrame:
        out.attrs["interval"] = interval_label(self.hdi_prob)
        out.attrs["horizon"] = f"{self.weeks[0].date()}..{self.weeks[-1].date()}"
        return out


def predict(
    fitted: FittedMMM,
    spend: pd.DataFrame,
    controls: pd.DataFrame | None = None,
    *,
    hdi_prob: float = 0.9,
    seed: int = 0,
    max_draws: int | None = None,
) -> Forecast:
    """Posterior predictive revenue for the weeks after the fit, given their spend (see :meth:`FittedMMM.predict`)."""
    _check_options(hdi_prob, seed, max_draws)
    _check_posterior(fitted)
    data = fitted.data
    weeks, new_spend = _new_spend(data, spend)
    new_controls = _new_controls(data, controls, weeks)
    rng = np.random.default_rng(seed)
    draws = np.arange(fitted.n_draws)
    if max_draws is not None and max_draws < fitted.n_draws:
        draws = np.sort(rng.choice(fitted.n_draws, size=max_draws, replace=False))
    week_index = np.arange(data.n_weeks, data.n_weeks + len(weeks))
    baseline, contribution = expected_draws(
        fitted,
        np.concatenate([data.spend, new_spend]),
        np.concatenate([data.controls, new_controls]),
        week_index,
        draws,
    )
    expected = baseline + contribution @ region_matrix(data)
    sigma = fitted.draws("sigma")[draws].reshape(len(draws), 1, -1) * data.revenue_scale
    predictive = expected + sigma * rng.standard_normal(expected.shape)
    return Forecast(
        weeks=weeks,
        regions=data.regions,
        cells=data.cells[["region", "channel"]].copy(),
        spend=new_spend,
        baseline=baseline,
        contribution=contribution,
        expected=expected,
        predictive=predictive,
        hdi_prob=float(hdi_prob),
    )


def expected_draws(
    fitted: FittedMMM,
    spend: np.ndarray,
    controls: np.ndarray,
    week_index: np.ndarray,
    draws: np.ndarray | slice = slice(None),
) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and media contribution of the model at any weeks, per posterior draw, in currency.

    Parameters
    ----------
    fitted : FittedMMM
        Its posterior needs ``level`` (and ``trend``, ``season``, ``control_effect`` where the model has them).
    spend : numpy.ndarray
        Spend (T', C) in currency from the first fitted week on (the fitted spend, then any new weeks).
    controls : numpy.ndarray
        Controls (T', R, n_controls) on the fit's scale (``ModelData.controls``), same weeks as ``spend``.
    week_index : numpy.ndarray
        Weeks to evaluate, as indices into ``spend`` (0 = the first fitted week).
    draws : numpy.ndarray or slice
        Posterior draws to use (chains and draws stacked).

    Returns
    -------
    baseline : numpy.ndarray
        (draws, weeks, R).
    contribution : numpy.ndarray
        (draws, weeks, C).
    """
    week_index = np.asarray(week_index, dtype=int)
    return _baseline_draws(fitted, controls, week_index, draws), _media_draws(fitted, spend, week_index, draws)


def region_matrix(data: ModelData) -> np.ndarray:
    """(C, R) indicator of each cell's region: ``cells @ region_matrix`` sums cells into regions."""
    out = np.zeros((len(data.cells), len(data.regions)))
    out[np.arange(len(data.cells)), data.cell_region] = 1.0
    return out


def _baseline_draws(fitted: FittedMMM, controls: np.ndarray, t: np.ndarray, draws) -> np.ndarray:
    """``level · shape`` as in :func:`mmm.model._baseline`, with the terms of :func:`mmm.model._baseline_terms`."""
    data, spec = fitted.data, fitted.spec
    n_controls = data.controls.shape[2]
    _check_posterior(fitted)
    level = fitted.draws("level")[draws]
    terms = []
    if spec.trend:
        from_middle = t - (data.n_weeks - 1) / 2.0
        growth = fitted.draws("trend")[draws][:, None, :] * from_middle[None, :, None] / 52.0
        terms.append(trend_term(spec, growth, np))
    if spec.fourier_order:
        angle = 2 * np.pi * np.arange(1, spec.fourier_order + 1)[None, :] * t[:, None] / WEEKS_PER_YEAR
        fourier = np.concatenate([np.sin(angle), np.cos(angle)], axis=1)
        terms.append(np.einsum("tf,dfr->dtr", fourier, fitted.draws("season")[draws]))
    if n_controls:
        centred = controls[t] - data.controls.mean(axis=0, keepdims=True)
        terms.append(np.einsum("trk,drk->dtr", centred, fitted.draws("control_effect")[draws]))
    shape = np.ones((len(level), len(t), len(data.regions)))
    if spec.baseline == "log":
        shape = shape * np.exp(sum(terms, np.zeros_like(shape)))
    else:
        for term in terms:
            shape = shape * (1.0 + term)
    return level[:, None, :] * shape * data.revenue_scale


def _check_posterior(fitted: FittedMMM) -> None:
    spec = fitted.spec
    needed = ["level"] + ["trend"] * spec.trend + ["season"] * bool(spec.fourier_order)
    needed += ["control_effect"] * bool(fitted.data.controls.shape[2])
    missing = [n for n in needed if n not in fitted.idata.posterior]
    if missing:
        raise ValueError(
            f"predicting new weeks needs the baseline parameters {needed} in the posterior; it lacks {missing} "
            "(a hand-built posterior with only the `baseline` deterministic cannot be extrapolated)"
        )


def _media_draws(fitted: FittedMMM, spend: np.ndarray, t: np.ndarray, draws) -> np.ndarray:
    data, spec = fitted.data, fitted.spec
    lags = lagged(spend / data.spend_scale, spec.adstock.l_max)[:, t, :]
    ad = {k: v[draws] for k, v in fitted._cell_params("cell_adstock_").items()}
    n_draws, n_cells = next(iter(ad.values())).shape
    # Each cell's weights depend on its own parameters only, so all (draw, cell) pairs go through in one call.
    weights = np.asarray(spec.adstock.weights({k: v.reshape(-1) for k, v in ad.items()}))
    adstocked = np.einsum("ltc,ldc->dtc", lags, weights.reshape(spec.adstock.l_max, n_draws, n_cells))
    sat = {k: v[draws][:, None, :] for k, v in fitted._cell_params("cell_saturation_").items()}
    beta = fitted.draws("beta")[draws] * data.revenue_scale[data.cell_region]
    return beta[:, None, :] * spec.saturation.apply(adstocked, sat, np)


# ---------------------------------------------------------------------------------------------- input checks
def _check_options(hdi_prob, seed, max_draws) -> None:
    if isinstance(hdi_prob, bool) or not isinstance(hdi_prob, (int, float)) or not 0 < hdi_prob < 1:
        raise ValueError(f"hdi_prob must be a number in (0, 1); got {hdi_prob!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    if max_draws is not None and (isinstance(max_draws, bool) or not isinstance(max_draws, Integral) or max_draws < 1):
        raise ValueError(f"max_draws must be an integer >= 1 or None (all draws); got {max_draws!r}")


def _table(df, name: str, columns: list[str]) -> pd.DataFrame:
    """Check the columns and parse ``week``; every table-level problem raised at once."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame with columns {columns}; got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ContractError([Problem(name, missing[0], f"columns {missing} are missing", f"columns {columns}")])
    out = df[columns].reset_index(drop=True).copy()
    try:
        out["week"] = pd.to_datetime(out["week"])
    except (ValueError, TypeError) as err:
        raise ContractError(
            [Problem(name, "week", f"cannot be read as dates ({err})", "ISO dates, e.g. 2026-01-05")]
        ) from err
    return out


def _examples(rows: pd.DataFrame, columns: list[str]) -> tuple[str, ...]:
    def text(value) -> str:
        return (
            str(value.date())
            if isinstance(value, pd.Timestamp)
            else repr(value)
            if isinstance(value, str)
            else f"{value:,.6g}"
        )

    return tuple(
        f"row {i} ({', '.join(f'{c} {text(row[c])}' for c in columns)})"
        for i, row in rows.head(MAX_ROWS_SHOWN).iterrows()
    )


def _values(df: pd.DataFrame, name: str, column: str, keys: list[str], nonnegative: bool) -> list[Problem]:
    values = pd.to_numeric(df[column], errors="coerce").astype(float)
    bad = ~np.isfinite(values) | (values < 0 if nonnegative else False)
    if not bad.any():
        return []
    allowed = "finite numbers >= 0" if nonnegative else "finite numbers"
    rows = df.loc[bad]
    return [
        Problem(
            name,
            column,
            f"{int(bad.sum())} rows are missing, not finite or negative"
            if nonnegative
            else f"{int(bad.sum())} rows are missing or not finite",
            allowed,
            _examples(rows, [*keys, column]),
            int(bad.sum()),
        )
    ]


def _duplicates(df: pd.DataFrame, name: str, keys: list[str]) -> list[Problem]:
    dup = df.duplicated(keys, keep=False)
    if not dup.any():
        return []
    return [
        Problem(
            name,
            keys[-1],
            f"{int(dup.sum())} rows repeat a ({', '.join(keys)})",
            f"one row per ({', '.join(keys)})",
            _examples(df.loc[dup], keys),
            int(dup.sum()),
        )
    ]


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise ContractError(problems)


def _new_weeks(data: ModelData, weeks: pd.Series, name: str) -> pd.DatetimeIndex:
    """The weeks after the fit in ``weeks``: they must be the contiguous run that starts the week after the fit."""
    last = data.weeks[-1]
    new = pd.DatetimeIndex(sorted(set(weeks[weeks > last])))
    if not len(new):
        raise ContractError(
            [
                Problem(
                    name,
                    "week",
                    f"has no week after the last fitted week {last.date()}",
                    f"weekly rows from {(last + _WEEK).date()} on",
                )
            ]
        )
    expected = pd.date_range(last + _WEEK, periods=len(new), freq="7D")
    if not new.equals(expected):
        grid = pd.date_range(last + _WEEK, new[-1], freq="7D")
        wrong = [w for w in new if w not in grid]
        gaps = [w for w in grid if w not in new]
        parts = []
        if wrong:
            parts.append(f"weeks off the weekly grid of the fit: {[str(w.date()) for w in wrong[:MAX_ROWS_SHOWN]]}")
        if gaps:
            parts.append(f"weeks missing inside the horizon: {[str(w.date()) for w in gaps[:MAX_ROWS_SHOWN]]}")
        raise ContractError(
            [
                Problem(
                    name,
                    "week",
                    "new weeks are not contiguous; " + "; ".join(parts),
                    f"every week from {(last + _WEEK).date()} (the week after the fit) on, 7 days apart, same weekday",
                    (),
                    len(wrong) + len(gaps),
                )
            ]
        )
    return expected


def _new_spend(data: ModelData, spend: pd.DataFrame) -> tuple[pd.DatetimeIndex, np.ndarray]:
    keys = ["week", "region", "channel"]
    df = _table(spend, "spend", [*keys, "spend"])
    _raise(_values(df, "spend", "spend", keys, nonnegative=True) + _duplicates(df, "spend", keys))
    df["spend"] = df["spend"].astype(float)
    cell_index = {(r, c): i for i, (r, c) in enumerate(zip(data.cells["region"], data.cells["channel"], strict=True))}
    df["cell"] = [cell_index.get(k, -1) for k in zip(df["region"], df["channel"], strict=True)]
    unknown = (df["cell"] < 0) & (df["spend"] > 0)
    if unknown.any():
        allowed = ", ".join(data.cell_label(i) for i in range(len(data.cells)))
        _raise(
            [
                Problem(
                    "spend",
                    "channel",
                    f"{int(unknown.sum())} rows spend on (region, channel) cells the model "
                    "does not have (no spend in the fitted window, so no estimated effect)",
                    f"spend > 0 only on the model's cells: {allowed}",
                    _examples(df.loc[unknown], [*keys, "spend"]),
                    int(unknown.sum()),
                )
            ]
        )
    df = df[df["cell"] >= 0]  # rows of cells without an effect, at zero spend, change nothing
    _check_history_spend(data, df[df["week"] <= data.weeks[-1]])
    weeks = _new_weeks(data, df["week"], "spend")
    new = df[df["week"] > data.weeks[-1]]
    grid = np.full((len(weeks), len(data.cells)), np.nan)
    grid[weeks.get_indexer(new["week"]), new["cell"].to_numpy()] = new["spend"].to_numpy()
    absent = np.argwhere(np.isnan(grid))
    if len(absent):
        examples = tuple(f"week {weeks[t].date()}, cell {data.cell_label(c)}" for t, c in absent[:MAX_ROWS_SHOWN])
        _raise(
            [
                Problem(
                    "spend",
                    "spend",
                    f"{len(absent)} (week, cell) values of the new weeks are missing",
                    "one row per new week and model cell (spend 0 where a cell is dark)",
                    examples,
                    len(absent),
                )
            ]
        )
    return weeks, grid


def _check_history_spend(data: ModelData, history: pd.DataFrame) -> None:
    """Rows at or before the last fitted week are allowed only as an exact copy of the fitted spend."""
    if not len(history):
        return
    t = data.weeks.get_indexer(history["week"])
    off = t < 0
    fitted = np.where(off, np.nan, data.spend[np.maximum(t, 0), history["cell"].to_numpy()])
    observed = history["spend"].to_numpy()
    differ = off | ~np.isclose(observed, fitted, rtol=1e-9, atol=1e-6)
    if differ.any():
        rows = history.loc[differ].assign(fitted_spend=fitted[differ])
        _raise(
            [
                Problem(
                    "spend",
                    "spend",
                    f"{int(differ.sum())} rows at or before the last fitted week "
                    f"{data.weeks[-1].date()} differ from the spend the model was fitted on (or are not fitted "
                    "weeks)",
                    "only new weeks, or the fitted weeks exactly as fitted (they are then ignored)",
                    _examples(rows, ["week", "region", "channel", "spend", "fitted_spend"]),
                    int(differ.sum()),
                )
            ]
        )


def _new_controls(data: ModelData, controls, weeks: pd.DatetimeIndex) -> np.ndarray:
    """New weeks' controls (H, R, K) on the fit's scale.

    The fit divides each control by its largest absolute value over the fitted weeks and does not store that scale,
    so the table must repeat the fitted weeks (checked against the fit) for the new values to be put on that scale.
    """
    names = list(data.control_names)
    if not names:
        return np.zeros((len(weeks), len(data.regions), 0))
    needed = (
        f"week, region, {', '.join(names)} for the fitted weeks {data.weeks[0].date()}..{data.weeks[-1].date()} "
        f"and the new weeks {weeks[0].date()}..{weeks[-1].date()}"
    )
    if controls is None:
        raise ValueError(f"the model has controls {names}: predict needs a controls table with columns {needed}")
    keys = ["week", "region"]
    df = _table(controls, "controls", [*keys, *names])
    problems = _duplicates(df, "controls", keys)
    for n in names:
        problems += _values(df, "controls", n, keys, nonnegative=False)
    unknown = ~df["region"].isin(data.regions)
    if unknown.any():
        problems.append(
            Problem(
                "controls",
                "region",
                f"{int(unknown.sum())} rows name regions the model does not have",
                f"one of {list(data.regions)}",
                _examples(df.loc[unknown], keys),
                int(unknown.sum()),
            )
        )
    _raise(problems)
    all_weeks = data.weeks.append(weeks)
    cube = np.full((len(all_weeks), len(data.regions), len(names)), np.nan)
    df = df[df["week"].isin(all_weeks)]
    t, r = all_weeks.get_indexer(df["week"]), pd.Index(data.regions).get_indexer(df["region"])
    cube[t, r] = df[names].to_numpy(dtype=float)
    absent = np.argwhere(np.isnan(cube[..., 0]))
    if len(absent):
        examples = tuple(f"week {all_weeks[i].date()}, region {data.regions[j]!r}" for i, j in absent[:MAX_ROWS_SHOWN])
        _raise(
            [
                Problem(
                    "controls",
                    "week",
                    f"{len(absent)} (week, region) rows are missing",
                    f"rows for {needed}",
                    examples,
                    len(absent),
                )
            ]
        )
    history = cube[: data.n_weeks]
    scale = np.max(np.abs(history), axis=(0, 1))
    scale = np.where(scale > 0, scale, 1.0)
    differ = ~np.isclose(history / scale, data.controls, rtol=1e-9, atol=1e-9).all(axis=(1, 2))
    if differ.any():
        examples = tuple(f"week {data.weeks[i].date()}" for i in np.flatnonzero(differ)[:MAX_ROWS_SHOWN])
        _raise(
            [
                Problem(
                    "controls",
                    ", ".join(names),
                    f"{int(differ.sum())} fitted weeks differ from the controls the model was fitted on",
                    "the fitted weeks exactly as fitted (they set the controls' scale)",
                    examples,
                    int(differ.sum()),
                )
            ]
        )
    return cube[data.n_weeks :] / scale


def _realized_grid(kpi: pd.DataFrame, weeks: pd.DatetimeIndex, regions: tuple[str, ...]) -> np.ndarray:
    """Realized revenue (H, R) of the forecast weeks from a ``week, region, revenue`` table."""
    keys = ["week", "region"]
    df = _table(kpi, "kpi", [*keys, "revenue"])
    df = df[df["week"].isin(weeks)]
    problems = _values(df, "kpi", "revenue", keys, nonnegative=False) + _duplicates(df, "kpi", keys)
    unknown = ~df["region"].isin(regions)
    if unknown.any():
        problems.append(
            Problem(
                "kpi",
                "region",
                f"{int(unknown.sum())} rows name regions the forecast does not have",
                f"one of {list(regions)}",
                _examples(df.loc[unknown], keys),
                int(unknown.sum()),
            )
        )
    _raise(problems)
    grid = np.full((len(weeks), len(regions)), np.nan)
    grid[weeks.get_indexer(df["week"]), pd.Index(regions).get_indexer(df["region"])] = df["revenue"].astype(float)
    absent = np.argwhere(np.isnan(grid))
    if len(absent):
        examples = tuple(f"week {weeks[i].date()}, region {regions[j]!r}" for i, j in absent[:MAX_ROWS_SHOWN])
        _raise(
            [
                Problem(
                    "kpi",
                    "revenue",
                    f"{len(absent)} (week, region) values of the forecast weeks are missing",
                    f"one row per week {weeks[0].date()}..{weeks[-1].date()} and region",
                    examples,
                    len(absent),
                )
            ]
        )
    return grid
