"""Convex budget allocation over posterior response curves.

Public API: :class:`ResponseCurves` (the response-curve contract, from ``contracts``), :class:`Policy` (the
company's rules; ``to_toml``/``from_toml``, ``fingerprint``), :func:`allocate` and :class:`Allocator` (solve, and
re-solve scenarios), :class:`Allocation` (the result; ``save``/``load``) and :class:`InfeasiblePolicyError`.
Column names follow ``docs/vocabulary.md``.
"""

from contracts.curves import ResponseCurves
from optimizer.allocate import Allocator, allocate
from optimizer.allocation import Allocation
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
