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
    """The tables of one company's data, validated once, on construction.

    Every table given is checked against its contract (:func:`contracts.validate_table`: columns, types, values,
    keys) and, when spend and KPI are both present, the tables against each other (:func:`contracts.check_panel`).
    The attributes hold the validated (type-coerced) copies; a table not given is ``None``. Engines that take a
    ``Dataset`` trust it and do not validate again.

    Parameters
    ----------
    events, paths, spend, kpi, controls, channels, lift_tests : pandas.DataFrame, optional
        The tables of DESIGN.md.

    Raises
    ------
    contracts.ContractError
        A table breaks its contract, or the tables disagree (regions, weeks, channels).

    Examples
    --------
    >>> import pandas as pd
    >>> weeks = pd.date_range("2025-01-06", periods=2, freq="W-MON")
    >>> spend = pd.DataFrame({"week": weeks, "region": "Asia", "channel": "meta_ads", "spend": [1.0, 2.0]})
    >>> Dataset(spend=spend).names()
    ['spend']
    """

    events: pd.DataFrame | None = None
    paths: pd.DataFrame | None = None
    spend: pd.DataFrame | None = None
    kpi: pd.DataFrame | None = None
    controls: pd.DataFrame | None = None
    channels: pd.DataFrame | None = None
    lift_tests: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            table = getattr(self, f.name)
            if table is None:
                continue
            if not isinstance(table, pd.DataFrame):
                raise TypeError(f"Dataset.{f.name} must be a pandas DataFrame or None; got {type(table).__name__}")
            object.__setattr__(self, f.name, validate_table(table, f.name))
        if self.spend is not None and self.kpi is not None:
            check_panel(
                self.spend,
                self.kpi,
                channels=self.channels,
                controls=self.controls,
                lift_tests=self.lift_tests,
                events=self.events,
            )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by contract name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def names(self) -> list[str]:
        """Contract names of the tables that are present."""
        return list(self.tables())

    def require(self, *names: str, purpose: str = "this step") -> None:
        """Raise a clear error when a table that ``purpose`` needs is missing."""
        missing = [n for n in names if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{purpose} needs the table(s) {missing}; this dataset has {self.names() or 'no tables'}")


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
    """Load every contract table found in ``directory`` as a :class:`Dataset` (validated and cross-checked)."""
    files = find_tables(directory)
    if not files:
        raise FileNotFoundError(
            f"{directory}: no data tables found; expected files named <table>.csv, .csv.gz or .parquet "
            f"for tables {list(TABLES)}"
        )
    return Dataset(**{name: read_table(path) for name, path in files.items()})


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
