"""Validate a paths table once, with one rule set, and parse it into flat integer arrays without a Python loop.

A paths table (ChannelAttribution-compatible) has one row per distinct journey path::

    path               total_conversions  total_conversion_value  total_null
    "a > b > c"        3                  120.0                   10

The rules, all checked here (:func:`check_paths`) and nowhere else in this package:

- errors (:class:`ContractError` naming the table, column, first offending rows and what is allowed): a
  required column or a ``by`` segment column is missing; ``path`` or a segment value is null; a count column is
  not numeric, or is missing, infinite or negative; ``total_conversions`` or ``total_null`` is not a whole
  count or exceeds 2**53; a row has ``total_conversion_value > 0`` with no conversions; checked while
  splitting, in :func:`parse_paths`: a path has an empty channel name, or a channel name holding text of
  another separator (``'a -'`` from ``'a -> b'`` split on ``>``, ``'a, b'``), or the table has more than
  ``MAX_CHANNELS`` channels or a path more than ``MAX_PATH_TOUCHES`` touches;
- skipped (counted by reason on the result's ``skipped`` and announced with one :class:`SkippedRowsWarning`):
  rows with ``total_conversions == 0`` and ``total_null == 0``, which carry no journey
  (ChannelAttribution's convention; ``contracts.validate_paths(drop_empty=True)`` means the same).

A table that passes ``contracts.validate_paths(drop_empty=True)`` (the loader's check) passes here with the same
rows kept, unless it has value without conversions. The engine does not call that check on every fit: it
coerces and trims every cell with pandera, seconds on a million paths against milliseconds here. Where the two
differ: numbers stored as text are an error here (the loader coerces them), an empty table gives empty credit
(the loader's error), and the separator is the ``sep`` argument (the loader knows ``>`` only).

Every engine in this package works on :class:`ParsedPaths`: the channels of all paths laid end to end in
one ``int32`` array (``codes``) with ``offsets`` marking where each path starts, like a CSR matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._errors import SkippedRowsWarning, contract_error, warn
from .results import Paths, Skipped

__all__ = [
    "MAX_CHANNELS",
    "MAX_COUNT",
    "MAX_PATH_TOUCHES",
    "REQUIRED_COLUMNS",
    "ParsedPaths",
    "SkippedRowsWarning",
    "apply_by_segment",
    "check_paths",
    "iter_segments",
    "parse_paths",
    "paths_table",
    "validate_paths",
]

REQUIRED_COLUMNS = ("path", "total_conversions", "total_conversion_value", "total_null")
_COUNT_COLUMNS = ("total_conversions", "total_conversion_value", "total_null")
#: Largest journey count accepted: float64 holds every whole number up to 2**53 exactly.
MAX_COUNT = 2.0**53


def format_count(value: float) -> str:
    """A count as written in a message (``2.5``, ``1e+23``)."""
    return f"{value:g}"


def paths_table(paths: pd.DataFrame | Paths) -> pd.DataFrame:
    """The paths DataFrame of ``paths`` (a DataFrame itself, or the ``table`` of a :class:`Paths`)."""
    if isinstance(paths, Paths):
        return paths.table
    if isinstance(paths, pd.DataFrame):
        return paths
    raise TypeError(f"paths must be a pandas DataFrame or an attribution.Paths, got {type(paths).__name__}")


def resolve_sep(paths: pd.DataFrame | Paths, sep: str | None) -> str:
    """The channel separator: ``sep`` when given, else the one a :class:`Paths` was built with, else ``">"``."""
    if sep is None:
        sep = (paths.sep.strip() or paths.sep) if isinstance(paths, Paths) else ">"
    if not isinstance(sep, str) or not sep:
        raise ValueError(f"sep must be a non-empty string, got {sep!r}")
    return sep


@dataclass(frozen=True)
class ParsedPaths:
    """A validated paths table as flat arrays.

    Attributes
    ----------
    channels : numpy.ndarray
        Sorted distinct channel names (trimmed); ``codes`` index into it.
    codes : numpy.ndarray
        ``int32`` channel codes of all paths, concatenated.
    offsets : numpy.ndarray
        ``int64`` array of length ``n_paths + 1``; path ``i`` is ``codes[offsets[i]:offsets[i + 1]]``.
    conversions, values, nulls : numpy.ndarray
        ``float64`` per path: ``total_conversions``, ``total_conversion_value``, ``total_null``.
    skipped : Skipped
        Rows of the input left out, by reason (rows with neither conversions nor nulls).
    """

    channels: np.ndarray
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    values: np.ndarray
    nulls: np.ndarray
    skipped: Skipped = field(default_factory=Skipped)
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_paths(self) -> int:
        """Number of (kept) paths."""
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Number of touches of each path."""
        return np.diff(self.offsets)

    @property
    def path_of_touch(self) -> np.ndarray:
        """For each entry of ``codes``, the index of its path (cached, ``int32``)."""
        if "path_of_touch" not in self._cache:
            self._cache["path_of_touch"] = np.repeat(np.arange(self.n_paths, dtype=np.int32), self.lengths)
        return self._cache["path_of_touch"]

    @property
    def position(self) -> np.ndarray:
        """For each entry of ``codes``, its 0-based position within its path (cached, ``int32``)."""
        if "position" not in self._cache:
            starts = np.repeat(self.offsets[:-1].astype(np.int32), self.lengths)
            self._cache["position"] = np.arange(len(self.codes), dtype=np.int32) - starts
        return self._cache["position"]

    def with_counts(self, conversions: np.ndarray, values: np.ndarray, nulls: np.ndarray) -> ParsedPaths:
        """The same paths with other counts (used by the bootstrap); cached structure is shared."""
        return ParsedPaths(
            self.channels, self.codes, self.offsets, conversions, values, nulls, self.skipped, self._cache
        )


def validate_paths(paths: pd.DataFrame, by: Sequence[str] = ()) -> None:
    """Check the error rules of the module docstring; raise :class:`ContractError` naming what is wrong.

    Vectorised (no per-row Python), so it stays cheap on millions of paths. Empty channel names are caught
    by :func:`parse_paths`, which splits the paths anyway; skipped rows are :func:`check_paths`' business.

    Parameters
    ----------
    paths : pandas.DataFrame
        Columns ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null`` and any
        segment columns named in ``by``.
    by : sequence of str
        Segment columns that must be present and non-null.
    """
    if not isinstance(paths, pd.DataFrame):
        raise TypeError(f"paths must be a pandas DataFrame, got {type(paths).__name__}")
    missing = [c for c in (*REQUIRED_COLUMNS, *by) if c not in paths.columns]
    if missing:
        raise contract_error(
            "paths",
            missing[0],
            f"missing column(s) {missing}",
            f"a table with columns {[*REQUIRED_COLUMNS, *by]} (found {list(map(str, paths.columns))})",
        )
    for col in (*by, "path"):
        bad = paths[col].isna().to_numpy()
        if bad.any():
            rows = paths.index[bad]
            raise contract_error("paths", col, f"{len(rows)} rows are null", "a value on every row", rows, [None] * 5)
    for col in _COUNT_COLUMNS:
        s = paths[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise contract_error("paths", col, f"dtype is {s.dtype}", "numbers (counts, currency)")
        arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            rows = paths.index[bad]
            raise contract_error(
                "paths",
                col,
                f"{len(rows)} rows are missing, infinite or negative",
                "finite numbers >= 0",
                rows,
                arr[bad][:5],
            )
    for col in ("total_conversions", "total_null"):
        arr = paths[col].to_numpy(dtype=np.float64)
        bad = (arr != np.floor(arr)) | (arr > MAX_COUNT)
        if bad.any():
            rows = paths.index[bad]
            raise contract_error(
                "paths",
                col,
                f"{len(rows)} rows are not whole counts or exceed {MAX_COUNT:.0f} (2**53)",
                f"whole numbers of journeys from 0 to 2**53 (the largest float64 counts exactly), "
                f"e.g. 3, not {format_count(arr[bad][0])}",
                rows,
                paths.loc[rows[:5], col].tolist(),
            )
    conv = paths["total_conversions"].to_numpy(dtype=np.float64)
    value = paths["total_conversion_value"].to_numpy(dtype=np.float64)
    bad = (conv == 0) & (value > 0)
    if bad.any():
        rows = paths.index[bad]
        raise contract_error(
            "paths",
            "total_conversion_value",
            f"{len(rows)} rows have value but no conversions",
            "total_conversion_value = 0 where total_conversions = 0",
            rows,
            value[bad][:5],
        )


def check_paths(paths: pd.DataFrame | Paths, by: Sequence[str] = ()) -> tuple[pd.DataFrame, Skipped]:
    """Apply the module's rule set once: raise on bad rows, skip (count, warn) rows that carry no journey.

    Parameters
    ----------
    paths : pandas.DataFrame or Paths
        A paths table.
    by : sequence of str
        Segment columns that must be present and non-null.

    Returns
    -------
    kept : pandas.DataFrame
        The rows with at least one conversion or null (the input itself when none is skipped).
    skipped : Skipped
        The rows left out, by reason; a :class:`SkippedRowsWarning` says so when there are any.
    """
    table = paths_table(paths)
    validate_paths(table, by)
    conv = table["total_conversions"].to_numpy(dtype=np.float64)
    nulls = table["total_null"].to_numpy(dtype=np.float64)
    keep = (conv > 0) | (nulls > 0)
    skipped = Skipped("paths", {"no_conversions_and_no_nulls": int((~keep).sum())})
    if not skipped:
        return table, skipped
    if not keep.any():
        warn(
            f"nothing left to attribute: every one of the {len(table):,} rows of the paths table has "
            "total_conversions = 0 and total_null = 0, so all were skipped (they carry no journey) and the credit "
            "is empty; counted in the result's .skipped",
            SkippedRowsWarning,
        )
        return table.loc[keep], skipped
    warn(f"{skipped} (they carry no journey); counted in the result's .skipped", SkippedRowsWarning)
    return table.loc[keep], skipped


#: Rows split at a time: bounds the transient memory of Arrow's string kernels on large tables.
_SPLIT_CHUNK_ROWS = 250_000


def _split(path: pd.Series, sep: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split and trim all paths with Arrow kernels, chunk by chunk.

    Returns ``(names, codes, offsets)``: distinct trimmed channel names in order of first appearance, the
    ``int32`` code of every touch, and ``int64`` offsets (path ``i`` is ``codes[offsets[i]:offsets[i + 1]]``).
    """
    if not pd.api.types.is_string_dtype(path):
        path = path.astype(str)
    arr = pa.array(path, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):  # e.g. an Arrow-backed column read from Parquet
        arr = arr.combine_chunks()
    lookup: dict[str, int] = {}
    code_parts: list[np.ndarray] = []
    offset_parts = [np.zeros(1, dtype=np.int64)]
    n_tokens = 0
    for start in range(0, len(arr), _SPLIT_CHUNK_ROWS):
        pieces = pc.split_pattern(pc.cast(arr.slice(start, _SPLIT_CHUNK_ROWS), pa.large_string()), sep)
        offsets = np.asarray(pieces.offsets, dtype=np.int64)
        encoded = pc.utf8_trim_whitespace(pieces.flatten()).dictionary_encode()
        local = [lookup.setdefault(name, len(lookup)) for name in encoded.dictionary.to_pylist()]
        code_parts.append(np.asarray(local, dtype=np.int32)[np.asarray(encoded.indices)])
        offset_parts.append(offsets[1:] - offsets[0] + n_tokens)
        n_tokens += int(offsets[-1] - offsets[0])
    names = np.asarray(list(lookup), dtype=object)
    codes = np.concatenate(code_parts) if code_parts else np.zeros(0, dtype=np.int32)
    return names, codes, np.concatenate(offset_parts)


#: Text that separates channels in other tools' exports; inside a channel name it means ``sep`` is wrong.
_LOOKALIKES = ("->", "=>", "→", ">", ",", ";", "|", "\t")
#: Bounds on the work a paths table can ask for (hostile or broken input, not any real channel plan).
MAX_CHANNELS = 10_000
MAX_PATH_TOUCHES = 100_000


def _rows_with(kept: pd.DataFrame, bad_name: np.ndarray, raw_codes: np.ndarray, offsets: np.ndarray) -> pd.Index:
    """Index labels of the rows whose path has a channel flagged in ``bad_name`` (by raw code)."""
    touches = np.flatnonzero(bad_name[raw_codes])
    path_ids = np.unique(np.searchsorted(offsets, touches, side="right") - 1)
    return kept.index[path_ids]


def _check_separator_lookalikes(
    kept: pd.DataFrame, names: np.ndarray, raw_codes: np.ndarray, offsets: np.ndarray, sep: str
) -> None:
    """Refuse channel names that hold another separator (``'a, b'``) or the rest of one (``'a -'``)."""
    marks = [m for m in _LOOKALIKES if m not in sep and m.strip() != sep.strip()]
    found = [
        next((m for m in marks if m in name), "-" if name.startswith("-") or name.endswith("-") else None)
        for name in names.tolist()
    ]
    bad = np.array([f is not None for f in found], dtype=bool)
    if not bad.any():
        return
    first = int(np.flatnonzero(bad)[0])
    mark = found[first]
    rows = _rows_with(kept, bad, raw_codes, offsets)
    hint = "->" if mark == "-" else mark.strip() or mark
    raise contract_error(
        "paths",
        "path",
        f"{len(rows)} paths have channel names holding {mark!r} (e.g. channel {names[first]!r} when split on "
        f"{sep!r}), which looks like a different separator",
        f"channel names without separator characters; pass the separator the paths use, e.g. sep={hint!r}",
        rows,
        kept.loc[rows[:5], "path"].tolist(),
    )


def _check_size(kept: pd.DataFrame, names: np.ndarray, offsets: np.ndarray) -> None:
    """Refuse tables whose size would make the engines' work unbounded (channels, touches per path)."""
    if len(names) > MAX_CHANNELS:
        raise contract_error(
            "paths",
            "path",
            f"{len(names):,} distinct channel names (e.g. {names[:3].tolist()})",
            f"at most {MAX_CHANNELS:,} distinct channels (credit is computed per channel)",
        )
    lengths = np.diff(offsets)
    bad = lengths > MAX_PATH_TOUCHES
    if bad.any():
        rows = kept.index[bad]
        raise contract_error(
            "paths",
            "path",
            f"{len(rows)} paths have more than {MAX_PATH_TOUCHES:,} touches",
            f"paths of at most {MAX_PATH_TOUCHES:,} touches",
            rows,
            [f"{n:,} touches" for n in lengths[bad][:5]],
        )


def parse_paths(paths: pd.DataFrame | Paths, sep: str = ">", *, validate: bool = True) -> ParsedPaths:
    """Validate a paths table (:func:`check_paths`) and turn it into flat integer arrays.

    Channel names are trimmed; rows with no conversions and no nulls are skipped, counted in
    ``ParsedPaths.skipped`` and announced with a :class:`SkippedRowsWarning`.

    Parameters
    ----------
    paths : pandas.DataFrame or Paths
        A paths table (see module docstring).
    sep : str
        Separator between channels in ``path``.
    validate : bool
        Apply :func:`check_paths` first; turn off only for rows it has already kept.

    Returns
    -------
    ParsedPaths

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [1, 0],
    ...                   "total_conversion_value": [5.0, 0.0], "total_null": [0, 2]})
    >>> p = parse_paths(t)
    >>> p.channels.tolist(), p.codes.tolist(), p.offsets.tolist()
    (['a', 'b'], [0, 1, 1], [0, 2, 3])
    """
    if not isinstance(sep, str) or not sep:
        raise ValueError(f"sep must be a non-empty string, got {sep!r}")
    if validate:
        kept, skipped = check_paths(paths)
    else:
        kept, skipped = paths_table(paths), Skipped("paths")
    names, raw_codes, offsets = _split(kept["path"], sep)
    if (names == "").any():
        rows = _rows_with(kept, names == "", raw_codes, offsets)
        raise contract_error(
            "paths",
            "path",
            f"{len(rows)} paths have an empty channel name",
            f"non-empty channel names separated by {sep!r} (e.g. 'meta_ads {sep} google_search')",
            rows,
            kept.loc[rows[:5], "path"].tolist(),
        )
    _check_size(kept, names, offsets)
    _check_separator_lookalikes(kept, names, raw_codes, offsets, sep)
    order = np.argsort(names)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    codes = rank[raw_codes].astype(np.int32)
    return ParsedPaths(
        channels=names[order].astype(str),
        codes=codes,
        offsets=offsets,
        conversions=kept["total_conversions"].to_numpy(dtype=np.float64),
        values=kept["total_conversion_value"].to_numpy(dtype=np.float64),
        nulls=kept["total_null"].to_numpy(dtype=np.float64),
        skipped=skipped,
    )


def iter_segments(paths: pd.DataFrame, by: str | Sequence[str] | None) -> Iterator[tuple[dict, pd.DataFrame]]:
    """Yield ``(segment_key, sub_table)`` for each segment (one unsegmented group when ``by`` is None)."""
    cols = segment_columns(by)
    if not cols:
        yield {}, paths
        return
    for key, sub in paths.groupby(cols, sort=True, observed=True):
        key_t = key if isinstance(key, tuple) else (key,)
        yield dict(zip(cols, key_t, strict=True)), sub


class Stacked(NamedTuple):
    """Credit of every segment stacked, the rows skipped, and the segments in the order they were fitted."""

    table: pd.DataFrame
    skipped: Skipped
    segments: pd.DataFrame


def apply_by_segment(
    paths: pd.DataFrame | Paths,
    by: str | Sequence[str] | None,
    sep: str,
    credit: Callable[[ParsedPaths, pd.DataFrame], pd.DataFrame],
) -> Stacked:
    """Check once (:func:`check_paths`), then run ``credit`` on each segment's parsed paths and stack the results.

    ``credit`` receives the parsed segment and the segment's kept rows of the table (same order). The segment
    columns lead the stacked table; ``segments`` has one row per call of ``credit`` (no columns when unsegmented).
    """
    cols = segment_columns(by)
    kept, skipped = check_paths(paths, cols)
    frames, keys = [], []
    for key, sub in iter_segments(kept, cols):
        out = credit(parse_paths(sub, sep, validate=False), sub)
        for i, (col, val) in enumerate(key.items()):
            out.insert(i, col, val)
        frames.append(out)
        keys.append(key)
    result = pd.concat(frames, ignore_index=True) if frames else credit_empty(cols)
    return Stacked(result, skipped, pd.DataFrame(keys, columns=cols, index=range(len(keys))))


def credit_empty(cols: list[str]) -> pd.DataFrame:
    """An empty result (no rows in the paths table)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in (*cols, "channel")})


def segment_columns(by: str | Sequence[str] | None) -> list[str]:
    """Segment columns as a list (``None`` or ``()`` for none)."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)
