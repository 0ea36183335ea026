"""A run's inputs: its tables, and the revenue of the last planning period (for budgets set as a share of it).

Kept apart from :mod:`planner.run` so that the report and the check read a run's tables the same way without
importing the run itself.
"""

from __future__ import annotations

import pandas as pd

import contracts
from planner.config import PlanConfig


def load_data(config: PlanConfig) -> contracts.Dataset:
    """The run's tables: a folder (or the bundled sample) via ``contracts.load_dataset``, or per-table files."""
    folder = config.data.resolved_folder()
    if folder is not None:
        return contracts.load_dataset(folder, require=("plan",))
    tables = {name: contracts.load_table(path, name) for name, path in config.data.table_paths().items()}
    return contracts.Dataset(**tables)


def period_revenue(data: contracts.Dataset, weeks: int) -> float:
    """Revenue over the data's last ``weeks`` weeks (all regions)."""
    kpi = data.kpi
    last = sorted(pd.to_datetime(kpi["week"]).unique())[-weeks:]
    return float(kpi.loc[pd.to_datetime(kpi["week"]).isin(last), "revenue"].sum())
