"""What changed between two stored runs: data, rules, the plan, and the revenue it expects.

Pure: takes two :class:`planner.store.RunRecord` and returns a :class:`Comparison`; ``Comparison.text()`` says it in
plain lines for a terminal or an e-mail.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from planner.store import RunRecord

__all__ = ["Comparison", "InputChanges", "RevenueChange", "compare_runs"]

_MISSING = object()
_CELL = ["region", "channel"]


@dataclass(frozen=True)
class InputChanges:
    """Input tables by content hash: names only in the newer run, only in the older one, and with a new hash."""

    added: list[str]
    removed: list[str]
    changed: list[str]

    @property
    def any(self) -> bool:
        """Whether any input table differs."""
        return bool(self.added or self.removed or self.changed)


@dataclass(frozen=True)
class RevenueChange:
    """One revenue figure (expected, low or high end of the interval) before, after and the difference."""

    name: str
    before: float | None
    after: float | None

    @property
    def difference(self) -> float | None:
        """``after - before``, or None when either is unknown."""
        if self.before is None or self.after is None:
            return None
        return self.after - self.before


@dataclass(frozen=True, eq=False)
class Comparison:
    """Run ``a`` (before) against run ``b`` (after).

    Attributes
    ----------
    inputs : InputChanges
        Input tables added, removed or changed (by hash).
    policy : list of (key, before, after)
        Every policy setting that differs; nested keys are dotted (``"hurdle.roi"``); a missing side is None.
    cells : pandas.DataFrame
        Per region/channel: ``spend_period_before``, ``spend_period_after``, ``spend_period_change`` (a cell
        absent from one run counts as 0 spend there).
    by_region, by_objective : pandas.DataFrame
        The same spend columns summed by region and by objective.
    revenue : list of RevenueChange
        ``revenue_period``, ``revenue_period_low`` and ``revenue_period_high`` from the two headlines.
    """

    run_a: str
    run_b: str
    inputs: InputChanges
    policy: list[tuple[str, Any, Any]]
    cells: pd.DataFrame
    by_region: pd.DataFrame
    by_objective: pd.DataFrame
    revenue: list[RevenueChange]

    def text(self) -> str:
        """The comparison in plain words, one fact per line."""
        lines = [f"Run {self.run_b} compared with run {self.run_a}:"]
        lines += self._input_lines() + self._policy_lines() + self._revenue_lines() + self._spend_lines()
        return "\n".join(lines)

    def _input_lines(self) -> list[str]:
        if not self.inputs.any:
            return ["Input data: the same tables with the same contents."]
        lines = ["Input data:"]
        for label, names in (("added", self.inputs.added), ("removed", self.inputs.removed)):
            lines += [f"  table {name} {label}" for name in names]
        lines += [f"  table {name} changed (new contents)" for name in self.inputs.changed]
        return lines

    def _policy_lines(self) -> list[str]:
        if not self.policy:
            return ["Policy: unchanged."]
        return ["Policy:"] + [f"  {key}: {_show(before)} -> {_show(after)}" for key, before, after in self.policy]

    def _revenue_lines(self) -> list[str]:
        figures = {r.name: r for r in self.revenue}
        mean = figures["revenue_period"]
        if mean.before is None or mean.after is None:
            return ["Expected revenue: not known for both runs."]
        low, high = figures["revenue_period_low"], figures["revenue_period_high"]
        line = f"Expected revenue: {_money(mean.before)}{_interval(low.before, high.before)} -> "
        line += f"{_money(mean.after)}{_interval(low.after, high.after)}, a change of {_signed(mean.difference)}"
        if mean.before:
            line += f" ({mean.difference / abs(mean.before):+.1%})"
        return [line + "."]

    def _spend_lines(self) -> list[str]:
        lines = []
        for title, frame, key in (("region", self.by_region, "region"), ("objective", self.by_objective, "objective")):
            if frame.empty:
                continue
            lines.append(f"Spend by {title}:")
            for row in frame.itertuples(index=False):
                before, after = row.spend_period_before, row.spend_period_after
                lines.append(f"  {getattr(row, key)}: {_money(before)} -> {_money(after)} ({_signed(after - before)})")
        moved = self.cells[self.cells["spend_period_change"].abs() > 0.5]
        if self.cells.empty:
            return lines
        if moved.empty:
            return [*lines, "No cell's spend changed."]
        moved = moved.reindex(moved["spend_period_change"].abs().sort_values(ascending=False).index)
        lines.append(f"Cells whose spend changed ({len(moved)} of {len(self.cells)}, largest first):")
        for row in moved.head(10).itertuples(index=False):
            lines.append(
                f"  {row.region} / {row.channel}: {_money(row.spend_period_before)} -> "
                f"{_money(row.spend_period_after)} ({_signed(row.spend_period_change)})"
            )
        if len(moved) > 10:
            lines.append(f"  ... and {len(moved) - 10} more")
        return lines


def compare_runs(a: RunRecord, b: RunRecord) -> Comparison:
    """Compare run ``a`` (before) with run ``b`` (after).

    Parameters
    ----------
    a, b : RunRecord
        Two stored runs, e.g. ``store.get(id1)`` and ``store.get(id2)``.

    Returns
    -------
    Comparison
        Input, policy, spend and revenue differences; ``.text()`` for words.
    """
    cells = _cell_changes(a.allocation, b.allocation)
    return Comparison(
        run_a=a.run_id,
        run_b=b.run_id,
        inputs=_input_changes(a.input_hashes, b.input_hashes),
        policy=_dict_diff(a.config.get("policy") or {}, b.config.get("policy") or {}),
        cells=cells,
        by_region=_totals(cells, "region"),
        by_objective=_totals(cells, "objective"),
        revenue=[
            RevenueChange(name, _number(a.headline.get(name)), _number(b.headline.get(name)))
            for name in ("revenue_period", "revenue_period_low", "revenue_period_high")
        ],
    )


def _input_changes(before: Mapping[str, str], after: Mapping[str, str]) -> InputChanges:
    return InputChanges(
        added=sorted(set(after) - set(before)),
        removed=sorted(set(before) - set(after)),
        changed=sorted(name for name in set(before) & set(after) if before[name] != after[name]),
    )


def _dict_diff(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """Differences key by key; nested mappings are walked, with dotted keys."""
    changes: list[tuple[str, Any, Any]] = []
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key, _MISSING), after.get(key, _MISSING)
        name = f"{prefix}{key}"
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            changes += _dict_diff(old, new, prefix=f"{name}.")
        elif old != new:
            changes.append((name, None if old is _MISSING else old, None if new is _MISSING else new))
    return changes


def _cell_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    def spend(frame: pd.DataFrame, suffix: str) -> pd.DataFrame:
        columns = [c for c in [*_CELL, "objective", "spend_period"] if c in frame.columns]
        part = frame[columns].rename(columns={"spend_period": f"spend_period_{suffix}", "objective": f"obj_{suffix}"})
        if f"spend_period_{suffix}" not in part:
            part[f"spend_period_{suffix}"] = 0.0
        return part

    if before.empty and after.empty:
        columns = [*_CELL, "objective", "spend_period_before", "spend_period_after", "spend_period_change"]
        return pd.DataFrame(columns=columns)
    merged = pd.merge(spend(before, "before"), spend(after, "after"), on=_CELL, how="outer", sort=False)
    for side in ("before", "after"):
        merged[f"spend_period_{side}"] = merged[f"spend_period_{side}"].astype(float).fillna(0.0)
    objective = merged.get("obj_after", pd.Series(index=merged.index, dtype=object))
    if "obj_before" in merged:
        objective = objective.fillna(merged["obj_before"]) if objective is not None else merged["obj_before"]
    merged["objective"] = objective.astype(object).where(objective.notna(), "(none)")
    merged["spend_period_change"] = merged["spend_period_after"] - merged["spend_period_before"]
    columns = [*_CELL, "objective", "spend_period_before", "spend_period_after", "spend_period_change"]
    return merged[columns].reset_index(drop=True)


def _totals(cells: pd.DataFrame, by: str) -> pd.DataFrame:
    columns = ["spend_period_before", "spend_period_after", "spend_period_change"]
    if cells.empty:
        return pd.DataFrame(columns=[by, *columns])
    return cells.groupby(by, sort=True, as_index=False)[columns].sum()


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _money(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.0f}"


def _signed(value: float | None) -> str:
    return "unknown" if value is None else f"{value:+,.0f}"


def _interval(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f" [{_money(low)} to {_money(high)}]"


def _show(value: Any) -> str:
    return "(not set)" if value is None else repr(value)
