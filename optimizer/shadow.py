"""Shadow prices: what each binding policy rule costs in expected revenue, in words and numbers."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from optimizer.bounds import CellBounds
from optimizer.rules import RuleRow

COLUMNS = ["rule", "binding", "shadow_price", "description"]


def _rule_rows(rows: list[RuleRow], gains: np.ndarray, spend: np.ndarray, budget: float, tol: float) -> list[tuple]:
    """One row per binding rule: the net gain of its floor and ceiling (with a zero band both bind)."""
    by_rule: dict[str, dict[str, tuple[RuleRow, float]]] = defaultdict(dict)
    for row, gain in zip(rows, gains, strict=True):
        by_rule[row.rule][row.side] = (row, float(gain))
    out = []
    for rule, sides in by_rule.items():
        floor_gain = sides.get("floor", (None, 0.0))[1]
        ceiling_gain = sides.get("ceiling", (None, 0.0))[1]
        net = floor_gain - ceiling_gain
        if abs(net) <= tol:
            continue
        side = "floor" if net > 0 else "ceiling"
        row = sides[side][0]
        price = abs(net)
        way = "below" if side == "floor" else "above"
        if row.kind == "share":
            reference = float(row.reference @ spend)
            point = price * 0.01 * reference
            text = (
                f"{row.label} binds at its {side} {row.ratio:.2f}: letting the group go 1 {way} it would add "
                f"{price:.3f} of expected revenue (1 share point of {row.reference_name} ≈ {point:,.0f})"
            )
            if row.builtin:
                kind, name = rule.split(" share: ", 1)
                label = f"{kind} share {side}: {name}"
            else:
                label = f"{rule} {side}"
        else:
            text = (
                f"{row.label} binds at its {side} {row.amount:,.0f}: letting it go 1 {way} would add {price:.3f} "
                f"of expected revenue"
            )
            label = f"{rule} {side}"
        out.append((label, True, price, text))
    return out


def _cell_rows(cells: pd.DataFrame, bounds: CellBounds, lower: np.ndarray, upper: np.ndarray, tol: float) -> list:
    out = []
    for i in range(len(cells)):
        name = f"{cells.region[i]}/{cells.channel[i]}"
        if upper[i] > tol:
            out.append(
                (
                    f"cell maximum: {name}",
                    True,
                    float(upper[i]),
                    f"{name} is held at its maximum {bounds.upper[i]:,.0f} ({bounds.upper_reason[i]}): "
                    f"1 more of room would add {upper[i]:.3f} of expected revenue",
                )
            )
        if lower[i] > tol:
            out.append(
                (
                    f"cell minimum: {name}",
                    True,
                    float(lower[i]),
                    f"{name} is held at its minimum {bounds.lower[i]:,.0f} ({bounds.lower_reason[i]}): "
                    f"1 less would add {lower[i]:.3f} of expected revenue",
                )
            )
    return out


def shadow_prices(
    duals: dict[str, np.ndarray | float],
    cells: pd.DataFrame,
    bounds: CellBounds,
    rows: list[RuleRow],
    budget: float,
    spend: np.ndarray,
    tol: float = 1e-6,
) -> pd.DataFrame:
    """Tabulate the prices of the budget, the share and group rules and the cell bounds.

    ``duals`` holds gains per unit of relaxing each rule: ``budget`` (per unit more budget), ``rows`` (per rule
    row, >= 0), ``lower`` and ``upper`` (per cell). ``shadow_price`` is expected revenue per unit of spend: the gain
    from relaxing the rule by one unit. The budget row is always present; other rows only where the rule binds.
    """
    budget_price = float(duals["budget"])
    out = [
        (
            "budget",
            bool(abs(budget_price) > tol),
            budget_price,
            f"each extra 1 of budget changes expected revenue by {budget_price:.3f} "
            f"(1% more budget ≈ {budget_price * 0.01 * budget:,.0f})",
        )
    ]
    out += _rule_rows(rows, np.asarray(duals["rows"], dtype=float), spend, budget, tol)
    out += _cell_rows(cells, bounds, np.atleast_1d(duals["lower"]), np.atleast_1d(duals["upper"]), tol)
    return pd.DataFrame(out, columns=COLUMNS)
