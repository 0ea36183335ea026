"""Heuristic rules against hand counts."""

from __future__ import annotations

import pytest

from attribution import ContractError, Credit, heuristics


def as_dict(result: Credit, column: str) -> dict[str, float]:
    table = result.table
    return {c: x for c, x in zip(table["channel"], table[column], strict=True) if x != 0}


@pytest.fixture
def table(make_paths):
    # 10 conversions on a > b > c > a, 4 on b > a, 1 on c, and a non-converting d
    return make_paths([("a > b > c > a", 10, 1), ("b > a", 4, 2), ("c", 1, 0), ("d", 0, 5)])


def test_first_and_last_touch(table):
    result = heuristics(table)
    assert as_dict(result, "first_touch") == pytest.approx({"a": 10, "b": 4, "c": 1})
    assert as_dict(result, "last_touch") == pytest.approx({"a": 14, "c": 1})
    assert as_dict(result, "last_touch_value") == pytest.approx({"a": 140, "c": 10})


def test_linear_counts_every_touch(table):
    # a gets 2/4 of 10 and 1/2 of 4; b 1/4 of 10 and 1/2 of 4; c 1/4 of 10 and all of 1
    assert as_dict(heuristics(table), "linear") == pytest.approx({"a": 7.0, "b": 4.5, "c": 3.5})


def test_position_based_40_20_40(table):
    # a: 0.4*10 + 0.4*10 + 0.5*4; b: 0.1*10 + 0.5*4; c: 0.1*10 + 1
    assert as_dict(heuristics(table), "position_based") == pytest.approx({"a": 10.0, "b": 3.0, "c": 2.0})


def test_every_rule_sums_to_total(table):
    result = heuristics(table).table
    for rule in ("first_touch", "last_touch", "linear", "position_based"):
        assert result[rule].sum() == pytest.approx(15)
        assert result[f"{rule}_value"].sum() == pytest.approx(150)
    assert "time_decay" not in result.columns


def test_time_decay_with_touch_days(make_paths):
    paths = make_paths([("a > b", 3, 0)]).assign(touch_days=["7 > 0"])
    result = heuristics(paths, half_life_days=7)
    # weights 1/2 and 1 -> shares 1/3 and 2/3
    assert as_dict(result, "time_decay") == pytest.approx({"a": 1.0, "b": 2.0})


def test_touch_days_must_match_path(make_paths):
    paths = make_paths([("a > b", 3, 0), ("a", 1, 0)]).assign(touch_days=["7 > 0", "1 > 0"])
    with pytest.raises(ContractError, match=r"paths.touch_days: 1 rows .*one entry per touch.*row 1 "):
        heuristics(paths)
