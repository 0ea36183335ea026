"""The allocation problem in cvxpy: exact cones per draw and cell, policy rules as Parameters (DPP).

Spend is scaled, ``x = spend / scale`` with ``scale`` the budget at build time, and so is revenue, so the
solver sees numbers of order one and duals are directly revenue per unit of spend.

Exact forms (per draw ``d`` and cell ``c``, ``u = spend / half_saturation`` or ``spend / lam``):

* Michaelis–Menten and Hill with shape 1: ``revenue = beta * (1 - t)`` with ``t * (1 + u) >= 1``
  (a 3-d power cone ``t**0.5 * (1 + u)**0.5 >= 1``), since ``u / (1 + u) = 1 - 1 / (1 + u)``.
* Hill with shape ``a < 1``: ``u**a / (1 + u**a) = 1 - 1 / (1 + u**a)`` is concave and increasing in the
  concave ``u**a``; hypograph ``h <= u**a`` (power cone ``u**a * 1**(1-a) >= |h|``, one ``a`` per entry) and
  ``t * (1 + h) >= 1``.
* exponential: ``revenue = beta * (1 - w)`` with ``w >= exp(-u)`` (exponential cone).
* logistic and S-shaped Hill: tangent cuts of the concave envelope (see :mod:`optimizer.envelope`).

With ``method="cuts"`` and mean risk, every cell is handled by tangent cuts of its sample-average curve (the
mean objective is separable by cell): a small LP refined at the plan until the outer bound and the plan's value
agree to 1e-8, which is much faster than one cone per draw and cell and carries the same certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from contracts.curves import ResponseCurves
from optimizer.envelope import CutModel
from optimizer.outer import cvar_of_loss
from optimizer.rules import RuleRow

_REFINE_TOL = 1e-8
# tighter than the defaults (1e-8): spend is accurate to about the square root of the objective gap
_SOLVER_OPTIONS = {"tol_gap_abs": 1e-9, "tol_gap_rel": 1e-9, "tol_feas": 1e-9}


def classify_cells(curves: ResponseCurves) -> dict[str, np.ndarray]:
    """Cell indices per formulation kind: ``mm``, ``power``, ``exp``, ``cut``."""
    kinds: dict[str, list[int]] = {"mm": [], "power": [], "exp": [], "cut": []}
    for c, fam in enumerate(curves.family):
        shape = curves.shape[:, c]
        if fam == "michaelis_menten" or (fam == "hill" and np.all(np.abs(shape - 1) < 1e-12)):
            kinds["mm"].append(c)
        elif fam == "hill" and np.all(shape <= 1):
            kinds["power"].append(c)
        elif fam == "exponential":
            kinds["exp"].append(c)
        else:
            kinds["cut"].append(c)
    return {k: np.asarray(v, dtype=int) for k, v in kinds.items()}


def _selector(rows_per_block: int, cols: np.ndarray, n_cols: int, blocks: int) -> sp.csr_matrix:
    """Sparse matrix mapping x (n_cols,) to the flattened (blocks, len(cols), rows_per_block) layout."""
    col = np.tile(np.repeat(cols, rows_per_block), blocks)
    n = col.size
    return sp.csr_matrix((np.ones(n), (np.arange(n), col)), shape=(n, n_cols))


def _block_sum(blocks: int, per_block: int) -> sp.csr_matrix:
    """Sparse (blocks, blocks * per_block) matrix summing each block."""
    n = blocks * per_block
    return sp.csr_matrix((np.ones(n), (np.repeat(np.arange(blocks), per_block), np.arange(n))), shape=(blocks, n))


@dataclass(frozen=True)
class SolveResult:
    """Raw outcome of one solve, in spend units."""

    spend: np.ndarray
    status: str
    solver: str
    objective: float
    upper_bound: float
    duals: dict[str, np.ndarray | float]
    cut_rounds: int


class Formulation:
    """Built once per (curves, current spend, group names, risk kind); re-solved with new Parameter values."""

    def __init__(
        self,
        curves: ResponseCurves,
        current: np.ndarray,
        rows: list[RuleRow],
        risk_kind: str,
        scale: float,
        method: str = "conic",
    ) -> None:
        self.curves, self.scale, self.risk_kind = curves, float(scale), risk_kind
        self.kinds = classify_cells(curves)
        if method == "cuts":
            # every cell through tangent cuts: of its sample-average curve for mean risk (a small LP), of each
            # draw's curve for CVaR; refined until the cut model matches the curves at the plan (certified gap).
            # Per-draw exponential/power cones stall Clarabel (InsufficientProgress) on CVaR problems.
            self.kinds = {k: np.zeros(0, dtype=int) for k in self.kinds}
            self.kinds["cut"] = np.arange(curves.n_cells)
        self.method = method
        n_draws, n_cells = curves.n_draws, curves.n_cells
        self.x = x = cp.Variable(n_cells, nonneg=True, name="spend_scaled")
        p = self.params = {
            "cap": cp.Parameter(nonneg=True, name="budget_cap"),
            "floor": cp.Parameter(nonneg=True, name="budget_floor"),
            "lower": cp.Parameter(n_cells, nonneg=True, name="lower"),
            "upper": cp.Parameter(n_cells, nonneg=True, name="upper"),
            "hurdle": cp.Parameter(nonneg=True, name="hurdle_cost"),
        }
        # every rule row is `coef @ x >= amount` (floors) or `<= amount` (ceilings); coefficients are Parameters, so
        # a change of share or amount re-solves without a rebuild
        self.structure = [r.structure for r in rows]
        self.sides = np.array([r.side for r in rows])
        mean_rev, draw_rev, cons = self._revenue_terms(current)
        total = cp.sum(x)
        self.cons = {
            "cap": total <= p["cap"],
            "floor": total >= p["floor"],
            "lower": x >= p["lower"],
            "upper": x <= p["upper"],
        }
        for side, op in (("floor", "ge"), ("ceiling", "le")):
            count = int((self.sides == side).sum())
            if count:
                p[f"{side}_coef"] = cp.Parameter((count, n_cells), name=f"{side}_coef")
                p[f"{side}_amount"] = cp.Parameter(count, name=f"{side}_amount")
                lhs = p[f"{side}_coef"] @ x
                self.cons[side + "_rows"] = lhs >= p[f"{side}_amount"] if op == "ge" else lhs <= p[f"{side}_amount"]
        objective = mean_rev - p["hurdle"] * total
        if risk_kind == "cvar":
            p["lam"] = cp.Parameter(nonneg=True, name="cvar_lambda")
            p["tail"] = cp.Parameter(nonneg=True, name="cvar_tail_weight")
            self.eta = cp.Variable(name="var_eta")
            z = cp.Variable(n_draws, nonneg=True, name="tail_excess")
            cons.append(z >= -draw_rev - self.eta)
            objective = objective - p["lam"] * self.eta - p["tail"] * cp.sum(z)
        self._fixed_cons = [*self.cons.values(), *cons]
        extra = []
        if self.cuts is not None:
            n_slots = self.cuts.used_slots if self.cuts.per_draw else self.cuts.n_slots
            extra.append(self._cut_constraint(n_slots))
        self.problem = cp.Problem(cp.Maximize(objective), [*self._fixed_cons, *extra])
        if self.cuts is not None and not self.cuts.per_draw:
            self._set_cuts()
        if not self.problem.is_dcp(dpp=True):  # pragma: no cover - a formulation bug, not a user error
            raise AssertionError("allocation problem is not DPP")

    # ---------------------------------------------------------------- revenue
    def _revenue_terms(self, current: np.ndarray) -> tuple[cp.Expression, cp.Expression | None, list]:
        curves, x, scale = self.curves, self.x, self.scale
        n_draws, n_cells = curves.n_draws, curves.n_cells
        per_draw = self.risk_kind == "cvar"
        mean_terms: list[cp.Expression] = []
        draw_terms: list[cp.Expression] = []
        cons: list[cp.Constraint] = []
        for kind in ("mm", "power", "exp"):
            idx = self.kinds[kind]
            if idx.size == 0:
                continue
            n = n_draws * idx.size
            beta = (curves.beta[:, idx] / scale).ravel()
            coef = (scale / curves.scale[:, idx]).ravel()
            u = cp.multiply(coef, _selector(1, idx, n_cells, n_draws) @ x)
            s = cp.Variable(n, name=f"{kind}_aux")  # t (mm, power) or w (exp), revenue = beta * (1 - s)
            if kind == "mm":
                cons.append(_inverse_cone(s, 1 + u))
            elif kind == "power":
                h = cp.Variable(n, name="power_hypo")
                alpha = np.minimum(curves.shape[:, idx].ravel(), 1 - 1e-9)
                cons.append(cp.constraints.PowCone3D(u, np.ones(n), h, alpha))
                cons.append(_inverse_cone(s, 1 + h))
            else:
                cons.append(cp.constraints.ExpCone(-u, np.ones(n), s))
            mean_terms.append(beta.sum() / n_draws - (beta / n_draws) @ s)
            if per_draw:
                draw_terms.append(_block_sum(n_draws, idx.size) @ (beta - cp.multiply(beta, s)))
        idx = self.kinds["cut"]
        self.cuts = None
        if idx.size:
            self.cuts = CutModel(curves, idx, per_draw, current, n_refine=6 if per_draw else 30)
            rows = self.cuts.n_rows
            r = cp.Variable(rows * idx.size, name="cut_revenue")
            self._cut_vars = (r, idx)
            if not per_draw:
                k = self.cuts.n_slots
                self.cut_a = cp.Parameter(rows * idx.size * k, name="cut_intercept")
                self.cut_b = cp.Parameter(rows * idx.size * k, name="cut_slope")
            mean_terms.append(cp.sum(r) / rows)
            if per_draw:
                draw_terms.append(_block_sum(n_draws, idx.size) @ r)
        mean_rev = cp.sum(cp.hstack(mean_terms)) if len(mean_terms) > 1 else mean_terms[0]
        draw_rev = None
        if per_draw:
            draw_rev = draw_terms[0]
            for term in draw_terms[1:]:
                draw_rev = draw_rev + term
        return mean_rev, draw_rev, cons

    def _cut_constraint(self, n_slots: int) -> cp.Constraint:
        """``r <= a + b * x`` for every cut; Parameters when per cell, constants when per draw.

        Per-draw cuts are many (draws × cells × cuts); as Parameters their DPP tensors cost more to compile
        than rebuilding the constraint, so they are constants and a refinement rebuilds the problem.
        """
        r, idx = self._cut_vars
        rows = self.cuts.n_rows
        r_rep = _selector(n_slots, np.arange(rows * idx.size), rows * idx.size, 1) @ r
        x_rep = _selector(n_slots, idx, self.curves.n_cells, rows) @ self.x
        if self.cuts.per_draw:
            intercept, slope = self.cuts.tangents(self.cuts.points[:, :n_slots])
            a = np.ascontiguousarray(intercept / self.scale).ravel()
            return r_rep <= a + cp.multiply(np.ascontiguousarray(slope).ravel(), x_rep)
        return r_rep <= self.cut_a + cp.multiply(self.cut_b, x_rep)

    def _set_cuts(self) -> None:
        """Refresh the cut values after points were added: Parameter values, or a rebuilt problem."""
        if self.cuts.per_draw:
            con = self._cut_constraint(self.cuts.used_slots)
            self.problem = cp.Problem(self.problem.objective, [*self._fixed_cons, con])
            return
        intercept, slope = self.cuts.tangents(self.cuts.points)
        self.cut_a.value = np.ascontiguousarray(intercept / self.scale).ravel()
        self.cut_b.value = np.ascontiguousarray(slope).ravel()

    # ---------------------------------------------------------------- solve
    def set_values(self, values: dict) -> None:
        """Assign Parameter values given in spend units (budget, bounds, amounts) or as shares/rates."""
        spend_keys = {"cap", "floor", "lower", "upper"}
        for key, val in values.items():
            if key == "rows":
                for side in ("floor", "ceiling"):
                    chosen = [r for r in val if r.side == side]
                    if chosen:
                        self.params[f"{side}_coef"].value = np.array([r.coef for r in chosen])
                        self.params[f"{side}_amount"].value = np.array([r.amount for r in chosen]) / self.scale
            elif key in self.params:
                arr = np.asarray(val, dtype=float)
                self.params[key].value = arr / self.scale if key in spend_keys else arr

    def relaxed_objective(self, spend: np.ndarray) -> float:
        """Objective of the convex relaxation at ``spend`` (spend units), evaluated without cuts."""
        rev = self.curves.revenue(spend)
        if self.cuts is not None:
            env = self.cuts.envelope(spend[self.cuts.cells])
            if env.shape[0] == 1:
                rev[:, self.cuts.cells] += env - rev[:, self.cuts.cells].mean(axis=0, keepdims=True)
            else:
                rev[:, self.cuts.cells] = env
        total = rev.sum(axis=1)
        value = total.mean() - float(self.params["hurdle"].value) * spend.sum()
        if self.risk_kind == "cvar":
            lam, alpha = float(self.params["lam"].value), self._alpha
            value -= lam * cvar_of_loss(-total, alpha)
        return float(value)

    def solve(self, alpha: float = 0.1, max_rounds: int | None = None) -> SolveResult:
        """Solve, refining cuts until the cut model matches the envelope at the plan."""
        self._alpha = alpha
        if self.cuts is not None and self.cuts.reset():
            self._set_cuts()
        rounds = 0
        limit = (self.cuts.n_slots - self.cuts.n_grid) if self.cuts is not None else 0
        limit = limit if max_rounds is None else min(limit, max_rounds)
        while True:
            self._solve_once()
            if self._failed or self.problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or self.cuts is None:
                break
            spend = self._spend()
            model = self.problem.value
            true = self.relaxed_objective(spend) / self.scale
            if model - true <= _REFINE_TOL * max(1.0, abs(true)) or rounds >= limit:
                break
            self.cuts.add_points(spend[self.cuts.cells])
            self._set_cuts()
            rounds += 1
        return self._result(rounds)

    def _solve_once(self) -> None:
        try:
            self.problem.solve(solver=cp.CLARABEL, **_SOLVER_OPTIONS)
        except cp.error.SolverError:
            # numerical trouble: retry once with stronger regularisation and more iterations
            try:
                self.problem.solve(solver=cp.CLARABEL, static_regularization_constant=1e-7, max_iter=500)
            except cp.error.SolverError:
                self._failed = True
                return
        self._failed = False

    def _spend(self) -> np.ndarray:
        return np.clip(np.asarray(self.x.value, dtype=float), 0.0, None) * self.scale

    def _result(self, rounds: int) -> SolveResult:
        status = "solver_error" if getattr(self, "_failed", False) else self.problem.status
        if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            return SolveResult(np.full(self.curves.n_cells, np.nan), status, "CLARABEL", np.nan, np.nan, {}, rounds)
        stats = self.problem.solver_stats
        model = float(self.problem.value)
        dual_gap = _dual_gap(stats)
        raw = {k: _dual(c) for k, c in self.cons.items()}
        gains = np.zeros(len(self.sides))
        for side in ("floor", "ceiling"):
            if side + "_rows" in raw:
                gains[self.sides == side] = np.atleast_1d(raw[side + "_rows"])
        # cvxpy's duals of a maximisation are >= 0 for either inequality: the gain from relaxing it by one unit
        duals = {
            "budget": float(raw["cap"]) - float(raw["floor"]),
            "rows": gains,
            "lower": np.atleast_1d(raw["lower"]),
            "upper": np.atleast_1d(raw["upper"]),
        }
        return SolveResult(
            self._spend(),
            status,
            stats.solver_name,
            model * self.scale,
            (model + dual_gap) * self.scale,
            duals,
            rounds,
        )


def _inverse_cone(t: cp.Expression, v: cp.Expression) -> cp.Constraint:
    """``t * v >= 1`` with ``t, v >= 0`` as second-order cones ``||(2, t - v)|| <= t + v`` (vectorised)."""
    return cp.SOC(t + v, cp.vstack([2 * np.ones(t.shape[0]), t - v]), axis=0)


def _dual(con: cp.Constraint) -> np.ndarray | float:
    val = con.dual_value
    return np.asarray(val, dtype=float) if np.ndim(val) else float(val)


def _dual_gap(stats: cp.problems.problem.SolverStats) -> float:
    """Absolute primal–dual objective gap reported by the solver (0 when it reports none)."""
    extra = stats.extra_stats
    primal = getattr(extra, "obj_val", None)
    dual = getattr(extra, "obj_val_dual", None)
    if primal is None or dual is None:
        return 0.0
    return abs(float(primal) - float(dual))
