"""A synthetic e-commerce world with exact ground truth, for testing every engine against known answers.

:func:`simulate_world` returns a :class:`World`: its tables as one :class:`contracts.Dataset` (``world.data``,
validated once) and their :class:`Truth`. :meth:`World.realize` continues a world by new weeks of planned spend
with their truth (a :class:`Realization`). :func:`roi_recovery` scores a model's ROI estimates against that truth;
:mod:`simulator.oracle` bounds how well any model could do; :mod:`simulator.reference` loads public reference
datasets with known truth.

>>> from simulator import simulate_world
>>> world = simulate_world(seed=7, weeks=52, n_users=2_000)
>>> world.data.names()
['events', 'paths', 'spend', 'kpi', 'controls', 'channels', 'lift_tests']
>>> world.spend is world.data.spend
True
>>> truth = world.truth.cells
>>> roi_recovery(truth.assign(roi_low=truth["roi"], roi_high=truth["roi"]), truth)
{'roi_median_abs_pct_error': 0.0, 'roi_hdi90_coverage': 1.0}
"""

from simulator.config import CHANNELS, ChannelDesign, WorldConfig
from simulator.realize import Realization, realize
from simulator.scoring import roi_recovery
from simulator.tables import TABLE_FILES
from simulator.world import Truth, World, simulate_world

__all__ = [
    "CHANNELS",
    "TABLE_FILES",
    "ChannelDesign",
    "Realization",
    "Truth",
    "World",
    "WorldConfig",
    "realize",
    "roi_recovery",
    "simulate_world",
]
