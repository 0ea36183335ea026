"""Raw events → paths table, written once as an Ibis expression that runs unchanged on DuckDB and on Spark.

A journey is the run of a user's touches that ends with a conversion, or, for the touches after the user's
last conversion, with no conversion. Only touches within ``lookback_days`` before the journey's end count
(the conversion, or the last touch of a non-converting journey). Events are ordered by time; at equal times
touches come before conversions.

Nothing is dropped silently. The result's ``report`` (:class:`PathsReport`) counts:

- ``open_journeys`` (and their touches): non-converting journeys whose last touch is within ``lookback_days``
  of the end of the data; they may still convert, so they are neither conversions nor nulls;
- ``conversions_without_touches`` (and their revenue): conversions with no touch in the lookback window;
- ``touches_outside_lookback``: touches older than the window of their journey.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from ._errors import DataWarning, contract_error, warn
from .results import Paths, PathsReport

__all__ = ["EVENT_COLUMNS", "build_paths", "paths_expression"]

EVENT_COLUMNS = ("user_id", "ts", "channel", "event_type", "revenue")
_SECONDS_PER_DAY = 86_400
_RANK_WIDTH = 10
#: Longest lookback accepted (ten years): the window is converted to seconds and compared with timestamps.
MAX_LOOKBACK_DAYS = 3_650


def _ordered_join(keyed: ir.ArrayValue, sep: str) -> ir.StringValue:
    """Sort rank-prefixed strings, drop the prefix, join with ``sep``."""
    return keyed.sort().map(lambda x: x.substr(_RANK_WIDTH)).join(sep)


def _segments(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _as_table(events: pd.DataFrame | ir.Table) -> ir.Table:
    if isinstance(events, ir.Table):
        return events
    if isinstance(events, pd.DataFrame):
        if "ts" in events.columns:
            ts = events["ts"]
            if not pd.api.types.is_datetime64_any_dtype(ts):
                raise contract_error("events", "ts", f"dtype is {ts.dtype}", "UTC timestamps (datetime64)")
            ts = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
            # Ibis/Arrow engines hold microseconds; truncating explicitly avoids a lossy-cast error
            events = events.assign(ts=ts.dt.floor("us").astype("datetime64[us, UTC]"))
        # Handing Ibis an Arrow table (not a pandas frame) keeps it off its pandas type mapping, which reads a
        # deprecated pandas option and so warned once per column, dozens of times per call.
        return ibis.memtable(pa.Table.from_pandas(events, preserve_index=False))
    raise TypeError(f"events must be a pandas DataFrame or an ibis Table, got {type(events).__name__}")


def _validate(t: ir.Table, by: list[str], backend: Any, sep: str = " > ") -> None:
    """One aggregate query that counts each kind of bad row; raise naming the first kind found."""
    missing = [c for c in (*EVENT_COLUMNS, *by) if c not in t.columns]
    if missing:
        raise contract_error(
            "events",
            missing[0],
            f"missing column(s) {missing}",
            f"a table with columns {[*EVENT_COLUMNS, *by]} (found {list(t.columns)})",
        )
    if not t.ts.type().is_timestamp():
        raise contract_error("events", "ts", f"type is {t.ts.type()}", "UTC timestamps")
    is_touch, is_conv = t.event_type == "touch", t.event_type == "conversion"
    checks = {
        "user_id": (t.user_id.isnull(), "rows have no user_id", "a user_id on every row"),
        "ts": (t.ts.isnull(), "rows have no timestamp", "a UTC timestamp on every row"),
        "event_type": (
            ~(is_touch | is_conv).fill_null(False),
            "rows have another event_type",
            "'touch' or 'conversion'",
        ),
        "channel": (is_touch & t.channel.isnull(), "touch events have no channel", "a channel on every touch"),
        "revenue": (
            is_conv & (t.revenue.isnull() | (t.revenue < 0)),
            "conversion events have missing or negative revenue",
            "revenue >= 0 on every conversion",
        ),
        **{c: (t[c].isnull(), "rows have no segment value", "a value on every row") for c in by},
    }
    mark = sep.strip()
    # a channel holding the separator would be split into two channels by every credit method
    if t.channel.type().is_string():
        checks["channel_sep"] = (
            is_touch & t.channel.contains(mark).fill_null(False),
            f"touch events have a channel holding the path separator {mark!r} (it would split into two channels)",
            f"channel names without {mark!r}; rename them or pass another sep= to build_paths",
        )
    counts = t.aggregate(**{f"bad_{c}": cond.cast("int64").sum() for c, (cond, _, _) in checks.items()})
    found = _execute(counts, backend).iloc[0]
    for key, (cond, problem, allowed) in checks.items():
        col = key.removesuffix("_sep")
        n_bad = 0 if pd.isna(found[f"bad_{key}"]) else int(found[f"bad_{key}"])
        if n_bad:
            sample = _execute(t.filter(cond).select("user_id", "ts", col).limit(5), backend)
            examples = [f"user {u}, ts {ts}" for u, ts in zip(sample["user_id"], sample["ts"], strict=True)]
            raise contract_error("events", col, f"{n_bad} {problem}", allowed, examples, sample[col], n_bad)


def _execute(expr: ir.Expr, backend: Any) -> pd.DataFrame:
    """Run ``expr`` and convert through Arrow (not Ibis' pandas conversion, which warns once per column).

    PySpark converts through pandas with a keyword pandas 3 deprecates, warning once per column; a user can do
    nothing about it, so it is silenced here, for pyspark's own module only.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pyspark\.")
        table = backend.to_pyarrow(expr) if backend is not None else expr.to_pyarrow()
    return table.to_pandas()


def paths_expression(
    events: ir.Table, lookback_days: float = 30, by: Sequence[str] = (), sep: str = " > ", touch_days: bool = False
) -> ir.Table:
    """The Ibis expression: one row per (path, segment, status) with counts; backend-independent.

    ``status`` is ``"closed"`` (counted in the paths table), ``"open"`` or ``"no_touch"``.
    """
    by = list(by)
    lookback_s = float(lookback_days) * _SECONDS_PER_DAY
    t = events.select("user_id", "ts", "channel", "event_type", "revenue", *by)
    t = t.mutate(is_conv=(t.event_type == "conversion").cast("int64"), t_s=t.ts.epoch_seconds())
    order = [t.ts, t.is_conv, t.channel, t.revenue]
    user_w = ibis.cumulative_window(group_by=[t.user_id, *by], order_by=order)
    t = t.mutate(journey=t.is_conv.sum().over(user_w) - t.is_conv)
    journey_w = ibis.window(group_by=[t.user_id, *by, t.journey])
    t = t.mutate(end_s=t.t_s.max().over(journey_w))
    is_touch = t.is_conv == 0
    # Spark can neither order a string aggregation nor nest a window in an aggregate, so each touch first
    # gets its rank as a fixed-width prefix (a column of its own); paths are then collected, sorted,
    # stripped of the prefix and joined. The same expression runs on DuckDB and Spark.
    rank = ibis.row_number().over(group_by=[t.user_id, *by, t.journey], order_by=[t.ts, t.channel])
    prefix = rank.cast("string").lpad(_RANK_WIDTH, "0")
    t = t.mutate(
        in_window=is_touch & (t.t_s >= t.end_s - lookback_s),
        outside=is_touch & (t.t_s < t.end_s - lookback_s),
        keyed_channel=prefix + t.channel,
        keyed_days=prefix + ((t.end_s - t.t_s) / _SECONDS_PER_DAY).floor().cast("int64").cast("string"),
    )
    aggs = {
        "converted": t.is_conv.max(),
        "revenue": t.revenue.sum(where=t.is_conv == 1).fill_null(0.0).cast("float64"),
        "end_s": t.end_s.max(),
        "n_touches": t.in_window.cast("int64").sum(),
        "n_outside": t.outside.cast("int64").sum(),
        "path": t.keyed_channel.collect(where=t.in_window),
    }
    if touch_days:
        aggs["touch_days"] = t.keyed_days.collect(where=t.in_window)
    j = t.group_by(["user_id", *by, "journey"]).aggregate(**aggs)
    j = j.mutate(**{c: _ordered_join(j[c], sep) for c in ("path", *(["touch_days"] if touch_days else []))})
    data_end_s = events.ts.max().epoch_seconds()
    status = ibis.cases(
        (j.n_touches == 0, "no_touch"),
        ((j.converted == 0) & (j.end_s > data_end_s - lookback_s), "open"),
        else_="closed",
    )
    j = j.mutate(status=status)
    keys = ["path", *(["touch_days"] if touch_days else []), *by, "status"]
    return j.group_by(keys).aggregate(
        total_conversions=j.converted.sum().cast("int64"),
        total_conversion_value=j.revenue.sum().cast("float64"),
        total_null=(1 - j.converted).sum().cast("int64"),
        journeys=j.count(),
        touches=j.n_touches.sum().cast("int64"),
        touches_outside_lookback=j.n_outside.sum().cast("int64"),
    )


def build_paths(
    events: pd.DataFrame | ir.Table,
    lookback_days: float = 30,
    by: str | Sequence[str] | None = None,
    *,
    backend: Any = None,
    sep: str = " > ",
    touch_days: bool = False,
) -> Paths:
    """Build the paths table from raw touch and conversion events.

    Parameters
    ----------
    events : pandas.DataFrame or ibis.Table
        Events: ``user_id``, ``ts`` (UTC timestamp), ``channel``, ``event_type`` (``'touch'`` or
        ``'conversion'``), ``revenue`` (on conversions) and any segment columns in ``by``. An Ibis table runs
        on its own backend (DuckDB, PySpark, ...); a pandas frame runs on ``backend`` or in-process DuckDB.
    lookback_days : float
        Touches older than this before the journey's end are not part of its path.
    by : str or sequence of str, optional
        Segment columns (e.g. ``"region"``); a user's events in different segments form separate journeys.
    backend : ibis backend, optional
        Where to run a pandas ``events`` frame (default: Ibis' default DuckDB backend).
    sep : str
        Separator written between channels.
    touch_days : bool
        Also write ``touch_days`` (whole days before the journey's end of each touch), which enables the
        time-decay heuristic; paths are then grouped by (path, touch_days).

    Returns
    -------
    Paths
        ``table``: ``path``, (``touch_days``,) segment columns, ``total_conversions``,
        ``total_conversion_value``, ``total_null``, sorted by segment and path; ``report``: what was left out
        (see the module docstring), also announced with a :class:`DataWarning` when anything was. Every credit
        function takes the result as it is.

    Examples
    --------
    >>> paths = build_paths(events, lookback_days=30, by="region")  # doctest: +SKIP
    >>> paths.report.open_journeys                                  # doctest: +SKIP
    4553
    >>> markov(paths, order=2, by="region").table                   # doctest: +SKIP
    """
    ok = isinstance(lookback_days, int | float) and not isinstance(lookback_days, bool)
    if not (ok and 0 < lookback_days <= MAX_LOOKBACK_DAYS):
        raise ValueError(
            f"lookback_days must be a positive number of at most {MAX_LOOKBACK_DAYS:,} days (ten years), "
            f"got {lookback_days!r}"
        )
    if not isinstance(sep, str) or not sep.strip():
        raise ValueError(f"sep must be a string with a non-blank character (e.g. ' > '), got {sep!r}")
    cols = _segments(by)
    table = _as_table(events)
    _validate(table, cols, backend, sep)
    grouped = _execute(paths_expression(table, lookback_days, cols, sep, touch_days), backend)
    paths, report = _finish(grouped, cols, touch_days)
    return Paths(paths, report, float(lookback_days), tuple(cols), sep)


def _finish(grouped: pd.DataFrame, by: list[str], touch_days: bool) -> tuple[pd.DataFrame, PathsReport]:
    """Split the grouped counts into the paths table and the report of what was left out."""
    status = grouped["status"]
    open_, no_touch = grouped[status == "open"], grouped[status == "no_touch"]
    keys = [*by, "path", *(["touch_days"] if touch_days else [])]
    paths = (
        grouped.loc[status == "closed", [*keys, "total_conversions", "total_conversion_value", "total_null"]]
        .sort_values(keys, kind="stable")
        .reset_index(drop=True)
        .astype({"total_conversions": "int64", "total_null": "int64", "total_conversion_value": "float64"})
    )
    paths["path"] = paths["path"].astype(str)
    report = PathsReport(
        journeys=int(grouped["journeys"].sum()),
        open_journeys=int(open_["journeys"].sum()),
        open_touches=int(open_["touches"].sum()),
        conversions_without_touches=int(no_touch["total_conversions"].sum()),
        revenue_without_touches=float(no_touch["total_conversion_value"].sum()),
        touches_outside_lookback=int(grouped["touches_outside_lookback"].sum()),
    )
    left_out = report.left_out()
    if left_out:
        warn(f"build_paths left out of the paths table: {left_out} (see the result's .report)", DataWarning)
    return paths, report
