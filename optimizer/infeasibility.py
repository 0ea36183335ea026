"""Explain infeasible policies in the policy's own words: which rules conflict, and by how much."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from optimizer.bounds import CellBounds
from optimizer.errors import InfeasiblePolicyError
from optimizer.policy import Policy
from optimizer.rules import RuleRow


def _top(cells: pd.DataFrame, values: np.ndarray, reasons: tuple[str, ...], mask: np.ndarray, n: int = 3) -> str:
    idx = [i for i in np.argsort(-values) if mask[i] and values[i] > 0][:n]
    return ", ".join(f"{cells.region[i]}/{cells.channel[i]} {values[i]:,.0f} ({reasons[i]})" for i in idx)


def _missing_groups(cells: pd.DataFrame, policy: Policy, budget: float, spend_all: bool) -> list[str]:
    """Shares the policy sets for an objective or region that no cell belongs to."""
    problems = []
    for kind, shares, tol in (
        ("objective", policy.objective_shares, policy.objective_tolerance),
        ("region", policy.region_shares, policy.region_tolerance),
    ):
        present = set(cells[kind])
        for name, share in shares.items():
            low = max(0.0, share - tol)
            if name not in present and spend_all and low > 0:
                band = f"{share:.2f} ± {tol:.2f}" if tol else f"{share:.2f}"
                problems.append(
                    f"{kind} {name!r} share {band} needs {low * budget:,.0f} but no cell belongs to {kind} {name!r}"
                )
    return problems


def _row_conflict(cells: pd.DataFrame, bounds: CellBounds, budget: float, spend_all: bool, row: RuleRow) -> str | None:
    """A conflict of one rule with the cell bounds, visible from totals alone (share rules of the whole plan)."""
    lo, hi = bounds.lower, bounds.upper
    lo_g, hi_g = lo[row.members].sum(), hi[row.members].sum()
    whole_plan = bool(row.reference.all())
    if row.kind == "share" and not whole_plan:
        return None
    need = row.ratio * budget if row.kind == "share" else row.amount
    of = f" of the budget {budget:,.0f}" if row.kind == "share" else ""
    if row.side == "ceiling" and lo_g > need * (1 + 1e-9) + 1e-9:
        return (
            f"{row.label} allows at most {need:,.0f}{of}, but its cell minimums sum to {lo_g:,.0f} "
            f"(largest: {_top(cells, lo, bounds.lower_reason, row.members)})"
        )
    if row.side == "floor" and (spend_all or row.kind == "amount") and hi_g < need * (1 - 1e-9) - 1e-9:
        if not row.members.any():
            return f"{row.label} needs {need:,.0f}{of} but no cell belongs to it"
        return (
            f"{row.label} needs at least {need:,.0f}{of}, but its cell maximums sum to only {hi_g:,.0f} "
            f"(largest: {_top(cells, hi, bounds.upper_reason, row.members)})"
        )
    return None


def precheck(
    cells: pd.DataFrame, bounds: CellBounds, budget: float, spend_all: bool, rows: list[RuleRow], policy: Policy
) -> None:
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
    problems += _missing_groups(cells, policy, budget, spend_all)
    problems += [p for row in rows if (p := _row_conflict(cells, bounds, budget, spend_all, row)) is not None]
    if problems:
        raise InfeasiblePolicyError("infeasible policy: " + "; ".join(problems))


def diagnose(
    cells: pd.DataFrame, bounds: CellBounds, budget: float, spend_all: bool, rule_rows: list[RuleRow]
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
    for row in rule_rows:
        sign = -1.0 if row.side == "floor" else 1.0
        if row.kind == "share":
            label = f"{row.label} ({row.side} {row.ratio:.2f} × spend of {row.reference_name})"
        else:
            label = f"{row.label} ({row.side} {row.amount:,.0f})"
        add(sign * row.coef, sign * row.amount, label)
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
        "infeasible policy: budget, share, group and cell rules cannot all hold; the smallest fix: " + "; ".join(parts)
    )
