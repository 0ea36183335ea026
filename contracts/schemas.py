"""Column-level schemas of the tables in DESIGN.md, written with pandera.

Pandera checks presence, types (with coercion), nulls and per-value rules; ``tables.py`` adds the rules that
span rows (unique keys, weekly grids) and ``panel.py`` those that span tables. Each check carries the text of
what is allowed, which becomes part of the error message.
"""

from __future__ import annotations

import unicodedata
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts.defaults import OBJECTIVES

#: pandera imports pyspark.pandas (at import and at first validation) whenever pyspark is installed, and that
#: warns about pandas >= 3. We never use pyspark.pandas, so that one warning is noise for our users; it is silenced
#: only around those two calls, never process-wide.
PYSPARK_PANDAS_NOISE = "PySpark does not yet fully support"

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=PYSPARK_PANDAS_NOISE, category=FutureWarning)
    import pandera.pandas as pa
EVENT_TYPES = ("touch", "conversion")

#: Largest magnitude accepted in a numeric column (currency, counts). Far above any real marketing figure, far
#: below where float sums overflow (1e308) or integers stop being exact as floats (2**53 ~ 9.007e15).
MAX_ABS_VALUE = 1e15
BOUNDED = f"numbers between -{MAX_ABS_VALUE:.0e} and {MAX_ABS_VALUE:.0e}"
WHOLE = "whole numbers (counts)"


def _finite() -> pa.Check:
    return pa.Check(
        lambda s: pd.Series(np.isfinite(s.to_numpy(dtype=float)), index=s.index),
        name="finite",
        error="finite numbers",
    )


def _bounded() -> pa.Check:
    # Non-finite values are the `finite` check's to report; this one only flags finite values that are too large.
    def ok(s: pd.Series) -> pd.Series:
        x = s.to_numpy(dtype=float)
        return pd.Series(~np.isfinite(x) | (np.abs(x) <= MAX_ABS_VALUE), index=s.index)

    return pa.Check(ok, name="bounded", error=BOUNDED)


def _whole() -> pa.Check:
    def ok(s: pd.Series) -> pd.Series:
        x = s.to_numpy(dtype=float)
        return pd.Series(~np.isfinite(x) | (x == np.floor(x)), index=s.index)

    return pa.Check(ok, name="whole", error=WHOLE)


def _non_negative() -> pa.Check:
    return pa.Check(lambda s: s >= 0, name="non_negative", error=">= 0")


def _positive() -> pa.Check:
    return pa.Check(lambda s: s > 0, name="positive", error="> 0")


def _non_blank() -> pa.Check:
    return pa.Check(lambda s: s.str.strip().str.len() > 0, name="non_blank", error="non-empty text")


def _number(*checks: pa.Check, nullable: bool = False) -> pa.Column:
    return pa.Column(float, checks=[_bounded(), *checks], coerce=True, nullable=nullable)


def _text(*checks: pa.Check, nullable: bool = False) -> pa.Column:
    return pa.Column(str, checks=[_non_blank(), *checks], coerce=True, nullable=nullable)


@dataclass(frozen=True)
class TableSpec:
    """What a table must look like.

    Attributes
    ----------
    name
        Table name used in messages (``spend``, ``kpi``, ...).
    schema
        Pandera schema for the required columns.
    date_columns
        Columns parsed as calendar dates (``week``, ``start``, ``end``); ``timestamp_columns`` as UTC instants.
    key
        Columns that identify a row; duplicates are an error.
    context
        Columns quoted when an error points at a row.
    weekly
        Whether the table is a weekly panel (``week`` on Mondays, no gaps).
    """

    name: str
    schema: pa.DataFrameSchema
    date_columns: tuple[str, ...] = ()
    timestamp_columns: tuple[str, ...] = ()
    key: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    weekly: bool = False

    @property
    def required(self) -> tuple[str, ...]:
        return (*self.date_columns, *self.timestamp_columns, *self.schema.columns)


def _schema(columns: dict[str, pa.Column]) -> pa.DataFrameSchema:
    # strict=False: extra columns (segments such as `region` on paths, `new_users` on kpi) are kept.
    return pa.DataFrameSchema(columns, strict=False)


SPECS: dict[str, TableSpec] = {
    "events": TableSpec(
        name="events",
        schema=_schema(
            {
                "user_id": _text(),
                "channel": pa.Column(str, coerce=True, nullable=True),
                "region": _text(),
                "event_type": pa.Column(
                    str, checks=[pa.Check.isin(EVENT_TYPES, error=f"one of {list(EVENT_TYPES)}")], coerce=True
                ),
                "revenue": _number(_finite(), _non_negative(), nullable=True),
            }
        ),
        timestamp_columns=("ts",),
        context=("user_id", "ts", "channel", "event_type"),
    ),
    "paths": TableSpec(
        name="paths",
        schema=_schema(
            {
                "path": _text(),
                "total_conversions": _number(_finite(), _non_negative(), _whole()),
                "total_conversion_value": _number(_finite(), _non_negative()),
                "total_null": _number(_finite(), _non_negative(), _whole()),
            }
        ),
        context=("path", "total_conversions", "total_null"),
    ),
    "spend": TableSpec(
        name="spend",
        schema=_schema({"region": _text(), "channel": _text(), "spend": _number(_finite(), _non_negative())}),
        date_columns=("week",),
        key=("week", "region", "channel"),
        context=("week", "region", "channel", "spend"),
        weekly=True,
    ),
    "kpi": TableSpec(
        name="kpi",
        schema=_schema({"region": _text(), "revenue": _number(_finite(), _non_negative())}),
        date_columns=("week",),
        key=("week", "region"),
        context=("week", "region", "revenue"),
        weekly=True,
    ),
    "controls": TableSpec(
        name="controls",
        schema=_schema({"region": _text()}),
        date_columns=("week",),
        key=("week", "region"),
        context=("week", "region"),
        weekly=True,
    ),
    "channels": TableSpec(
        name="channels",
        schema=_schema(
            {
                "channel": _text(),
                "objective": pa.Column(
                    str, checks=[pa.Check.isin(OBJECTIVES, error=f"one of {list(OBJECTIVES)}")], coerce=True
                ),
            }
        ),
        key=("channel",),
        context=("channel", "objective"),
    ),
    "lift_tests": TableSpec(
        name="lift_tests",
        schema=_schema(
            {
                "region": _text(),
                "channel": _text(),
                "spend_delta": _number(_finite()),
                "revenue_delta": _number(_finite()),
                "revenue_delta_se": _number(_finite(), _positive()),
            }
        ),
        date_columns=("start", "end"),
        context=("region", "channel", "start", "end"),
    ),
}

TABLES: tuple[str, ...] = tuple(SPECS)

#: How a failed check reads in an error message, keyed by the check's ``error`` text (what is allowed).
VIOLATION = {
    ">= 0": "are negative",
    "> 0": "are zero or negative",
    "finite numbers": "are infinite",
    "non-empty text": "are blank",
    BOUNDED: "are too large",
    WHOLE: "are not whole numbers",
    f"one of {list(OBJECTIVES)}": "are not a known objective",
    f"one of {list(EVENT_TYPES)}": "are not a known event type",
}


def optional_number_columns(table: str) -> dict[str, pa.Column]:
    """Schemas for known optional columns (validated when present)."""
    if table == "kpi":
        return {"new_users": _number(_finite(), _non_negative())}
    return {}


def canonical_text(value: str) -> str:
    """The form a name is compared in: Unicode NFC, surrounding blanks removed."""
    return unicodedata.normalize("NFC", value).strip()


def coerce_strings(df: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Trim surrounding whitespace of text columns and write them in Unicode NFC.

    A name padded the same way everywhere (``" Asia"``) or written in one Unicode form throughout is read as its
    canonical form; a name written in *several* ways within a table is an error raised before this
    (``tables._spelling_problems``), so nothing is merged silently.
    """
    out = df.copy()
    for col in columns:
        if col in out.columns and (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])):
            out[col] = out[col].str.normalize("NFC").str.strip()
    return out
