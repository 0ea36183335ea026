"""The reference-data loaders (:mod:`simulator.reference`), ROI-recovery scoring (:mod:`simulator.scoring`) and
the peer helpers of the benchmark (benchmarks/mmm_peers.py).

No MCMC here: the loaders must give a validated :class:`contracts.Dataset` that ``prepare_data`` accepts, with the
values of the source files; ``roi_recovery`` is checked on hand-computed cases.
"""

import numpy as np
import pandas as pd
import pytest

from contracts import ContractError, Dataset
from mmm.data import prepare_data
from simulator import reference as ref
from simulator import roi_recovery, simulate_world
from simulator.reference import ReferenceData

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


def _passes_contracts(reference: ReferenceData):
    assert isinstance(reference.data, Dataset)
    assert reference.data.names() == ["spend", "kpi", "controls", "channels"]
    assert reference.spend is reference.data.spend  # the shortcuts are the validated tables, not copies
    return prepare_data(reference.data)


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
    np.testing.assert_allclose(scaled_truth["contribution_window"], truth["contribution_window"])
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
    assert truth["contribution_window"].sum() == pytest.approx(media, abs=4 * 250 * np.sqrt(n))
    assert truth["contribution_share"].sum() == pytest.approx(1.0)
    np.testing.assert_allclose(truth["roi"], truth["contribution_window"] / truth["spend_window"])
    spend_window = pymc_example.spend.groupby("channel")["spend"].sum()
    assert truth["spend_window"].tolist() == pytest.approx(spend_window.tolist())
    assert truth["beta_weekly"].tolist() == [3000.0, 2000.0]


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
    assert data.spend.loc[data.spend["channel"] == "x2", "spend"].tolist() == [0.0, 0.5, 0.0]


def test_a_file_that_breaks_a_contract_is_refused_when_loaded(tmp_path):
    csv = tmp_path / "example.csv"
    pd.DataFrame(
        {
            "date_week": ["2024-01-01", "2024-01-08"],
            "y": [10.0, 11.0],
            "x1": [1.0, -2.0],  # negative spend
            "x2": [0.0, 0.5],
            "event_1": [0, 1],
            "event_2": [0, 0],
        }
    ).to_csv(csv, index=False)
    with pytest.raises(ContractError, match="spend"):
        ref.load_pymc_example(csv)


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


# ------------------------------------------------------------------------------------------------- scoring


def _estimates(**columns) -> pd.DataFrame:
    return pd.DataFrame(columns)


def test_roi_recovery_hand_computed():
    estimates = _estimates(
        region=["A", "A", "B"],
        channel=["tv", "search", "tv"],
        roi=[1.2, 2.7, 0.5],
        roi_low=[0.8, 2.0, 0.4],
        roi_high=[1.5, 2.5, 0.9],
    )
    truth = pd.DataFrame(
        {"region": ["A", "A", "B", "B"], "channel": ["tv", "search", "tv", "search"], "roi": [1.0, 3.0, 1.0, 9.9]}
    )
    # inside: A/tv only (3.0 > 2.5, 1.0 > 0.9); errors 20%, 10%, 50%; B/search has no estimate and is ignored
    result = roi_recovery(estimates, truth)
    assert result == {"roi_hdi90_coverage": pytest.approx(1 / 3), "roi_median_abs_pct_error": pytest.approx(20.0)}


def test_roi_recovery_counts_interval_ends_as_inside():
    estimates = _estimates(region=["A"], channel=["tv"], roi=[2.0], roi_low=[1.0], roi_high=[2.0])
    truth = pd.DataFrame({"region": ["A"], "channel": ["tv"], "roi": [2.0]})
    assert roi_recovery(estimates, truth) == {"roi_hdi90_coverage": 1.0, "roi_median_abs_pct_error": 0.0}


def test_roi_recovery_refuses_tables_that_do_not_meet():
    estimates = _estimates(region=["A"], channel=["tv"], roi=[1.0], roi_low=[0.5], roi_high=[1.5])
    no_common = r"no \(region, channel\) in common; estimates has A/tv, truth_cells has B/tv"
    with pytest.raises(ValueError, match=no_common):
        roi_recovery(estimates, pd.DataFrame({"region": ["B"], "channel": ["tv"], "roi": [1.0]}))
    with pytest.raises(ValueError, match=r"truth_cells must have columns .* missing \['roi'\]"):
        roi_recovery(estimates, pd.DataFrame({"region": ["A"], "channel": ["tv"]}))
    twice = pd.concat([estimates, estimates])
    with pytest.raises(ValueError, match=r"one row per \(region, channel\); repeated: \[\('A', 'tv'\)"):
        roi_recovery(twice, pd.DataFrame({"region": ["A"], "channel": ["tv"], "roi": [1.0]}))


def test_roi_recovery_names_the_columns_renamed_in_api_v1():
    old = _estimates(region=["A"], channel=["tv"], roi_mean=[1.0], roi_hdi_low=[0.5], roi_hdi_high=[1.5])
    with pytest.raises(ValueError, match=r"renamed in API v1: roi_mean -> roi, roi_hdi_low -> roi_low, roi_hdi_high"):
        roi_recovery(old, pd.DataFrame({"region": ["A"], "channel": ["tv"], "roi": [1.0]}))


def test_roi_recovery_of_the_truth_itself_is_perfect_and_a_biased_estimate_is_scored_by_its_bias():
    truth = simulate_world(seed=5, weeks=20, n_users=500).truth.cells
    exact = truth.assign(roi_low=truth["roi"], roi_high=truth["roi"])
    assert roi_recovery(exact, truth) == {"roi_median_abs_pct_error": 0.0, "roi_hdi90_coverage": 1.0}
    biased = truth.assign(roi=1.25 * truth["roi"], roi_low=1.1 * truth["roi"], roi_high=1.4 * truth["roi"])
    assert roi_recovery(biased, truth) == {
        "roi_median_abs_pct_error": pytest.approx(25.0),
        "roi_hdi90_coverage": 0.0,
    }
