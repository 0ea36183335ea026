"""Everything a finance report shows about one run, as plain tables and dicts: the one input of ``report.html`` and
``report.xlsx``.

The numbers all come from the engines: the plan (and its re-solves for the ladder) from the optimizer, ROI intervals
and response curves from the posterior's curves, contributions and diagnostics from the media-mix model, credit from
attribution. This module only gathers and labels them, so the HTML and Excel writers format and never compute.
:func:`report_data` builds it from a run in hand; :func:`report_data_from_store` rebuilds it for a stored run (the
plan is re-solved from the stored config, data and posterior and checked against the stored allocation).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import contracts
from contracts import hdi, interval_label

#: The marginal-dollar ladder's default step, as a share of the budget.
LADDER_SHARE = 0.05
#: Points per cell on the response-curve grid (0 to CURVE_SPAN × the larger of current and planned spend).
CURVE_POINTS = 41
CURVE_SPAN = 2.0
#: What a report's provenance section shows, from the run's record.
PROVENANCE_KEYS = (
    "input_hashes", "versions", "seeds", "git_commit", "posterior_path", "posterior_hash", "config_toml", "store",
)  # fmt: skip
#: Interval mass of every interval in the report.
HDI_PROB = 0.9


@dataclass(frozen=True, eq=False)
class ReportData:
    """One run's report content. Amounts are in ``currency`` over the planning period unless a column says weekly.

    Attributes
    ----------
    run_id, currency, interval : str
        ``interval`` labels every ``_low``/``_high`` pair, e.g. ``"90% HDI"``.
    unit : float
        The plan's rounding unit (1.0 = whole currency).
    period : dict
        ``first_week`` (ISO date), ``weeks``.
    headline : dict
        ``budget``, ``spent``, ``spend_period_current``, ``revenue_period`` (+``_low``/``_high``, expected revenue
        of the plan), ``revenue_period_current`` (+``_low``/``_high``, of the current split),
        ``revenue_period_change`` (+``_low``/``_high``, the uplift), ``p_uplift_positive``, ``mroi``, ``roi_hurdle``,
        ``notes`` (list of str), ``hurdle_budget`` (budget where the marginal ROI meets the hurdle, or None) and
        ``hurdle_budget_status`` (that in words).
    readiness : dict
        ``passed`` (the model's gate), ``failures`` (list of str), ``forced``, ``force_reasons``, ``solver``
        (``status``, ``name``, ``optimality_gap``), ``rounding_optimal``, ``data_first_week``, ``data_last_week``,
        ``data_weeks``, ``freshness_days`` (from the data's last week to the run), ``run_at`` (ISO),
        ``approvals`` (list of dicts ``approved_by``, ``approved_at``, ``note``), ``status``.
    allocation : pandas.DataFrame
        One row per cell: the plan's table columns (``planner.outputs.ALLOCATION_COLUMNS``) plus ``roi_low``,
        ``roi_high``, ``p_roi_below_hurdle`` (at the planned spend), ``roi_current`` (+``_low``/``_high``, at the
        current spend), ``lower``, ``upper`` (the cell's bounds under the policy) and ``prior_dominated``.
    by_region_objective : pandas.DataFrame
        ``region``, ``objective``, ``spend_period_current``, ``spend_period``, ``spend_period_change``,
        ``share_current``, ``share`` (of the plan).
    rules : pandas.DataFrame
        Every policy rule: ``rule``, ``kind`` (``budget``, ``share``, ``amount``, ``cell``), ``target`` (words),
        ``low``, ``high`` (bounds: a share or an amount, NaN when open), ``achieved`` (the plan's value, same units),
        ``binding`` (bool), ``side`` (``floor``/``ceiling``/``""``), ``shadow_price`` (expected revenue per unit of
        relaxing it, 0 when slack), ``cost_per_100k`` (expected revenue per 100,000 of the plan moved by relaxing it)
        and ``text`` (the price in plain words).
    rule_rows : pandas.DataFrame
        The optimizer's linear rows, one per rule side: ``rule``, ``side``, ``kind``, ``ratio``, ``amount``,
        ``label``, ``reference_name``; with ``members`` and ``reference`` (bool arrays, rows × allocation rows) in
        :attr:`rule_members` / :attr:`rule_reference`, for formulas that recheck the plan (Excel).
    flags : pandas.DataFrame
        Flagged cells: ``region``, ``channel``, ``objective``, ``spend_period``, ``roi``, ``roi_low``, ``roi_high``,
        ``p_roi_below_hurdle``, ``mroi``, ``reason``.
    curves : pandas.DataFrame
        ``region``, ``channel``, ``spend_period``, ``revenue_period`` (+``_low``/``_high``) on a grid per cell.
    ladder : dict
        ``step``, ``add`` and ``cut`` (DataFrames ``region, channel, objective, amount``), ``revenue`` (DataFrame
        indexed ``add``/``cut``: ``revenue_period_change`` (+``_low``/``_high``), ``mroi``, ``status``).
    reconciliation : pandas.DataFrame or None
        Per channel: ``markov_share``, ``shapley_share`` and ``mmm_share`` (share of all channels' credit or
        contribution) each with ``_low``/``_high``, ``disagree`` (the model's interval and an attribution interval
        do not overlap), ``note``. None without journeys.
    diagnostics : pandas.DataFrame
        ``metric``, ``value``, ``threshold``, ``passed``.
    prior_dominated : pandas.DataFrame
        Cells whose ROI is mostly the prior's: ``region``, ``channel``, ``prior_sd_ratio``, ``roi``, ``roi_low``,
        ``roi_high``, ``prior_source``.
    policy : dict
        The rules as given (JSON-ready).
    provenance : dict
        ``input_hashes``, ``versions``, ``seeds``, ``git_commit``, ``posterior_path``, ``posterior_hash``,
        ``config_toml``, ``store``.
    """

    run_id: str
    currency: str
    interval: str
    unit: float
    period: dict
    headline: dict
    readiness: dict
    allocation: pd.DataFrame
    by_region_objective: pd.DataFrame
    rules: pd.DataFrame
    rule_rows: pd.DataFrame
    rule_members: np.ndarray
    rule_reference: np.ndarray
    flags: pd.DataFrame
    curves: pd.DataFrame
    ladder: dict
    reconciliation: pd.DataFrame | None
    diagnostics: pd.DataFrame
    prior_dominated: pd.DataFrame
    policy: dict
    provenance: dict = field(default_factory=dict)


def report_data(
    *,
    run_id: str,
    plan: Any,
    table: pd.DataFrame,
    headline: dict,
    fitted: Any,
    data: Any,
    config: Any,
    meta: dict,
    credit: pd.DataFrame | None = None,
    ladder_share: float = LADDER_SHARE,
) -> ReportData:
    """Gather the report of one run.

    Parameters
    ----------
    run_id : str
    plan : optimizer.Allocation
        The continuous plan, with its allocator (re-solves for the ladder and the hurdle budget).
    table : pandas.DataFrame
        The rounded allocation table as written to ``allocation.csv``.
    headline : dict
        The run's ``plan.json`` body (gate, forced, solver, rounding).
    fitted : mmm.FittedMMM
    data : contracts.Dataset
        The run's tables (paths or events for the reconciliation).
    config : planner.config.PlanConfig
    meta : dict
        ``run_at`` (datetime), ``status``, ``approvals``, ``force_reasons``, ``input_hashes``, ``versions``,
        ``seeds``, ``git_commit``, ``posterior_path``, ``posterior_hash``, ``config_toml``, ``store``.
    credit : pandas.DataFrame, optional
        The run's Markov credit (``credit.csv``); computed here when missing and journeys exist.
    ladder_share : float
        Ladder step as a share of the budget.
    """
    if not 0 < ladder_share < 1:
        raise ValueError(f"ladder_share must be in (0, 1) (a share of the budget); got {ladder_share!r}")
    curves = plan.allocator.curves
    policy = plan.policy
    interval = interval_label(HDI_PROB)
    cells = plan.table[["region", "channel", "objective"]].reset_index(drop=True)
    spend = plan.table["spend_period"].to_numpy(dtype=float)
    current = plan.table["spend_period_current"].to_numpy(dtype=float)
    order = _order(table, cells)
    roi = fitted.roi(hdi_prob=HDI_PROB)
    allocation = _allocation(table, order, curves, spend, current, policy, plan, roi)
    return ReportData(
        run_id=run_id,
        currency=plan.currency or config.output.currency,
        interval=interval,
        unit=float(config.output.unit),
        period={"first_week": str(pd.Timestamp(config.period.first_week).date()), "weeks": int(plan.period_weeks)},
        headline=_headline(plan, headline, curves, spend, current),
        readiness=_readiness(headline, data, meta),
        allocation=allocation,
        by_region_objective=_by_region_objective(allocation),
        rules=_rules(plan, spend),
        **_rule_rows(plan, order),
        flags=_flags(allocation),
        curves=_curves(curves, cells, spend, current),
        ladder=_ladder(plan, ladder_share),
        reconciliation=_reconciliation(data, fitted, credit, config),
        diagnostics=fitted.diagnostics(warn=False).table.copy(),
        prior_dominated=_prior_dominated(roi),
        policy=policy.model_dump(mode="json"),
        provenance={k: meta.get(k) for k in PROVENANCE_KEYS},
    )


# ---------------------------------------------------------------------- pieces
def _order(table: pd.DataFrame, cells: pd.DataFrame) -> np.ndarray:
    """Positions in the plan's cell order of the rounded table's rows (sorted by region, channel)."""
    index = {k: i for i, k in enumerate(zip(cells["region"], cells["channel"], strict=True))}
    return np.array([index[k] for k in zip(table["region"], table["channel"], strict=True)])


def _roi_stats(curves: Any, spend: np.ndarray, hurdle: float) -> tuple[np.ndarray, ...]:
    roi = curves.roi(spend)
    low, high = hdi(roi, HDI_PROB)
    return roi.mean(axis=0), low, high, (roi < hurdle).mean(axis=0)


def _allocation(table, order, curves, spend, current, policy, plan, roi: pd.DataFrame) -> pd.DataFrame:
    from optimizer.bounds import cell_bounds

    out = table.copy()
    hurdle = float(policy.roi_hurdle)
    _, low, high, below = _roi_stats(curves, spend, hurdle)
    out["roi_low"], out["roi_high"], out["p_roi_below_hurdle"] = low[order], high[order], below[order]
    mean_c, low_c, high_c, _ = _roi_stats(curves, current, hurdle)
    out["roi_current"], out["roi_current_low"], out["roi_current_high"] = mean_c[order], low_c[order], high_c[order]
    cells = plan.table[["region", "channel", "objective"]].reset_index(drop=True)
    bounds = cell_bounds(cells, policy, current, plan.budget)
    out["lower"], out["upper"] = bounds.lower[order], bounds.upper[order]
    dominated = roi.set_index(["region", "channel"])["prior_dominated"]
    out["prior_dominated"] = [bool(dominated.get(k, False)) for k in zip(out["region"], out["channel"], strict=True)]
    return out


def _headline(plan, headline: dict, curves, spend: np.ndarray, current: np.ndarray) -> dict:
    planned = curves.revenue(spend).sum(axis=1)
    now = curves.revenue(current).sum(axis=1)
    diff = planned - now
    p_low, p_high = hdi(planned, HDI_PROB)
    c_low, c_high = hdi(now, HDI_PROB)
    out = {
        key: headline.get(key)
        for key in (
            "budget", "spent", "spend_period_current", "revenue_period_change", "revenue_period_change_low",
            "revenue_period_change_high", "mroi", "roi_hurdle", "notes", "by_objective", "by_region",
        )
    }  # fmt: skip
    out.update(
        revenue_period=float(planned.mean()),
        revenue_period_low=float(p_low),
        revenue_period_high=float(p_high),
        revenue_period_current=float(now.mean()),
        revenue_period_current_low=float(c_low),
        revenue_period_current_high=float(c_high),
        p_uplift_positive=float((diff > 0).mean()),
    )
    try:
        hurdle = plan.hurdle_budget()
        out["hurdle_budget"] = None if hurdle.budget is None else float(hurdle.budget)
        out["hurdle_budget_status"] = str(hurdle.statement)
    except Exception as err:  # the hurdle budget is context, never a reason to lose the report
        out["hurdle_budget"], out["hurdle_budget_status"] = None, f"not computed: {err}"
    return out


def _readiness(headline: dict, data: Any, meta: dict) -> dict:
    gate = headline.get("gate") or {}
    weeks = pd.to_datetime(data.spend["week"])
    run_at = meta.get("run_at") or datetime.now(UTC)
    last = weeks.max()
    return {
        "status": meta.get("status", "complete"),
        "passed": bool(gate.get("passed", False)),
        "failures": list(gate.get("failures", [])),
        "forced": bool(headline.get("forced", False)),
        "force_reasons": list(meta.get("force_reasons") or []),
        "solver": dict(headline.get("solver") or {}),
        "rounding_optimal": bool(headline.get("rounding_optimal", True)),
        "data_first_week": str(weeks.min().date()),
        "data_last_week": str(last.date()),
        "data_weeks": int(weeks.nunique()),
        "freshness_days": int((pd.Timestamp(run_at).tz_localize(None).normalize() - last).days),
        "run_at": pd.Timestamp(run_at).isoformat(),
        "approvals": list(meta.get("approvals") or []),
    }


def _by_region_objective(allocation: pd.DataFrame) -> pd.DataFrame:
    columns = ["spend_period_current", "spend_period", "spend_period_change"]
    out = allocation.groupby(["region", "objective"], sort=True)[columns].sum().reset_index()
    out["share_current"] = out["spend_period_current"] / out["spend_period_current"].sum()
    out["share"] = out["spend_period"] / out["spend_period"].sum()
    return out


def _rules(plan, spend: np.ndarray) -> pd.DataFrame:
    from optimizer.rules import policy_rows

    cells = plan.table[["region", "channel", "objective"]].reset_index(drop=True)
    prices = plan.shadow_prices.set_index("rule")
    budget_price = float(prices.loc["budget", "shadow_price"]) if "budget" in prices.index else np.nan
    rows = [
        {
            "rule": "budget",
            "kind": "budget",
            "target": f"spend {plan.budget:,.0f} {plan.currency or ''}".rstrip(),
            "low": np.nan,
            "high": float(plan.budget),
            "achieved": float(spend.sum()),
            "binding": True,
            "side": "ceiling",
            "shadow_price": budget_price,
            "cost_per_100k": budget_price * 100_000,
            "text": f"each extra 100,000 of budget adds {budget_price * 100_000:,.0f} of expected revenue "
            f"(the plan's marginal ROI {budget_price:.2f})",
        }
    ]
    by_rule: dict[str, dict] = {}
    for row in policy_rows(cells, plan.policy):
        by_rule.setdefault(row.rule, {})[row.side] = row
    for name, sides in by_rule.items():
        row = next(iter(sides.values()))
        value = float(row.members @ spend)
        if row.kind == "share":
            reference = float(row.reference @ spend)
            achieved = value / reference if reference > 0 else np.nan
            low = sides["floor"].ratio if "floor" in sides else np.nan
            high = sides["ceiling"].ratio if "ceiling" in sides else np.nan
            target = _band(low, high, percent=True, of=row.reference_name)
        else:
            achieved = value
            low = sides["floor"].amount if "floor" in sides else np.nan
            high = sides["ceiling"].amount if "ceiling" in sides else np.nan
            target = _band(low, high, percent=False, of="")
        side, price = _binding_side(prices, name, sides)
        binding = price > 0
        reference = float(row.reference @ spend) if row.kind == "share" else 1.0
        cost = price * 100_000  # the price is per unit of spend the rule holds in place
        rows.append(
            {
                "rule": name,
                "kind": row.kind,
                "target": target,
                "low": low,
                "high": high,
                "achieved": achieved,
                "binding": binding,
                "side": side if binding else "",
                "shadow_price": price,
                "cost_per_100k": cost,
                "text": _plain(name, row, side, price, reference, low, high)
                if binding
                else "not binding: costs nothing",
            }
        )
    for rule, r in prices.iterrows():
        if str(rule).startswith("cell "):
            rows.append(
                {
                    "rule": str(rule),
                    "kind": "cell",
                    "target": str(r["description"]).split(":")[0],
                    "low": np.nan,
                    "high": np.nan,
                    "achieved": np.nan,
                    "binding": True,
                    "side": "ceiling" if "maximum" in str(rule) else "floor",
                    "shadow_price": float(r["shadow_price"]),
                    "cost_per_100k": float(r["shadow_price"]) * 100_000,
                    "text": str(r["description"]),
                }
            )
    return pd.DataFrame(rows)


def _band(low: float, high: float, *, percent: bool, of: str) -> str:
    def fmt(x: float) -> str:
        return f"{x:.0%}" if percent else f"{x:,.0f}"

    suffix = f" of {of}" if of else ""
    if np.isfinite(low) and np.isfinite(high):
        return f"exactly {fmt(low)}{suffix}" if np.isclose(low, high) else f"{fmt(low)}–{fmt(high)}{suffix}"
    if np.isfinite(low):
        return f"at least {fmt(low)}{suffix}"
    return f"at most {fmt(high)}{suffix}"


def _binding_side(prices: pd.DataFrame, name: str, sides: dict) -> tuple[str, float]:
    """The side of ``name`` that binds and its price, from the plan's shadow-price table (label conventions of
    :mod:`optimizer.shadow`)."""
    for side in ("floor", "ceiling"):
        labels = [f"{name} {side}"]
        if " share: " in name:
            kind, group = name.split(" share: ", 1)
            labels.append(f"{kind} share {side}: {group}")
        for label in labels:
            if label in prices.index:
                return side, float(prices.loc[label, "shadow_price"])
    return "", 0.0


def _plain(name: str, row: Any, side: str, price: float, reference: float, low: float, high: float) -> str:
    per_100k = price * 100_000
    if row.kind == "share":
        bound = low if side == "floor" else high
        what = name.split(": ", 1)[-1]
        point = price * 0.01 * reference
        return (
            f"the {bound:.0%} {what} {side} costs {per_100k:,.0f} of expected revenue per 100,000 of budget it holds "
            f"in place (one share point ≈ {point:,.0f})"
        )
    bound = low if side == "floor" else high
    return f"the {side} of {bound:,.0f} on {name} costs {per_100k:,.0f} of expected revenue per 100,000 it holds"


def _rule_rows(plan, order: np.ndarray) -> dict:
    from optimizer.rules import policy_rows

    cells = plan.table[["region", "channel", "objective"]].reset_index(drop=True)
    rows = policy_rows(cells, plan.policy)
    frame = pd.DataFrame(
        [
            {
                "rule": r.rule, "side": r.side, "kind": r.kind, "ratio": float(r.ratio), "amount": float(r.amount),
                "label": r.label, "reference_name": r.reference_name,
            }
            for r in rows
        ],
        columns=["rule", "side", "kind", "ratio", "amount", "label", "reference_name"],
    )  # fmt: skip
    n = len(order)
    members = np.array([r.members[order] for r in rows], dtype=bool).reshape(len(rows), n)
    reference = np.array([r.reference[order] for r in rows], dtype=bool).reshape(len(rows), n)
    return {"rule_rows": frame, "rule_members": members, "rule_reference": reference}


def _flags(allocation: pd.DataFrame) -> pd.DataFrame:
    flagged = allocation[allocation["flag"].astype(bool)]
    columns = ["region", "channel", "objective", "spend_period", "roi", "roi_low", "roi_high", "p_roi_below_hurdle"]
    out = flagged[[*columns, "mroi"]].copy()
    out["reason"] = flagged["flag_reason"].to_numpy()
    return out.reset_index(drop=True)


def _curves(curves, cells: pd.DataFrame, spend: np.ndarray, current: np.ndarray) -> pd.DataFrame:
    top = CURVE_SPAN * np.maximum(np.maximum(spend, current), 1.0)
    grid = np.linspace(0.0, 1.0, CURVE_POINTS)
    parts = []
    for k, share in enumerate(grid):
        values = curves.revenue(top * share)
        low, high = hdi(values, HDI_PROB)
        parts.append(
            pd.DataFrame(
                {
                    "region": cells["region"].to_numpy(),
                    "channel": cells["channel"].to_numpy(),
                    "point": k,
                    "spend_period": top * share,
                    "revenue_period": values.mean(axis=0),
                    "revenue_period_low": low,
                    "revenue_period_high": high,
                }
            )
        )
    out = pd.concat(parts, ignore_index=True).sort_values(["region", "channel", "point"], kind="stable")
    return out.drop(columns="point").reset_index(drop=True)


def _ladder(plan, share: float) -> dict:
    step = float(plan.budget) * share
    ladder = plan.ladder(step)
    return {"step": step, "share": share, "add": ladder.add, "cut": ladder.cut, "revenue": ladder.revenue}


def _prior_dominated(roi: pd.DataFrame) -> pd.DataFrame:
    columns = ["region", "channel", "prior_sd_ratio", "roi", "roi_low", "roi_high", "prior_source"]
    out = roi.loc[roi["prior_dominated"], columns].sort_values("prior_sd_ratio", ascending=False)
    return out.reset_index(drop=True)


# ---------------------------------------------------------------------- reconciliation
def _reconciliation(data, fitted, credit: pd.DataFrame | None, config) -> pd.DataFrame | None:
    """Per channel: attribution credit shares (Markov, Shapley) beside the model's contribution share."""
    import attribution

    paths = data.paths
    if paths is None and data.events is not None:
        paths = attribution.build_paths(data.events, by="region")
    if paths is None:
        return None
    seed = int(config.attribution.seed)
    n_boot = max(int(config.attribution.n_boot), 20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if credit is None or "removal_effect" not in credit.columns:
            order = config.attribution.order
            order = 1 if order == "auto" else int(order)
            credit = attribution.bootstrap(paths, "markov", n_boot=n_boot, seed=seed, by="region", order=order).table
        shapley = attribution.bootstrap(paths, "shapley", n_boot=n_boot, seed=seed, by="region").table
    out = _credit_shares(credit, "markov").join(_credit_shares(shapley, "shapley"), how="outer")
    out = out.join(_model_shares(fitted), how="outer").fillna(0.0)
    notes, disagree = [], []
    for channel, r in out.iterrows():
        apart = []
        for method in ("markov", "shapley"):
            low, high = r[f"{method}_share_low"], r[f"{method}_share_high"]
            if high < r["mmm_share_low"]:
                apart.append(f"{method.capitalize()} credits less ({r[f'{method}_share']:.1%}) than the model")
            elif low > r["mmm_share_high"]:
                apart.append(f"{method.capitalize()} credits more ({r[f'{method}_share']:.1%}) than the model")
        disagree.append(bool(apart))
        notes.append(
            "; ".join(apart) + f" ({r['mmm_share']:.1%}): journeys and spend tell different stories for {channel}"
            if apart
            else ""
        )
    out["disagree"] = disagree
    out["note"] = notes
    return out.reset_index().rename(columns={"index": "channel"})


def _credit_shares(table: pd.DataFrame, method: str) -> pd.DataFrame:
    """Share of attributed revenue per channel (summed over regions); the interval is each bound summed over regions
    over the total point credit (conservative: it treats regions' bootstrap errors as moving together)."""
    grouped = table.groupby("channel")[["value", "value_low", "value_high"]].sum()
    total = float(grouped["value"].sum())
    out = grouped / total
    out.columns = [f"{method}_share", f"{method}_share_low", f"{method}_share_high"]
    return out


def _model_shares(fitted) -> pd.DataFrame:
    """Share of all media contribution over the data window per channel, per posterior draw, with its HDI."""
    roi = fitted.draws("roi")
    contribution = roi * fitted.data.spend.sum(axis=0)
    channels = fitted.data.cells["channel"].to_numpy()
    names = sorted(set(channels))
    by_channel = np.stack([contribution[:, channels == c].sum(axis=1) for c in names], axis=1)
    shares = by_channel / by_channel.sum(axis=1, keepdims=True)
    low, high = hdi(shares, HDI_PROB)
    return pd.DataFrame(
        {"mmm_share": shares.mean(axis=0), "mmm_share_low": low, "mmm_share_high": high}, index=pd.Index(names)
    )


# ---------------------------------------------------------------------- from a stored run
def report_data_from_store(run_id: str, store_url: str) -> tuple[ReportData, Any]:
    """Rebuild a stored run's report: its config, data and posterior are loaded again and the plan re-solved; the
    re-solved allocation must equal the stored one to the rounding unit (else the inputs changed since the run).

    Returns
    -------
    (ReportData, RunRecord)
    """
    import mmm
    from optimizer import Allocator
    from planner.config import load_config_text
    from planner.hashing import dataset_hashes
    from planner.inputs import load_data, period_revenue
    from planner.outputs import allocation_table, headline
    from planner.store import RunStore

    record = RunStore(store_url).get(run_id)
    if record.status != "complete":
        raise ValueError(f"run {run_id} is {record.status}, not complete: it has no plan to report")
    base = Path(record.run_dir) if record.run_dir else Path.cwd()
    config = load_config_text(record.config_toml, base)
    data = load_data(config)
    hashes = dataset_hashes(data)
    changed = sorted(k for k, v in record.input_hashes.items() if hashes.get(k) != v)
    if changed:
        raise ValueError(
            f"run {run_id}: the data at {config.data.resolved_folder() or 'its table paths'} changed since the run "
            f"(tables {changed} hash differently); a report must show the run's own numbers"
        )
    if not record.posterior_path or not Path(record.posterior_path).is_dir():
        raise FileNotFoundError(f"run {run_id}: its posterior {record.posterior_path!r} is no longer there")
    fitted = mmm.load(record.posterior_path)
    weeks = config.period.weeks
    current = contracts.period_spend(data.spend, weeks)
    policy = config.policy_for(current_spend=float(current["spend_period"].sum()), revenue=period_revenue(data, weeks))
    curves = fitted.response_curves(period_weeks=weeks, currency=config.output.currency)
    plan = Allocator(curves, current).allocate(policy)
    rounded = plan.rounded(config.output.unit)
    table = allocation_table(plan, rounded)
    stored = record.allocation.sort_values(["region", "channel"]).reset_index(drop=True)
    diff = np.abs(stored["spend_period"].to_numpy(dtype=float) - table["spend_period"].to_numpy(dtype=float))
    if diff.max() > 1.5 * config.output.unit:
        raise ValueError(
            f"run {run_id}: re-solving its plan gives another allocation (largest cell difference {diff.max():,.0f}); "
            "the code or the posterior changed since the run"
        )
    table = stored[table.columns]
    body = headline(plan, rounded, table)
    body["gate"], body["forced"] = record.gate, record.forced
    credit_path = base / "credit.csv" if record.run_dir else None
    credit = pd.read_csv(credit_path) if credit_path and credit_path.is_file() else None
    meta = _meta_from_record(record, store_url)
    return report_data(
        run_id=run_id, plan=plan, table=table, headline=body, fitted=fitted, data=data, config=config, meta=meta,
        credit=credit,
    ), record  # fmt: skip


def _meta_from_record(record: Any, store_url: str) -> dict:
    return {
        "run_at": record.started_at,
        "status": record.status,
        "approvals": [
            {"approved_by": a["by"], "approved_at": str(a["at"]), "note": a["note"]} for a in record.approvals
        ],
        "force_reasons": record.force_reasons,
        "input_hashes": record.input_hashes,
        "versions": record.versions,
        "seeds": record.seeds,
        "git_commit": record.git_commit,
        "posterior_path": record.posterior_path,
        "posterior_hash": record.posterior_hash,
        "config_toml": record.config_toml,
        "store": safe_url(store_url),
    }


def safe_url(url: str) -> str:
    """The store URL without a password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url
