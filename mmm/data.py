"""From contract tables to the arrays the model works on (validated once, at the boundary)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from contracts import ContractError, Dataset, DataWarning
from contracts.errors import MAX_ROWS_SHOWN, Problem
from mmm.spec import WEEKS_PER_YEAR


@dataclass(frozen=True)
class ModelData:
    """Arrays of one fitted panel; cells are the (region, channel) pairs with spend.

    Attributes
    ----------
    weeks : pandas.DatetimeIndex
        The weeks (T).
    regions, channels : tuple of str
        Region and channel labels.
    cells : pandas.DataFrame
        ``region``, ``channel``, ``objective`` (``None`` when no channel catalog was given), one row per cell (C).
    cell_region, cell_channel : numpy.ndarray
        Integer index of each cell's region and channel.
    spend : numpy.ndarray
        Weekly spend (T, C) in currency.
    spend_scale : numpy.ndarray
        Mean spend of each cell over its active weeks (C,).
    revenue : numpy.ndarray
        Weekly revenue (T, R) in currency.
    revenue_scale : numpy.ndarray
        Mean weekly revenue per region (R,).
    controls : numpy.ndarray
        Controls (T, R, n_controls) divided by their maximum absolute value.
    control_names : tuple of str
        Control columns.
    lift_tests : pandas.DataFrame
        The lift tests with ``cell`` (index) and ``region_index`` added.
    lift_window : numpy.ndarray
        (n_tests, T) boolean: weeks overlapping each test's [start, end].
    lift_counterfactual : numpy.ndarray
        (T, n_tests) spend of the tested cell had the test not been run: the observed spend minus ``spend_delta``,
        spread over the window in proportion to observed spend (or evenly when the cell went dark).
    """

    weeks: pd.DatetimeIndex
    regions: tuple[str, ...]
    channels: tuple[str, ...]
    cells: pd.DataFrame
    cell_region: np.ndarray
    cell_channel: np.ndarray
    spend: np.ndarray
    spend_scale: np.ndarray
    revenue: np.ndarray
    revenue_scale: np.ndarray
    controls: np.ndarray
    control_names: tuple[str, ...]
    lift_tests: pd.DataFrame
    lift_window: np.ndarray
    lift_counterfactual: np.ndarray

    @property
    def n_weeks(self) -> int:
        """Number of weeks."""
        return len(self.weeks)

    def fourier(self, order: int) -> np.ndarray:
        """Yearly Fourier terms (T, 2*order): sin and cos of each harmonic."""
        t = np.arange(self.n_weeks)[:, None]
        k = np.arange(1, order + 1)[None, :]
        angle = 2 * np.pi * k * t / WEEKS_PER_YEAR
        return np.concatenate([np.sin(angle), np.cos(angle)], axis=1)

    def cell_label(self, i: int) -> str:
        """``region/channel`` of cell ``i``."""
        return f"{self.cells.at[i, 'region']}/{self.cells.at[i, 'channel']}"


def prepare_data(data: Dataset, *, lift_tests: bool = True) -> ModelData:
    """Build :class:`ModelData` from a :class:`contracts.Dataset` (validated when it was made; not again here).

    Uses the dataset's ``spend`` and ``kpi`` (required), ``channels`` and ``controls`` (when present) and, with
    ``lift_tests=True``, its ``lift_tests``. Cells with no spend at all are left out with a
    :class:`contracts.DataWarning` naming them.

    Raises
    ------
    TypeError
        ``data`` is not a :class:`contracts.Dataset`.
    ValueError
        The dataset lacks spend or KPI.
    contracts.ContractError
        A region's revenue is missing in some weeks or zero in all; a lift test is on a cell with no spend, its
        window overlaps no week, or its ``spend_delta`` cannot be explained by the observed spend (the spend without
        the test would be negative or over 100× the cell's largest weekly spend). The message names the test.
    """
    if not isinstance(data, Dataset):
        raise TypeError(
            f"data must be a contracts.Dataset; got {type(data).__name__}. Wrap plain tables as "
            "contracts.Dataset(spend=spend, kpi=kpi, channels=channels, ...) or load a folder with "
            "contracts.load_dataset(folder); a simulated world has it as world.data"
        )
    if not isinstance(lift_tests, bool):
        raise TypeError(f"lift_tests must be True or False (use the dataset's lift tests or not); got {lift_tests!r}")
    data.require("spend", "kpi", purpose="the media-mix model")
    spend, kpi, channels, controls = data.spend, data.kpi, data.channels, data.controls
    lift_tests = data.lift_tests if lift_tests else None

    weeks = pd.DatetimeIndex(sorted(kpi["week"].unique()))
    regions = tuple(sorted(kpi["region"].unique()))
    grid = spend.pivot_table(index="week", columns=["region", "channel"], values="spend", aggfunc="sum")
    grid = grid.reindex(weeks)
    n_missing = int(grid.isna().to_numpy().sum())
    if n_missing:
        warnings.warn(
            f"spend: {n_missing} (week, region, channel) values are missing and taken as 0", DataWarning, stacklevel=3
        )
    grid = grid.fillna(0.0)
    totals = grid.sum(axis=0)
    silent = [f"{r}/{c}" for (r, c) in totals.index[totals <= 0]]
    if silent:
        warnings.warn(
            f"spend: {len(silent)} cells have no spend and are left out of the model: {silent[:10]}",
            DataWarning,
            stacklevel=3,
        )
    grid = grid.loc[:, totals > 0]
    cell_keys = list(grid.columns)
    channel_names = tuple(sorted({c for _, c in cell_keys}))
    objective = None
    if channels is not None:
        lookup = dict(zip(channels["channel"], channels["objective"], strict=True))
        objective = [lookup[c] for _, c in cell_keys]
    cells = pd.DataFrame(
        {"region": [r for r, _ in cell_keys], "channel": [c for _, c in cell_keys], "objective": objective}
    )
    values = grid.to_numpy(dtype=float)
    active = np.where(values > 0, values, np.nan)
    revenue = kpi.pivot(index="week", columns="region", values="revenue").reindex(index=weeks, columns=list(regions))
    _check_revenue(revenue)
    control_values, control_names = _controls(controls, weeks, regions)
    cell_region = np.array([regions.index(r) for r in cells["region"]])
    lift, window, counterfactual = _lift_arrays(lift_tests, weeks, cells, values, cell_region)
    return ModelData(
        weeks=weeks,
        regions=regions,
        channels=channel_names,
        cells=cells,
        cell_region=cell_region,
        cell_channel=np.array([channel_names.index(c) for c in cells["channel"]]),
        spend=values,
        spend_scale=np.nanmean(active, axis=0),
        revenue=revenue.to_numpy(dtype=float),
        revenue_scale=revenue.mean(axis=0).to_numpy(dtype=float),
        controls=control_values,
        control_names=control_names,
        lift_tests=lift,
        lift_window=window,
        lift_counterfactual=counterfactual,
    )


def _check_revenue(revenue: pd.DataFrame) -> None:
    """Refuse revenue the model cannot use: PyMC would impute missing weeks silently, and a region whose revenue is
    all zero has no scale (its mean weekly revenue divides every prediction)."""
    problems = []
    missing = revenue.isna()
    if missing.any().any():
        examples = tuple(
            f"region {region!r}: {int(missing[region].sum())} weeks, first {revenue.index[missing[region]][0].date()}"
            for region in revenue.columns[missing.any(axis=0)]
        )
        problems.append(
            Problem(
                "kpi",
                "revenue",
                "weeks have no revenue (the model would impute them silently)",
                "one revenue value per (week, region) of the data window",
                examples,
                len(examples),
            )
        )
    dead = [r for r in revenue.columns if bool((revenue[r].fillna(0.0) == 0).all())]
    if dead:
        examples = tuple(f"region {r!r}: revenue 0 in all {len(revenue)} weeks" for r in dead)
        problems.append(
            Problem(
                "kpi",
                "revenue",
                f"{len(dead)} regions have zero revenue in every week",
                "revenue > 0 in some week of every region; drop the region from spend and KPI",
                examples,
                len(dead),
            )
        )
    if problems:
        raise ContractError(problems)


def _controls(controls, weeks, regions) -> tuple[np.ndarray, tuple[str, ...]]:
    if controls is None:
        return np.zeros((len(weeks), len(regions), 0)), ()
    names = tuple(c for c in controls.columns if c not in ("week", "region"))
    cube = np.stack(
        [
            controls.pivot(index="week", columns="region", values=n)
            .reindex(index=weeks, columns=list(regions))
            .to_numpy(dtype=float)
            for n in names
        ],
        axis=-1,
    )
    scale = np.nanmax(np.abs(cube), axis=(0, 1))
    scale = np.where(scale > 0, scale, 1.0)
    return np.nan_to_num(cube / scale), names


#: A lift test's spend without the test may exceed the cell's largest observed weekly spend by at most this factor.
MAX_COUNTERFACTUAL_RATIO = 100.0


def _describe_test(tests: pd.DataFrame, i: int) -> str:
    row = tests.iloc[i]
    return (
        f"test row {i} ({row['region']}/{row['channel']}, {pd.Timestamp(row['start']).date()}.."
        f"{pd.Timestamp(row['end']).date()}, spend_delta {float(row['spend_delta']):,.6g})"
    )


def _check_lift_delta(tests: pd.DataFrame, i: int, observed: np.ndarray, delta: float, weekly_max: float) -> None:
    """Refuse a spend change the observed spend cannot explain, rather than clamp its counterfactual to 0."""
    where = _describe_test(tests, i)
    if observed.size == 0:
        problem = "the test window overlaps no week of the data window"
        allowed = "start..end within the weeks of the spend and KPI tables"
    else:
        total = float(observed.sum())
        without = total - delta
        weeks = observed.size
        if without < -1e-9 * max(1.0, abs(total)):
            problem = (
                f"spend_delta {delta:,.6g} exceeds the cell's observed spend {total:,.6g} over the test's {weeks} "
                f"weeks, so its spend without the test would be {without:,.6g} (negative)"
            )
            allowed = f"spend_delta <= the observed spend over the test window ({total:,.6g})"
        elif without / weeks > MAX_COUNTERFACTUAL_RATIO * max(weekly_max, 1e-12):
            problem = (
                f"spend_delta {delta:,.6g} implies a spend without the test of {without / weeks:,.6g} a week, more "
                f"than {MAX_COUNTERFACTUAL_RATIO:g}× the cell's largest weekly spend {weekly_max:,.6g}"
            )
            allowed = "a spend change of the order of the cell's spend (check the units and sign of spend_delta)"
        else:
            return
    raise ContractError([Problem("lift_tests", "spend_delta", problem, allowed, (where,), 1)])


def _lift_arrays(lift_tests, weeks, cells, spend, cell_region) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    n_weeks = len(weeks)
    if lift_tests is None or len(lift_tests) == 0:
        empty = pd.DataFrame(
            columns=[
                "region",
                "channel",
                "start",
                "end",
                "spend_delta",
                "revenue_delta",
                "revenue_delta_se",
                "cell",
                "region_index",
            ]
        )
        return empty, np.zeros((0, n_weeks), dtype=bool), np.zeros((n_weeks, 0))
    index = {(r, c): i for i, (r, c) in enumerate(zip(cells["region"], cells["channel"], strict=True))}
    week_start = weeks.to_numpy()
    week_end = (weeks + pd.Timedelta(days=6)).to_numpy()
    tests = lift_tests.reset_index(drop=True).copy()
    absent = [i for i, key in enumerate(zip(tests["region"], tests["channel"], strict=True)) if key not in index]
    if absent:
        raise ContractError(
            [
                Problem(
                    "lift_tests",
                    "channel",
                    f"{len(absent)} tests are on cells with no spend in the data window (left out of the model)",
                    "lift tests on (region, channel) cells with spend > 0 in some week; drop the test or fix spend",
                    tuple(_describe_test(tests, i) for i in absent[:MAX_ROWS_SHOWN]),
                    len(absent),
                )
            ]
        )
    tests["cell"] = [index[(r, c)] for r, c in zip(tests["region"], tests["channel"], strict=True)]
    tests["region_index"] = cell_region[tests["cell"].to_numpy()]
    window = np.stack(
        [
            (week_end >= s.to_datetime64()) & (week_start <= e.to_datetime64())
            for s, e in zip(tests["start"], tests["end"], strict=True)
        ]
    )
    counterfactual = np.zeros((n_weeks, len(tests)))
    for i, (cell, delta) in enumerate(zip(tests["cell"], tests["spend_delta"], strict=True)):
        series = spend[:, cell].copy()
        observed = series[window[i]]
        _check_lift_delta(tests, i, observed, float(delta), float(spend[:, cell].max()))
        total = observed.sum()
        if total > 0 and total - delta >= 0:
            series[window[i]] = observed * (total - delta) / total
        else:
            series[window[i]] = np.maximum(observed - delta / len(observed), 0.0)
        counterfactual[:, i] = series
    return tests, window, counterfactual
