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
) -> tuple[np.ndarray, list[str]]:
    """Flag cells whose ROI is probably below the hurdle, whose mROI is, or that sit below activation.

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
    """
    roi = curves.roi(spend)
    mroi = curves.mroi(spend)
    p_below = (roi < hurdle).mean(axis=0)
    roi_lo, roi_hi = hdi(roi, INTERVAL_PROB)
    m_lo, m_hi = hdi(mroi, INTERVAL_PROB)
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
        if spend[c] > 0 and m_mean[c] < hurdle:
            parts.append(
                f"mROI {_fmt(m_mean[c])} ({label} {_fmt(m_lo[c])}–{_fmt(m_hi[c])}) "
                f"below hurdle {hurdle:g} at spend {spend[c]:,.0f}"
            )
        if activation[c] > 0 and 0 < spend[c] < activation[c] * (1 - 1e-6):
            parts.append(f"below activation level: fund at ≥ {activation[c]:,.0f} or not at all")
        flags[c] = bool(parts)
        reasons.append("; ".join(parts))
    return flags, reasons
