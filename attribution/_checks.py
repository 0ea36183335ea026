"""Checks of the public functions' numeric arguments: type, finiteness and range, before any work is done.

Messages say the parameter, the value received and what is allowed (scikit-learn's convention).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_integer", "check_number", "check_seed"]


def _is_integer(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def check_integer(name: str, value: object, low: int, high: int, why: str = "") -> int:
    """``value`` as an ``int`` when it is an integer in ``[low, high]``; a ``ValueError`` otherwise."""
    if not _is_integer(value) or not low <= value <= high:
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must be an integer from {low:,} to {high:,}{reason}, got {value!r}")
    return int(value)


def check_number(
    name: str,
    value: object,
    low: float,
    high: float,
    *,
    low_open: bool = True,
    high_open: bool = False,
    meaning: str = "",
) -> float:
    """``value`` as a ``float`` when it is a finite real number in the interval; a ``ValueError`` otherwise."""
    ok = (_is_integer(value) or isinstance(value, float | np.floating)) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        what = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be a finite number in {interval}{what}, got {value!r}")
    return float(value)


def check_seed(seed: object) -> int | None:
    """A seed must be ``None`` or a non-negative integer: a float such as 1.7 is refused, not truncated."""
    if seed is None:
        return None
    return check_integer("seed", seed, 0, 2**63 - 1, "a float is not truncated")
