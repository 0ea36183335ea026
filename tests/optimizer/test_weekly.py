"""Week-by-cell plans: every cell, week and month sum is exact in whole units; profiles pick the right weeks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.weekly import weekly_plan

COLUMNS = ["week", "month", "region", "channel", "objective", "spend_weekly"]


def _cells(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": [f"region_{i % 2}" for i in range(n)],
            "channel": [f"channel_{i}" for i in range(n)],
            "objective": ["acquisition" if i % 2 else "retention" for i in range(n)],
        }
    )


def _units(frame: pd.DataFrame, unit: float) -> pd.Series:
    counts = np.round(frame["spend_weekly"] / unit)
    assert np.allclose(frame["spend_weekly"], counts * unit, rtol=1e-12, atol=1e-9)
    assert (counts >= 0).all()
    return counts.astype(np.int64)


def _cell_sums(frame: pd.DataFrame, unit: float, n: int) -> np.ndarray:
    return _units(frame, unit).to_numpy().reshape(-1, n).sum(axis=0)


@st.composite
def plans(draw, with_months: bool):
    """Cells, a start, weeks, a weight profile (some zeros) and integer cell amounts (and month budgets) that fit."""
    n = draw(st.integers(1, 4))
    weeks = draw(st.integers(1, 14))
    start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=draw(st.integers(0, 800)))
    unit = draw(st.sampled_from([1.0, 0.01, 5.0]))
    week_starts = pd.date_range(start, periods=weeks, freq="7D")
    kind = draw(st.sampled_from(["flat", "per_week", "per_cell"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weights = rng.integers(0, 4, size=(weeks, n)).astype(float) if kind != "flat" else np.ones((weeks, n))
    weights[rng.integers(0, weeks, size=n), np.arange(n)] += 1.0  # every cell has some weight
    if kind == "per_week":  # one weight per week for every cell (column 0 has some weight, so every cell does)
        weights[:] = weights[:, :1]
    cells = _cells(n)
    if kind == "flat":
        profile = "flat"
    elif kind == "per_week":
        profile = pd.DataFrame({"week": week_starts, "weight": weights[:, 0]})
    else:
        profile = pd.DataFrame(
            {
                "week": np.repeat(week_starts, n),
                "region": np.tile(cells["region"], weeks),
                "channel": np.tile(cells["channel"], weeks),
                "weight": weights.reshape(-1),
            }
        )
    months = np.asarray(week_starts.strftime("%Y-%m"))
    names = list(dict.fromkeys(months))
    if with_months:  # a month×cell matrix that lives where the profile has weight, so the budgets can be met
        support = np.array([(weights[months == m] > 0).any(axis=0) for m in names])
        matrix = rng.integers(0, 10**6, size=support.shape) * support
        amounts = matrix.sum(axis=0)
        budgets = dict(zip(names, (matrix.sum(axis=1) * unit).tolist(), strict=True))
    else:
        amounts, budgets = rng.integers(0, 10**7, size=n), None
    return cells, amounts * unit, start, weeks, profile, budgets, unit


@settings(max_examples=60, deadline=None)
@given(plan=plans(with_months=False))
def test_weekly_amounts_add_up_to_each_cell_exactly(plan):
    cells, amounts, start, weeks, profile, _, unit = plan
    frame = weekly_plan(cells, amounts, start, weeks, profile, unit=unit)
    assert list(frame.columns) == COLUMNS
    assert len(frame) == weeks * len(cells)
    assert frame["week"].is_monotonic_increasing
    assert (_cell_sums(frame, unit, len(cells)) == np.round(amounts / unit).astype(np.int64)).all()
    assert frame.attrs["unit"] == unit


@settings(max_examples=60, deadline=None)
@given(plan=plans(with_months=True))
def test_month_budgets_and_cell_amounts_both_add_up_exactly(plan):
    cells, amounts, start, weeks, profile, budgets, unit = plan
    frame = weekly_plan(cells, amounts, start, weeks, profile, month_budgets=budgets, unit=unit)
    counts = _units(frame, unit)
    assert (_cell_sums(frame, unit, len(cells)) == np.round(amounts / unit).astype(np.int64)).all()
    by_month = counts.groupby(frame["month"]).sum()
    assert by_month.to_dict() == {m: round(b / unit) for m, b in budgets.items()}
    if isinstance(profile, pd.DataFrame):  # never spend in a week the profile gives no weight
        merged = frame.merge(profile, on=[c for c in ("week", "region", "channel") if c in profile.columns])
        assert (merged.loc[merged["weight"] == 0, "spend_weekly"] == 0).all()


def test_flat_split_of_100_over_3_weeks_is_34_33_33():
    frame = weekly_plan(_cells(1), np.array([100.0]), "2025-01-06", 3)
    assert sorted(frame["spend_weekly"]) == [33.0, 33.0, 34.0]
    assert frame["spend_weekly"].sum() == 100.0
    assert list(frame["week"]) == list(pd.date_range("2025-01-06", periods=3, freq="7D"))


def test_cents_are_never_lost():
    frame = weekly_plan(_cells(2), np.array([0.10, 1000.01]), "2025-01-06", 3, unit=0.01)
    assert sorted(frame["spend_weekly"][::2]) == [0.03, 0.03, 0.04]
    assert round(frame["spend_weekly"][1::2].sum(), 2) == 1000.01


def _history(weeks: pd.DatetimeIndex, spend: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    rows = [
        {"week": w, "region": r, "channel": c, "spend": s}
        for (r, c), values in spend.items()
        for w, s in zip(weeks, values, strict=True)
    ]
    return pd.DataFrame(rows)


def test_last_year_profile_uses_the_weeks_52_weeks_earlier():
    cells = _cells(2)
    start = pd.Timestamp("2025-03-03")
    last_year = pd.date_range(start - pd.Timedelta(days=364), periods=4, freq="7D")
    decoys = pd.date_range(start - pd.Timedelta(days=364 + 28), periods=4, freq="7D")  # the 4 weeks before
    history = pd.concat(
        [
            _history(last_year, {("region_0", "channel_0"): [1, 2, 3, 4], ("region_1", "channel_1"): [0, 0, 5, 5]}),
            _history(decoys, {("region_0", "channel_0"): [100] * 4, ("region_1", "channel_1"): [100] * 4}),
        ]
    )
    frame = weekly_plan(cells, np.array([1000.0, 60.0]), start, 4, "last_year", history=history)
    assert frame["spend_weekly"][::2].tolist() == [100.0, 200.0, 300.0, 400.0]
    assert frame["spend_weekly"][1::2].tolist() == [0.0, 0.0, 30.0, 30.0]


def test_last_year_cell_with_no_spend_falls_back_to_flat_with_a_warning():
    cells = _cells(2)
    start = pd.Timestamp("2025-03-03")
    last_year = pd.date_range(start - pd.Timedelta(days=364), periods=2, freq="7D")
    history = _history(last_year, {("region_0", "channel_0"): [1, 3]})
    with pytest.warns(UserWarning, match="region_1/channel_1/acquisition"):
        frame = weekly_plan(cells, np.array([100.0, 10.0]), start, 2, "last_year", history=history)
    assert frame["spend_weekly"].tolist() == [25.0, 5.0, 75.0, 5.0]


def test_missing_history_weeks_are_named():
    start = pd.Timestamp("2025-03-03")
    history = _history(pd.DatetimeIndex([start - pd.Timedelta(days=364)]), {("region_0", "channel_0"): [1]})
    with pytest.raises(ValueError, match="1 weeks have no rows: 2024-03-11"):
        weekly_plan(_cells(1), np.array([100.0]), start, 2, "last_year", history=history)
    with pytest.raises(ValueError, match="needs history"):
        weekly_plan(_cells(1), np.array([100.0]), start, 2, "last_year")


def test_month_budgets_split_a_week_by_its_first_day():
    # weeks start Jan 27, Feb 3, Feb 10: the Jan 27 week (running into February) belongs to January
    frame = weekly_plan(
        _cells(2), np.array([90.0, 30.0]), "2025-01-27", 3, month_budgets={"2025-01": 20, "2025-02": 100}
    )
    assert frame["month"].tolist() == ["2025-01"] * 2 + ["2025-02"] * 4
    assert frame.groupby("month")["spend_weekly"].sum().to_dict() == {"2025-01": 20.0, "2025-02": 100.0}
    assert frame.groupby("channel")["spend_weekly"].sum().to_dict() == {"channel_0": 90.0, "channel_1": 30.0}
    # January gets 1/6 of the plan; each cell keeps its 3 : 1 ratio there (15 : 5)
    assert frame["spend_weekly"][:2].tolist() == [15.0, 5.0]


def test_month_budgets_accept_a_series():
    budgets = pd.Series({"2025-01": 20.0, "2025-02": 100.0})
    frame = weekly_plan(_cells(2), np.array([90.0, 30.0]), "2025-01-27", 3, month_budgets=budgets)
    assert frame["spend_weekly"].sum() == 120.0


@pytest.mark.parametrize(
    ("budgets", "message"),
    [
        ({"2025-01": 20, "2025-02": 99}, r"sum to the plan total 120; they sum to 119 \(difference -1\)"),
        ({"2025-02": 120}, r"missing \['2025-01'\]"),
        ({"2025-01": 20, "2025-02": 90, "2025-03": 10}, r"not in the plan \['2025-03'\]"),
        ({"2025-01": 20.5, "2025-02": 99.5}, "month_budgets must be multiples of unit=1"),
    ],
)
def test_month_budget_errors(budgets, message):
    with pytest.raises(ValueError, match=message):
        weekly_plan(_cells(2), np.array([90.0, 30.0]), "2025-01-27", 3, month_budgets=budgets)


def test_month_budgets_the_profile_cannot_meet_are_refused():
    weeks = pd.date_range("2025-01-27", periods=3, freq="7D")
    cells = _cells(2)
    # cell 0 spends only in January's week, cell 1 only in February's: January must get exactly cell 0's amount
    profile = pd.DataFrame(
        {
            "week": np.repeat(weeks, 2),
            "region": np.tile(cells["region"], 3),
            "channel": np.tile(cells["channel"], 3),
            "weight": [1, 0, 0, 1, 0, 1],
        }
    )
    with pytest.raises(ValueError, match="cannot be met"):
        weekly_plan(cells, np.array([90.0, 30.0]), weeks[0], 3, profile, month_budgets={"2025-01": 30, "2025-02": 90})
    zero_january = pd.DataFrame({"week": weeks, "weight": [0, 1, 1]})
    with pytest.raises(ValueError, match="2025-01 30 units but the profile puts no weight"):
        weekly_plan(
            cells, np.array([90.0, 30.0]), weeks[0], 3, zero_january, month_budgets={"2025-01": 30, "2025-02": 90}
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"amounts": np.array([100.5, 1.0])}, "amounts must be multiples of unit=1.*round_plan"),
        ({"amounts": np.array([100.0])}, r"one value per cell \(2\)"),
        ({"amounts": np.array([-1.0, 1.0])}, "finite and >= 0"),
        ({"weeks": 0}, "weeks must be an integer from 1 to 520"),
        ({"weeks": 521}, "got 521"),
        ({"start": "not a date"}, "start must be a date"),
        ({"unit": 0.0}, "unit must be"),
        ({"profile": "seasonal"}, "profile must be 'flat', 'last_year' or a DataFrame"),
        ({"profile": pd.DataFrame({"week": ["2025-01-06"], "weight": [1.0]})}, "no weight for 1 planned"),
        ({"profile": pd.DataFrame({"week": ["2025-01-06", "2025-01-13"], "weight": [0.0, 0.0]})}, "sum to 0"),
        ({"profile": pd.DataFrame({"week": ["2025-01-06", "2025-01-13"], "weight": [-1.0, 2.0]})}, ">= 0"),
        ({"profile": pd.DataFrame({"week": ["2025-01-06"], "share": [1.0]})}, "columns week, weight"),
        ({"cells": pd.DataFrame({"region": ["a", "b"]})}, r"missing columns \['channel', 'objective'\]"),
    ],
)
def test_clear_errors(kwargs, message):
    args = {"cells": _cells(2), "amounts": np.array([100.0, 50.0]), "start": "2025-01-06", "weeks": 2}
    args.update(kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=message):
            weekly_plan(**args)


def test_month_budgets_met_only_at_the_edge_of_the_profile_still_add_up():
    # January's budget equals cell 0's amount, so cell 1 must spend nothing in January although the profile gives it
    # weight there: iterative fitting only creeps towards that, and the exact fit takes over
    weeks = pd.date_range("2025-01-27", periods=3, freq="7D")
    cells = _cells(2)
    profile = pd.DataFrame(
        {
            "week": np.repeat(weeks, 2),
            "region": np.tile(cells["region"], 3),
            "channel": np.tile(cells["channel"], 3),
            "weight": [1, 1, 0, 1, 0, 1],
        }
    )
    frame = weekly_plan(
        cells, np.array([30.0, 90.0]), weeks[0], 3, profile, month_budgets={"2025-01": 30, "2025-02": 90}
    )
    assert frame["spend_weekly"].tolist() == [30.0, 0.0, 0.0, 45.0, 0.0, 45.0]


def test_ten_years_of_weeks_for_48_cells_with_month_budgets():
    n, weeks = 48, 520
    amounts = np.arange(1, n + 1) * 10_000.0
    months = pd.date_range("2025-01-06", periods=weeks, freq="7D").strftime("%Y-%m")
    per_month = pd.Series(1.0, index=months).groupby(level=0).sum()
    budgets = (per_month / per_month.sum() * amounts.sum()).round()
    budgets.iloc[-1] += amounts.sum() - budgets.sum()
    frame = weekly_plan(_cells(n), amounts, "2025-01-06", weeks, month_budgets=budgets)
    assert (_cell_sums(frame, 1.0, n) == amounts).all()
    assert (frame.groupby("month")["spend_weekly"].sum() == budgets).all()
