"""The plan's tables from the curves and the recommended spend: per cell, totals by group, uplift, interval label."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.curves import ResponseCurves
from contracts.defaults import INTERVAL_PROB
from contracts.stats import interval_label
from optimizer.flags import flag_cells
from optimizer.policy import Policy

TABLE_COLUMNS = [
    "region",
    "channel",
    "objective",
    "spend_period_current",
    "spend_period",
    "spend_period_change",
    "revenue_period",
    "revenue_period_low",
    "revenue_period_high",
    "roi",
    "mroi",
    "mroi_below_hurdle",
    "flag",
    "flag_reason",
]
TOTALS_COLUMNS = ["spend_period", "share", "target_share", "spend_period_current", "revenue_period"]
UPLIFT_INDEX = ["revenue_period_change", "revenue_period_change_low", "revenue_period_change_high"]
#: The plan's intervals over posterior draws are equal-tailed (the 5% and 95% quantiles at the default 0.9 mass).
INTERVAL_KIND = "equal-tailed"


def _tails(prob: float) -> tuple[float, float]:
    # rounded so that 0.9 gives exactly the 0.05 and 0.95 quantiles (1 - 0.9 is not 0.1 in binary)
    low = round((1 - prob) / 2, 12)
    return low, round(1 - low, 12)


def _totals(table: pd.DataFrame, column: str, targets: dict[str, float]) -> pd.DataFrame:
    out = table.groupby(column, sort=False)[["spend_period_current", "spend_period", "revenue_period"]].sum()
    total = out["spend_period"].sum()
    out["share"] = out["spend_period"] / total if total > 0 else 0.0
    out["target_share"] = [targets.get(k, np.nan) for k in out.index]
    out = out[TOTALS_COLUMNS]
    out.attrs = {}  # no interval in totals
    return out


def build_table(
    curves: ResponseCurves, current: np.ndarray, spend: np.ndarray, hurdle: float, activation: np.ndarray
) -> pd.DataFrame:
    """The per-cell table (revenue from the actual curves, not their envelopes)."""
    rev = curves.revenue(spend)
    flag, reason, mroi_below = flag_cells(curves, spend, hurdle, activation)
    low, high = _tails(INTERVAL_PROB)
    table = curves.cells.copy()
    table["spend_period_current"] = current
    table["spend_period"] = spend
    table["spend_period_change"] = spend - current
    table["revenue_period"] = rev.mean(axis=0)
    table["revenue_period_low"] = np.quantile(rev, low, axis=0)
    table["revenue_period_high"] = np.quantile(rev, high, axis=0)
    with np.errstate(invalid="ignore"):
        table["roi"] = curves.roi(spend).mean(axis=0)
        table["mroi"] = curves.mroi(spend).mean(axis=0)
    table["mroi_below_hurdle"] = mroi_below
    table["flag"] = flag
    table["flag_reason"] = reason
    return table[TABLE_COLUMNS]


def summarize(
    curves: ResponseCurves,
    current: np.ndarray,
    spend: np.ndarray,
    policy: Policy,
    activation: np.ndarray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series, str]:
    """Table, totals by objective and region, uplift versus current spend, and the label of their intervals."""
    interval = interval_label(INTERVAL_PROB, INTERVAL_KIND)
    table = build_table(curves, current, spend, policy.roi_hurdle, activation)
    by_objective = _totals(table, "objective", policy.objective_shares)
    by_region = _totals(table, "region", policy.region_shares)
    diff = curves.revenue(spend).sum(axis=1) - curves.revenue(current).sum(axis=1)
    low, high = _tails(INTERVAL_PROB)
    uplift = pd.Series(
        [diff.mean(), np.quantile(diff, low), np.quantile(diff, high)], index=UPLIFT_INDEX, name="uplift"
    )
    table.attrs["interval"] = interval
    uplift.attrs["interval"] = interval
    return table, by_objective, by_region, uplift, interval
