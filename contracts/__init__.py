"""Data contracts: the tables of DESIGN.md, validated at the boundary with clear errors.

>>> from contracts import validate_spend, load_dataset
>>> data = load_dataset("data/sample")          # doctest: +SKIP
"""

from contracts.errors import ContractError, DataWarning, Problem
from contracts.io import Dataset, find_tables, load_dataset, load_table, read_table, write_table
from contracts.panel import check_panel
from contracts.schemas import EVENT_TYPES, OBJECTIVES, TABLES
from contracts.tables import (
    validate_channels,
    validate_controls,
    validate_events,
    validate_kpi,
    validate_lift_tests,
    validate_paths,
    validate_spend,
    validate_table,
)

__all__ = [
    "EVENT_TYPES",
    "OBJECTIVES",
    "TABLES",
    "ContractError",
    "DataWarning",
    "Dataset",
    "Problem",
    "check_panel",
    "find_tables",
    "load_dataset",
    "load_table",
    "read_table",
    "validate_channels",
    "validate_controls",
    "validate_events",
    "validate_kpi",
    "validate_lift_tests",
    "validate_paths",
    "validate_spend",
    "validate_table",
    "write_table",
]
