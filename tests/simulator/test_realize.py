"""A world continued by a plan: history kept byte for byte, the same baseline and response curves, fresh noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from contracts import load_dataset, period_spend
from simulator import Realization, simulate_world
from simulator.media import adstock_weights, hill
from simulator.realize import _replay_baseline

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SHIFTED = "Europe/meta_ads"


@pytest.fixture(scope="module")
def world():
    return simulate_world(seed=5, weeks=60, n_users=500)


@pytest.fixture(scope="module")
def plan(world):
    return world.truth.average_period_spend(13)


@pytest.fixture(scope="module")
def real(world, plan):
    return world.realize(plan, weeks=13, seed=11)


def _weekly(real: Realization) -> pd.DataFrame:
    return real.contributions[["week", "region", "channel", "spend"]]


def test_history_is_kept_byte_for_byte_and_new_weeks_follow_on(world, real, tmp_path):
    last = world.spend["week"].max()
    assert list(real.weeks) == list(pd.date_range(last + pd.Timedelta(days=7), periods=13, freq="7D"))
    assert (real.weeks.day_of_week == 0).all()
    for name in ("spend", "kpi", "controls"):
        old, new = getattr(world, name), getattr(real, name)
        pd.testing.assert_frame_equal(new.iloc[: len(old)], old)
        assert new["week"].iloc[len(old) :].min() == real.weeks[0]
    for name in ("events", "paths", "channels", "lift_tests"):
        pd.testing.assert_frame_equal(getattr(real, name), getattr(world, name))

    world.save(tmp_path / "world")
    written = real.save(tmp_path / "real")
    for name in ("spend.csv", "kpi.csv", "controls.csv"):
        assert (tmp_path / "real" / name).read_bytes().startswith((tmp_path / "world" / name).read_bytes())
    for name in ("events.csv.gz", "paths.csv", "channels.csv", "lift_tests.csv"):
        assert (tmp_path / "real" / name).read_bytes() == (tmp_path / "world" / name).read_bytes()
    assert tmp_path / "real" / "truth.json" in written
    loaded = load_dataset(tmp_path / "real")
    assert len(loaded.kpi) == len(world.kpi) + 13 * 4
    pd.testing.assert_frame_equal(loaded.spend, real.spend, check_dtype=False)


def test_same_seed_same_tables_other_seed_other_noise_only(world, plan, real, tmp_path):
    again = world.realize(plan, weeks=13, seed=11)
    other = world.realize(plan, weeks=13, seed=12)
    real.save(tmp_path / "a")
    again.save(tmp_path / "b")
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    pd.testing.assert_frame_equal(other.contributions, real.contributions)
    assert not np.allclose(other.revenue["noise"], real.revenue["noise"])
    # Only the random promotion weeks (and so their baseline) may differ; the calendar and trend do not.
    same_promo = (other.revenue["promo_depth"] == real.revenue["promo_depth"]).to_numpy()
    assert same_promo.mean() > 0.8
    np.testing.assert_array_equal(other.revenue["baseline"][same_promo], real.revenue["baseline"][same_promo])


def test_revenue_is_baseline_plus_true_contributions_plus_noise(real):
    media = real.contributions.groupby(["week", "region"], sort=False)["contribution"].sum().to_numpy()
    np.testing.assert_allclose(real.revenue["media"], media, rtol=1e-12)
    rev = real.revenue
    np.testing.assert_allclose(rev["expected_revenue"], rev["baseline"] + rev["media"], rtol=1e-12)
    np.testing.assert_allclose(rev["revenue"], rev["expected_revenue"] + rev["noise"], rtol=1e-12)
    new_kpi = real.kpi.iloc[-len(rev) :]
    np.testing.assert_array_equal(new_kpi["revenue"].to_numpy(), rev["revenue"].to_numpy())


def test_without_noise_revenue_is_expected_revenue_to_the_cent():
    quiet = simulate_world(seed=2, weeks=30, n_users=200, noise_sd=0.0)
    rev = quiet.realize(quiet.truth.average_period_spend(13), weeks=5, seed=0).revenue
    np.testing.assert_array_equal(rev["revenue"], np.round(rev["expected_revenue"], 2))
    assert np.abs(rev["noise"]).max() <= 0.005 + 1e-9


def test_baseline_process_is_continued_not_restarted(world, real):
    # The world's own demand stream, replayed, gives back its baseline and promotions over the history exactly.
    n = len(world.spend["week"].unique())
    dates = pd.DatetimeIndex(sorted(world.spend["week"].unique()))
    process = _replay_baseline(world, dates, 13)
    truth = world.truth.baseline.pivot(index="week", columns="region", values="baseline")
    regions = list(dict.fromkeys(world.truth.cells["region"]))
    history = process.baseline(np.arange(n), process.demand[:n], process.promo_depth)
    np.testing.assert_array_equal(history, truth[regions].to_numpy())
    promo = world.controls.pivot(index="week", columns="region", values="promo_depth")[regions].to_numpy()
    np.testing.assert_array_equal(process.promo_depth, promo)
    # A world simulated 13 weeks longer from the same seed has other trend, spend and curves (its draws depend on
    # the window's length), but the same seasonality: the realization's is that world's over the same weeks.
    longer = simulate_world(seed=world.seed, weeks=n + 13, n_users=200)
    longer_dates = pd.DatetimeIndex(sorted(longer.spend["week"].unique()))
    np.testing.assert_array_equal(_replay_baseline(longer, longer_dates, 0).demand, process.demand)
    # Continuity: the first new week's baseline is within the weekly range the history moves in.
    first = real.revenue.set_index("region")["baseline"].iloc[: len(regions)][regions].to_numpy()
    step = np.abs(np.diff(history, axis=0)).max(axis=0)
    assert np.all(np.abs(first - history[-1]) <= 2 * step)


def test_adstock_carries_the_worlds_last_weeks_over(world):
    cells = world.truth.cells
    zero = cells[["region", "channel"]].assign(spend_period=0.0)
    real = world.realize(zero, weeks=10, seed=0)
    l_max = world.config.l_max
    spend = world.spend.pivot_table(index="week", columns=["region", "channel"], values="spend").sort_index()
    first = real.contributions[real.contributions["week"] == real.weeks[0]]
    for row in cells.itertuples():
        history = spend[(row.region, row.channel)].to_numpy()
        w = adstock_weights(row.adstock_alpha, l_max)
        carried = sum(w[lag] * history[-lag] for lag in range(1, l_max))
        expected = row.beta_weekly * hill(carried, row.half_saturation_weekly, row.hill_shape)
        got = first.set_index(["region", "channel"]).loc[(row.region, row.channel), "contribution"]
        np.testing.assert_allclose(got, expected, rtol=1e-10)
    after = real.contributions[real.contributions["week"] >= real.weeks[l_max - 1]]
    assert (after["contribution"] == 0).all() and (after["adstock"] == 0).all()


def test_constant_spend_reaches_the_closed_form_steady_state(world, plan, real):
    # After l_max weeks of the same weekly spend x, adstock is x and the contribution is beta * hill(x): the true
    # response curve over one week.
    curves = world.truth.response_curves(period_weeks=1)
    last = real.contributions[real.contributions["week"] == real.weeks[-1]]
    steady = last.merge(curves.cells[["region", "channel"]].reset_index(names="k"), on=["region", "channel"])
    x = np.round(plan.set_index(["region", "channel"])["spend_period"] / 13, 2)
    np.testing.assert_array_equal(steady["spend"], x.loc[list(zip(steady["region"], steady["channel"], strict=True))])
    np.testing.assert_allclose(steady["adstock"], steady["spend"], rtol=1e-12)
    spend = np.zeros(curves.n_cells)
    spend[steady["k"]] = steady["spend"]
    np.testing.assert_allclose(steady["contribution"], curves.revenue(spend)[0, steady["k"]], rtol=1e-10)


def test_shift_scales_one_cells_true_effect_only(world, plan, real):
    shifted = world.realize(plan, weeks=13, seed=11, shift={SHIFTED: 0.5})
    assert shifted.shift == {SHIFTED: 0.5} and real.shift == {}
    cell = (shifted.contributions["region"] + "/" + shifted.contributions["channel"] == SHIFTED).to_numpy()
    a, b = real.contributions["contribution"].to_numpy(), shifted.contributions["contribution"].to_numpy()
    np.testing.assert_allclose(b[cell], 0.5 * a[cell], rtol=1e-12)
    assert a[cell].sum() > 0
    np.testing.assert_array_equal(b[~cell], a[~cell])
    pd.testing.assert_frame_equal(_weekly(shifted), _weekly(real))
    np.testing.assert_array_equal(shifted.revenue["baseline"], real.revenue["baseline"])
    gap = (real.revenue["revenue"] - shifted.revenue["revenue"]).to_numpy()
    lost = 0.5 * a[cell]
    europe = (real.revenue["region"] == "Europe").to_numpy()
    np.testing.assert_allclose(gap[europe], lost, atol=0.011)
    assert np.abs(gap[~europe]).max() == 0


def test_weekly_spend_table_is_taken_as_given(world, real):
    weekly = _weekly(real).assign(week=lambda d: d["week"].dt.strftime("%Y-%m-%d")).sample(frac=1, random_state=0)
    again = world.realize(weekly, weeks=13, seed=11)
    pd.testing.assert_frame_equal(again.contributions, real.contributions)


def _plan_with(plan: pd.DataFrame, change) -> pd.DataFrame:
    return change(plan.copy())


PLAN_ERRORS = {
    "unknown cell": (lambda p: pd.concat([p, p.iloc[[0]].assign(region="Mars")]), r"plan\.region, channel.*Mars"),
    "missing cell": (lambda p: p.iloc[1:], r"plan\.region, channel: 1 cells have no row.*Asia, tiktok_shop"),
    "duplicate": (lambda p: pd.concat([p, p.iloc[[3]]]), r"plan\.region, channel: 1 rows repeat a cell"),
    "negative": (lambda p: p.assign(spend_period=-p["spend_period"]), r"plan\.spend_period: 44 rows are negative"),
    "nan": (lambda p: p.assign(spend_period=np.where(p.index == 2, np.nan, p["spend_period"])), r"plan\.spend_period"),
    "no columns": (lambda p: p.drop(columns=["spend_period"]), r"spend: neither a plan nor weekly spend"),
    "no channel": (lambda p: p.drop(columns=["channel"]), r"plan: missing columns \['channel'\]"),
}


@pytest.mark.parametrize("case", list(PLAN_ERRORS))
def test_bad_plans_are_named(world, plan, case):
    change, message = PLAN_ERRORS[case]
    with pytest.raises(ValueError, match=message):
        world.realize(change(plan.copy()), weeks=13, seed=0)


WEEKLY_ERRORS = {
    "history week": (
        lambda w: w.assign(week=w["week"] - pd.Timedelta(days=7)),
        r"spend\.week, region, channel: 44 rows name no new week and cell.*new weeks 2025-02-24 \.\. 2025-05-19",
    ),
    "missing week": (lambda w: w[w["week"] != w["week"].max()], r"cells have no row"),
    "not monday": (lambda w: w.assign(week=w["week"] + pd.Timedelta(days=1)), r"572 rows name no new week and cell"),
    "bad date": (lambda w: w.assign(week="soon"), r"spend\.week: not readable as dates"),
    "negative": (lambda w: w.assign(spend=np.where(w.index == 0, -1.0, w["spend"])), r"spend\.spend: 1 rows are neg"),
}


@pytest.mark.parametrize("case", list(WEEKLY_ERRORS))
def test_bad_weekly_spend_is_named(world, real, case):
    change, message = WEEKLY_ERRORS[case]
    with pytest.raises(ValueError, match=message):
        world.realize(change(_weekly(real).copy()), weeks=13, seed=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shift": {"Mars/meta_ads": 0.5}}, r"shift: unknown cell 'Mars/meta_ads'"),
        ({"shift": {"Europe/fax": 0.5}}, r"shift: unknown cell"),
        ({"shift": {SHIFTED: 0.0}}, r"must be a finite number > 0"),
        ({"shift": {SHIFTED: -1.0}}, r"must be a finite number > 0"),
        ({"shift": {SHIFTED: float("inf")}}, r"must be a finite number > 0"),
        ({"shift": {SHIFTED: float("nan")}}, r"must be a finite number > 0"),
        ({"weeks": 0}, r"weeks must be an integer >= 1; got 0"),
        ({"seed": -1}, r"seed must be an integer >= 0; got -1"),
        ({"period_weeks": 0}, r"period_weeks must be an integer >= 1"),
    ],
)
def test_bad_arguments_are_named(world, plan, kwargs, message):
    args = {"weeks": 13, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=message):
        world.realize(plan, **args)


def test_sample_world_continues_its_calendar_and_its_bundled_files(tmp_path):
    # The panel does not depend on the number of users, so a small journey sample gives the bundled panel.
    sample = simulate_world(seed=7, n_users=200)
    current = period_spend(sample.spend, 13)
    real = sample.realize(current, weeks=52, seed=3)
    real.save(tmp_path)
    for name in ("spend.csv", "kpi.csv", "controls.csv"):
        assert (tmp_path / name).read_bytes().startswith((SAMPLE / name).read_bytes())
    # Black Friday 2026 has each region's Black Friday depth of 2024 (the design's calendar, continued).
    controls = real.controls.assign(week=pd.to_datetime(real.controls["week"]))
    bf = controls[(controls["week"].dt.month == 11) & controls["week"].dt.day.between(20, 30)]
    depth = bf.pivot_table(index="region", columns=bf["week"].dt.year, values="promo_depth", aggfunc="max")
    np.testing.assert_array_equal(depth[2026].to_numpy(), depth[2024].to_numpy())
