"""Markov attribution against hand-solved chains and the conversion-probability identity."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution import markov
from attribution.markov import chain_credit, markov_design, state_names
from attribution.paths import parse_paths


def credit(result: pd.DataFrame, column: str = "conversions") -> dict[str, float]:
    return dict(zip(result["channel"], result[column], strict=True))


def test_issue_example_order_1(issue_example):
    fit = markov(issue_example, order=1)
    result = fit.table
    assert credit(result) == pytest.approx({"A": 2.0, "B": 1.0})
    assert credit(result, "removal_effect") == pytest.approx({"A": 1.0, "B": 0.5})
    assert fit.chains["conversion_probability"].tolist() == pytest.approx([1.0])
    assert (fit.method, dict(fit.options), fit.by, fit.interval, fit.n_boot) == ("markov", {"order": 1}, (), None, None)


def test_issue_example_order_2_by_hand(issue_example):
    # states AB, BA, BB, AA; removing B leaves only start -> AA -> conversion (1 of 3 journeys)
    fit = markov(issue_example, order=2)
    assert credit(fit.table, "removal_effect") == pytest.approx({"A": 1.0, "B": 2 / 3})
    assert credit(fit.table) == pytest.approx({"A": 1.8, "B": 1.2})
    assert fit.chains["n_states"].tolist() == [4]


def test_order_1_with_nulls_by_hand(make_paths):
    # start->A (2), start->B (2); A->B 1, A->conv 1; B->conv 2 (one via A), B->null 1
    # P(A->conv)=1/2, P(A->B)=1/2, P(B->conv)=2/3: full conversion 3/4 (3 of 4 journeys)
    # remove A: start->B half the time: 1/2 * 2/3 = 1/3 -> effect 1 - (1/3)/(3/4) = 5/9
    # remove B: start->A half: 1/2 * 1/2 = 1/4 -> effect 2/3
    paths = make_paths([("A", 1, 0), ("A > B", 1, 0), ("B", 1, 1)])
    result = markov(paths).table
    assert credit(result, "removal_effect") == pytest.approx({"A": 5 / 9, "B": 2 / 3})
    total = 5 / 9 + 2 / 3
    assert credit(result) == pytest.approx({"A": 3 * (5 / 9) / total, "B": 3 * (2 / 3) / total})


def test_value_uses_value_weighted_conversion(make_paths):
    # conversions from A are worth 100, from B 10: removing A loses 100 of 110 value, removing B 10
    paths = make_paths([("A", 1, 0, 100.0), ("B", 1, 0, 10.0)])
    result = markov(paths).table
    assert credit(result, "removal_effect_value") == pytest.approx({"A": 100 / 110, "B": 10 / 110})
    assert credit(result, "value") == pytest.approx({"A": 100.0, "B": 10.0})
    assert credit(result) == pytest.approx({"A": 1.0, "B": 1.0})


def test_order_3_short_path_is_one_state(make_paths):
    paths = make_paths([("a > b", 1, 0), ("a > b > c", 0, 1), ("c", 1, 1)])
    parsed = parse_paths(paths)
    design = markov_design(parsed, 3)
    assert sorted(state_names(design, parsed.channels)) == ["a > b", "a > b > c", "c"]
    # remove a: kills "a > b" and "a > b > c"; only "c" converts (1 of 2 of its journeys)
    # full: 2 conversions of 5 journeys; removed a: 1 -> effect 1/2; removed b: same; removed c: 1/2
    result = markov(paths, order=3).table
    assert credit(result, "removal_effect") == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.5})


def test_consecutive_identical_states_collapse(make_paths):
    parsed = parse_paths(make_paths([("a > a > a > b", 1, 0)]))
    assert markov_design(parsed, 1).n_states == 2
    design = markov_design(parsed, 2)  # windows aa, aa, ab -> aa, ab
    assert len(design.entry_trans) == 2
    assert sorted(state_names(design, parsed.channels)) == ["a > a", "a > b"]


def test_channel_names_are_trimmed_and_repeated_rows_add_up(make_paths):
    a = markov(make_paths([(" x >y ", 1, 2), ("x > y", 3, 1), ("y", 1, 4)]))
    b = markov(make_paths([("x>y", 4, 3), ("y", 1, 4)]))
    pd.testing.assert_frame_equal(a.table, b.table)


def test_segments_are_fitted_separately(issue_example, make_paths):
    both = pd.concat([issue_example.assign(region="Asia"), make_paths([("B", 2, 0)]).assign(region="Europe")])
    fit = markov(both, by="region")
    assert fit.table["region"].tolist() == ["Asia", "Asia", "Europe"]
    assert fit.table["conversions"].tolist() == pytest.approx([2.0, 1.0, 2.0])
    # one chain per segment, named by its segment: Asia converts 3 of 3 journeys (4 states), Europe 2 of 2
    assert fit.by == ("region",)
    assert fit.chains.to_dict("records") == [
        {"region": "Asia", "conversion_probability": pytest.approx(1.0), "n_states": 2},
        {"region": "Europe", "conversion_probability": pytest.approx(1.0), "n_states": 1},
    ]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_conversion_probability_identity_and_efficiency(order, random_paths):
    paths = random_paths(400, n_channels=4, seed=order)
    fit = markov(paths, order=order)
    result = fit.table
    conv, nulls = paths["total_conversions"].sum(), paths["total_null"].sum()
    assert fit.chains["conversion_probability"].tolist() == pytest.approx([conv / (conv + nulls)])
    assert result["conversions"].sum() == pytest.approx(conv)
    assert result["value"].sum() == pytest.approx(paths["total_conversion_value"].sum())
    assert ((result["removal_effect"] >= 0) & (result["removal_effect"] <= 1)).all()


def test_large_chain_solver_matches_dense(random_paths, monkeypatch):
    # order 4 on 6 channels gives > 600 states: the Krylov branch, checked against a dense solve
    paths = random_paths(6000, n_channels=6, max_len=8, seed=3)
    parsed = parse_paths(paths)
    design = markov_design(parsed, 4)
    assert design.n_states > 600
    fit = chain_credit(design, parsed.conversions, parsed.values, parsed.nulls)
    monkeypatch.setattr(sys.modules["attribution.markov"], "_DENSE_LIMIT", 10**9)
    dense = chain_credit(design, parsed.conversions, parsed.values, parsed.nulls)
    np.testing.assert_allclose(fit["removal_effect"], dense["removal_effect"], rtol=1e-9)
    np.testing.assert_allclose(fit["value"], dense["value"], rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from("abc"), min_size=1, max_size=5).map(" > ".join),
            st.integers(0, 5),
            st.integers(0, 5),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 3),
)
def test_property_credit_sums_to_conversions(make_paths, rows, order):
    paths = make_paths(rows)
    if not ((paths["total_conversions"] > 0) | (paths["total_null"] > 0)).any():
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = markov(paths, order=order).table
    assert result["conversions"].sum() == pytest.approx(paths["total_conversions"].sum())
    assert (result["conversions"] >= -1e-12).all()
