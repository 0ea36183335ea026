"""Hostile and malformed input to the optimizer (issue 13): every case is a clear error naming what is wrong."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from optimizer import Allocator, Policy, ResponseCurves, SolverError, allocate
from optimizer.allocate import MAX_DRAW_CELLS
from optimizer.bounds import align_current_spend

from .conftest import asia_cells, one_group_policy

CELLS = asia_cells(2)


@pytest.fixture
def curves() -> ResponseCurves:
    return ResponseCurves.michaelis_menten(CELLS, [[3e6, 2e6]], [[4e5, 5e5]])


def frame(rows, column="spend_period") -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["region", "channel", column])


# ------------------------------------------------------------------ current spend
@pytest.mark.parametrize("column", ["spend_period", "spend"])
def test_cell_listed_twice_is_named(curves, column):
    rows = [("Asia", "channel_0", 1.0), ("Asia", "channel_0", 2.0), ("Asia", "channel_1", 3.0)]
    with pytest.raises(ValueError, match=r"more than one row for 1 cells: Asia/channel_0"):
        allocate(curves, one_group_policy(1e6), frame(rows, column))


def test_series_with_a_cell_twice_is_named(curves):
    series = frame([("Asia", "channel_0", 1.0), ("Asia", "channel_0", 2.0), ("Asia", "channel_1", 3.0)]).set_index(
        ["region", "channel"]
    )["spend_period"]
    with pytest.raises(ValueError, match=r"more than one row for 1 cells: Asia/channel_0"):
        allocate(curves, one_group_policy(1e6), series)


@pytest.mark.parametrize("form", ["spend_period", "spend", "series", "array"])
def test_text_spend_is_refused_not_parsed(curves, form):
    rows = [("Asia", "channel_0", "252,000"), ("Asia", "channel_1", 3.0)]
    current: object
    if form == "series":
        current = frame(rows).set_index(["region", "channel"])["spend_period"]
    elif form == "array":
        current = ["252,000", 3.0]
    else:
        current = frame(rows, form)
    with pytest.raises(ValueError, match=r"must be numbers.*1 values are not: Asia/channel_0 = '252,000'"):
        align_current_spend(curves.cells, current)


def test_numeric_looking_text_and_booleans_are_refused(curves):
    with pytest.raises(ValueError, match=r"Asia/channel_0 = '252000'"):
        align_current_spend(curves.cells, ["252000", 1.0])
    with pytest.raises(ValueError, match=r"Asia/channel_1 = True"):
        align_current_spend(curves.cells, np.array([1.0, True], dtype=object))
    with pytest.raises(ValueError, match=r"got text '252000'"):
        align_current_spend(curves.cells, "252000")


@pytest.mark.parametrize("form", ["spend_period", "spend", "series"])
def test_extra_cell_with_unknown_region_is_refused(curves, form):
    rows = [("Asia", "channel_0", 1.0), ("Asia", "channel_1", 3.0), ("Atlantis", "channel_0", 5.0)]
    current = frame(rows).set_index(["region", "channel"])["spend_period"] if form == "series" else frame(rows, form)
    with pytest.raises(ValueError, match=r"1 rows for cells the response curves do not have: Atlantis/channel_0"):
        align_current_spend(curves.cells, current)


def test_negative_or_infinite_spend_names_the_cell(curves):
    with pytest.raises(ValueError, match=r"finite and >= 0; 1 cells are not: Asia/channel_1 = inf"):
        align_current_spend(curves.cells, [1.0, np.inf])


def test_valid_forms_agree(curves):
    rows = [("Asia", "channel_1", 3.0), ("Asia", "channel_0", 1)]
    expected = [1.0, 3.0]
    np.testing.assert_array_equal(align_current_spend(curves.cells, frame(rows)), expected)
    np.testing.assert_array_equal(align_current_spend(curves.cells, frame(rows, "spend")), expected)
    series = frame(rows).set_index(["region", "channel"])["spend_period"]
    np.testing.assert_array_equal(align_current_spend(curves.cells, series), expected)
    np.testing.assert_array_equal(align_current_spend(curves.cells, np.array([1, 3])), expected)


# ------------------------------------------------------------------ policy
@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_non_finite_roi_hurdle_is_refused(value):
    with pytest.raises(ValidationError, match=r"Policy\.roi_hurdle must be a finite number; got (inf|nan)"):
        Policy(budget=1e6, roi_hurdle=value)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"budget": True}, r"Policy\.budget must be a number; got bool True"),
        ({"budget": 1e6, "roi_hurdle": False}, r"Policy\.roi_hurdle must be a number; got bool False"),
        ({"budget": "1e6"}, r"Policy\.budget must be a number; got str '1e6'"),
        ({"budget": 1e6, "region_tolerance": True}, r"Policy\.region_tolerance must be a number"),
        ({"budget": 1e6, "objective_shares": {"acquisition": True}}, r"objective_shares\['acquisition'\] must be"),
        ({"budget": 1e6, "risk": {"kind": "cvar", "alpha": True}}, r"Risk\.alpha must be a number; got bool"),
        (
            {"budget": 1e6, "cell_rules": [{"region": "Asia", "channel": "x", "min_spend": True}]},
            r"CellRule\.min_spend must be a number; got bool",
        ),
    ],
)
def test_booleans_and_text_are_refused_in_numeric_fields(kwargs, where):
    with pytest.raises(ValidationError, match=where):
        Policy(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"budget": np.inf}, r"Policy\.budget must be a finite number; got inf"),
        ({"period_revenue": np.nan}, r"Policy\.period_revenue must be a finite number; got nan"),
        ({"budget": 1e6, "objective_tolerance": np.nan}, r"Policy\.objective_tolerance must be a finite number"),
        ({"budget": 1e6, "risk": {"kind": "cvar", "lam": np.inf}}, r"Risk\.lam must be a finite number"),
        ({"budget": 1e6, "max_change": np.nan}, r"Policy\.max_change must be a finite number \(or inf for no limit\)"),
        (
            {"budget": 1e6, "cell_rules": [{"region": "Asia", "channel": "x", "min_spend": np.inf}]},
            r"CellRule\.min_spend must be a finite number; got inf",
        ),
    ],
)
def test_non_finite_numbers_are_refused(kwargs, where):
    with pytest.raises(ValidationError, match=where):
        Policy(**kwargs)


def test_absurd_amounts_are_refused():
    with pytest.raises(ValidationError, match=r"budget\n.*less than or equal to 1000000000000000 "):
        Policy(budget=1e300)
    with pytest.raises(ValidationError, match=r"roi_hurdle\n.*less than or equal to 1000000"):
        Policy(budget=1e6, roi_hurdle=1e300)


def test_with_budget_is_as_strict_as_the_constructor():
    policy = Policy(budget=1e6)
    with pytest.raises(ValidationError, match=r"Policy\.budget must be a number; got bool True"):
        policy.with_budget(True)
    assert policy.with_budget(2_000_000).budget == 2e6


def test_risk_settings_are_bounded():
    with pytest.raises(ValidationError, match=r"risk\.alpha\n.*greater than or equal to 0\.000001"):
        Policy(budget=1e6, risk={"kind": "cvar", "lam": 0.5, "alpha": 1e-300})
    with pytest.raises(ValidationError, match=r"risk\.lam\n.*less than or equal to 1000000"):
        Policy(budget=1e6, risk={"kind": "cvar", "lam": 1e300})


def test_infinite_max_change_still_means_no_limit():
    assert Policy(budget=1e6, max_change=np.inf).max_change is None
    rule = {"region": "Asia", "channel": "x", "max_spend": np.inf}
    assert Policy(budget=1e6, cell_rules=[rule]).cell_rules[0].max_spend == np.inf
    assert Policy(budget=1, roi_hurdle=2).budget == 1.0


def test_from_toml_on_a_directory_names_it(tmp_path):
    with pytest.raises(ValueError, match=rf"{tmp_path} is a directory; give the path of a policy \.toml file"):
        Policy.from_toml(tmp_path)


def test_from_toml_syntax_error_names_file_and_line(tmp_path):
    path = tmp_path / "q3.toml"
    path.write_text("budget = 1_000_000\nroi_hurdle = = 2\n")
    with pytest.raises(ValueError, match=r"q3\.toml: not valid TOML: .*line 2"):
        Policy.from_toml(path)


def test_from_toml_inf_hurdle_names_file_and_field(tmp_path):
    path = tmp_path / "q3.toml"
    path.write_text("budget = 1_000_000\nroi_hurdle = inf\n")
    with pytest.raises(ValidationError, match=r"(?s)policy file .*q3\.toml.*roi_hurdle must be a finite number"):
        Policy.from_toml(path)


def test_from_toml_refuses_missing_binary_and_special_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no such policy file: .*nope\.toml"):
        Policy.from_toml(tmp_path / "nope.toml")
    binary = tmp_path / "policy.toml"
    binary.write_bytes(b"budget = 1\n# \xff\xfe\n")
    with pytest.raises(ValueError, match=r"policy\.toml is not UTF-8 text \(byte 13\)"):
        Policy.from_toml(binary)
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"pipe\.toml is not a regular file"):
        Policy.from_toml(fifo)


# ------------------------------------------------------------------ curves
@pytest.mark.parametrize(
    ("beta", "half", "message"),
    [
        (1e294, 4e5, r"beta must be within \[1e-12, 1e\+15\].*beta of draw 0, cell Asia/channel_0 = 1e\+294"),
        (3e6, 1e-300, r"scale must be within .*half_saturation of draw 0, cell Asia/channel_0 = 1e-300"),
    ],
)
def test_extreme_curve_parameters_are_refused(beta, half, message):
    with pytest.raises(ValueError, match=message):
        ResponseCurves.michaelis_menten(CELLS, [[beta, 2e6]], [[half, 5e5]])


def test_extreme_lam_and_shape_are_named():
    with pytest.raises(ValueError, match=r"lam of draw 0, cell Asia/channel_1 = 1e\+20"):
        ResponseCurves.exponential(CELLS, [[1.0, 1.0]], [[1.0, 1e20]])
    with pytest.raises(ValueError, match=r"shape must be within \[0\.01, 100\].*Asia/channel_0 = 1000"):
        ResponseCurves.hill(CELLS, [[1.0, 1.0]], [[1.0, 1.0]], [[1e3, 1.0]])
    with pytest.raises(ValueError, match=r"beta must be numbers"):
        ResponseCurves.michaelis_menten(CELLS, [[True, True]], [[1.0, 1.0]])


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate")
def test_solver_failure_on_extreme_but_valid_curves_names_the_cause():
    curves = ResponseCurves.michaelis_menten(CELLS, [[1e15, 1e3]], [[1e-12, 1e5]])
    with pytest.raises(SolverError, match=r"Likely cause: numerically extreme.*1e-12 for Asia/channel_0"):
        allocate(curves, one_group_policy(1e6), [5e5, 5e5])


def test_absurd_work_is_refused_with_numbers():
    draws = MAX_DRAW_CELLS // 2 + 1
    curves = ResponseCurves.michaelis_menten(CELLS, np.ones((draws, 2)), np.ones((draws, 2)))
    with pytest.raises(ValueError, match=rf"{draws:,} draws × 2 cells = {2 * draws:,} .* at most {MAX_DRAW_CELLS:,}"):
        Allocator(curves, [1.0, 1.0])
    with pytest.raises(TypeError, match=r"curves must be a contracts\.ResponseCurves; got dict"):
        Allocator({}, [1.0, 1.0])
