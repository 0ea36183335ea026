"""Rule-based credit: first touch, last touch, linear, position-based (40/20/40) and time decay.

Counting follows ChannelAttribution's ``heuristic_models``: every touch counts (a channel touched twice in a
journey gets two linear shares). Time decay needs the age of each touch, given as an optional ``touch_days``
column aligned with ``path`` (days before the journey's end, e.g. ``"9.5 > 2 > 0"``, as written by
:func:`attribution.build_paths` with ``touch_days=True``); each touch then weighs ``2 ** (-days / half_life)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from ._checks import check_number
from ._errors import contract_error
from ._linear import credit_matrix, linear_credit_frame
from .paths import ParsedPaths, apply_by_segment, paths_table, resolve_sep, segment_columns
from .results import Credit, Paths

__all__ = ["HEURISTICS", "heuristic_matrices", "heuristics", "parse_touch_days"]

HEURISTICS = ("first_touch", "last_touch", "linear", "position_based", "time_decay")


def position_shares(lengths: np.ndarray, position: np.ndarray, ends: float = 0.4) -> np.ndarray:
    """Share of each touch under the position-based (U-shaped) rule.

    One touch gets everything, two touches half each; otherwise the first and the last touch get ``ends``
    each and the middle touches share ``1 - 2 * ends`` equally.
    """
    last = position == lengths - 1
    first = position == 0
    middle_share = (1.0 - 2.0 * ends) / np.maximum(lengths - 2, 1)
    share = np.where(first | last, ends, middle_share)
    share = np.where(lengths == 2, 0.5, share)
    return np.where(lengths == 1, 1.0, share)


def parse_touch_days(days: pd.Series, parsed: ParsedPaths, sep: str = ">") -> np.ndarray:
    """Parse a ``touch_days`` column into one float per touch, checking it matches ``path`` touch by touch."""
    if not pd.api.types.is_string_dtype(days):
        days = days.astype(str)
    pieces = pc.split_pattern(pc.cast(pa.array(days, from_pandas=True), pa.large_string()), sep)
    lengths = np.diff(np.asarray(pieces.offsets, dtype=np.int64))
    bad = lengths != parsed.lengths
    if bad.any():
        raise contract_error(
            "paths",
            "touch_days",
            f"{int(bad.sum())} rows have a different number of entries than path",
            "one entry per touch of path (days before the journey's end)",
            days.index[bad],
            days[bad].head(),
        )
    try:
        values = np.asarray(pc.cast(pc.utf8_trim_whitespace(pieces.flatten()), pa.float64()), dtype=np.float64)
    except pa.ArrowInvalid as err:
        raise contract_error(
            "paths", "touch_days", f"not numbers ({err})", f"numbers >= 0 separated by {sep!r}"
        ) from err
    if not np.isfinite(values).all() or (values < 0).any():
        raise contract_error("paths", "touch_days", "some entries are negative or infinite", "finite numbers >= 0")
    return values


#: Longest half-life accepted, in days (ten years: beyond it every touch weighs the same).
MAX_HALF_LIFE_DAYS = 3_650.0


def check_half_life(half_life_days: object) -> float:
    """``half_life_days`` as a float in (0, ``MAX_HALF_LIFE_DAYS``]; a ``ValueError`` otherwise."""
    return check_number(
        "half_life_days", half_life_days, 0.0, MAX_HALF_LIFE_DAYS, meaning="half-life of the time-decay weights"
    )


def heuristic_matrices(
    parsed: ParsedPaths, touch_days: np.ndarray | None = None, half_life_days: float = 7.0
) -> dict[str, sp.csr_matrix]:
    """Sparse (n_channels, n_paths) credit matrix of each heuristic (``time_decay`` only with touch days)."""
    n_ch, n_paths = len(parsed.channels), parsed.n_paths
    codes, path, pos = parsed.codes, parsed.path_of_touch, parsed.position
    lengths = parsed.lengths[path]
    starts, ends = parsed.offsets[:-1], parsed.offsets[1:] - 1
    ones = np.ones(n_paths)
    every = np.arange(n_paths)
    out = {
        "first_touch": credit_matrix(codes[starts], every, ones, n_ch, n_paths),
        "last_touch": credit_matrix(codes[ends], every, ones, n_ch, n_paths),
        "linear": credit_matrix(codes, path, 1.0 / lengths, n_ch, n_paths),
        "position_based": credit_matrix(codes, path, position_shares(lengths, pos), n_ch, n_paths),
    }
    if touch_days is not None:
        weight = np.exp2(-touch_days / half_life_days)
        total = np.bincount(path, weight, n_paths)
        out["time_decay"] = credit_matrix(codes, path, weight / total[path], n_ch, n_paths)
    return out


def heuristics(
    paths: pd.DataFrame | Paths,
    sep: str | None = None,
    by: str | Sequence[str] | None = None,
    half_life_days: float = 7.0,
) -> Credit:
    """Heuristic credit per channel.

    Parameters
    ----------
    paths : pandas.DataFrame or Paths
        Paths table (or the result of :func:`attribution.build_paths`); with a ``touch_days`` column the
        ``time_decay`` rule is added.
    sep : str, optional
        Channel separator in ``path`` and ``touch_days`` (default: the one ``paths`` was built with, else
        ``">"``).
    by : str or sequence of str, optional
        Segment columns (e.g. ``"region"``).
    half_life_days : float
        Half-life of the time-decay weights, in days.

    Returns
    -------
    Credit
        ``table``: ``channel``, then for each rule (``first_touch``, ``last_touch``, ``linear``,
        ``position_based`` and, when available, ``time_decay``) its conversions and a ``<rule>_value`` column.
        ``skipped``: rows of ``paths`` skipped, by reason.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"path": ["a > b > c", "b"], "total_conversions": [10, 1],
    ...                   "total_conversion_value": [100.0, 5.0], "total_null": [0, 0]})
    >>> heuristics(t).table.round(6)[["channel", "first_touch", "last_touch", "position_based"]].values.tolist()
    [['a', 10.0, 0.0, 4.0], ['b', 1.0, 1.0, 3.0], ['c', 0.0, 10.0, 4.0]]
    """
    half_life_days = check_half_life(half_life_days)
    sep = resolve_sep(paths, sep)
    has_days = "touch_days" in paths_table(paths).columns

    def credit(parsed: ParsedPaths, table: pd.DataFrame) -> pd.DataFrame:
        days = parse_touch_days(table["touch_days"], parsed, sep) if has_days else None
        return linear_credit_frame(parsed, heuristic_matrices(parsed, days, half_life_days))

    stacked = apply_by_segment(paths, by, sep, credit)
    options = {"half_life_days": float(half_life_days)}
    return Credit(stacked.table, "heuristics", options, tuple(segment_columns(by)), stacked.skipped)
