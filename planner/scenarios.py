"""Planner scenarios: a policy tried in the app, saved in the run store, compared with others, promoted to a run.

A scenario is the run config with the scenario's :class:`optimizer.Policy` inline, plus the plan it gave (headline
and allocation, as a run writes them). Promoting one runs the quarterly plan on that config (:func:`run_plan`), so
the plan finance approves is a recorded run with its own gate, hashes and report, not the app's copy of it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from planner.config import PlanConfig, PolicyConfig, load_config_text

if TYPE_CHECKING:
    from optimizer import Policy
    from planner.run import PlanRun
    from planner.store import ScenarioRecord

_REVENUE = ["revenue_period", "revenue_period_low", "revenue_period_high"]
_UPLIFT = ["revenue_period_change", "revenue_period_change_low", "revenue_period_change_high"]


def scenario_config(base: PlanConfig, policy: Policy) -> PlanConfig:
    """``base`` with ``policy`` inline as its ``[policy]`` (every rule written, the budget fixed).

    Examples
    --------
    >>> from planner.config import load_config
    >>> from optimizer import Policy
    >>> cfg = scenario_config(load_config("plans/example.toml"), Policy(budget=1e6))  # doctest: +SKIP
    >>> cfg.policy.rules["budget"]  # doctest: +SKIP
    1000000.0
    """
    rules = tomllib.loads(policy.to_toml())
    section = PolicyConfig.model_validate({"file": None, "budget_from": base.policy.budget_from, "rules": rules})
    return base.model_copy(update={"policy": section})


def load_scenario_config(record: ScenarioRecord) -> PlanConfig:
    """The run config a saved scenario was made with (its paths are absolute)."""
    return load_config_text(record.config_toml, Path.cwd())


@dataclass(frozen=True, eq=False)
class ScenarioComparison:
    """Scenarios side by side; the first is the reference of every delta.

    Attributes
    ----------
    names : list of str
    allocation : pandas.DataFrame
        ``region``, ``channel``, ``objective``, one planned-spend column per scenario (named by the scenario) and
        ``delta: <name>`` for each other scenario against the first.
    revenue : pandas.DataFrame
        One row per scenario: ``scenario``, ``budget``, ``revenue_period`` (+``_low``/``_high``),
        ``revenue_period_change`` (+``_low``/``_high``, uplift against the current split), ``mroi``, and
        ``revenue_period_delta`` (expected revenue against the first scenario's).
    rules : pandas.DataFrame
        ``setting`` and one column per scenario: budget, hurdle, risk, the objective and region shares and the
        number of locks, cell rules and group rules, as the policies state them.
    """

    names: list[str]
    allocation: pd.DataFrame
    revenue: pd.DataFrame
    rules: pd.DataFrame


def compare_scenarios(records: Sequence[ScenarioRecord]) -> ScenarioComparison:
    """Put two or more saved scenarios side by side (allocation, revenue with intervals, rules).

    Raises
    ------
    ValueError
        Fewer than two scenarios, or scenarios over different cells.
    """
    if len(records) < 2:
        raise ValueError(f"compare at least two scenarios; got {len(records)}")
    names = [r.name for r in records]
    keys = ["region", "channel", "objective"]
    merged = None
    for record in records:
        part = record.allocation[[*keys, "spend_period"]].rename(columns={"spend_period": record.name})
        merged = part if merged is None else merged.merge(part, on=keys, how="outer")
    if merged[names].isna().any().any():
        raise ValueError("the scenarios plan different cells (different data?); compare scenarios of one dataset")
    for name in names[1:]:
        merged[f"delta: {name}"] = merged[name] - merged[names[0]]
    revenue = pd.DataFrame(
        [
            {
                "scenario": r.name,
                "budget": r.headline.get("budget"),
                **{k: r.headline.get(k) for k in (*_REVENUE, *_UPLIFT, "mroi")},
            }
            for r in records
        ]
    )
    revenue["revenue_period_delta"] = revenue["revenue_period"] - revenue["revenue_period"].iloc[0]
    rules = pd.DataFrame({"setting": list(_settings(_policy(records[0])))})
    for record in records:
        rules[record.name] = list(_settings(_policy(record)).values())
    return ScenarioComparison(
        names=names, allocation=merged.sort_values(keys[:2]).reset_index(drop=True), revenue=revenue, rules=rules
    )


def _policy(record: ScenarioRecord) -> Policy:
    from optimizer import Policy

    return Policy.from_toml_text(record.policy_toml)


def _settings(policy: Policy) -> dict[str, str]:
    risk = policy.risk
    risk_text = "mean" if risk.kind == "mean" else f"mean − {risk.lam:g} × CVaR at α {risk.alpha:g}"
    shares = ", ".join(f"{k} {v:.0%}" for k, v in policy.objective_shares.items())
    regions = ", ".join(f"{k} {v:.0%}" for k, v in policy.region_shares.items())
    return {
        "budget": f"{policy.budget_amount:,.0f}",
        "ROI hurdle": f"{policy.roi_hurdle:g}",
        "risk": risk_text,
        "objective shares": f"{shares} (± {policy.objective_tolerance:.0%})",
        "region shares": f"{regions} (± {policy.region_tolerance:.0%})",
        "locked cells": str(len(policy.locked)),
        "cell rules": str(len(policy.cell_rules)),
        "group rules": ", ".join(g.name for g in policy.group_rules) or "none",
    }


def promote_scenario(store_url: str, scenario_id: str, *, out: str | Path) -> PlanRun:
    """Run the quarterly plan on a saved scenario's config (recorded in ``store_url``, folder under ``out``) and
    mark the scenario as promoted to that run; finance approves the run as any other."""
    from planner.run import run_plan
    from planner.store import RunStore

    store = RunStore(store_url)
    record = store.get_scenario(scenario_id)
    run = run_plan(load_scenario_config(record), out=out, store_url=store_url)
    store.set_promoted(record.scenario_id, run.run_id)
    return run
