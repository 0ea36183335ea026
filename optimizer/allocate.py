"""Entry points: :func:`allocate` for one plan, :class:`Allocator` to re-solve scenarios without rebuilding."""

from __future__ import annotations

from collections.abc import Sequence

import cvxpy as cp
import numpy as np

from contracts.curves import ResponseCurves
from optimizer.allocation import Allocation
from optimizer.bounds import CellBounds, align_current_spend, cell_bounds
from optimizer.envelope import CutModel
from optimizer.errors import SolverError
from optimizer.formulation import Formulation
from optimizer.infeasibility import diagnose, precheck
from optimizer.outer import OuterProgram, s_shaped_candidates
from optimizer.policy import Policy
from optimizer.rules import RuleRow, policy_rows
from optimizer.scenarios import Frontier, HurdleBudget, frontier, hurdle_budget
from optimizer.shadow import shadow_prices
from optimizer.summary import summarize

#: Most (draw, cell) pairs one program may hold: the CVaR program has a row per pair and the conic one a cone per
#: pair; 1e6 (e.g. 4,000 draws × 250 cells) already takes minutes. Thin the draws with ``curves.subset_draws``.
MAX_DRAW_CELLS = 1_000_000
#: Solution methods (see :class:`Allocator`): the default first.
METHODS = ("outer", "cuts", "conic")
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
    """Holds the built program for one set of curves and current spend; solves policies on it.

    A change of budget, shares, tolerance, hurdle, bounds, locks, group-rule values or CVaR λ/α only changes
    values in the program already built (and, with the default method, keeps every tangent found so far and the
    LP's last basis), so a re-solve is fast. A change of risk kind or of which group rules exist builds another.

    Parameters
    ----------
    curves : ResponseCurves
        Posterior response curves per cell.
    current_spend : pandas.DataFrame, pandas.Series or array-like
        Current spend per cell over one planning period: the frame of ``contracts.period_spend`` (``region``,
        ``channel``, ``spend_period``), a frame with ``region``, ``channel``, ``spend``, a Series indexed by
        (region, channel), or an array in the curves' cell order (see :func:`optimizer.bounds.align_current_spend`).
    method : {"outer", "cuts", "conic"}
        ``outer`` (default): an LP outer approximation solved with HiGHS, refined to a certified relative gap of
        1e-7 (:mod:`optimizer.outer`); under CVaR it models only the draws near the tail, so it scales with draws.
        ``cuts``: tangent cuts in cvxpy (of each draw's curve under CVaR: a row per draw, cell and cut).
        ``conic``: one exact cone per draw and cell in cvxpy. The two cvxpy forms are kept as references.

    Examples
    --------
    >>> allocator = Allocator(curves, current_spend)  # doctest: +SKIP
    >>> plan = allocator.allocate(Policy(budget=1.2e6))  # doctest: +SKIP
    >>> bigger = allocator.allocate(Policy(budget=1.3e6))  # re-solve, no rebuild  # doctest: +SKIP
    """

    def __init__(self, curves: ResponseCurves, current_spend: object, method: str = "outer") -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}; got {method!r}")
        _check_work(curves)
        self.method = method
        self.curves = curves
        self.current = align_current_spend(curves.cells, current_spend, curves.period_weeks)
        self._programs: dict[tuple, OuterProgram | Formulation] = {}
        self._activation: np.ndarray | None = None
        self._last_spend: np.ndarray | None = None

    def program(self, policy: Policy, rows: list[RuleRow]) -> OuterProgram | Formulation:
        """The (cached) program for the policy's risk kind and rule structure."""
        key = (policy.risk.kind, tuple(r.structure for r in rows))
        if key not in self._programs:
            scale = policy.budget_amount
            if self.method == "outer":
                self._programs[key] = OuterProgram(
                    self.curves, self.current, rows, policy.risk.kind, scale, activation=self.activation()
                )
            else:
                self._programs[key] = Formulation(self.curves, self.current, rows, policy.risk.kind, scale, self.method)
        return self._programs[key]

    def activation(self) -> np.ndarray:
        """Activation spend per cell of the posterior-mean curve (0 where it is concave)."""
        if self._activation is None:
            act = np.zeros(self.curves.n_cells)
            idx = s_shaped_candidates(self.curves)  # the other families are concave: no activation point
            if idx.size:
                act[idx] = CutModel(self.curves, idx, False, self.current).activation[0]
            self._activation = act
        return self._activation

    def solve(self, policy: Policy) -> tuple[np.ndarray, dict, float, float, str, str, CellBounds, list[RuleRow]]:
        """The optimal spend per cell and its certificate, without the plan's tables (what scenarios re-use).

        Returns spend, duals (gains per unit of relaxing each rule), objective at the plan, relative gap, status,
        solver name, the cell bounds and the rule rows. Raises :class:`InfeasiblePolicyError` naming the
        conflicting rules if no plan fits.
        """
        budget = policy.budget_amount
        cells = self.curves.cells
        bounds = cell_bounds(cells, policy, self.current, budget)
        rows = policy_rows(cells, policy)
        spend_all = policy.mode == "spend_all"
        precheck(cells, bounds, budget, spend_all, rows, policy)
        program = self.program(policy, rows)
        values = {
            "cap": budget,
            "floor": budget if spend_all else 0.0,
            "lower": bounds.lower,
            "upper": bounds.upper,
            "rows": rows,
            "hurdle": 0.0 if spend_all else policy.roi_hurdle,
        }
        if policy.risk.kind == "cvar":
            values["lam"], values["alpha"] = policy.risk.lam, policy.risk.alpha
            values["tail"] = policy.risk.lam / (policy.risk.alpha * self.curves.n_draws)
        program.set_values(values)
        if isinstance(program, OuterProgram):
            start = (
                self._last_spend if self._last_spend is not None else np.clip(self.current, bounds.lower, bounds.upper)
            )
            out = program.solve(start)
            status, solver, duals = out.status, "HiGHS (outer approximation)", out.duals
            if duals:
                signed = np.asarray(duals.pop("rows_signed"))
                sides = np.array([r.side for r in rows])
                duals["rows"] = np.where(sides == "floor", -signed, signed).clip(min=0.0)
            spend_raw, achieved, bound = out.spend, out.value, out.upper_bound
        else:
            res = program.solve(alpha=policy.risk.alpha)
            status, solver, duals, spend_raw = res.status, res.solver, res.duals, res.spend
            achieved = bound = np.nan
        if status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE, "infeasible"):
            raise diagnose(cells, bounds, budget, spend_all, rows)
        if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            raise _solver_failure(self.curves, status, solver, budget)
        spend = np.clip(spend_raw, bounds.lower, bounds.upper)
        if not isinstance(program, OuterProgram):
            achieved, bound = program.relaxed_objective(spend), res.upper_bound
        gap = max(0.0, bound - achieved) / max(abs(achieved), 1e-12)
        self._last_spend = spend
        return spend, duals, float(achieved), float(gap), status, solver, bounds, rows

    def allocate(self, policy: Policy) -> Allocation:
        """Solve the policy; raise :class:`InfeasiblePolicyError` naming the conflicting rules if none fits."""
        spend, duals, achieved, gap, status, solver, bounds, rows = self.solve(policy)
        budget = policy.budget_amount
        table, by_objective, by_region, uplift, interval = summarize(
            self.curves, self.current, spend, policy, self.activation()
        )
        prices = shadow_prices(duals, self.curves.cells, bounds, rows, budget, spend)
        return Allocation(
            table=table,
            by_objective=by_objective,
            by_region=by_region,
            uplift=uplift,
            shadow_prices=prices,
            status=status,
            solver=solver,
            optimality_gap=gap,
            objective_value=achieved,
            budget=float(budget),
            spent=float(spend.sum()),
            unspent=float(budget - spend.sum()),
            policy=policy,
            period_weeks=self.curves.period_weeks,
            currency=self.curves.currency,
            interval=interval,
            mroi=float(duals["budget"]),
            allocator=self,
        )

    def frontier(self, budgets: Sequence[float], policy: Policy | None = None) -> Frontier:
        """Plans across ``budgets`` under the policy's other rules (default: the company's): expected revenue with
        its interval, the plan's marginal ROI, and the budget at which that meets the hurdle
        (:func:`optimizer.scenarios.frontier`). Re-solves only."""
        policy = policy if policy is not None else Policy(budget=float(budgets[0]))
        return frontier(self, budgets, policy)

    def hurdle_budget(self, policy: Policy) -> HurdleBudget:
        """The budget at which the plan's marginal ROI falls to ``policy.roi_hurdle``
        (:func:`optimizer.scenarios.hurdle_budget`)."""
        return hurdle_budget(self, policy)


def allocate(curves: ResponseCurves, policy: Policy, current_spend: object, method: str = "outer") -> Allocation:
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
    method : {"outer", "cuts", "conic"}
        Solution method, see :class:`Allocator`.

    Returns
    -------
    Allocation

    Raises
    ------
    InfeasiblePolicyError
        When no allocation satisfies the policy; the message names the conflicting rules and amounts.
    """
    return Allocator(curves, current_spend, method).allocate(policy)
