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


def _numbers(keys: list[tuple[str, str]], values: object, column: str) -> np.ndarray:
    """Spend values as floats; text, booleans and other non-numbers are refused with the cell named, never parsed."""
    raw = np.asarray(values, dtype=object).reshape(-1)
    bad = [
        i
        for i, v in enumerate(raw)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating))
    ]
    if bad:
        shown = "; ".join(f"{keys[i][0]}/{keys[i][1]} = {raw[i]!r}" for i in bad[:5])
        more = f"; ... and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise ValueError(
            f"current_spend.{column} must be numbers (period spend in currency); {len(bad)} values are not: "
            f"{shown}{more}. Convert text such as '252,000' to numbers before planning"
        )
    return raw.astype(float)


def _match_cells(cells: pd.DataFrame, keys: list[tuple[str, str]], values: np.ndarray) -> np.ndarray:
    """Values in the curves' cell order: exactly one per cell of the curves; missing, extra or repeated is an error."""
    dups = sorted({k for k, n in pd.Series(keys, dtype=object).value_counts().items() if n > 1})
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
    lookup = dict(zip(keys, values, strict=True))
    return np.array([lookup[k] for k in wanted], dtype=float)


def _check_period(frame: pd.DataFrame, period_weeks: int | None) -> None:
    if period_weeks is not None and {"first_week", "last_week"} <= set(frame.columns):
        first, last = pd.to_datetime(frame["first_week"]), pd.to_datetime(frame["last_week"])
        weeks = sorted(set(((last - first).dt.days // 7 + 1).astype(int)))
        if weeks != [period_weeks]:
            raise ValueError(
                f"current_spend covers {weeks} weeks (first_week {first.min().date()}, last_week "
                f"{last.max().date()}) but the response curves are for period_weeks = {period_weeks}; use "
                f"contracts.period_spend(spend, {period_weeks})"
            )


def _from_frame(cells: pd.DataFrame, frame: pd.DataFrame, column: str, period_weeks: int | None) -> np.ndarray:
    """``column`` per cell from a frame with ``region``, ``channel``: exactly one row per cell of the curves."""
    missing = [c for c in ("region", "channel") if c not in frame.columns]
    if missing:
        raise ValueError(f"current_spend has {column} but no {missing} column; expected region, channel")
    keys = list(zip(frame["region"].astype(str), frame["channel"].astype(str), strict=True))
    values = _numbers(keys, frame[column].to_numpy(dtype=object), column)
    out = _match_cells(cells, keys, values)
    _check_period(frame, period_weeks)
    return out


def _series_keys(series: pd.Series) -> list[tuple[str, str]]:
    if series.index.nlevels != 2:
        raise ValueError(
            f"a current_spend Series must be indexed by (region, channel); its index has {series.index.nlevels} "
            "level(s)"
        )
    return [(str(r), str(c)) for r, c in series.index]


def align_current_spend(cells: pd.DataFrame, current_spend: object, period_weeks: int | None = None) -> np.ndarray:
    """Current spend per cell over one planning period, in cell order.

    Parameters
    ----------
    cells : pandas.DataFrame
        The curves' cells (``region``, ``channel``, ``objective``).
    current_spend : pandas.DataFrame, pandas.Series or array-like
        One of (every form holds exactly one number per cell of the curves; a missing, extra or repeated cell,
        text such as ``'252,000'`` or a boolean is an error naming the cell):

        - the frame of ``contracts.period_spend`` (``region``, ``channel``, ``spend_period``; other columns are
          ignored);
        - a frame with ``region``, ``channel``, ``spend`` (period spend);
        - a Series indexed by (region, channel);
        - an array in cell order.
    period_weeks : int, optional
        The curves' planning period; a ``period_spend`` frame whose ``first_week``..``last_week`` spans another
        number of weeks is an error.

    Raises
    ------
    ValueError
        A cell has no value or more than one, the frame names cells the curves do not have (the message names
        them), or a value is not a number, negative or not finite.
    """
    wanted = list(zip(cells["region"], cells["channel"], strict=True))
    if isinstance(current_spend, pd.DataFrame):
        column = "spend_period" if "spend_period" in current_spend.columns else "spend"
        if column not in current_spend.columns or not {"region", "channel"} <= set(current_spend.columns):
            missing = [c for c in ("region", "channel", "spend") if c not in current_spend.columns]
            raise ValueError(
                "current_spend must have columns region, channel and spend_period (contracts.period_spend) "
                f"or spend; missing {missing}"
            )
        values = _from_frame(cells, current_spend, column, period_weeks)
    elif isinstance(current_spend, pd.Series):
        keys = _series_keys(current_spend)
        values = _match_cells(cells, keys, _numbers(keys, current_spend.to_numpy(dtype=object), "values"))
    else:
        if isinstance(current_spend, (str, bytes)):
            raise ValueError(f"current_spend must be numbers, one per cell ({len(cells)}); got text {current_spend!r}")
        raw = np.asarray(current_spend, dtype=object).reshape(-1)
        if raw.shape != (len(cells),):
            raise ValueError(f"current_spend must have one value per cell ({len(cells)}); got {raw.shape}")
        values = _numbers(wanted, raw, "values")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0)))
        shown = ", ".join(f"{wanted[i][0]}/{wanted[i][1]} = {values[i]:g}" for i in bad[:5])
        raise ValueError(f"current_spend must be finite and >= 0; {bad.size} cells are not: {shown}")
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
