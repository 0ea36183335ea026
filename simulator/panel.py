"""The weekly panel: spend with flighting, baseline demand, lift tests and revenue with known contributions."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts import OBJECTIVE_SHARES
from simulator.config import ROI_OVERRIDES, WorldConfig
from simulator.media import demand_index, flighting, geometric_adstock, hill, hill_derivative


@dataclass(frozen=True)
class Panel:
    """Arrays shaped (weeks, regions, channels) or (weeks, regions), plus the cell parameters that made them."""

    weeks: pd.DatetimeIndex
    regions: tuple[str, ...]
    channels: tuple[str, ...]
    spend: np.ndarray  # (T, R, K), actual spend (lift tests included), rounded to cents
    planned_spend: np.ndarray  # (T, R, K), spend had no lift test been run
    baseline: np.ndarray  # (T, R)
    promo_depth: np.ndarray  # (T, R)
    noise: np.ndarray  # (T, R)
    revenue: np.ndarray  # (T, R), rounded to cents
    alpha: np.ndarray  # (R, K)
    half_saturation: np.ndarray  # (R, K), weekly spend units
    shape: np.ndarray  # (R, K)
    beta: np.ndarray  # (R, K), maximum weekly contribution
    lift_tests: pd.DataFrame  # region, channel, start, end, spend_delta, revenue_delta_true
    baseline_params: pd.DataFrame  # region, level, trend_per_year, promo_effect
    l_max: int

    def contributions(self, spend: np.ndarray | None = None) -> np.ndarray:
        """Weekly incremental revenue of every cell for ``spend`` (default: the actual spend)."""
        spend = self.spend if spend is None else spend
        return self.beta * hill(geometric_adstock(spend, self.alpha, self.l_max), self.half_saturation, self.shape)


@dataclass(frozen=True)
class BaselineProcess:
    """The drawn parameters of the baseline: ``level × (1 + trend·t/52) × demand × (1 + promo_effect·promo)``.

    Attributes
    ----------
    level, trend, promo_effect
        Per region ``(R,)``: baseline revenue level, growth per year, revenue lift per unit of promotion depth.
    promo_levels
        ``(R, 3)`` depth of the calendar sales (Black Friday, December, Singles' Day), see :func:`promo_calendar`.
    demand
        Seasonality index ``(weeks + horizon, R)``: the window's weeks and ``horizon`` weeks after it.
    promo_depth
        Promotion depth ``(weeks, R)`` over the window (calendar sales plus random promotion weeks).
    """

    level: np.ndarray
    trend: np.ndarray
    promo_effect: np.ndarray
    promo_levels: np.ndarray
    demand: np.ndarray
    promo_depth: np.ndarray

    def baseline(self, t: np.ndarray, demand: np.ndarray, promo: np.ndarray) -> np.ndarray:
        """Baseline revenue ``(len(t), R)`` at week indices ``t`` (0 = the window's first week)."""
        t = np.asarray(t, dtype=float)
        return self.level * (1 + self.trend * t[:, None] / 52) * demand * (1 + self.promo_effect * promo)


def draw_baseline(
    config: WorldConfig, dates: pd.DatetimeIndex, rng: np.random.Generator, horizon: int = 0
) -> BaselineProcess:
    """Draw the baseline's parameters from the demand stream ``rng`` for the window ``dates``.

    ``horizon`` extends the seasonality index past the window without changing any draw (its parameters do not
    depend on the number of weeks), so a world's baseline can be continued.
    """
    n_r = len(config.regions)
    demand = demand_index(len(dates) + horizon, rng, n_r)
    promo, promo_levels = _promo_depth(dates, rng, n_r)
    # weekly_revenue is total revenue; media adds about marketing_share × typical ROI of it on top of the baseline.
    typical_roi = 2.2
    base_share = 1.0 - config.marketing_share * typical_roi
    level = base_share * config.weekly_revenue * np.array(list(config.regions.values()))
    trend = rng.uniform(0.0, 0.12, n_r)
    promo_effect = rng.uniform(0.8, 1.5, n_r)
    return BaselineProcess(level, trend, promo_effect, promo_levels, demand, promo)


def simulate_panel(config: WorldConfig, rngs: dict[str, np.random.Generator], weeks: int) -> Panel:
    """Draw the weekly world. ``rngs`` holds independent streams (params, demand, spend, noise, lift)."""
    regions, channels = tuple(config.regions), tuple(config.channels)
    dates = pd.date_range(config.start, periods=weeks, freq="7D")
    if dates[0].day_of_week != 0:
        raise ValueError(f"start must be a Monday, got {config.start} ({dates[0].day_name()})")
    t = np.arange(weeks)
    n_r, n_k = len(regions), len(channels)

    process = draw_baseline(config, dates, rngs["demand"])
    demand, promo, level = process.demand, process.promo_depth, process.level
    baseline = process.baseline(t, demand, promo)

    planned = _planned_spend(config, regions, channels, demand, promo, rngs["spend"])
    spend, lift = _run_lift_tests(config, dates, regions, channels, planned, rngs["lift"])

    designs = [config.channels[k] for k in channels]
    p_rng = rngs["params"]
    alpha = np.clip(np.array([d.adstock_alpha for d in designs]) * np.exp(p_rng.normal(0, 0.1, (n_r, n_k))), 0.01, 0.95)
    shape = np.array([d.hill_shape for d in designs]) * np.exp(p_rng.normal(0, 0.05, (n_r, n_k)))
    adstocked = geometric_adstock(spend, alpha, config.l_max)
    active_mean = np.nanmean(np.where(spend > 0, adstocked, np.nan), axis=0)
    half_saturation = active_mean * p_rng.uniform(0.7, 1.4, (n_r, n_k))
    roi = np.array([[d.roi for d in designs]] * n_r) * np.exp(p_rng.normal(0, config.roi_spread, (n_r, n_k)))
    for (region, channel), value in ROI_OVERRIDES.items():
        if region in regions and channel in channels:
            roi[regions.index(region), channels.index(channel)] = value
    # beta is set so the cell's true ROI over the window is exactly the drawn ROI.
    response = hill(adstocked, half_saturation, shape)
    beta = roi * spend.sum(axis=0) / response.sum(axis=0)

    media = (beta * response).sum(axis=2)
    noise = rngs["noise"].normal(0.0, config.noise_sd, (weeks, n_r)) * level
    revenue = np.round(baseline + media + noise, 2)
    lift = _measure_lift(lift, spend, planned, beta, alpha, half_saturation, shape, config.l_max)
    se, measured = _measurement(lift["revenue_delta_true"].to_numpy(dtype=float), rngs["lift"])
    lift = lift.assign(revenue_delta=measured, revenue_delta_se=se)
    params = pd.DataFrame(
        {"region": regions, "level": level, "trend_per_year": process.trend, "promo_effect": process.promo_effect}
    )
    return Panel(
        weeks=dates,
        regions=regions,
        channels=channels,
        spend=spend,
        planned_spend=planned,
        baseline=baseline,
        promo_depth=promo,
        noise=revenue - baseline - media,  # what rounding to cents leaves is part of the noise
        revenue=revenue,
        alpha=alpha,
        half_saturation=half_saturation,
        shape=shape,
        beta=beta,
        lift_tests=lift,
        baseline_params=params,
        l_max=config.l_max,
    )


def marginal_roi(panel: Panel) -> np.ndarray:
    """Marginal ROI per cell: extra revenue from scaling the cell's whole spend series by (1 + ε), per unit.

    d/dε Σ_t β·hill((1+ε)·a_t) at ε = 0 is Σ_t β·hill'(a_t)·a_t (adstock is linear), and the extra spend is
    ε·Σ_t x_t.
    """
    adstocked = geometric_adstock(panel.spend, panel.alpha, panel.l_max)
    slope = panel.beta * hill_derivative(adstocked, panel.half_saturation, panel.shape) * adstocked
    return np.nan_to_num(slope).sum(axis=0) / panel.spend.sum(axis=0)


def _promo_depth(dates: pd.DatetimeIndex, rng: np.random.Generator, n_regions: int) -> tuple[np.ndarray, np.ndarray]:
    """Site-wide promotion depth (discount share) per week and region: year-end sales plus a few random ones.

    Returns the depth ``(weeks, regions)`` and each region's depth of the three calendar sales
    ``(regions, 3)``: Black Friday, December, Singles' Day (see :func:`promo_calendar`).
    """
    levels = np.zeros((n_regions, 3))
    random_weeks, random_depths = [], []
    for r in range(n_regions):
        levels[r, 0] = rng.uniform(0.2, 0.3)
        levels[r, 1] = rng.uniform(0.05, 0.12)
        levels[r, 2] = rng.uniform(0.15, 0.25) if r == 0 else rng.uniform(0.0, 0.05)
        random_weeks.append(rng.choice(len(dates), size=max(1, len(dates) // 20), replace=False))
        random_depths.append(rng.uniform(0.05, 0.15, len(random_weeks[-1])))
    depth = promo_calendar(dates, levels)
    for r, (chosen, values) in enumerate(zip(random_weeks, random_depths, strict=True)):
        depth[chosen, r] = np.maximum(depth[chosen, r], values)
    return np.round(depth, 3), levels


def promo_calendar(dates: pd.DatetimeIndex, levels: np.ndarray) -> np.ndarray:
    """Depth of the calendar sales in ``dates`` (weeks, regions), unrounded.

    ``levels`` is ``(regions, 3)``: the depth of Black Friday (week starting Nov 20–30), December sales (Dec 1–21)
    and Singles' Day (Nov 5–11) in each region; other weeks are 0.
    """
    depth = np.zeros((len(dates), levels.shape[0]))
    month, day = dates.month.to_numpy(), dates.day.to_numpy()
    black_friday = (month == 11) & (day >= 20) & (day <= 30)
    singles_day = (month == 11) & (day >= 5) & (day <= 11)
    december = (month == 12) & (day <= 21)
    for column, weeks in enumerate((black_friday, december, singles_day)):
        depth[weeks] = levels[:, column]
    return depth


def _planned_spend(config, regions, channels, demand, promo, rng) -> np.ndarray:
    weeks = demand.shape[0]
    t = np.arange(weeks)
    total = config.marketing_share * config.weekly_revenue
    spend = np.zeros((weeks, len(regions), len(channels)))
    for r, region in enumerate(regions):
        for k, channel in enumerate(channels):
            d = config.channels[channel]
            budget = total * config.regions[region] * OBJECTIVE_SHARES[d.objective] * d.budget_share
            shape = flighting(d.flighting, weeks, rng)
            shape = shape * demand[:, r] ** d.demand_coupling * (1 + rng.uniform(-0.05, 0.15) * t / 52)
            if d.objective == "acquisition":
                shape = shape * (1 + promo[:, r])  # sales weeks get more acquisition money: spend follows demand
            spend[:, r, k] = budget * shape / shape.mean()
    return np.round(spend, 2)


def _run_lift_tests(config, dates, regions, channels, planned, rng) -> tuple[np.ndarray, pd.DataFrame]:
    """Pick (region, channel) cells and 4-week windows; boost spend by 50–100% or go dark. Returns actual spend."""
    spend = planned.copy()
    weeks = len(dates)
    eligible = [
        (r, k) for r in range(len(regions)) for k in range(len(channels)) if np.mean(planned[:, r, k] > 0) > 0.9
    ]
    if config.lift_arms == 2:
        return _run_two_arm_lift_tests(config, dates, regions, channels, planned, eligible, rng)
    n_tests = min(config.n_lift_tests, len(eligible))
    picks = rng.choice(len(eligible), size=n_tests, replace=False) if n_tests else []
    rows = []
    for i in sorted(int(p) for p in picks):
        r, k = eligible[i]
        first = int(rng.integers(8, max(9, weeks - 6)))
        window = slice(first, min(first + 4, weeks))
        if rng.uniform() < 0.5:
            spend[window, r, k] = np.round(planned[window, r, k] * rng.uniform(1.5, 2.0), 2)
        else:
            spend[window, r, k] = 0.0
        rows.append(_lift_row(regions, channels, dates, spend, planned, r, k, window))
    return spend, pd.DataFrame(rows)


def _run_two_arm_lift_tests(config, dates, regions, channels, planned, eligible, rng):
    """``lift_arms=2``: each picked cell dark for 4 weeks in one half of the window and at twice its spend for 4
    weeks in the other (which half is dark is random); the two tests are two rows."""
    spend = planned.copy()
    weeks = len(dates)
    if weeks < 2 * (config.l_max + 12):
        raise ValueError(
            f"lift_arms=2 needs a window of at least 2 * (l_max + 12) = {2 * (config.l_max + 12)} weeks (each half "
            f"holds a 4-week test after an 8-week lead-in, the second past the first's carry-over); got {weeks}"
        )
    half = weeks // 2
    n_cells = min(config.n_lift_tests // 2, len(eligible))
    picks = rng.choice(len(eligible), size=n_cells, replace=False) if n_cells else []
    rows = []
    for i in sorted(int(p) for p in picks):
        r, k = eligible[i]
        # the length check above leaves room for both draws and for both 4-week windows
        early = int(rng.integers(8, half - 4))
        late = int(rng.integers(half + config.l_max, weeks - 6))  # past the first test's carry-over
        dark_first = rng.uniform() < 0.5
        for first, dark in ((early, dark_first), (late, not dark_first)):
            window = slice(first, first + 4)
            spend[window, r, k] = 0.0 if dark else np.round(2.0 * planned[window, r, k], 2)
            rows.append(_lift_row(regions, channels, dates, spend, planned, r, k, window))
    rows.sort(key=lambda row: (row["start"], row["region"], row["channel"]))
    return spend, pd.DataFrame(rows)


def _lift_row(regions, channels, dates, spend, planned, r, k, window) -> dict:
    return {
        "region": regions[r],
        "channel": channels[k],
        "start": dates[window.start],
        "end": dates[window.stop - 1] + pd.Timedelta(days=6),
        "spend_delta": round(float((spend[window, r, k] - planned[window, r, k]).sum()), 2),
        "planned_spend": [float(v) for v in planned[window, r, k]],
        "r_index": r,
        "k_index": k,
        "week_span": (window.start, window.stop),
    }


def _measure_lift(lift, spend, planned, beta, alpha, half_sat, shape, l_max) -> pd.DataFrame:
    """True incremental revenue of each test over its own weeks (actual vs. planned spend in that cell)."""
    if lift.empty:
        return pd.DataFrame(columns=["region", "channel", "start", "end", "spend_delta", "revenue_delta_true"])
    deltas = []
    for row in lift.itertuples():
        r, k = row.r_index, row.k_index
        a, b = row.week_span

        def contribution(x, r=r, k=k):
            return beta[r, k] * hill(geometric_adstock(x, alpha[r, k], l_max), half_sat[r, k], shape[r, k])

        deltas.append(float((contribution(spend[:, r, k]) - contribution(planned[:, r, k]))[a:b].sum()))
    return lift.drop(columns=["r_index", "k_index", "week_span"]).assign(revenue_delta_true=np.round(deltas, 2))


def _measurement(true_delta: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """What each experiment reports: its standard error and the truth plus noise of that size."""
    se = np.round(np.maximum(0.12 * np.abs(true_delta), 1000.0), 2)
    return se, np.round(true_delta + rng.normal(0, se), 2)
