"""The simulator's truth, recomputed independently from its stated parameters and the published tables.

The reference implementations here are deliberately naive loops over weeks, written from the formulas in
``truth.meta`` rather than from the simulator's vectorised code.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from contracts import ROI_HURDLE
from simulator import simulate_world

CELLS = [
    ("Asia", "tiktok_shop"),
    ("Europe", "youtube_video"),
    ("North America", "email_crm"),
    ("Other", "kol_affiliate"),
]


@pytest.fixture(scope="module")
def world():
    return simulate_world(seed=11, weeks=104, n_users=20_000)


def naive_contributions(spend: list[float], alpha: float, l_max: int, half_sat: float, shape: float, beta: float):
    norm = sum(alpha**j for j in range(l_max))
    out = []
    for t in range(len(spend)):
        adstock = sum(alpha**lag / norm * spend[t - lag] for lag in range(l_max) if t - lag >= 0)
        out.append(beta * adstock**shape / (adstock**shape + half_sat**shape) if adstock > 0 else 0.0)
    return out


def cell_params(world, region, channel):
    row = world.truth.cells.set_index(["region", "channel"]).loc[(region, channel)]
    spend = world.spend.query("region == @region and channel == @channel").sort_values("week")["spend"].tolist()
    return row, spend


@pytest.mark.parametrize("region, channel", CELLS)
def test_weekly_contributions_roi_and_mroi_recomputed(world, region, channel):
    row, spend = cell_params(world, region, channel)
    args = (row.adstock_alpha, int(row.l_max), row.half_saturation_weekly, row.hill_shape, row.beta_weekly)
    contrib = naive_contributions(spend, *args)

    truth_weekly = world.truth.weekly.query("region == @region and channel == @channel").sort_values("week")
    np.testing.assert_allclose(truth_weekly["contribution"], contrib, rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(truth_weekly["spend_weekly"], spend)
    assert row.roi == pytest.approx(sum(contrib) / sum(spend), rel=1e-9)
    assert row.contribution_window == pytest.approx(sum(contrib), rel=1e-9)
    assert row.spend_window == pytest.approx(sum(spend), rel=1e-12)

    # Marginal ROI: revenue from 0.1% more spend every week, per unit of that extra spend (central difference).
    eps = 1e-3
    up = naive_contributions([x * (1 + eps) for x in spend], *args)
    down = naive_contributions([x * (1 - eps) for x in spend], *args)
    mroi = (sum(up) - sum(down)) / (2 * eps * sum(spend))
    assert row.mroi == pytest.approx(mroi, rel=1e-5)


def test_revenue_is_baseline_plus_media_plus_noise(world):
    base = world.truth.baseline.merge(world.kpi, on=["week", "region"])
    np.testing.assert_allclose(base["baseline"] + base["media"] + base["noise"], base["revenue"], rtol=0, atol=1e-6)
    media = world.truth.weekly.groupby(["week", "region"], as_index=False)["contribution"].sum()
    merged = base.merge(media, on=["week", "region"])
    np.testing.assert_allclose(merged["media"], merged["contribution"], rtol=1e-12)
    # The noise has the stated size: sd / region level close to noise_sd (104 draws per region: ±20%).
    levels = pd.DataFrame(world.truth.meta["baseline_params"]).set_index("region")["level"]
    share = base.groupby("region")["noise"].std() / levels
    np.testing.assert_allclose(share, world.config.noise_sd, rtol=0.2)


def test_baseline_recomputed_from_its_parameters(world):
    params = pd.DataFrame(world.truth.meta["baseline_params"]).set_index("region")
    base = world.truth.baseline.merge(world.controls, on=["week", "region"])
    base["t"] = (base["week"] - base["week"].min()).dt.days // 7
    for region, g in base.groupby("region"):
        p = params.loc[region]
        demand = g["baseline"] / (
            p.level * (1 + p.trend_per_year * g["t"] / 52) * (1 + p.promo_effect * g["promo_depth"])
        )
        # What remains is the two-harmonic yearly seasonality: smooth, mean about 1, within ±20%.
        assert demand.between(0.8, 1.2).all()
        assert demand.mean() == pytest.approx(1.0, abs=0.03)


@pytest.fixture(scope="module")
def two_arm_world():
    return simulate_world(seed=11, weeks=104, n_users=2_000, lift_arms=2, n_lift_tests=8)


@pytest.mark.parametrize("name", ["world", "two_arm_world"])
def test_lift_test_truth_recomputed(name, request):
    """Each test's true delta undoes that test alone: with two tests in a cell, the other's carryover must not
    reach this one's weeks (two-arm tests are at least ``l_max`` weeks apart)."""
    world = request.getfixturevalue(name)
    cells = world.truth.cells.set_index(["region", "channel"])
    weeks = sorted(world.spend["week"].unique())
    for test in world.truth.lift_tests.itertuples():
        row = cells.loc[(test.region, test.channel)]
        args = (row.adstock_alpha, int(row.l_max), row.half_saturation_weekly, row.hill_shape, row.beta_weekly)
        actual = world.spend.query("region == @test.region and channel == @test.channel").sort_values("week")
        actual = actual["spend"].tolist()
        first = weeks.index(test.start)
        planned = list(actual)
        planned[first : first + len(test.planned_spend)] = test.planned_spend
        window = slice(first, first + len(test.planned_spend))
        delta = sum(naive_contributions(actual, *args)[window]) - sum(naive_contributions(planned, *args)[window])
        assert test.revenue_delta_true == pytest.approx(delta, abs=0.01)
        assert test.spend_delta == pytest.approx(sum(actual[window]) - sum(planned[window]), abs=0.05)
        assert test.end == weeks[first + len(test.planned_spend) - 1] + pd.Timedelta(days=6)
    measured = world.lift_tests.merge(world.truth.lift_tests, on=["region", "channel", "start", "end"])
    z = (measured["revenue_delta_x"] - measured["revenue_delta_true"]) / measured["revenue_delta_se_x"]
    assert (z.abs() < 4).all()


def test_two_arm_lift_tests_see_each_cell_dark_and_at_twice_its_spend(two_arm_world):
    world = two_arm_world
    tests = world.truth.lift_tests
    weeks = sorted(world.spend["week"].unique())
    half, l_max = len(weeks) // 2, world.config.l_max
    assert len(tests) == 8 and tests.groupby(["region", "channel"]).size().eq(2).all()
    for (region, channel), pair in tests.groupby(["region", "channel"]):
        actual = world.spend.query("region == @region and channel == @channel").set_index("week")["spend"]
        arms = {}
        for test in pair.itertuples():
            planned = np.asarray(test.planned_spend)
            seen = actual.loc[test.start : test.end].to_numpy()
            assert len(seen) == len(planned) == 4
            if test.spend_delta < 0:
                arms["dark"] = weeks.index(test.start)
                np.testing.assert_array_equal(seen, 0.0)
                assert test.spend_delta == pytest.approx(-planned.sum(), abs=0.01)
            else:
                arms["double"] = weeks.index(test.start)
                np.testing.assert_allclose(seen, 2 * planned, atol=0.005)
                assert test.spend_delta == pytest.approx(planned.sum(), abs=0.05)
        assert set(arms) == {"dark", "double"}, (region, channel)
        early, late = sorted(arms.values())
        assert 8 <= early and early + 4 <= half and late >= half + l_max and late + 4 <= len(weeks)


def test_bad_world_designs_are_refused_before_anything_is_drawn():
    with pytest.raises(ValueError, match="lift_arms must be 1 or 2, got 3"):
        simulate_world(seed=1, weeks=20, n_users=200, lift_arms=3)
    with pytest.raises(ValueError, match=r"n_users must be >= 1 \(a world has journeys\), got 0"):
        simulate_world(seed=1, weeks=20, n_users=0)  # it crashed in the journeys before
    with pytest.raises(ValueError, match=r"lift_arms=2 needs a window of at least .* = 40 weeks .*; got 39"):
        simulate_world(seed=1, weeks=39, n_users=200, lift_arms=2)
    tests = simulate_world(seed=1, weeks=40, n_users=200, lift_arms=2, n_lift_tests=8).truth.lift_tests
    assert len(tests) == 8 and (tests["end"] > tests["start"]).all()


def test_some_cells_clearly_below_and_some_clearly_above_the_hurdle(world):
    roi = world.truth.cells["roi"]
    assert (roi < 1.2).sum() >= 8
    assert (roi > 2.0).sum() >= 12
    assert world.truth.meta["roi_hurdle"] == ROI_HURDLE == 1.5
    assert (world.truth.cells["roi_below_hurdle"] == (roi < ROI_HURDLE)).all()


def test_budget_splits_follow_the_growth_plan(world):
    spend = world.spend.merge(world.channels, on="channel")
    by_objective = spend.groupby("objective")["spend"].sum() / spend["spend"].sum()
    np.testing.assert_allclose(by_objective[["acquisition", "retention", "brand"]], [0.6, 0.3, 0.1], atol=0.01)
    by_region = spend.groupby("region")["spend"].sum() / spend["spend"].sum()
    np.testing.assert_allclose(
        by_region[["Asia", "Europe", "North America", "Other"]], [0.35, 0.25, 0.2, 0.2], atol=0.01
    )
    assert world.spend["spend"].sum() / world.kpi["revenue"].sum() == pytest.approx(0.12, abs=0.015)


def test_spend_follows_demand_and_has_flighting(world):
    spend = world.spend.pivot_table(index="week", columns=["region", "channel"], values="spend")
    demand = world.truth.baseline.pivot_table(index="week", columns="region", values="baseline")
    # Search follows demand closely (the confounding a media-mix model must cope with).
    corr = spend[("Europe", "google_search")].corr(demand["Europe"])
    assert corr > 0.4
    # Brand flights and sponsorship events leave weeks of zero spend; always-on channels never go dark by plan.
    assert (spend[("Asia", "sponsorship_events")] == 0).mean() > 0.5
    assert (spend[("Asia", "youtube_video")] == 0).mean() > 0.2
    assert spend[("Asia", "email_crm")].std() / spend[("Asia", "email_crm")].mean() > 0.1


def test_truth_json_round_trips_the_cell_table(world, tmp_path):
    import json

    world.save(tmp_path)
    payload = json.loads((tmp_path / "truth.json").read_text())
    cells = pd.DataFrame(payload["cells"])
    assert cells.columns.tolist() == world.truth.cells.columns.tolist()
    assert cells.columns.tolist() == [
        "region",
        "channel",
        "objective",
        "adstock_alpha",
        "l_max",
        "half_saturation_weekly",
        "hill_shape",
        "beta_weekly",
        "spend_window",
        "contribution_window",
        "roi",
        "mroi",
        "roi_below_hurdle",
    ]
    numbers = world.truth.cells.select_dtypes("number").columns
    np.testing.assert_allclose(cells[numbers], world.truth.cells[numbers], rtol=1e-9)
    assert cells["roi_below_hurdle"].tolist() == world.truth.cells["roi_below_hurdle"].tolist()
    weekly = {(c["region"], c["channel"]): c["contribution"] for c in payload["weekly_contributions"]}
    region, channel = CELLS[0]
    expect = world.truth.weekly.query("region == @region and channel == @channel").sort_values("week")["contribution"]
    np.testing.assert_allclose(weekly[(region, channel)], expect, rtol=1e-9)
    assert len(payload["weeks"]) == 104
    assert all(math.isfinite(v) for c in payload["cells"] for v in c.values() if isinstance(v, float))
