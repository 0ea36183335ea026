"""A week-by-cell spend plan that adds up exactly: per cell, per month, never a cent lost.

The optimizer plans one amount per cell for the whole period; media buyers book by week and finance signs off by
month. :func:`weekly_plan` spreads each cell's amount over the weeks along a profile (flat, last year's weekly
spend, or given weights) in whole multiples of the unit, and when month budgets are given, first finds month×cell
amounts that meet both the cell amounts and the month budgets (iterative proportional fitting from the profile,
then an integral rounding that keeps both sums), so every total a reader might check adds up to the cent.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.optimize import linprog
from scipy.sparse import bmat, coo_matrix, hstack

from optimizer.errors import SolverError
from optimizer.rounding import check_unit, units_to_amounts

MAX_WEEKS = 520
CELL_COLUMNS = ["region", "channel", "objective"]
_RAS_ITERATIONS = 500
_RAS_TOL = 1e-10


def weekly_plan(
    cells: pd.DataFrame,
    amounts: np.ndarray,
    start: str | pd.Timestamp,
    weeks: int,
    profile: str | pd.DataFrame = "flat",
    *,
    history: pd.DataFrame | None = None,
    month_budgets: Mapping[str, float] | pd.Series | None = None,
    unit: float = 1.0,
) -> pd.DataFrame:
    """Split each cell's period amount over the weeks, in multiples of ``unit``, with every sum exact.

    Parameters
    ----------
    cells : pandas.DataFrame
        Columns ``region, channel, objective``, one row per cell, in the order of ``amounts``.
    amounts : numpy.ndarray
        Period amount per cell (currency), each a multiple of ``unit`` (round with
        :func:`optimizer.rounding.round_plan` first).
    start : str, datetime.date or pandas.Timestamp
        Start of the first week; weeks are 7-day periods from it.
    weeks : int
        Number of weeks, 1 to 520.
    profile : {"flat", "last_year"} or pandas.DataFrame, default "flat"
        How a cell's amount spreads over weeks: equal weights; the cell's spend in ``history`` 52 weeks (364 days)
        earlier (a cell with no spend then falls back to flat, with a warning); or a frame of weights with columns
        ``week, weight`` (the same for every cell) or ``week, region, channel, weight`` (per cell).
    history : pandas.DataFrame, optional
        Weekly spend (columns ``week, region, channel, spend``); needed for ``profile="last_year"``.
    month_budgets : Mapping[str, float] or pandas.Series, optional
        Budget per month (``'YYYY-MM'``), covering exactly the months the weeks start in and summing to the plan
        total. A week belongs to the month of its first day.
    unit : float, default 1.0
        Rounding unit (1.0 whole currency, 0.01 cents).

    Returns
    -------
    pandas.DataFrame
        Columns ``week, month, region, channel, objective, spend_weekly``, sorted by week then cell order;
        ``spend_weekly`` is an integer times ``unit``; ``attrs["unit"]`` holds the unit.

    Raises
    ------
    ValueError
        Inputs that disagree or are not multiples of the unit, missing history weeks, unusable weights, month
        budgets that do not cover the months or do not sum to the total, or cannot be met under the profile.

    Examples
    --------
    >>> cells = pd.DataFrame({"region": ["Asia"], "channel": ["meta_ads"], "objective": ["acquisition"]})
    >>> weekly_plan(cells, np.array([100.0]), "2025-01-06", 3).spend_weekly.tolist()
    [34.0, 33.0, 33.0]
    """
    unit = check_unit(unit)
    cells = _check_cells(cells)
    counts = _unit_counts("amounts", np.asarray(amounts, dtype=float).reshape(-1), unit, len(cells))
    week_starts = _week_starts(start, weeks)
    weights = _profile_weights(profile, week_starts, cells, history)
    if month_budgets is None:
        weekly = _largest_remainder(counts, weights)
    else:
        months = week_starts.strftime("%Y-%m")
        month_names = list(dict.fromkeys(months))
        member = np.asarray(months)[:, None] == np.asarray(month_names)[None, :]
        month_counts = _month_counts(month_budgets, month_names, unit, counts)
        fitted = _fit_months(member.T.astype(float) @ weights, month_counts, counts, month_names)
        month_cell = _round_matrix(fitted, month_counts, counts)
        weekly = np.zeros_like(weights, dtype=np.int64)
        for i in range(len(month_names)):
            weekly[member[:, i]] = _largest_remainder(month_cell[i], weights[member[:, i]])
    return _long_frame(cells, week_starts, weekly, unit)


def _check_cells(cells: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(cells, pd.DataFrame):
        raise ValueError(f"cells must be a DataFrame with columns {CELL_COLUMNS}; got {type(cells).__name__}")
    missing = [c for c in CELL_COLUMNS if c not in cells.columns]
    if missing:
        raise ValueError(f"cells is missing columns {missing}; it has {list(cells.columns)}")
    if len(cells) == 0:
        raise ValueError("cells must have at least one row")
    return cells[CELL_COLUMNS].reset_index(drop=True)


def _unit_counts(name: str, values: np.ndarray, unit: float, size: int | None = None) -> np.ndarray:
    """Integer numbers of ``unit``; amounts that are not multiples of it are refused, never rounded here."""
    if size is not None and values.size != size:
        raise ValueError(f"{name} must have one value per cell ({size}); got {values.size}")
    if not np.isfinite(values).all() or (values < 0).any():
        bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
        raise ValueError(f"{name} must be finite and >= 0; positions {bad[:5].tolist()} are {values[bad[:5]]}")
    counts = np.round(values / unit)
    off = np.flatnonzero(np.abs(values / unit - counts) > 1e-6 * np.maximum(1.0, np.abs(counts)))
    if off.size:
        raise ValueError(
            f"{name} must be multiples of unit={unit:g}; {off.size} are not (positions {off[:5].tolist()}: "
            f"{values[off[:5]].tolist()}). Round the plan first, e.g. with optimizer.rounding.round_plan"
        )
    return counts.astype(np.int64)


def _week_starts(start, weeks: int) -> pd.DatetimeIndex:
    if isinstance(weeks, bool) or not isinstance(weeks, (int, np.integer)) or not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be an integer from 1 to {MAX_WEEKS}; got {weeks!r}")
    try:
        first = pd.Timestamp(start).normalize()
    except (TypeError, ValueError) as err:
        raise ValueError(f"start must be a date such as '2025-01-06'; got {start!r}") from err
    if pd.isna(first):
        raise ValueError(f"start must be a date such as '2025-01-06'; got {start!r}")
    return pd.DatetimeIndex([first + pd.Timedelta(days=7 * i) for i in range(int(weeks))])


def _profile_weights(profile, week_starts: pd.DatetimeIndex, cells: pd.DataFrame, history) -> np.ndarray:
    """Weights, one row per week and one column per cell; every column has a positive sum."""
    shape = (len(week_starts), len(cells))
    if isinstance(profile, pd.DataFrame):
        return _frame_weights(profile, week_starts, cells)
    if isinstance(profile, str) and profile == "flat":
        return np.ones(shape)
    if isinstance(profile, str) and profile == "last_year":
        if history is None:
            raise ValueError("profile='last_year' needs history (weekly spend: week, region, channel, spend)")
        return _last_year_weights(history, week_starts, cells)
    raise ValueError(f"profile must be 'flat', 'last_year' or a DataFrame of weights; got {profile!r}")


def _dates(frame: pd.DataFrame, name: str) -> pd.Series:
    try:
        return pd.to_datetime(frame["week"]).dt.normalize()
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}.week must be dates; could not read them ({err})") from err


def _last_year_weights(history: pd.DataFrame, week_starts: pd.DatetimeIndex, cells: pd.DataFrame) -> np.ndarray:
    need = ["week", "region", "channel", "spend"]
    if not isinstance(history, pd.DataFrame) or any(c not in history.columns for c in need):
        got = list(history.columns) if isinstance(history, pd.DataFrame) else type(history).__name__
        raise ValueError(f"history must be a DataFrame with columns {need}; got {got}")
    past = week_starts - pd.Timedelta(days=364)
    hist = history.assign(week=_dates(history, "history"))
    hist = hist[hist["week"].isin(past)]
    missing = past.difference(pd.DatetimeIndex(hist["week"].unique()))
    if len(missing):
        shown = ", ".join(d.strftime("%Y-%m-%d") for d in missing[:6]) + (" ..." if len(missing) > 6 else "")
        raise ValueError(
            f"profile='last_year' needs history for the weeks 364 days before the plan; {len(missing)} weeks have no "
            f"rows: {shown}"
        )
    spend = pd.to_numeric(hist["spend"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(spend).all() or (spend < 0).any():
        raise ValueError("history.spend must be finite numbers >= 0 in the weeks used for the profile")
    table = hist.assign(spend=spend).groupby(["week", "region", "channel"])["spend"].sum()
    table = table.unstack(["region", "channel"]).reindex(past)
    keys = pd.MultiIndex.from_frame(cells[["region", "channel"]])
    weights = table.reindex(columns=keys).fillna(0.0).to_numpy(dtype=float)
    dead = np.flatnonzero(weights.sum(axis=0) <= 0)
    if dead.size:
        warnings.warn(
            f"no spend last year in the matching weeks for {dead.size} cells ({_cell_names(cells, dead)}); "
            "spreading them flat",
            stacklevel=4,
        )
        weights[:, dead] = 1.0
    return weights


def _cell_names(cells: pd.DataFrame, idx: np.ndarray, n: int = 5) -> str:
    shown = ", ".join("/".join(str(v) for v in cells.iloc[i][CELL_COLUMNS]) for i in idx[:n])
    return shown + (f" and {len(idx) - n} more" if len(idx) > n else "")


def _frame_weights(profile: pd.DataFrame, week_starts: pd.DatetimeIndex, cells: pd.DataFrame) -> np.ndarray:
    per_cell = {"region", "channel"} <= set(profile.columns)
    keys = ["week", "region", "channel"] if per_cell else ["week"]
    if any(c not in profile.columns for c in [*keys, "weight"]):
        raise ValueError(
            f"profile must have columns week, weight or week, region, channel, weight; got {list(profile.columns)}"
        )
    frame = profile.assign(week=_dates(profile, "profile"))
    frame = frame[frame["week"].isin(week_starts)]
    weight = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(weight).all() or (weight < 0).any():
        raise ValueError("profile.weight must be finite numbers >= 0")
    if frame.duplicated(keys).any():
        raise ValueError(f"profile has repeated rows for the same {', '.join(keys)}; give one weight each")
    table = frame.assign(weight=weight).set_index(keys)["weight"]
    if per_cell:
        wanted = pd.MultiIndex.from_tuples(
            [(w, r, c) for w in week_starts for r, c in zip(cells["region"], cells["channel"], strict=True)],
            names=keys,
        )
        values = table.reindex(wanted)
        weights = values.to_numpy(dtype=float).reshape(len(week_starts), len(cells))
    else:
        values = table.reindex(week_starts)
        weights = np.repeat(values.to_numpy(dtype=float)[:, None], len(cells), axis=1)
    if values.isna().any():
        gone = values.index[values.isna().to_numpy()][:5]
        raise ValueError(
            f"profile has no weight for {int(values.isna().sum())} planned (week, cell) pairs: {list(gone)}"
        )
    dead = np.flatnonzero(weights.sum(axis=0) <= 0)
    if dead.size:
        raise ValueError(
            f"profile weights sum to 0 over the planned weeks for {dead.size} cells ({_cell_names(cells, dead)})"
        )
    return weights


def _largest_remainder(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Integer split of each column's total in proportion to its weights; each column sums exactly to its total.

    The floors of the exact shares go first; the units left over go one each to the largest remainders (ties to the
    earlier week).
    """
    totals = np.asarray(totals, dtype=np.int64)
    col_sums = weights.sum(axis=0)
    if ((col_sums <= 0) & (totals > 0)).any():
        raise SolverError("cannot spread a positive amount over weeks whose weights are all zero")
    share = np.divide(weights, col_sums, out=np.zeros_like(weights, dtype=float), where=col_sums > 0)
    exact = share * totals
    base = np.floor(exact).astype(np.int64)
    left = totals - base.sum(axis=0)
    order = np.argsort(-(exact - base), axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(weights.shape[0])[:, None], axis=0)
    return base + (rank < left[None, :]).astype(np.int64)


def _month_counts(month_budgets, months: list[str], unit: float, counts: np.ndarray) -> np.ndarray:
    if isinstance(month_budgets, pd.Series):
        month_budgets = month_budgets.to_dict()
    if not isinstance(month_budgets, Mapping):
        raise ValueError(f"month_budgets must be a mapping 'YYYY-MM' -> amount; got {type(month_budgets).__name__}")
    budgets = {str(k): v for k, v in month_budgets.items()}
    missing, extra = [m for m in months if m not in budgets], sorted(set(budgets) - set(months))
    if missing or extra:
        raise ValueError(
            f"month_budgets must cover exactly the months the weeks start in ({', '.join(months)}); "
            f"missing {missing}, not in the plan {extra}"
        )
    month_counts = _unit_counts("month_budgets", np.array([budgets[m] for m in months], dtype=float), unit)
    if month_counts.sum() != counts.sum():
        plan, given = units_to_amounts(np.array([counts.sum(), month_counts.sum()]), unit)
        raise ValueError(
            f"month_budgets must sum to the plan total {plan:.10g}; they sum to {given:.10g} "
            f"(difference {given - plan:+.10g})"
        )
    return month_counts


def _fit_months(profile_months: np.ndarray, month_counts: np.ndarray, counts: np.ndarray, months) -> np.ndarray:
    """Month×cell amounts with the month and cell totals, closest to the profile (RAS; an L1 fit if RAS stalls)."""
    target_rows, target_cols = month_counts.astype(float), counts.astype(float)
    col = profile_months.sum(axis=0)
    fitted = np.divide(profile_months, col, out=np.zeros_like(profile_months), where=col > 0) * target_cols
    empty = np.flatnonzero((fitted.sum(axis=1) <= 0) & (month_counts > 0))
    if empty.size:
        raise ValueError(
            f"month_budgets give {', '.join(f'{months[i]} {month_counts[i]} units' for i in empty)} but the profile "
            "puts no weight in those months on any cell with spend"
        )
    scale = max(1.0, target_cols.sum())
    for _ in range(_RAS_ITERATIONS):
        rows = fitted.sum(axis=1)
        fitted *= np.divide(target_rows, rows, out=np.zeros_like(rows), where=rows > 0)[:, None]
        cols = fitted.sum(axis=0)
        fitted *= np.divide(target_cols, cols, out=np.zeros_like(cols), where=cols > 0)[None, :]
        if np.abs(fitted.sum(axis=1) - target_rows).max() <= _RAS_TOL * scale:
            return fitted
    return _l1_fit(profile_months, target_rows, target_cols, months)


def _transport_matrix(support: np.ndarray) -> tuple[np.ndarray, np.ndarray, coo_matrix]:
    """Equality rows (one per month, one per cell) over the variables on ``support``."""
    i, j = np.nonzero(support)
    k = np.arange(i.size)
    where = (np.concatenate([i, support.shape[0] + j]), np.concatenate([k, k]))
    return i, j, coo_matrix((np.ones(2 * i.size), where), shape=(sum(support.shape), i.size)).tocsr()


def _l1_fit(profile_months, target_rows, target_cols, months) -> np.ndarray:
    """Month×cell amounts meeting both totals, nearest the column-scaled profile in L1; RAS cannot get there."""
    col = profile_months.sum(axis=0)
    start = np.divide(profile_months, col, out=np.zeros_like(profile_months), where=col > 0) * target_cols
    i, j, eq = _transport_matrix(profile_months > 0)
    n = i.size
    # x - e <= p and -x - e <= -p give e >= |x - p|
    eye = coo_matrix((np.ones(n), (np.arange(n), np.arange(n))), shape=(n, n))
    ub = bmat([[eye, -eye], [-eye, -eye]]).tocsr()
    p = start[i, j]
    res = linprog(
        np.concatenate([np.zeros(n), np.ones(n)]),
        A_ub=ub,
        b_ub=np.concatenate([p, -p]),
        A_eq=hstack([eq, coo_matrix((eq.shape[0], n))]).tocsr(),
        b_eq=np.concatenate([target_rows, target_cols]),
        bounds=(0, None),
        method="highs",
    )
    if res.status != 0:
        raise ValueError(
            f"month_budgets {dict(zip(months, target_rows.tolist(), strict=True))} (in units) cannot be met by the "
            f"cells' amounts {target_cols.tolist()} with spend only in weeks where the profile has weight"
        )
    fitted = np.zeros_like(profile_months)
    fitted[i, j] = res.x[:n]
    return fitted


def _round_matrix(fitted: np.ndarray, month_counts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Integer month×cell matrix with exact month and cell sums, each entry the floor or ceiling of ``fitted``.

    Choosing which entries round up is a transportation problem in 0/1 variables; its constraint matrix is totally
    unimodular, so the simplex vertex HiGHS returns is integral.
    """
    eps = 1e-9 * max(1.0, float(fitted.max(initial=0.0)))
    base = np.floor(fitted + eps)
    frac = np.clip(fitted - base, 0.0, 1.0)
    need_rows = month_counts - base.sum(axis=1)
    need_cols = counts - base.sum(axis=0)
    support = fitted > eps
    i, j, eq = _transport_matrix(support)
    if i.size == 0:
        return base.astype(np.int64)
    res = linprog(
        1.0 - 2.0 * frac[i, j],
        A_eq=eq,
        b_eq=np.concatenate([need_rows, need_cols]),
        bounds=(0, 1),
        method="highs-ds",
    )
    if res.status != 0:
        raise SolverError(f"could not round the month×cell amounts keeping both sums ({res.message})")
    up = np.round(res.x)
    if np.abs(res.x - up).max(initial=0.0) > 1e-7:
        raise SolverError("the month×cell rounding LP returned a fractional vertex; this should not happen")
    result = base.copy()
    result[i, j] += up
    out = result.astype(np.int64)
    if (out.sum(axis=1) != month_counts).any() or (out.sum(axis=0) != counts).any():
        raise SolverError("the month×cell rounding did not keep the month and cell sums; this should not happen")
    return out


def _long_frame(cells: pd.DataFrame, week_starts: pd.DatetimeIndex, weekly: np.ndarray, unit: float) -> pd.DataFrame:
    n_weeks, n_cells = weekly.shape
    frame = pd.DataFrame(
        {
            "week": np.repeat(week_starts.to_numpy(), n_cells),
            "month": np.repeat(week_starts.strftime("%Y-%m").to_numpy(), n_cells),
            "region": np.tile(cells["region"].to_numpy(), n_weeks),
            "channel": np.tile(cells["channel"].to_numpy(), n_weeks),
            "objective": np.tile(cells["objective"].to_numpy(), n_weeks),
            "spend_weekly": units_to_amounts(weekly.reshape(-1), unit),
        }
    )
    frame.attrs["unit"] = unit
    return frame
