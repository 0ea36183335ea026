"""The sample world's fixed design: regions, channels and the ranges its true parameters are drawn from.

Numbers here are design choices, not estimates of any real company. They are chosen so that the world is
plausible (marketing ≈ 12% of revenue, 60/30/10 by objective, 35/25/20/20 by region) and informative (some
cells clearly below the 1.5 ROI hurdle, some clearly above, spend that varies enough to be measured).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts import OBJECTIVES, REGION_SHARES


@dataclass(frozen=True)
class ChannelDesign:
    """How one channel behaves in the simulated world.

    Attributes
    ----------
    objective
        acquisition, retention or brand.
    budget_share
        Share of its objective's budget.
    roi
        Typical true ROI (incremental revenue / spend over the window); regions vary around it.
    adstock_alpha
        Weekly carry-over rate of geometric adstock.
    hill_shape
        Hill saturation shape: <= 1 concave, > 1 S-shaped.
    flighting
        Spend pattern: ``always_on``, ``bursty``, ``flights`` (on/off waves) or ``events`` (a few big weeks).
    demand_coupling
        How strongly spend follows demand (0 = not at all, 1 = proportionally); the source of confounding.
    touch_reach
        Relative number of journey touches per unit of spend (email is cheap per touch, events are not).
    """

    objective: str
    budget_share: float
    roi: float
    adstock_alpha: float
    hill_shape: float
    flighting: str
    demand_coupling: float
    touch_reach: float


CHANNELS: dict[str, ChannelDesign] = {
    "tiktok_shop": ChannelDesign("acquisition", 0.22, 1.6, 0.30, 1.0, "bursty", 0.4, 1.2),
    "meta_ads": ChannelDesign("acquisition", 0.25, 2.3, 0.35, 0.9, "always_on", 0.5, 1.0),
    "google_search": ChannelDesign("acquisition", 0.25, 3.2, 0.10, 0.8, "always_on", 0.9, 0.8),
    "kol_affiliate": ChannelDesign("acquisition", 0.13, 1.0, 0.40, 1.2, "bursty", 0.3, 0.6),
    "amazon_ads": ChannelDesign("acquisition", 0.15, 2.6, 0.20, 0.9, "always_on", 0.6, 0.8),
    "email_crm": ChannelDesign("retention", 0.20, 4.5, 0.20, 0.7, "always_on", 0.3, 3.0),
    "app_push": ChannelDesign("retention", 0.15, 3.0, 0.15, 0.7, "always_on", 0.3, 3.0),
    "loyalty_program": ChannelDesign("retention", 0.35, 1.2, 0.50, 1.0, "always_on", 0.2, 0.5),
    "retargeting": ChannelDesign("retention", 0.30, 1.9, 0.25, 0.9, "bursty", 0.5, 1.5),
    "youtube_video": ChannelDesign("brand", 0.60, 0.9, 0.70, 1.6, "flights", 0.2, 0.4),
    "sponsorship_events": ChannelDesign("brand", 0.40, 0.7, 0.75, 1.8, "events", 0.0, 0.2),
}

#: Cells whose true ROI departs from the channel's typical value on purpose (region, channel) → ROI.
ROI_OVERRIDES: dict[tuple[str, str], float] = {
    ("Asia", "tiktok_shop"): 2.6,
    ("Asia", "kol_affiliate"): 2.0,
    ("Europe", "tiktok_shop"): 1.1,
    ("North America", "amazon_ads"): 3.4,
}


@dataclass(frozen=True)
class WorldConfig:
    """Knobs of :func:`simulator.simulate_world` beyond the seed.

    Attributes
    ----------
    start
        First week (a Monday).
    weekly_revenue
        Total revenue per week across regions, before seasonality and marketing, in currency units.
    marketing_share
        Marketing spend as a share of revenue (12% in the growth plan).
    l_max
        Adstock window in weeks (weights beyond it are zero); spend before ``start`` is zero.
    noise_sd
        Weekly revenue noise as a share of the region's baseline level.
    roi_spread
        Log-normal spread of a cell's true ROI around its channel's typical value.
    n_users
        Users with at least one tracked touch (the journey sample).
    lookback_days
        A journey spans at most this many days from its first touch.
    n_lift_tests
        Number of geo lift tests run during the window.
    lift_arms
        1 (default): each test is its own cell, run 4 weeks at 1.5-2x its spend or dark. 2: each tested cell is
        tested twice, 4 weeks dark and 4 weeks at twice its spend, one in each half of the window (which half is
        dark is random) and at least ``l_max`` weeks apart, so the experiments see its curve at two spend levels;
        ``n_lift_tests // 2`` cells; needs a window of at least ``2 * (l_max + 12)`` weeks.
    regions
        Region → share of revenue and of marketing budget (default: the growth plan's split,
        ``contracts.REGION_SHARES``).
    channels
        Channel → :class:`ChannelDesign` (default :data:`CHANNELS`); budgets split by objective as
        ``contracts.OBJECTIVE_SHARES``.
    """

    start: str = "2024-01-01"
    weekly_revenue: float = 10_000_000.0
    marketing_share: float = 0.12
    l_max: int = 8
    noise_sd: float = 0.03
    roi_spread: float = 0.12
    n_users: int = 100_000
    lookback_days: int = 30
    n_lift_tests: int = 8
    lift_arms: int = 1
    regions: dict[str, float] = field(default_factory=lambda: dict(REGION_SHARES))
    channels: dict[str, ChannelDesign] = field(default_factory=lambda: dict(CHANNELS))

    def __post_init__(self) -> None:
        if self.l_max < 1:
            raise ValueError(f"l_max must be >= 1 week, got {self.l_max}")
        if not 0 < self.marketing_share < 1:
            raise ValueError(f"marketing_share must be in (0, 1), got {self.marketing_share}")
        if self.n_users < 1:
            raise ValueError(f"n_users must be >= 1 (a world has journeys), got {self.n_users}")
        if self.lift_arms not in (1, 2):
            raise ValueError(f"lift_arms must be 1 or 2, got {self.lift_arms}")
        if self.noise_sd < 0:
            raise ValueError(f"noise_sd must be >= 0, got {self.noise_sd}")
        for name, design in self.channels.items():
            if design.objective not in OBJECTIVES:
                raise ValueError(f"channel {name!r}: objective {design.objective!r} is not one of {list(OBJECTIVES)}")
