"""ROI-hurdle flags with their numbers, and posterior summaries (HDI)."""

from __future__ import annotations

import numpy as np

from contracts.curves import ResponseCurves

HDI_PROB = 0.90


def hdi(samples: np.ndarray, prob: float = HDI_PROB) -> tuple[np.ndarray, np.ndarray]:
    """Highest-density interval per column of ``samples`` (draws, k): the shortest interval holding ``prob``.

    Infinite values (e.g. the marginal ROI of a Hill curve with shape < 1 at zero spend) sort last.
    """
    x = np.sort(np.asarray(samples, dtype=float), axis=0)
    n = x.shape[0]
    width = max(1, int(np.ceil(prob * n)))
    if width >= n:
        return x[0], x[-1]
    with np.errstate(invalid="ignore"):
        spans = x[width - 1 :] - x[: n - width + 1]
    spans = np.where(np.isnan(spans), np.inf, spans)
    start = spans.argmin(axis=0)
    cols = np.arange(x.shape[1])
    return x[start, cols], x[start + width - 1, cols]


def _fmt(value: float) -> str:
    return "∞" if np.isinf(value) else f"{value:.2f}"


def flag_cells(
    curves: ResponseCurves, spend: np.ndarray, hurdle: float, activation: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Flag cells whose ROI is probably below the hurdle, whose marginal ROI is, or that sit below activation.

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
        Empty for unflagged cells, e.g. ``"ROI 1.20 (90% HDI 0.90–1.60), P(<1.5) = 0.81"``.
    """
    roi = curves.roi(spend)
    mroi = curves.mroi(spend)
    p_below = (roi < hurdle).mean(axis=0)
    roi_lo, roi_hi = hdi(roi)
    m_lo, m_hi = hdi(mroi)
    with np.errstate(invalid="ignore"):
        m_mean = mroi.mean(axis=0)
        roi_mean = roi.mean(axis=0)
    flags = np.zeros(curves.n_cells, dtype=bool)
    reasons: list[str] = []
    for c in range(curves.n_cells):
        parts = []
        if p_below[c] > 0.5:
            parts.append(
                f"ROI {_fmt(roi_mean[c])} (90% HDI {_fmt(roi_lo[c])}–{_fmt(roi_hi[c])}), "
                f"P(<{hurdle:g}) = {p_below[c]:.2f}"
            )
        if spend[c] > 0 and m_mean[c] < hurdle:
            parts.append(
                f"marginal ROI {_fmt(m_mean[c])} (90% HDI {_fmt(m_lo[c])}–{_fmt(m_hi[c])}) "
                f"below hurdle {hurdle:g} at spend {spend[c]:,.0f}"
            )
        if activation[c] > 0 and 0 < spend[c] < activation[c] * (1 - 1e-6):
            parts.append(f"below activation level: fund at ≥ {activation[c]:,.0f} or not at all")
        flags[c] = bool(parts)
        reasons.append("; ".join(parts))
    return flags, reasons
