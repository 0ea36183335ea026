"""The reference-data loaders (benchmarks/mmm_reference.py) and the peer helpers (benchmarks/mmm_peers.py).

No MCMC here: the loaders must give tables that pass our contracts and ``prepare_data``, with the values of the
source files; ``roi_recovery`` is checked on a hand-computed case.
"""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import contracts
from mmm.data import prepare_data

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    # benchmarks/ is not a package: load the file by path (registered, so dataclasses and pickling can find it).
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ref = _load("mmm_reference")
peers = _load("mmm_peers")

needs_data = pytest.mark.skipif(
    not (ref.PYMC_EXAMPLE_CSV.exists() and ref.MERIDIAN_GEO_CSV.exists()),
    reason=f"reference CSVs not found in {ref.REFERENCE_DIR}",
)


@pytest.fixture(scope="module")
def pymc_example():
    return ref.load_pymc_example()


@pytest.fixture(scope="module")
def meridian():
    return ref.load_meridian_geo()


def _passes_contracts(data):
    contracts.validate_spend(data.spend)
    contracts.validate_kpi(data.kpi)
    contracts.validate_controls(data.controls)
    contracts.validate_channels(data.channels)
    return prepare_data(data.spend, data.kpi, channels=data.channels, controls=data.controls)


def _value(table: pd.DataFrame, column: str, **keys) -> float:
    mask = np.ones(len(table), dtype=bool)
    for key, value in keys.items():
        mask &= (table[key] == (pd.Timestamp(value) if key == "week" else value)).to_numpy()
    assert mask.sum() == 1, keys
    return float(table.loc[mask, column].iloc[0])


# ----------------------------------------------------------------------------------------- pymc-marketing example


@needs_data
def test_pymc_example_passes_contracts_with_expected_shape(pymc_example):
    data = _passes_contracts(pymc_example)
    assert data.n_weeks == 179
    assert data.regions == ("National",)
    assert data.channels == ("x1", "x2")
    assert data.spend.shape == (179, 2)
    assert data.revenue.shape == (179, 1)
    assert data.control_names == ("event_1", "event_2")
    assert (pymc_example.kpi["week"].dt.day_of_week == 0).all()
    assert set(pymc_example.channels["objective"]) == {"acquisition"}
    assert "Apache-2.0" in pymc_example.origin


@needs_data
@pytest.mark.parametrize(
    ("week", "y", "x1", "event_1", "event_2"),
    [
        ("2018-04-02", 3984.662237343649, 0.3185800179359486, 0.0, 0.0),
        ("2019-05-13", 6815.8201468315065, 0.3258546929320144, 1.0, 0.0),
        ("2020-09-14", 6496.500776816234, 0.0121168778747064, 0.0, 1.0),
        ("2021-08-30", 4675.973438674285, 0.4388571605640426, 0.0, 0.0),
    ],
)
def test_pymc_example_values_are_the_csv_rows(pymc_example, week, y, x1, event_1, event_2):
    assert _value(pymc_example.kpi, "revenue", week=week) == pytest.approx(y, rel=1e-12)
    assert _value(pymc_example.spend, "spend", week=week, channel="x1") == pytest.approx(x1, rel=1e-12)
    assert _value(pymc_example.spend, "spend", week=week, channel="x2") == 0.0
    assert _value(pymc_example.controls, "event_1", week=week) == event_1
    assert _value(pymc_example.controls, "event_2", week=week) == event_2


@needs_data
def test_pymc_example_spend_scale_multiplies_spend_and_divides_true_roi(pymc_example):
    scaled = ref.load_pymc_example(spend_scale=1000.0)
    np.testing.assert_allclose(scaled.spend["spend"], 1000.0 * pymc_example.spend["spend"])
    pd.testing.assert_frame_equal(scaled.kpi, pymc_example.kpi)
    truth, scaled_truth = ref.pymc_example_truth(), ref.pymc_example_truth(spend_scale=1000.0)
    np.testing.assert_allclose(scaled_truth["roi"], truth["roi"] / 1000)
    with pytest.raises(ValueError, match="spend_scale"):
        ref.load_pymc_example(spend_scale=0.0)


@needs_data
def test_pymc_example_truth_accounts_for_the_media_part_of_y(pymc_example):
    """y minus the documented non-media terms leaves the true media contribution plus noise (sd 250 a week)."""
    truth = ref.pymc_example_truth()
    raw = pd.read_csv(ref.PYMC_EXAMPLE_CSV)
    n = len(raw)
    trend = (np.linspace(0.0, 50.0, n) + 10.0) ** 0.25 - 1.0
    day = raw["dayofyear"].to_numpy()
    seasonality = 0.5 * (-np.sin(4 * np.pi * day / 365.5) + np.cos(2 * np.pi * day / 365.5))
    base = 1000.0 * (2.0 + trend + seasonality + 1.5 * raw["event_1"] + 2.5 * raw["event_2"])
    media = raw["y"].sum() - base.sum()
    assert truth["contribution"].sum() == pytest.approx(media, abs=4 * 250 * np.sqrt(n))
    assert truth["contribution_share"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(truth["roi"], truth["contribution"] / truth["spend"])
    assert truth["spend"].tolist() == pytest.approx(pymc_example.spend.groupby("channel")["spend"].sum().tolist())


def test_dates_are_moved_to_their_monday(tmp_path):
    csv = tmp_path / "example.csv"
    pd.DataFrame(
        {
            "date_week": ["2024-01-03", "2024-01-10", "2024-01-17"],  # Wednesdays
            "y": [10.0, 11.0, 12.0],
            "x1": [1.0, 0.0, 2.0],
            "x2": [0.0, 0.5, 0.0],
            "event_1": [0, 1, 0],
            "event_2": [0, 0, 0],
        }
    ).to_csv(csv, index=False)
    data = ref.load_pymc_example(csv)
    assert data.kpi["week"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-01", "2024-01-08", "2024-01-15"]
    contracts.validate_kpi(data.kpi)


def test_two_dates_in_one_week_are_refused(tmp_path):
    csv = tmp_path / "example.csv"
    pd.DataFrame(
        {
            "date_week": ["2024-01-01", "2024-01-03"],  # a Monday and the Wednesday after it
            "y": [1.0, 2.0],
            "x1": [1.0, 1.0],
            "x2": [0.0, 0.0],
            "event_1": [0, 0],
            "event_2": [0, 0],
        }
    ).to_csv(csv, index=False)
    with pytest.raises(ValueError, match="one row per week"):
        ref.load_pymc_example(csv)


# ------------------------------------------------------------------------------------------------ Meridian geo


@needs_data
def test_meridian_passes_contracts_with_expected_shape(meridian):
    data = _passes_contracts(meridian)
    assert data.n_weeks == 156
    assert len(data.regions) == 40
    assert data.channels == tuple(f"Channel{i}" for i in range(5))
    assert data.spend.shape == (156, 40 * 5)
    assert data.revenue.shape == (156, 40)
    assert data.control_names == ("competitor_sales_control", "sentiment_score_control", "Promo")
    assert (meridian.spend["week"].dt.day_of_week == 0).all()


@needs_data
@pytest.mark.parametrize(
    ("region", "week", "conversions", "revenue_per_conversion", "spend"),
    [
        ("Geo0", "2021-01-25", 1954576.8, 0.020054754, (2058.0608, 0.0, 0.0, 3667.3965, 841.6044)),
        ("Geo0", "2021-02-01", 2064249.6, 0.02010317, (2685.2874, 1755.7454, 147.31808, 4112.2974, 1967.5044)),
        ("Geo39", "2023-06-05", 16215088.0, 0.01967717, (0.0, 0.0, 0.0, 15787.96, 19263.654)),
    ],
)
def test_meridian_revenue_is_conversions_times_revenue_per_conversion(
    meridian, region, week, conversions, revenue_per_conversion, spend
):
    revenue = _value(meridian.kpi, "revenue", region=region, week=week)
    assert revenue == pytest.approx(conversions * revenue_per_conversion, rel=1e-9)
    for i, expected in enumerate(spend):
        assert _value(meridian.spend, "spend", region=region, week=week, channel=f"Channel{i}") == pytest.approx(
            expected, rel=1e-7
        )


@needs_data
def test_meridian_max_geos_keeps_the_largest_geos(meridian):
    small = ref.load_meridian_geo(max_geos=3)
    largest = meridian.kpi.groupby("region")["revenue"].sum().nlargest(3).index
    assert set(small.kpi["region"]) == set(largest) == {"Geo36", "Geo39", "Geo10"}
    assert set(small.spend["region"]) == set(small.controls["region"]) == set(largest)
    data = _passes_contracts(small)
    assert data.spend.shape == (156, 15)
    pd.testing.assert_frame_equal(
        small.kpi.reset_index(drop=True),
        meridian.kpi[meridian.kpi["region"].isin(largest)].reset_index(drop=True),
    )


@needs_data
@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "3"])
def test_meridian_max_geos_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="max_geos"):
        ref.load_meridian_geo(max_geos=bad)


# ---------------------------------------------------------------------------------------------------- peers


def test_roi_recovery_hand_computed():
    estimates = pd.DataFrame(
        {
            "region": ["A", "A", "B"],
            "channel": ["tv", "search", "tv"],
            "roi_mean": [1.2, 2.7, 0.5],
            "roi_hdi_low": [0.8, 2.0, 0.4],
            "roi_hdi_high": [1.5, 2.5, 0.9],
        }
    )
    truth = pd.DataFrame(
        {"region": ["A", "A", "B", "B"], "channel": ["tv", "search", "tv", "search"], "roi": [1.0, 3.0, 1.0, 9.9]}
    )
    # inside: A/tv only (3.0 > 2.5, 1.0 > 0.9); errors 20%, 10%, 50%; B/search has no estimate and is ignored
    result = peers.roi_recovery(estimates, truth)
    assert result == {"roi_hdi90_coverage": pytest.approx(1 / 3), "roi_median_abs_pct_error": pytest.approx(20.0)}


def test_roi_recovery_counts_interval_ends_as_inside():
    estimates = pd.DataFrame(
        {"region": ["A"], "channel": ["tv"], "roi_mean": [2.0], "roi_hdi_low": [1.0], "roi_hdi_high": [2.0]}
    )
    truth = pd.DataFrame({"region": ["A"], "channel": ["tv"], "roi": [2.0]})
    assert peers.roi_recovery(estimates, truth) == {"roi_hdi90_coverage": 1.0, "roi_median_abs_pct_error": 0.0}


def test_roi_recovery_refuses_tables_that_do_not_meet():
    estimates = pd.DataFrame(
        {"region": ["A"], "channel": ["tv"], "roi_mean": [1.0], "roi_hdi_low": [0.5], "roi_hdi_high": [1.5]}
    )
    with pytest.raises(ValueError, match="no \\(region, channel\\) in common"):
        peers.roi_recovery(estimates, pd.DataFrame({"region": ["B"], "channel": ["tv"], "roi": [1.0]}))
    with pytest.raises(ValueError, match="missing \\['roi'\\]"):
        peers.roi_recovery(estimates, pd.DataFrame({"region": ["A"], "channel": ["tv"]}))


def _panel():
    weeks = pd.date_range("2024-01-01", periods=3, freq="7D")
    spend = pd.DataFrame(
        [
            {"week": w, "region": r, "channel": c, "spend": v}
            for w in weeks
            for r, c, v in [("A", "tv", 10.0), ("A", "search", 5.0), ("B", "tv", 2.0), ("A", "radio", 0.0)]
        ]
        + [{"week": w, "region": "B", "channel": c, "spend": 0.0} for w in weeks for c in ("search", "radio")]
    )
    kpi = pd.DataFrame([{"week": w, "region": r, "revenue": 100.0 + i} for i, w in enumerate(weeks) for r in "AB"])
    controls = kpi[["week", "region"]].assign(promo=[0.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    return spend, kpi, controls


def test_wide_panel_fills_dark_geos_with_zeros_and_drops_channels_without_spend():
    spend, kpi, controls = _panel()
    x, y, channels, control_names, totals = peers.wide_panel(spend, kpi, controls)
    assert channels == ["search", "tv"]  # radio never spends anywhere
    assert control_names == ["promo"]
    assert x.columns.tolist() == ["week", "geo", "search", "tv", "promo"]
    assert len(x) == len(y) == 6
    assert x.loc[x["geo"] == "B", "search"].eq(0.0).all()
    assert x.loc[x["geo"] == "A", "tv"].eq(10.0).all()
    assert y.tolist() == [100.0, 100.0, 101.0, 101.0, 102.0, 102.0]
    assert x["promo"].tolist() == [0.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    assert totals.to_dict("records") == [
        {"region": "A", "channel": "search", "spend": 15.0},
        {"region": "A", "channel": "tv", "spend": 30.0},
        {"region": "B", "channel": "tv", "spend": 6.0},
    ]


def test_wide_panel_refuses_names_pymc_marketing_uses():
    spend, kpi, controls = _panel()
    with pytest.raises(ValueError, match="must not be any of"):
        peers.wide_panel(spend, kpi, controls.rename(columns={"promo": "y"}))
    with pytest.raises(ValueError, match="name of a channel"):
        peers.wide_panel(spend, kpi, controls.rename(columns={"promo": "tv"}))
