"""The simulator's tables: one :class:`contracts.Dataset` per world or reference dataset, with shortcuts to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from contracts import Dataset, write_table

#: Independent random streams of a world, spawned in this order from its seed (a realization replays "demand").
_STREAMS = ("params", "demand", "spend", "noise", "journeys", "lift")
_COUNT_COLUMNS = {"paths": ("total_conversions", "total_null")}

#: File written for each table by :meth:`simulator.World.save` (events are large, so compressed).
TABLE_FILES = {
    "events": "events.csv.gz",
    "paths": "paths.csv",
    "spend": "spend.csv",
    "kpi": "kpi.csv",
    "controls": "controls.csv",
    "channels": "channels.csv",
    "lift_tests": "lift_tests.csv",
}


class DatasetTables:
    """Read-only shortcuts to the tables of ``self.data`` (a :class:`contracts.Dataset`): ``world.spend`` is
    ``world.data.spend``, the validated table itself; ``None`` where the dataset has no such table."""

    data: Dataset

    @property
    def events(self) -> pd.DataFrame | None:
        """Touch and conversion events (``data.events``)."""
        return self.data.events

    @property
    def paths(self) -> pd.DataFrame | None:
        """Journeys aggregated per path (``data.paths``)."""
        return self.data.paths

    @property
    def spend(self) -> pd.DataFrame | None:
        """Weekly spend per region and channel (``data.spend``)."""
        return self.data.spend

    @property
    def kpi(self) -> pd.DataFrame | None:
        """Weekly revenue per region (``data.kpi``)."""
        return self.data.kpi

    @property
    def controls(self) -> pd.DataFrame | None:
        """Weekly controls per region (``data.controls``)."""
        return self.data.controls

    @property
    def channels(self) -> pd.DataFrame | None:
        """Channel catalog with objectives (``data.channels``)."""
        return self.data.channels

    @property
    def lift_tests(self) -> pd.DataFrame | None:
        """Geo lift tests (``data.lift_tests``)."""
        return self.data.lift_tests


def write_tables(data: Dataset, directory: str | Path) -> list[Path]:
    """Write every table of ``data`` as :meth:`World.save` does (CSV, events gzip-compressed); same data → same
    bytes. Returns the files written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in data.tables().items():
        counts = {c: "int64" for c in _COUNT_COLUMNS.get(name, ())}
        written.append(write_table(table.astype(counts), directory / TABLE_FILES[name]))
    return written


def _long(weeks: pd.DatetimeIndex, regions: list[str], channels: list[str], values: np.ndarray, name: str):
    n_r, n_k = len(regions), len(channels)
    return pd.DataFrame(
        {
            "week": np.repeat(weeks, n_r * n_k),
            "region": np.tile(np.repeat(regions, n_k), len(weeks)),
            "channel": np.tile(channels, len(weeks) * n_r),
            name: values.reshape(-1),
        }
    )


def _num(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.10g}")
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_num(v) for v in value]
    return value


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _num(v) for k, v in row.items()} for row in df.to_dict(orient="records")]
