"""Attributed ROI per (region, channel): attributed revenue / spend, the prior the media-mix model takes.

Journeys are usually a sample of the market (tracked users), while spend is the whole market's, so the ratio of
the two is on the sample's scale (ROIs around 0.005 on the bundled sample). :func:`attributed_roi` scales the
attributed revenue to the population when told how: by the KPI table's revenue over the spend's weeks (``kpi``),
or by the share of revenue the journeys track (``tracked_share``); and warns, with the numbers, when it is not
told and the ratio looks like a sample's.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

from ._errors import DataWarning, contract_error, warn
from .results import AttributedROI, Credit

__all__ = ["IMPLAUSIBLE_MEDIAN_ROI", "SMALL_REVENUE_FRACTION", "attributed_roi"]

#: Unscaled ROIs with a median below this look like journey-sample revenue over population spend: warn.
IMPLAUSIBLE_MEDIAN_ROI = 0.05
#: Unscaled attributed revenue below this fraction of the KPI revenue over the same weeks: warn.
SMALL_REVENUE_FRACTION = 0.5
_BOUNDS = ("low", "high")


def attributed_roi(
    credit: Credit | pd.DataFrame,
    spend: pd.DataFrame,
    *,
    value: str = "value",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    kpi: pd.DataFrame | None = None,
    tracked_share: float | None = None,
    scale_to_kpi: bool = True,
) -> AttributedROI:
    """Attributed revenue over spend per (region, channel), optionally scaled from the journeys to the population.

    Parameters
    ----------
    credit : Credit or pandas.DataFrame
        Output of a credit method: ``channel``, the value column and, for per-region ROI, ``region`` (e.g.
        ``markov(paths, by="region")``). Interval columns ``<value>_low``/``<value>_high`` (from
        :func:`attribution.bootstrap`), when present, give ``attributed_revenue_low``/``_high`` and
        ``roi_low``/``roi_high``.
    spend : pandas.DataFrame
        Weekly spend: ``week``, ``region``, ``channel``, ``spend``.
    value : str
        Column of the credit holding attributed revenue (e.g. ``"value"``, ``"last_touch_value"``).
    start, end : date-like, optional
        Only spend of weeks in ``[start, end]`` counts (match the journeys' period).
    kpi : pandas.DataFrame, optional
        Weekly KPI: ``week``, ``region``, ``revenue``. With ``scale_to_kpi`` (the default), attributed revenue is
        multiplied by ``scale`` = KPI revenue over the spend's weeks / attributed revenue, per region when the
        credit is by region, else overall: attributed revenue then sums to the KPI revenue. It must cover every
        week of the spend used and every region of the credit. Attribution credits every conversion to the
        channels, so the KPI's baseline (organic) revenue is credited too and these ROIs are an upper bound on
        incremental ROI (on the bundled sample, where media cause a quarter of the revenue, about 4x the true
        ROIs, with the channels' ranking kept).
    tracked_share : float, optional
        Share of the population's revenue the journeys track, in (0, 1]: attributed revenue is divided by it
        (``scale = 1 / tracked_share``). Give ``kpi`` or ``tracked_share``, not both.
    scale_to_kpi : bool
        With ``kpi``, scale to it; ``False`` uses ``kpi`` only to check how much of its revenue the journeys
        carry (a :class:`DataWarning` states the numbers when it is under half).

    Returns
    -------
    AttributedROI
        ``table``: ``region`` (when the credit has one), ``channel``, ``attributed_revenue``, ``spend_window``
        (spend over the weeks used), ``roi`` (and the interval columns, kind and mass in
        ``table.attrs["interval"]``); ``unmatched``: cells with credit but no spend, spend but no credit, or zero
        spend (their ``roi`` is NaN; also announced with a :class:`DataWarning`); ``window``: first and last
        week of spend used; ``scaled_by`` and ``scale``: how attributed revenue was scaled.

    Warns
    -----
    DataWarning
        When revenue is not scaled and the ROIs look like a sample's (median below
        ``IMPLAUSIBLE_MEDIAN_ROI``), or the attributed revenue is under ``SMALL_REVENUE_FRACTION`` of the KPI
        revenue; the message gives the numbers and how to scale.

    Examples
    --------
    >>> roi = attributed_roi(markov(paths, by="region"), spend, kpi=kpi)  # doctest: +SKIP
    >>> roi.table[["region", "channel", "roi"]]                          # doctest: +SKIP
    >>> roi.scale                                                        # doctest: +SKIP
    """
    table, label = _credit_table(credit)
    _check_credit(table, value)
    if kpi is not None and tracked_share is not None:
        raise ValueError("give kpi (scale to the KPI revenue) or tracked_share, not both")
    share = _check_tracked_share(tracked_share)
    keys = ["region", "channel"] if "region" in table.columns else ["channel"]
    _check_unique_cells(table, keys)
    spend = _check_spend(spend)
    _check_spellings(table, spend, keys)
    spent, weeks = _spend_over(spend, keys, start, end)
    window = (weeks[0], weeks[-1]) if len(weeks) else (pd.NaT, pd.NaT)
    earned = _attributed_revenue(table, value, keys)
    kpi_revenue = None if kpi is None else _kpi_revenue(kpi, weeks, earned, keys)
    scale, scaled_by = None, None
    if share is not None:
        scale, scaled_by = _scale_frame(earned, None, ["channel"], fixed=1.0 / share), "tracked_share"
    elif kpi_revenue is not None and scale_to_kpi:
        scale, scaled_by = _scale_frame(earned, kpi_revenue, keys), "kpi"
    if scale is not None:
        earned = _apply_scale(earned, scale)

    out = earned.merge(spent, on=keys, how="outer", indicator=True).sort_values(keys, ignore_index=True)
    positive = out["spend_window"] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for suffix in ("", *(f"_{b}" for b in _BOUNDS)):
            if f"attributed_revenue{suffix}" in out.columns:
                ratio = out[f"attributed_revenue{suffix}"] / out["spend_window"]
                out[f"roi{suffix}"] = np.where(positive, ratio, np.nan)
    unmatched = _unmatched(out, keys, positive)
    out = out.drop(columns="_merge")
    out.attrs = {"interval": label} if label and "roi_low" in out.columns else {}
    if len(unmatched):
        counts = unmatched["reason"].value_counts(sort=False).to_dict()
        warn(f"attributed_roi: ROI is NaN for unmatched cells {counts} (see the result's .unmatched)", DataWarning)
    if scale is None:
        _warn_if_sample_scale(out, kpi_revenue, window)
    return AttributedROI(out, unmatched, window, scaled_by, scale)


def _spend_over(
    spend: pd.DataFrame, keys: list[str], start: object, end: object
) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """``spend_window`` per cell over the weeks in ``[start, end]``, and those weeks (sorted)."""
    weeks = pd.to_datetime(spend["week"])
    keep = np.ones(len(spend), dtype=bool)
    if start is not None:
        keep &= (weeks >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (weeks <= pd.Timestamp(end)).to_numpy()
    spent = spend.loc[keep].groupby(keys, as_index=False, observed=True)["spend"].sum()
    return spent.rename(columns={"spend": "spend_window"}), pd.DatetimeIndex(weeks[keep].unique()).sort_values()


def _attributed_revenue(table: pd.DataFrame, value: str, keys: list[str]) -> pd.DataFrame:
    """``attributed_revenue`` (and its ``_low``/``_high``) per cell, summed over any other rows (e.g. positions)."""
    columns = {value: "attributed_revenue"}
    for bound in _BOUNDS:
        if f"{value}_{bound}" in table.columns:
            columns[f"{value}_{bound}"] = f"attributed_revenue_{bound}"
    return table.groupby(keys, as_index=False, observed=True)[list(columns)].sum().rename(columns=columns)


def _credit_table(credit: Credit | pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """The credit table and its interval label."""
    if isinstance(credit, Credit):
        return credit.table, credit.interval
    if isinstance(credit, pd.DataFrame):
        return credit, credit.attrs.get("interval")
    raise TypeError(f"credit must be an attribution.Credit or a pandas DataFrame, got {type(credit).__name__}")


def _check_credit(credit: pd.DataFrame, value: str) -> None:
    missing = [c for c in ("channel", value) if c not in credit.columns]
    if missing:
        raise contract_error(
            "credit",
            missing[0],
            "missing column",
            f"the output of markov/shapley/heuristics with 'channel' and {value!r} (found {list(credit.columns)})",
        )
    bad = credit.index[credit[value].isna() | (credit[value] < 0)]
    if len(bad):
        raise contract_error(
            "credit", value, f"{len(bad)} rows are missing or negative", ">= 0", bad, credit.loc[bad, value]
        )


def _check_unique_cells(credit: pd.DataFrame, keys: list[str]) -> None:
    """Refuse a cell credited on two rows: summing them would double its attributed revenue and ROI."""
    # the ordered Shapley value has one row per (channel, position): those rows are parts of one cell
    cell = [*keys, *(["position"] if "position" in credit.columns else [])]
    dup = credit.duplicated(cell, keep=False).to_numpy()
    if dup.any():
        rows = credit.index[dup]
        labels = [", ".join(f"{k} {credit.at[r, k]}" for k in cell) for r in rows[:5]]
        raise contract_error(
            "credit",
            cell[-1],
            f"{int(dup.sum())} rows repeat a ({', '.join(cell)}) cell, which would be summed and its ROI multiplied",
            f"one row per ({', '.join(cell)}) cell, as markov/shapley/heuristics return (drop the repeats, or "
            "concatenate credit of different segments with their segment column)",
            rows,
            labels,
        )


def _normal_form(value: object) -> str:
    """How two spellings of one name compare: Unicode NFC, trimmed, case-folded."""
    return unicodedata.normalize("NFC", str(value)).strip().casefold()


def _check_spellings(credit: pd.DataFrame, spend: pd.DataFrame, keys: list[str]) -> None:
    """Refuse credit keys that match spend keys only after ignoring case, surrounding spaces or Unicode form."""
    for key in keys:
        credit_only = set(credit[key].dropna().unique()) - set(spend[key].dropna().unique())
        spend_by_form: dict[str, list[object]] = {}
        for name in set(spend[key].dropna().unique()) - set(credit[key].dropna().unique()):
            spend_by_form.setdefault(_normal_form(name), []).append(name)
        pairs = sorted(
            ((c, spend_by_form[_normal_form(c)][0]) for c in credit_only if _normal_form(c) in spend_by_form),
            key=lambda pair: str(pair[0]),
        )
        if pairs:
            rows = credit.index[credit[key].isin([c for c, _ in pairs]).to_numpy()]
            raise contract_error(
                "credit",
                key,
                f"{len(pairs)} {key} names differ from the spend table's only in case, surrounding spaces or "
                "Unicode form (NFC/NFD), so their cells would get no spend: "
                + "; ".join(f"credit {_spelling(c)}: did you mean spend's {_spelling(s)}?" for c, s in pairs[:5]),
                f"the same spelling of each {key} in the credit and the spend tables",
                rows,
                credit.loc[rows[:5], key].tolist(),
            )


def _spelling(name: object) -> str:
    """A name quoted so that spellings that print alike (NFC and NFD) can be told apart."""
    text = repr(name)
    return text if text.isascii() else f"{text} (code points {name!a})"


def _check_tracked_share(tracked_share: float | None) -> float | None:
    if tracked_share is None:
        return None
    ok = isinstance(tracked_share, int | float | np.floating) and not isinstance(tracked_share, bool)
    if not (ok and 0 < tracked_share <= 1):
        raise ValueError(
            f"tracked_share must be a number in (0, 1] (the share of revenue the journeys track), got {tracked_share!r}"
        )
    return float(tracked_share)


def _check_spend(spend: pd.DataFrame) -> pd.DataFrame:
    from contracts import validate_spend

    return validate_spend(spend)


def _kpi_revenue(kpi: pd.DataFrame, weeks: pd.DatetimeIndex, earned: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """KPI revenue over ``weeks``, per region when ``keys`` has one (else one row); checks it covers them."""
    from contracts import validate_kpi

    kpi = validate_kpi(kpi)
    missing = weeks.difference(pd.DatetimeIndex(kpi["week"].unique()))
    if len(missing):
        raise contract_error(
            "kpi",
            "week",
            f"{len(missing)} weeks of the spend used have no KPI row",
            f"KPI revenue for every week of the spend used ({weeks[0].date()} to {weeks[-1].date()})",
            values=list(missing[:5].date),
            rows=[f"week {w.date()}" for w in missing[:5]],
            n_offending=len(missing),
        )
    window = kpi.loc[kpi["week"].isin(weeks)]
    if "region" not in keys:
        return pd.DataFrame({"kpi_revenue": [float(window["revenue"].sum())]})
    by_region = window.groupby("region", as_index=False, observed=True)["revenue"].sum()
    absent = sorted(set(earned["region"]) - set(by_region["region"]))
    if absent:
        forms = {_normal_form(r): r for r in by_region["region"]}
        hints = [
            f"credit {_spelling(r)}: did you mean KPI's {_spelling(forms[_normal_form(r)])}?"
            for r in absent
            if _normal_form(r) in forms
        ]
        raise contract_error(
            "kpi",
            "region",
            f"{len(absent)} regions of the credit have no KPI rows" + (f" ({'; '.join(hints[:5])})" if hints else ""),
            f"KPI revenue for every region of the credit (found {sorted(by_region['region'])})",
            rows=[f"region {r}" for r in absent],
            values=absent,
        )
    return by_region.rename(columns={"revenue": "kpi_revenue"})


def _scale_frame(
    earned: pd.DataFrame, kpi_revenue: pd.DataFrame | None, keys: list[str], fixed: float | None = None
) -> pd.DataFrame:
    """One row per region (or one overall): ``journey_revenue``, ``kpi_revenue``, ``scale``."""
    by = [k for k in keys if k == "region"]
    if by:
        journey = earned.groupby(by, as_index=False, observed=True)["attributed_revenue"].sum()
    else:
        journey = pd.DataFrame({"attributed_revenue": [float(earned["attributed_revenue"].sum())]})
    frame = journey.rename(columns={"attributed_revenue": "journey_revenue"})
    if kpi_revenue is None:
        frame["kpi_revenue"] = np.nan
        frame["scale"] = fixed
        return frame
    frame = frame.merge(kpi_revenue, on=by, how="left") if by else pd.concat([frame, kpi_revenue], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["scale"] = np.where(frame["journey_revenue"] > 0, frame["kpi_revenue"] / frame["journey_revenue"], np.nan)
    return frame


def _apply_scale(earned: pd.DataFrame, scale: pd.DataFrame) -> pd.DataFrame:
    """Multiply the revenue columns by the region's (or the overall) scale."""
    columns = [c for c in earned.columns if c.startswith("attributed_revenue")]
    if "region" in scale.columns:
        factor = earned[["region"]].merge(scale[["region", "scale"]], on="region", how="left")["scale"].to_numpy()
    else:
        factor = np.full(len(earned), float(scale["scale"].iloc[0]))
    # the scale is undefined (NaN) only where the journeys attributed no revenue at all: it stays 0
    factor = np.where(np.isnan(factor), 1.0, factor)
    return earned.assign(**{c: earned[c].to_numpy() * factor for c in columns})


def _unmatched(out: pd.DataFrame, keys: list[str], positive: pd.Series) -> pd.DataFrame:
    """Cells whose ROI is NaN, with the reason."""
    reasons = {
        "no_spend": out["_merge"] == "left_only",
        "no_credit": out["_merge"] == "right_only",
        "zero_spend": (out["_merge"] == "both") & ~positive,
    }
    frames = [out.loc[mask, keys].assign(reason=reason) for reason, mask in reasons.items()]
    return pd.concat(frames, ignore_index=True)


def _warn_if_sample_scale(out: pd.DataFrame, kpi_revenue: pd.DataFrame | None, window: tuple) -> None:
    """Warn, with the numbers, when unscaled attributed revenue looks like a journey sample's."""
    roi = out["roi"].to_numpy(dtype=float)
    finite = roi[np.isfinite(roi)]
    median = float(np.median(finite)) if len(finite) else float("nan")
    revenue = float(out["attributed_revenue"].sum())
    spend = float(out["spend_window"].sum())
    weeks = f"{window[0].date()} to {window[-1].date()}" if pd.notna(window[0]) else "no weeks"
    problems = []
    if kpi_revenue is not None:
        total = float(kpi_revenue["kpi_revenue"].sum())
        fraction = revenue / total if total > 0 else float("nan")
        if fraction < SMALL_REVENUE_FRACTION:
            problems.append(
                f"attributed revenue {revenue:,.0f} is {fraction:.2%} of the KPI revenue {total:,.0f} over the "
                f"same weeks ({weeks})"
            )
    if median < IMPLAUSIBLE_MEDIAN_ROI:
        problems.append(
            f"the median ROI is {median:.4g} (attributed revenue {revenue:,.0f} over spend {spend:,.0f}, {weeks})"
        )
    if problems:
        warn(
            "attributed_roi: the journeys look like a sample of the market: "
            + "; ".join(problems)
            + ". Pass kpi=<weekly KPI table> to scale attributed revenue to the KPI revenue over the same weeks, "
            "or tracked_share=<share of revenue the journeys track>; unscaled, use the ROIs only relative to each "
            "other.",
            DataWarning,
        )
