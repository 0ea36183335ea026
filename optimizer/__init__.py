"""Convex budget allocation over posterior response curves.

Public API: :class:`ResponseCurves` (the response-curve contract, from ``contracts``), :class:`Policy` (the
company's rules, with :class:`GroupRule` for rules an analyst declares; ``to_toml``/``from_toml``,
``fingerprint``), :func:`allocate` and :class:`Allocator` (solve, and re-solve scenarios: ``frontier``,
``hurdle_budget``), :class:`Allocation` (the result; ``ladder``, ``rounded``, ``weekly``, ``notes``,
``save``/``load``) and :class:`InfeasiblePolicyError`.
Column names follow ``docs/vocabulary.md``.
"""

from contracts.curves import ResponseCurves
from optimizer.allocate import Allocator, allocate
from optimizer.allocation import Allocation
from optimizer.errors import InfeasiblePolicyError, SolverError
from optimizer.groups import CellSelector, GroupRule
from optimizer.policy import CellRef, CellRule, Policy, Risk
from optimizer.rounding import RoundedPlan
from optimizer.scenarios import Frontier, HurdleBudget, Ladder

__all__ = [
    "Allocation",
    "Allocator",
    "CellRef",
    "CellRule",
    "CellSelector",
    "Frontier",
    "GroupRule",
    "HurdleBudget",
    "InfeasiblePolicyError",
    "Ladder",
    "Policy",
    "ResponseCurves",
    "Risk",
    "RoundedPlan",
    "SolverError",
    "allocate",
]
