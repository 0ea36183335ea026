"""Posterior summaries shared by every package (draws on axis 0)."""

from __future__ import annotations

import numpy as np

from contracts.defaults import INTERVAL_PROB


def hdi(draws: np.ndarray, prob: float = INTERVAL_PROB) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval along axis 0: the shortest span of ``floor(prob * n) + 1`` sorted draws.

    The same rule as ArviZ's ``az.hdi`` (tested against it). Infinite values (e.g. the marginal ROI of a Hill curve
    with shape < 1 at zero spend) sort last; a span that would need them is never the shortest unless all are.

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
    if isinstance(prob, bool) or not isinstance(prob, (int, float)) or not 0 < prob < 1:
        raise ValueError(f"prob must be a number in (0, 1); got {prob!r}")
    ordered = np.sort(np.asarray(draws, dtype=float), axis=0)
    n = ordered.shape[0] if ordered.ndim else 0
    if n == 0:
        raise ValueError("draws must hold at least one draw")
    k = min(int(np.floor(prob * n)), n - 1)
    with np.errstate(invalid="ignore"):
        widths = ordered[k:] - ordered[: n - k]
    widths = np.where(np.isnan(widths), np.inf, widths)
    start = np.argmin(widths, axis=0)
    low = np.take_along_axis(ordered, start[None, ...], axis=0)[0]
    high = np.take_along_axis(ordered, (start + k)[None, ...], axis=0)[0]
    return low, high


def interval_label(prob: float = INTERVAL_PROB, kind: str = "HDI") -> str:
    """How an interval is named once per result, e.g. ``"90% HDI"`` or ``"90% equal-tailed"``."""
    return f"{100 * prob:g}% {kind}"
