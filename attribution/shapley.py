"""Shapley-value attribution in closed form (Zhao, Mahboobi & Bagheri, 2018), without enumerating coalitions.

With the characteristic function ``v(S)`` = conversions of the journeys whose set of channels is contained in
``S``, the Shapley value of channel ``j`` reduces to::

    phi_j = sum over channel sets T containing j of R(T) / |T|

where ``R(T)`` are the conversions of journeys whose distinct channel set is exactly ``T``: each journey's
conversions are shared equally among its distinct channels. The cost is linear in the number of touches and
independent of the number of channels. The ordered (touch-position) variant splits the same credit by the
position at which the channel first appears among the journey's distinct channels, so it sums to the
simplified value over positions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._linear import credit_matrix
from .paths import ParsedPaths, apply_by_segment, resolve_sep, segment_columns
from .results import Credit, Paths

__all__ = ["shapley", "shapley_matrix"]


def _distinct_touches(parsed: ParsedPaths) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(path, channel, first-appearance rank) of each distinct channel of each path, in touch order."""
    key = ("distinct_touches",)
    if key not in parsed._cache:
        n_ch = max(len(parsed.channels), 1)
        pair = parsed.path_of_touch * n_ch + parsed.codes
        # first occurrence of each (path, channel), kept in touch order (hash-based, no sort)
        first = np.flatnonzero(~pd.Series(pair).duplicated(keep="first").to_numpy())
        path = parsed.path_of_touch[first]
        channel = parsed.codes[first].astype(np.int64)
        starts = np.searchsorted(path, np.arange(parsed.n_paths))
        rank = np.arange(len(path)) - starts[path]
        parsed._cache[key] = (path, channel, rank)
    return parsed._cache[key]


def shapley_matrix(parsed: ParsedPaths, ordered: bool = False) -> tuple[sp.csr_matrix, np.ndarray]:
    """Credit matrix of the simplified (or ordered) Shapley value.

    Parameters
    ----------
    parsed : ParsedPaths
    ordered : bool
        Split by first-touch position.

    Returns
    -------
    matrix : scipy.sparse.csr_matrix
        (n_targets, n_paths); credit = ``matrix @ conversions``.
    targets : numpy.ndarray
        For the simplified value the channel code of each row; for the ordered value an (n_targets, 2)
        array of (channel code, 0-based position).
    """
    path, channel, rank = _distinct_touches(parsed)
    n_distinct = np.bincount(path, minlength=parsed.n_paths)
    share = 1.0 / n_distinct[path]
    n_ch = len(parsed.channels)
    if not ordered:
        return credit_matrix(channel, path, share, n_ch, parsed.n_paths), np.arange(n_ch)
    max_rank = int(rank.max()) + 1 if len(rank) else 1
    target_key = channel * max_rank + rank
    used, target = np.unique(target_key, return_inverse=True)
    matrix = credit_matrix(target, path, share, len(used), parsed.n_paths)
    return matrix, np.column_stack([used // max_rank, used % max_rank])


def shapley(
    paths: pd.DataFrame | Paths, ordered: bool = False, sep: str | None = None, by: str | Sequence[str] | None = None
) -> Credit:
    """Exact Shapley-value attribution of conversions and value to channels.

    Parameters
    ----------
    paths : pandas.DataFrame or Paths
        Paths table: ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null`` (or the result
        of :func:`attribution.build_paths`).
    ordered : bool
        Return the ordered (touch-position) Shapley value: one row per (channel, ``position``), where
        ``position`` (1-based) is where the channel first appears among the journey's distinct channels.
    sep : str, optional
        Channel separator in ``path`` (default: the one ``paths`` was built with, else ``">"``).
    by : str or sequence of str, optional
        Segment columns (e.g. ``"region"``).

    Returns
    -------
    Credit
        ``table``: ``channel`` (and ``position`` when ordered), ``conversions``, ``value``; credits sum to the
        total conversions and value (efficiency). ``skipped``: rows of ``paths`` skipped, by reason.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"path": ["a > b", "a"], "total_conversions": [2, 1],
    ...                   "total_conversion_value": [10.0, 4.0], "total_null": [0, 3]})
    >>> shapley(t).table[["channel", "conversions", "value"]].values.tolist()
    [['a', 2.0, 9.0], ['b', 1.0, 5.0]]
    """

    def credit(parsed: ParsedPaths, _table: pd.DataFrame) -> pd.DataFrame:
        matrix, targets = shapley_matrix(parsed, ordered)
        conv, value = matrix @ parsed.conversions, matrix @ parsed.values
        if not ordered:
            return pd.DataFrame({"channel": parsed.channels, "conversions": conv, "value": value})
        return pd.DataFrame(
            {
                "channel": parsed.channels[targets[:, 0]],
                "position": targets[:, 1] + 1,
                "conversions": conv,
                "value": value,
            }
        )

    stacked = apply_by_segment(paths, by, resolve_sep(paths, sep), credit)
    return Credit(stacked.table, "shapley", {"ordered": bool(ordered)}, tuple(segment_columns(by)), stacked.skipped)
