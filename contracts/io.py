"""Read and write contract tables as CSV (optionally gzip-compressed) or Parquet."""

from __future__ import annotations

import gzip
import io
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from contracts.errors import ContractError, DataWarning, Problem
from contracts.files import MAX_BYTES, MAX_EXPANDED_BYTES, SUFFIXES, parse_csv, parse_parquet, read_bytes, refuse
from contracts.panel import check_panel
from contracts.schemas import TABLES
from contracts.tables import validate_table

_NAMED = (".csv", ".csv.gz", ".parquet")  # the order messages list file names in
#: Files a data folder may hold besides the tables, loaded by nothing and not reported: the simulator's truth, and
#: the folder of a media-mix posterior fitted on the tables (the sample ships one for the planner, app and notebooks).
COMPANION_FILES = ("truth.json", "posterior")
#: The tables each use of a data folder needs; an inner tuple lists alternatives (either one is enough).
USES: dict[str, tuple[tuple[str, ...], ...]] = {
    "attribute": (("events", "paths"),),
    "fit": (("spend",), ("kpi",), ("channels",)),
    "plan": (("spend",), ("kpi",), ("channels",)),
}
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


def read_table(
    path: str | Path,
    *,
    folder: str | Path | None = None,
    max_bytes: int = MAX_BYTES,
    max_expanded_bytes: int = MAX_EXPANDED_BYTES,
) -> pd.DataFrame:
    """Read a CSV, gzip-compressed CSV or Parquet file as it is (no validation), refusing unsafe or corrupt files.

    Only a regular file inside ``folder`` (default: the folder holding ``path``) is read; FIFOs, devices,
    directories and symlinks out of the folder are refused before anything is opened. The file may be at most
    ``max_bytes`` on disk and ``max_expanded_bytes`` once decompressed (module constants
    :data:`contracts.files.MAX_BYTES`, 2 GiB, and :data:`contracts.files.MAX_EXPANDED_BYTES`, 4 GiB). CSV text
    must be UTF-8 and its header must name each column once.

    Raises
    ------
    contracts.ContractError
        The file is not safe to read, too large, corrupt, not UTF-8, empty, or has duplicated column names;
        the message names the file and what is allowed.
    FileNotFoundError
        No file at ``path``.
    """
    path = Path(path)
    name = path.name.lower()
    if not name.endswith(SUFFIXES):
        raise refuse(path, "unsupported file type", ", ".join(SUFFIXES))
    raw = read_bytes(path, folder=folder, max_bytes=max_bytes, max_expanded_bytes=max_expanded_bytes)
    if name.endswith(".parquet"):
        return parse_parquet(path, raw, max_expanded_bytes)
    return parse_csv(path, raw, _TEXT)


def load_table(
    path: str | Path,
    table: str | None = None,
    *,
    max_bytes: int = MAX_BYTES,
    max_expanded_bytes: int = MAX_EXPANDED_BYTES,
) -> pd.DataFrame:
    """Read (:func:`read_table`) and validate one table; ``table`` defaults to the file name (``spend.csv`` → spend)."""
    path = Path(path)
    table = table or path.name.split(".")[0]
    if table not in TABLES:
        raise ValueError(f"{path}: cannot tell which table this is; name it one of {list(TABLES)} or pass table=")
    return validate_table(read_table(path, max_bytes=max_bytes, max_expanded_bytes=max_expanded_bytes), table)


def find_tables(directory: str | Path) -> dict[str, Path]:
    """Map table name → file for every ``<table>.csv|.csv.gz|.parquet`` in ``directory``.

    Names match exactly (lower case, as in :data:`contracts.TABLES`). A file that looks meant as a table but is
    not named exactly (``Spend.csv``, ``KPI.CSV``, ``spend.xlsx``) is an error that gives the exact name expected;
    any other file (except hidden files and :data:`COMPANION_FILES`) is reported in one :class:`DataWarning`.

    Raises
    ------
    contracts.ContractError
        A misnamed table file, or several files for one table.
    FileNotFoundError
        ``directory`` is not a folder.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no such data folder: {directory}")
    expected = {f"{table}{suffix}": table for table in TABLES for suffix in SUFFIXES}
    found: dict[str, list[str]] = {}
    problems: list[Problem] = []
    unexpected: list[str] = []
    for name in sorted(os.listdir(directory)):
        if name in expected:
            found.setdefault(expected[name], []).append(name)
        elif name.lower() in expected or name.split(".")[0].lower() in TABLES:
            table = expected.get(name.lower(), name.split(".")[0].lower())
            problems.append(
                Problem(
                    str(directory / name),
                    None,
                    f"looks like the {table} table but is not named exactly (names are case-sensitive)",
                    " or ".join(f"{table}{s}" for s in _NAMED),
                )
            )
        elif not name.startswith(".") and name not in COMPANION_FILES:
            unexpected.append(name)
    for table, names in found.items():
        if len(names) > 1:
            problems.append(Problem(str(directory), None, f"several files for table {table!r}: {names}", "one"))
    if problems:
        raise ContractError(problems)
    if unexpected:
        warnings.warn(
            f"{directory}: {len(unexpected)} file(s) that are not data tables were ignored: {unexpected}; "
            f"table files are named <table>{{{','.join(SUFFIXES)}}} for tables {list(TABLES)}",
            DataWarning,
            stacklevel=2,
        )
    return {table: directory / found[table][0] for table in TABLES if table in found}


def missing_for(use: str, names: Iterable[str]) -> list[str]:
    """The tables ``use`` (a key of :data:`USES`) needs that are not among ``names``, e.g. ``['kpi']``."""
    have = set(names)
    return [" or ".join(options) for options in USES[use] if not have.intersection(options)]


def supported_uses(names: Iterable[str]) -> list[str]:
    """The uses (``attribute``, ``fit``, ``plan``) that tables ``names`` are enough for."""
    names = list(names)
    return [use for use in USES if not missing_for(use, names)]


def load_dataset(
    directory: str | Path,
    *,
    require: Sequence[str] = (),
    max_bytes: int = MAX_BYTES,
    max_expanded_bytes: int = MAX_EXPANDED_BYTES,
) -> Dataset:
    """Load every contract table found in ``directory`` as a :class:`Dataset` (validated and cross-checked).

    Parameters
    ----------
    directory
        The data folder (see :func:`find_tables` for how files are named; only regular files inside it are read).
    require
        Table names (``"spend"``) or uses (``"attribute"``, ``"fit"``, ``"plan"``; see :data:`USES`) that must be
        present; a missing one is named before any file is read.
    max_bytes, max_expanded_bytes
        Size bounds per file, as in :func:`read_table`.

    Raises
    ------
    contracts.ContractError
        A required table is missing, a file is unsafe, corrupt or misnamed, or a table breaks its contract.
    FileNotFoundError
        ``directory`` is not a folder.
    """
    files = find_tables(directory)
    if not files:
        raise FileNotFoundError(
            f"{directory}: no data tables found; expected files named <table>.csv, .csv.gz or .parquet "
            f"for tables {list(TABLES)}"
        )
    problems = _missing_problems(directory, require, files)
    if problems:
        raise ContractError(problems)
    limits = {"max_bytes": max_bytes, "max_expanded_bytes": max_expanded_bytes}
    return Dataset(**{name: read_table(path, folder=directory, **limits) for name, path in files.items()})


def _missing_problems(directory: str | Path, require: Sequence[str], files: dict[str, Path]) -> list[Problem]:
    if isinstance(require, str):
        require = (require,)
    problems = []
    for item in require:
        if item in USES:
            missing, purpose = missing_for(item, files), f"needed to {item}"
        elif item in TABLES:
            missing, purpose = ([] if item in files else [item]), "required"
        else:
            raise ValueError(f"require: unknown table or use {item!r}; allowed: {list(TABLES) + list(USES)}")
        problems += [
            Problem(
                table,
                None,
                f"table missing from {directory} ({purpose})",
                " or ".join(f"{t}{s}" for t in table.split(" or ") for s in _NAMED),
            )
            for table in missing
        ]
    return problems


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
