"""What a run writes: ``allocation.csv`` (whole currency, exact totals, stable columns and order) and ``plan.json``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer import Allocation, RoundedPlan
from optimizer.summary import TABLE_COLUMNS

#: Columns of ``allocation.csv``, in this order (the plan's own table columns); rows sorted by region, then channel.
ALLOCATION_COLUMNS = list(TABLE_COLUMNS)
_AMOUNTS = ("spend_period_current", "spend_period", "spend_period_change")
_REVENUE = ("revenue_period", "revenue_period_low", "revenue_period_high")


def _decimals(unit: float) -> int:
    """Digits after the point that a multiple of ``unit`` needs (1 → 0, 0.01 → 2, 1000 → 0)."""
    return max(0, -math.floor(math.log10(unit) + 1e-9)) if unit < 1 else 0


def allocation_table(plan: Allocation, rounded: RoundedPlan) -> pd.DataFrame:
    """The plan per cell in whole multiples of the rounding unit: spend from the rounded plan (its total is the
    budget exactly), current spend and revenue rounded half-even to the unit; ROIs as computed."""
    unit = rounded.unit
    table = plan.table.copy()
    table["spend_period"] = rounded.spend
    table["spend_period_current"] = _round(table["spend_period_current"].to_numpy(), unit)
    table["spend_period_change"] = table["spend_period"] - table["spend_period_current"]
    for column in _REVENUE:
        table[column] = _round(table[column].to_numpy(), unit)
    table = table.sort_values(["region", "channel"], kind="stable").reset_index(drop=True)
    return table[ALLOCATION_COLUMNS]


def _round(values: np.ndarray, unit: float) -> np.ndarray:
    digits = _decimals(unit)
    return np.round(np.round(values / unit) * unit, digits)


def write_allocation(table: pd.DataFrame, path: Path, unit: float) -> Path:
    """CSV with fixed number formats (amounts to the unit, ratios to 6 decimals), so equal plans are equal bytes."""
    digits = _decimals(unit)
    out = table.copy()
    for column in (*_AMOUNTS, *_REVENUE):
        out[column] = [f"{v:.{digits}f}" for v in out[column].to_numpy(dtype=float)]
    for column in ("roi", "mroi"):
        out[column] = [f"{v:.6f}" for v in out[column].to_numpy(dtype=float)]
    for column in ("mroi_below_hurdle", "flag"):
        out[column] = np.where(out[column].to_numpy(dtype=bool), "true", "false")
    out.to_csv(path, index=False, lineterminator="\n")
    return path


def _finite(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def headline(plan: Allocation, rounded: RoundedPlan, table: pd.DataFrame) -> dict:
    """The plan's headline figures, rules, prices and flags, JSON-ready (the ``plan.json`` body and the store's)."""
    uplift = plan.uplift
    revenue = plan.table[["revenue_period", "revenue_period_low", "revenue_period_high"]].sum()
    flagged = table[table["flag"]]
    return {
        "currency": plan.currency,
        "period_weeks": plan.period_weeks,
        "interval": plan.interval,
        "budget": _finite(plan.budget),
        "spent": float(rounded.total),
        "rounding_unit": float(rounded.unit),
        "rounding_optimal": bool(rounded.optimal),
        "spend_period_current": float(table["spend_period_current"].sum()),
        "revenue_period": _finite(revenue["revenue_period"]),
        "revenue_period_change": _finite(uplift["revenue_period_change"]),
        "revenue_period_change_low": _finite(uplift["revenue_period_change_low"]),
        "revenue_period_change_high": _finite(uplift["revenue_period_change_high"]),
        "mroi": _finite(plan.mroi),
        "roi_hurdle": float(plan.policy.roi_hurdle),
        "notes": plan.notes(),
        "solver": {"status": plan.status, "name": plan.solver, "optimality_gap": _finite(plan.optimality_gap)},
        "shadow_prices": [
            {"rule": r.rule, "binding": bool(r.binding), "shadow_price": _finite(r.shadow_price), "text": r.description}
            for r in plan.shadow_prices.itertuples()
        ],
        "rounding": [
            {"rule": r.rule, "held": bool(r.held), "note": r.note}
            for r in rounded.rules.itertuples()
            if not r.held or r.note
        ],
        "flags": [{"region": r.region, "channel": r.channel, "reason": r.flag_reason} for r in flagged.itertuples()],
        "by_objective": _totals(plan.by_objective),
        "by_region": _totals(plan.by_region),
        "policy_fingerprint": plan.policy.fingerprint(),
    }


def _totals(frame: pd.DataFrame) -> dict:
    return {
        str(name): {k: _finite(v) for k, v in row.items()}
        for name, row in frame[["spend_period", "share", "target_share", "revenue_period"]].iterrows()
    }


def write_json(record: dict, path: Path) -> Path:
    path.write_text(json.dumps(record, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    return path
