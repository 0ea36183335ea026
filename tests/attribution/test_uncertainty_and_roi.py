"""Bootstrap intervals, held-out order selection and attributed ROI."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from attribution import (
    AttributedROI,
    ContractError,
    Credit,
    DataWarning,
    attributed_roi,
    bootstrap,
    heuristics,
    markov,
    select_order,
    shapley,
)
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
    result = bootstrap(paths, method, n_boot=60, level=0.9, seed=3, **options)
    out, point = result.table, direct(paths).table
    pd.testing.assert_frame_equal(out[point.columns], point, check_exact=False, rtol=1e-9)
    quantities = [c for c in point.columns if c not in ("channel", "position")]
    # every credit column gets exactly its <q>_low and <q>_high, and nothing else is added
    assert list(out.columns) == [*point.columns, *(f"{q}_{b}" for q in quantities for b in ("low", "high"))]
    for col in quantities:
        assert (out[f"{col}_low"] <= out[f"{col}_high"]).all()
        assert (out[f"{col}_low"] <= point[col] + 1e-9).all() or col.startswith("removal")
    assert out.attrs == {"interval": "90% bootstrap percentile"}
    assert result.interval == "90% bootstrap percentile"
    assert (result.method, result.n_boot, result.seed) == (method, 60, 3)
    assert dict(result.options) == dict(direct(paths).options)


def test_bootstrap_is_seeded_and_shrinks_with_data(random_paths):
    paths = random_paths(200, n_channels=3, seed=4)
    a = bootstrap(paths, "markov", n_boot=40, seed=7).table
    b = bootstrap(paths, "markov", n_boot=40, seed=7).table
    pd.testing.assert_frame_equal(a, b)
    big = paths.assign(**{c: paths[c] * 25 for c in ("total_conversions", "total_conversion_value", "total_null")})
    wide = (a["conversions_high"] - a["conversions_low"]) / a["conversions"]
    c = bootstrap(big, "markov", n_boot=40, seed=7).table
    narrow = (c["conversions_high"] - c["conversions_low"]) / c["conversions"]
    assert (narrow < wide).all()  # 25x the journeys: intervals about 5x narrower


def test_bootstrap_interval_label_follows_the_level(random_paths):
    paths = random_paths(50, n_channels=3, seed=1)
    assert bootstrap(paths, "shapley", n_boot=10, level=0.95).interval == "95% bootstrap percentile"
    assert bootstrap(paths, "shapley", n_boot=10, level=0.975).table.attrs["interval"] == "97.5% bootstrap percentile"


def test_bootstrap_markov_records_its_chains(make_paths):
    paths = make_paths([("A", 1, 0), ("A > B", 1, 0), ("B", 1, 1)])
    result = bootstrap(paths, "markov", n_boot=5)
    pd.testing.assert_frame_equal(result.chains, markov(paths).chains)
    assert result.chains["conversion_probability"].tolist() == pytest.approx([3 / 4])


def test_bootstrap_bad_arguments(random_paths):
    paths = random_paths(20)
    with pytest.raises(ValueError, match="method must be one of"):
        bootstrap(paths, "magic")
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        bootstrap(paths, level=95)
    with pytest.raises(ValueError, match="n_boot must be an integer >= 2"):
        bootstrap(paths, n_boot=1)
    # an option of another method was silently ignored before: now it is an error that says what is allowed
    with pytest.raises(TypeError, match=r"bootstrap of 'markov' got unexpected option\(s\) \['ordered'\]; allowed"):
        bootstrap(paths, "markov", ordered=True)
    with pytest.raises(ValueError, match="order must be an integer"):
        bootstrap(paths, "markov", order=7)


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
    by_order = result.table.set_index("order")
    assert by_order.loc[2, "log_loss"] < by_order.loc[1, "log_loss"]
    assert by_order.loc[2, "auc"] == pytest.approx(1.0)
    assert result.table["test_journeys"].iloc[0] + result.table["train_journeys"].iloc[0] == 160
    assert result.best_order == 2
    assert (result.test_fraction, result.seed, result.skipped.rows) == (0.3, 0, 0)


def spend_table() -> pd.DataFrame:
    weeks = pd.to_datetime(["2025-01-06", "2025-01-13"])
    rows = [
        (w, r, c, s)
        for w in weeks
        for r, c, s in [("Asia", "a", 50.0), ("Asia", "b", 10.0), ("Europe", "a", 20.0), ("Europe", "b", 5.0)]
    ]
    return pd.DataFrame(rows, columns=["week", "region", "channel", "spend"])


def credit_table(**columns) -> pd.DataFrame:
    base = {"region": ["Asia", "Asia", "Europe", "Europe"], "channel": ["a", "b", "a", "b"], "value": [300, 10, 0, 5.0]}
    return pd.DataFrame({**base, **columns})


def kpi_table(asia: float = 1_000.0, europe: float = 50.0) -> pd.DataFrame:
    weeks = pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-20"])
    rows = [(w, r, x) for w in weeks for r, x in [("Asia", asia), ("Europe", europe)]]
    return pd.DataFrame(rows, columns=["week", "region", "revenue"])


def test_attributed_roi_by_hand():
    out = attributed_roi(credit_table(), spend_table())
    assert isinstance(out, AttributedROI)
    assert list(out.table.columns) == ["region", "channel", "attributed_revenue", "spend_window", "roi"]
    assert out.table[["region", "channel", "spend_window", "roi"]].values.tolist() == [
        ["Asia", "a", 100.0, 3.0],
        ["Asia", "b", 20.0, 0.5],
        ["Europe", "a", 40.0, 0.0],
        ["Europe", "b", 10.0, 0.5],
    ]
    assert (out.scaled_by, out.scale, len(out.unmatched)) == (None, None, 0)
    assert out.window == (pd.Timestamp("2025-01-06"), pd.Timestamp("2025-01-13"))
    one_week = attributed_roi(credit_table(), spend_table(), end="2025-01-06")
    assert one_week.table["roi"].tolist() == [6.0, 1.0, 0.0, 1.0]
    assert one_week.window == (pd.Timestamp("2025-01-06"), pd.Timestamp("2025-01-06"))


def test_attributed_roi_scaled_to_the_kpi_revenue_per_region():
    # Asia: journeys attribute 310 of the 2 x 1000 KPI revenue over the spend's two weeks -> scale 2000 / 310;
    # Europe: 5 of 2 x 50 -> scale 20. The KPI's third week has no spend and does not count.
    out = attributed_roi(credit_table(), spend_table(), kpi=kpi_table())
    assert out.scaled_by == "kpi"
    assert out.scale.to_dict("records") == [
        {"region": "Asia", "journey_revenue": 310.0, "kpi_revenue": 2000.0, "scale": pytest.approx(2000 / 310)},
        {"region": "Europe", "journey_revenue": 5.0, "kpi_revenue": 100.0, "scale": pytest.approx(20.0)},
    ]
    table = out.table
    assert table["attributed_revenue"].tolist() == pytest.approx([300 * 2000 / 310, 10 * 2000 / 310, 0.0, 100.0])
    assert table.groupby("region")["attributed_revenue"].sum().tolist() == pytest.approx([2000.0, 100.0])
    assert table["roi"].tolist() == pytest.approx([3 * 2000 / 310, 0.5 * 2000 / 310, 0.0, 10.0])
    # one week: the KPI revenue of that week only (1000 and 50)
    one_week = attributed_roi(credit_table(), spend_table(), kpi=kpi_table(), end="2025-01-06")
    assert one_week.scale["kpi_revenue"].tolist() == [1000.0, 50.0]
    assert one_week.table["roi"].tolist() == pytest.approx([6 * 1000 / 310, 1000 / 310, 0.0, 10.0])


def test_attributed_roi_scaled_overall_when_the_credit_is_pooled():
    credit = pd.DataFrame({"channel": ["a", "b"], "value": [60.0, 20.0]})
    out = attributed_roi(credit, spend_table(), kpi=kpi_table())
    # KPI revenue over the two spend weeks, all regions: 2 x (1000 + 50) = 2100; journeys: 80 -> scale 26.25
    assert out.scale.to_dict("records") == [{"journey_revenue": 80.0, "kpi_revenue": 2100.0, "scale": 26.25}]
    # spend summed over regions and weeks: a 140, b 30
    assert out.table[["channel", "attributed_revenue", "spend_window", "roi"]].values.tolist() == [
        ["a", 1575.0, 140.0, 11.25],
        ["b", 525.0, 30.0, 17.5],
    ]


def test_attributed_roi_scaled_by_tracked_share():
    credit = credit_table(value_low=[200.0, 5.0, 0.0, 1.0], value_high=[400.0, 20.0, 0.0, 9.0])
    credit.attrs["interval"] = "90% bootstrap percentile"
    out = attributed_roi(credit, spend_table(), tracked_share=0.25)
    assert out.scaled_by == "tracked_share"
    assert out.scale.to_dict("records") == [
        {"journey_revenue": 315.0, "kpi_revenue": pytest.approx(np.nan, nan_ok=True), "scale": 4.0}
    ]
    row = out.table.set_index(["region", "channel"]).loc[("Asia", "a")]
    assert (row["attributed_revenue_low"], row["attributed_revenue"], row["attributed_revenue_high"]) == (
        800,
        1200,
        1600,
    )
    assert (row["roi_low"], row["roi"], row["roi_high"]) == pytest.approx((8.0, 12.0, 16.0))
    assert out.table.attrs == {"interval": "90% bootstrap percentile"}


def test_attributed_roi_warns_with_the_numbers_when_the_journeys_look_like_a_sample():
    tiny = credit_table(value=[3.0, 0.1, 0.0, 0.05])  # ROIs 0.03, 0.005, 0, 0.005: median 0.005
    with pytest.warns(DataWarning, match=r"median ROI is 0.005 \(attributed revenue 3 over spend 170") as record:
        out = attributed_roi(tiny, spend_table())
    assert "Pass kpi=" in str(record[0].message) and "tracked_share=" in str(record[0].message)
    assert out.scale is None
    # kpi given but not used to scale: the message states the fraction of the KPI revenue
    with pytest.warns(DataWarning, match=r"attributed revenue 3 is 0.15% of the KPI revenue 2,100"):
        attributed_roi(tiny, spend_table(), kpi=kpi_table(), scale_to_kpi=False)
    # scaled: no such warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        attributed_roi(tiny, spend_table(), kpi=kpi_table())
        attributed_roi(credit_table(), spend_table())  # plausible ROIs (median 0.5), nothing to say


def test_attributed_roi_scaling_bad_input():
    with pytest.raises(ValueError, match=r"kpi .* or tracked_share, not both"):
        attributed_roi(credit_table(), spend_table(), kpi=kpi_table(), tracked_share=0.5)
    for share in (0, 1.5, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match=r"tracked_share must be a number in \(0, 1\]"):
            attributed_roi(credit_table(), spend_table(), tracked_share=share)
    with pytest.raises(ContractError, match=r"kpi\.week: 1 weeks of the spend used have no KPI row"):
        attributed_roi(credit_table(), spend_table(), kpi=kpi_table().query("week > '2025-01-06'"))
    with pytest.raises(ContractError, match=r"kpi\.region: 1 regions of the credit have no KPI rows.*Europe"):
        attributed_roi(credit_table(), spend_table(), kpi=kpi_table().query("region == 'Asia'"))


def test_attributed_roi_reports_unmatched_cells_and_intervals():
    credit = pd.DataFrame(
        {
            "region": ["Asia", "Asia"],
            "channel": ["a", "z"],
            "value": [100.0, 5.0],
            "value_low": [80.0, 1.0],
            "value_high": [120.0, 9.0],
        }
    )
    with pytest.warns(DataWarning, match="unmatched"):
        out = attributed_roi(Credit(credit, "markov"), spend_table())
    assert out.unmatched.to_dict("records") == [
        {"region": "Asia", "channel": "z", "reason": "no_spend"},
        {"region": "Asia", "channel": "b", "reason": "no_credit"},
        {"region": "Europe", "channel": "a", "reason": "no_credit"},
        {"region": "Europe", "channel": "b", "reason": "no_credit"},
    ]
    table = out.table.set_index(["region", "channel"])
    row = table.loc[("Asia", "a")]
    assert (row["roi_low"], row["roi"], row["roi_high"]) == pytest.approx((0.8, 1.0, 1.2))
    assert np.isnan(table.loc[("Asia", "z"), "roi"])
    assert out.table.attrs == {}  # no interval label came with the credit, none is made up


def test_attributed_roi_bad_input():
    with pytest.raises(ContractError, match=r"credit\.value: missing column"):
        attributed_roi(pd.DataFrame({"channel": ["a"]}), spend_table())
    with pytest.raises(ContractError, match="spend"):
        attributed_roi(pd.DataFrame({"channel": ["a"], "value": [1.0]}), spend_table().assign(spend=-1.0))
    with pytest.raises(TypeError, match=r"credit must be an attribution\.Credit or a pandas DataFrame"):
        attributed_roi([1.0], spend_table())


def test_end_to_end_from_events(hand_events):
    from attribution import build_paths

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        paths = build_paths(hand_events, by="region")
    credit = bootstrap(paths, "shapley", n_boot=20, by="region")
    expected = {"region", "channel", "conversions", "conversions_low", "conversions_high", "value_low", "value_high"}
    assert expected <= set(credit.table.columns)
