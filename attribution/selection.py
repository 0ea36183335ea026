"""Choosing the Markov order by held-out predictive accuracy (log-loss and AUC).

Journeys are split at random into train and test (per path, binomially, so no path table is re-parsed). The
chain fitted on the training journeys predicts, for a test journey, the probability that it converts given
the state it ended in: ``P(state -> conversion) / (P(state -> conversion) + P(state -> null))``. Higher
orders see more of the journey's recent history in that state, at the price of sparser counts. States never
seen ending a training journey fall back to the overall rate (additive smoothing with weight 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._checks import check_number, check_seed
from ._errors import contract_error
from .markov import MAX_ORDER, _check_order, markov_design
from .paths import parse_paths, resolve_sep
from .results import OrderSelection, Paths

__all__ = ["select_order", "weighted_auc", "weighted_log_loss"]

_EPS = 1e-12


def weighted_log_loss(p: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> float:
    """Mean binary log-loss when each prediction ``p`` stands for ``positives`` + ``negatives`` outcomes."""
    p = np.clip(p, _EPS, 1 - _EPS)
    total = positives.sum() + negatives.sum()
    return float(-(positives @ np.log(p) + negatives @ np.log1p(-p)) / total) if total > 0 else float("nan")


def weighted_auc(p: np.ndarray, positives: np.ndarray, negatives: np.ndarray) -> float:
    """Area under the ROC curve with counted outcomes; ties count one half."""
    n_pos, n_neg = positives.sum(), negatives.sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    scores, inverse = np.unique(p, return_inverse=True)
    pos = np.bincount(inverse, positives, len(scores))
    neg = np.bincount(inverse, negatives, len(scores))
    neg_below = np.cumsum(neg) - neg
    return float((pos @ (neg_below + 0.5 * neg)) / (n_pos * n_neg))


def select_order(
    paths: pd.DataFrame | Paths,
    orders: Sequence[int] = (1, 2, 3, 4),
    test_fraction: float = 0.3,
    seed: int = 0,
    sep: str | None = None,
) -> OrderSelection:
    """Held-out log-loss and AUC of the Markov chain for each order.

    Parameters
    ----------
    paths : pandas.DataFrame or Paths
        Paths table (integer counts), or the result of :func:`attribution.build_paths`.
    orders : sequence of int
        Orders to compare (1 to 4).
    test_fraction : float
        Share of journeys held out.
    seed : int
        Seed of the split.
    sep : str, optional
        Channel separator in ``path`` (default: the one ``paths`` was built with, else ``">"``).

    Returns
    -------
    OrderSelection
        ``table``: one row per order: ``order``, ``log_loss`` (lower is better), ``auc`` (higher is better),
        ``n_states``, ``train_journeys``, ``test_journeys``; ``best_order``; ``skipped``: rows of ``paths``
        skipped, by reason.
    """
    check_number("test_fraction", test_fraction, 0.0, 1.0, high_open=True, meaning="the share of journeys held out")
    if isinstance(orders, str | bytes) or not isinstance(orders, Sequence) or not orders:
        raise ValueError(f"orders must be a non-empty sequence of integers from 1 to {MAX_ORDER}, got {orders!r}")
    orders = [_check_order(k) for k in orders]
    if len(set(orders)) != len(orders):
        raise ValueError(f"orders must not repeat an order, got {orders!r}")
    rng = np.random.default_rng(check_seed(seed))
    parsed = parse_paths(paths, resolve_sep(paths, sep))
    if parsed.n_paths == 0:
        raise contract_error(
            "paths",
            "total_conversions",
            f"nothing left to evaluate: all {parsed.skipped.rows:,} rows were skipped (no conversions and no "
            "nulls, so they carry no journey)",
            "at least one path with total_conversions > 0 or total_null > 0",
        )
    conv, nulls = parsed.conversions, parsed.nulls
    test_conv = rng.binomial(conv.astype(np.int64), test_fraction).astype(np.float64)
    test_null = rng.binomial(nulls.astype(np.int64), test_fraction).astype(np.float64)
    train_conv, train_null = conv - test_conv, nulls - test_null
    base_rate = train_conv.sum() / max(train_conv.sum() + train_null.sum(), 1.0)
    rows = []
    for order in orders:
        design = markov_design(parsed, order)
        n_nodes = design.n_states + 1
        state_conv = np.bincount(design.last_state, train_conv, n_nodes)
        state_null = np.bincount(design.last_state, train_null, n_nodes)
        p_state = (state_conv + base_rate) / (state_conv + state_null + 1.0)
        p = p_state[design.last_state]
        rows.append(
            {
                "order": order,
                "log_loss": weighted_log_loss(p, test_conv, test_null),
                "auc": weighted_auc(p, test_conv, test_null),
                "n_states": design.n_states,
                "train_journeys": int(train_conv.sum() + train_null.sum()),
                "test_journeys": int(test_conv.sum() + test_null.sum()),
            }
        )
    return OrderSelection(pd.DataFrame(rows), parsed.skipped, float(test_fraction), seed)
