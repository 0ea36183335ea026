"""Canonical content hashes: the same data hashes the same whatever its file format, column order or row order.

A run record stores these so a rerun can tell whether its inputs changed. A table's hash depends on its values
only: columns sorted by name, rows sorted, every value written in one canonical text (dates as ISO, integral numbers
as integers, other floats as the shortest ``repr`` of their float64, text in Unicode NFC, any missing value as
``nan``). So ``1.50`` and ``1.5`` in a CSV, an int column and the same numbers as floats, and a CSV and a Parquet
copy of one table all hash the same.

>>> import pandas as pd
>>> table_hash(pd.DataFrame({"a": [1, 2]})) == table_hash(pd.DataFrame({"a": [2.0, 1.0]}))
True
"""

from __future__ import annotations

import hashlib
import math
import os
import unicodedata
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from contracts import Dataset

#: Bumped when the canonical form changes, so hashes of different forms cannot match by accident.
_VERSION = b"table-hash-v1"
_CHUNK = 1 << 20


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer():
        return str(int(value))  # 1.0 and 1 are one value; -0.0 becomes "0"
    return repr(value)


def _scalar(value: object) -> str:
    """Canonical text of one value of an object (mixed) column."""
    if value is None or value is pd.NaT or value is pd.NA:
        return "nan"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _number(float(value))
    if isinstance(value, (pd.Timestamp, datetime, np.datetime64)):
        return _timestamps(pd.Series([pd.Timestamp(value)]))[0]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return unicodedata.normalize("NFC", str(value))


def _timestamps(col: pd.Series) -> list[str]:
    """Canonical text of a datetime column (naive or tz-aware, any precision).

    A naive midnight is a date (``2025-01-06``: a CSV's week read as text or as a date hashes the same); other
    times are ISO to the second, or to the nanosecond when they have a fraction; tz-aware values are UTC with ``Z``.
    """
    aware = isinstance(col.dtype, pd.DatetimeTZDtype)
    if aware:
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
    values = col.to_numpy(dtype="datetime64[ns]")
    ticks = values.astype(np.int64)
    day, second = 86_400 * 10**9, 10**9
    text = np.where(
        ticks % second == 0,
        np.datetime_as_string(values, unit="s"),
        np.datetime_as_string(values, unit="ns"),
    ).astype(object)
    if aware:
        text = text + "Z"
    else:
        text = np.where(ticks % day == 0, np.datetime_as_string(values, unit="D"), text)
    text = np.where(np.isnat(values), "nan", text)
    return [str(t) for t in text]


def _column_text(col: pd.Series) -> list[str]:
    """The column's values as canonical text (vectorised for numbers, per value otherwise)."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype) and not col.isna().any():
        return ["true" if v else "false" for v in col.to_numpy(dtype=bool)]
    if pd.api.types.is_integer_dtype(dtype) and not col.isna().any():
        return [str(v) for v in col.to_numpy(dtype=np.int64).tolist()]
    if pd.api.types.is_float_dtype(dtype) or (pd.api.types.is_integer_dtype(dtype) and col.isna().any()):
        return [_number(v) for v in col.to_numpy(dtype=np.float64, na_value=np.nan).tolist()]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _timestamps(col)
    normal = unicodedata.normalize
    return [normal("NFC", v) if type(v) is str else _scalar(v) for v in col.astype(object).tolist()]


def table_hash(table: pd.DataFrame) -> str:
    """SHA-256 (hex) of the table's canonical form; column dtypes, column order and row order do not matter.

    Parameters
    ----------
    table : pandas.DataFrame
        Any table; the index is ignored.

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1.5, 2.0], "y": ["b", "a"]})
    >>> table_hash(a) == table_hash(a[["y", "x"]].iloc[::-1])
    True
    """
    names = [unicodedata.normalize("NFC", str(c)) for c in table.columns]
    if len(set(names)) != len(names):
        raise ValueError(f"table_hash needs unique column names; got {list(table.columns)}")
    order = sorted(range(len(names)), key=names.__getitem__)
    # each value framed by its length ("3:abc"), so no value can imitate a separator; rows sorted on framed text
    columns = [[f"{len(v)}:{v}" for v in _column_text(table.iloc[:, i])] for i in order]
    rows = sorted(zip(*columns, strict=True)) if columns else []
    digest = hashlib.sha256(_VERSION)
    digest.update(f"\n{len(names)} columns, {len(table)} rows\n".encode())
    digest.update("".join(f"{len(names[i])}:{names[i]}" for i in order).encode())
    digest.update("".join(map("".join, rows)).encode())
    return digest.hexdigest()


def dataset_hashes(data: Dataset) -> dict[str, str]:
    """:func:`table_hash` of every table present, by contract name (``{"spend": "9f2c…", "kpi": …}``)."""
    return {name: table_hash(table) for name, table in data.tables().items()}


def folder_hash(folder: str | Path) -> str:
    """SHA-256 (hex) over the sorted relative paths and bytes of every regular file under ``folder``.

    For a saved posterior: any added, removed, renamed or changed file changes it; file times do not. Symbolic
    links and other non-regular files are left out (they are not content the folder owns).

    Raises
    ------
    FileNotFoundError
        ``folder`` is not a folder.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"no such folder: {folder}")
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not Path(root, d).is_symlink()]
        files += [Path(root, n) for n in names if Path(root, n).is_file() and not Path(root, n).is_symlink()]
    digest = hashlib.sha256(b"folder-hash-v1\n")
    for path in sorted(files, key=lambda p: p.relative_to(folder).as_posix()):
        name = path.relative_to(folder).as_posix()
        digest.update(f"{len(name)}:{name}".encode())
        digest.update(path.stat().st_size.to_bytes(8, "big"))
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()
