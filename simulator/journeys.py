"""User journeys: touches that follow the weekly channel mix, and conversions caused by the channels touched.

The causal model is a noisy-OR: each user has an organic conversion probability ``p0`` and every touch of
channel k (up to three per channel) independently "rescues" a non-converting user with probability
``q[region, k]``. A user converts when their uniform draw ``u`` falls below

    P(S) = 1 - (1 - p0) * prod_k (1 - q[region, k]) ** min(touches_k, 3)

The counterfactual world without channel k keeps every random number (who arrives when, the other touches, ``u``,
order values) and only removes channel k's touches, so the incremental conversions of k are exact counts, not
estimates. Brand channels act mostly outside tracked journeys, so their per-touch effect is small here even where
their media-mix ROI is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.config import WorldConfig

#: Organic conversion probability of a tracked user with no marketing.
P_ORGANIC = 0.03
#: Per-touch conversion lift per unit of true ROI (acquisition and retention; brand is mostly untracked).
Q_PER_ROI = 0.015
BRAND_TRACKED_SHARE = 0.3
MAX_COUNTED_TOUCHES = 3
#: Mean order value per region, currency units.
ORDER_VALUE = {"Asia": 45.0, "Europe": 70.0, "North America": 85.0, "Other": 50.0}
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Journeys:
    """Every simulated journey with the random numbers that decide it.

    Touch arrays are flat (one entry per touch, sorted by user then time); user arrays have one entry per user.
    """

    touch_user: np.ndarray
    touch_time: np.ndarray  # seconds since the data start
    touch_channel: np.ndarray  # channel index
    user_region: np.ndarray  # region index
    user_start: np.ndarray  # seconds since the data start
    user_uniform: np.ndarray  # the draw that decides conversion
    conversion_time: np.ndarray  # seconds since the data start, if the user converts
    order_value: np.ndarray
    q: np.ndarray  # (regions, channels)
    p_organic: float
    data_end: float  # seconds since the data start
    lookback_days: int

    def conversion_probability(self, removed_channel: int | None = None) -> np.ndarray:
        """P(convert) per user in the world with ``removed_channel``'s touches switched off (None: factual)."""
        n_users, n_channels = len(self.user_region), self.q.shape[1]
        keep = np.ones(len(self.touch_user), bool) if removed_channel is None else self.touch_channel != removed_channel
        counts = np.bincount(
            self.touch_user[keep] * n_channels + self.touch_channel[keep], minlength=n_users * n_channels
        ).reshape(n_users, n_channels)
        log_no_rescue = np.log1p(-self.q[self.user_region])  # (users, channels)
        log_survive = np.log1p(-self.p_organic) + (np.minimum(counts, MAX_COUNTED_TOUCHES) * log_no_rescue).sum(axis=1)
        return -np.expm1(log_survive)

    def converts(self, removed_channel: int | None = None) -> np.ndarray:
        """Whether each user converts in the factual world or with ``removed_channel`` switched off."""
        return self.user_uniform < self.conversion_probability(removed_channel)

    @property
    def observed_conversion(self) -> np.ndarray:
        """Users whose conversion is in the event log (it happened before the data end)."""
        return self.converts() & (self.conversion_time < self.data_end)

    @property
    def last_seen_touch(self) -> np.ndarray:
        """Whole-second time of each user's last logged touch (-inf for users with none in the log)."""
        seen = self.touch_time < self.data_end
        last = np.full(len(self.user_region), -np.inf)
        np.maximum.at(last, self.touch_user[seen], np.floor(self.touch_time[seen]))
        return last

    @property
    def closed(self) -> np.ndarray:
        """Journeys an analyst can close from the log alone.

        A journey is closed when its conversion is logged, or when its last logged touch is at least
        ``lookback_days`` before the log's last event (it can no longer be part of a conversion's path). Journeys
        with a logged touch that are not closed are *open*; users with no logged touch have no journey.
        """
        converted = self.observed_conversion
        last_touch = self.last_seen_touch
        log_end = max(last_touch.max(), np.floor(self.conversion_time[converted]).max(initial=-np.inf))
        quiet = last_touch <= log_end - self.lookback_days * SECONDS_PER_DAY
        return converted | (np.isfinite(last_touch) & quiet)

    @property
    def open(self) -> np.ndarray:
        """Journeys with a logged touch that may still convert after the data end."""
        return np.isfinite(self.last_seen_touch) & ~self.closed


def simulate_journeys(config: WorldConfig, spend: np.ndarray, roi: np.ndarray, rng: np.random.Generator) -> Journeys:
    """Draw ``config.n_users`` journeys from weekly ``spend`` (weeks, regions, channels) and true ``roi``."""
    regions, channels = list(config.regions), list(config.channels)
    weeks, n_r, n_k = spend.shape
    n = config.n_users
    week_s = 7 * SECONDS_PER_DAY
    lookback_s = config.lookback_days * SECONDS_PER_DAY

    region_p = np.array([config.regions[r] for r in regions])
    user_region = rng.choice(n_r, size=n, p=region_p / region_p.sum())
    # More users start a journey in weeks with more spend in their region.
    weekly_total = spend.sum(axis=2)
    user_week = np.empty(n, dtype=int)
    for r in range(n_r):
        members = np.flatnonzero(user_region == r)
        user_week[members] = rng.choice(weeks, size=len(members), p=weekly_total[:, r] / weekly_total[:, r].sum())
    user_start = (user_week + rng.uniform(0, 1, n)) * week_s

    n_touches = 1 + np.minimum(rng.poisson(1.6, n), 7)
    touch_user = np.repeat(np.arange(n), n_touches)
    first = np.r_[0, np.cumsum(n_touches)[:-1]]
    position = np.arange(len(touch_user)) - np.repeat(first, n_touches)
    gaps = np.where(position == 0, 0.0, rng.exponential(2.5 * SECONDS_PER_DAY, len(touch_user)))
    offset = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first], n_touches)
    within = offset <= lookback_s
    touch_user, position, offset = touch_user[within], position[within], offset[within]
    touch_time = user_start[touch_user] + offset

    reach = np.array([config.channels[k].touch_reach for k in channels])
    mix = spend * reach  # touches follow the week's spend mix in the region
    opener = np.array([config.channels[k].objective in ("acquisition", "brand") for k in channels])
    touch_week = np.minimum((touch_time // week_s).astype(int), weeks - 1)
    weights = mix[touch_week, user_region[touch_user]]
    weights = np.where((position == 0)[:, None] & ~opener[None, :], 0.0, weights)
    cumulative = np.cumsum(weights, axis=1)
    draws = rng.uniform(0, 1, len(touch_user)) * cumulative[:, -1]
    touch_channel = np.minimum((draws[:, None] >= cumulative).sum(axis=1), n_k - 1)

    tracked = np.array([BRAND_TRACKED_SHARE if config.channels[k].objective == "brand" else 1.0 for k in channels])
    q = np.clip(Q_PER_ROI * roi * tracked, 0.0, 0.5)
    user_uniform = rng.uniform(0, 1, n)
    last_touch = np.zeros(n)
    np.maximum.at(last_touch, touch_user, touch_time)
    conversion_time = np.minimum(last_touch + rng.exponential(SECONDS_PER_DAY, n), user_start + lookback_s)
    mean_value = np.array([ORDER_VALUE.get(r, 60.0) for r in regions])[user_region]
    order_value = np.round(mean_value * rng.lognormal(-0.125, 0.5, n), 2)
    return Journeys(
        touch_user=touch_user,
        touch_time=touch_time,
        touch_channel=touch_channel,
        user_region=user_region,
        user_start=user_start,
        user_uniform=user_uniform,
        conversion_time=conversion_time,
        order_value=order_value,
        q=q,
        p_organic=P_ORGANIC,
        data_end=weeks * week_s,
        lookback_days=config.lookback_days,
    )


def events_table(j: Journeys, regions: list[str], channels: list[str], start: pd.Timestamp) -> pd.DataFrame:
    """The event log as a tracking system would record it: only what happened before the data end."""
    origin = pd.Timestamp(start, tz="UTC")
    seen = j.touch_time < j.data_end
    users = j.touch_user[seen]
    touches = pd.DataFrame(
        {
            "user_id": users,
            "ts": j.touch_time[seen],
            "channel": np.asarray(channels, dtype=object)[j.touch_channel[seen]],
            "region": np.asarray(regions, dtype=object)[j.user_region[users]],
            "event_type": "touch",
            "revenue": np.nan,
        }
    )
    converted = np.flatnonzero(j.observed_conversion)
    conversions = pd.DataFrame(
        {
            "user_id": converted,
            "ts": j.conversion_time[converted],
            "channel": None,
            "region": np.asarray(regions, dtype=object)[j.user_region[converted]],
            "event_type": "conversion",
            "revenue": j.order_value[converted],
        }
    )
    events = pd.concat([touches, conversions], ignore_index=True)
    events["ts"] = origin + pd.to_timedelta(np.floor(events["ts"].to_numpy()), unit="s")
    events = events.sort_values(["ts", "user_id", "event_type"], kind="stable", ignore_index=True)
    events["user_id"] = [f"u{u:07d}" for u in events["user_id"]]
    return events


def paths_table(j: Journeys, regions: list[str], channels: list[str], sep: str = " > ") -> pd.DataFrame:
    """Closed journeys aggregated into ChannelAttribution's path format, segmented by region."""
    closed = j.closed
    converted = j.observed_conversion
    keep = closed[j.touch_user] & (j.touch_time < j.data_end)
    touch = pd.DataFrame({"user": j.touch_user[keep], "channel": np.asarray(channels)[j.touch_channel[keep]]})
    path = touch.groupby("user", sort=True)["channel"].agg(sep.join)
    users = path.index.to_numpy()
    per_user = pd.DataFrame(
        {
            "region": np.asarray(regions)[j.user_region[users]],
            "path": path.to_numpy(),
            "total_conversions": converted[users].astype(int),
            "total_conversion_value": np.where(converted[users], j.order_value[users], 0.0),
            "total_null": (~converted[users]).astype(int),
        }
    )
    out = per_user.groupby(["region", "path"], sort=True, as_index=False).sum()
    out["total_conversion_value"] = out["total_conversion_value"].round(2)
    return out[["path", "total_conversions", "total_conversion_value", "total_null", "region"]]


def counterfactual_table(j: Journeys, regions: list[str], channels: list[str]) -> pd.DataFrame:
    """Per (region, channel): conversions and revenue lost among closed journeys when the channel is switched off."""
    closed = j.closed
    factual = j.converts() & closed
    rows = []
    for k, channel in enumerate(channels):
        lost = factual & ~j.converts(removed_channel=k)
        touched_users = np.unique(j.touch_user[(j.touch_channel == k) & closed[j.touch_user]])
        touched = np.bincount(j.user_region[touched_users], minlength=len(regions))
        for r, region in enumerate(regions):
            in_region = j.user_region == r
            rows.append(
                {
                    "region": region,
                    "channel": channel,
                    "q_per_touch": float(j.q[r, k]),
                    "users_touched": int(touched[r]),
                    "incremental_conversions": int((lost & in_region).sum()),
                    "incremental_revenue": round(float(j.order_value[lost & in_region].sum()), 2),
                }
            )
    return pd.DataFrame(rows)
