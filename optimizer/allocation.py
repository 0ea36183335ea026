"""The result of an allocation: per-cell table, totals, uplift, shadow prices and the solver's certificate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts.curves import ResponseCurves
from optimizer.flags import flag_cells
from optimizer.policy import Policy

TABLE_COLUMNS = [
    "region",
    "channel",
    "objective",
    "current_spend",
    "spend",
    "change",
    "revenue_mean",
    "revenue_low",
    "revenue_high",
    "roi",
    "marginal_roi",
    "flag",
    "flag_reason",
]


@dataclass(frozen=True, eq=False)
class Allocation:
    """A recommended allocation.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per cell: ``region``, ``channel``, ``objective``, ``current_spend``, ``spend``, ``change``,
        ``revenue_mean``, ``revenue_low``, ``revenue_high`` (90% interval over draws), ``roi`` and
        ``marginal_roi`` (posterior means at the recommended spend), ``flag``, ``flag_reason``.
    by_objective, by_region : pandas.DataFrame
        Totals: ``spend``, ``share``, ``target_share``, ``current_spend``, ``revenue_mean``.
    uplift : pandas.Series
        Expected revenue of the plan minus that of current spend: ``mean``, ``low``, ``high`` (90%).
    shadow_prices : pandas.DataFrame
        ``rule``, ``binding``, ``shadow_price`` (expected revenue per unit of spend), ``description``.
    status, solver : str
        Solver status (``optimal`` or ``optimal_inaccurate``) and solver name.
    optimality_gap : float
        Relative gap between the solver's bound for the convex program and its objective at the plan.
    objective_value : float
        Objective at the plan (expected revenue, minus hurdle cost and risk term where set).
    budget, spent, unspent : float
        The period budget, the amount allocated and the amount returned (``hurdle`` mode).
    policy : Policy
        The policy that produced this allocation.
    """

    table: pd.DataFrame
    by_objective: pd.DataFrame
    by_region: pd.DataFrame
    uplift: pd.Series
    shadow_prices: pd.DataFrame
    status: str
    solver: str
    optimality_gap: float
    objective_value: float
    budget: float
    spent: float
    unspent: float
    policy: Policy


def _totals(table: pd.DataFrame, column: str, targets: dict[str, float]) -> pd.DataFrame:
    out = table.groupby(column, sort=False)[["current_spend", "spend", "revenue_mean"]].sum()
    total = out["spend"].sum()
    out["share"] = out["spend"] / total if total > 0 else 0.0
    out["target_share"] = [targets.get(k, np.nan) for k in out.index]
    return out[["spend", "share", "target_share", "current_spend", "revenue_mean"]]


def build_table(
    curves: ResponseCurves, current: np.ndarray, spend: np.ndarray, hurdle: float, activation: np.ndarray
) -> pd.DataFrame:
    """The per-cell table (revenue from the actual curves, not their envelopes)."""
    rev = curves.revenue(spend)
    flag, reason = flag_cells(curves, spend, hurdle, activation)
    table = curves.cells.copy()
    table["current_spend"] = current
    table["spend"] = spend
    table["change"] = spend - current
    table["revenue_mean"] = rev.mean(axis=0)
    table["revenue_low"] = np.quantile(rev, 0.05, axis=0)
    table["revenue_high"] = np.quantile(rev, 0.95, axis=0)
    with np.errstate(invalid="ignore"):
        table["roi"] = curves.roi(spend).mean(axis=0)
        table["marginal_roi"] = curves.mroi(spend).mean(axis=0)
    table["flag"] = flag
    table["flag_reason"] = reason
    return table[TABLE_COLUMNS]


def summarize(
    curves: ResponseCurves,
    current: np.ndarray,
    spend: np.ndarray,
    policy: Policy,
    activation: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
    """Table, totals by objective and region, and uplift versus current spend."""
    table = build_table(curves, current, spend, policy.roi_hurdle, activation)
    diff = curves.revenue(spend).sum(axis=1) - curves.revenue(current).sum(axis=1)
    uplift = pd.Series(
        {"mean": diff.mean(), "low": np.quantile(diff, 0.05), "high": np.quantile(diff, 0.95)}, name="uplift"
    )
    return (
        table,
        _totals(table, "objective", policy.objective_shares),
        _totals(table, "region", policy.region_shares),
        uplift,
    )
