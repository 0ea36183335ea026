"""The growth plan's defaults (DESIGN.md), defined once: every package reads them from here."""

from __future__ import annotations

from types import MappingProxyType

#: Objectives a channel can serve, in reporting order.
OBJECTIVES: tuple[str, ...] = ("acquisition", "retention", "brand")
#: Budget split by objective.
OBJECTIVE_SHARES = MappingProxyType({"acquisition": 0.60, "retention": 0.30, "brand": 0.10})
#: Budget split by region.
REGION_SHARES = MappingProxyType({"Asia": 0.35, "Europe": 0.25, "North America": 0.20, "Other": 0.20})
#: ROI below which a cell is flagged and no money is pushed at the margin.
ROI_HURDLE = 1.5
#: Planning period in weeks (a quarter).
PERIOD_WEEKS = 13
#: Maximum relative change of a cell's spend per planning period.
MAX_CHANGE = 0.30
#: Share of revenue spent on marketing when a policy gives no amount.
BUDGET_SHARE_OF_REVENUE = 0.12
#: Mass of the credible intervals reported by default.
INTERVAL_PROB = 0.90
#: The columns that name a cell in every cell-level table.
CELL_COLUMNS: tuple[str, ...] = ("region", "channel", "objective")
