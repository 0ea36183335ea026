"""Errors and warnings raised at the data boundary.

Every problem names the table, the column, what is wrong, what is allowed and the first offending rows,
so a user can find and fix the data without reading our code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

#: How many offending rows a message quotes before it says "... and N more".
MAX_ROWS_SHOWN = 5


class DataWarning(UserWarning):
    """Rows were filtered out or adjusted at the boundary; the message counts and names them."""


@dataclass(frozen=True)
class Problem:
    """One broken rule in one table.

    Parameters
    ----------
    table, column
        Where the problem is (``column`` may be ``None`` for table-level rules such as emptiness).
    problem
        What is wrong, e.g. ``"3 rows are negative"``.
    allowed
        What would be accepted, e.g. ``">= 0"``.
    examples
        Human-readable descriptions of the first offending rows or values.
    n_offending
        How many rows or values break the rule in total.
    """

    table: str
    column: str | None
    problem: str
    allowed: str
    examples: tuple[str, ...] = field(default_factory=tuple)
    n_offending: int = 0

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{where}: {self.problem}; allowed: {self.allowed}"
        if self.examples:
            shown = "; ".join(self.examples)
            more = self.n_offending - len(self.examples)
            text += f". First offending: {shown}"
            if more > 0:
                text += f"; ... and {more} more"
        return text


class ContractError(ValueError):
    """Input data break the data contract.

    The message lists every problem found (one per line). ``problems`` gives them as data, and
    ``table``/``column`` name the first one for callers that branch on them.
    """

    def __init__(self, problems: Sequence[Problem]):
        if not problems:
            raise ValueError("ContractError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.table = self.problems[0].table
        self.column = self.problems[0].column
        lines = [str(p) for p in self.problems]
        header = f"{len(lines)} data contract problem(s):" if len(lines) > 1 else ""
        super().__init__("\n".join([header, *lines]) if header else lines[0])


def describe_rows(df: pd.DataFrame, index: Sequence, columns: Sequence[str]) -> tuple[str, ...]:
    """Describe rows of ``df`` by position and key columns, e.g. ``row 4 (week 2024-01-08, region Asia)``."""
    out = []
    for idx in list(index)[:MAX_ROWS_SHOWN]:
        parts = []
        for col in columns:
            if col in df.columns:
                parts.append(f"{col} {format_value(df.at[idx, col])}")
        out.append(f"row {idx} ({', '.join(parts)})" if parts else f"row {idx}")
    return tuple(out)


def format_value(value: object) -> str:
    """Short, unambiguous text for a cell value in an error message."""
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is None and value == value.normalize():
            return value.date().isoformat()
        return value.isoformat()
    if value is None or (isinstance(value, float) and value != value):
        return "NaN"
    if isinstance(value, str):
        return repr(value)
    return str(value)
