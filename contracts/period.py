"""What "current spend" means: the spend of each cell over the last planning period of the data."""

from __future__ import annotations

import pandas as pd

from contracts.defaults import PERIOD_WEEKS


def period_spend(
    spend: pd.DataFrame, period_weeks: int = PERIOD_WEEKS, end: str | pd.Timestamp | None = None
) -> pd.DataFrame:
    """Spend per cell over the last ``period_weeks`` weeks of a weekly spend table.

    Parameters
    ----------
    spend : pandas.DataFrame
        The weekly spend table (``week``, ``region``, ``channel``, ``spend``).
    period_weeks : int
        Length of the planning period in weeks (13 = a quarter).
    end : date-like, optional
        Last week to count (inclusive); default the last week in ``spend``.

    Returns
    -------
    pandas.DataFrame
        ``region``, ``channel``, ``spend_period`` (sum over the period's weeks), ``weeks`` (weeks of the period that
        have a row for the cell). ``attrs`` is empty; the period is ``[start, end]`` in ``first_week``/``last_week``.

    Raises
    ------
    ValueError
        ``period_weeks`` is not a positive integer, ``end`` is before the first week, or the data hold fewer than
        ``period_weeks`` weeks up to ``end``.

    Examples
    --------
    >>> weeks = pd.date_range("2025-01-06", periods=4, freq="W-MON")
    >>> spend = pd.DataFrame({"week": weeks, "region": "Asia", "channel": "meta_ads", "spend": [1.0, 2, 3, 4]})
    >>> period_spend(spend, 2)[["region", "channel", "spend_period"]].to_dict("records")
    [{'region': 'Asia', 'channel': 'meta_ads', 'spend_period': 7.0}]
    """
    if isinstance(period_weeks, bool) or not isinstance(period_weeks, int) or period_weeks < 1:
        raise ValueError(f"period_weeks must be an integer >= 1; got {period_weeks!r}")
    missing = [c for c in ("week", "region", "channel", "spend") if c not in spend.columns]
    if missing:
        raise ValueError(f"spend: missing columns {missing}; expected week, region, channel, spend")
    weeks = pd.DatetimeIndex(sorted(pd.to_datetime(spend["week"]).unique()))
    if len(weeks) == 0:
        raise ValueError("spend: the table has no rows")
    last = weeks[-1] if end is None else pd.Timestamp(end)
    upto = weeks[weeks <= last]
    if len(upto) == 0:
        raise ValueError(f"period_spend: end {last.date()} is before the first week {weeks[0].date()}")
    if len(upto) < period_weeks:
        raise ValueError(
            f"period_spend: the spend table has {len(upto)} weeks up to {upto[-1].date()}, fewer than "
            f"period_weeks = {period_weeks}"
        )
    period = upto[-period_weeks:]
    rows = spend[pd.to_datetime(spend["week"]).isin(period)]
    out = (
        rows.groupby(["region", "channel"], sort=True, observed=True)["spend"]
        .agg(spend_period="sum", weeks="count")
        .reset_index()
    )
    out["region"] = out["region"].astype(str)
    out["channel"] = out["channel"].astype(str)
    out["first_week"] = period[0]
    out["last_week"] = period[-1]
    return out
