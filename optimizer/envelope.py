"""Concave envelopes and tangent cuts for curves without an exact conic form.

The logistic family and S-shaped Hill curves (shape > 1) have no convenient exact cone representation. For
those cells the optimizer maximises the *concave envelope* of the curve (for an S-shaped curve: the line from the
origin to the activation point ``X`` where average ROI peaks, then the curve itself) through tangent cuts.
Tangents of a concave function lie above it, so the cut model is an outer approximation: its optimum is an
upper bound, and evaluating the envelope at the plan gives a lower bound. Cuts are added at the plan until the two
agree (Kelley's cutting planes, which converge fast in one dimension). Cut values are cvxpy Parameters, so the
refinement re-solves without rebuilding the problem.
"""

from __future__ import annotations

import numpy as np

from contracts.curves import ResponseCurves, family_value

_GRID = np.geomspace(1e-3, 50.0, 400)
#: Values one vectorised curve evaluation may hold (draws × cells × points).
_BLOCK_VALUES = 2_000_000


class CutModel:
    """Envelope functions and tangent cuts for the cut cells.

    Parameters
    ----------
    curves : ResponseCurves
        All curves.
    cells : numpy.ndarray
        Indices of the cells handled with cuts.
    per_draw : bool
        One envelope per draw (needed for CVaR) or one envelope of the posterior-mean curve.
    current : numpy.ndarray
        Current spend per cell (all cells), used to place initial cuts.
    n_grid, n_refine : int
        Number of fixed cut points and of slots for cuts added at the plan.
    """

    def __init__(
        self,
        curves: ResponseCurves,
        cells: np.ndarray,
        per_draw: bool,
        current: np.ndarray,
        n_grid: int | None = None,
        n_refine: int = 6,
    ) -> None:
        self.cells = np.asarray(cells, dtype=int)
        self.per_draw = per_draw
        self.family = [curves.family[c] for c in self.cells]
        self._families = {f: np.flatnonzero(np.array(self.family) == f) for f in dict.fromkeys(self.family)}
        self.beta = curves.beta[:, self.cells]
        self.scale = curves.scale[:, self.cells]
        self.shape = curves.shape[:, self.cells]
        self.n_rows = curves.n_draws if per_draw else 1
        n_grid = n_grid if n_grid is not None else (12 if per_draw else 64)
        self.n_slots = n_grid + n_refine
        self.n_grid = n_grid
        self._next = n_grid
        mean_scale = self.scale.mean(axis=0)
        self.activation, self.slope0 = self._activation(mean_scale)
        points = np.empty((len(self.cells), self.n_slots))
        for j, c in enumerate(self.cells):
            n_local = n_grid // 2
            grid = list(np.geomspace(0.02, 30.0, n_grid - n_local) * mean_scale[j])
            anchor = current[c] if current[c] > 0 else mean_scale[j]
            grid += list(anchor * np.linspace(0.6, 1.4, n_local))
            points[j, :n_grid] = np.sort(grid)
            points[j, n_grid:] = points[j, 0]
        self.points = points

    # ---------------------------------------------------------------- envelope
    def _curve(self, spend: np.ndarray, derivative: bool) -> np.ndarray:
        """Curve (or slope) at spend shaped (cells,) or (rows, cells, k) → (rows, cells[, k]).

        One vectorised evaluation per family and block of cells (blocks keep draws × cells × points near
        :data:`_BLOCK_VALUES`, so a 400-point grid over 2,000 draws does not build gigabyte temporaries).
        """
        s = np.asarray(spend, dtype=float)
        extra = s.ndim == 1
        s3 = s[None, :, None] if extra else s
        n_draws = self.beta.shape[0]
        k = s3.shape[2]
        rows = n_draws if self.per_draw else 1
        out = np.empty((rows, s3.shape[1], k))
        step = max(1, _BLOCK_VALUES // max(1, n_draws * k))
        for fam, idx in self._families.items():
            for start in range(0, idx.size, step):
                part = idx[start : start + step]
                b, sc, a = (arr[:, part, None] for arr in (self.beta, self.scale, self.shape))
                value = family_value(fam, b, sc, a, s3[:, part, :], derivative)
                out[:, part, :] = value if self.per_draw else value.mean(axis=0, keepdims=True)
        return out[:, :, 0] if extra else out

    def _activation(self, mean_scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activation point X (argmax of average ROI; 0 for concave curves) and envelope slope below it."""
        grid = _GRID[None, :] * mean_scale[:, None]  # (cells, G)
        rev = self._curve(np.broadcast_to(grid, (1, *grid.shape)), derivative=False)  # (rows, cells, G)
        ratio = rev / grid[None]
        best = ratio.argmax(axis=2)
        x = np.take_along_axis(np.broadcast_to(grid, ratio.shape), best[..., None], axis=2)[..., 0]
        slope = np.take_along_axis(ratio, best[..., None], axis=2)[..., 0]
        concave = best == 0
        return np.where(concave, 0.0, x), np.where(concave, 0.0, slope)

    def envelope(self, spend: np.ndarray) -> np.ndarray:
        """Envelope value at spend (cut cells,) → (rows, cut cells)."""
        s = np.broadcast_to(np.asarray(spend, dtype=float), (self.n_rows, len(self.cells)))
        below = s < self.activation
        return np.where(below, self.slope0 * s, self._curve(np.asarray(spend, dtype=float), False))

    def tangents(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Intercept and slope of the envelope's tangent at points (cells, k) → each (rows, cells, k)."""
        p = np.broadcast_to(points[None], (1, *points.shape))
        val = self._curve(p, derivative=False)
        der = self._curve(p, derivative=True)
        below = p < self.activation[..., None]
        slope = np.where(below, self.slope0[..., None], der)
        intercept = np.where(below, 0.0, val - der * p)
        return intercept, slope

    def add_points(self, spend: np.ndarray) -> bool:
        """Place a cut at ``spend`` (cut cells,) in the next free slot; False when slots are exhausted."""
        if self._next >= self.n_slots:
            return False
        self.points[:, self._next] = np.maximum(spend, 1e-12)
        self._next += 1
        return True

    @property
    def used_slots(self) -> int:
        """Number of cut slots holding a distinct cut."""
        return self._next

    def reset(self) -> bool:
        """Forget cuts added at earlier plans (before a new scenario is solved); True if any were."""
        changed = self._next > self.n_grid
        self._next = self.n_grid
        self.points[:, self.n_grid :] = self.points[:, :1]
        return changed
