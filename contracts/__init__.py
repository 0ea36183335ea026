"""The ground floor every package shares: the tables of DESIGN.md validated at the boundary with clear errors,
the :class:`Dataset` that holds them, the response-curve contract, the defaults of the growth plan, what "current
spend" means, and the one HDI. No package of ours is imported here.

>>> from contracts import load_dataset, period_spend
>>> data = load_dataset("data/sample")          # doctest: +SKIP
>>> current = period_spend(data.spend, 13)       # doctest: +SKIP
"""

from contracts.curves import FAMILIES, ResponseCurves
from contracts.defaults import (
    BUDGET_SHARE_OF_REVENUE,
    CELL_COLUMNS,
    INTERVAL_PROB,
    MAX_CHANGE,
    OBJECTIVE_SHARES,
    OBJECTIVES,
    PERIOD_WEEKS,
    REGION_SHARES,
    ROI_HURDLE,
)
from contracts.errors import ContractError, DataWarning, Problem
from contracts.io import Dataset, find_tables, load_dataset, load_table, read_table, write_table
from contracts.panel import check_panel
from contracts.period import period_spend
from contracts.schemas import EVENT_TYPES, TABLES
from contracts.stats import hdi, interval_label
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
    "BUDGET_SHARE_OF_REVENUE",
    "CELL_COLUMNS",
    "EVENT_TYPES",
    "FAMILIES",
    "INTERVAL_PROB",
    "MAX_CHANGE",
    "OBJECTIVES",
    "OBJECTIVE_SHARES",
    "PERIOD_WEEKS",
    "REGION_SHARES",
    "ROI_HURDLE",
    "TABLES",
    "ContractError",
    "DataWarning",
    "Dataset",
    "Problem",
    "ResponseCurves",
    "check_panel",
    "find_tables",
    "hdi",
    "interval_label",
    "load_dataset",
    "load_table",
    "period_spend",
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
