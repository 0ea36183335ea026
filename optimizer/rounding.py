"""Whole-currency budget plans: round a continuous plan to multiples of a unit, totals exact, rules kept.

The continuous optimum is rarely a whole number of euros (or cents). Rounding each cell on its own loses the total
and can break a share rule by a hair; this module instead solves a small mixed-integer program (HiGHS, through
:func:`scipy.optimize.milp`) over the number of units per cell. Rules the continuous plan holds with room stay held;
tight rules (an exact share, for instance) are met as closely as whole units allow, and what is left over is
reported row by row in :attr:`RoundedPlan.rules`, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from optimizer.errors import InfeasiblePolicyError, SolverError

#: Weight of one unit of rule violation, per cell, against one unit of distance from the continuous plan.
VIOLATION_WEIGHT_PER_CELL = 100.0
#: Relative tolerance for "inside the bounds" and "the rule holds".
REL_TOL = 1e-9
#: HiGHS settings: prove optimality tightly; stop the search after a fixed number of branch-and-bound nodes, never
#: after a wall-clock time, so the same plan rounds to the same euros on any machine and under any load (a one-second
#: time limit once handed back a different best-so-far plan on a busy CI machine). The time limit is only a guard
#: against a pathological instance; the 48-cell example plan solves at the root node (one node, 0.9 s on the slower
#: machine type).
_MILP_OPTIONS = {"mip_rel_gap": 1e-9, "node_limit": 5_000, "time_limit": 600.0}
RULE_COLUMNS = ["rule", "value", "value_rounded", "low", "high", "violation", "violation_rounded", "held", "note"]


@dataclass(frozen=True, eq=False)
class RoundedPlan:
    """A plan in whole multiples of ``unit`` whose cells add up exactly to ``total``.

    Attributes
    ----------
    spend : numpy.ndarray
        Spend per cell, each an integer times ``unit`` (in currency).
    unit : float
        The rounding unit (1.0 for whole currency, 0.01 for cents).
    total : float
        The exact total, an integer times ``unit``; ``spend`` sums to it (as integers of ``unit``).
    rules : pandas.DataFrame
        One row per rule row (columns ``rule, value, value_rounded, low, high, violation, violation_rounded, held,
        note``): the rule's value for the continuous and the rounded plan, its bounds, by how much each misses them
        (0 when held), whether the rounded plan holds it and why not when it does not. Cells whose bounds contain no
        multiple of ``unit`` get an extra row named ``cell <index> bounds``.
    optimal : bool
        False when HiGHS hit its node limit (5,000 branch-and-bound nodes, a deterministic limit) and returned its
        best plan so far: totals and held rules are still exact, the plan is just not proven the closest one.
    """

    spend: np.ndarray
    unit: float
    total: float
    rules: pd.DataFrame
    optimal: bool = True


def check_unit(unit: float) -> float:
    """Return ``unit`` as a float, refusing anything that is not a finite number above zero.

    Parameters
    ----------
    unit : float
        Rounding unit in currency, e.g. 1.0 or 0.01.

    Returns
    -------
    float
    """
    if isinstance(unit, bool) or not isinstance(unit, (int, float, np.integer, np.floating)):
        raise ValueError(f"unit must be a number > 0 (1.0 for whole currency, 0.01 for cents); got {unit!r}")
    if not np.isfinite(unit) or unit <= 0:
        raise ValueError(f"unit must be a finite number > 0 (1.0 for whole currency, 0.01 for cents); got {unit!r}")
    return float(unit)


def units_to_amounts(counts: np.ndarray, unit: float) -> np.ndarray:
    """Amounts in currency for integer counts of ``unit``, as close to the decimal value as a float gets.

    Dividing by 100 rather than multiplying by 0.01 gives the float nearest to the decimal amount (``1234.56``
    rather than ``1234.5600000000002``).

    Parameters
    ----------
    counts : numpy.ndarray
        Integer numbers of units.
    unit : float
        The unit in currency.

    Returns
    -------
    numpy.ndarray
        ``counts * unit`` as floats.
    """
    counts = np.asarray(counts, dtype=float)
    per_currency = 1.0 / unit
    whole = round(per_currency)
    if per_currency > 1 and abs(per_currency - whole) <= REL_TOL * per_currency:
        return counts / whole
    return counts * unit


def round_plan(
    spend: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    rows: np.ndarray,
    row_low: np.ndarray,
    row_high: np.ndarray,
    labels: Sequence[str],
    *,
    unit: float = 1.0,
    total: float | None = None,
) -> RoundedPlan:
    """Round a continuous plan to multiples of ``unit``, keeping the total exact and the rules as far as units allow.

    With ``W`` the units per cell, ``s = spend / unit`` and ``v_r`` the violation of rule row ``r`` in units of
    ``unit * max_c |rows[r, c]|``, the plan minimises ``BIG * sum_r v_r + sum_c |W_c - s_c|`` with
    ``BIG = VIOLATION_WEIGHT_PER_CELL * (n + 1)``, subject to ``sum_c W_c`` equal to the target, each ``W_c`` within
    the cell's bounds, and ``v_r = 0`` for every rule the continuous plan holds with room (slack of at least
    ``unit * sum_c |rows[r, c]|``, so no rounding within a unit could break it). A rule the continuous plan already
    misses is only kept from getting worse (rounding does not try to repair it); both misses are reported.

    Parameters
    ----------
    spend : numpy.ndarray
        The continuous plan, one amount per cell (currency).
    lower, upper : numpy.ndarray
        Per-cell bounds (``upper`` may be ``inf``); ``spend`` must lie within them.
    rows : numpy.ndarray
        ``(m, n)`` rule matrix; rule ``r`` reads ``row_low[r] <= rows[r] @ spend <= row_high[r]``. A share rule
        "at least 35% in these cells" is the row ``members - 0.35`` with bounds ``[0, inf)``.
    row_low, row_high : numpy.ndarray
        Rule bounds, ``±inf`` allowed.
    labels : Sequence[str]
        One name per rule row, used in :attr:`RoundedPlan.rules` and in errors.
    unit : float, default 1.0
        Rounding unit (1.0 whole currency, 0.01 cents).
    total : float, optional
        Plan total to hit exactly, rounded to the unit (spend-all budgets); by default the rounded sum of ``spend``.

    Returns
    -------
    RoundedPlan

    Raises
    ------
    ValueError
        Non-finite inputs, ``unit <= 0``, shapes that disagree, ``spend`` outside its bounds.
    InfeasiblePolicyError
        No whole-unit plan reaches the total within the bounds while keeping the rules held with room.

    Examples
    --------
    >>> plan = round_plan(np.array([33.4, 33.3, 33.3]), np.zeros(3), np.full(3, np.inf),
    ...                   np.ones((1, 3)), np.array([100.0]), np.array([100.0]), ["budget"])
    >>> plan.spend.tolist(), plan.total
    ([34.0, 33.0, 33.0], 100.0)
    """
    unit = check_unit(unit)
    s, lo_c, hi_c, a, lo_r, hi_r, labels = _validate(spend, lower, upper, rows, row_low, row_high, labels)
    s_u = s / unit
    cell_lo, cell_hi, empty = _unit_bounds(s_u, lo_c / unit, hi_c / unit)
    target = _target_units(s, total, unit, cell_lo, cell_hi)
    hard = _held_with_room(a, s, lo_r, hi_r, unit)
    # a rule the continuous plan already misses is only kept from getting worse: repairing it is not rounding
    value = a @ s
    soft_lo, soft_hi = np.minimum(lo_r, value), np.maximum(hi_r, value)
    counts, optimal = _solve_units(s_u, cell_lo, cell_hi, a, soft_lo / unit, soft_hi / unit, hard, target, labels)
    rounded = units_to_amounts(counts, unit)
    rules = _rule_table(a, s, rounded, lo_r, hi_r, labels, unit)
    if empty.size:
        rules = pd.concat([rules, _empty_bound_rows(empty, s, rounded, lo_c, hi_c, unit)], ignore_index=True)
    total_rounded = float(units_to_amounts(np.array([target]), unit)[0])
    return RoundedPlan(spend=rounded, unit=unit, total=total_rounded, rules=rules, optimal=optimal)


def _finite(name: str, values: np.ndarray, *, allow_inf: bool = False) -> None:
    bad = np.isnan(values) if allow_inf else ~np.isfinite(values)
    if bad.any():
        where = np.flatnonzero(bad)[:5].tolist()
        kind = "NaN" if allow_inf else "NaN or infinite"
        raise ValueError(f"{name} must be finite numbers; {int(bad.sum())} values are {kind} (positions {where})")


def _validate(spend, lower, upper, rows, row_low, row_high, labels) -> tuple:
    """Arrays as floats with agreeing shapes, finite where they must be, spend within its bounds."""
    s = np.asarray(spend, dtype=float).reshape(-1)
    n = s.size
    lo_c, hi_c = (np.asarray(x, dtype=float).reshape(-1) for x in (lower, upper))
    a = np.asarray(rows, dtype=float)
    a = a.reshape(0, n) if a.size == 0 else a
    lo_r, hi_r = (np.asarray(x, dtype=float).reshape(-1) for x in (row_low, row_high))
    labels = [str(x) for x in labels]
    if n == 0:
        raise ValueError("spend must have at least one cell; got an empty array")
    if lo_c.size != n or hi_c.size != n:
        raise ValueError(f"lower and upper must have one value per cell ({n}); got {lo_c.size} and {hi_c.size}")
    m = a.shape[0] if a.ndim == 2 else -1
    if a.ndim != 2 or a.shape[1] != n:
        raise ValueError(f"rows must be an (m, {n}) matrix, one column per cell; got shape {np.shape(rows)}")
    if lo_r.size != m or hi_r.size != m or len(labels) != m:
        raise ValueError(
            f"row_low, row_high and labels must have one entry per rule row ({m}); "
            f"got {lo_r.size}, {hi_r.size} and {len(labels)}"
        )
    _finite("spend", s)
    _finite("rows", a)
    for name, values in (("lower", lo_c), ("upper", hi_c), ("row_low", lo_r), ("row_high", hi_r)):
        _finite(name, values, allow_inf=True)
    for name, low, high, names in (("lower/upper", lo_c, hi_c, None), ("row_low/row_high", lo_r, hi_r, labels)):
        bad = np.flatnonzero(low > high)
        if bad.size:
            shown = ", ".join(f"{names[i] if names else i}: [{low[i]:g}, {high[i]:g}]" for i in bad[:5])
            raise ValueError(f"{name} must have low <= high; {bad.size} do not ({shown})")
    tol = 1e-7 * np.maximum(1.0, np.abs(s))
    out = np.flatnonzero((s < lo_c - tol) | (s > hi_c + tol))
    if out.size:
        shown = ", ".join(f"cell {i}: {s[i]:.10g} not in [{lo_c[i]:.10g}, {hi_c[i]:.10g}]" for i in out[:5])
        raise ValueError(f"spend must lie within [lower, upper]; {out.size} cells do not ({shown})")
    return s, lo_c, hi_c, a, lo_r, hi_r, labels


def _unit_bounds(s_u: np.ndarray, lo_u: np.ndarray, hi_u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-unit bounds per cell; a cell whose bounds hold no whole unit is pinned to the unit nearest its spend."""
    with np.errstate(invalid="ignore"):
        cell_lo = np.ceil(lo_u - REL_TOL * np.maximum(1.0, np.abs(lo_u)))
        cell_hi = np.floor(hi_u + REL_TOL * np.maximum(1.0, np.abs(hi_u)))
    empty = np.flatnonzero(cell_lo > cell_hi)
    cell_lo[empty] = cell_hi[empty] = np.round(s_u[empty])
    return cell_lo, cell_hi, empty


def _target_units(s: np.ndarray, total: float | None, unit: float, cell_lo: np.ndarray, cell_hi: np.ndarray) -> int:
    if total is not None and (isinstance(total, bool) or not np.isfinite(total)):
        raise ValueError(f"total must be a finite number or None; got {total!r}")
    target = int(np.round((s.sum() if total is None else float(total)) / unit))
    low, high = cell_lo.sum(), cell_hi.sum()
    if not low <= target <= high:
        raise InfeasiblePolicyError(
            f"no whole-unit plan can total {target * unit:.10g}: the cell bounds, in whole units of {unit:g}, "
            f"allow totals from {low * unit:.10g} to {high * unit:.10g}"
        )
    return target


def _held_with_room(a: np.ndarray, s: np.ndarray, lo_r: np.ndarray, hi_r: np.ndarray, unit: float) -> np.ndarray:
    """Rules with enough slack that no rounding within one unit per cell could break them; these become hard."""
    value = a @ s
    with np.errstate(invalid="ignore"):
        slack = np.minimum(value - lo_r, hi_r - value)
    return slack >= unit * np.abs(a).sum(axis=1) * (1 + REL_TOL)


def _solve_units(s_u, cell_lo, cell_hi, a, lo_u, hi_u, hard, target, labels) -> tuple[np.ndarray, bool]:
    """The MILP over ``k = W - floor(s)``: offsets from the floor keep every number small and well scaled."""
    n, m = s_u.size, a.shape[0]
    base = np.floor(s_u)
    frac = s_u - base
    norm = np.abs(a).max(axis=1, initial=0.0)
    norm[norm == 0] = 1.0
    a_n = a / norm[:, None]
    shift = a_n @ base
    eye_n, eye_m, zero_nm = np.eye(n), np.eye(m), np.zeros((m, n))
    gap = target - base.sum()
    constraints = [
        LinearConstraint(np.hstack([-eye_n, eye_n, np.zeros((n, m))]), -frac, np.inf),
        LinearConstraint(np.hstack([eye_n, eye_n, np.zeros((n, m))]), frac, np.inf),
        LinearConstraint(np.concatenate([np.ones(n), np.zeros(n + m)])[None, :], gap, gap),
    ]
    if m:
        constraints.append(LinearConstraint(np.hstack([a_n, zero_nm, eye_m]), lo_u / norm - shift, np.inf))
        constraints.append(LinearConstraint(np.hstack([a_n, zero_nm, -eye_m]), -np.inf, hi_u / norm - shift))
    cost = np.concatenate([np.zeros(n), np.ones(n), np.full(m, VIOLATION_WEIGHT_PER_CELL * (n + 1))])
    bounds = Bounds(
        np.concatenate([cell_lo - base, np.zeros(n + m)]),
        np.concatenate([cell_hi - base, np.full(n, np.inf), np.where(hard, 0.0, np.inf)]),
    )
    integrality = np.concatenate([np.ones(n), np.zeros(n + m)])
    res = milp(cost, constraints=constraints, bounds=bounds, integrality=integrality, options=_MILP_OPTIONS)
    if res.status == 4:  # HiGHS' presolve fails on a few tiny instances; the same model solves without it
        options = {**_MILP_OPTIONS, "presolve": False}
        res = milp(cost, constraints=constraints, bounds=bounds, integrality=integrality, options=options)
    if res.status == 2:
        held = [labels[i] for i in np.flatnonzero(hard)]
        shown = ", ".join(held[:8]) + (f" and {len(held) - 8} more" if len(held) > 8 else "")
        raise InfeasiblePolicyError(
            f"no whole-unit plan totals {target} units within the cell bounds while keeping the rules the continuous "
            f"plan holds with room ({shown or 'none'}); the continuous plan totals {s_u.sum():.10g} units, so the "
            "requested total is likely too far from it"
        )
    # past the node limit HiGHS hands back its best plan so far: feasible, just not proven closest
    if res.x is None or res.status not in (0, 1):
        raise SolverError(f"HiGHS could not round the plan (status {res.status}: {res.message})")
    k = res.x[:n]
    if np.abs(k - np.round(k)).max() > 1e-6:
        raise SolverError(f"HiGHS returned non-integral unit counts (largest gap {np.abs(k - np.round(k)).max():g})")
    return (base + np.round(k)).astype(np.int64), res.status == 0


def _rule_table(a, s, rounded, lo_r, hi_r, labels, unit) -> pd.DataFrame:
    value, value_rounded = a @ s, a @ rounded
    violation, violation_rounded = _violation(value, lo_r, hi_r), _violation(value_rounded, lo_r, hi_r)
    tol = REL_TOL * (1.0 + np.abs(a) @ (np.abs(s) + unit))
    held = violation_rounded <= tol
    notes = []
    for r in range(a.shape[0]):
        if held[r]:
            notes.append("")
        elif violation[r] > tol[r]:
            notes.append(
                f"violated by the continuous plan too (by {violation[r]:.6g}); off by {violation_rounded[r]:.6g}"
            )
        else:
            notes.append(
                f"tight rule (held by the continuous plan with no room to spare) cannot be met exactly in whole units "
                f"of {unit:g}; met to within rounding, off by {violation_rounded[r]:.6g}"
            )
    return pd.DataFrame(
        {
            "rule": labels,
            "value": value,
            "value_rounded": value_rounded,
            "low": lo_r,
            "high": hi_r,
            "violation": np.where(violation <= tol, 0.0, violation),
            "violation_rounded": np.where(held, 0.0, violation_rounded),
            "held": held.astype(bool),
            "note": notes,
        },
        columns=RULE_COLUMNS,
    )


def _violation(value: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.maximum(0.0, np.maximum(low - value, value - high))


def _empty_bound_rows(empty, s, rounded, lo_c, hi_c, unit) -> pd.DataFrame:
    """One report row per cell whose bounds hold no multiple of the unit (a locked odd amount, say)."""
    miss = _violation(rounded[empty], lo_c[empty], hi_c[empty])
    return pd.DataFrame(
        {
            "rule": [f"cell {i} bounds" for i in empty],
            "value": s[empty],
            "value_rounded": rounded[empty],
            "low": lo_c[empty],
            "high": hi_c[empty],
            "violation": 0.0,
            "violation_rounded": miss,
            "held": miss <= 0.0,
            "note": [
                f"bounds [{lo_c[i]:.10g}, {hi_c[i]:.10g}] contain no multiple of {unit:g}; set to the nearest, "
                f"{rounded[i]:.10g}"
                for i in empty
            ],
        },
        columns=RULE_COLUMNS,
    )
