"""Per-cell spend bounds and group membership, derived once from the policy and current spend."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.errors import InfeasiblePolicyError
from optimizer.policy import Policy


def _cells_list(keys: list[tuple[str, str]], n: int = 5) -> str:
    more = f" and {len(keys) - n} more" if len(keys) > n else ""
    return ", ".join(f"{r}/{c}" for r, c in keys[:n]) + more


def _from_period_frame(cells: pd.DataFrame, frame: pd.DataFrame, period_weeks: int | None) -> np.ndarray:
    """``spend_period`` per cell from a ``contracts.period_spend`` frame: exactly one row per cell of the curves."""
    missing = [c for c in ("region", "channel") if c not in frame.columns]
    if missing:
        raise ValueError(f"current_spend has spend_period but no {missing} column; expected region, channel")
    keys = list(zip(frame["region"].astype(str), frame["channel"].astype(str), strict=True))
    dups = sorted({k for k, n in pd.Series(keys).value_counts().items() if n > 1})
    if dups:
        raise ValueError(f"current_spend has more than one row for {len(dups)} cells: {_cells_list(dups)}")
    wanted = list(zip(cells["region"], cells["channel"], strict=True))
    have, want = set(keys), set(wanted)
    absent = [k for k in wanted if k not in have]
    extra = [k for k in keys if k not in want]
    if absent or extra:
        parts = []
        if absent:
            parts.append(f"no row for {len(absent)} cells of the response curves: {_cells_list(absent)}")
        if extra:
            parts.append(f"{len(extra)} rows for cells the response curves do not have: {_cells_list(extra)}")
        raise ValueError("current_spend must have one row per cell of the response curves; it has " + "; ".join(parts))
    if period_weeks is not None and {"first_week", "last_week"} <= set(frame.columns):
        first, last = pd.to_datetime(frame["first_week"]), pd.to_datetime(frame["last_week"])
        weeks = sorted(set(((last - first).dt.days // 7 + 1).astype(int)))
        if weeks != [period_weeks]:
            raise ValueError(
                f"current_spend covers {weeks} weeks (first_week {first.min().date()}, last_week "
                f"{last.max().date()}) but the response curves are for period_weeks = {period_weeks}; use "
                f"contracts.period_spend(spend, {period_weeks})"
            )
    lookup = dict(zip(keys, frame["spend_period"].to_numpy(dtype=float), strict=True))
    return np.array([lookup[k] for k in wanted], dtype=float)


def align_current_spend(cells: pd.DataFrame, current_spend: object, period_weeks: int | None = None) -> np.ndarray:
    """Current spend per cell over one planning period, in cell order.

    Parameters
    ----------
    cells : pandas.DataFrame
        The curves' cells (``region``, ``channel``, ``objective``).
    current_spend : pandas.DataFrame, pandas.Series or array-like
        One of:

        - the frame of ``contracts.period_spend`` (``region``, ``channel``, ``spend_period``; other columns are
          ignored): exactly one row per cell of the curves, a missing, extra or repeated cell is an error;
        - a frame with ``region``, ``channel``, ``spend`` (period spend; rows of other cells are ignored);
        - a Series indexed by (region, channel) (rows of other cells are ignored);
        - an array in cell order.
    period_weeks : int, optional
        The curves' planning period; a ``period_spend`` frame whose ``first_week``..``last_week`` spans another
        number of weeks is an error.

    Raises
    ------
    ValueError
        A cell has no value, the frame does not match the curves' cells (the message names them), or a value is
        negative or not finite.
    """
    if isinstance(current_spend, pd.DataFrame) and "spend_period" in current_spend.columns:
        values = _from_period_frame(cells, current_spend, period_weeks)
    else:
        if isinstance(current_spend, pd.DataFrame):
            missing = [c for c in ("region", "channel", "spend") if c not in current_spend.columns]
            if missing:
                raise ValueError(
                    "current_spend must have columns region, channel and spend_period (contracts.period_spend) "
                    f"or spend; missing {missing}"
                )
            current_spend = current_spend.set_index(["region", "channel"])["spend"]
        if isinstance(current_spend, pd.Series):
            keys = pd.MultiIndex.from_frame(cells[["region", "channel"]])
            absent = [k for k in keys if k not in current_spend.index]
            if absent:
                raise ValueError(f"current_spend has no value for {len(absent)} cells, e.g. {absent[:3]}")
            values = current_spend.reindex(keys).to_numpy(dtype=float)
        else:
            values = np.asarray(current_spend, dtype=float).reshape(-1)
            if values.shape != (len(cells),):
                raise ValueError(f"current_spend must have one value per cell ({len(cells)}); got {values.shape}")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        bad = cells.loc[~(np.isfinite(values) & (values >= 0)), ["region", "channel"]].to_records(index=False)
        raise ValueError(f"current_spend must be finite and >= 0; bad for {bad.tolist()[:5]}")
    return values


@dataclass(frozen=True, eq=False)
class CellBounds:
    """Lower and upper spend per cell, with the rule that set each (for messages)."""

    lower: np.ndarray
    upper: np.ndarray
    lower_reason: tuple[str, ...]
    upper_reason: tuple[str, ...]


def _check_known(cells: pd.DataFrame, policy: Policy) -> None:
    known = set(zip(cells["region"], cells["channel"], strict=True))
    for name in ("locked", "unavailable", "cell_rules"):
        unknown = [(r.region, r.channel) for r in getattr(policy, name) if (r.region, r.channel) not in known]
        if unknown:
            raise ValueError(f"policy.{name} names cells that the response curves do not have: {unknown}")
    for col, shares, name in (
        ("objective", policy.objective_shares, "objective_shares"),
        ("region", policy.region_shares, "region_shares"),
    ):
        missing = sorted(set(cells[col]) - set(shares))
        if missing:
            raise ValueError(f"policy.{name} has no share for {col} {missing}; allowed keys: {sorted(shares)}")


def cell_bounds(cells: pd.DataFrame, policy: Policy, current: np.ndarray, budget: float) -> CellBounds:
    """Bounds per cell from max change, cell rules, locks and availability (upper capped at the budget)."""
    _check_known(cells, policy)
    n = len(cells)
    lower = np.zeros(n)
    upper = np.full(n, float(budget))
    lo_why = ["no lower bound"] * n
    hi_why = ["the budget"] * n
    index = {k: i for i, k in enumerate(zip(cells["region"], cells["channel"], strict=True))}
    rules = {(r.region, r.channel): r for r in policy.cell_rules}
    for i, key in enumerate(index):
        cur = current[i]
        rule = rules.get(key)
        change = rule.max_change if rule is not None and rule.max_change is not None else policy.max_change
        if change is not None and cur > 0:
            lower[i], lo_why[i] = max(0.0, (1 - change) * cur), f"max change −{change:.0%} of current {cur:,.0f}"
            if (1 + change) * cur < upper[i]:
                upper[i], hi_why[i] = (1 + change) * cur, f"max change +{change:.0%} of current {cur:,.0f}"
        if rule is not None and rule.min_spend is not None and rule.min_spend > lower[i]:
            lower[i], lo_why[i] = rule.min_spend, f"min_spend {rule.min_spend:,.0f}"
        if rule is not None and rule.max_spend is not None and rule.max_spend < upper[i]:
            upper[i], hi_why[i] = rule.max_spend, f"max_spend {rule.max_spend:,.0f}"
    for ref in policy.locked:
        i = index[(ref.region, ref.channel)]
        lower[i] = upper[i] = current[i]
        lo_why[i] = hi_why[i] = f"locked at current {current[i]:,.0f}"
    for ref in policy.unavailable:
        i = index[(ref.region, ref.channel)]
        lower[i] = upper[i] = 0.0
        lo_why[i] = hi_why[i] = "unavailable in this region"
    clash = np.flatnonzero(lower > upper * (1 + 1e-12))
    if clash.size:
        items = [
            f"{cells.region[i]}/{cells.channel[i]}: lower {lower[i]:,.0f} ({lo_why[i]}) > "
            f"upper {upper[i]:,.0f} ({hi_why[i]})"
            for i in clash
        ]
        raise InfeasiblePolicyError("cell bounds conflict: " + "; ".join(items))
    return CellBounds(lower, upper, tuple(lo_why), tuple(hi_why))


def group_matrix(cells: pd.DataFrame, column: str, names: list[str]) -> np.ndarray:
    """0/1 matrix (groups, cells) of membership of each cell in each named group."""
    return (cells[column].to_numpy()[None, :] == np.asarray(names, dtype=object)[:, None]).astype(float)
