"""A synthetic e-commerce world with exact ground truth, for testing every engine against known answers.

>>> from simulator import simulate_world
>>> world = simulate_world(seed=7, weeks=52, n_users=2_000)
>>> set(world.tables()) >= {"spend", "kpi", "events", "paths"}
True
"""

from simulator.config import CHANNELS, OBJECTIVE_SHARES, REGION_SHARES, ChannelDesign, WorldConfig
from simulator.world import ROI_HURDLE, TABLE_FILES, Truth, World, simulate_world

__all__ = [
    "CHANNELS",
    "OBJECTIVE_SHARES",
    "REGION_SHARES",
    "ROI_HURDLE",
    "TABLE_FILES",
    "ChannelDesign",
    "Truth",
    "World",
    "WorldConfig",
    "simulate_world",
]
