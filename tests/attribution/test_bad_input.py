"""Bad input gets a clear error naming the table, column, offending rows and what is allowed."""

from __future__ import annotations

import pandas as pd
import pytest

from attribution import ContractError, SkippedRowsWarning, heuristics, markov, shapley

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


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="paths must be a pandas DataFrame"):
        markov({"path": ["a"]})


def test_skipped_rows_are_counted_and_warned(make_paths):
    paths = make_paths([("a > b", 1, 1), ("b", 0, 0), ("c", 0, 0)])
    with pytest.warns(SkippedRowsWarning, match="skipped 2 row"):
        result = markov(paths)
    assert result.attrs["skipped_rows"] == 2
    # the skipped channel c never appears in a kept path, so it gets no row at all
    assert result["channel"].tolist() == ["a", "b"]


def test_all_rows_skipped_gives_empty_credit(make_paths):
    with pytest.warns(SkippedRowsWarning):
        result = shapley(make_paths([("a", 0, 0)]))
    assert len(result) == 0
    assert result.attrs["skipped_rows"] == 1


def test_empty_table(make_paths):
    empty = make_paths([("a", 1, 0)]).iloc[:0]
    result = heuristics(empty)
    assert len(result) == 0 and "channel" in result.columns
    assert isinstance(result, pd.DataFrame)
