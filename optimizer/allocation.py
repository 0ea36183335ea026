"""The result of an allocation: per-cell table, totals, uplift, shadow prices and the solver's certificate."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from optimizer.bounds import cell_bounds
from optimizer.policy import Policy
from optimizer.rounding import RoundedPlan, round_plan
from optimizer.rules import policy_rows, row_matrix
from optimizer.weekly import weekly_plan

if TYPE_CHECKING:  # pragma: no cover
    from optimizer.scenarios import HurdleBudget, Ladder

#: Files of a saved allocation: the tables (Parquet), the scalars and uplift (JSON), the policy (TOML).
_TABLES = ("table", "by_objective", "by_region", "shadow_prices")
_SCALARS = ("status", "solver", "optimality_gap", "objective_value", "budget", "spent", "unspent")
_JSON, _POLICY = "allocation.json", "policy.toml"
_FORMAT, _VERSION = "growth-allocator allocation", 1


@dataclass(frozen=True, eq=False)
class Allocation:
    """A recommended allocation for one planning period.

    Words as in ``docs/vocabulary.md``: ``spend_period`` is spend over the planning period, ``revenue_period``
    the expected incremental revenue over it (posterior mean), ``roi`` and ``mroi`` posterior means.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per cell: ``region``, ``channel``, ``objective``, ``spend_period_current``, ``spend_period`` (the
        plan), ``spend_period_change`` (plan − current), ``revenue_period``, ``revenue_period_low``,
        ``revenue_period_high``, ``roi`` and ``mroi`` (at the recommended spend), ``flag``, ``flag_reason`` (the
        plan's flag at the recommended spend; its text cites a labelled HDI). ``table.attrs["interval"]`` is
        :attr:`interval`.
    by_objective, by_region : pandas.DataFrame
        Totals per objective / region (the index): ``spend_period``, ``share``, ``target_share``,
        ``spend_period_current``, ``revenue_period``.
    uplift : pandas.Series
        Expected revenue of the plan minus that of current spend over the period: ``revenue_period_change``,
        ``revenue_period_change_low``, ``revenue_period_change_high``. ``uplift.attrs["interval"]`` is
        :attr:`interval`.
    shadow_prices : pandas.DataFrame
        ``rule``, ``binding``, ``shadow_price`` (expected revenue per unit of spend), ``description``.
    status, solver : str
        Solver status (``optimal`` or ``optimal_inaccurate``) and solver name.
    optimality_gap : float
        Relative gap between the solver's bound for the convex program and its objective at the plan.
    objective_value : float
        Objective at the plan (expected revenue, minus hurdle cost and risk term where set).
    budget, spent, unspent : float
        The period budget, the amount allocated and the amount returned (``hurdle`` mode).
    policy : Policy
        The policy that produced this allocation.
    period_weeks : int
        Length of the planning period in weeks (from the response curves).
    currency : str or None
        Currency of spend and revenue (from the response curves; ``None`` when they do not say).
    interval : str
        Kind and mass of every ``_low``/``_high`` bound of this result, e.g. ``"90% equal-tailed"``.
    mroi : float
        The plan's marginal ROI: extra expected revenue per extra unit of budget, the plan re-optimised (the
        budget's shadow price; under CVaR, of the risk-adjusted objective).
    allocator : Allocator or None
        The :class:`~optimizer.Allocator` that made the plan (re-solves for :meth:`ladder` and :meth:`notes`);
        ``None`` for a plan read by :meth:`load`.
    """

    table: pd.DataFrame
    by_objective: pd.DataFrame
    by_region: pd.DataFrame
    uplift: pd.Series
    shadow_prices: pd.DataFrame
    status: str
    solver: str
    optimality_gap: float
    objective_value: float
    budget: float
    spent: float
    unspent: float
    policy: Policy
    period_weeks: int
    currency: str | None
    interval: str
    mroi: float = float("nan")
    saved_notes: tuple[str, ...] | None = field(default=None, repr=False)
    allocator: Any = field(default=None, repr=False, compare=False)

    def save(self, directory: str | Path) -> Path:
        """Write the allocation to ``directory``: Parquet tables, JSON scalars and uplift, the policy as TOML.

        Files: ``table.parquet``, ``by_objective.parquet``, ``by_region.parquet``, ``shadow_prices.parquet``,
        ``allocation.json`` (scalars, uplift, period, currency, interval, the policy's fingerprint) and
        ``policy.toml``. No pickle: any Parquet/JSON/TOML reader opens them. Files of an earlier save are replaced.

        Returns
        -------
        pathlib.Path
            The directory.

        Examples
        --------
        >>> plan.save(".out/q1-plan")  # doctest: +SKIP
        >>> Allocation.load(".out/q1-plan").table.equals(plan.table)  # doctest: +SKIP
        True
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for name in _TABLES:
            getattr(self, name).to_parquet(folder / f"{name}.parquet")
        record = {
            "format": _FORMAT,
            "version": _VERSION,
            **{name: getattr(self, name) for name in _SCALARS},
            "period_weeks": self.period_weeks,
            "currency": self.currency,
            "interval": self.interval,
            "uplift": {str(k): float(v) for k, v in self.uplift.items()},
            "mroi": None if np.isnan(self.mroi) else float(self.mroi),
            "notes": self.notes(),
            "policy_fingerprint": self.policy.fingerprint(),
        }
        (folder / _JSON).write_text(json.dumps(record, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        (folder / _POLICY).write_text(self.policy.to_toml(), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, directory: str | Path) -> Allocation:
        """Read an allocation written by :meth:`save`.

        Raises
        ------
        FileNotFoundError
            A file of the saved allocation is missing (the message lists which).
        ValueError
            ``allocation.json`` is not a saved allocation of a known version, or ``policy.toml`` was changed after
            the save (its fingerprint no longer matches the one recorded with the plan).
        """
        folder = Path(directory)
        missing = [n for n in (*(f"{t}.parquet" for t in _TABLES), _JSON, _POLICY) if not (folder / n).is_file()]
        if missing:
            raise FileNotFoundError(f"{folder} is not a saved allocation: missing {missing}")
        record = json.loads((folder / _JSON).read_text(encoding="utf-8"))
        if record.get("format") != _FORMAT or record.get("version") != _VERSION:
            raise ValueError(
                f"{folder / _JSON}: expected format {_FORMAT!r} version {_VERSION}; "
                f"got {record.get('format')!r} version {record.get('version')!r}"
            )
        policy = Policy.from_toml(folder / _POLICY)
        if policy.fingerprint() != record["policy_fingerprint"]:
            raise ValueError(
                f"{folder / _POLICY} does not match the policy this plan was made with (fingerprint "
                f"{policy.fingerprint()[:12]}… vs recorded {record['policy_fingerprint'][:12]}…); it was changed "
                "after the save"
            )
        tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in _TABLES}
        interval = record["interval"]
        uplift = pd.Series(record["uplift"], name="uplift", dtype=float)
        tables["table"].attrs = {"interval": interval}
        uplift.attrs = {"interval": interval}
        for name in ("by_objective", "by_region", "shadow_prices"):
            tables[name].attrs = {}
        return cls(
            **tables,
            uplift=uplift,
            **{name: record[name] for name in _SCALARS},
            policy=policy,
            period_weeks=int(record["period_weeks"]),
            currency=record["currency"],
            interval=interval,
            mroi=float("nan") if record.get("mroi") is None else float(record["mroi"]),
            saved_notes=tuple(record.get("notes", ())),
        )

    # ------------------------------------------------------------------ scenarios and presentation
    def _need_allocator(self, what: str) -> Any:
        if self.allocator is None:
            raise ValueError(f"{what} re-solves the plan: it needs the Allocator that made it (a loaded plan has none)")
        return self.allocator

    def hurdle_budget(self) -> HurdleBudget:
        """The budget at which the plan's marginal ROI falls to the policy's hurdle (re-solves; cached)."""
        from optimizer.scenarios import hurdle_budget

        cache = self.__dict__.setdefault("_cache", {})
        if "hurdle" not in cache:
            cache["hurdle"] = hurdle_budget(self._need_allocator("hurdle_budget()"), self.policy)
        return cache["hurdle"]

    def notes(self) -> list[str]:
        """What holds for the plan as a whole, said once: the plan's marginal ROI against the hurdle (with the
        budget at which they meet), the count of flagged cells, money returned in ``hurdle`` mode."""
        if self.saved_notes is not None:
            return list(self.saved_notes)
        hurdle = self.policy.roi_hurdle
        out = []
        if self.policy.mode == "spend_all" and np.isfinite(self.mroi) and self.mroi < hurdle:
            text = (
                f"the plan's marginal ROI is {self.mroi:.2f}, below the hurdle {hurdle:g}: at this budget each extra "
                f"unit returns less than {hurdle:g}, so funded cells' marginal ROIs sit near it too (mroi_below_hurdle)"
            )
            if self.allocator is not None:
                text += "; " + self.hurdle_budget().statement
            out.append(text)
        flagged = int(self.table["flag"].sum())
        if flagged:
            out.append(
                f"{flagged} of {len(self.table)} cells are flagged: ROI probably below {hurdle:g} at the recommended "
                "spend, or funded below their activation level (flag_reason)"
            )
        if self.policy.mode == "hurdle" and self.unspent > 0.5:
            out.append(
                f"{self.unspent:,.0f} of the budget is returned: no cell's marginal ROI reaches {hurdle:g} there"
            )
        return out

    def ladder(self, step: float) -> Ladder:
        """Where the next ``step`` of budget goes and which ``step`` to cut first, with the revenue at stake
        (re-solved at budget ± step, see :class:`optimizer.scenarios.Ladder`)."""
        from optimizer.scenarios import ladder

        spend = self.table["spend_period"].to_numpy(dtype=float)
        return ladder(self._need_allocator("ladder()"), self.policy, spend, float(step))

    def rounded(self, unit: float = 1.0) -> RoundedPlan:
        """The plan in whole multiples of ``unit`` (1 = whole currency, 0.01 = cents) with exact totals; the
        rounding's effect on every rule is in the result's ``rules`` (a rule the plan meets with room stays met)."""
        cells = self.table[["region", "channel", "objective"]].reset_index(drop=True)
        current = self.table["spend_period_current"].to_numpy(dtype=float)
        bounds = cell_bounds(cells, self.policy, current, self.budget)
        rows = policy_rows(cells, self.policy)
        a, low, high = row_matrix(rows, len(cells))
        labels = [r.label + f" ({r.side})" for r in rows]
        total = self.budget if self.policy.mode == "spend_all" else None
        spend = self.table["spend_period"].to_numpy(dtype=float)
        return round_plan(spend, bounds.lower, bounds.upper, a, low, high, labels, unit=unit, total=total)

    def weekly(
        self,
        start: object,
        weeks: int | None = None,
        profile: object = "flat",
        *,
        history: pd.DataFrame | None = None,
        month_budgets: object = None,
        unit: float = 1.0,
    ) -> pd.DataFrame:
        """Week × cell amounts that add up exactly, to the unit, to each cell's (rounded) period amount and, when
        ``month_budgets`` are given, to each month's total (:func:`optimizer.weekly.weekly_plan`).

        ``weeks`` defaults to the plan's ``period_weeks``; ``profile`` is ``"flat"``, ``"last_year"`` (needs
        ``history``, the spend table) or a DataFrame of weights.
        """
        amounts = self.rounded(unit).spend
        cells = self.table[["region", "channel", "objective"]].reset_index(drop=True)
        return weekly_plan(
            cells,
            amounts,
            start,
            self.period_weeks if weeks is None else weeks,
            profile,
            history=history,
            month_budgets=month_budgets,
            unit=unit,
        )
