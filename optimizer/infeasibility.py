"""Explain infeasible policies in the policy's own words: which rules conflict, and by how much."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from optimizer.bounds import CellBounds
from optimizer.errors import InfeasiblePolicyError


@dataclass(frozen=True, eq=False)
class GroupRule:
    """A share rule for one group of cells (an objective or a region)."""

    kind: str  # "objective" or "region"
    name: str
    share: float
    tolerance: float
    members: np.ndarray  # boolean mask over cells

    @property
    def low(self) -> float:
        return max(0.0, self.share - self.tolerance)

    @property
    def high(self) -> float:
        return min(1.0, self.share + self.tolerance)

    def label(self) -> str:
        band = f"{self.share:.2f} ± {self.tolerance:.2f}" if self.tolerance else f"{self.share:.2f}"
        return f"{self.kind} {self.name!r} share {band}"


def _top(cells: pd.DataFrame, values: np.ndarray, reasons: tuple[str, ...], mask: np.ndarray, n: int = 3) -> str:
    idx = [i for i in np.argsort(-values) if mask[i] and values[i] > 0][:n]
    return ", ".join(f"{cells.region[i]}/{cells.channel[i]} {values[i]:,.0f} ({reasons[i]})" for i in idx)


def precheck(cells: pd.DataFrame, bounds: CellBounds, budget: float, spend_all: bool, groups: list[GroupRule]) -> None:
    """Raise :class:`InfeasiblePolicyError` for conflicts visible from totals alone."""
    lo, hi = bounds.lower, bounds.upper
    everyone = np.ones(len(cells), dtype=bool)
    problems: list[str] = []
    if lo.sum() > budget * (1 + 1e-9):
        problems.append(
            f"cell minimums sum to {lo.sum():,.0f}, more than the budget {budget:,.0f} "
            f"(largest: {_top(cells, lo, bounds.lower_reason, everyone)})"
        )
    if spend_all and hi.sum() < budget * (1 - 1e-9):
        problems.append(
            f"mode 'spend_all' must spend the budget {budget:,.0f} but cell maximums sum to only {hi.sum():,.0f} "
            f"(largest: {_top(cells, hi, bounds.upper_reason, everyone)})"
        )
    for g in groups:
        lo_g, hi_g = lo[g.members].sum(), hi[g.members].sum()
        if not g.members.any() and spend_all and g.low > 0:
            problems.append(f"{g.label()} needs {g.low * budget:,.0f} but no cell belongs to {g.kind} {g.name!r}")
        elif lo_g > g.high * budget * (1 + 1e-9):
            problems.append(
                f"{g.label()} allows at most {g.high * budget:,.0f} of the budget {budget:,.0f}, but its cell "
                f"minimums sum to {lo_g:,.0f} (largest: {_top(cells, lo, bounds.lower_reason, g.members)})"
            )
        elif spend_all and hi_g < g.low * budget * (1 - 1e-9):
            problems.append(
                f"{g.label()} needs at least {g.low * budget:,.0f} of the budget {budget:,.0f}, but its cell "
                f"maximums sum to only {hi_g:,.0f} (largest: {_top(cells, hi, bounds.upper_reason, g.members)})"
            )
    if problems:
        raise InfeasiblePolicyError("infeasible policy: " + "; ".join(problems))


def diagnose(
    cells: pd.DataFrame, bounds: CellBounds, budget: float, spend_all: bool, groups: list[GroupRule]
) -> InfeasiblePolicyError:
    """Find the smallest violations that make the rules jointly feasible (an elastic LP) and name them.

    Each rule gets a nonnegative slack; the LP minimises total slack. Rules whose slack is positive are the
    ones in conflict, and the slack is the amount by which they would have to give.
    """
    n = len(cells)
    rows, rhs, labels = [], [], []

    def add(coef: np.ndarray, bound: float, label: str) -> None:  # coef @ x <= bound (+ slack)
        rows.append(coef)
        rhs.append(bound)
        labels.append(label)

    ones = np.ones(n)
    add(ones, budget, f"budget {budget:,.0f} (maximum)")
    if spend_all:
        add(-ones, -budget, f"spend_all: spend exactly the budget {budget:,.0f}")
    for g in groups:
        m = g.members.astype(float)
        add(g.low * ones - m, 0.0, f"{g.label()} (floor {g.low:.2f} × spend)")
        add(m - g.high * ones, 0.0, f"{g.label()} (ceiling {g.high:.2f} × spend)")
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        add(-e, -bounds.lower[i], f"{cells.region[i]}/{cells.channel[i]} minimum ({bounds.lower_reason[i]})")
        add(e, bounds.upper[i], f"{cells.region[i]}/{cells.channel[i]} maximum ({bounds.upper_reason[i]})")
    a = np.asarray(rows)
    m = len(rows)
    a_ub = np.hstack([a, -np.eye(m)])
    cost = np.concatenate([np.zeros(n), np.ones(m)])
    res = linprog(cost, A_ub=a_ub, b_ub=np.asarray(rhs), bounds=[(0, None)] * (n + m), method="highs")
    if res.status != 0:  # pragma: no cover - the elastic LP is always feasible
        return InfeasiblePolicyError(f"infeasible policy (diagnosis failed: {res.message})")
    slack = res.x[n:]
    tol = 1e-7 * max(budget, 1.0)
    parts = [f"{labels[j]} would have to give {slack[j]:,.0f}" for j in np.argsort(-slack) if slack[j] > tol]
    if not parts:
        return InfeasiblePolicyError("infeasible policy: the rules conflict only within numerical tolerance")
    return InfeasiblePolicyError(
        "infeasible policy: budget, share and cell rules cannot all hold; the smallest fix: " + "; ".join(parts)
    )
