"""Model health: convergence, fit and plausibility checks with a verdict that callers can act on."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
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
    "ppc_coverage_90": ("between", 0.75),  # 0.75 .. 0.99
    "mape_in_sample": ("<=", 0.10),
    "r2_in_sample": (">=", 0.50),
    "mape_holdout": ("<=", 0.15),
    "r2_holdout": ("report", float("nan")),
    "negative_baseline_share": ("<=", 0.0),
}


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
    """

    table: pd.DataFrame
    passed: bool

    @property
    def failures(self) -> pd.DataFrame:
        """The rows that failed."""
        return self.table[self.table["passed"].eq(False)]

    def value(self, metric: str) -> float:
        """The value of one metric."""
        return float(self.table.set_index("metric").at[metric, "value"])

    def message(self) -> str:
        """One line per failed check, with its value and threshold."""
        rows = self.failures
        lines = [f"{r.metric} = {r.value:.4g} (allowed {r.threshold})" for r in rows.itertuples()]
        return "; ".join(lines) if lines else "all checks passed"


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
    values = _convergence(fitted) | _fit_quality(fitted, seed)
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
    result = Diagnostics(table=table, passed=not table["passed"].eq(False).any())
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


def _convergence(fitted: FittedMMM) -> dict[str, float]:
    post = fitted.idata.posterior
    names = [*_free_vars(fitted), "roi"]
    names = list(dict.fromkeys(n for n in names if n in post))
    n_chains = post.sizes["chain"]
    if n_chains > 1 and post.sizes["draw"] >= 4:
        rhat = float(az.rhat(post, var_names=names).to_array().max())
    else:
        rhat = float("nan")
    ess_bulk = float(az.ess(post, var_names=names, method="bulk").to_array().min())
    ess_tail = float(az.ess(post, var_names=names, method="tail").to_array().min())
    stats = getattr(fitted.idata, "sample_stats", None)
    if stats is not None and "diverging" in stats:
        divergences = float(stats["diverging"].values.sum())
    else:
        divergences = float("nan")
    return {
        "max_rhat": rhat,
        "min_ess_bulk": ess_bulk,
        "min_ess_tail": ess_tail,
        "divergence_share": divergences / fitted.n_draws,
    }


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
