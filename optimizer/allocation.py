"""The result of an allocation: per-cell table, totals, uplift, shadow prices and the solver's certificate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from optimizer.policy import Policy

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
        )
