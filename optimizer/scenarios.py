"""Scenarios on one built program: the budget frontier, the budget at which the plan's marginal ROI meets the hurdle,
and the marginal-dollar ladder. Every point is a re-solve (new budget, same program, tangents and basis kept)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from contracts.defaults import INTERVAL_PROB
from contracts.stats import interval_label
from optimizer.bounds import cell_bounds
from optimizer.errors import InfeasiblePolicyError
from optimizer.policy import MAX_AMOUNT, Policy
from optimizer.rules import policy_rows, row_matrix
from optimizer.summary import INTERVAL_KIND, _tails

if TYPE_CHECKING:  # pragma: no cover
    from optimizer.allocate import Allocator
    from optimizer.allocation import Allocation

FRONTIER_COLUMNS = [
    "budget",
    "status",
    "revenue_period",
    "revenue_period_low",
    "revenue_period_high",
    "revenue_period_change",
    "roi",
    "mroi",
]
#: Relative precision of the budget at which the plan's marginal ROI meets the hurdle.
HURDLE_BUDGET_RTOL = 1e-4
#: Most re-solves spent looking for that budget.
_MAX_SEARCH = 40


@dataclass(frozen=True, eq=False)
class HurdleBudget:
    """Where the plan's marginal ROI (extra revenue per extra unit of budget) meets the ROI hurdle.

    ``budget`` is that budget, or ``None`` when the rules' range of budgets does not contain it; ``where`` says
    which: ``"inside"``, ``"below"`` (even the smallest budget the rules allow returns less than the hurdle at the
    margin) or ``"above"``. ``statement`` says it in words.
    """

    budget: float | None
    where: str
    hurdle: float
    low: float
    high: float
    mroi_low: float
    mroi_high: float
    statement: str


@dataclass(frozen=True, eq=False)
class Frontier:
    """Expected revenue, its interval and the plan's marginal ROI across budgets, under one policy's rules.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per budget (in the order given): ``budget``, ``status`` (``optimal`` or why not), ``revenue_period``
        (expected incremental revenue of the plan over the period) with ``revenue_period_low``/``_high``,
        ``revenue_period_change`` (versus current spend), ``roi`` (revenue / budget) and ``mroi`` (the plan's
        marginal ROI: the budget's shadow price). ``attrs["interval"]`` labels the bounds.
    spend : pandas.DataFrame
        The plans: one row per budget (index ``budget``), one column per cell (``region/channel``).
    hurdle : HurdleBudget
        The budget at which the plan's marginal ROI falls to the policy's ``roi_hurdle``.
    interval : str
        Label of the ``_low``/``_high`` bounds, e.g. ``"90% equal-tailed"``.
    """

    table: pd.DataFrame
    spend: pd.DataFrame
    hurdle: HurdleBudget
    interval: str
    policy: Policy
    allocator: Allocator

    def plan(self, budget: float) -> Allocation:
        """The full plan (:class:`Allocation`) at one budget, re-solved on the same program."""
        return self.allocator.allocate(self.policy.with_budget(budget))


@dataclass(frozen=True, eq=False)
class Ladder:
    """Where the next ``step`` of budget goes and which ``step`` to cut first, each by re-solving the plan.

    Attributes
    ----------
    step : float
    add, cut : pandas.DataFrame
        ``region``, ``channel``, ``objective``, ``amount`` (spend moved over the period, positive), largest first;
        cells moved by less than a currency unit are left out. Empty when that direction is infeasible.
    revenue : pandas.DataFrame
        Index ``add`` and ``cut``: ``revenue_period_change`` (expected revenue gained by adding, lost by cutting)
        with ``_low``/``_high`` over posterior draws, and ``mroi`` (that change per unit of ``step``); ``status``
        says why a direction is not available (e.g. the rules allow no larger budget).
    interval : str
    """

    step: float
    add: pd.DataFrame
    cut: pd.DataFrame
    revenue: pd.DataFrame
    interval: str


def _budget_range(allocator: Allocator, policy: Policy) -> tuple[float, float]:
    """Smallest and largest budget the rules allow: two LPs over the cell bounds and rule rows (share rules are
    homogeneous in the total, so they hold at any budget). A cell without a cap counts up to 10× the budget."""
    budget = policy.budget_amount
    cells = allocator.curves.cells
    wide = min(10 * budget, MAX_AMOUNT)
    bounds = cell_bounds(cells, policy.with_budget(wide), allocator.current, wide)
    a, low, high = row_matrix(policy_rows(cells, policy), len(cells))
    a_ub = np.vstack([a[np.isfinite(high)], -a[np.isfinite(low)]])
    b_ub = np.concatenate([high[np.isfinite(high)], -low[np.isfinite(low)]])
    ends = []
    for sign in (1.0, -1.0):
        res = linprog(
            sign * np.ones(len(cells)),
            A_ub=a_ub if len(b_ub) else None,
            b_ub=b_ub if len(b_ub) else None,
            bounds=list(zip(bounds.lower, np.minimum(bounds.upper, wide), strict=True)),
            method="highs",
        )
        ends.append(float(res.x.sum()) if res.status == 0 else budget)
    return max(ends[0], budget * 1e-6), min(ends[1], wide)


def _mroi_at(allocator: Allocator, policy: Policy, budget: float) -> float | None:
    try:
        return float(allocator.solve(policy.with_budget(budget))[1]["budget"])
    except InfeasiblePolicyError:
        return None


def _feasible_end(allocator: Allocator, policy: Policy, end: float, start: float) -> tuple[float, float]:
    """Move ``end`` toward ``start`` until the rules allow it; its budget and plan mROI."""
    for _ in range(30):
        m = _mroi_at(allocator, policy, end)
        if m is not None:
            return end, m
        end = start + 0.5 * (end - start)
    return start, float(allocator.solve(policy.with_budget(start))[1]["budget"])


def hurdle_budget(allocator: Allocator, policy: Policy, rtol: float = HURDLE_BUDGET_RTOL) -> HurdleBudget:
    """The budget at which the plan's marginal ROI (re-optimised at every budget) equals ``policy.roi_hurdle``.

    The plan's marginal ROI does not rise with the budget (the value of the best plan is concave in it), so the
    search brackets the crossing within the budgets the rules allow and narrows it by regula falsi (Illinois)
    to ``rtol`` of the budget. Re-solves only: no program is rebuilt.
    """
    hurdle = policy.roi_hurdle
    if policy.mode != "spend_all":
        policy = policy.model_copy(update={"mode": "spend_all"}).validated()
    budget = policy.budget_amount
    m0 = _mroi_at(allocator, policy, budget)
    if m0 is None:
        raise InfeasiblePolicyError(f"the policy is infeasible at its own budget {budget:,.0f}")
    lo_b, hi_b = _budget_range(allocator, policy)
    if m0 >= hurdle:
        a, fa = budget, m0
        b, fb = _feasible_end(allocator, policy, hi_b, budget)
        if fb >= hurdle:
            return _outside("above", hurdle, a, b, fa, fb)
    else:
        b, fb = budget, m0
        a, fa = _feasible_end(allocator, policy, lo_b, budget)
        if fa < hurdle:
            return _outside("below", hurdle, a, b, fa, fb)
    side = 0
    for _ in range(_MAX_SEARCH):
        if b - a <= rtol * budget:
            break
        ga, gb = fa - hurdle, fb - hurdle
        c = b - gb * (b - a) / (gb - ga) if gb != ga else 0.5 * (a + b)
        c = min(max(c, a + 0.01 * (b - a)), b - 0.01 * (b - a))
        fc = _mroi_at(allocator, policy, c)
        if fc is None:  # a gap in the rules' feasible budgets: fall back to halving
            c = 0.5 * (a + b)
            fc = float(allocator.solve(policy.with_budget(c))[1]["budget"])
        if fc >= hurdle:
            a, fa = c, fc
            fb = hurdle + (fb - hurdle) / 2 if side == 1 else fb  # Illinois: halve the stale end's weight
            side = 1
        else:
            b, fb = c, fc
            fa = hurdle + (fa - hurdle) / 2 if side == -1 else fa
            side = -1
    found = 0.5 * (a + b)
    text = (
        f"spend up to {found:,.0f}: beyond it each extra unit of budget returns less than {hurdle:g} "
        f"(the plan's marginal ROI is {m0:.2f} at the budget {budget:,.0f})"
    )
    return HurdleBudget(found, "inside", hurdle, a, b, fa, fb, text)


def _outside(where: str, hurdle: float, a: float, b: float, fa: float, fb: float) -> HurdleBudget:
    if where == "above":
        text = (
            f"even at {b:,.0f}, the largest budget the rules allow, each extra unit of budget returns {fb:.3f} "
            f"(≥ {hurdle:g}): the hurdle does not limit the budget within the rules"
        )
    else:
        text = (
            f"even at {a:,.0f}, the smallest budget the rules allow, each extra unit of budget returns only "
            f"{fa:.3f} (< {hurdle:g}): the rules (shares, change limits) hold the budget above where the hurdle "
            "would put it"
        )
    return HurdleBudget(None, where, hurdle, a, b, fa, fb, text)


def frontier(allocator: Allocator, budgets: Sequence[float], policy: Policy) -> Frontier:
    """Plans across budgets under one policy: expected revenue with its interval and the plan's marginal ROI.

    Budgets are solved in increasing order on the same program (each re-solve starts from the last plan); a budget
    the rules cannot meet gets a row whose ``status`` says why and NaN figures.
    """
    values = [float(b) for b in budgets]
    if not values:
        raise ValueError("budgets must list at least one budget")
    bad = [b for b in values if not np.isfinite(b) or b <= 0 or b > MAX_AMOUNT]
    if bad:
        raise ValueError(f"budgets must be positive, finite and at most {MAX_AMOUNT:g}; got {bad[:5]}")
    curves = allocator.curves
    low, high = _tails(INTERVAL_PROB)
    now = curves.revenue(allocator.current).sum(axis=1)
    rows, plans = {}, {}
    for b in sorted(set(values)):
        try:
            spend, duals = allocator.solve(policy.with_budget(b))[:2]
        except InfeasiblePolicyError as err:
            rows[b] = [b, f"infeasible: {err}", *([np.nan] * 6)]
            plans[b] = np.full(curves.n_cells, np.nan)
            continue
        total = curves.revenue(spend).sum(axis=1)
        rows[b] = [
            b,
            "optimal",
            total.mean(),
            np.quantile(total, low),
            np.quantile(total, high),
            (total - now).mean(),
            total.mean() / b,
            float(duals["budget"]),
        ]
        plans[b] = spend
    table = pd.DataFrame([rows[b] for b in values], columns=FRONTIER_COLUMNS)
    interval = interval_label(INTERVAL_PROB, INTERVAL_KIND)
    table.attrs["interval"] = interval
    names = [f"{r}/{c}" for r, c in zip(curves.cells["region"], curves.cells["channel"], strict=True)]
    spend = pd.DataFrame([plans[b] for b in values], columns=names, index=pd.Index(values, name="budget"))
    return Frontier(table, spend, hurdle_budget(allocator, policy), interval, policy, allocator)


def ladder(allocator: Allocator, policy: Policy, spend: np.ndarray, step: float) -> Ladder:
    """Where ``step`` more budget goes and which ``step`` to cut first, from the plan ``spend`` at the policy's
    budget, by re-solving at budget ± step (not by linearising)."""
    if not np.isfinite(step) or step <= 0:
        raise ValueError(f"step must be a positive amount of budget; got {step!r}")
    curves, budget = allocator.curves, policy.budget_amount
    if step >= budget:
        raise ValueError(f"step {step:,.0f} must be smaller than the budget {budget:,.0f}")
    low, high = _tails(INTERVAL_PROB)
    base = curves.revenue(spend).sum(axis=1)
    tables, revenue = {}, []
    for name, sign in (("add", 1.0), ("cut", -1.0)):
        try:
            moved = allocator.solve(policy.with_budget(budget + sign * step))[0]
        except InfeasiblePolicyError as err:
            tables[name] = pd.DataFrame(columns=["region", "channel", "objective", "amount"])
            revenue.append([np.nan, np.nan, np.nan, np.nan, f"infeasible: {err}"])
            continue
        delta = sign * (moved - spend)
        keep = np.flatnonzero(delta >= 0.5)
        keep = keep[np.argsort(-delta[keep], kind="stable")]
        table = curves.cells.iloc[keep][["region", "channel", "objective"]].reset_index(drop=True)
        table["amount"] = delta[keep]
        tables[name] = table
        change = sign * (curves.revenue(moved).sum(axis=1) - base)
        revenue.append([change.mean(), np.quantile(change, low), np.quantile(change, high), change.mean() / step, ""])
    frame = pd.DataFrame(
        revenue,
        index=pd.Index(["add", "cut"], name="direction"),
        columns=["revenue_period_change", "revenue_period_change_low", "revenue_period_change_high", "mroi", "status"],
    )
    interval = interval_label(INTERVAL_PROB, INTERVAL_KIND)
    frame.attrs["interval"] = interval
    return Ladder(float(step), tables["add"], tables["cut"], frame, interval)
