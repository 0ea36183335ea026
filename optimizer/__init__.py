"""Convex budget allocation over posterior response curves.

Public API: :class:`ResponseCurves` (the response-curve contract), :class:`Policy` (the company's rules),
:func:`allocate` and :class:`Allocator` (solve, and re-solve scenarios), :class:`Allocation` (the result) and
:class:`InfeasiblePolicyError`.
"""

from optimizer.allocate import Allocator, allocate
from optimizer.allocation import Allocation
from contracts.curves import ResponseCurves
from optimizer.errors import InfeasiblePolicyError, SolverError
from optimizer.policy import CellRef, CellRule, Policy, Risk

__all__ = [
    "Allocation",
    "Allocator",
    "CellRef",
    "CellRule",
    "InfeasiblePolicyError",
    "Policy",
    "ResponseCurves",
    "Risk",
    "SolverError",
    "allocate",
]
