"""The default solver: an outer approximation refined to a certified gap, one HiGHS LP kept warm across re-solves.

The objective is concave and separable by cell inside each draw: mean revenue ``sum_c m_c(x_c)`` (``m_c`` the
cell's sample-average curve, or the mean of its per-draw envelopes under CVaR), minus ``hurdle * sum(x)``, minus
``lam * CVaR_alpha`` of the loss ``-R_d(x)`` with ``R_d(x) = sum_c f_dc(x_c)`` (Rockafellar–Uryasev:
``CVaR = min_eta eta + sum_d (-R_d - eta)_+ / (alpha N)``). Tangents of a concave function lie above it, so
replacing each curve by a few of its tangents gives an LP whose optimum bounds the true one from above:

* the mean part has one variable ``r_c <= a_k + b_k x_c`` per cell (tangents of ``m_c``);
* the CVaR part models only the draws that are, or were, near the tail at some iterate. A draw left out is taken
  as never in the tail (revenue +inf), which can only raise the LP's value, so the bound stays valid; a modelled
  draw's total revenue ``R_d <= sum_c (f_dc(p_c) + f_dc'(p_c) (x_c - p_c))`` gets one cut per round at the plan
  ``p`` (a cutting plane on per-draw totals). The mean part, modelled cell by cell, keeps the LP's plan from
  jumping, so the per-draw cuts converge in 10–20 rounds.

Each round solves the LP, evaluates the true objective at its plan (a lower bound), and adds tangents at the plan
where the LP overestimates, plus the draws that entered the tail. It stops when bound and value agree to ``tol``
(relative): the certificate. Cuts stay valid for every budget, bound and share, so a re-solve (a new budget on the
frontier, a slider move) starts from all cuts found so far and the last basis (HiGHS warm start): usually one or
two rounds.

Spend is scaled by the budget at build time, and revenue likewise, so the LP sees numbers of order one and its
duals are revenue per unit of spend.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from dataclasses import dataclass

import highspy
import numpy as np

from contracts.curves import ResponseCurves
from optimizer.envelope import CutModel
from optimizer.rules import RuleRow

_INF = highspy.kHighsInf
#: Relative gap between the LP's bound and the plan's true objective at which refinement stops.
GAP_TOL = 1e-7
#: The same under CVaR, where each round costs more (the issue's bar is 1e-6).
CVAR_GAP_TOL = 1e-7
#: Largest certified gap reported as optimal when refinement stalls (the LP's tolerances) or runs out of rounds.
ACCEPT_GAP = 1e-6
#: Most refinement rounds of one solve (each adds tangents; convergence takes 3–15 in practice).
MAX_ROUNDS = 60
#: Draws kept in the CVaR model beyond the tail itself: near-tail draws enter early, saving rounds.
_TAIL_MARGIN = 0.5
#: Cells per draw are modelled in this many blocks (1: each draw's total revenue, Kelley cuts in all cells at once).
#: Measured on 48 cells (benchmarks/optimizer.py), 1000 draws, first solve: 1 block 0.67 s, 4 blocks 1.1 s, 12 blocks
#: 2.7 s, 48 (one per cell) 6.9 s: finer blocks converge in fewer rounds, but their LP grows faster than that saves.
_BLOCKS = 1
_OPTIONS = {
    "output_flag": False,
    "primal_feasibility_tolerance": 1e-9,
    "dual_feasibility_tolerance": 1e-9,
    "threads": 1,
}
_BANNER_LOCK = threading.Lock()
_BANNER_DONE = False


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance. HiGHS prints a banner to the C-level stdout the first time one is created in a
    process, before any option can be set; an engine must not print, so that one creation runs with fd 1 muted."""
    global _BANNER_DONE
    with _BANNER_LOCK:
        if _BANNER_DONE:
            h = highspy.Highs()
        else:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "w") as null, contextlib.suppress(Exception):
                    os.dup2(null.fileno(), 1)
                    h = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_DONE = True
    for key, value in _OPTIONS.items():
        h.setOptionValue(key, value)
    return h


@dataclass(frozen=True)
class OuterResult:
    """Outcome of one solve, in spend units; ``duals`` as gains per unit of relaxing each rule (see ``prices``)."""

    spend: np.ndarray
    status: str
    value: float
    upper_bound: float
    rounds: int
    duals: dict[str, np.ndarray | float]


def s_shaped_candidates(curves: ResponseCurves) -> np.ndarray:
    """Cells that may need a concave envelope: Hill curves with a shape above 1 in some draw."""
    return np.asarray(
        [c for c, f in enumerate(curves.family) if f == "hill" and np.any(curves.shape[:, c] > 1)], dtype=int
    )


class _Evaluator:
    """Per-draw (or sample-average) curve values and slopes at a spend vector; S-shaped cells by their envelope.

    For the sample average, only cells whose *average* curve has an activation point need the envelope
    (``activation`` > 0; a cell with a few S-shaped draws usually averages to a concave curve); per draw, every
    cell with an S-shaped draw does.
    """

    def __init__(
        self, curves: ResponseCurves, current: np.ndarray, per_draw: bool, activation: np.ndarray | None = None
    ) -> None:
        self.curves, self.per_draw = curves, per_draw
        candidates = s_shaped_candidates(curves)
        if not per_draw and activation is not None:
            candidates = candidates[activation[candidates] > 0]
        self.s_shaped = candidates
        self.plain = np.setdiff1d(np.arange(curves.n_cells), candidates)
        if self.plain.size == curves.n_cells:
            self._plain_curves = curves
        else:  # no plain cell at all (every cell has an S-shaped draw) leaves nothing to subset
            self._plain_curves = _subset_cells(curves, self.plain) if self.plain.size else None
        self.cut = CutModel(curves, candidates, per_draw, current, n_grid=2) if candidates.size else None

    def __call__(self, spend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values and slopes (rows, cells) at ``spend`` (cells,): rows are draws, or one row of averages."""
        rows = self.curves.n_draws if self.per_draw else 1
        vals = np.empty((rows, self.curves.n_cells))
        slopes = np.empty_like(vals)
        if self.plain.size:
            part = spend[self.plain]
            v, d = self._plain_curves.revenue(part), self._plain_curves.mroi(part)
            if not self.per_draw:
                v, d = v.mean(axis=0, keepdims=True), d.mean(axis=0, keepdims=True)
            vals[:, self.plain], slopes[:, self.plain] = v, d
        if self.cut is not None:
            point = spend[self.s_shaped][:, None]
            a, b = self.cut.tangents(point)
            vals[:, self.s_shaped] = a[..., 0] + b[..., 0] * point[:, 0]
            slopes[:, self.s_shaped] = b[..., 0]
        return vals, slopes


def _subset_cells(curves: ResponseCurves, cells: np.ndarray) -> ResponseCurves:
    return ResponseCurves(
        curves.cells.iloc[cells].reset_index(drop=True),
        [curves.family[c] for c in cells],
        curves.beta[:, cells],
        curves.scale[:, cells],
        curves.shape[:, cells],
        curves.period_weeks,
        curves.currency,
    )


def cvar_of_loss(loss: np.ndarray, alpha: float) -> float:
    """CVaR_alpha of a sample of losses: the mean of its worst ``alpha`` fraction (a fractional draw included)."""
    srt = np.sort(loss)[::-1]
    k = alpha * srt.size
    whole = int(np.floor(k))
    value = srt[:whole].sum() + (k - whole) * (srt[whole] if whole < srt.size else 0.0)
    return float(value / k)


class OuterProgram:
    """The LP for one set of curves, current spend, rule structure and risk kind; re-solved with new values.

    Parameters
    ----------
    curves : ResponseCurves
    current : numpy.ndarray
        Current spend per cell (places the first tangents).
    rows : list of RuleRow
        The policy's rules; their structure (members, sides) is fixed, their ratios and amounts are values.
    risk_kind : {"mean", "cvar"}
    scale : float
        Spend and revenue scale (the budget at build time).
    """

    def __init__(
        self,
        curves: ResponseCurves,
        current: np.ndarray,
        rows: list[RuleRow],
        risk_kind: str,
        scale: float,
        activation: np.ndarray | None = None,
    ) -> None:
        self.curves, self.scale, self.risk_kind = curves, float(scale), risk_kind
        self.n = n = curves.n_cells
        self.cvar = risk_kind == "cvar"
        self.mean_eval = _Evaluator(curves, current, per_draw=False, activation=activation) if not self.cvar else None
        self.draw_eval = _Evaluator(curves, current, per_draw=True) if self.cvar else None
        self.structure = [r.structure for r in rows]
        self.h = h = _new_highs()
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        # columns: x (cells), r (mean part per cell), then eta and per modelled draw (z_d, s_d1..s_dn) under CVaR
        self._add_cols(np.zeros(n), np.zeros(n), np.ones(n))
        self._add_cols(np.ones(n), np.full(n, -_INF), np.full(n, _INF))
        self.n_cols = 2 * n
        # rows: 0 the total, 1..m the rules (coefficients set per solve), then cuts
        self._add_rows(-_INF, _INF, [np.arange(n)], [np.ones(n)])
        self.coef = [r.coef for r in rows]
        for coef in self.coef:
            nz = np.flatnonzero(coef)
            self._add_rows(-_INF, _INF, [nz], [coef[nz]])
        self.rule_nz = [np.flatnonzero(r.members | r.reference) for r in rows]
        self.n_rows = 1 + len(rows)
        if self.cvar:
            self.eta = self.n_cols
            self._add_cols(np.zeros(1), np.full(1, -_INF), np.full(1, _INF))
            self.n_cols += 1
        self.draw_cols: dict[int, int] = {}  # draw → column of z_d (its s_dg follow)
        blocks = min(_BLOCKS, n)
        self.blocks = [c for c in np.array_split(np.arange(n), blocks) if c.size]
        # where a curve is vertical at zero spend, tangents are taken at this spend instead, smaller each time
        self._near_zero = 0.05 * np.where(current > 0, current, self.scale / n)
        self._seed_cuts(current)

    # ---------------------------------------------------------------- building blocks
    def _add_cols(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        empty = np.zeros(0, dtype=np.int32)
        self.h.addCols(len(cost), cost, lower, upper, 0, empty, empty, np.zeros(0))

    def _add_rows(self, lower: float, upper: float, index: list[np.ndarray], value: list[np.ndarray]) -> None:
        """Rows with the same bounds: row ``k`` has nonzeros ``value[k]`` at columns ``index[k]``."""
        count = len(index)
        starts = np.cumsum([0] + [len(i) for i in index[:-1]]).astype(np.int32)
        self.h.addRows(
            count,
            np.full(count, lower),
            np.full(count, upper),
            int(sum(len(i) for i in index)),
            starts,
            np.concatenate(index).astype(np.int32),
            np.concatenate(value).astype(float),
        )

    def _add_cuts(self, target: np.ndarray, cells: np.ndarray, points: np.ndarray, vals, slopes) -> None:
        """``t <= val + slope * (x - point)`` as rows ``t - slope * x <= val - slope * point`` (scaled units)."""
        intercept = (vals - slopes * points) / self.scale
        finite = np.isfinite(intercept) & np.isfinite(slopes)  # one bad row would make HiGHS reject the batch
        target, cells, intercept, slopes = target[finite], cells[finite], intercept[finite], slopes[finite]
        if cells.size == 0:
            return
        h = self.h
        count = cells.size
        idx = np.column_stack([target, cells]).astype(np.int32).ravel()
        val = np.column_stack([np.ones(count), -slopes]).ravel()
        h.addRows(
            count, np.full(count, -_INF), intercept, 2 * count, np.arange(0, 2 * count, 2, dtype=np.int32), idx, val
        )
        self.n_rows += count

    def _tangents(self, evaluate, spend: np.ndarray, vals: np.ndarray, slopes: np.ndarray) -> tuple:
        """Points, values and slopes of the tangents to add at ``spend`` (``vals``/``slopes`` from ``evaluate`` there).

        A concave curve can be vertical at zero spend (a Hill curve with shape below 1): its tangent there is no row
        at all. Such a cell's tangent is taken at a small positive spend instead, eight times smaller each time it is
        needed; a tangent anywhere on a concave curve bounds it from above, so the bound stays valid, and the LP's
        overestimate at zero shrinks round by round until the plan either moves off zero or is certified there.
        """
        bad = ~np.isfinite(slopes).reshape(-1, self.n).all(axis=0)
        if not bad.any():
            return spend, vals, slopes
        idx = np.flatnonzero(bad)
        self._near_zero[idx] /= 8.0
        point = spend.copy()
        point[idx] = np.maximum(spend[idx], self._near_zero[idx])
        vals, slopes = evaluate(point)
        return point, vals, slopes

    def _mean_part(self, spend: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Values and slopes (cells,) of the mean term: the sample-average curve (its envelope where S-shaped), or
        under CVaR the mean of the per-draw envelopes, the same function the tail part is built from."""
        if not self.cvar:
            vals, slopes = self.mean_eval(spend)
            return vals[0], slopes[0]
        vals, slopes = self.draw_eval(spend)
        return vals.mean(axis=0), slopes.mean(axis=0)

    def _seed_cuts(self, current: np.ndarray) -> None:
        """Tangents of the mean part on a grid from a small amount to a few times current spend."""
        base = np.where(current > 0, current, self.scale / self.n)
        for factor in (0.05, 0.25, 0.5, 0.75, 1.0, 1.3, 2.0, 4.0):
            point = base * factor
            vals, slopes = self._mean_part(point)
            self._add_cuts(self.n + np.arange(self.n), np.arange(self.n), point, vals, slopes)

    def _model_draws(self, draws: np.ndarray, point: np.ndarray, vals: np.ndarray, slopes: np.ndarray) -> None:
        """Add draws to the CVaR model: ``z_d >= -sum_g s_dg - eta`` and tangents of each block's revenue."""
        g, tail = len(self.blocks), self._tail_weight
        for d in draws:
            z = self.n_cols
            self._add_cols(np.array([-tail]), np.zeros(1), np.full(1, _INF))
            self._add_cols(np.zeros(g), np.full(g, -_INF), np.full(g, _INF))
            self.n_cols += 1 + g
            self.draw_cols[int(d)] = z
            cols = np.concatenate([[z, self.eta], z + 1 + np.arange(g)])
            self._add_rows(0.0, _INF, [cols], [np.ones(g + 2)])
            self.n_rows += 1
            self._add_block_cuts(z, np.arange(g), point, vals[d], slopes[d])

    def _add_block_cuts(self, z: int, blocks: np.ndarray, point: np.ndarray, vals: np.ndarray, slopes: np.ndarray):
        """For draw column ``z`` and each block ``g``: ``s_dg - sum_c b_c x_c <= sum_c (f_c - b_c p_c)`` (scaled)."""
        index, value, upper = [], [], []
        for g in blocks:
            cells = self.blocks[g]
            bound = float((vals[cells] - slopes[cells] * point[cells]).sum()) / self.scale
            if not (np.isfinite(bound) and np.isfinite(slopes[cells]).all()):
                continue  # one bad row would make HiGHS reject the batch; _tangents keeps slopes finite
            index.append(np.concatenate([[z + 1 + g], cells]))
            value.append(np.concatenate([[1.0], -slopes[cells]]))
            upper.append(bound)
        if not index:
            return
        starts = np.cumsum([0] + [len(i) for i in index[:-1]]).astype(np.int32)
        count = len(index)
        self.h.addRows(
            count,
            np.full(count, -_INF),
            np.asarray(upper),
            int(sum(len(i) for i in index)),
            starts,
            np.concatenate(index).astype(np.int32),
            np.concatenate(value),
        )
        self.n_rows += count

    # ---------------------------------------------------------------- values
    def set_values(self, values: dict) -> None:
        """Budget, cell bounds, rule ratios and amounts, hurdle and CVaR weights (spend units / shares / rates)."""
        s = self.scale
        h = self.h
        h.changeRowBounds(0, values["floor"] / s, values["cap"] / s)
        lower, upper = np.asarray(values["lower"]) / s, np.asarray(values["upper"]) / s
        h.changeColsBounds(self.n, np.arange(self.n, dtype=np.int32), lower, upper)
        for k, (row, nz) in enumerate(zip(values["rows"], self.rule_nz, strict=True)):
            coef = row.coef
            if not np.array_equal(coef, self.coef[k]):
                for c in nz:
                    h.changeCoeff(1 + k, int(c), float(coef[c]))
                self.coef[k] = coef
            amount = row.amount / s
            h.changeRowBounds(
                1 + k, amount if row.side == "floor" else -_INF, amount if row.side == "ceiling" else _INF
            )
        self._lower, self._upper = lower * s, upper * s
        self._floor, self._cap, self._rows = float(values["floor"]), float(values["cap"]), list(values["rows"])
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), np.full(self.n, -values["hurdle"]))
        self.hurdle = float(values["hurdle"])
        if self.cvar:
            self.lam, self.alpha = float(values["lam"]), float(values["alpha"])
            self._tail_weight = self.lam / (self.alpha * self.curves.n_draws)
            h.changeColCost(self.eta, -self.lam)
            zs = np.fromiter(self.draw_cols.values(), dtype=np.int32, count=len(self.draw_cols))
            if zs.size:
                h.changeColsCost(zs.size, zs, np.full(zs.size, -self._tail_weight))

    # ---------------------------------------------------------------- solve
    def objective(self, spend: np.ndarray) -> tuple[float, np.ndarray | None]:
        """True objective at ``spend`` (spend units) and, under CVaR, each draw's revenue."""
        if not self.cvar:
            vals, _ = self._mean_part(spend)
            return float(vals.sum() - self.hurdle * spend.sum()), None
        vals, _ = self.draw_eval(spend)
        totals = vals.sum(axis=1)
        value = totals.mean() - self.hurdle * spend.sum() - self.lam * cvar_of_loss(-totals, self.alpha)
        return float(value), totals

    def _ensure_tail_model(self, spend: np.ndarray) -> None:
        """Before the first LP: model at least the tail's worth of draws, the worst at ``spend``. With fewer modelled
        draws than ``alpha * N`` the LP's CVaR term would be unbounded (a larger alpha can need more than before)."""
        need = self._tail_count()
        if len(self.draw_cols) >= need:
            return
        vals, slopes = self.draw_eval(spend)
        order = np.argsort(vals.sum(axis=1), kind="stable")
        missing = [d for d in order if int(d) not in self.draw_cols][: need - len(self.draw_cols)]
        self._model_draws(np.asarray(missing, dtype=int), *self._tangents(self.draw_eval, spend, vals, slopes))

    def _tail_count(self) -> int:
        n_draws = self.curves.n_draws
        return min(n_draws, int(np.ceil(self.alpha * n_draws * (1 + _TAIL_MARGIN))) + 1)

    def solve(self, start: np.ndarray, tol: float | None = None) -> OuterResult:
        """Refine until the LP's bound and the true objective at its plan agree to ``tol`` (relative; default
        ``GAP_TOL``, ``CVAR_GAP_TOL`` under CVaR)."""
        n, h = self.n, self.h
        tol = tol if tol is not None else (CVAR_GAP_TOL if self.cvar else GAP_TOL)
        if self.cvar:
            self._ensure_tail_model(start)
        rounds = 0
        while True:
            h.run()
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                return OuterResult(np.full(n, np.nan), _status_name(status), np.nan, np.nan, rounds, {})
            sol = h.getSolution()
            cols = np.asarray(sol.col_value)
            spend = np.clip(cols[:n], 0.0, None) * self.scale
            bound = h.getInfo().objective_function_value * self.scale
            value, _ = self.objective(spend)
            self._last_value, self._target_gap = value, tol
            gap = (bound - value) / max(abs(value), 1e-9 * self.scale)
            # an LP that no longer moves has met its own tolerance (each tangent row may be exceeded by ~1e-9)
            stalled = rounds > 0 and gap <= ACCEPT_GAP and h.getInfo().simplex_iteration_count == 0
            if gap <= tol or stalled:
                spend, value, exact = self._polished(spend, value, sol)
                duals = exact if exact is not None else self._duals(sol)
                return OuterResult(spend, "optimal", value, max(bound, value), rounds, duals)
            added = rounds < MAX_ROUNDS and self._refine(spend, cols)
            rounds += 1
            if not added:
                status = "optimal" if gap <= ACCEPT_GAP else f"not converged (relative gap {gap:.2g})"
                return OuterResult(spend, status, value, max(bound, value), rounds, self._duals(sol))

    def _polished(self, spend: np.ndarray, value: float, sol) -> tuple[np.ndarray, float, dict | None]:
        """The plan (and its prices) from Newton steps on the optimality conditions of the smooth mean problem.

        The LP's plan sits at a kink of its tangent model: its value is certified, but spend is accurate only to
        about the square root of the gap (identical cells can differ by 1e-4), and a dual may be any slope between
        two neighbouring tangents. With the rules that bind at the LP's plan held as equalities and the other cells
        free, ``m_c'(x_c) - hurdle = (A^T y)_c`` and ``A x = b`` are solved by Newton's method; the plan is kept only
        if it obeys every rule and bound and is no worse, and its multipliers ``y`` (the exact prices) only if their
        signs are those of binding rules. Mean risk only (CVaR is not smooth).
        """
        if self.cvar:
            return spend, value, None
        n, s = self.n, self.scale
        tol = 1e-9 * s
        col_dual = np.asarray(sol.col_dual)[:n]
        at_bound = ((spend - self._lower <= tol) | (self._upper - spend <= tol)) & (np.abs(col_dual) > 1e-12)
        free = np.flatnonzero(~at_bound)
        row_dual = np.asarray(sol.row_dual)
        keys = ([-1] if abs(row_dual[0]) > 1e-12 else []) + [
            k for k in range(len(self._rows)) if abs(row_dual[1 + k]) > 1e-12
        ]
        coef = np.array([np.ones(n) if k < 0 else self.coef[k] for k in keys]).reshape(len(keys), n)
        amount = np.array([self._total_target(spend) if k < 0 else self._rows[k].amount for k in keys])
        if free.size == 0:
            return spend, value, None
        a = coef[:, free]
        b = amount - coef @ np.where(at_bound, spend, 0.0)
        x = spend[free].copy()
        for _ in range(8):
            full = spend.copy()
            full[free] = x
            _, g = self._mean_part(full)
            step = 1e-6 * np.maximum(x, 1e-3 * s / n)
            up = full.copy()
            up[free] += step
            hess = (self._mean_part(up)[1][free] - g[free]) / step  # forward difference: one evaluation, not two
            if np.any(hess >= -1e-300):
                return spend, value, None  # a linear piece (an S-curve below activation): nothing to polish
            x, done = _newton_step(x, g[free] - self.hurdle, hess, a, b)
            if done:
                break
        full = spend.copy()
        full[free] = x
        new_value, _ = self.objective(full)
        ok = np.all(full >= self._lower - tol) and np.all(full <= self._upper + tol)
        ok &= all(row.holds(full, tol) for row in self._rows)
        ok &= self._floor - tol <= full.sum() <= self._cap + tol
        if not (ok and new_value >= value - 1e-12 * abs(value)):
            return spend, value, None
        return full, new_value, self._exact_duals(full, free, at_bound, keys, coef)

    def _exact_duals(self, spend, free, at_bound, keys, coef) -> dict | None:
        """Multipliers of the binding rules at the polished plan: least squares of ``A^T y = m' - hurdle`` on the free
        cells (unique where the rules are independent; the budget's always is); ``None`` if a sign is wrong."""
        _, g = self._mean_part(spend)
        g = g - self.hurdle
        y = np.linalg.lstsq(coef[:, free].T, g[free], rcond=None)[0] if len(keys) else np.zeros(0)
        signed = np.zeros(len(self._rows))
        budget = 0.0
        for k, value in zip(keys, y, strict=True):
            if k < 0:
                budget = float(value)
            else:
                side = self._rows[k].side
                if (side == "floor" and value > 1e-9) or (side == "ceiling" and value < -1e-9):
                    return None
                signed[k] = value
        reduced = g - coef.T @ y
        at_upper = at_bound & (spend >= self._upper - 1e-9 * self.scale)
        return {
            "budget": budget,
            "rows_signed": signed,
            "lower": np.where(at_bound & ~at_upper, np.clip(-reduced, 0.0, None), 0.0),
            "upper": np.where(at_upper, np.clip(reduced, 0.0, None), 0.0),
        }

    def _total_target(self, spend: np.ndarray) -> float:
        """The total the binding budget row holds: the cap, or the floor when that is what binds."""
        return self._cap if abs(spend.sum() - self._cap) <= abs(spend.sum() - self._floor) else self._floor

    def _refine(self, spend: np.ndarray, cols: np.ndarray) -> bool:
        n, s = self.n, self.scale
        eps = 1e-12 * s
        if self.cvar:
            d_vals, d_slopes = self.draw_eval(spend)
            vals = d_vals.mean(axis=0)
            tangent = self._tangents(self.draw_eval, spend, d_vals, d_slopes)
            point, t_vals, t_slopes = tangent[0], tangent[1].mean(axis=0), tangent[2].mean(axis=0)
        else:
            vals, slopes = self._mean_part(spend)
            point, t_vals, t_slopes = self._tangents(self._mean_part, spend, vals, slopes)
        cells = np.flatnonzero(cols[n : 2 * n] * s - vals > eps)  # overestimated at the LP's plan
        self._add_cuts(n + cells, cells, point[cells], t_vals[cells], t_slopes[cells])
        added = cells.size > 0
        if self.cvar:
            added |= self._refine_draws(cols, d_vals, tangent, eps)
        return added

    def _refine_draws(self, cols, vals, tangent, eps) -> bool:
        """Tangents where a draw that counts is overestimated; draws newly in the tail join the model.

        A draw counts when it is in the true tail at the plan or in the LP's (``z_d > 0``). An overestimate of
        ``delta`` on one of its cells moves the objective by at most ``lam * delta / (alpha N)``, so overestimates
        too small to matter at the target gap are left alone: fewer rows, the same certificate.
        """
        n, added = self.n, False
        point, t_vals, t_slopes = tangent
        totals = vals.sum(axis=1)
        k = int(np.ceil(self.alpha * self.curves.n_draws))
        tail = set(np.argsort(totals, kind="stable")[: k + 1].tolist())
        near = np.argsort(totals, kind="stable")[: self._tail_count()]
        new = np.array([d for d in near if int(d) not in self.draw_cols], dtype=int)
        if new.size:
            self._model_draws(new, point, t_vals, t_slopes)
            added = True
        target = self._target_gap * max(abs(self._last_value), eps)
        small = max(eps, 0.05 * target * self.alpha * self.curves.n_draws / max(self.lam, 1e-12) / (n * (k + 1)))
        for d, z in list(self.draw_cols.items()):
            if d in new or not (cols[z] > 0 or d in tail):
                continue
            block_vals = np.array([vals[d, cells].sum() for cells in self.blocks])
            over = np.flatnonzero(cols[z + 1 : z + 1 + len(self.blocks)] * self.scale - block_vals > small)
            if over.size:
                self._add_block_cuts(z, over, point, t_vals[d], t_slopes[d])
                added = True
        return added

    def _duals(self, sol) -> dict[str, np.ndarray | float]:
        """Gains per unit of relaxing each rule: the budget, each rule row, each cell's lower and upper bound."""
        row_dual = np.asarray(sol.row_dual)
        col_dual = np.asarray(sol.col_dual)[: self.n]
        m = len(self.coef)
        rules = row_dual[1 : 1 + m]
        return {
            "budget": float(row_dual[0]),
            "rows_signed": rules,
            "lower": np.clip(-col_dual, 0.0, None),
            "upper": np.clip(col_dual, 0.0, None),
        }


def _status_name(status: highspy.HighsModelStatus) -> str:
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible"
    if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
        return "unbounded"
    return f"solver_error ({status.name})"


def _newton_step(x: np.ndarray, grad: np.ndarray, hess: np.ndarray, a: np.ndarray, b: np.ndarray):
    """One Newton step on ``grad(x) = a^T y``, ``a x = b`` with a diagonal Hessian; returns (x, converged)."""
    inv = 1.0 / hess
    if a.shape[0]:
        # y from the Schur complement: a H^-1 a^T y = a H^-1 grad + (b - a x)
        # (rules may be linearly dependent, e.g. objective and region shares both summing to the total: least squares)
        schur = (a * inv) @ a.T
        rhs = (a * inv) @ grad + (b - a @ x)
        y = np.linalg.lstsq(schur, rhs, rcond=None)[0]
        residual = grad - a.T @ y
    else:
        residual = grad
    dx = -inv * residual
    new = np.maximum(x + dx, 0.0)
    return new, bool(np.max(np.abs(dx)) <= 1e-10 * max(1.0, np.max(np.abs(x))))
