"""Attributed ROI per (region, channel): attributed revenue / spend, the prior the media-mix model takes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ._errors import DataWarning, contract_error

__all__ = ["attributed_roi"]


def attributed_roi(
    credit: pd.DataFrame,
    spend: pd.DataFrame,
    value: str = "value",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Attributed revenue over spend per (region, channel).

    Parameters
    ----------
    credit : pandas.DataFrame
        Output of a credit method: ``channel``, the value column and, for per-region ROI, ``region``
        (e.g. ``markov(paths, by="region")``). Interval columns ``<value>_ci_low``/``<value>_ci_high`` from
        :func:`attribution.bootstrap`, when present, give ``roi_ci_low``/``roi_ci_high``.
    spend : pandas.DataFrame
        Weekly spend: ``week``, ``region``, ``channel``, ``spend``.
    value : str
        Column of ``credit`` holding attributed revenue (e.g. ``"value"``, ``"last_touch_value"``).
    start, end : date-like, optional
        Only spend of weeks in ``[start, end]`` counts (match the journeys' period).

    Returns
    -------
    pandas.DataFrame
        ``region`` (when ``credit`` has one), ``channel``, ``attributed_revenue``, ``spend``, ``roi``.
        Cells with credit but no spend, or spend but no credit, get ``roi`` NaN; they are listed in
        ``attrs["unmatched"]`` and announced with a :class:`DataWarning`.
    """
    _check_credit(credit, value)
    spend = _check_spend(spend)
    weeks = pd.to_datetime(spend["week"])
    keep = np.ones(len(spend), dtype=bool)
    if start is not None:
        keep &= (weeks >= pd.Timestamp(start)).to_numpy()
    if end is not None:
        keep &= (weeks <= pd.Timestamp(end)).to_numpy()
    keys = ["region", "channel"] if "region" in credit.columns else ["channel"]
    spent = spend.loc[keep].groupby(keys, as_index=False, observed=True)["spend"].sum()
    columns = {value: "attributed_revenue"}
    for suffix in ("_ci_low", "_ci_high"):
        if f"{value}{suffix}" in credit.columns:
            columns[f"{value}{suffix}"] = f"revenue{suffix}"
    earned = credit.groupby(keys, as_index=False, observed=True)[list(columns)].sum().rename(columns=columns)
    out = earned.merge(spent, on=keys, how="outer", indicator=True).sort_values(keys, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = out["spend"] > 0
        out["roi"] = np.where(positive, out["attributed_revenue"] / out["spend"], np.nan)
        for suffix in ("_ci_low", "_ci_high"):
            if f"revenue{suffix}" in out.columns:
                out[f"roi{suffix}"] = np.where(positive, out[f"revenue{suffix}"] / out["spend"], np.nan)
    unmatched = {
        "no_spend": out.loc[out["_merge"] == "left_only", keys].to_dict("records"),
        "no_credit": out.loc[out["_merge"] == "right_only", keys].to_dict("records"),
        "zero_spend": out.loc[(out["_merge"] == "both") & ~positive, keys].to_dict("records"),
    }
    out = out.drop(columns="_merge")
    out.loc[out["attributed_revenue"].isna(), "roi"] = np.nan
    out.attrs["unmatched"] = unmatched
    if any(unmatched.values()):
        counts = {k: len(v) for k, v in unmatched.items() if v}
        warnings.warn(f"attributed_roi: ROI is NaN for unmatched cells {counts}", DataWarning, stacklevel=2)
    return out


def _check_credit(credit: pd.DataFrame, value: str) -> None:
    if not isinstance(credit, pd.DataFrame):
        raise TypeError(f"credit must be a pandas DataFrame, got {type(credit).__name__}")
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


def _check_spend(spend: pd.DataFrame) -> pd.DataFrame:
    from contracts import validate_spend

    return validate_spend(spend)
