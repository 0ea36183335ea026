"""Errors for bad input, in the project's data-contract format (``contracts.ContractError``)."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from contracts.errors import MAX_ROWS_SHOWN, ContractError, DataWarning, Problem, format_value

__all__ = ["ContractError", "DataWarning", "SkippedRowsWarning", "contract_error", "warn"]

_PACKAGE_DIR = str(Path(__file__).parent) + os.sep


class SkippedRowsWarning(DataWarning):
    """Rows were skipped (e.g. paths with no conversions and no nulls); counted by reason in the result's
    ``skipped``."""


def warn(message: str, category: type[Warning]) -> None:
    """Warn, attributing the warning to the first caller outside this package (the user's line)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def contract_error(
    table: str,
    column: str | None,
    problem: str,
    allowed: str,
    rows: Sequence[object] = (),
    values: Sequence[object] = (),
    n_offending: int | None = None,
) -> ContractError:
    """Build a :class:`ContractError` naming the table, column, first offending rows and what is allowed.

    Parameters
    ----------
    table, column : str
        Where the problem is.
    problem, allowed : str
        What is wrong and what would be accepted.
    rows, values : sequence
        Labels and values of the offending rows (only the first few are quoted).
    n_offending : int, optional
        Total number of offending rows (defaults to ``len(rows)``).
    """
    shown = list(zip(list(rows)[:MAX_ROWS_SHOWN], list(values)[:MAX_ROWS_SHOWN], strict=False))
    examples = tuple(f"row {r} ({column} {format_value(v)})" for r, v in shown)
    n = len(rows) if n_offending is None else n_offending
    return ContractError([Problem(table, column, problem, allowed, examples, n)])
