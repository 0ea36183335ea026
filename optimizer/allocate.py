"""Entry points: :func:`allocate` for one plan, :class:`Allocator` to re-solve scenarios without rebuilding."""

from __future__ import annotations

import cvxpy as cp
import numpy as np

from contracts.curves import ResponseCurves
from optimizer.allocation import Allocation
from optimizer.bounds import align_current_spend, cell_bounds
from optimizer.envelope import CutModel
from optimizer.errors import SolverError
from optimizer.formulation import Formulation, classify_cells
from optimizer.infeasibility import GroupRule, diagnose, precheck
from optimizer.policy import Policy
from optimizer.shadow import shadow_prices
from optimizer.summary import summarize

#: Most (draw, cell) pairs one program may hold: the CVaR program has a row per pair and the conic one a cone per
#: pair; 1e6 (e.g. 4,000 draws × 250 cells) already takes minutes. Thin the draws with ``curves.subset_draws``.
MAX_DRAW_CELLS = 1_000_000
#: Curve parameters further than this factor from the budget make the scaled program numerically extreme.
_EXTREME_RATIO = 1e9


def _check_work(curves: object) -> None:
    if not isinstance(curves, ResponseCurves):
        raise TypeError(f"curves must be a contracts.ResponseCurves; got {type(curves).__name__}")
    size = curves.n_draws * curves.n_cells
    if size > MAX_DRAW_CELLS:
        raise ValueError(
            f"curves hold {curves.n_draws:,} draws × {curves.n_cells:,} cells = {size:,} (draw, cell) pairs; the "
            f"optimizer takes at most {MAX_DRAW_CELLS:,}. Thin the draws, e.g. curves.subset_draws(slice(None, None, "
            f"{-(-size // MAX_DRAW_CELLS)}))"
        )


def _solver_failure(curves: ResponseCurves, status: str, solver: str, budget: float) -> SolverError:
    """A :class:`SolverError` that says what probably went wrong: parameters far from the budget's scale."""
    text = f"solver {solver} returned status {status!r} for a feasible policy (budget {budget:,.6g})"
    causes = []
    for name, values in (("beta", curves.beta), ("half_saturation / lam", curves.scale)):
        ratio = values / budget
        far = (ratio > _EXTREME_RATIO) | (ratio < 1 / _EXTREME_RATIO)
        if far.any():
            d, c = np.unravel_index(int(np.argmax(np.abs(np.log(ratio)))), ratio.shape)
            causes.append(
                f"{int(far.sum())} {name} values are more than {_EXTREME_RATIO:g}× away from the budget, e.g. "
                f"{values[d, c]:.4g} for {curves.cells.at[c, 'region']}/{curves.cells.at[c, 'channel']} (draw {d})"
            )
    if causes:
        return SolverError(
            f"{text}. Likely cause: numerically extreme response curves: {'; '.join(causes)}. Check the curves' "
            "units (currency, period) against the budget's"
        )
    return SolverError(
        f"{text}. The curves' parameters are within {_EXTREME_RATIO:g}× of the budget; try method="
        + "'conic' or report the curves and policy"
    )


class Allocator:
    """Holds the built convex program for one set of curves and current spend; solves policies on it.

    A change of budget, shares, tolerance, hurdle, bounds, locks or CVaR λ only updates cvxpy Parameters, so
    the re-solve skips problem construction and compilation. A change of risk kind builds a second program.

    Parameters
    ----------
    curves : ResponseCurves
        Posterior response curves per cell.
    current_spend : pandas.DataFrame, pandas.Series or array-like
        Current spend per cell over one planning period: the frame of ``contracts.period_spend`` (``region``,
        ``channel``, ``spend_period``), a frame with ``region``, ``channel``, ``spend``, a Series indexed by
        (region, channel), or an array in the curves' cell order (see :func:`optimizer.bounds.align_current_spend`).
    method : {"cuts", "conic"}
        ``conic``: one exact cone per draw and cell (exponential, second-order and power cones).
        ``cuts`` (default): tangent cuts refined to a certified gap, of each cell's sample-average curve for mean
        risk (a small LP, much faster at 1000 draws) and of each draw's curve for CVaR (a larger LP; the
        per-draw cones of ``conic`` can stall the solver on CVaR problems).

    Examples
    --------
    >>> allocator = Allocator(curves, current_spend)  # doctest: +SKIP
    >>> plan = allocator.allocate(Policy(budget=1.2e6))  # doctest: +SKIP
    >>> bigger = allocator.allocate(Policy(budget=1.3e6))  # re-solve, no rebuild  # doctest: +SKIP
    """

    def __init__(self, curves: ResponseCurves, current_spend: object, method: str = "cuts") -> None:
        if method not in ("conic", "cuts"):
            raise ValueError(f"method must be 'conic' or 'cuts'; got {method!r}")
        _check_work(curves)
        self.method = method
        self.curves = curves
        self.current = align_current_spend(curves.cells, current_spend, curves.period_weeks)
        self.objectives = list(dict.fromkeys(curves.cells["objective"]))
        self.regions = list(dict.fromkeys(curves.cells["region"]))
        self._formulations: dict[str, Formulation] = {}
        self._activation: np.ndarray | None = None

    def _groups(self, policy: Policy) -> list[GroupRule]:
        cells = self.curves.cells
        groups = []
        for kind, names, shares, tol in (
            ("objective", self.objectives, policy.objective_shares, policy.objective_tolerance),
            ("region", self.regions, policy.region_shares, policy.region_tolerance),
        ):
            extra = [k for k in shares if k not in names]
            for name in [*names, *extra]:
                members = (cells[kind] == name).to_numpy()
                groups.append(GroupRule(kind, name, float(shares.get(name, 0.0)), tol, members))
        return groups

    def formulation(self, policy: Policy) -> Formulation:
        """The (cached) convex program for the policy's risk kind."""
        kind = policy.risk.kind
        if kind not in self._formulations:
            scale = policy.budget_amount
            self._formulations[kind] = Formulation(
                self.curves, self.current, self.objectives, self.regions, kind, scale, self.method
            )
        return self._formulations[kind]

    def activation(self) -> np.ndarray:
        """Activation spend per cell of the posterior-mean curve (0 where it is concave)."""
        if self._activation is None:
            act = np.zeros(self.curves.n_cells)
            idx = classify_cells(self.curves)["cut"]
            if idx.size:
                act[idx] = CutModel(self.curves, idx, False, self.current).activation[0]
            self._activation = act
        return self._activation

    def allocate(self, policy: Policy) -> Allocation:
        """Solve the policy; raise :class:`InfeasiblePolicyError` naming the conflicting rules if none fits."""
        budget = policy.budget_amount
        cells = self.curves.cells
        bounds = cell_bounds(cells, policy, self.current, budget)
        groups = self._groups(policy)
        spend_all = policy.mode == "spend_all"
        precheck(cells, bounds, budget, spend_all, groups)
        in_program = [g for g in groups if g.members.any()]
        form = self.formulation(policy)
        n_obj = len(self.objectives)
        values = {
            "cap": budget,
            "floor": budget if spend_all else 0.0,
            "lower": bounds.lower,
            "upper": bounds.upper,
            "obj_lo": [g.low for g in in_program[:n_obj]],
            "obj_hi": [g.high for g in in_program[:n_obj]],
            "reg_lo": [g.low for g in in_program[n_obj:]],
            "reg_hi": [g.high for g in in_program[n_obj:]],
            "hurdle": 0.0 if spend_all else policy.roi_hurdle,
        }
        if policy.risk.kind == "cvar":
            values["lam"] = policy.risk.lam
            values["tail"] = policy.risk.lam / (policy.risk.alpha * self.curves.n_draws)
        form.set_values(values)
        result = form.solve(alpha=policy.risk.alpha)
        if result.status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
            raise diagnose(cells, bounds, budget, spend_all, groups)
        if result.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            raise _solver_failure(self.curves, result.status, result.solver, budget)
        spend = np.clip(result.spend, bounds.lower, bounds.upper)
        achieved = form.relaxed_objective(spend)
        gap = max(0.0, result.upper_bound - achieved) / max(abs(achieved), 1e-12)
        table, by_objective, by_region, uplift, interval = summarize(
            self.curves, self.current, spend, policy, self.activation()
        )
        prices = shadow_prices(result.duals, cells, bounds, in_program, budget, spend_all)
        return Allocation(
            table=table,
            by_objective=by_objective,
            by_region=by_region,
            uplift=uplift,
            shadow_prices=prices,
            status=result.status,
            solver=result.solver,
            optimality_gap=float(gap),
            objective_value=float(achieved),
            budget=float(budget),
            spent=float(spend.sum()),
            unspent=float(budget - spend.sum()),
            policy=policy,
            period_weeks=self.curves.period_weeks,
            currency=self.curves.currency,
            interval=interval,
        )


def allocate(curves: ResponseCurves, policy: Policy, current_spend: object, method: str = "cuts") -> Allocation:
    """Allocate the policy's budget across cells to maximise (risk-adjusted) expected revenue.

    Parameters
    ----------
    curves : ResponseCurves
        Posterior draws of per-cell response curves over the planning period.
    policy : Policy
        Budget, shares, hurdle, bounds, locks, mode and risk.
    current_spend : pandas.DataFrame, pandas.Series or array-like
        Current spend per cell over one planning period, e.g. ``contracts.period_spend(data.spend,
        curves.period_weeks)``; see :class:`Allocator` for the accepted forms.
    method : {"cuts", "conic"}
        Formulation, see :class:`Allocator`.

    Returns
    -------
    Allocation

    Raises
    ------
    InfeasiblePolicyError
        When no allocation satisfies the policy; the message names the conflicting rules and amounts.
    """
    return Allocator(curves, current_spend, method).allocate(policy)
