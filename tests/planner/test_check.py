"""``growth-allocator check``: the example plan played forward in its own simulated world (seed 7), then checked.

The world is continued by :meth:`simulator.World.realize` under three stories, each with a known answer:

* the plan followed (seed 19): every region inside its interval, verdict ``keep``; and seed 12, where North America
  lands just below its own 90% interval (with the shipped posterior its forecast runs ~1.2% above the truth, so it
  does under half the seeds): the regions taken together are within what the model expects (joint p ~0.2), so
  still ``keep``, with North America named to watch (``benchmarks/check_calibration.py``: keep 19 of 20 seeds);
* the true effect of Asia's two largest cells halved (google_search, meta_ads: about 2.5 M EUR less revenue over the
  quarter, against an interval half-width of about 0.8 M): Asia below its interval, ``re-plan``, a lift test in Asia;
* the old (current) spend instead of the plan (seed 20): 35 of 44 cells off plan by more than 10%, revenue inside
  the intervals given that spend: ``not followed``, the model not blamed.

The scenario tests call the engine (:func:`planner.check.assess_plan`) on the realized tables with one loaded
posterior; one test runs :func:`planner.check.check_run` end to end on a saved folder.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pandas as pd
import pytest

from planner.check import PlanTarget, assess_plan, check_run
from planner.store import RunNotFound, RunStore

ROOT = Path(__file__).resolve().parents[2]
HALVED = {"Asia/google_search": 0.5, "Asia/meta_ads": 0.5}


@pytest.fixture(scope="module")
def world():
    from simulator import simulate_world

    return simulate_world(seed=7)


@pytest.fixture(scope="module")
def fitted(sample_run):
    import mmm

    run, url = sample_run
    return mmm.load(RunStore(url).get(run.run_id).posterior_path)


@pytest.fixture(scope="module")
def target(sample_run) -> PlanTarget:
    run, url = sample_run
    return PlanTarget.from_record(RunStore(url).get(run.run_id))


@pytest.fixture(scope="module")
def plan(sample_run) -> pd.DataFrame:
    return pd.read_csv(sample_run[0].run_dir / "allocation.csv")


@pytest.fixture(scope="module")
def followed_folder(world, plan, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("followed")
    world.realize(plan, 13, seed=19).save(folder)
    return folder


@pytest.fixture
def store_copy(sample_run, tmp_path) -> str:
    """The example run's store copied, so recording checks leaves the session's store as it was."""
    import sqlite3

    source = sqlite3.connect(sample_run[1].removeprefix("sqlite:///"))
    target = sqlite3.connect(tmp_path / "runs.db")
    with target:
        source.backup(target)  # the store may keep recent writes in its WAL file: copy through SQLite
    source.close()
    target.close()
    return f"sqlite:///{(tmp_path / 'runs.db').as_posix()}"


def test_plan_followed_keeps(world, plan, target, fitted):
    findings = assess_plan(target, world.realize(plan, 13, seed=19).data, fitted)

    assert findings.weeks == 13 and findings.first_week == "2025-12-29"
    assert findings.outcome["inside"].all(), findings.outcome
    assert (findings.adherence["status"] == "followed").all()
    assert findings.khat <= 0.7
    assert findings.joint_p >= 0.1
    assert findings.verdict == "keep"
    assert "keep the plan" in findings.recommendation and "Re-plan" not in findings.recommendation


def test_one_region_just_outside_its_interval_is_watched_not_replanned(world, plan, target, fitted):
    findings = assess_plan(target, world.realize(plan, 13, seed=12).data, fitted)

    outcome = findings.outcome.set_index("region")
    assert outcome.at["North America", "status"] == "below"
    assert outcome.drop(index=["North America", "total"])["inside"].all()
    assert 0.1 <= findings.joint_p < 0.5
    assert findings.verdict == "keep"
    assert "Revenue in North America was below" in findings.recommendation
    assert "watch North America" in findings.recommendation and "model was wrong" not in findings.recommendation
    assert "Re-plan" not in findings.recommendation


def test_halved_effect_in_asia_asks_for_replan_and_a_lift_test(world, plan, target, fitted):
    realization = world.realize(plan, 13, seed=19, shift=HALVED)
    findings = assess_plan(target, realization.data, fitted)

    outcome = findings.outcome.set_index("region")
    lost = realization.contributions.query("region == 'Asia' and channel in ['google_search', 'meta_ads']")
    assert lost["contribution"].sum() > 2.0e6  # what is left; as much again was lost
    assert outcome.at["Asia", "status"] == "below"
    assert outcome.at["Asia", "revenue_low"] - outcome.at["Asia", "revenue_realized"] > 1.0e6
    assert outcome.drop(index=["Asia", "total"])["inside"].all()
    assert findings.joint_p < 0.05
    assert findings.verdict == "re-plan"
    assert "Revenue in Asia was below" in findings.recommendation
    assert "run a lift test on Asia/" in findings.recommendation


def test_ignored_plan_is_not_followed_and_the_model_not_blamed(world, plan, target, fitted):
    old = plan.assign(spend_period=plan["spend_period_current"])
    findings = assess_plan(target, world.realize(old, 13, seed=20).data, fitted)

    cells = findings.adherence.query("level == 'cell'").set_index(["region", "channel"])
    assert cells.at[("Asia", "google_search"), "status"] == "under"
    assert cells.at[("Europe", "tiktok_shop"), "status"] == "over"
    assert (cells["status"] != "followed").sum() > 20
    assert findings.outcome["inside"].all()
    assert findings.verdict == "not followed"
    assert "follow the plan" in findings.recommendation
    assert "Asia/google_search under" in findings.recommendation
    assert "model was wrong" not in findings.recommendation


def test_check_run_writes_files_and_records_the_check(sample_run, followed_folder, store_copy, tmp_path):
    run, _ = sample_run
    result = check_run(run.run_id, followed_folder, store_url=store_copy, out=tmp_path / "checks")

    assert result.verdict == "keep"
    assert result.check_dir == tmp_path / "checks" / result.check_id
    html = (result.check_dir / "check.html").read_text(encoding="utf-8")
    assert "keep" in html and "EUR" in html and "90% HDI" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    table = pd.read_csv(result.check_dir / "check.csv", keep_default_na=False)
    assert set(table["level"]) == {"cell", "region", "total"}
    assert len(table.query("level == 'cell'")) == 44 and len(table.query("level == 'region'")) == 4
    for column in ("planned_spend", "realized_spend", "spend_status", "revenue_low", "p_roi_below_hurdle_after"):
        assert column in table.columns
    checks = RunStore(store_copy).checks(run.run_id)
    assert checks["check_id"].tolist() == [result.check_id]
    assert checks.at[0, "verdict"] == "keep" and checks.at[0, "weeks"] == 13
    assert checks.at[0, "summary"]["outside"] == []
    assert set(checks.at[0, "input_hashes"]) >= {"spend", "kpi", "controls"}


def test_unknown_run_is_a_clear_error(followed_folder, store_copy):
    with pytest.raises(RunNotFound):
        check_run("19990101T000000Z-000000", followed_folder, store_url=store_copy)


def test_data_without_weeks_after_the_plan_is_a_clear_error(sample_run, store_copy):
    with pytest.raises(ValueError, match=r"no week on or after the plan's first week 2025-12-29"):
        check_run(sample_run[0].run_id, ROOT / "data" / "sample", store_url=store_copy)


def test_missing_cells_are_named(sample_run, followed_folder, store_copy, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(followed_folder, folder, ignore=shutil.ignore_patterns("events*", "paths*"))
    spend = pd.read_csv(folder / "spend.csv")
    spend[spend["channel"] != "meta_ads"].to_csv(folder / "spend.csv", index=False)  # a channel the data lacks
    with pytest.raises(ValueError, match=r"lacks rows for 4 planned cells .*Europe/meta_ads \(0 of 13 weeks\)"):
        check_run(sample_run[0].run_id, folder, store_url=store_copy)

    realized = (spend["region"] == "Europe") & (spend["channel"] == "meta_ads") & (spend["week"] >= "2025-12-29")
    spend[~realized].to_csv(folder / "spend.csv", index=False)  # some weeks of one cell: the data contract names them
    with pytest.raises(ValueError, match=r"13 \(week, region, channel\) combinations have no row.*'meta_ads'"):
        check_run(sample_run[0].run_id, folder, store_url=store_copy)


def test_cli_exits_2_with_the_reason(sample_run, store_copy, capsys):
    from planner.check_cli import add_check_parser

    parser = argparse.ArgumentParser()
    add_check_parser(parser.add_subparsers())
    args = parser.parse_args(["check", "--run", sample_run[0].run_id, "--data", str(ROOT / "data" / "sample")])
    args.store = store_copy
    assert args.handler(args) == 2
    assert "no week on or after" in capsys.readouterr().err


def test_joint_surprise_is_the_bonferroni_of_the_chi_square_and_total_tails_for_gaussian_draws():
    # Independent computation: for Gaussian draws, the regions' test is the chi-square tail of the realized
    # Mahalanobis distance (as many degrees of freedom as regions) and the total's the two-sided normal tail of the
    # sum; joint_surprise is the smaller doubled.
    import numpy as np
    from scipy import stats

    from planner.check import joint_surprise

    rng = np.random.default_rng(3)
    cov = np.array([[4.0, 1.2, 0.0], [1.2, 1.0, 0.3], [0.0, 0.3, 2.0]])
    chol = np.linalg.cholesky(cov)
    mean = np.array([100.0, 50.0, 20.0])
    draws = mean + rng.standard_normal((40_000, 3)) @ chol.T
    for x in ([101.0, 50.5, 20.0], [104.0, 49.0, 23.0], [97.0, 53.0, 17.0], [98.0, 49.0, 18.5]):
        gap = np.asarray(x) - mean
        p_regions = stats.chi2.sf(gap @ np.linalg.solve(cov, gap), df=3)
        p_total = 2 * stats.norm.sf(abs(gap.sum()) / np.sqrt(cov.sum()))
        expected = min(1.0, 2 * min(p_regions, p_total))
        assert joint_surprise(draws, np.asarray(x)) == pytest.approx(expected, abs=0.015), x
    # One region: its own two-sided test, nothing doubled.
    one = draws[:, :1]
    assert joint_surprise(one, np.array([103.0])) == pytest.approx(2 * stats.norm.sf(1.5), abs=0.01)


def test_joint_surprise_fires_about_a_tenth_of_the_time_when_right_and_on_a_shift_shared_by_all_regions():
    import numpy as np
    from scipy import stats

    from planner.check import joint_surprise

    rng = np.random.default_rng(4)
    cov = np.diag([1.0, 1.0, 1.0, 1.0])
    draws = rng.standard_normal((20_000, 4))
    # A right model: realized values drawn from the predictive. A test at 0.1 fires on at most about a tenth
    # (Bonferroni is conservative; 400 values: binomial sd 1.5 points), where reading four 90% intervals one by one
    # fires on about 1 - 0.9^4 = 34%.
    realized = rng.standard_normal((400, 4))
    p = np.array([joint_surprise(draws[:4000], x) for x in realized])
    assert 0.02 <= np.mean(p < 0.1) <= 0.13
    low, high = np.quantile(draws, [0.05, 0.95], axis=0)
    assert ((realized < low) | (realized > high)).any(axis=1).mean() > 0.25
    # Every region 1.2 sd low: each inside its own 90% interval, the pattern unremarkable (chi-square(4) tail of
    # 5.76: 0.22), but the total 2.4 sd low: the joint test asks for a re-plan.
    shared = np.full(4, -1.2)
    assert stats.chi2.sf(shared @ np.linalg.solve(cov, shared), df=4) > 0.2
    assert joint_surprise(draws, shared) < 0.1
    # A direction the draws do not vary in: a realized value on it is fine, off it impossible; wrong shapes are
    # clear errors.
    flat = np.column_stack([draws[:, :2], np.full(len(draws), 7.0)])
    assert joint_surprise(flat, np.array([0.1, -0.2, 7.0])) > 0.5
    assert joint_surprise(flat, np.array([0.1, -0.2, 7.5])) == 0.0
    with pytest.raises(ValueError, match="predictive must be"):
        joint_surprise(draws, np.array([1.0, 2.0]))


def test_verdict_words_for_the_total_and_for_regions_jointly_off(world, plan, target, fitted):
    from planner.check import judge

    findings = assess_plan(target, world.realize(plan, 13, seed=19).data, fitted)
    args = (findings.adherence, findings.outcome, findings.evidence, findings.khat, findings.ess, target, 0.9)
    # every region inside its own interval, the regions jointly off: re-plan, saying so
    verdict, text = judge(*args, joint_p=0.03)
    assert verdict == "re-plan" and "taken together the regions' revenue is outside" in text
    # a joint p that is not a number is never read as "as expected"
    assert judge(*args, joint_p=float("nan"))[0] == "re-plan"
    # only the total outside its interval, not far enough to re-plan: the total is named, as the total
    outcome = findings.outcome.copy()
    outcome.loc[outcome["region"] == "total", ["status", "inside"]] = ["below", False]
    verdict, text = judge(findings.adherence, outcome, *args[2:], joint_p=0.3)
    assert verdict == "keep"
    assert "Revenue over all regions was below" in text and "watch the total next quarter" in text
    assert "one of them often lands outside" not in text
