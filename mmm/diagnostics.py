"""Model health: convergence, fit and plausibility checks with a verdict that callers can act on."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import arviz as az
import numpy as np
import pandas as pd

from mmm.stats import mape, r_squared

if TYPE_CHECKING:
    from mmm.results import FittedMMM

#: Thresholds of the verdict: metric → (comparison, limit).
THRESHOLDS: dict[str, tuple[str, float]] = {
    "max_rhat": ("<=", 1.01),
    "min_ess_bulk": (">=", 400.0),
    "min_ess_tail": (">=", 400.0),
    "divergence_share": ("<=", 0.001),
    "max_tree_depth_share": ("<=", 0.05),
    "ppc_coverage_90": ("between", 0.75),  # 0.75 .. 0.99
    "mape_in_sample": ("<=", 0.10),
    "r2_in_sample": (">=", 0.50),
    "mape_holdout": ("<=", 0.15),
    "r2_holdout": ("report", float("nan")),
    "negative_baseline_share": ("<=", 0.0),
}


#: Names of the per-draw "trajectory hit the maximum tree depth" flag in the samplers' sample stats (nutpie, PyMC).
MAX_DEPTH_STATS = ("maxdepth_reached", "reached_max_treedepth")

#: Columns of :attr:`Diagnostics.parameters`.
PARAMETER_COLUMNS = ["parameter", "rhat", "ess_bulk", "ess_tail", "chain_means"]
#: How many of the worst-mixing parameters a failed convergence check names.
N_WORST = 3
#: A failed verdict names channel pairs whose total contributions correlate at or below this across draws.
TRADEOFF_CORRELATION = -0.7


class MMMDiagnosticWarning(UserWarning):
    """A fitted media-mix model failed one or more health checks; its numbers should not be trusted as they are."""


@dataclass(frozen=True)
class Diagnostics:
    """Result of :func:`diagnose`.

    Attributes
    ----------
    table : pandas.DataFrame
        ``metric``, ``value``, ``threshold`` (text), ``passed`` (``None`` where not measured, e.g. no hold-out).
    passed : bool
        True when every measured check passed.
    parameters : pandas.DataFrame
        Convergence of every checked scalar (free parameters and cell ROIs), worst first: ``parameter`` (e.g.
        ``roi[Europe/meta_ads]``), ``rhat``, ``ess_bulk``, ``ess_tail`` and ``chain_means`` (one per chain: chains
        that disagree show where a sampler got stuck).
    tradeoffs : pandas.DataFrame
        Channel pairs whose total contributions correlate at or below :data:`TRADEOFF_CORRELATION` across draws
        (:meth:`FittedMMM.channel_tradeoffs`): the data identify their sum better than their split.
    """

    table: pd.DataFrame
    passed: bool
    parameters: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PARAMETER_COLUMNS))
    tradeoffs: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["channel_a", "channel_b", "correlation"])
    )

    @property
    def failures(self) -> pd.DataFrame:
        """The rows that failed."""
        return self.table[self.table["passed"].eq(False)]

    def value(self, metric: str) -> float:
        """The value of one metric."""
        return float(self.table.set_index("metric").at[metric, "value"])

    def message(self) -> str:
        """The failed checks with their values and thresholds; when any check failed, also the parameters that
        mixed worst (with their chains' means) and the channel pairs the data do not tell apart (:attr:`tradeoffs`),
        as likely causes."""
        rows = self.failures
        lines = [f"{r.metric} = {r.value:.4g} (allowed {r.threshold})" for r in rows.itertuples()]
        if not lines:
            return "all checks passed"
        if "max_tree_depth_share" in set(rows["metric"]):
            lines.append(
                "the sampler's trajectories stopped at their maximum length on many draws (tiny steps for the "
                "posterior's scale: sampling is slow and each draw moves little); tune longer or look for a ridge "
                "between parameters"
            )
        worst = self.worst_mixing()
        if len(worst):
            named = [
                f"{r.parameter} (R-hat {r.rhat:.3f}, bulk ESS {r.ess_bulk:.0f}, chain means "
                f"{', '.join(f'{m:.3g}' for m in r.chain_means)})"
                for r in worst.itertuples()
            ]
            lines.append("worst mixing: " + "; ".join(named))
        if len(self.tradeoffs):
            pairs = [
                f"{r.channel_a} and {r.channel_b} (their estimates trade off, correlation {r.correlation:.2f})"
                for r in self.tradeoffs.itertuples()
            ]
            lines.append(
                "the model cannot split credit between "
                + ", nor between ".join(pairs)
                + ": each pair's combined effect is better measured than its split; a lift test on either channel of "
                "a pair would separate them"
            )
        return "; ".join(lines)

    def worst_mixing(self, n: int = N_WORST) -> pd.DataFrame:
        """The ``n`` parameters that fail the R-hat or ESS thresholds, worst R-hat (then lowest ESS) first; empty
        when every parameter passes."""
        p = self.parameters
        if p.empty:
            return p
        bad = (
            (p["rhat"] > THRESHOLDS["max_rhat"][1])
            | (p["ess_bulk"] < THRESHOLDS["min_ess_bulk"][1])
            | (p["ess_tail"] < THRESHOLDS["min_ess_tail"][1])
        )
        return p[bad].head(n)


def diagnose(fitted: FittedMMM, warn: bool = True, seed: int = 0) -> Diagnostics:
    """Check a fit: R-hat, bulk/tail ESS, divergences, 90% posterior-predictive coverage, MAPE and R² in sample
    and on the hold-out weeks, and the share of (week, region) whose posterior-mean baseline is negative.

    Parameters
    ----------
    fitted : FittedMMM
        The fit.
    warn : bool
        Emit :class:`MMMDiagnosticWarning` listing the failed checks with their numbers.
    seed : int
        Seed of the posterior-predictive noise draws.

    Returns
    -------
    Diagnostics
    """
    parameters = parameter_convergence(fitted)
    values = _convergence(fitted, parameters) | _fit_quality(fitted, seed)
    rows = []
    for metric, value in values.items():
        op, limit = THRESHOLDS[metric]
        if not np.isfinite(value):
            passed, text = None, "not measured"
        elif op == "report":
            passed, text = None, "reported only"
        elif op == "<=":
            passed, text = bool(value <= limit), f"<= {limit:g}"
        elif op == ">=":
            passed, text = bool(value >= limit), f">= {limit:g}"
        else:
            passed, text = bool(limit <= value <= 0.99), f"{limit:g} .. 0.99"
        rows.append({"metric": metric, "value": float(value), "threshold": text, "passed": passed})
    table = pd.DataFrame(rows)
    result = Diagnostics(
        table=table,
        passed=not table["passed"].eq(False).any(),
        parameters=parameters,
        tradeoffs=fitted.channel_tradeoffs(TRADEOFF_CORRELATION),
    )
    if warn and not result.passed:
        preview = " (preview fit: few draws, expect this)" if fitted.info.get("preview") else ""
        warnings.warn(
            f"media-mix model failed health checks{preview}: {result.message()}", MMMDiagnosticWarning, stacklevel=3
        )
    return result


def _free_vars(fitted: FittedMMM) -> list[str]:
    names = fitted.info.get("free_vars")
    post = fitted.idata.posterior
    if names:
        return [n for n in names if n in post]
    return [str(v) for v in post.data_vars if str(v) != "baseline" and not str(v).startswith("cell_")]


def parameter_convergence(fitted: FittedMMM) -> pd.DataFrame:
    """R-hat, bulk and tail ESS and per-chain means of every scalar the verdict checks (free parameters and cell
    ROIs), worst R-hat first (then lowest bulk ESS), scalars without an R-hat last. R-hat is NaN with one chain,
    fewer than 4 draws or constant draws."""
    post = fitted.idata.posterior
    names = [*_free_vars(fitted), "roi"]
    names = list(dict.fromkeys(n for n in names if n in post))
    if not names:
        return pd.DataFrame(columns=PARAMETER_COLUMNS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant draws: 0/0 inside arviz, reported as NaN
        if post.sizes["chain"] > 1 and post.sizes["draw"] >= 4:
            rhat = az.rhat(post, var_names=names)
        else:
            rhat = None
        ess_bulk = az.ess(post, var_names=names, method="bulk")
        ess_tail = az.ess(post, var_names=names, method="tail")
    frames = []
    for name in names:
        means = post[name].mean("draw")
        labels, chain_means = _flatten(name, means.transpose(..., "chain"))
        frames.append(
            pd.DataFrame(
                {
                    "parameter": labels,
                    "rhat": _flatten(name, rhat[name])[1].ravel() if rhat is not None else np.nan,
                    "ess_bulk": _flatten(name, ess_bulk[name])[1].ravel(),
                    "ess_tail": _flatten(name, ess_tail[name])[1].ravel(),
                    "chain_means": list(chain_means),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    # Worst R-hat first, then lowest bulk ESS; a constant scalar (R-hat NaN: no variance to compare) goes last.
    order = np.lexsort((out["ess_bulk"].to_numpy(), -out["rhat"].fillna(-np.inf).to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def _flatten(name: str, values) -> tuple[list[str], np.ndarray]:
    """Labels ``name[coord, ...]`` over a DataArray's non-chain dims (C order) and its values, (labels, chains or 1)."""
    dims = [d for d in values.dims if d != "chain"]
    if not dims:
        return [name], np.asarray(values.values, dtype=float).reshape(1, -1)
    coords = [[str(c) for c in values[d].values] for d in dims]
    labels = [f"{name}[{', '.join(combo)}]" for combo in itertools.product(*coords)]
    return labels, np.asarray(values.values, dtype=float).reshape(len(labels), -1)


def _convergence(fitted: FittedMMM, parameters: pd.DataFrame) -> dict[str, float]:
    stats = getattr(fitted.idata, "sample_stats", None)
    if stats is not None and "diverging" in stats:
        divergences = float(stats["diverging"].values.sum())
    else:
        divergences = float("nan")
    return {
        "max_tree_depth_share": max_tree_depth_share(stats),
        "max_rhat": float(parameters["rhat"].max()) if len(parameters) else float("nan"),
        "min_ess_bulk": float(parameters["ess_bulk"].min()) if len(parameters) else float("nan"),
        "min_ess_tail": float(parameters["ess_tail"].min()) if len(parameters) else float("nan"),
        "divergence_share": divergences / fitted.n_draws,
    }


def max_tree_depth_share(stats) -> float:
    """Share of posterior draws whose trajectory stopped at the sampler's maximum tree depth (NaN when the sampler
    does not record it). A high share means the step size is tiny for the posterior's scale: sampling is slow and
    each draw explores little, typically after too little tuning or in a ridge or funnel of the parameterisation."""
    for name in MAX_DEPTH_STATS:
        if stats is not None and name in stats:
            return float(np.asarray(stats[name].values, dtype=bool).mean())
    return float("nan")


def _fit_quality(fitted: FittedMMM, seed: int) -> dict[str, float]:
    data = fitted.data
    n_train = data.n_weeks - fitted.spec.holdout_weeks
    predicted = fitted.predicted_draws()
    sigma = fitted.draws("sigma") * data.revenue_scale
    rng = np.random.default_rng(seed)
    replicated = predicted + rng.normal(size=predicted.shape) * sigma[:, None, :]
    low, high = np.quantile(replicated[:, :n_train], [0.05, 0.95], axis=0)
    actual = data.revenue
    inside = (actual[:n_train] >= low) & (actual[:n_train] <= high)
    mean = predicted.mean(axis=0)
    baseline = (fitted.draws("baseline") * data.revenue_scale).mean(axis=0)
    return {
        "ppc_coverage_90": float(inside.mean()),
        "mape_in_sample": mape(actual[:n_train], mean[:n_train]),
        "r2_in_sample": r_squared(actual[:n_train], mean[:n_train]),
        "mape_holdout": mape(actual[n_train:], mean[n_train:]),
        "r2_holdout": r_squared(actual[n_train:], mean[n_train:]),
        "negative_baseline_share": float((baseline < 0).mean()),
    }
