"""Shadow prices: what each binding policy rule costs in expected revenue, in words and numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.bounds import CellBounds
from optimizer.infeasibility import GroupRule

COLUMNS = ["rule", "binding", "shadow_price", "description"]


def shadow_prices(
    duals: dict[str, np.ndarray | float],
    cells: pd.DataFrame,
    bounds: CellBounds,
    groups: list[GroupRule],
    budget: float,
    spend_all: bool,
    tol: float = 1e-6,
) -> pd.DataFrame:
    """Tabulate the duals of the budget, share and cell-bound rules.

    ``shadow_price`` is expected revenue per unit of spend: the gain from relaxing the rule by one unit.
    The budget row is always present; other rows only where the rule binds.
    """
    rows = []
    budget_price = float(duals["cap"]) - (float(duals["floor"]) if spend_all else 0.0)
    rows.append(
        (
            "budget",
            bool(abs(budget_price) > tol),
            budget_price,
            f"each extra 1 of budget changes expected revenue by {budget_price:.3f} "
            f"(1% more budget ≈ {budget_price * 0.01 * budget:,.0f})",
        )
    )
    n_obj = sum(g.kind == "objective" for g in groups)
    for key_lo, key_hi, sub in (("obj_lo", "obj_hi", groups[:n_obj]), ("reg_lo", "reg_hi", groups[n_obj:])):
        lo, hi = np.atleast_1d(duals[key_lo]), np.atleast_1d(duals[key_hi])
        for j, g in enumerate(sub):
            net = float(lo[j] - hi[j])  # with a zero band both sides bind; only the net price is unique
            if abs(net) <= tol:
                continue
            side, share = ("floor", g.low) if net > 0 else ("ceiling", g.high)
            way = "below" if net > 0 else "above"
            rows.append(
                (
                    f"{g.kind} share {side}: {g.name}",
                    True,
                    abs(net),
                    f"{g.label()} binds at its {side} {share:.2f}: letting {g.name} go 1 {way} it would add "
                    f"{abs(net):.3f} of expected revenue (1 share point ≈ {abs(net) * 0.01 * budget:,.0f})",
                )
            )
    lower, upper = np.atleast_1d(duals["lower"]), np.atleast_1d(duals["upper"])
    for i in range(len(cells)):
        name = f"{cells.region[i]}/{cells.channel[i]}"
        if upper[i] > tol:
            rows.append(
                (
                    f"cell maximum: {name}",
                    True,
                    float(upper[i]),
                    f"{name} is held at its maximum {bounds.upper[i]:,.0f} ({bounds.upper_reason[i]}): "
                    f"1 more of room would add {upper[i]:.3f} of expected revenue",
                )
            )
        if lower[i] > tol:
            rows.append(
                (
                    f"cell minimum: {name}",
                    True,
                    float(lower[i]),
                    f"{name} is held at its minimum {bounds.lower[i]:,.0f} ({bounds.lower_reason[i]}): "
                    f"1 less would add {lower[i]:.3f} of expected revenue",
                )
            )
    return pd.DataFrame(rows, columns=COLUMNS)
