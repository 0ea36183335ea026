"""ROI-hurdle flags at the recommended spend, with their numbers (posterior mean, HDI, probability)."""

from __future__ import annotations

import numpy as np

from contracts.curves import ResponseCurves
from contracts.defaults import INTERVAL_PROB
from contracts.stats import hdi, interval_label


def _fmt(value: float) -> str:
    return "∞" if np.isinf(value) else f"{value:.2f}"


def flag_cells(
    curves: ResponseCurves, spend: np.ndarray, hurdle: float, activation: np.ndarray
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Flag cells whose ROI at the recommended spend is probably below the hurdle, or that sit below activation.

    A flag singles out what the growth plan asks for: a cell whose average ROI at the recommended spend is
    below the hurdle with probability > 0.5. Marginal ROI is reported apart (``mroi_below_hurdle``): at a
    spent-out budget every funded cell's marginal ROI sits near the budget's price, so it says more about the
    budget than about the cell (the plan says that once, with the budget at which its marginal ROI reaches the
    hurdle). An S-shaped cell funded below its activation level is flagged too.

    Parameters
    ----------
    curves : ResponseCurves
        Posterior curves.
    spend : numpy.ndarray
        Recommended spend per cell.
    hurdle : float
        ROI hurdle.
    activation : numpy.ndarray
        Activation spend per cell (0 where the posterior-mean curve is concave).

    Returns
    -------
    flag : numpy.ndarray of bool
    reason : list of str
        Empty for unflagged cells, e.g. ``"ROI 1.20 (90% HDI 0.90–1.60), P(<1.5) = 0.81"``; intervals are
        ``contracts.hdi`` at ``contracts.INTERVAL_PROB``.
    mroi_below : numpy.ndarray of bool
        Funded cells whose posterior-mean marginal ROI at the recommended spend is below the hurdle.
    """
    roi = curves.roi(spend)
    mroi = curves.mroi(spend)
    p_below = (roi < hurdle).mean(axis=0)
    roi_lo, roi_hi = hdi(roi, INTERVAL_PROB)
    label = interval_label(INTERVAL_PROB, "HDI")
    with np.errstate(invalid="ignore"):
        m_mean = mroi.mean(axis=0)
        roi_mean = roi.mean(axis=0)
    flags = np.zeros(curves.n_cells, dtype=bool)
    reasons: list[str] = []
    for c in range(curves.n_cells):
        parts = []
        if p_below[c] > 0.5:
            parts.append(
                f"ROI {_fmt(roi_mean[c])} ({label} {_fmt(roi_lo[c])}–{_fmt(roi_hi[c])}), "
                f"P(<{hurdle:g}) = {p_below[c]:.2f}"
            )
        if activation[c] > 0 and 0 < spend[c] < activation[c] * (1 - 1e-6):
            parts.append(f"below activation level: fund at ≥ {activation[c]:,.0f} or not at all")
        flags[c] = bool(parts)
        reasons.append("; ".join(parts))
    mroi_below = (spend > 0) & (m_mean < hurdle)
    return flags, reasons, mroi_below
