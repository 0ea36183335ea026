"""The simulator's tables: one :class:`contracts.Dataset` per world or reference dataset, with shortcuts to it."""

from __future__ import annotations

import pandas as pd

from contracts import Dataset

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
