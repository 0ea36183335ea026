"""Bad input gets a clear error naming the table, column, offending rows and what is allowed."""

from __future__ import annotations

import pandas as pd
import pytest

import attribution
from attribution import ContractError, Skipped, SkippedRowsWarning, bootstrap, heuristics, markov, shapley

METHODS = [markov, shapley, heuristics]


@pytest.mark.parametrize("method", METHODS)
def test_missing_column(method, make_paths):
    paths = make_paths([("a", 1, 0)]).drop(columns="total_null")
    with pytest.raises(ContractError, match=r"paths\.total_null: missing column.*allowed: a table with columns"):
        method(paths)


@pytest.mark.parametrize("method", METHODS)
def test_negative_counts_name_the_rows(method, make_paths):
    paths = make_paths([("a", 1, 0), ("b", -2, 1), ("c", 1, 0)])
    with pytest.raises(ContractError, match=r"paths\.total_conversions: 1 rows.*>= 0.*row 1 \(total_conversions -2"):
        method(paths)


def test_value_without_conversions(make_paths):
    paths = make_paths([("a", 0, 3, 12.5)])
    with pytest.raises(ContractError, match=r"total_conversion_value: 1 rows have value but no conversions"):
        markov(paths)


@pytest.mark.parametrize("path", ["a >> b", "a > ", " ", ""])
def test_empty_channel_name(path, make_paths):
    paths = make_paths([("x", 1, 0), (path, 1, 0)])
    with pytest.raises(ContractError, match=r"paths\.path: 1 paths have an empty channel name.*row 1"):
        markov(paths)


def test_null_path_and_text_counts(make_paths):
    paths = make_paths([("x", 1, 0), (None, 1, 0)])
    with pytest.raises(ContractError, match=r"paths\.path: 1 rows are null.*row 1"):
        shapley(paths)
    paths = make_paths([("x", 1, 0)]).astype({"total_null": str})
    with pytest.raises(ContractError, match=r"paths\.total_null: dtype is"):
        shapley(paths)


def test_missing_segment_column(make_paths):
    with pytest.raises(ContractError, match=r"paths\.region: missing column"):
        markov(make_paths([("x", 1, 0)]), by="region")


@pytest.mark.parametrize("order", [0, 5, 1.5, True, "2"])
def test_bad_order(order, make_paths):
    with pytest.raises(ValueError, match="order must be an integer from 1 to 4"):
        markov(make_paths([("x", 1, 0)]), order=order)


@pytest.mark.parametrize("method", [*METHODS, bootstrap, attribution.select_order, attribution.parse_paths])
def test_not_a_dataframe(method):
    with pytest.raises(TypeError, match=r"paths must be a pandas DataFrame or an attribution\.Paths"):
        method({"path": ["a"]})


@pytest.mark.parametrize("method", METHODS)
def test_skipped_rows_are_counted_with_the_reason_and_warned_once(method, make_paths):
    paths = make_paths([("a > b", 1, 1), ("b", 0, 0), ("c", 0, 0), ("a", 2, 0)]).assign(
        region=["Asia", "Asia", "Europe", "Europe"]
    )
    with pytest.warns(SkippedRowsWarning, match="skipped 2 row") as record:
        result = method(paths, by="region")
    assert len(record) == 1  # one warning per call, not one per segment
    assert result.skipped == Skipped("paths", {"no_conversions_and_no_nulls": 2})
    assert result.skipped.rows == 2
    # the skipped channel c never appears in a kept path, so it gets no row at all
    assert result.table[["region", "channel"]].values.tolist() == [["Asia", "a"], ["Asia", "b"], ["Europe", "a"]]
    assert result.table.attrs == {}


def test_nothing_skipped_is_an_empty_report(make_paths):
    result = markov(make_paths([("a", 1, 0)]))
    assert result.skipped == Skipped("paths", {})
    assert not result.skipped and result.skipped.rows == 0


def test_all_rows_skipped_gives_empty_credit(make_paths):
    with pytest.warns(SkippedRowsWarning):
        result = shapley(make_paths([("a", 0, 0)]))
    assert len(result.table) == 0
    assert result.skipped.rows == 1


def test_skipped_rows_are_reported_by_every_entry_point(make_paths):
    paths = make_paths([("a > b", 40, 40), ("b > b", 0, 40), ("c", 0, 0)])
    with pytest.warns(SkippedRowsWarning):
        assert bootstrap(paths, "shapley", n_boot=5).skipped.rows == 1
    with pytest.warns(SkippedRowsWarning):
        assert attribution.select_order(paths, orders=(1,)).skipped.rows == 1
    with pytest.warns(SkippedRowsWarning):
        assert attribution.parse_paths(paths).skipped.rows == 1


def test_empty_table(make_paths):
    empty = make_paths([("a", 1, 0)]).iloc[:0]
    result = heuristics(empty)
    assert len(result.table) == 0 and "channel" in result.table.columns
    assert isinstance(result.table, pd.DataFrame)
    assert not result.skipped
