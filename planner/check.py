"""Did the plan work? ``growth-allocator check``: a recorded run's plan against the weeks realized since.

:func:`assess_plan` is the pure engine; :func:`check_run` loads the run, the data and the posterior, calls it,
writes ``check.html`` and ``check.csv`` and records the check in the run store. Three questions, one table each:

* **adherence** — was the plan's spend made? Per cell, per region and in total, the plan's period spend pro-rated to
  the weeks observed against the spend realized: ``followed`` within ``tolerance``, else ``under`` or ``over``;
* **outcome** — was revenue what the model expects *given the spend actually made*? Realized revenue per region and
  in total against the model's predictive interval (:meth:`mmm.FittedMMM.predict` with the realized spend and
  controls); what the plan promised (the planned weekly spend, flat) is shown for context;
* **evidence** — what do the new weeks say about each cell's ROI? The posterior draws are reweighted by the
  likelihood of the realized weeks (the model's own ``Normal(expected, sigma · revenue_scale)`` per week and region,
  :mod:`mmm.model`) with Pareto-smoothed importance sampling; P(ROI < hurdle) at the realized spend before and after.

The verdict: ``keep`` (followed, revenue as expected), ``not followed`` (spend off plan, revenue as expected given that
spend: the model is not blamed) or ``re-plan`` (the regions' revenue, taken together, outside what the model expects).
"Taken together" is one test of all regions at once (:func:`joint_surprise`: the regions' pattern against the
forecast's own covariance and their total, combined), at the intervals' level: re-plan when it is below
``1 - hdi_prob``. Reading each region's 90% interval alone would ask a right model to re-plan after
about one followed quarter in three with four regions (1 - 0.9⁴); a region outside its own interval is still named,
with a line to watch it.

Examples
--------
>>> result = check_run("20260105T093000Z-1a2b3c", "data/latest", store_url="sqlite:///runs/runs.db")  # doctest: +SKIP
>>> result.verdict, result.recommendation  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import contracts
from contracts import hdi, interval_label

#: PSIS k-hat above which importance reweighting is unreliable (Vehtari et al. 2024).
KHAT_LIMIT = 0.7
#: Verdicts, from best to worst.
VERDICTS = ("keep", "not followed", "re-plan")
#: Tables a check reads from the data folder (journeys are not needed; they are not read).
CHECK_TABLES = ("spend", "kpi", "controls", "channels")
_CELL = ["region", "channel"]
_TOTAL = "total"


@dataclass(frozen=True)
class PlanTarget:
    """What a run planned: the allocation and its period, as :func:`assess_plan` needs them.

    Attributes
    ----------
    allocation : pandas.DataFrame
        ``region``, ``channel``, ``spend_period`` (planned spend over the period, in currency).
    first_week : pandas.Timestamp
        The plan's first week (a Monday).
    weeks : int
        The period's length in weeks.
    roi_hurdle : float
        The policy's ROI hurdle.
    currency : str
        Currency label of every amount (e.g. ``"EUR"``).
    """

    allocation: pd.DataFrame
    first_week: pd.Timestamp
    weeks: int
    roi_hurdle: float
    currency: str = ""

    @classmethod
    def from_record(cls, record) -> PlanTarget:
        """The target of a :class:`planner.store.RunRecord` (its stored config and allocation)."""
        config = record.config
        period = config.get("period") or {}
        if not period.get("first_week") or not period.get("weeks"):
            raise ValueError(f"run {record.run_id!r} has no period.first_week / period.weeks in its stored config")
        return cls(
            allocation=record.allocation,
            first_week=pd.Timestamp(period["first_week"]),
            weeks=int(period["weeks"]),
            roi_hurdle=float(config["policy"]["roi_hurdle"]),
            currency=str((config.get("output") or {}).get("currency") or ""),
        )


@dataclass(frozen=True, eq=False)
class Findings:
    """What :func:`assess_plan` found (see :class:`CheckResult` for the fields)."""

    verdict: str
    recommendation: str
    adherence: pd.DataFrame
    outcome: pd.DataFrame
    evidence: pd.DataFrame
    weeks: int
    first_week: str
    last_week: str
    khat: float
    ess: float
    currency: str = ""
    tolerance: float = 0.1
    interval: str = "90% HDI"
    roi_hurdle: float = 1.0
    notes: tuple[str, ...] = ()
    joint_p: float = float("nan")
    hdi_prob: float = 0.9


@dataclass(frozen=True, eq=False)
class CheckResult(Findings):
    """One check of a run's plan (from :func:`check_run`).

    Attributes
    ----------
    check_id, run_id : str
        The check's id (``YYYYMMDDTHHMMSSZ-xxxxxx``) and the run it checks.
    verdict : str
        One of :data:`VERDICTS`.
    recommendation : str
        Plain-language next step(s), naming regions and cells.
    adherence : pandas.DataFrame
        ``level`` (cell / region / total), ``region``, ``channel``, ``planned_spend`` (the plan pro-rated to the
        weeks observed), ``realized_spend``, ``difference``, ``ratio``, ``status`` (followed / under / over).
    outcome : pandas.DataFrame
        Per region then ``total``: ``revenue_realized``, ``revenue_mean``, ``revenue_low``, ``revenue_high`` (the
        predictive interval given the realized spend), ``status`` (inside / below / above), ``inside``, ``position``
        (predictive percentile), and ``plan_revenue_mean``, ``plan_revenue_low``, ``plan_revenue_high`` (the
        revenue the plan's own spend promised).
    evidence : pandas.DataFrame
        Per model cell: ``spend_period_realized`` (realized spend scaled to the period), ``roi_mean_before``,
        ``roi_mean_after``, ``roi_sd_before``, ``p_roi_below_hurdle_before``, ``p_roi_below_hurdle_after``,
        ``below_hurdle_after`` (P after > 0.5), ``newly_below_hurdle``, ``revenue_moved`` (|ROI change| × spend)
        and ``revenue_sd`` (ROI sd before × spend), in currency.
    weeks, first_week, last_week
        The weeks checked.
    khat, ess : float
        PSIS k-hat and effective sample size of the reweighting.
    joint_p : float
        How surprising the regions' realized revenue is, taken together (:func:`joint_surprise`); the verdict is
        ``re-plan`` when it is below ``1 - hdi_prob``.
    hdi_prob : float
        Mass of the predictive intervals (``interval`` names it).
    check_dir : pathlib.Path
        The folder ``check.html`` and ``check.csv`` were written to.
    paths : tuple of pathlib.Path
        The files written.
    """

    check_id: str = ""
    run_id: str = ""
    check_dir: Path | None = None
    paths: tuple[Path, ...] = field(default_factory=tuple)


# ----------------------------------------------------------------------------------------------------- run level
def check_run(
    run_id: str,
    data_folder: str | Path,
    *,
    store_url: str,
    out: str | Path | None = None,
    tolerance: float = 0.1,
    hdi_prob: float = 0.9,
    seed: int = 0,
) -> CheckResult:
    """Check a recorded run's plan against the weeks realized since its first week, and record the check.

    Parameters
    ----------
    run_id : str
        The run (a unique prefix works). It must be complete and have a posterior.
    data_folder : str or pathlib.Path
        The data folder with the weeks since the plan's first week (spend, kpi, controls, channels are read; the
        fitted weeks must be there too, as fitted).
    store_url : str
        The run store holding the run.
    out : str or pathlib.Path, optional
        Folder to write ``<check_id>/check.html`` and ``check.csv`` to; default ``<run folder>/checks``.
    tolerance : float
        Spend within ``planned × (1 ± tolerance)`` counts as following the plan.
    hdi_prob : float
        Mass of the predictive intervals.
    seed : int
        Seed of the predictive noise.

    Returns
    -------
    CheckResult

    Raises
    ------
    planner.store.RunNotFound, planner.store.StoreError
        Unknown run, or one that is not complete.
    ValueError
        Bad options; no realized week on or after the plan's first week; plan cells missing from the data
        (``contracts.ContractError`` for tables that break their contract).
    FileNotFoundError
        The data folder or the run's posterior is missing.
    """
    from planner.store import RunStore

    _check_options(tolerance, hdi_prob, seed)
    with RunStore(store_url) as store:
        return _check(store, store.get(run_id), data_folder, out, tolerance, hdi_prob, seed)


def _check(store, record, data_folder, out, tolerance: float, hdi_prob: float, seed: int) -> CheckResult:
    """:func:`check_run` once the run is found: data, posterior, findings, files, record."""
    import mmm
    from planner.run import new_run_id
    from planner.store import StoreError

    if record.status != "complete":
        raise StoreError(f"run {record.run_id!r} is {record.status}; only a complete run's plan can be checked")
    target = PlanTarget.from_record(record)
    data = load_check_data(data_folder)
    realized_spend(data, target, observed_weeks(data, target))  # no weeks, missing cells: before the posterior
    posterior = Path(record.posterior_path or "")
    if not record.posterior_path or not posterior.is_dir():
        raise FileNotFoundError(f"run {record.run_id!r}: posterior folder {record.posterior_path!r} not found")
    findings = assess_plan(target, data, mmm.load(posterior), tolerance=tolerance, hdi_prob=hdi_prob, seed=seed)

    check_id = new_run_id()
    base = Path(out) if out is not None else Path(record.run_dir or ".") / "checks"
    check_dir = base / check_id
    check_dir.mkdir(parents=True, exist_ok=False)
    result = CheckResult(
        **{f.name: getattr(findings, f.name) for f in dataclasses.fields(Findings)},
        check_id=check_id,
        run_id=record.run_id,
        check_dir=check_dir,
    )
    paths = (write_html(result, check_dir / "check.html"), write_csv(result, check_dir / "check.csv"))
    result = dataclasses.replace(result, paths=paths)
    store.add_check(
        record.run_id,
        check_id=check_id,
        first_week=findings.first_week,
        last_week=findings.last_week,
        weeks=findings.weeks,
        input_hashes=_hashes(data),
        verdict=findings.verdict,
        recommendation=findings.recommendation,
        summary=summary(findings),
        check_dir=str(check_dir),
    )
    return result


def load_check_data(folder: str | Path) -> contracts.Dataset:
    """The tables of :data:`CHECK_TABLES` found in ``folder`` (spend and kpi required), validated together."""
    files = contracts.io.find_tables(folder)
    missing = [name for name in ("spend", "kpi") if name not in files]
    if missing:
        raise ValueError(f"{folder}: a check needs the tables spend and kpi; missing {missing} (found {sorted(files)})")
    tables = {name: contracts.io.read_table(files[name], folder=folder) for name in CHECK_TABLES if name in files}
    return contracts.Dataset(**tables)


def _hashes(data: contracts.Dataset) -> dict[str, str]:
    from planner.hashing import dataset_hashes

    return dataset_hashes(data)


def summary(findings: Findings) -> dict:
    """The JSON-safe summary recorded with the check (verdict, joint p, k-hat, regions outside, cells off plan or
    below)."""
    outcome, adherence, evidence = findings.outcome, findings.adherence, findings.evidence
    off = adherence[(adherence["level"] == "cell") & (adherence["status"] != "followed")]
    return {
        "verdict": findings.verdict,
        "joint_p": _json_number(findings.joint_p),
        "khat": _json_number(findings.khat),
        "ess": _json_number(findings.ess),
        "tolerance": findings.tolerance,
        "interval": findings.interval,
        "outside": outcome.loc[~outcome["inside"], "region"].tolist(),
        "outcome": {
            row.region: {
                "realized": _json_number(row.revenue_realized),
                "low": _json_number(row.revenue_low),
                "high": _json_number(row.revenue_high),
                "status": row.status,
            }
            for row in outcome.itertuples()
        },
        "cells_off_plan": [f"{r}/{c}" for r, c in zip(off["region"], off["channel"], strict=True)],
        "cells_newly_below_hurdle": _labels(evidence[evidence["newly_below_hurdle"]]),
        "notes": list(findings.notes),
    }


def _json_number(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(float(x)) else None


def _labels(cells: pd.DataFrame) -> list[str]:
    return [f"{r}/{c}" for r, c in zip(cells["region"], cells["channel"], strict=True)]


# -------------------------------------------------------------------------------------------------- the engine
def assess_plan(
    target: PlanTarget,
    data: contracts.Dataset,
    fitted,
    *,
    tolerance: float = 0.1,
    hdi_prob: float = 0.9,
    seed: int = 0,
) -> Findings:
    """Adherence, outcome and evidence of a plan over the realized weeks in ``data``, and the verdict.

    Parameters
    ----------
    target : PlanTarget
        The plan.
    data : contracts.Dataset
        Spend, kpi and (when the model has them) controls, from the model's first fitted week to at least the
        plan's first week.
    fitted : mmm.FittedMMM
        The posterior the plan was made with; fitted on weeks before ``target.first_week``.
    tolerance, hdi_prob, seed
        As in :func:`check_run`.

    Returns
    -------
    Findings
    """
    _check_options(tolerance, hdi_prob, seed)
    weeks = observed_weeks(data, target)
    spend = realized_spend(data, target, weeks)
    adherence = adherence_table(target, spend, len(weeks), tolerance)
    last_fitted = fitted.data.weeks[-1]
    if last_fitted >= target.first_week:
        raise ValueError(
            f"the run's model was fitted on weeks up to {last_fitted.date()}, which include the plan's first week "
            f"{target.first_week.date()}: the realized weeks must come after the fit"
        )
    realized = _model_spend(data.spend, fitted, weeks[-1])
    controls = None if data.controls is None else data.controls[data.controls["week"] <= weeks[-1]]
    forecast = fitted.predict(realized, controls, hdi_prob=hdi_prob, seed=seed)
    promised = fitted.predict(_planned_spend(realized, target, weeks), controls, hdi_prob=hdi_prob, seed=seed)
    checked = forecast.weeks.isin(weeks)
    revenue = _revenue_grid(data.kpi, weeks, fitted.data.regions)
    outcome = outcome_table(forecast, promised, checked, revenue, hdi_prob)
    joint_p = joint_surprise(_totals(forecast.predictive[:, checked])[:, :-1], _totals(revenue[None])[0][:-1])
    lw, khat = psis_weights(forecast.expected[:, checked], revenue, fitted)
    evidence = evidence_table(fitted, target, spend, len(weeks), np.exp(lw))
    ess = float(1.0 / np.sum(np.exp(2 * lw)))
    notes = _notes(data, target, weeks)
    verdict, recommendation = judge(adherence, outcome, evidence, khat, ess, target, hdi_prob, joint_p)
    return Findings(
        verdict=verdict,
        recommendation=recommendation,
        adherence=adherence,
        outcome=outcome,
        evidence=evidence,
        weeks=len(weeks),
        first_week=str(weeks[0].date()),
        last_week=str(weeks[-1].date()),
        khat=float(khat),
        ess=ess,
        currency=target.currency,
        tolerance=float(tolerance),
        interval=interval_label(hdi_prob),
        roi_hurdle=target.roi_hurdle,
        notes=notes,
        joint_p=joint_p,
        hdi_prob=float(hdi_prob),
    )


def observed_weeks(data: contracts.Dataset, target: PlanTarget) -> pd.DatetimeIndex:
    """The realized weeks checked: weeks with revenue from the plan's first week on, at most the plan's length.

    Raises
    ------
    ValueError
        No kpi week on or after the first week, or the weeks found are not consecutive from it.
    """
    kpi_weeks = pd.DatetimeIndex(sorted(pd.to_datetime(data.kpi["week"]).unique()))
    after = kpi_weeks[kpi_weeks >= target.first_week]
    if not len(after):
        raise ValueError(
            f"kpi has no week on or after the plan's first week {target.first_week.date()} (its weeks run "
            f"{kpi_weeks[0].date()}..{kpi_weeks[-1].date()}): there is nothing realized to check yet"
        )
    expected = pd.date_range(target.first_week, periods=min(target.weeks, len(after)), freq="7D")
    got = after[: len(expected)]
    if not got.equals(expected):
        gaps = [str(w.date()) for w in expected.difference(got)[:5]]
        raise ValueError(
            f"kpi.week must have every week from the plan's first week {target.first_week.date()} on; missing {gaps}"
        )
    return expected


def realized_spend(data: contracts.Dataset, target: PlanTarget, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Realized spend per cell over ``weeks`` (``region``, ``channel``, ``spend``), plan cells first.

    Raises
    ------
    ValueError
        A plan cell lacks spend rows for some of the weeks (the message names the cells and weeks).
    """
    spend = data.spend[pd.to_datetime(data.spend["week"]).isin(weeks)]
    counts = spend.groupby(_CELL, sort=False).size()
    plan_cells = target.allocation[_CELL].drop_duplicates()
    have = plan_cells.merge(counts.rename("rows").reset_index(), on=_CELL, how="left").fillna({"rows": 0})
    short = have[have["rows"] < len(weeks)]
    if len(short):
        labels = [f"{r}/{c} ({int(n)} of {len(weeks)} weeks)" for r, c, n in short.itertuples(index=False)]
        raise ValueError(
            f"spend lacks rows for {len(short)} planned cells in the weeks {weeks[0].date()}..{weeks[-1].date()}: "
            f"{', '.join(labels[:10])}{' ...' if len(labels) > 10 else ''}; every planned (region, channel) needs "
            "one spend row per week (spend 0 where nothing was spent)"
        )
    totals = spend.groupby(_CELL, sort=False, as_index=False)["spend"].sum()
    extra = totals.merge(plan_cells, on=_CELL, how="left", indicator=True)
    extra = extra[extra["_merge"] == "left_only"].drop(columns="_merge")
    return pd.concat([plan_cells.merge(totals, on=_CELL, how="left"), extra], ignore_index=True)


def adherence_table(target: PlanTarget, spend: pd.DataFrame, n_weeks: int, tolerance: float) -> pd.DataFrame:
    """Planned (pro-rated to ``n_weeks``) against realized spend per cell, per region and in total.

    Cells spent on but not in the plan are rows with planned spend 0 (status ``over`` when anything was spent).
    """
    planned = target.allocation[[*_CELL, "spend_period"]]
    cells = spend.merge(planned, on=_CELL, how="left").fillna({"spend_period": 0.0})
    cells = pd.DataFrame(
        {
            "level": "cell",
            "region": cells["region"],
            "channel": cells["channel"],
            "planned_spend": cells["spend_period"].astype(float) * n_weeks / target.weeks,
            "realized_spend": cells["spend"].astype(float),
        }
    )
    regions = cells.groupby("region", sort=False, as_index=False)[["planned_spend", "realized_spend"]].sum()
    regions = regions.assign(level="region", channel="")
    total = pd.DataFrame(
        {
            "level": ["total"],
            "region": [_TOTAL],
            "channel": [""],
            "planned_spend": [cells["planned_spend"].sum()],
            "realized_spend": [cells["realized_spend"].sum()],
        }
    )
    out = pd.concat([cells, regions[cells.columns], total], ignore_index=True)
    out["difference"] = out["realized_spend"] - out["planned_spend"]
    planned_v = out["planned_spend"].to_numpy()
    ratio = np.divide(out["realized_spend"].to_numpy(), planned_v, out=np.full(len(out), np.nan), where=planned_v > 0)
    out["ratio"] = ratio
    # a planned-zero cell counts as followed while less than one currency unit was spent on it
    followed = np.where(planned_v > 0, np.abs(ratio - 1) <= tolerance + 1e-12, out["realized_spend"] < 1.0)
    out["status"] = np.where(followed, "followed", np.where(out["difference"] < 0, "under", "over"))
    out.attrs["tolerance"] = float(tolerance)
    return out


def outcome_table(forecast, promised, checked: np.ndarray, revenue: np.ndarray, hdi_prob: float) -> pd.DataFrame:
    """Realized revenue over the checked weeks against the predictive interval, per region and in total."""
    realized = _totals(revenue[None])[0]
    predictive = _totals(forecast.predictive[:, checked])
    low, high = hdi(predictive, hdi_prob)
    plan_low, plan_high = hdi(_totals(promised.predictive[:, checked]), hdi_prob)
    status = np.where(realized < low, "below", np.where(realized > high, "above", "inside"))
    return pd.DataFrame(
        {
            "region": [*forecast.regions, _TOTAL],
            "revenue_realized": realized,
            "revenue_mean": _totals(forecast.expected[:, checked]).mean(axis=0),
            "revenue_low": low,
            "revenue_high": high,
            "status": status,
            "inside": status == "inside",
            "position": (predictive < realized).mean(axis=0),
            "plan_revenue_mean": _totals(promised.expected[:, checked]).mean(axis=0),
            "plan_revenue_low": plan_low,
            "plan_revenue_high": plan_high,
        }
    )


def joint_surprise(predictive: np.ndarray, realized: np.ndarray) -> float:
    """How surprising ``realized`` (one value per region) is under ``predictive`` draws ``(draws, regions)``, all
    regions at once; about uniform on (0, 1) when the model is right, so a test at level ``a`` (re-plan when below
    ``a``) asks for a re-plan after at most a share ``a`` of followed quarters however many regions there are (read
    one by one, per-region intervals ask more often with every region added).

    Two tests, combined by Bonferroni (the smaller p-value doubled, at most 1): the regions' pattern, as the share of
    draws whose Mahalanobis distance from the predictive mean (in the predictive covariance) is at least the
    realized value's; and their sum, as the two-sided tail of the total among the draws, which catches a shift
    shared by every region (a channel over-rated everywhere, a demand shock) that the first reads with little power.
    With one region the two are the same test and its p-value is returned. A realized value off the span the draws
    vary in (a direction with no spread, e.g. a constant region) gives 0."""
    draws = np.asarray(predictive, dtype=float)
    realized = np.asarray(realized, dtype=float)
    if draws.ndim != 2 or draws.shape[1] != len(realized) or len(draws) < 2:
        raise ValueError(f"predictive must be (draws >= 2, {len(realized)}); got shape {draws.shape}")
    mean = draws.mean(axis=0)
    cov = np.atleast_2d(np.cov(draws, rowvar=False))
    precision = np.linalg.pinv(cov, hermitian=True)
    gap = realized - mean
    off_span = gap - cov @ precision @ gap
    if np.linalg.norm(off_span) > 1e-9 * (np.linalg.norm(gap) + np.sqrt(np.trace(cov)) + 1e-300):
        return 0.0
    centred = draws - mean
    distance = np.einsum("ij,jk,ik->i", centred, precision, centred)
    p_regions = float(np.mean(distance >= gap @ precision @ gap))
    if len(realized) == 1:
        return p_regions
    total, realized_total = draws.sum(axis=1), realized.sum()
    p_total = min(1.0, 2.0 * min(np.mean(total >= realized_total), np.mean(total <= realized_total)))
    return float(min(1.0, 2.0 * min(p_regions, p_total)))


def psis_weights(expected: np.ndarray, revenue: np.ndarray, fitted) -> tuple[np.ndarray, float]:
    """Pareto-smoothed log importance weights of the posterior draws given the realized weeks, and k-hat.

    Parameters
    ----------
    expected : numpy.ndarray
        Expected revenue per draw of the realized weeks (draws, weeks, regions), in currency, draws in posterior
        order.
    revenue : numpy.ndarray
        Realized revenue (weeks, regions).
    fitted : mmm.FittedMMM
        Gives ``sigma`` per draw and region and the revenue scale (the likelihood of :mod:`mmm.model`).

    Returns
    -------
    log_weights : numpy.ndarray
        Normalised (they exponentiate to weights summing to 1), one per draw.
    khat : float
        The Pareto shape estimate; above :data:`KHAT_LIMIT` the weights are unreliable.
    """
    import arviz as az

    sd = fitted.draws("sigma") * fitted.data.revenue_scale  # (draws, R), in currency
    z = (revenue[None] - expected) / sd[:, None, :]
    loglik = (-0.5 * z**2 - np.log(sd)[:, None, :]).sum(axis=(1, 2))
    log_weights, khat = az.psislw(loglik - loglik.max(), reff=1.0)
    return np.asarray(log_weights, dtype=float), float(khat)


def evidence_table(fitted, target: PlanTarget, spend: pd.DataFrame, n_weeks: int, weights: np.ndarray) -> pd.DataFrame:
    """Per model cell: ROI at the realized period-scaled spend, before and after reweighting the draws."""
    curves = fitted.response_curves(period_weeks=target.weeks, currency=target.currency or None)
    cells = fitted.data.cells[_CELL].reset_index(drop=True)
    period_spend = cells.merge(spend, on=_CELL, how="left")["spend"].fillna(0.0).to_numpy() * target.weeks / n_weeks
    roi = curves.roi(period_spend)  # (draws, cells), draws in posterior order
    below = roi < target.roi_hurdle
    before_mean, after_mean = roi.mean(axis=0), weights @ roi
    p_before, p_after = below.mean(axis=0), weights @ below
    out = cells.assign(
        spend_period_realized=period_spend,
        roi_mean_before=before_mean,
        roi_mean_after=after_mean,
        roi_sd_before=roi.std(axis=0),
        p_roi_below_hurdle_before=p_before,
        p_roi_below_hurdle_after=p_after,
        below_hurdle_after=p_after > 0.5,
        newly_below_hurdle=(p_after > 0.5) & (p_before <= 0.5),
    )
    out["revenue_moved"] = np.abs(after_mean - before_mean) * period_spend
    out["revenue_sd"] = out["roi_sd_before"] * period_spend
    return out


# ---------------------------------------------------------------------------------------------------- helpers
def _model_spend(spend: pd.DataFrame, fitted, last_week: pd.Timestamp) -> pd.DataFrame:
    """The data's weekly spend up to ``last_week`` on the model's cells (other cells are the plan's business)."""
    keep = spend[pd.to_datetime(spend["week"]) <= last_week]
    return keep.merge(fitted.data.cells[_CELL], on=_CELL, how="inner")[["week", *_CELL, "spend"]]


def _planned_spend(realized: pd.DataFrame, target: PlanTarget, weeks: pd.DatetimeIndex) -> pd.DataFrame:
    """Realized spend before the plan's first week, the plan's flat weekly spend (0 off plan) from it on."""
    before = realized[pd.to_datetime(realized["week"]) < weeks[0]]
    during = realized[pd.to_datetime(realized["week"]).isin(weeks)].drop(columns="spend")
    weekly = target.allocation[[*_CELL, "spend_period"]].assign(spend=lambda d: d["spend_period"] / target.weeks)
    during = during.merge(weekly[[*_CELL, "spend"]], on=_CELL, how="left").fillna({"spend": 0.0})
    return pd.concat([before, during[before.columns]], ignore_index=True)


def _revenue_grid(kpi: pd.DataFrame, weeks: pd.DatetimeIndex, regions: tuple[str, ...]) -> np.ndarray:
    """Realized revenue (weeks, regions); every (week, region) must be there."""
    rows = kpi[pd.to_datetime(kpi["week"]).isin(weeks)]
    grid = rows.pivot_table(index="week", columns="region", values="revenue", aggfunc="sum")
    grid = grid.reindex(index=weeks, columns=list(regions))
    if grid.isna().to_numpy().any():
        absent = [f"week {w.date()}, region {r}" for w, r in grid[grid.isna()].stack(future_stack=True).index[:5]]
        raise ValueError(f"kpi.revenue is missing for {int(grid.isna().sum().sum())} (week, region) rows: {absent}")
    return grid.to_numpy(dtype=float)


def _totals(draws: np.ndarray) -> np.ndarray:
    """Sum over weeks per region, with the all-regions total appended: (..., weeks, R) → (..., R + 1)."""
    per_region = draws.sum(axis=-2)
    return np.concatenate([per_region, per_region.sum(axis=-1, keepdims=True)], axis=-1)


def _notes(data: contracts.Dataset, target: PlanTarget, weeks: pd.DatetimeIndex) -> tuple[str, ...]:
    notes = []
    later = pd.to_datetime(data.kpi["week"]) > weeks[-1]
    if later.any():
        notes.append(
            f"kpi has {pd.to_datetime(data.kpi.loc[later, 'week']).nunique()} weeks after the plan's "
            f"{target.weeks} weeks ({weeks[-1].date()}); they are not checked"
        )
    if len(weeks) < target.weeks:
        notes.append(f"{len(weeks)} of the plan's {target.weeks} weeks are realized; planned spend is pro-rated")
    return tuple(notes)


def _check_options(tolerance: float, hdi_prob: float, seed: int) -> None:
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be a number in [0, 1), e.g. 0.1 for ±10%; got {tolerance!r}")
    if isinstance(hdi_prob, bool) or not isinstance(hdi_prob, (int, float)) or not 0 < hdi_prob < 1:
        raise ValueError(f"hdi_prob must be a number in (0, 1); got {hdi_prob!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")


# ----------------------------------------------------------------------------------------------------- verdict
def judge(
    adherence: pd.DataFrame,
    outcome: pd.DataFrame,
    evidence: pd.DataFrame,
    khat: float,
    ess: float,
    target: PlanTarget,
    hdi_prob: float,
    joint_p: float,
) -> tuple[str, str]:
    """The verdict (one of :data:`VERDICTS`) and a plain recommendation naming regions and cells.

    ``re-plan`` when the regions' revenue taken together is outside what the model expects (``joint_p`` below
    ``1 - hdi_prob``, or not a number); each region outside its own interval is named either way."""
    label, cur = interval_label(hdi_prob), target.currency
    reliable = khat <= KHAT_LIMIT
    wrong = not joint_p >= 1.0 - hdi_prob
    n_regions = int((outcome["region"] != _TOTAL).sum())
    outside = outcome[(outcome["region"] != _TOTAL) & ~outcome["inside"]]
    if not len(outside) and not outcome["inside"].all():
        outside = outcome[~outcome["inside"]]
    off = adherence[(adherence["level"] == "cell") & (adherence["status"] != "followed")]
    lines = []
    for row in outside.itertuples():
        place = "over all regions" if row.region == _TOTAL else f"in {row.region}"
        said = (
            f"Revenue {place} was {row.status} the model's {label} given the spend actually made "
            f"({_amount(row.revenue_realized, cur)} against {_amount(row.revenue_low, cur)} to "
            f"{_amount(row.revenue_high, cur)})"
        )
        if wrong:
            cell = _lift_test_cell(evidence, row.region, reliable)
            where = f"; run a lift test on {cell}" if cell else ""
            lines.append(f"{said}: the model was wrong there{where}.")
        elif row.region != _TOTAL and n_regions > 1:
            lines.append(
                f"{said}, but all regions taken together are within what the model expects (joint p = "
                f"{joint_p:.2f}, at least {1.0 - hdi_prob:.2f} asked; with {n_regions} regions one of them often "
                f"lands outside its own interval by chance): no reason to re-plan; watch {row.region} next quarter."
            )
        else:
            watch = "the total" if row.region == _TOTAL else row.region
            lines.append(
                f"{said}, but not far enough outside to re-plan (joint p = {joint_p:.2f}, at least "
                f"{1.0 - hdi_prob:.2f} asked): watch {watch} next quarter."
            )
    if wrong and not len(outside):
        lines.append(
            f"Every region was inside its own {label}, but taken together the regions' revenue is outside what the "
            f"model expects (joint p = {joint_p:.2f} < {1.0 - hdi_prob:.2f}): their mix does not match the model."
        )
    if not reliable:
        lines.append(
            f"The realized weeks are too surprising for the posterior to be reweighted (PSIS k-hat {khat:.2f} > "
            f"{KHAT_LIMIT}, effective sample size {ess:.0f}): the ROI changes below are unreliable; refit the model "
            "with the new weeks."
        )
    if len(off):
        lines.append(_adherence_line(adherence, off, target))
    # an unreliable reweighting alone is no reason to re-plan (13 weeks of 4 regions often give k-hat > 0.7 when the
    # plan was followed and revenue came in as predicted): it only withholds the per-cell evidence
    as_expected = f"inside the model's {label} in every region" if not len(outside) else "as the model expects overall"
    if wrong:
        verdict = "re-plan"
        lines.insert(0, "Re-plan.")
    elif len(off):
        verdict = "not followed"
        lines.append(
            f"Revenue was {as_expected} given the spend actually made, so the model is not contradicted: follow the "
            "plan."
        )
    else:
        verdict = "keep"
        lines.append(
            f"Spend followed the plan (within ±{target_tolerance(adherence):.0%}) and revenue was {as_expected}: keep "
            "the plan."
        )
    newly = evidence[evidence["newly_below_hurdle"]] if reliable else evidence.iloc[0:0]
    for row in newly.itertuples():
        lines.append(
            f"The new weeks put {row.region}/{row.channel} below the ROI hurdle {target.roi_hurdle:g} at the "
            f"realized spend (P(ROI < hurdle) {row.p_roi_below_hurdle_before:.0%} → "
            f"{row.p_roi_below_hurdle_after:.0%}): run a lift test on {row.region}/{row.channel}."
        )
    return verdict, " ".join(lines)


def target_tolerance(adherence: pd.DataFrame) -> float:
    """The tolerance the adherence table was judged with (stored in its attrs)."""
    return float(adherence.attrs.get("tolerance", 0.1))


def _adherence_line(adherence: pd.DataFrame, off: pd.DataFrame, target: PlanTarget) -> str:
    n_cells = int((adherence["level"] == "cell").sum())
    regions = adherence[(adherence["level"] == "region") & (adherence["status"] != "followed")]
    region_text = ", ".join(f"{r} {s} ({q:.0%} of plan)" for r, s, q in regions[["region", "status", "ratio"]].values)
    worst = off.assign(gap=off["difference"].abs()).nlargest(5, "gap")
    cell_text = ", ".join(
        f"{r}/{c} {s} ({'unplanned' if not math.isfinite(q) else f'{q:.0%} of plan'})"
        for r, c, s, q in worst[["region", "channel", "status", "ratio"]].values
    )
    return (
        f"Spend did not follow the plan in {len(off)} of {n_cells} cells (beyond ±{target_tolerance(adherence):.0%})"
        f"{'; regions: ' + region_text if region_text else ''}; largest gaps: {cell_text}."
    )


def _lift_test_cell(evidence: pd.DataFrame, region: str, reliable: bool) -> str:
    """The cell of ``region`` to test: the one whose ROI moved most (reliable reweighting) or the most uncertain,
    both in revenue terms at the realized spend."""
    cells = evidence[evidence["region"] == region]
    if not len(cells):
        cells = evidence
    column = "revenue_moved" if reliable else "revenue_sd"
    row = cells.loc[cells[column].idxmax()]
    return f"{row['region']}/{row['channel']}"


def _amount(x: float, currency: str) -> str:
    return f"{x:,.0f}{' ' + currency if currency else ''}"


# ----------------------------------------------------------------------------------------------------- outputs
def check_table(result: Findings) -> pd.DataFrame:
    """The one table of ``check.csv``: a row per cell, per region and the total, spend and revenue side by side.

    Columns: ``level`` (cell / region / total), ``region``, ``channel``, ``planned_spend``, ``realized_spend``,
    ``spend_status``, ``revenue_realized``, ``revenue_mean``, ``revenue_low``, ``revenue_high``, ``revenue_status``,
    ``inside``, ``p_roi_below_hurdle_before``, ``p_roi_below_hurdle_after``, ``roi_mean_before``,
    ``roi_mean_after`` (revenue columns on region and total rows, ROI columns on cell rows).
    """
    spend = result.adherence[["level", *_CELL, "planned_spend", "realized_spend", "status"]]
    spend = spend.rename(columns={"status": "spend_status"})
    revenue = result.outcome.rename(columns={"status": "revenue_status"})[
        ["region", "revenue_realized", "revenue_mean", "revenue_low", "revenue_high", "revenue_status", "inside"]
    ].assign(level=lambda d: np.where(d["region"] == _TOTAL, "total", "region"))
    roi = result.evidence[
        [*_CELL, "p_roi_below_hurdle_before", "p_roi_below_hurdle_after", "roi_mean_before", "roi_mean_after"]
    ].assign(level="cell")
    out = spend.merge(revenue, on=["level", "region"], how="outer").merge(roi, on=["level", *_CELL], how="outer")
    order = {"cell": 0, "region": 1, "total": 2}
    out = out.sort_values("level", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    out["channel"] = out["channel"].fillna("")
    return out


def write_csv(result: Findings, path: str | Path) -> Path:
    """Write :func:`check_table` to ``path`` (UTF-8, ``\\n`` line ends)."""
    path = Path(path)
    table = check_table(result)
    money = [c for c in table.columns if c.endswith("_spend") or (c.startswith("revenue_") and c != "revenue_status")]
    table[money] = table[money].round(2)  # cents; the float noise of sums is not information
    table.to_csv(path, index=False, lineterminator="\n")
    return path


def write_html(result: CheckResult, path: str | Path) -> Path:
    """Write the self-contained ``check.html`` (no script, no link, nothing fetched) from its Jinja2 template."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["money"] = lambda x: _money(x, result.currency)
    env.filters["pct"] = lambda x: "—" if x is None or not math.isfinite(float(x)) else f"{float(x):.0%}"
    env.filters["num"] = lambda x, d=2: "—" if x is None or not math.isfinite(float(x)) else f"{float(x):.{d}f}"
    html = env.get_template("check.html.j2").render(
        r=result,
        adherence=result.adherence.to_dict("records"),
        outcome=result.outcome.to_dict("records"),
        evidence=result.evidence.to_dict("records"),
        reliable=result.khat <= KHAT_LIMIT,
        khat_limit=KHAT_LIMIT,
    )
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path


def _money(x: float, currency: str) -> str:
    if x is None or not math.isfinite(float(x)):
        return "—"
    return f"{float(x):,.0f}{' ' + currency if currency else ''}".replace("-", "−")
