"""Play a plan forward in a simulated world: :func:`realize` and the :class:`Realization` it returns.

A realization continues a :class:`simulator.World` by new weeks right after its last one. The world's history is
kept byte for byte; the new weeks use the same baseline process (trend, seasonality and calendar promotions
continued, not restarted), the same true response of every cell (adstock carried over from the world's own last
weeks of spend, the same Hill saturation and beta) and fresh noise drawn from ``seed``. So a plan's outcome can be
measured against the truth, and a fitted model's forecast of it scored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from contracts import PERIOD_WEEKS, ContractError, Dataset
from contracts.errors import Problem, describe_rows
from simulator.media import geometric_adstock, hill
from simulator.panel import BaselineProcess, draw_baseline, promo_calendar
from simulator.tables import _STREAMS, DatasetTables, _long, _records, write_tables

if TYPE_CHECKING:
    from simulator.world import World

#: Chance that a new week is a random promotion week in a region (the design's one such week per 20).
RANDOM_PROMO_RATE = 1 / 20
_CELL = ["region", "channel"]


@dataclass(frozen=True, eq=False)
class Realization(DatasetTables):
    """A world continued by new weeks of given spend, with the truth of those weeks.

    Attributes
    ----------
    data : contracts.Dataset
        The world's tables extended by the new weeks: ``spend``, ``kpi`` and ``controls`` have the new weeks' rows
        after the world's (history unchanged); ``channels``, ``lift_tests``, ``events`` and ``paths`` are the
        world's (journeys are not simulated for new weeks). ``realization.spend`` ... are shortcuts to it.
    weeks : pandas.DatetimeIndex
        The new weeks (Mondays), the first one 7 days after the world's last week.
    contributions : pandas.DataFrame
        One row per (new week, region, channel): ``spend`` (weekly, in cents as written to ``data.spend``),
        ``adstock`` (adstocked weekly spend, the world's spend before the new weeks included), ``effect_factor``
        (the ``shift`` applied to the cell's beta, 1 where none) and the true ``contribution``.
    revenue : pandas.DataFrame
        One row per (new week, region): ``promo_depth`` (the control), ``baseline`` revenue, ``media`` (sum of the
        contributions), ``expected_revenue`` (= baseline + media), ``noise`` and the observed ``revenue``
        (= expected_revenue + noise, rounded to cents, as in ``data.kpi``).
    seed : int
        The seed the new weeks' noise and random promotions were drawn from.
    shift : dict
        ``"region/channel"`` → factor on that cell's beta in the new weeks (empty: none).
    world_seed : int
        The seed of the world that was continued.
    """

    data: Dataset
    weeks: pd.DatetimeIndex
    contributions: pd.DataFrame
    revenue: pd.DataFrame
    seed: int
    shift: dict[str, float] = field(default_factory=dict)
    world_seed: int = 0

    def cell_totals(self) -> pd.DataFrame:
        """Spend and true contribution per cell summed over the new weeks (``region``, ``channel``, ``spend``,
        ``contribution``, ``roi`` = contribution / spend, NaN where nothing was spent)."""
        totals = self.contributions.groupby(_CELL, sort=False, as_index=False)[["spend", "contribution"]].sum()
        spend = totals["spend"].to_numpy()
        totals["roi"] = np.divide(
            totals["contribution"].to_numpy(), spend, out=np.full(len(spend), np.nan), where=spend > 0
        )
        return totals

    def to_json(self) -> str:
        """The truth of the new weeks as JSON (stable order, floats at 10 significant digits) for ``truth.json``."""
        payload = {
            "kind": "realization",
            "meta": {
                "world_seed": self.world_seed,
                "seed": self.seed,
                "shift": dict(self.shift),
                "weeks": len(self.weeks),
                "first_week": self.weeks[0].date().isoformat(),
                "last_week": self.weeks[-1].date().isoformat(),
                "random_promo_rate": RANDOM_PROMO_RATE,
            },
            "contributions": _records(self.contributions),
            "revenue": _records(self.revenue),
        }
        return json.dumps(payload, indent=1, sort_keys=False, allow_nan=False) + "\n"

    def save(self, directory: str | Path) -> list[Path]:
        """Write the extended tables as :meth:`World.save` does and the new weeks' truth as ``truth.json``.

        ``contracts.load_dataset(directory)`` reads the tables back; ``truth.json`` holds ``kind: "realization"``,
        ``meta``, and the ``contributions`` and ``revenue`` tables as records. Same realization → same bytes.
        """
        directory = Path(directory)
        written = write_tables(self.data, directory)
        truth_path = directory / "truth.json"
        truth_path.write_text(self.to_json())
        return [*written, truth_path]


def realize(
    world: World,
    spend: pd.DataFrame,
    weeks: int = PERIOD_WEEKS,
    *,
    seed: int,
    shift: Mapping[str, float] | None = None,
    period_weeks: int = PERIOD_WEEKS,
) -> Realization:
    """Continue ``world`` by ``weeks`` new weeks with the given spend, and return what happened and why.

    Parameters
    ----------
    world : simulator.World
        A world from :func:`simulator.simulate_world`.
    spend : pandas.DataFrame
        Either a **plan**, ``region, channel, spend_period`` (other columns ignored, e.g. a planner's
        ``allocation.csv``): spend over ``period_weeks`` weeks, spread evenly (weekly = spend_period /
        period_weeks); or **weekly spend**, ``week, region, channel, spend``, one row per new week and cell. Each
        cell of the world must appear exactly once (plan) or once per new week. Weekly spend is rounded to cents,
        as the world's own; the truth is computed from the rounded spend.
    weeks : int
        Number of new weeks (>= 1).
    seed : int
        Seed of the new weeks' revenue noise and random promotion weeks (>= 0).
    shift : mapping, optional
        ``{"Europe/meta_ads": 0.5}``: multiply that cell's true beta by the factor in the new weeks only.
    period_weeks : int
        The period a plan's ``spend_period`` covers (13 = a quarter).

    Returns
    -------
    Realization
        The extended tables (validated) and the true contributions, baseline and revenue of the new weeks.

    Raises
    ------
    ValueError
        Bad ``weeks``, ``seed`` or ``period_weeks``; a spend table with unknown, missing or duplicated cells or
        weeks, or negative or missing spend (a :class:`contracts.ContractError`, naming table, column and rows);
        a shift with an unknown cell or a factor that is not finite and > 0.

    Examples
    --------
    >>> from simulator import simulate_world
    >>> world = simulate_world(seed=3, weeks=30, n_users=500)
    >>> plan = world.truth.average_period_spend(13)
    >>> real = world.realize(plan, weeks=13, seed=1)
    >>> len(real.weeks), real.weeks[0] - world.truth.baseline["week"].max()
    (13, Timedelta('7 days 00:00:00'))
    >>> len(real.data.kpi) == len(world.kpi) + 13 * 4
    True
    """
    _check_int("weeks", weeks, 1)
    _check_int("seed", seed, 0)
    _check_int("period_weeks", period_weeks, 1)
    cells = world.truth.cells
    regions = list(dict.fromkeys(cells["region"]))
    channels = list(dict.fromkeys(cells["channel"]))
    history = world.truth.baseline["week"].unique()
    dates = pd.DatetimeIndex(sorted(history))
    new_dates = pd.date_range(dates[-1] + pd.Timedelta(days=7), periods=weeks, freq="7D")
    factors = _check_shift(shift, regions, channels)
    new_spend = _weekly_spend(spend, regions, channels, new_dates, period_weeks)

    promo_rng, noise_rng = (np.random.default_rng(s) for s in np.random.SeedSequence([seed, world.seed]).spawn(2))
    process = _replay_baseline(world, dates, weeks)
    random_promo = np.where(
        promo_rng.uniform(size=(weeks, len(regions))) < RANDOM_PROMO_RATE,
        promo_rng.uniform(0.05, 0.15, (weeks, len(regions))),
        0.0,
    )
    promo = np.round(np.maximum(promo_calendar(new_dates, process.promo_levels), random_promo), 3)
    t = np.arange(len(dates), len(dates) + weeks)
    baseline = process.baseline(t, process.demand[len(dates) :], promo)

    old_spend = _history_spend(world, dates, regions, channels)
    adstock = geometric_adstock(
        np.concatenate([old_spend, new_spend]), _param(cells, "adstock_alpha"), world.config.l_max
    )
    adstock = adstock[len(dates) :]
    beta = _param(cells, "beta_weekly") * factors
    contribution = beta * hill(adstock, _param(cells, "half_saturation_weekly"), _param(cells, "hill_shape"))
    media = contribution.sum(axis=2)
    noise = noise_rng.normal(0.0, world.config.noise_sd, (weeks, len(regions))) * process.level
    revenue = np.round(baseline + media + noise, 2)

    contributions = _long(new_dates, regions, channels, new_spend, "spend")
    contributions["adstock"] = adstock.reshape(-1)
    contributions["effect_factor"] = np.broadcast_to(factors, new_spend.shape).reshape(-1)
    contributions["contribution"] = contribution.reshape(-1)
    by_region = pd.DataFrame({"week": np.repeat(new_dates, len(regions)), "region": np.tile(regions, weeks)})
    truth_revenue = by_region.assign(
        promo_depth=promo.reshape(-1),
        baseline=baseline.reshape(-1),
        media=media.reshape(-1),
        expected_revenue=(baseline + media).reshape(-1),
        noise=(revenue - baseline - media).reshape(-1),  # what rounding to cents leaves is part of the noise
        revenue=revenue.reshape(-1),
    )
    data = _extended_data(world.data, contributions, truth_revenue)
    shift_used = {f"{r}/{c}": float(factors[0, i, j]) for i, r in enumerate(regions) for j, c in enumerate(channels)}
    return Realization(
        data=data,
        weeks=new_dates,
        contributions=contributions,
        revenue=truth_revenue,
        seed=int(seed),
        shift={key: value for key, value in shift_used.items() if value != 1.0},
        world_seed=int(world.seed),
    )


def _replay_baseline(world: World, dates: pd.DatetimeIndex, horizon: int) -> BaselineProcess:
    """The world's baseline parameters, drawn again from its own demand stream, seasonality ``horizon`` weeks on."""
    stream = np.random.SeedSequence(world.seed).spawn(len(_STREAMS))[_STREAMS.index("demand")]
    return draw_baseline(world.config, dates, np.random.default_rng(stream), horizon=horizon)


def _param(cells: pd.DataFrame, column: str) -> np.ndarray:
    """A cell parameter as ``(regions, channels)`` in the truth's cell order."""
    regions = list(dict.fromkeys(cells["region"]))
    channels = list(dict.fromkeys(cells["channel"]))
    return cells.pivot(index="region", columns="channel", values=column).loc[regions, channels].to_numpy(float)


def _history_spend(world: World, dates: pd.DatetimeIndex, regions: list[str], channels: list[str]) -> np.ndarray:
    """The world's weekly spend as ``(weeks, regions, channels)``."""
    table = world.spend.assign(region=world.spend["region"].astype(str), channel=world.spend["channel"].astype(str))
    index = pd.MultiIndex.from_product([dates, regions, channels], names=["week", *_CELL])
    values = table.set_index(["week", *_CELL])["spend"].reindex(index).to_numpy(float)
    return values.reshape(len(dates), len(regions), len(channels))


def _extended_data(data: Dataset, contributions: pd.DataFrame, revenue: pd.DataFrame) -> Dataset:
    """The world's tables with the new weeks appended to spend, kpi and controls; validated as a new Dataset."""
    tables = data.tables()
    new_rows = {
        "spend": contributions[["week", *_CELL, "spend"]],
        "kpi": revenue[["week", "region", "revenue"]],
        "controls": revenue[["week", "region", "promo_depth"]],
    }
    for name, rows in new_rows.items():
        if name in tables:
            old = tables[name]
            rows = rows.astype({c: old[c].dtype for c in rows.columns})
            tables[name] = pd.concat([old, rows], ignore_index=True)
    return Dataset(**tables)


def _weekly_spend(
    table: pd.DataFrame, regions: list[str], channels: list[str], new_dates: pd.DatetimeIndex, period_weeks: int
) -> np.ndarray:
    """Check ``table`` (a plan or weekly spend) and return weekly spend ``(weeks, regions, channels)`` in cents."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"spend must be a pandas DataFrame (a plan or weekly spend); got {type(table).__name__}")
    if "spend_period" in table.columns:
        name, amount, keys = "plan", "spend_period", _CELL
    elif {"week", "spend"} <= set(table.columns):
        name, amount, keys = "spend", "spend", ["week", *_CELL]
    else:
        raise ContractError(
            [
                Problem(
                    "spend",
                    None,
                    f"neither a plan nor weekly spend; columns {list(table.columns)}",
                    "a plan (region, channel, spend_period) or weekly spend (week, region, channel, spend)",
                )
            ]
        )
    missing = [c for c in [*keys, amount] if c not in table.columns]
    if missing:
        raise ContractError([Problem(name, None, f"missing columns {missing}", f"columns {[*keys, amount]}")])
    frame = table[[*keys, amount]].reset_index(drop=True)
    frame = frame.assign(region=frame["region"].astype(object), channel=frame["channel"].astype(object))
    if name == "spend":
        frame["week"] = _weeks_column(frame)
    problems = _amount_problems(frame, name, amount, keys)
    expected = pd.MultiIndex.from_product(
        [new_dates, regions, channels] if name == "spend" else [regions, channels], names=keys
    )
    problems += _key_problems(frame, name, keys, expected, new_dates if name == "spend" else None)
    if problems:
        raise ContractError(problems)
    weekly = frame.set_index(keys)[amount].reindex(expected).to_numpy(float)
    if name == "plan":
        weekly = np.tile(weekly / period_weeks, len(new_dates))
    return np.round(weekly, 2).reshape(len(new_dates), len(regions), len(channels))


def _weeks_column(frame: pd.DataFrame) -> pd.Series:
    try:
        return pd.to_datetime(frame["week"])
    except (ValueError, TypeError) as exc:
        raise ContractError(
            [Problem("spend", "week", f"not readable as dates ({exc})", "dates of the new weeks (YYYY-MM-DD)")]
        ) from exc


def _amount_problems(frame: pd.DataFrame, name: str, amount: str, keys: list[str]) -> list[Problem]:
    values = pd.to_numeric(frame[amount], errors="coerce").to_numpy(float)
    problems = []
    for bad, what, allowed in (
        (~np.isfinite(values), "missing, not numeric or infinite", "finite numbers"),
        (np.isfinite(values) & (values < 0), "negative", ">= 0"),
    ):
        if bad.any():
            rows = np.flatnonzero(bad)
            examples = describe_rows(frame, rows, [*keys, amount])
            problems.append(Problem(name, amount, f"{bad.sum()} rows are {what}", allowed, examples, int(bad.sum())))
    return problems


def _key_problems(
    frame: pd.DataFrame, name: str, keys: list[str], expected: pd.MultiIndex, new_dates: pd.DatetimeIndex | None
) -> list[Problem]:
    """Rows outside the world's cells (or new weeks), cells missing, and duplicated rows."""
    problems = []
    key = pd.MultiIndex.from_frame(frame[keys])
    unknown = ~key.isin(expected)
    if unknown.any():
        rows = np.flatnonzero(unknown)
        allowed = "the world's cells (region, channel)"
        what = "cell" if new_dates is None else "new week and cell"
        if new_dates is not None:
            allowed += f" and its new weeks {new_dates[0].date()} .. {new_dates[-1].date()} (Mondays, 7 days apart)"
        problems.append(
            Problem(
                name, ", ".join(keys), f"{unknown.sum()} rows name no {what} of the world", allowed,
                describe_rows(frame, rows, keys), int(unknown.sum()),
            )
        )  # fmt: skip
    duplicated = key.duplicated(keep="first")
    if duplicated.any():
        rows = np.flatnonzero(duplicated)
        per = "once per new week" if new_dates is not None else "once"
        problems.append(
            Problem(
                name, ", ".join(keys), f"{duplicated.sum()} rows repeat a cell", f"each cell {per}",
                describe_rows(frame, rows, keys), int(duplicated.sum()),
            )
        )  # fmt: skip
    absent = expected[~expected.isin(key)]
    if len(absent):
        examples = tuple(", ".join(_text(v) for v in item) for item in absent[:5])
        problems.append(
            Problem(
                name, ", ".join(keys), f"{len(absent)} cells have no row", "every cell of the world",
                examples, len(absent),
            )
        )  # fmt: skip
    return problems


def _text(value: Any) -> str:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else str(value)


def _check_shift(shift: Mapping[str, float] | None, regions: list[str], channels: list[str]) -> np.ndarray:
    """Beta factor per cell ``(1, regions, channels)`` from ``{"region/channel": factor}``."""
    factors = np.ones((1, len(regions), len(channels)))
    if shift is None:
        return factors
    if not isinstance(shift, Mapping):
        raise TypeError(f"shift must be a mapping 'region/channel' -> factor; got {type(shift).__name__}")
    for key, value in shift.items():
        region, _, channel = str(key).rpartition("/")
        if region not in regions or channel not in channels:
            raise ValueError(
                f"shift: unknown cell {key!r}; allowed: 'region/channel' with region in {regions} "
                f"and channel in {channels}"
            )
        try:
            factor = float(value)
        except (TypeError, ValueError):
            factor = float("nan")
        if isinstance(value, bool) or not np.isfinite(factor) or factor <= 0:
            raise ValueError(f"shift[{key!r}] must be a finite number > 0; got {value!r}")
        factors[0, regions.index(region), channels.index(channel)] = factor
    return factors


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
