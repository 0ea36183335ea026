"""The simulator's own media transforms and spend flighting (numpy only).

These are the ground truth. The media-mix model has its own implementation in ``mmm/``; keeping the two apart
means a bug in one is caught by the other instead of being copied into the truth.
"""

from __future__ import annotations

import numpy as np


def adstock_weights(alpha: np.ndarray | float, l_max: int) -> np.ndarray:
    """Normalised geometric adstock weights ``alpha**l / sum_j alpha**j`` for lags ``0..l_max-1``.

    Returns an array shaped ``(l_max, *np.shape(alpha))`` whose columns sum to one, so adstocked spend stays in
    spend units and a constant spend ``x`` has adstock ``x`` in steady state.
    """
    alpha = np.asarray(alpha, dtype=float)
    lags = np.arange(l_max).reshape((l_max,) + (1,) * alpha.ndim)
    weights = alpha[None, ...] ** lags
    return weights / weights.sum(axis=0, keepdims=True)


def geometric_adstock(spend: np.ndarray, alpha: np.ndarray | float, l_max: int) -> np.ndarray:
    """Carry spend over time: ``a[t] = sum_{l<l_max} w_l * spend[t-l]`` with spend before ``t=0`` taken as 0.

    ``spend`` has time on axis 0; ``alpha`` broadcasts against the remaining axes.
    """
    spend = np.asarray(spend, dtype=float)
    weights = adstock_weights(alpha, l_max)
    out = np.zeros(np.broadcast_shapes(spend.shape, weights.shape[1:]))
    n_weeks = spend.shape[0]
    for lag in range(min(l_max, n_weeks)):
        out[lag:] += weights[lag] * spend[: n_weeks - lag]
    return out


def hill(x: np.ndarray, half_saturation: np.ndarray | float, shape: np.ndarray | float) -> np.ndarray:
    """Hill saturation ``x**s / (x**s + K**s)`` in [0, 1); 0.5 at ``x = K``."""
    x = np.asarray(x, dtype=float)
    ratio = np.divide(x, half_saturation)
    powered = ratio**shape
    return powered / (1.0 + powered)


def hill_derivative(x: np.ndarray, half_saturation: np.ndarray | float, shape: np.ndarray | float) -> np.ndarray:
    """d hill / dx = ``s K**s x**(s-1) / (x**s + K**s)**2``."""
    x = np.asarray(x, dtype=float)
    ratio = np.divide(x, half_saturation)
    with np.errstate(divide="ignore", invalid="ignore"):
        powered = ratio**shape
        out = shape * powered / (x * (1.0 + powered) ** 2)
    # At x = 0 the slope is 1/K for s = 1, 0 for s > 1 and unbounded for s < 1.
    at_zero = np.where(np.asarray(shape) == 1.0, 1.0 / np.asarray(half_saturation), np.inf)
    return np.where(x > 0, out, np.where(np.asarray(shape) > 1.0, 0.0, at_zero))


def demand_index(weeks: int, rng: np.random.Generator, n_regions: int) -> np.ndarray:
    """Yearly seasonality of demand per region, shaped ``(weeks, n_regions)``, mean close to 1.

    Two Fourier harmonics with region-specific amplitudes and phases; the year-end peak is added by the
    promotion control, not here, so a model with Fourier terms plus controls can describe the baseline exactly.
    """
    t = np.arange(weeks)[:, None]
    omega = 2 * np.pi * t / 52.1775
    amp1 = rng.uniform(0.06, 0.12, n_regions)
    amp2 = rng.uniform(0.02, 0.05, n_regions)
    phase1 = rng.uniform(0, 2 * np.pi, n_regions)
    phase2 = rng.uniform(0, 2 * np.pi, n_regions)
    return 1.0 + amp1 * np.sin(omega + phase1) + amp2 * np.sin(2 * omega + phase2)


def flighting(pattern: str, weeks: int, rng: np.random.Generator) -> np.ndarray:
    """A non-negative weekly spend shape (mean 1 over the window) for one cell.

    ``always_on``: smooth AR(1) noise around a level; ``bursty``: a low level with 3–6 week bursts at 2–3×;
    ``flights``: on/off waves (zero spend between flights); ``events``: a handful of big weeks, zero otherwise.
    """
    if pattern == "always_on":
        shape = np.exp(_ar1(weeks, rng, phi=0.6, sd=0.12))
    elif pattern == "bursty":
        shape = 0.5 * np.exp(_ar1(weeks, rng, phi=0.5, sd=0.10))
        week = int(rng.integers(0, 6))
        while week < weeks:
            length = int(rng.integers(3, 7))
            shape[week : week + length] *= rng.uniform(2.0, 3.0)
            week += length + int(rng.integers(4, 10))
    elif pattern == "flights":
        shape = np.zeros(weeks)
        week = int(rng.integers(0, 4))
        while week < weeks:
            length = int(rng.integers(4, 9))
            shape[week : week + length] = rng.uniform(0.8, 1.2) * np.exp(rng.normal(0, 0.1, len(shape[week:][:length])))
            week += length + int(rng.integers(3, 9))
    elif pattern == "events":
        shape = np.zeros(weeks)
        n_events = max(2, round(weeks / 52 * 6))
        chosen = rng.choice(weeks, size=min(n_events, weeks), replace=False)
        shape[chosen] = rng.uniform(0.6, 1.4, len(chosen))
    else:
        raise ValueError(f"unknown flighting pattern {pattern!r}; allowed: always_on, bursty, flights, events")
    return shape / shape.mean()


def _ar1(weeks: int, rng: np.random.Generator, phi: float, sd: float) -> np.ndarray:
    eps = rng.normal(0.0, sd * np.sqrt(1 - phi**2), weeks)
    out = np.empty(weeks)
    out[0] = rng.normal(0.0, sd)
    for t in range(1, weeks):
        out[t] = phi * out[t - 1] + eps[t]
    return out
