"""Hostile and malformed input to attribution (issue 13): each case gives a clear error or a loud report.

Every test asserts the message: table and column (or parameter), the first offending rows or values, and what
is allowed.
"""

from __future__ import annotations

import importlib
import unicodedata

import numpy as np
import pandas as pd
import pytest

import attribution
from attribution import ContractError, SkippedRowsWarning, bootstrap, build_paths, heuristics, markov, shapley

bootstrap_module = importlib.import_module("attribution.bootstrap")
markov_module = importlib.import_module("attribution.markov")
paths_module = importlib.import_module("attribution.paths")

METHODS = [markov, shapley, heuristics]
WEEK = pd.Timestamp("2025-01-06")


def _spend(regions=("Asia", "Europe"), channel="tv") -> pd.DataFrame:
    return pd.DataFrame({"week": WEEK, "region": list(regions), "channel": channel, "spend": 5.0})


# --- 1. nothing left to attribute ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_every_row_skipped_says_nothing_is_left(method, make_paths):
    paths = make_paths([("a > b", 0, 0), ("c", 0, 0)])
    with pytest.warns(SkippedRowsWarning, match=r"nothing left to attribute: every one of the 2 rows.*skipped"):
        result = method(paths)
    assert len(result.table) == 0 and "channel" in result.table.columns
    assert result.skipped.rows == 2


@pytest.mark.parametrize("method", ["markov", "shapley", "heuristics"])
def test_every_row_skipped_bootstrap(method, make_paths):
    paths = make_paths([("a > b", 0, 0)])
    with pytest.warns(SkippedRowsWarning, match="nothing left to attribute"):
        result = bootstrap(paths, method, n_boot=5)
    low = "first_touch_low" if method == "heuristics" else "conversions_low"
    assert len(result.table) == 0 and low in result.table.columns


def test_every_row_skipped_select_order(make_paths):
    paths = make_paths([("a > b", 0, 0), ("b", 0, 0)])
    with (
        pytest.warns(SkippedRowsWarning),
        pytest.raises(ContractError, match=r"nothing left to evaluate: all 2 rows were skipped.*allowed: at least"),
    ):
        attribution.select_order(paths)


# --- 2. bounded work ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n_boot", [10**9, 100_001, 2.5, "200"])
def test_n_boot_is_bounded(n_boot, make_paths):
    with pytest.raises(ValueError, match=r"n_boot must be an integer >= 2 and <= 100,000.*got"):
        bootstrap(make_paths([("a", 1, 1)]), n_boot=n_boot)


def test_n_boot_times_paths_is_bounded(make_paths, monkeypatch):
    monkeypatch.setattr(bootstrap_module, "MAX_BOOT_WORK", 100)
    paths = make_paths([(f"c{i}", 1, 1) for i in range(30)])
    with pytest.raises(ValueError, match=r"n_boot x paths must be at most 100 .*n_boot=10 x 30 paths = 300.*<= 3"):
        bootstrap(paths, "shapley", n_boot=10)


def test_markov_bootstrap_work_is_bounded(make_paths, monkeypatch):
    monkeypatch.setattr(bootstrap_module, "MAX_BOOT_WORK", 50)
    paths = make_paths([("a > b > c", 1, 1), ("c > a", 1, 2)])
    with pytest.raises(ValueError, match=r"n_boot x chain states x \(channels \+ 1\) must be at most 50"):
        bootstrap(paths, "markov", n_boot=10)


@pytest.mark.parametrize("count", [1e23, 2.0**53 + 2])
def test_huge_counts_are_refused(count, make_paths):
    paths = make_paths([("a", 1, 0), ("b", count, 0, 0.0)])
    with pytest.raises(
        ContractError,
        match=r"paths\.total_conversions: 1 rows are not whole counts or exceed 9007199254740992 \(2\*\*53\)"
        r".*allowed: whole numbers.*row 1 \(total_conversions",
    ):
        bootstrap(paths, "shapley", n_boot=5)


def test_count_of_exactly_2_53_is_accepted(make_paths):
    result = shapley(make_paths([("a", 2**53, 0, 0.0)]))
    assert result.table["conversions"].tolist() == [2.0**53]


@pytest.mark.parametrize("order", [0, 9, 10**6, 2.0])
def test_markov_order_is_bounded(order, make_paths):
    with pytest.raises(ValueError, match=r"order must be an integer from 1 to 4, got"):
        markov(make_paths([("a", 1, 0)]), order=order)


def test_state_space_is_bounded(make_paths, monkeypatch):
    monkeypatch.setattr(markov_module, "MAX_STATE_CHANNEL_CELLS", 10)
    paths = make_paths([("a > b > c > a", 1, 1), ("c > b", 1, 0)])
    with pytest.raises(
        ContractError,
        match=r"paths\.path: an order-2 chain has \d+ states and 3 channels .*channels\*\*order.*allowed: at most 10",
    ):
        markov(paths, order=2)


def test_number_of_channels_is_bounded(make_paths, monkeypatch):
    monkeypatch.setattr(paths_module, "MAX_CHANNELS", 3)
    paths = make_paths([("a > b", 1, 0), ("c > d", 0, 1)])
    with pytest.raises(ContractError, match=r"paths\.path: 4 distinct channel names.*allowed: at most 3 distinct"):
        shapley(paths)


def test_path_length_is_bounded(make_paths, monkeypatch):
    monkeypatch.setattr(paths_module, "MAX_PATH_TOUCHES", 3)
    paths = make_paths([("a > b", 1, 0), ("a > b > a > b", 0, 1)])
    with pytest.raises(ContractError, match=r"paths\.path: 1 paths have more than 3 touches.*row 1 \(path '4 touches'"):
        heuristics(paths)


@pytest.mark.parametrize(
    ("orders", "match"),
    [((), "non-empty sequence"), ("12", "non-empty sequence"), ((1, 1), "not repeat"), ((9,), "from 1 to 4")],
)
def test_select_order_orders(orders, match, make_paths):
    with pytest.raises(ValueError, match=rf"orders? must (be )?.*{match}.*got"):
        attribution.select_order(make_paths([("a > b", 3, 5)]), orders=orders)


@pytest.mark.parametrize("fraction", [0, 1, 1.5, float("nan"), float("inf"), "0.3", True])
def test_select_order_test_fraction(fraction, make_paths):
    with pytest.raises(ValueError, match=r"test_fraction must be a finite number in \(0, 1\) \(the share"):
        attribution.select_order(make_paths([("a > b", 3, 5)]), test_fraction=fraction)


# --- 3. separators ----------------------------------------------------------------------------------------------


def test_arrow_separator_is_refused_with_a_hint(make_paths):
    paths = make_paths([("meta_ads", 1, 0), ("meta_ads -> email_crm", 2, 1)])
    with pytest.raises(
        ContractError,
        match=r"paths\.path: 1 paths have channel names holding '-' \(e\.g\. channel 'meta_ads -' when split on '>'\)"
        r".*sep='->'.*row 1 \(path 'meta_ads -> email_crm'\)",
    ):
        markov(paths)
    # with the right separator the same table is fine
    assert markov(paths, sep="->").table["channel"].tolist() == ["email_crm", "meta_ads"]


@pytest.mark.parametrize(("text", "mark"), [("meta_ads, email_crm", ","), ("a | b", "|"), ("a; b", ";")])
def test_other_separators_are_refused(text, mark, make_paths):
    paths = make_paths([("x", 1, 0), (text, 1, 0)])
    with pytest.raises(ContractError, match=rf"holding '\{mark}'.*sep='\{mark}'.*row 1 \(path '{text}'\)"):
        shapley(paths)


def test_hyphen_inside_a_name_is_fine(make_paths):
    paths = make_paths([("google-search > meta-ads", 1, 0)])
    assert shapley(paths).table["channel"].tolist() == ["google-search", "meta-ads"]


def test_event_channel_holding_the_separator(hand_events):
    events = hand_events.copy()
    events.loc[events["channel"] == "b", "channel"] = "tv > radio"
    with pytest.raises(
        ContractError,
        match=r"events\.channel: 2 touch events have a channel holding the path separator '>'.*"
        r"allowed: channel names without '>'.*user u\d, ts .*'tv > radio'",
    ):
        build_paths(events)


# --- 4. counts and credit rows ----------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["total_conversions", "total_null"])
def test_fractional_counts_are_refused(column, make_paths):
    paths = make_paths([("a", 1, 1), ("b", 2, 3)]).astype({column: "float64"})
    paths.loc[1, column] = 2.5
    with pytest.raises(
        ContractError,
        match=rf"paths\.{column}: 1 rows are not whole counts.*allowed: whole numbers.*e\.g\. 3, not 2\.5"
        rf".*row 1 \({column} 2\.5\)",
    ):
        markov(paths)


def test_duplicated_credit_rows_are_refused():
    credit = pd.DataFrame({"region": ["Asia", "Asia", "Europe"], "channel": "tv", "value": [10.0, 10.0, 20.0]})
    with pytest.raises(
        ContractError,
        match=r"credit\.channel: 2 rows repeat a \(region, channel\) cell.*allowed: one row per \(region, channel\)"
        r".*row 0 \(channel 'region Asia, channel tv'\); row 1",
    ):
        attribution.attributed_roi(credit, _spend(), tracked_share=1.0)


def test_ordered_shapley_positions_are_not_duplicates(make_paths):
    credit = shapley(make_paths([("tv > radio", 2, 0), ("radio > tv", 2, 0)]), ordered=True)
    spend = pd.DataFrame({"week": WEEK, "region": "Asia", "channel": ["tv", "radio"], "spend": 4.0})
    roi = attribution.attributed_roi(credit, spend, tracked_share=1.0)
    # each channel's credit over its two positions is 2 of 4 conversions (value 10 each): 20 / 4 spend
    assert roi.table["roi"].tolist() == [5.0, 5.0]


@pytest.mark.parametrize(
    ("credit_name", "shown"),
    [("asia", r"credit 'asia': did you mean spend's 'Asia'\?"), (" Asia ", r"credit ' Asia ': did you mean")],
)
def test_region_spelled_differently(credit_name, shown):
    credit = pd.DataFrame({"region": [credit_name, "Europe"], "channel": "tv", "value": [10.0, 20.0]})
    with pytest.raises(ContractError, match=rf"credit\.region: 1 region names differ.*{shown}.*row 0 \(region"):
        attribution.attributed_roi(credit, _spend(), tracked_share=1.0)


def test_region_in_nfd_form_names_the_code_points():
    nfc, nfd = unicodedata.normalize("NFC", "Åsia"), unicodedata.normalize("NFD", "Åsia")
    credit = pd.DataFrame({"region": [nfd], "channel": "tv", "value": [10.0]})
    with pytest.raises(ContractError, match=r"Unicode form.*code points 'A\\u030asia'.*code points '\\xc5sia'"):
        attribution.attributed_roi(credit, _spend(regions=(nfc,)), tracked_share=1.0)


# --- 5. numeric arguments -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 1, float("nan"), float("inf"), True, "0.9"])
def test_level(level, make_paths):
    with pytest.raises(ValueError, match=r"level must be between 0 and 1 \(exclusive.*got"):
        bootstrap(make_paths([("a", 1, 1)]), n_boot=5, level=level)


@pytest.mark.parametrize("lookback", [0, -1, float("nan"), float("inf"), 1e9, True])
def test_lookback_days(lookback, hand_events):
    with pytest.raises(ValueError, match=r"lookback_days must be a positive number of at most 3,650 days"):
        build_paths(hand_events, lookback_days=lookback)


@pytest.mark.parametrize("half_life", [0, -2, float("nan"), float("inf"), 1e9, True])
def test_half_life_days(half_life, make_paths):
    paths = make_paths([("a", 1, 1)])
    with pytest.raises(ValueError, match=r"half_life_days must be a finite number in \(0, 3650\]"):
        heuristics(paths, half_life_days=half_life)
    with pytest.raises(ValueError, match=r"half_life_days must be a finite number in \(0, 3650\]"):
        bootstrap(paths, "heuristics", n_boot=5, half_life_days=half_life)


@pytest.mark.parametrize("seed", [1.7, 2.0, -1, "3", np.float64(1.0)])
def test_seed_must_be_an_integer(seed, make_paths):
    paths = make_paths([("a > b", 3, 5)])
    with pytest.raises(ValueError, match=r"seed must be an integer from 0 .*a float is not truncated.*got"):
        bootstrap(paths, "shapley", n_boot=5, seed=seed)
    with pytest.raises(ValueError, match=r"seed must be an integer"):
        attribution.select_order(paths, seed=seed)


def test_integer_seeds_still_work(make_paths):
    paths = make_paths([("a > b", 3, 5)])
    a = bootstrap(paths, "shapley", n_boot=5, seed=np.int64(4)).table
    pd.testing.assert_frame_equal(a, bootstrap(paths, "shapley", n_boot=5, seed=4).table)


@pytest.mark.parametrize("share", [0, -0.5, 1.5, float("nan"), float("inf"), True])
def test_tracked_share(share):
    credit = pd.DataFrame({"region": ["Asia"], "channel": "tv", "value": [10.0]})
    with pytest.raises(ValueError, match=r"tracked_share must be a number in \(0, 1\].*got"):
        attribution.attributed_roi(credit, _spend(regions=("Asia",)), tracked_share=share)


def test_kpi_region_spelled_differently():
    credit = pd.DataFrame({"region": ["Asia"], "channel": "tv", "value": [10.0]})
    kpi = pd.DataFrame({"week": WEEK, "region": ["ASIA"], "revenue": [100.0]})
    with pytest.raises(
        ContractError,
        match=r"kpi\.region: 1 regions of the credit have no KPI rows \(credit 'Asia': did you mean KPI's 'ASIA'\?\)",
    ):
        attribution.attributed_roi(credit, _spend(regions=("Asia",)), kpi=kpi)
