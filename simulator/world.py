"""One coherent simulated world with its exact truth: :func:`simulate_world` and the :class:`World` it returns."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from contracts import PERIOD_WEEKS, ROI_HURDLE, Dataset, ResponseCurves
from simulator.config import WorldConfig
from simulator.journeys import (
    Q_PER_ROI,
    counterfactual_table,
    events_table,
    paths_table,
    simulate_journeys,
)
from simulator.media import geometric_adstock
from simulator.panel import Panel, marginal_roi, simulate_panel
from simulator.tables import _STREAMS, DatasetTables, _long, _num, _records, write_tables

if TYPE_CHECKING:
    from simulator.realize import Realization

#: The paths contract reads counts as numbers (float); the simulator's are whole and are written as integers.


@dataclass(frozen=True)
class Truth:
    """What the simulator knows and a model can only estimate.

    Attributes
    ----------
    cells
        One row per (region, channel): ``objective``, ``adstock_alpha``, ``l_max``, ``half_saturation_weekly``
        (in weekly spend), ``hill_shape``, ``beta_weekly`` (maximum weekly contribution), ``spend_window`` and
        ``contribution_window`` (totals over the data window), ``roi`` (= contribution_window / spend_window),
        ``mroi`` (marginal ROI at the observed spend) and ``roi_below_hurdle`` (``roi`` < ``meta["roi_hurdle"]``).
    weekly
        One row per (week, region, channel): ``spend_weekly``, ``adstock`` (adstocked weekly spend) and the true
        weekly ``contribution``.
    baseline
        One row per (week, region): ``baseline`` revenue (trend × seasonality × promotions), ``media``
        (sum of contributions) and ``noise``; ``kpi.revenue = baseline + media + noise`` exactly.
    journeys
        One row per (region, channel): per-touch effect ``q_per_touch``, ``users_touched`` and the
        counterfactual ``incremental_conversions`` / ``incremental_revenue`` among the journeys in ``paths``.
    lift_tests
        The lift tests with ``revenue_delta_true`` beside the measured ``revenue_delta``, and the weekly
        ``planned_spend`` the test replaced (the observed spend in the window is the test's spend). The true delta
        counts revenue inside the test's weeks only, as an experiment would measure it.
    meta
        Seed, window, ROI hurdle, noise level, journey model constants and counts.
    """

    cells: pd.DataFrame
    weekly: pd.DataFrame
    baseline: pd.DataFrame
    journeys: pd.DataFrame
    lift_tests: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def channel_incrementality(self) -> pd.DataFrame:
        """Counterfactual incremental conversions and revenue per channel, all regions together."""
        cols = ["users_touched", "incremental_conversions", "incremental_revenue"]
        return self.journeys.groupby("channel", sort=False, as_index=False)[cols].sum()

    def response_curves(self, period_weeks: int = PERIOD_WEEKS, currency: str | None = None) -> ResponseCurves:
        """The true response curves over a planning period of ``period_weeks``, as one posterior "draw".

        With the same spend every week, normalised adstock equals that weekly spend once ``l_max`` weeks have
        passed, so the steady-state revenue of period spend ``S`` is ``P·beta_weekly·hill(S/P; K, s)``, which is a
        Hill curve in ``S`` with ``beta = P·beta_weekly`` and ``half_saturation = P·half_saturation_weekly``
        (P = ``period_weeks``, K = ``half_saturation_weekly``, s = ``hill_shape``).

        Parameters
        ----------
        period_weeks : int
            Length of the planning period in weeks (13 = a quarter); recorded on the curves.
        currency : str, optional
            Currency of spend and revenue, recorded on the curves (the simulator's tables do not say).

        Returns
        -------
        contracts.ResponseCurves
            One draw, one cell per (region, channel); the oracle input for the optimizer.

        Examples
        --------
        >>> from simulator import simulate_world
        >>> curves = simulate_world(seed=7, weeks=52, n_users=500).truth.response_curves(13, currency="EUR")
        >>> (curves.n_draws, curves.n_cells, curves.period_weeks, curves.currency)
        (1, 44, 13, 'EUR')
        """
        _check_period_weeks(period_weeks)
        cells = self.cells
        return ResponseCurves.hill(
            cells[["region", "channel", "objective"]],
            beta=(period_weeks * cells["beta_weekly"].to_numpy())[None, :],
            half_saturation=(period_weeks * cells["half_saturation_weekly"].to_numpy())[None, :],
            shape=cells["hill_shape"].to_numpy()[None, :],
            period_weeks=period_weeks,
            currency=currency,
        )

    def average_period_spend(self, period_weeks: int = PERIOD_WEEKS) -> pd.DataFrame:
        """Each cell's **average** spend per planning period over the whole data window.

        ``spend_period = spend_window × period_weeks / weeks``. This is *not* "current spend": that is what a cell
        spent over the **last** ``period_weeks`` weeks of the data (:func:`contracts.period_spend`), which differs
        from the window average wherever spend trends, flights or was moved by a lift test. The average is the
        spend level of the window the truth's ``roi`` is measured over.

        Returns
        -------
        pandas.DataFrame
            ``region``, ``channel``, ``objective``, ``spend_period``; one row per cell.
        """
        _check_period_weeks(period_weeks)
        out = self.cells[["region", "channel", "objective"]].copy()
        out["spend_period"] = self.cells["spend_window"].to_numpy() * period_weeks / self.meta["weeks"]
        return out

    def to_json(self) -> str:
        """Serialise to JSON (stable key order, floats at 10 significant digits) for ``truth.json``."""
        weekly = self.weekly.sort_values(["region", "channel", "week"])
        base = self.baseline.sort_values(["region", "week"])
        payload = {
            "meta": self.meta,
            "cells": _records(self.cells),
            "weeks": [d.date().isoformat() for d in pd.DatetimeIndex(sorted(self.weekly["week"].unique()))],
            "weekly_contributions": [
                {"region": r, "channel": c, "contribution": [_num(v) for v in g["contribution"]]}
                for (r, c), g in weekly.groupby(["region", "channel"], sort=False)
            ],
            "baseline": [
                {"region": r, **{col: [_num(v) for v in g[col]] for col in ("baseline", "media", "noise")}}
                for r, g in base.groupby("region", sort=False)
            ],
            "journeys": _records(self.journeys),
            "lift_tests": _records(self.lift_tests),
        }
        return json.dumps(payload, indent=1, sort_keys=False, allow_nan=False) + "\n"


@dataclass(frozen=True, eq=False)
class World(DatasetTables):
    """A simulated company: the tables of DESIGN.md as one :class:`contracts.Dataset` plus their :class:`Truth`.

    Attributes
    ----------
    data : contracts.Dataset
        The tables a real company would have (no truth), validated once when the world was made. ``world.spend``,
        ``world.kpi``, ... are read-only shortcuts to ``world.data.spend``, ... A world simulated without lift tests
        (``n_lift_tests=0``) has ``lift_tests=None``, as a dataset without them does.
    truth : Truth
        What a model should recover.
    seed : int
        The seed the world was simulated with.
    config : WorldConfig
        The design it was simulated from.
    """

    data: Dataset
    truth: Truth
    seed: int
    config: WorldConfig

    def __post_init__(self) -> None:
        if not isinstance(self.data, Dataset):
            raise TypeError(f"World.data must be a contracts.Dataset; got {type(self.data).__name__}")

    def save(self, directory: str | Path) -> list[Path]:
        """Write every table (CSV, events gzip-compressed) and ``truth.json``; same world → same bytes."""
        directory = Path(directory)
        written = write_tables(self.data, directory)
        truth_path = directory / "truth.json"
        truth_path.write_text(self.truth.to_json())
        return [*written, truth_path]

    def realize(
        self,
        spend: pd.DataFrame,
        weeks: int = PERIOD_WEEKS,
        *,
        seed: int,
        shift: Mapping[str, float] | None = None,
        period_weeks: int = PERIOD_WEEKS,
    ) -> Realization:
        """Continue this world by ``weeks`` new weeks with the given spend; see :func:`simulator.realize.realize`."""
        from simulator.realize import realize

        return realize(self, spend, weeks, seed=seed, shift=shift, period_weeks=period_weeks)


def simulate_world(seed: int, weeks: int = 104, config: WorldConfig | None = None, **overrides: Any) -> World:
    """Simulate one world: weekly spend and revenue per region and channel, user journeys, lift tests, truth.

    Parameters
    ----------
    seed
        Seed of every random step; the same seed, weeks and config give identical output.
    weeks
        Length of the weekly panel.
    config
        Design of the world (:class:`WorldConfig`); keyword ``overrides`` replace its fields, e.g.
        ``simulate_world(7, n_users=5_000)``.

    Returns
    -------
    World
        Its tables validated once, as ``world.data`` (a :class:`contracts.Dataset`), and its truth.

    Examples
    --------
    >>> world = simulate_world(seed=7, weeks=52, n_users=2_000)
    >>> world.data.names()
    ['events', 'paths', 'spend', 'kpi', 'controls', 'channels', 'lift_tests']
    >>> cell = world.truth.cells.set_index(["region", "channel"]).loc[("Asia", "meta_ads")]
    >>> bool(cell["roi"] == cell["contribution_window"] / cell["spend_window"])
    True
    """
    if weeks < 8:
        raise ValueError(f"weeks must be >= 8 (two months of data), got {weeks}")
    config = dataclasses.replace(config or WorldConfig(), **overrides)
    streams = np.random.SeedSequence(seed).spawn(len(_STREAMS))
    rngs = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, streams, strict=True)}

    panel = simulate_panel(config, rngs, weeks)
    regions, channels = list(panel.regions), list(panel.channels)
    cells = _cell_truth(panel, config)
    roi = cells.pivot(index="region", columns="channel", values="roi").loc[regions, channels].to_numpy()
    journeys = simulate_journeys(config, panel.spend, roi, rngs["journeys"])

    truth = Truth(
        cells=cells,
        weekly=_weekly_truth(panel, config),
        baseline=_baseline_truth(panel),
        journeys=counterfactual_table(journeys, regions, channels),
        lift_tests=panel.lift_tests.reset_index(drop=True),
        meta={
            "seed": seed,
            "weeks": weeks,
            "start": panel.weeks[0].date().isoformat(),
            "roi_hurdle": ROI_HURDLE,
            "l_max": config.l_max,
            "adstock": "geometric, normalised weights alpha**l / sum(alpha**j), l < l_max; zero spend before start",
            "saturation": (
                "hill: x**s / (x**s + K**s) on adstocked weekly spend x, K = half_saturation_weekly, s = hill_shape; "
                "weekly contribution = beta_weekly * hill"
            ),
            "noise_sd_share_of_level": config.noise_sd,
            "baseline_params": _records(panel.baseline_params),
            "journeys": {
                "users": config.n_users,
                "closed_journeys": int(journeys.closed.sum()),
                "open_journeys": int(journeys.open.sum()),
                "users_without_logged_touches": int((~np.isfinite(journeys.last_seen_touch)).sum()),
                "open_rule": "not converted and last logged touch within lookback_days of the log's last event",
                "p_organic": journeys.p_organic,
                "q_per_roi": Q_PER_ROI,
                "lookback_days": config.lookback_days,
                "counterfactual": "channel's touches removed; all other random numbers kept",
            },
        },
    )
    tables = {
        "events": events_table(journeys, regions, channels, panel.weeks[0]),
        "paths": paths_table(journeys, regions, channels),
        "spend": _long(panel.weeks, regions, channels, panel.spend, "spend"),
        "kpi": pd.DataFrame(
            {
                "week": np.repeat(panel.weeks, len(regions)),
                "region": np.tile(regions, weeks),
                "revenue": panel.revenue.reshape(-1),
            }
        ),
        "controls": pd.DataFrame(
            {
                "week": np.repeat(panel.weeks, len(regions)),
                "region": np.tile(regions, weeks),
                "promo_depth": panel.promo_depth.reshape(-1),
            }
        ),
        "channels": pd.DataFrame({"channel": channels, "objective": [config.channels[c].objective for c in channels]}),
        "lift_tests": panel.lift_tests[
            ["region", "channel", "start", "end", "spend_delta", "revenue_delta", "revenue_delta_se"]
        ].reset_index(drop=True),
    }
    # An empty table breaks its contract: a world without lift tests has no lift_tests table, as a dataset would.
    data = Dataset(**{name: table for name, table in tables.items() if len(table)})
    return World(data=data, truth=truth, seed=seed, config=config)


def _cell_truth(panel: Panel, config: WorldConfig) -> pd.DataFrame:
    contributions = panel.contributions()
    spend_total = panel.spend.sum(axis=0)
    contribution_total = contributions.sum(axis=0)
    roi = contribution_total / spend_total
    mroi = marginal_roi(panel)
    rows = []
    for r, region in enumerate(panel.regions):
        for k, channel in enumerate(panel.channels):
            rows.append(
                {
                    "region": region,
                    "channel": channel,
                    "objective": config.channels[channel].objective,
                    "adstock_alpha": panel.alpha[r, k],
                    "l_max": config.l_max,
                    "half_saturation_weekly": panel.half_saturation[r, k],
                    "hill_shape": panel.shape[r, k],
                    "beta_weekly": panel.beta[r, k],
                    "spend_window": spend_total[r, k],
                    "contribution_window": contribution_total[r, k],
                    "roi": roi[r, k],
                    "mroi": mroi[r, k],
                    "roi_below_hurdle": bool(roi[r, k] < ROI_HURDLE),
                }
            )
    return pd.DataFrame(rows)


def _weekly_truth(panel: Panel, config: WorldConfig) -> pd.DataFrame:
    regions, channels = list(panel.regions), list(panel.channels)
    adstock = geometric_adstock(panel.spend, panel.alpha, config.l_max)
    out = _long(panel.weeks, regions, channels, panel.spend, "spend_weekly")
    out["adstock"] = adstock.reshape(-1)
    out["contribution"] = panel.contributions().reshape(-1)
    return out


def _baseline_truth(panel: Panel) -> pd.DataFrame:
    n_weeks, n_regions = panel.baseline.shape
    return pd.DataFrame(
        {
            "week": np.repeat(panel.weeks, n_regions),
            "region": np.tile(panel.regions, n_weeks),
            "baseline": panel.baseline.reshape(-1),
            "media": panel.contributions().sum(axis=2).reshape(-1),
            "noise": panel.noise.reshape(-1),
        }
    )


def _check_period_weeks(period_weeks: int) -> None:
    if isinstance(period_weeks, bool) or not isinstance(period_weeks, (int, np.integer)) or period_weeks < 1:
        raise ValueError(f"period_weeks must be an integer >= 1; got {period_weeks!r}")
