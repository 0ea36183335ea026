"""Read and write contract tables as CSV (optionally gzip-compressed) or Parquet."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from contracts.panel import check_panel
from contracts.schemas import TABLES
from contracts.tables import validate_table

SUFFIXES = (".parquet", ".csv", ".csv.gz")
# Read text columns as text: a region called "NA" or a numeric-looking user id must stay as written.
_TEXT = {c: "string" for c in ("user_id", "channel", "region", "event_type", "path", "objective")}


@dataclass(frozen=True)
class Dataset:
    """The validated tables of one data folder; tables that were not found are ``None``."""

    events: pd.DataFrame | None = None
    paths: pd.DataFrame | None = None
    spend: pd.DataFrame | None = None
    kpi: pd.DataFrame | None = None
    controls: pd.DataFrame | None = None
    channels: pd.DataFrame | None = None
    lift_tests: pd.DataFrame | None = None

    def present(self) -> dict[str, pd.DataFrame]:
        """The tables that were loaded, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, gzip-compressed CSV or Parquet file as it is (no validation)."""
    path = Path(path)
    name = path.name.lower()
    if not path.exists():
        raise FileNotFoundError(f"no such data file: {path}")
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".csv", ".csv.gz")):
        header = pd.read_csv(path, nrows=0).columns
        dtype = {c: t for c, t in _TEXT.items() if c in header}
        return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
    raise ValueError(f"{path}: unsupported file type; allowed: {', '.join(SUFFIXES)}")


def load_table(path: str | Path, table: str | None = None) -> pd.DataFrame:
    """Read and validate one table; ``table`` defaults to the file name (``spend.csv`` → ``spend``)."""
    path = Path(path)
    table = table or path.name.split(".")[0]
    if table not in TABLES:
        raise ValueError(f"{path}: cannot tell which table this is; name it one of {list(TABLES)} or pass table=")
    return validate_table(read_table(path), table)


def find_tables(directory: str | Path) -> dict[str, Path]:
    """Map table name → file for every ``<table>.csv|.csv.gz|.parquet`` in ``directory``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no such data folder: {directory}")
    found: dict[str, Path] = {}
    for table in TABLES:
        candidates = [directory / f"{table}{s}" for s in SUFFIXES if (directory / f"{table}{s}").exists()]
        if len(candidates) > 1:
            raise ValueError(f"{directory}: several files for table {table!r}: {[c.name for c in candidates]}")
        if candidates:
            found[table] = candidates[0]
    return found


def load_dataset(directory: str | Path) -> Dataset:
    """Load, validate and cross-check every contract table found in ``directory``."""
    files = find_tables(directory)
    if not files:
        raise FileNotFoundError(
            f"{directory}: no data tables found; expected files named <table>.csv, .csv.gz or .parquet "
            f"for tables {list(TABLES)}"
        )
    tables = {name: load_table(path, name) for name, path in files.items()}
    data = Dataset(**tables)
    if data.spend is not None and data.kpi is not None:
        check_panel(
            data.spend,
            data.kpi,
            channels=data.channels,
            controls=data.controls,
            lift_tests=data.lift_tests,
            events=data.events,
        )
    return data


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` reproducibly: the same frame gives the same bytes.

    CSV dates are written as ``YYYY-MM-DD`` and UTC timestamps as ``YYYY-MM-DDTHH:MM:SSZ``; ``.csv.gz`` is
    compressed with a fixed (zero) modification time so the file does not change from run to run.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".parquet"):
        df.to_parquet(path, index=False)
        return path
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif pd.api.types.is_datetime64_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    text = out.to_csv(index=False, lineterminator="\n")
    if name.endswith(".csv.gz"):
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
            gz.write(text.encode())
        path.write_bytes(buffer.getvalue())
    elif name.endswith(".csv"):
        path.write_text(text)
    else:
        raise ValueError(f"{path}: unsupported file type; allowed: {', '.join(SUFFIXES)}")
    return path
