"""build_paths on DuckDB against a hand-made event log (the Spark twin is in test_build_spark.py)."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from attribution import ContractError, DataWarning, Paths, PathsReport, build_paths, markov


def test_hand_made_journeys(hand_events, hand_expected):
    with pytest.warns(DataWarning, match="open_journeys"):
        paths = build_paths(hand_events, lookback_days=30)
    assert isinstance(paths, Paths)
    pd.testing.assert_frame_equal(paths.table, hand_expected)
    assert paths.report == PathsReport(
        journeys=7,
        open_journeys=1,
        open_touches=1,
        conversions_without_touches=2,
        revenue_without_touches=7.0,
        touches_outside_lookback=2,
    )
    assert paths.report.left_out() == {
        "open_journeys": 1,
        "open_touches": 1,
        "conversions_without_touches": 2,
        "revenue_without_touches": 7.0,
        "touches_outside_lookback": 2,
    }
    assert (paths.lookback_days, paths.by, paths.sep) == (30.0, (), " > ")
    assert paths.table.attrs == {}


def test_no_pandas_deprecation_noise(hand_events):
    # Ibis' pandas type mapping read a deprecated pandas option once per column (~35 warnings on the sample);
    # only our own DataWarning may come out. `always` overrides pytest's filters inside the block.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        build_paths(hand_events, by="region", touch_days=True)
    noise = [w for w in caught if issubclass(w.category, FutureWarning | DeprecationWarning)]
    assert noise == [], [f"{w.category.__name__}: {w.message}" for w in noise]
    assert [w.category for w in caught] == [DataWarning]
    assert caught[0].filename == __file__  # attributed to the caller's line, not to our internals


def test_segments_and_touch_days(hand_events):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        paths = build_paths(hand_events, by="region", touch_days=True)
    assert paths.by == ("region",)
    assert paths.table[["region", "path", "touch_days", "total_conversions"]].values.tolist() == [
        ["Asia", "a > b", "2 > 1", 1],
        ["Asia", "c", "0", 1],
        ["Asia", "d", "1", 1],
        ["Europe", "a", "0", 0],
    ]


def test_longer_lookback_keeps_old_touches(hand_events):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        paths = build_paths(hand_events, lookback_days=60)
    # u5's 40-day-old touch now counts; u2 (last touch 50 days before the end) is now open as well
    table = paths.table
    assert dict(zip(table["path"], table["total_conversions"], strict=True)) == {"a > b": 1, "c": 2, "d": 1}
    assert paths.report.touches_outside_lookback == 0
    assert paths.report.open_journeys == 2
    assert paths.report.open_touches == 3


def test_output_feeds_the_models(hand_events):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        paths = build_paths(hand_events, sep=" | ")
    # the result goes in as it is, and the separator it was built with travels along
    credit = markov(paths)
    assert credit.table["conversions"].sum() == pytest.approx(3.0)
    pd.testing.assert_frame_equal(credit.table, markov(paths.table, sep="|").table)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda e: e.drop(columns="user_id"), r"events\.user_id: missing column"),
        (lambda e: e.assign(event_type=e["event_type"].replace("touch", "click")), r"event_type: 8 rows"),
        (lambda e: e.assign(channel=None), r"events\.channel: 8 touch events have no channel"),
        (lambda e: e.assign(revenue=e["revenue"] * -1), r"events\.revenue: 5 conversion events .*negative"),
        (lambda e: e.assign(ts=e["ts"].astype(str)), r"events\.ts: dtype is"),
    ],
)
def test_bad_events(hand_events, change, match):
    with pytest.raises(ContractError, match=match):
        build_paths(change(hand_events))


def test_bad_lookback(hand_events):
    with pytest.raises(ValueError, match="lookback_days must be a positive number"):
        build_paths(hand_events, lookback_days=0)
