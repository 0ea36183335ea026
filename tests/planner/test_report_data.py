"""The report's content for the sample run: numbers equal to the engines', a stored run rebuilt to the same report,
and the ``report`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest

from contracts import hdi
from planner.cli import main
from planner.report_data import report_data_from_store

pytestmark = pytest.mark.slow


def test_run_folder_has_both_reports_and_the_stage_is_logged(sample_run):
    run, _ = sample_run
    assert (run.run_dir / "report.html").stat().st_size > 10_000
    assert (run.run_dir / "report.xlsx").stat().st_size > 5_000
    assert "stage report: done" in (run.run_dir / "run.log").read_text()


def test_headline_numbers_are_the_plans_own(sample_run, sample_report):
    run, _ = sample_run
    plan = run.plan
    curves = plan.allocator.curves
    spend = plan.table["spend_period"].to_numpy()
    current = plan.table["spend_period_current"].to_numpy()
    diff = curves.revenue(spend).sum(axis=1) - curves.revenue(current).sum(axis=1)
    head = sample_report.headline
    assert head["p_uplift_positive"] == pytest.approx((diff > 0).mean())
    assert head["revenue_period_change"] == pytest.approx(plan.uplift["revenue_period_change"])
    low, high = hdi(curves.revenue(spend).sum(axis=1), 0.9)
    assert (head["revenue_period_low"], head["revenue_period_high"]) == pytest.approx((float(low), float(high)))
    plan_json = json.loads((run.run_dir / "plan.json").read_text())
    assert head["budget"] == pytest.approx(plan_json["budget"])


def test_allocation_roi_intervals_contain_the_mean_and_flags_match(sample_report):
    table = sample_report.allocation
    assert (table["roi_low"] <= table["roi"] + 1e-9).all() and (table["roi"] <= table["roi_high"] + 1e-9).all()
    assert (table["lower"] <= table["spend_period"] + 1e-6).all()
    assert (table["spend_period"] <= table["upper"] + 1e-6).all()
    assert set(sample_report.flags["channel"]) == set(table.loc[table["flag"], "channel"])
    # the rule rows' membership matrices recheck the plan's shares
    spend = table["spend_period"].to_numpy()
    for i, row in sample_report.rule_rows.iterrows():
        if row["kind"] == "share":
            share = sample_report.rule_members[i] @ spend / (sample_report.rule_reference[i] @ spend)
            ok = share >= row["ratio"] - 1e-5 if row["side"] == "floor" else share <= row["ratio"] + 1e-5
            assert ok, (row["rule"], share)


def test_rules_name_their_price_and_reconciliation_shares_sum_to_one(sample_report):
    rules = sample_report.rules.set_index("rule")
    brand = rules.loc["objective share: brand"]
    assert brand["binding"] and brand["side"] == "floor"
    assert f"{brand['cost_per_100k']:,.0f}" in brand["text"] and "10% brand floor" in brand["text"]
    assert not rules.loc["objective share: retention", "binding"]
    rec = sample_report.reconciliation
    for column in ("markov_share", "shapley_share", "mmm_share"):
        assert rec[column].sum() == pytest.approx(1.0)
        assert (rec[f"{column}_low"] <= rec[column] + 1e-12).all() and (rec[column] <= rec[f"{column}_high"]).all()
    apart = (rec["markov_share_high"] < rec["mmm_share_low"]) | (rec["markov_share_low"] > rec["mmm_share_high"])
    apart |= (rec["shapley_share_high"] < rec["mmm_share_low"]) | (rec["shapley_share_low"] > rec["mmm_share_high"])
    np.testing.assert_array_equal(rec["disagree"].to_numpy(), apart.to_numpy())


def test_stored_run_rebuilds_the_same_report_and_the_command_writes_it(sample_run, sample_report, tmp_path):
    run, url = sample_run
    rebuilt, record = report_data_from_store(run.run_id, url)
    np.testing.assert_array_equal(rebuilt.allocation["spend_period"], sample_report.allocation["spend_period"])
    assert rebuilt.headline["revenue_period"] == pytest.approx(sample_report.headline["revenue_period"])
    assert rebuilt.provenance["input_hashes"] == record.input_hashes
    assert main(["report", "--run", run.run_id[:12], "--store", url, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").is_file() and (tmp_path / "report.xlsx").is_file()
    assert main(["report", "--run", "nope", "--store", url]) == 2
