"""Markov-chain attribution of order k, solved exactly with sparse linear algebra (no simulation).

Conventions (those of ChannelAttribution's ``markov_model``):

- channel names are trimmed; rows with no conversions and no nulls are skipped (counted, warned);
- an order-k state is a sliding window of k consecutive channels; a path of at most k channels is one state;
- consecutive identical states of a path collapse into one;
- every journey starts in ``(start)`` and ends in ``(conversion)`` or ``(null)``; transition probabilities are
  the maximum-likelihood estimates from the path counts;
- removing a channel sends every transition into a state that contains it to ``(null)``; its removal effect is
  the relative drop of the chain's conversion probability; credit = removal-effect share x total conversions;
- value credit is the same with value-weighted conversion: converting from a state is worth the mean value of
  the conversions observed from it.

Absorption is computed from the expected visit counts ``x`` that solve ``(I - P_TT^T) x = s`` (``s``: journeys
entering each transient state from the start). For the fitted chain ``x`` equals the observed flow through each
state, so the chain's conversion probability equals total conversions / (conversions + nulls) exactly; this
identity is checked on every fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ._errors import contract_error
from .paths import ParsedPaths, apply_by_segment, resolve_sep, segment_columns
from .results import Credit, Paths

__all__ = ["MAX_ORDER", "MarkovDesign", "chain_credit", "chain_table", "markov", "markov_design"]

MAX_ORDER = 4
#: Bound on states x channels of a chain (memory of the membership table, and the removal solves).
MAX_STATE_CHANNEL_CELLS = 200_000_000
_DENSE_LIMIT = 600  # below this many transient states a dense LU is faster than a sparse one
_IDENTITY_RTOL = 1e-7
_KRYLOV_RTOL = 1e-13


@dataclass(frozen=True)
class MarkovDesign:
    """The structure of an order-k chain on a set of paths, independent of the path counts.

    Node 0 is ``(start)``; nodes ``1..n_states`` are the transient states. Keeping the structure apart from the
    counts lets the bootstrap and the held-out evaluation refit with a few ``bincount`` calls, not a re-parse.

    Attributes
    ----------
    order : int
    n_states : int
    state_ids : numpy.ndarray
        Base-(n_channels + 1) integer code of each state's window (digit j = channel code + 1 of the j-th
        channel from the end).
    contains : numpy.ndarray
        Boolean (n_states, n_channels): whether state i contains channel c.
    trans_from, trans_to : numpy.ndarray
        Nodes of each distinct transient transition (``trans_from`` may be 0 = start).
    entry_trans, entry_path : numpy.ndarray
        For each transition occurrence in the paths: its distinct transition and its path.
    last_state : numpy.ndarray
        Node of the final state of each path.
    """

    order: int
    n_states: int
    state_ids: np.ndarray
    contains: np.ndarray
    trans_from: np.ndarray
    trans_to: np.ndarray
    entry_trans: np.ndarray
    entry_path: np.ndarray
    last_state: np.ndarray

    def transition_counts(self, journeys: np.ndarray) -> np.ndarray:
        """Count of each distinct transient transition, given the number of journeys of each path."""
        return np.bincount(self.entry_trans, weights=journeys[self.entry_path], minlength=len(self.trans_from))


def _check_order(order: object) -> int:
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or not 1 <= order <= MAX_ORDER:
        raise ValueError(f"order must be an integer from 1 to {MAX_ORDER}, got {order!r}")
    return int(order)


def _check_state_space(n_states: int, n_channels: int, order: int) -> None:
    """Refuse chains whose removal effects would cost more than ``MAX_STATE_CHANNEL_CELLS``.

    Each channel's removal is one solve over the states, and the state-by-channel membership table is held
    in memory; both grow as states x channels, and the states of order k up to channels**k.
    """
    cells = n_states * n_channels
    if cells > MAX_STATE_CHANNEL_CELLS:
        raise contract_error(
            "paths",
            "path",
            f"an order-{order} chain has {n_states:,} states and {n_channels:,} channels "
            f"({cells:,} state-channel pairs; states grow up to channels**order)",
            f"at most {MAX_STATE_CHANNEL_CELLS:,} state-channel pairs: use a lower order or fewer distinct channels",
        )


def _window_ids(parsed: ParsedPaths, order: int) -> tuple[np.ndarray, np.ndarray]:
    """State id of each state occurrence and its path, in path order, after collapsing repeats.

    Written to keep few touch-length temporaries alive (int32 ids where they fit): at a million paths each
    such array is tens of MB.
    """
    base = len(parsed.channels) + 1
    if float(base) ** order >= 2.0**62:
        raise ValueError(f"too many channels ({base - 1}) for order {order}: state ids overflow int64")
    dtype = np.int32 if base**order < 2**31 else np.int64
    ids = parsed.codes.astype(dtype)
    ids += 1
    path_of_touch = parsed.path_of_touch
    if order == 1:
        sid, spath = ids, path_of_touch
    else:
        pos = parsed.position
        digits = ids.copy()
        for j in range(1, order):
            shifted = np.zeros_like(digits)
            shifted[j:] = digits[:-j]
            shifted[pos < j] = 0
            shifted *= base**j
            ids += shifted
            del shifted
        del digits
        # A window of `order` touches ends at each position >= order - 1; a shorter path is one state.
        valid = pos >= order - 1
        short = np.flatnonzero(parsed.lengths < order)
        valid[parsed.offsets[short + 1] - 1] = True
        sid, spath = ids[valid], path_of_touch[valid]
        del ids, valid
    repeat = np.zeros(len(sid), dtype=bool)
    repeat[1:] = (sid[1:] == sid[:-1]) & (spath[1:] == spath[:-1])
    keep = ~repeat
    return sid[keep], spath[keep]


#: Key spaces up to this size are factorised with a dense lookup table instead of a hash table.
_DENSE_KEYS = 20_000_000


def _factorize_sorted(keys: np.ndarray, base: int, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(keys, sort=True)`` for non-negative keys below ``base**digits``.

    A dense table over the key space gives the same codes in one pass with little memory (a hash table over
    millions of keys costs hundreds of MB); large key spaces fall back to pandas.
    """
    space = base**digits
    if space > _DENSE_KEYS:
        return pd.factorize(keys, sort=True)
    present = np.zeros(space, dtype=bool)
    present[keys] = True
    uniques = np.flatnonzero(present)
    lookup = np.full(space, -1, dtype=np.int32 if len(uniques) < 2**31 else np.int64)
    lookup[uniques] = np.arange(len(uniques))
    return lookup[keys], uniques


def markov_design(parsed: ParsedPaths, order: int = 1) -> MarkovDesign:
    """Build (and cache on ``parsed``) the order-k chain structure of a parsed paths table.

    Parameters
    ----------
    parsed : ParsedPaths
    order : int
        Markov order, 1 to 4.

    Returns
    -------
    MarkovDesign
    """
    order = _check_order(order)
    key = ("markov_design", order)
    if key in parsed._cache:
        return parsed._cache[key]
    sid, spath = _window_ids(parsed, order)
    codes, uniques = _factorize_sorted(sid, parsed.channels.size + 1, order)
    node = codes.astype(np.int32) + 1
    n_states = len(uniques)
    _check_state_space(n_states, len(parsed.channels), order)
    first = np.ones(len(node), dtype=bool)
    first[1:] = spath[1:] != spath[:-1]
    prev = np.empty_like(node)
    prev[0] = 0
    prev[1:] = node[:-1]
    prev[first] = 0
    last = np.ones(len(node), dtype=bool)
    last[:-1] = first[1:]
    trans_key = prev.astype(np.int64) * (n_states + 1) + node
    entry_trans, trans_uniques = _factorize_sorted(trans_key, n_states + 1, 2)
    base = len(parsed.channels) + 1
    state_ids = np.asarray(uniques, dtype=np.int64)
    contains = np.zeros((n_states, len(parsed.channels)), dtype=bool)
    rest = state_ids.copy()
    for _ in range(order):
        digit = rest % base
        has = digit > 0
        contains[np.flatnonzero(has), digit[has] - 1] = True
        rest //= base
    design = MarkovDesign(
        order=order,
        n_states=n_states,
        state_ids=state_ids,
        contains=contains,
        trans_from=np.asarray(trans_uniques, dtype=np.int64) // (n_states + 1),
        trans_to=np.asarray(trans_uniques, dtype=np.int64) % (n_states + 1),
        entry_trans=entry_trans.astype(np.int64),
        entry_path=spath,
        last_state=node[last],
    )
    parsed._cache[key] = design
    return design


def state_names(design: MarkovDesign, channels: np.ndarray, sep: str = ">") -> list[str]:
    """Readable names of the states, e.g. ``"a > b"`` (oldest channel first)."""
    base = len(channels) + 1
    names = []
    for sid in design.state_ids.tolist():
        parts = []
        while sid:
            parts.append(str(channels[sid % base - 1]))
            sid //= base
        names.append(f" {sep} ".join(reversed(parts)))
    return names


def _solve(matrix: sp.csc_matrix, rhs: np.ndarray) -> np.ndarray:
    """Solve ``matrix @ x = rhs`` for the visit counts.

    Small chains use a dense LU. Large order-k chains are de Bruijn-like graphs on which sparse LU fills in
    badly (seconds per solve at 10^4 states), while a Krylov solver converges in a few dozen mat-vecs because
    every state leaks to absorption; it is run to a relative residual of 1e-13, checked, and backed by a
    sparse LU if it ever falls short.
    """
    n = matrix.shape[0]
    if n == 0:
        return np.zeros(0)
    if n <= _DENSE_LIMIT:
        return scipy.linalg.solve(matrix.toarray(), rhs, check_finite=False)
    scale = float(np.linalg.norm(rhs))
    if scale == 0.0:
        return np.zeros(n)
    x, info = spla.gmres(matrix, rhs, rtol=_KRYLOV_RTOL, atol=0.0, restart=100, maxiter=50)
    if info == 0 and np.linalg.norm(matrix @ x - rhs) <= 10 * _KRYLOV_RTOL * scale:
        return x
    return spla.splu(matrix.tocsc(), permc_spec="NATURAL").solve(rhs)


def chain_credit(
    design: MarkovDesign,
    conversions: np.ndarray,
    values: np.ndarray,
    nulls: np.ndarray,
    transition_counts: np.ndarray | None = None,
) -> dict[str, np.ndarray | float]:
    """Fit the chain on per-path counts and return removal effects and credit per channel.

    Parameters
    ----------
    design : MarkovDesign
    conversions, values, nulls : numpy.ndarray
        Per-path counts (any non-negative weights, e.g. bootstrap replicates).
    transition_counts : numpy.ndarray, optional
        Precomputed ``design.transition_counts(conversions + nulls)``.

    Returns
    -------
    dict
        ``conversions``, ``value``, ``removal_effect``, ``removal_effect_value`` (arrays over channels) and
        ``conversion_probability`` (float).
    """
    n_ch = design.contains.shape[1]
    n_nodes = design.n_states + 1
    journeys = conversions + nulls
    if transition_counts is None:
        transition_counts = design.transition_counts(journeys)
    conv_out = np.bincount(design.last_state, weights=conversions, minlength=n_nodes)[1:]
    value_out = np.bincount(design.last_state, weights=values, minlength=n_nodes)[1:]
    null_out = np.bincount(design.last_state, weights=nulls, minlength=n_nodes)[1:]
    from_start = design.trans_from == 0
    start = np.bincount(design.trans_to[from_start] - 1, transition_counts[from_start], design.n_states)
    inner = ~from_start
    rows, cols, counts = design.trans_from[inner] - 1, design.trans_to[inner] - 1, transition_counts[inner]
    out_total = np.bincount(rows, counts, design.n_states) + conv_out + null_out
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_out = np.where(out_total > 0, 1.0 / out_total, 0.0)
    # (I - P^T) with P[i, j] = counts / out_total[i]; column-major so that slicing kept states is cheap
    p_t = sp.csc_matrix((counts * inv_out[rows], (cols, rows)), shape=(design.n_states,) * 2)
    system = (sp.identity(design.n_states, format="csc") - p_t).tocsc()
    conv_rate, value_rate = conv_out * inv_out, value_out * inv_out

    visits = _solve(system, start)
    total_conv, total_value, total_journeys = conversions.sum(), values.sum(), journeys.sum()
    chain_conv = float(visits @ conv_rate)
    if abs(chain_conv - total_conv) > _IDENTITY_RTOL * max(1.0, total_conv):
        raise RuntimeError(
            f"internal error: the fitted chain converts {chain_conv!r} journeys, the paths {total_conv!r}"
        )
    removed_conv, removed_value = np.empty(n_ch), np.empty(n_ch)
    for c in range(n_ch):
        kept = np.flatnonzero(~design.contains[:, c])
        x = _solve(system[kept][:, kept], start[kept])
        removed_conv[c], removed_value[c] = x @ conv_rate[kept], x @ value_rate[kept]
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = np.where(total_conv > 0, 1.0 - removed_conv / total_conv, 0.0)
        effect_value = np.where(total_value > 0, 1.0 - removed_value / total_value, 0.0)
    effect = np.clip(effect, 0.0, 1.0)
    effect_value = np.clip(effect_value, 0.0, 1.0)
    return {
        "conversions": _share(effect) * total_conv,
        "value": _share(effect_value) * total_value,
        "removal_effect": effect,
        "removal_effect_value": effect_value,
        "conversion_probability": float(chain_conv / total_journeys) if total_journeys > 0 else float("nan"),
    }


CREDIT_COLUMNS = ("conversions", "value", "removal_effect", "removal_effect_value")


def empty_credit(columns: Sequence[str]) -> pd.DataFrame:
    """A credit frame with no channels (nothing left to attribute)."""
    return pd.DataFrame({"channel": pd.Series(dtype=object), **{c: pd.Series(dtype=np.float64) for c in columns}})


def _share(x: np.ndarray) -> np.ndarray:
    total = x.sum()
    return x / total if total > 0 else np.zeros_like(x)


def markov(
    paths: pd.DataFrame | Paths, order: int = 1, sep: str | None = None, by: str | Sequence[str] | None = None
) -> Credit:
    """Exact Markov-chain (removal-effect) attribution of order k.

    Parameters
    ----------
    paths : pandas.DataFrame or Paths
        Paths table: ``path``, ``total_conversions``, ``total_conversion_value``, ``total_null`` (or the result
        of :func:`attribution.build_paths`).
    order : int
        Markov order, 1 to 4.
    sep : str, optional
        Channel separator in ``path`` (default: the one ``paths`` was built with, else ``">"``).
    by : str or sequence of str, optional
        Segment columns (e.g. ``"region"``); one chain is fitted per segment.

    Returns
    -------
    Credit
        ``table``: one row per (segment,) channel with ``channel``, ``conversions``, ``value``,
        ``removal_effect``, ``removal_effect_value``; ``chains``: per segment, the chain's
        ``conversion_probability`` and ``n_states``; ``skipped``: rows of ``paths`` skipped, by reason.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"path": ["A>B>A>B>B>A", "A>B>B>A>A", "A>A"], "total_conversions": [1, 1, 1],
    ...                   "total_conversion_value": [1.0, 1.0, 1.0], "total_null": [0, 0, 0]})
    >>> markov(t).table[["channel", "conversions"]].round(6).values.tolist()
    [['A', 2.0], ['B', 1.0]]
    """
    order = _check_order(order)
    sep = resolve_sep(paths, sep)
    chains: list[dict[str, float]] = []

    def credit(parsed: ParsedPaths, _table: pd.DataFrame) -> pd.DataFrame:
        if parsed.n_paths == 0:  # nothing kept (every row skipped, or an empty table): empty credit
            chains.append({"conversion_probability": float("nan"), "n_states": 0})
            return empty_credit(CREDIT_COLUMNS)
        design = markov_design(parsed, order)
        fit = chain_credit(design, parsed.conversions, parsed.values, parsed.nulls)
        chains.append({"conversion_probability": fit.pop("conversion_probability"), "n_states": design.n_states})
        return pd.DataFrame({"channel": parsed.channels, **fit})

    stacked = apply_by_segment(paths, by, sep, credit)
    return Credit(
        stacked.table,
        "markov",
        {"order": order},
        tuple(segment_columns(by)),
        stacked.skipped,
        chains=chain_table(stacked.segments, chains),
    )


def chain_table(segments: pd.DataFrame, chains: list[dict[str, float]]) -> pd.DataFrame:
    """One row per fitted segment: segment columns, ``conversion_probability``, ``n_states``."""
    fits = pd.DataFrame(chains, columns=["conversion_probability", "n_states"], index=segments.index)
    return pd.concat([segments, fits.astype({"conversion_probability": "float64", "n_states": "int64"})], axis=1)
