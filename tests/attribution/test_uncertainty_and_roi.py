"""Bootstrap intervals, held-out order selection and attributed ROI."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from attribution import ContractError, DataWarning, attributed_roi, bootstrap, heuristics, markov, select_order, shapley
from attribution.selection import weighted_auc, weighted_log_loss


@pytest.mark.parametrize(
    ("method", "options", "direct"),
    [
        ("markov", {"order": 2}, lambda p: markov(p, order=2)),
        ("shapley", {"ordered": True}, lambda p: shapley(p, ordered=True)),
        ("heuristics", {}, heuristics),
    ],
)
def test_bootstrap_point_estimates_match_and_intervals_cover(random_paths, method, options, direct):
    paths = random_paths(300, n_channels=4, seed=2)
    out = bootstrap(paths, method, n_boot=60, level=0.9, seed=3, **options)
    point = direct(paths)
    pd.testing.assert_frame_equal(out[point.columns], point, check_exact=False, rtol=1e-9)
    for col in [c for c in point.columns if c not in ("channel", "position")]:
        low, high = ("ci_low", "ci_high") if col == "conversions" else (f"{col}_ci_low", f"{col}_ci_high")
        assert (out[low] <= out[high]).all()
        assert (out[low] <= point[col] + 1e-9).all() or col.startswith("removal")
    assert out.attrs["n_boot"] == 60


def test_bootstrap_is_seeded_and_shrinks_with_data(random_paths):
    paths = random_paths(200, n_channels=3, seed=4)
    a = bootstrap(paths, "markov", n_boot=40, seed=7)
    b = bootstrap(paths, "markov", n_boot=40, seed=7)
    pd.testing.assert_frame_equal(a, b)
    big = paths.assign(**{c: paths[c] * 25 for c in ("total_conversions", "total_conversion_value", "total_null")})
    wide = (a["ci_high"] - a["ci_low"]) / a["conversions"]
    narrow = bootstrap(big, "markov", n_boot=40, seed=7).pipe(lambda d: (d["ci_high"] - d["ci_low"]) / d["conversions"])
    assert (narrow < wide).all()  # 25x the journeys: intervals about 5x narrower


def test_bootstrap_bad_arguments(random_paths):
    paths = random_paths(20)
    with pytest.raises(ValueError, match="method must be one of"):
        bootstrap(paths, "magic")
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        bootstrap(paths, level=95)
    with pytest.raises(ValueError, match="n_boot must be an integer >= 2"):
        bootstrap(paths, n_boot=1)


def test_metrics_by_hand():
    p = np.array([0.2, 0.8, 0.5])
    pos, neg = np.array([0.0, 2.0, 1.0]), np.array([1.0, 0.0, 1.0])
    # pairs: pos@0.8 beats both negs (2 x 2 pairs = 4); pos@0.5 beats neg@0.2 (1), ties neg@0.5 (0.5)
    assert weighted_auc(p, pos, neg) == pytest.approx(5.5 / 6)
    expected = -(2 * np.log(0.8) + np.log(0.5) + np.log(0.8) + np.log(0.5)) / 5
    assert weighted_log_loss(p, pos, neg) == pytest.approx(expected)


def test_select_order_prefers_the_order_that_generated_the_data(make_paths):
    # conversion depends on the last two channels: "a > b" converts, "b > b" does not; order 1 cannot tell
    rows = [("a > b", 40, 0), ("b > b", 0, 40), ("c > a > b", 40, 0), ("c > b > b", 0, 40)]
    result = select_order(make_paths(rows), orders=(1, 2), seed=0)
    by_order = result.set_index("order")
    assert by_order.loc[2, "log_loss"] < by_order.loc[1, "log_loss"]
    assert by_order.loc[2, "auc"] == pytest.approx(1.0)
    assert result["test_journeys"].iloc[0] + result["train_journeys"].iloc[0] == 160


def spend_table() -> pd.DataFrame:
    weeks = pd.to_datetime(["2025-01-06", "2025-01-13"])
    rows = [
        (w, r, c, s)
        for w in weeks
        for r, c, s in [("Asia", "a", 50.0), ("Asia", "b", 10.0), ("Europe", "a", 20.0), ("Europe", "b", 5.0)]
    ]
    return pd.DataFrame(rows, columns=["week", "region", "channel", "spend"])


def test_attributed_roi_by_hand():
    credit = pd.DataFrame(
        {"region": ["Asia", "Asia", "Europe", "Europe"], "channel": ["a", "b", "a", "b"], "value": [300, 10, 0, 5.0]}
    )
    out = attributed_roi(credit, spend_table())
    assert out[["region", "channel", "spend", "roi"]].values.tolist() == [
        ["Asia", "a", 100.0, 3.0],
        ["Asia", "b", 20.0, 0.5],
        ["Europe", "a", 40.0, 0.0],
        ["Europe", "b", 10.0, 0.5],
    ]
    one_week = attributed_roi(credit, spend_table(), end="2025-01-06")
    assert one_week["roi"].tolist() == [6.0, 1.0, 0.0, 1.0]


def test_attributed_roi_reports_unmatched_cells_and_intervals():
    credit = pd.DataFrame(
        {
            "region": ["Asia", "Asia"],
            "channel": ["a", "z"],
            "value": [100.0, 5.0],
            "value_ci_low": [80.0, 1.0],
            "value_ci_high": [120.0, 9.0],
        }
    )
    with pytest.warns(DataWarning, match="unmatched"):
        out = attributed_roi(credit, spend_table())
    assert out.attrs["unmatched"]["no_spend"] == [{"region": "Asia", "channel": "z"}]
    assert len(out.attrs["unmatched"]["no_credit"]) == 3
    row = out.set_index(["region", "channel"]).loc[("Asia", "a")]
    assert (row["roi_ci_low"], row["roi"], row["roi_ci_high"]) == pytest.approx((0.8, 1.0, 1.2))
    assert np.isnan(out.set_index(["region", "channel"]).loc[("Asia", "z"), "roi"])


def test_attributed_roi_bad_input():
    with pytest.raises(ContractError, match=r"credit\.value: missing column"):
        attributed_roi(pd.DataFrame({"channel": ["a"]}), spend_table())
    with pytest.raises(ContractError, match="spend"):
        attributed_roi(pd.DataFrame({"channel": ["a"], "value": [1.0]}), spend_table().assign(spend=-1.0))


def test_end_to_end_from_events(hand_events):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        from attribution import build_paths

        credit = bootstrap(build_paths(hand_events, by="region"), "shapley", n_boot=20, by="region")
    assert {"region", "channel", "conversions", "ci_low", "ci_high", "value_ci_low"} <= set(credit.columns)
