"""Validate one table against its contract and return it with canonical types.

Each ``validate_<table>`` returns a new frame (never mutates the input) with dates as ``datetime64[ns]``
(timestamps in UTC), text trimmed and numbers as ``float64``; or raises :class:`ContractError` listing every
problem it found.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from contracts.errors import ContractError, DataWarning, Problem, describe_rows, format_value
from contracts.schemas import (
    PYSPARK_PANDAS_NOISE,
    SPECS,
    VIOLATION,
    TableSpec,
    canonical_text,
    coerce_strings,
    optional_number_columns,
    pa,
)

#: Dates outside these years are typing errors (a flipped digit, a day count read as a year), and pandas'
#: nanosecond dates stop at 2262.
FIRST_YEAR, LAST_YEAR = 1900, 2199
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
    _raise_if(_duplicate_column_problems(df, spec))
    problems = _boolean_problems(df, spec) + _spelling_problems(df, spec)
    out = coerce_strings(df.reset_index(drop=True), _TEXT_COLUMNS)
    problems += _parse_times(out, spec)
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


def _duplicate_column_problems(df: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    names = pd.Index(map(str, df.columns))
    repeated = sorted(set(names[names.duplicated()]))
    # pandas' CSV reader renames a repeated header `spend` to `spend.1`: same rule, other spelling
    renamed = [c for c in spec.required if c in names and f"{c}.1" in names and c not in repeated]
    problems = [
        Problem(
            spec.name,
            name,
            f"the column appears more than once in the header (read as {name!r} and {name + '.1'!r})",
            "each column name once",
            (f"columns {list(names)}",),
            1,
        )
        for name in renamed
    ]
    return problems + [
        Problem(
            spec.name,
            name,
            f"the column name appears {int((names == name).sum())} times",
            "each column name once",
            (f"columns {list(map(str, df.columns))}",),
            1,
        )
        for name in repeated
    ]


def _numeric_columns(df: pd.DataFrame, spec: TableSpec) -> list[str]:
    if spec.name == "controls":
        return [c for c in df.columns if c not in ("week", "region")]
    numeric = [c for c, col in spec.schema.columns.items() if col.dtype is not None and "float" in str(col.dtype)]
    return [*numeric, *(c for c in optional_number_columns(spec.name) if c in df.columns)]


def _boolean_problems(df: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    """A true/false column would become 1.0/0.0 spend or revenue; it is almost surely the wrong column."""
    problems = []
    raw = df.reset_index(drop=True)
    for col in _numeric_columns(df, spec):
        values = raw[col]
        if pd.api.types.is_bool_dtype(values):
            flags = values.notna()
        elif values.dtype == object:
            flags = values.map(lambda v: isinstance(v, (bool, np.bool_)))
        else:
            continue
        bad = raw.index[flags.to_numpy(dtype=bool)]
        if len(bad):
            problems.append(
                Problem(
                    spec.name,
                    col,
                    f"{len(bad)} values are true/false, not numbers",
                    "numbers (a boolean column is not an amount)",
                    _examples(raw, bad, spec, col, raw),
                    len(bad),
                )
            )
    return problems


_KEY_TEXT = ("region", "channel", "objective", "event_type")


def _spelling_problems(df: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    """Names that print alike but are written differently (Unicode form, surrounding blanks, case)."""
    problems = []
    for col in _KEY_TEXT:
        if col not in df.columns:
            continue
        names = [v for v in pd.unique(df[col].dropna()) if isinstance(v, str)]
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(canonical_text(name).casefold(), []).append(name)
        clashes = [sorted(g) for g in groups.values() if len({canonical_text(n) for n in g}) > 1 or len(g) > 1]
        if not clashes:
            continue
        counts = df[col].value_counts()
        examples = tuple(" vs ".join(f"{n!a} ({int(counts.get(n, 0))} rows)" for n in clash) for clash in clashes[:5])
        problems.append(
            Problem(
                spec.name,
                col,
                f"{len(clashes)} {col} names are written in more than one way "
                "(Unicode form, surrounding blanks or upper/lower case differ; shown with escapes)",
                "one spelling per name, byte for byte",
                examples,
                len(clashes),
            )
        )
    return problems


def _parse_times(out: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    problems = []
    for col, utc in [(c, False) for c in spec.date_columns] + [(c, True) for c in spec.timestamp_columns]:
        parsed, found = _parse_time_column(out, spec, col, utc)
        if found:
            problems += found
            continue
        bad = out.index[parsed.isna()]
        if len(bad):
            kind = "UTC timestamps (naive times are read as UTC)" if utc else "dates written as YYYY-MM-DD"
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
        years = parsed.dt.year
        bad = out.index[(years < FIRST_YEAR) | (years > LAST_YEAR)]
        if len(bad):
            problems.append(
                Problem(
                    spec.name,
                    col,
                    f"{len(bad)} values are outside the years {FIRST_YEAR}-{LAST_YEAR}",
                    f"dates from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31",
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


def _parse_time_column(out: pd.DataFrame, spec: TableSpec, col: str, utc: bool) -> tuple[pd.Series, list[Problem]]:
    """Parse one date (``utc=False``) or timestamp column; refuse what could be read more than one way."""
    raw = out[col]
    target = "datetime64[us, UTC]" if utc else "datetime64[us]"  # wide enough to hold a mistyped year 3025
    if pd.api.types.is_datetime64_any_dtype(raw):
        if isinstance(raw.dtype, pd.DatetimeTZDtype):
            return (raw.dt.tz_convert("UTC") if utc else raw.dt.tz_localize(None)), []
        return (raw.dt.tz_localize("UTC") if utc else raw), []
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        if raw.notna().any():
            return raw, [_serial_problem(out, spec, col, out.index[raw.notna()])]
        return pd.Series(pd.NaT, index=raw.index, dtype=target), []  # an empty column: reported as missing
    text, kinds = _time_kinds(raw)
    serial = out.index[kinds == "number"]
    if len(serial):
        return raw, [_serial_problem(out, spec, col, serial)]
    other = kinds == "other"
    with warnings.catch_warnings():
        # pandas warns when it cannot infer one format; unparseable values are reported by the caller instead.
        warnings.filterwarnings("ignore", message="Could not infer format", category=UserWarning)
        try:
            other_values = pd.to_datetime(text[other], errors="coerce", utc=utc, format="mixed")
        except (ValueError, TypeError):  # several time zones in a date column: read in UTC (a time of day shows)
            other_values = pd.to_datetime(text[other], errors="coerce", utc=True, format="mixed")
    if not utc and isinstance(other_values.dtype, pd.DatetimeTZDtype):
        other_values = other_values.dt.tz_localize(None)
    kinds[other & other_values.reindex(kinds.index).isna()] = None  # not a date at all: reported by the caller
    mixed = _mixed_format_problem(out, spec, col, utc, text, kinds)
    if mixed:
        return raw, [mixed]
    parsed = pd.Series(pd.NaT, index=raw.index, dtype=target)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Could not infer format", category=UserWarning)
        iso = kinds.isin(["ISO date", "ISO date with time zone"])
        if iso.any():
            offsets = text[kinds == "ISO date with time zone"].map(_offset).unique()
            if not utc and len(offsets) > 1:
                return raw, [
                    _date_problem(
                        spec,
                        col,
                        f"values mix time-zone offsets ({', '.join(sorted(offsets)[:5])})",
                        out.index[kinds == "ISO date with time zone"],
                        out,
                    )
                ]
            values = pd.to_datetime(text[iso], errors="coerce", utc=utc, format="ISO8601")
            if not utc and isinstance(values.dtype, pd.DatetimeTZDtype):
                values = values.dt.tz_localize(None)  # a date written with its zone is that calendar date
            parsed[iso] = values
        slash = kinds == "slash date"
        if slash.any():
            values, problem = _parse_slash_dates(out, spec, col, text[slash])
            if problem:
                return raw, [problem]
            parsed[slash] = values.dt.tz_localize("UTC") if utc else values
        if other.any():
            parsed[other] = other_values
    return parsed, []


def _mixed_format_problem(
    out: pd.DataFrame, spec: TableSpec, col: str, utc: bool, text: pd.Series, kinds: pd.Series
) -> Problem | None:
    used = [k for k in ("ISO date", "ISO date with time zone", "slash date", "other") if (kinds == k).any()]
    if utc and set(used) <= {"ISO date", "ISO date with time zone"}:
        return None  # a naive timestamp is read as UTC, so it mixes with zoned ones
    if len(used) < 2:
        return None
    firsts = [text[kinds == k].iloc[0] for k in used]
    why = f"values mix date formats ({', '.join(f'{k} {v!r}' for k, v in zip(used, firsts, strict=True))})"
    return _date_problem(spec, col, why, out.index[kinds.isin(used[1:])], out)


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+)?\s*(Z|[+-]\d{2}:?\d{2})?$")
_SLASH = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
_NUMBER = re.compile(r"^[+-]?\d{1,6}(?:\.\d*)?$")


def _time_kinds(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each value stripped, and its kind: ISO date (with or without zone), slash date, number, other or None."""
    if pd.api.types.is_string_dtype(raw) and raw.map(type).isin([str]).all():
        text = raw.str.strip()  # vectorised path for the usual all-text column
        zone = text.str.extract(_ISO)[0]
        kinds = pd.Series(
            np.select(
                [
                    text.str.match(_NUMBER).to_numpy(dtype=bool),
                    text.str.match(_SLASH).to_numpy(dtype=bool),
                    text.str.match(_ISO).to_numpy(dtype=bool) & zone.notna().to_numpy(),
                    text.str.match(_ISO).to_numpy(dtype=bool),
                ],
                ["number", "slash date", "ISO date with time zone", "ISO date"],
                "other",
            ),
            index=raw.index,
            dtype=object,
        )
        return text, kinds
    text = raw.map(lambda v: v.strip() if isinstance(v, str) else v)
    return text, text.map(_time_kind)


def _time_kind(value: object) -> str | None:
    if not isinstance(value, str):
        if value is None or value != value:
            return None
        return "number" if isinstance(value, (int, float, np.number)) else "other"
    if _NUMBER.match(value):
        return "number"
    if _SLASH.match(value):
        return "slash date"
    match = _ISO.match(value)
    if match:
        return "ISO date with time zone" if match.group(1) else "ISO date"
    return "other"


def _offset(value: str) -> str:
    zone = _ISO.match(value).group(1)
    return "+00:00" if zone == "Z" else f"{zone[:3]}:{zone[-2:]}"  # +0100 and +01:00 are the same offset


def _parse_slash_dates(
    out: pd.DataFrame, spec: TableSpec, col: str, text: pd.Series
) -> tuple[pd.Series, Problem | None]:
    """Read dd/mm/yyyy or mm/dd/yyyy only when the column's own values settle which it is."""
    parts = text.str.extract(_SLASH).astype({0: int, 1: int})
    day_first = parts[0] > 12  # only a day can exceed 12
    month_first = parts[1] > 12
    if day_first.any() and month_first.any():
        a, b = text[day_first].iloc[0], text[month_first].iloc[0]
        why = f"values are written both day-first ({a!r}) and month-first ({b!r})"
        return text, _date_problem(spec, col, why, text.index[month_first], out)
    if not day_first.any() and not month_first.any():
        why = f"{len(text)} slash dates could be read day-first or month-first (e.g. {text.iloc[0]!r})"
        return text, _date_problem(spec, col, why, text.index, out)
    order = "%d/%m/" if day_first.any() else "%m/%d/"
    normal = text.str.replace(r"[.-]", "/", regex=True)
    four = parts[2].str.len() == 4
    values = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    values[four] = pd.to_datetime(normal[four], errors="coerce", format=order + "%Y")
    values[~four] = pd.to_datetime(normal[~four], errors="coerce", format=order + "%y")
    return values, None


def _date_problem(spec: TableSpec, col: str, why: str, index, out: pd.DataFrame) -> Problem:
    return Problem(
        spec.name,
        col,
        why,
        "one unambiguous format; write dates as YYYY-MM-DD",
        _value_examples(out, index, spec, col),
        len(index),
    )


def _serial_problem(out: pd.DataFrame, spec: TableSpec, col: str, index) -> Problem:
    values = pd.to_numeric(out.loc[index, col].astype(object).map(_as_number), errors="coerce")
    first = values.dropna()
    hint = ""
    if len(first) and 1 <= first.iloc[0] <= 2958465:  # Excel's day numbers span 1900-01-01 .. 9999-12-31
        day = (pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(first.iloc[0]))).date().isoformat()
        hint = f"; they look like Excel serial day numbers ({format_value(first.iloc[0])} would be {day})"
    return Problem(
        spec.name,
        col,
        f"{len(index)} values are numbers, not dates{hint}",
        "dates written as text YYYY-MM-DD (format the column as a date before exporting)",
        _value_examples(out, index, spec, col),
        len(index),
    )


def _as_number(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


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
