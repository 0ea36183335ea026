"""Small numpy summaries of posterior draws (draws on axis 0)."""

from __future__ import annotations

import numpy as np


def hdi(draws: np.ndarray, prob: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval (shortest interval holding ``prob`` of the draws) along axis 0.

    Parameters
    ----------
    draws : numpy.ndarray
        Shape (draws, ...).
    prob : float
        Probability mass in (0, 1).

    Returns
    -------
    low, high : numpy.ndarray
        Shape ``draws.shape[1:]``.

    Examples
    --------
    >>> low, high = hdi(np.arange(101.0)[:, None], 0.9)
    >>> float(high[0] - low[0])
    90.0
    """
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1); got {prob!r}")
    ordered = np.sort(np.asarray(draws, dtype=float), axis=0)
    n = ordered.shape[0]
    if n == 0:
        raise ValueError("draws must hold at least one draw")
    k = min(int(np.floor(prob * n)), n - 1)
    widths = ordered[k:] - ordered[: n - k]
    start = np.argmin(widths, axis=0)
    low = np.take_along_axis(ordered, start[None, ...], axis=0)[0]
    high = np.take_along_axis(ordered, (start + k)[None, ...], axis=0)[0]
    return low, high


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error (as a share, 0.05 = 5%)."""
    actual, predicted = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    if actual.size == 0:
        return float("nan")
    return float(np.mean(np.abs(predicted - actual) / np.abs(actual)))


def r_squared(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` over all values."""
    actual, predicted = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    if actual.size < 2:
        return float("nan")
    total = np.sum((actual - actual.mean()) ** 2)
    return float(1.0 - np.sum((actual - predicted) ** 2) / total) if total > 0 else float("nan")
