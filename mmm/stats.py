"""Small numpy fit summaries (the HDI is :func:`contracts.hdi`, shared by every package)."""

from __future__ import annotations

import numpy as np


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
