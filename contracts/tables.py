"""Validate one table against its contract and return it with canonical types.

Each ``validate_<table>`` returns a new frame (never mutates the input) with dates as ``datetime64[ns]``
(timestamps in UTC), text trimmed and numbers as ``float64``; or raises :class:`ContractError` listing every
problem it found.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from contracts.errors import ContractError, DataWarning, Problem, describe_rows, format_value
from contracts.schemas import (
    PYSPARK_PANDAS_NOISE,
    SPECS,
    VIOLATION,
    TableSpec,
    coerce_strings,
    optional_number_columns,
    pa,
)

_TEXT_COLUMNS = ("user_id", "channel", "region", "event_type", "path", "objective")


def validate_table(df: pd.DataFrame, table: str) -> pd.DataFrame:
    """Validate ``df`` as the DESIGN.md table named ``table`` (see :data:`contracts.TABLES`)."""
    try:
        validator = _VALIDATORS[table]
    except KeyError:
        raise ValueError(f"unknown table {table!r}; allowed: {sorted(_VALIDATORS)}") from None
    return validator(df)


def validate_spend(spend: pd.DataFrame) -> pd.DataFrame:
    """Weekly spend: ``week`` (Monday), ``region``, ``channel``, ``spend`` >= 0; one row per key and week."""
    out = _validate_common(spend, SPECS["spend"])
    _raise_if(_weekly_problems(out, SPECS["spend"], series=("region", "channel")))
    return out


def validate_kpi(kpi: pd.DataFrame) -> pd.DataFrame:
    """Weekly KPI: ``week`` (Monday), ``region``, ``revenue`` >= 0, optional ``new_users``."""
    out = _validate_common(kpi, SPECS["kpi"])
    _raise_if(_weekly_problems(out, SPECS["kpi"], series=("region",)))
    return out


def validate_controls(controls: pd.DataFrame) -> pd.DataFrame:
    """Weekly controls: ``week``, ``region`` and one or more numeric, finite control columns."""
    spec = SPECS["controls"]
    out = _validate_common(controls, spec)
    value_columns = [c for c in out.columns if c not in ("week", "region")]
    problems: list[Problem] = []
    if not value_columns:
        problems.append(
            Problem("controls", None, "has no control columns", "one or more numeric columns beside week, region")
        )
    for col in value_columns:
        values = pd.to_numeric(out[col], errors="coerce")
        bad = out.index[~np.isfinite(values.to_numpy(dtype=float))]
        if len(bad):
            problems.append(
                Problem(
                    "controls",
                    col,
                    f"{len(bad)} values are not finite numbers",
                    "finite numbers",
                    _examples(out, bad, spec, col, controls),
                    len(bad),
                )
            )
        else:
            out[col] = values.astype(float)
    _raise_if(problems)
    _raise_if(_weekly_problems(out, spec, series=("region",)))
    return out


def validate_channels(channels: pd.DataFrame) -> pd.DataFrame:
    """Channel catalog: unique ``channel`` with ``objective`` in {acquisition, retention, brand}."""
    return _validate_common(channels, SPECS["channels"])


def validate_lift_tests(lift_tests: pd.DataFrame) -> pd.DataFrame:
    """Lift tests: ``region``, ``channel``, ``start`` <= ``end``, ``spend_delta`` != 0, ``revenue_delta``, SE > 0."""
    spec = SPECS["lift_tests"]
    out = _validate_common(lift_tests, spec)
    problems = []
    bad = out.index[out["end"] < out["start"]]
    if len(bad):
        problems.append(
            Problem(
                "lift_tests",
                "end",
                f"{len(bad)} rows end before they start",
                "end >= start",
                describe_rows(out, bad, spec.context),
                len(bad),
            )
        )
    bad = out.index[out["spend_delta"] == 0]
    if len(bad):
        problems.append(
            Problem(
                "lift_tests",
                "spend_delta",
                f"{len(bad)} rows have spend_delta = 0 (nothing was tested)",
                "a non-zero spend change",
                describe_rows(out, bad, spec.context),
                len(bad),
            )
        )
    _raise_if(problems)
    return out


def validate_events(events: pd.DataFrame) -> pd.DataFrame:
    """Touch and conversion events: conversions carry ``revenue`` >= 0; touches carry a ``channel``."""
    spec = SPECS["events"]
    out = _validate_common(events, spec)
    problems = []
    is_touch = out["event_type"] == "touch"
    bad = out.index[is_touch & out["channel"].isna()]
    if len(bad):
        problems.append(
            Problem(
                "events",
                "channel",
                f"{len(bad)} touch events have no channel",
                "a channel name on every touch",
                describe_rows(out, bad, spec.context),
                len(bad),
            )
        )
    bad = out.index[~is_touch & out["revenue"].isna()]
    if len(bad):
        problems.append(
            Problem(
                "events",
                "revenue",
                f"{len(bad)} conversion events have no revenue",
                "revenue >= 0 on every conversion (0 when unknown)",
                describe_rows(out, bad, spec.context),
                len(bad),
            )
        )
    bad = out.index[is_touch & (out["revenue"].fillna(0) != 0)]
    if len(bad):
        problems.append(
            Problem(
                "events",
                "revenue",
                f"{len(bad)} touch events carry revenue",
                "revenue only on conversion events",
                describe_rows(out, bad, (*spec.context, "revenue")),
                len(bad),
            )
        )
    _raise_if(problems)
    return out


def validate_paths(paths: pd.DataFrame, *, drop_empty: bool = False) -> pd.DataFrame:
    """Path table (ChannelAttribution format): ``path`` "a > b", conversions, value and nulls >= 0.

    Parameters
    ----------
    drop_empty
        Rows with ``total_conversions + total_null == 0`` carry no information. By default they are an error;
        with ``drop_empty=True`` they are removed and reported, with their count and the first of them, in a
        :class:`DataWarning`. (The attribution engine skips them the same way and reports them on its result's
        ``skipped``.)
    """
    spec = SPECS["paths"]
    out = _validate_common(paths, spec)
    # An empty name: a separator at either end, or two separators with only blanks between them.
    blank_step = out["path"].str.contains(r"^\s*>|>\s*>|>\s*$", regex=True)
    bad = out.index[blank_step]
    if len(bad):
        _raise_if(
            [
                Problem(
                    "paths",
                    "path",
                    f"{len(bad)} paths have an empty channel name between separators",
                    "channel names separated by '>' (e.g. 'meta_ads > google_search')",
                    describe_rows(out, bad, ("path",)),
                    len(bad),
                )
            ]
        )
    empty = (out["total_conversions"] + out["total_null"]) == 0
    bad = out.index[empty]
    if len(bad) and not drop_empty:
        _raise_if(
            [
                Problem(
                    "paths",
                    "total_conversions",
                    f"{len(bad)} rows have total_conversions + total_null = 0",
                    "rows with at least one conversion or null (or pass drop_empty=True to skip them)",
                    describe_rows(out, bad, spec.context),
                    len(bad),
                )
            ]
        )
    if len(bad):
        warnings.warn(
            f"paths: dropped {len(bad)} of {len(out)} rows with total_conversions + total_null = 0 "
            f"(first: {'; '.join(describe_rows(out, bad, ('path',)))})",
            DataWarning,
            stacklevel=2,
        )
        out = out.loc[~empty].reset_index(drop=True)
    return out


# --------------------------------------------------------------------------------------------- internals


def _validate_common(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{spec.name} must be a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        _raise_if([Problem(spec.name, None, "table is empty (0 rows)", "at least one row")])
    missing = [c for c in spec.required if c not in df.columns]
    if missing:
        _raise_if(
            [
                Problem(
                    spec.name,
                    c,
                    "missing column",
                    f"a table with columns {list(spec.required)} (found {list(map(str, df.columns))})",
                )
                for c in missing
            ]
        )
    out = coerce_strings(df.reset_index(drop=True), _TEXT_COLUMNS)
    problems = _parse_times(out, spec)
    schema = spec.schema.add_columns({k: v for k, v in optional_number_columns(spec.name).items() if k in df})
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=PYSPARK_PANDAS_NOISE, category=FutureWarning)
            out = schema.validate(out, lazy=True)
    except pa.errors.SchemaErrors as err:
        problems += _pandera_problems(err.failure_cases, out, spec, df)
    if not problems and spec.key:
        problems += _duplicate_problems(out, spec)
    _raise_if(problems)
    return out


def _parse_times(out: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    problems = []
    for col, utc in [(c, False) for c in spec.date_columns] + [(c, True) for c in spec.timestamp_columns]:
        raw = out[col]
        with warnings.catch_warnings():
            # pandas warns when it cannot infer one format; unparseable values are reported below instead.
            warnings.filterwarnings("ignore", message="Could not infer format", category=UserWarning)
            parsed = pd.to_datetime(raw, errors="coerce", utc=utc)
            retry = parsed.isna() & raw.notna()
            if retry.any():  # the format inferred from the first value did not fit all: parse those one by one
                parsed[retry] = pd.to_datetime(raw[retry], errors="coerce", utc=utc, format="mixed")
        if not utc and isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_localize(None)
        bad = out.index[parsed.isna()]
        if len(bad):
            kind = "UTC timestamps (naive times are read as UTC)" if utc else "dates such as 2024-01-01"
            problems.append(
                Problem(
                    spec.name,
                    col,
                    f"{len(bad)} values are missing or not {'timestamps' if utc else 'dates'}",
                    kind,
                    _value_examples(out, bad, spec, col),
                    len(bad),
                )
            )
            continue
        unit = "datetime64[ns, UTC]" if utc else "datetime64[ns]"
        out[col] = parsed.astype(unit)
        if not utc:
            bad = out.index[out[col] != out[col].dt.normalize()]
            if len(bad):
                problems.append(
                    Problem(
                        spec.name,
                        col,
                        f"{len(bad)} values have a time of day",
                        "calendar dates (no time)",
                        _value_examples(out, bad, spec, col),
                        len(bad),
                    )
                )
    return problems


def _pandera_problems(cases: pd.DataFrame, out: pd.DataFrame, spec: TableSpec, raw: pd.DataFrame) -> list[Problem]:
    problems = []
    cases = cases[cases["schema_context"] == "Column"]
    coerce_failed = set(cases.loc[cases["check"].str.startswith("coerce_dtype"), "column"])
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        if check.startswith("dtype(") or (column in coerce_failed and not check.startswith("coerce_dtype")):
            continue  # one message per column: the failed conversion says it all
        index = [int(i) for i in group["index"] if i is not None and i == i]
        if check.startswith("coerce_dtype"):
            expected = "numbers" if "float" in check else "text"
            problem, allowed = f"{len(index)} values are not {expected}", expected
        elif check == "not_nullable":
            problem, allowed = f"{len(index)} values are missing (null/NaN)", "a value in every row"
        else:
            problem, allowed = f"{len(index)} values {VIOLATION.get(check, 'break the rule ' + check)}", check
        examples = _examples(out, index, spec, column, raw)
        problems.append(Problem(spec.name, column, problem, allowed, examples, len(index)))
    return problems


def _examples(out: pd.DataFrame, index, spec: TableSpec, column: str, raw: pd.DataFrame) -> tuple[str, ...]:
    context = [c for c in spec.context if c != column]
    rows = describe_rows(out, index, context)
    values = raw.reset_index(drop=True)[column]
    return tuple(f"{column}={format_value(values.iloc[i])} at {row}" for i, row in zip(index, rows, strict=False))


def _value_examples(out: pd.DataFrame, index, spec: TableSpec, column: str) -> tuple[str, ...]:
    return _examples(out, index, spec, column, out)


def _duplicate_problems(out: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    dup = out.duplicated(list(spec.key), keep=False)
    if not dup.any():
        return []
    bad = out.index[dup]
    n_keys = out.loc[dup, list(spec.key)].drop_duplicates().shape[0]
    return [
        Problem(
            spec.name,
            ", ".join(spec.key),
            f"{n_keys} ({', '.join(spec.key)}) keys appear more than once ({len(bad)} rows)",
            f"one row per ({', '.join(spec.key)})",
            describe_rows(out, bad, spec.context),
            len(bad),
        )
    ]


def _weekly_problems(out: pd.DataFrame, spec: TableSpec, series: tuple[str, ...]) -> list[Problem]:
    weeks = out["week"]
    bad = out.index[weeks.dt.day_of_week != 0]
    if len(bad):
        days = weeks.loc[bad].dt.day_name()
        examples = tuple(
            f"{row} is a {day}" for row, day in zip(describe_rows(out, bad, spec.context), days, strict=False)
        )
        return [
            Problem(
                spec.name,
                "week",
                f"{len(bad)} weeks do not start on a Monday",
                "Monday dates (ISO weeks)",
                examples,
                len(bad),
            )
        ]
    problems = []
    expected = pd.date_range(weeks.min(), weeks.max(), freq="7D")
    gaps = expected.difference(pd.DatetimeIndex(weeks.unique()))
    if len(gaps):
        problems.append(
            Problem(
                spec.name,
                "week",
                f"{len(gaps)} weeks are missing between {format_value(weeks.min())} and {format_value(weeks.max())}",
                "consecutive weeks with no gaps",
                tuple(format_value(w) for w in gaps[:5]),
                len(gaps),
            )
        )
    grid = pd.MultiIndex.from_product([expected, *[sorted(out[c].unique()) for c in series]])
    present = pd.MultiIndex.from_frame(out[["week", *series]])
    absent = grid.difference(present)
    if len(absent) and not len(gaps):
        names = ("week", *series)
        examples = tuple(
            ", ".join(f"{n} {format_value(v)}" for n, v in zip(names, key, strict=True)) for key in absent[:5]
        )
        problems.append(
            Problem(
                spec.name,
                ", ".join(names),
                f"{len(absent)} ({', '.join(names)}) combinations have no row",
                f"a row for every week of every ({', '.join(series)}) (record 0 explicitly)",
                examples,
                len(absent),
            )
        )
    return problems


def _raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ContractError(problems)


_VALIDATORS = {
    "events": validate_events,
    "paths": validate_paths,
    "spend": validate_spend,
    "kpi": validate_kpi,
    "controls": validate_controls,
    "channels": validate_channels,
    "lift_tests": validate_lift_tests,
}
