"""Closed-form Shapley values against brute-force enumeration of permutations."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution import shapley


def brute_force_shapley(paths: pd.DataFrame, column: str = "total_conversions") -> dict[str, float]:
    """Average marginal contribution over all orderings; v(S) = conversions of journeys with channels in S."""
    sets = [frozenset(c.strip() for c in p.split(">")) for p in paths["path"]]
    weights = paths[column].to_numpy(dtype=float)
    players = sorted(set().union(*sets))

    def v(coalition: frozenset) -> float:
        return sum(w for s, w in zip(sets, weights, strict=True) if s <= coalition)

    phi = dict.fromkeys(players, 0.0)
    for order in itertools.permutations(players):
        seen: frozenset = frozenset()
        for p in order:
            phi[p] += v(seen | {p}) - v(seen)
            seen = seen | {p}
    return {p: x / math.factorial(len(players)) for p, x in phi.items()}


def as_dict(result, column: str = "conversions") -> dict[str, float]:
    table = getattr(result, "table", result)
    return dict(zip(table["channel"], table[column], strict=True))


def test_small_case_by_hand(make_paths):
    paths = make_paths([("a > b > a", 4, 1, 40.0), ("b", 2, 0, 6.0), ("c > a", 0, 3)])
    result = shapley(paths)
    assert as_dict(result) == pytest.approx({"a": 2.0, "b": 4.0, "c": 0.0})
    assert as_dict(result, "value") == pytest.approx({"a": 20.0, "b": 26.0, "c": 0.0})


def test_matches_brute_force_permutations(random_paths):
    paths = random_paths(60, n_channels=5, max_len=4, seed=11)
    result = shapley(paths)
    assert as_dict(result) == pytest.approx(brute_force_shapley(paths))
    assert as_dict(result, "value") == pytest.approx(brute_force_shapley(paths, "total_conversion_value"))


def test_symmetric_channels_get_equal_credit(make_paths):
    # x and y play identical roles (swap them and the table is the same)
    paths = make_paths([("x > y", 3, 1), ("y > x", 3, 1), ("x > z", 1, 0), ("y > z", 1, 0), ("z", 2, 2)])
    result = as_dict(shapley(paths))
    assert result["x"] == pytest.approx(result["y"])


def test_ordered_splits_by_first_touch_position(make_paths):
    paths = make_paths([("a > b > a", 4, 0), ("b > c", 2, 0)])
    result = shapley(paths, ordered=True).table
    got = {(c, p): x for c, p, x in result[["channel", "position", "conversions"]].itertuples(index=False)}
    assert got == pytest.approx({("a", 1): 2.0, ("b", 2): 2.0, ("b", 1): 1.0, ("c", 2): 1.0})
    totals = result.groupby("channel")["conversions"].sum()
    assert totals.to_dict() == pytest.approx(as_dict(shapley(paths)))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from("abcd"), min_size=1, max_size=6).map(" > ".join),
            st.integers(0, 9),
            st.integers(0, 3),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_property_efficiency_and_brute_force(make_paths, rows):
    paths = make_paths(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = shapley(paths).table
        ordered = shapley(paths, ordered=True).table
    total = paths["total_conversions"].sum()
    assert result["conversions"].sum() == pytest.approx(total)
    assert ordered["conversions"].sum() == pytest.approx(total)
    brute = brute_force_shapley(paths)
    for channel, x in as_dict(result).items():
        assert x == pytest.approx(brute[channel], abs=1e-9)
    assert np.all(result["conversions"] >= 0)
