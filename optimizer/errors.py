"""Errors raised by the optimizer."""

from __future__ import annotations


class InfeasiblePolicyError(ValueError):
    """No allocation satisfies the policy; the message names the conflicting rules and the amounts."""


class SolverError(RuntimeError):
    """The solver failed to return an optimal (or near-optimal) solution for a feasible policy."""
