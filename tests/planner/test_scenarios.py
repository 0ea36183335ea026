"""Planner scenarios in the run store: saved under unique names, compared with deltas, promoted to a recorded run."""

from __future__ import annotations

import pandas as pd
import pytest

from optimizer import Policy
from planner.config import load_config_text
from planner.scenarios import compare_scenarios, promote_scenario, scenario_config
from planner.store import RunStore, StoreError

from .test_run import ROOT


def _allocation(spend: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["Asia", "Asia", "Europe"],
            "channel": ["meta_ads", "youtube_video", "meta_ads"],
            "objective": ["acquisition", "brand", "acquisition"],
            "spend_period": spend,
        }
    )


def _save(store: RunStore, name: str, policy: Policy, spend: list[float], revenue: float) -> str:
    head = {"budget": policy.budget, "revenue_period": revenue, "revenue_period_low": revenue * 0.9,
            "revenue_period_high": revenue * 1.1, "revenue_period_change": revenue - 100.0}  # fmt: skip
    return store.save_scenario(
        name, note=f"{name} note", config_toml="", policy_toml=policy.to_toml(), headline=head,
        allocation=_allocation(spend),
    )  # fmt: skip


def test_scenarios_round_trip_unique_names_and_compare_with_deltas(store_url):
    store = RunStore(store_url)
    base = Policy(budget=300.0)
    brand = Policy(budget=300.0, objective_shares={"acquisition": 0.5, "retention": 0.35, "brand": 0.15})
    first = _save(store, "default", base, [150.0, 30.0, 120.0], 1000.0)
    _save(store, "brand 15%", brand, [120.0, 45.0, 135.0], 990.0)
    with pytest.raises(StoreError, match="named 'default' exists already"):
        _save(store, "default", base, [1.0, 1.0, 1.0], 1.0)
    with pytest.raises(StoreError, match="saved scenarios: \\['brand 15%', 'default'\\]"):
        store.get_scenario("nope")
    listing = store.scenarios()
    assert set(listing["name"]) == {"default", "brand 15%"}
    assert listing.set_index("name").loc["default", "revenue_period_low"] == pytest.approx(900.0)
    record = store.get_scenario(first)
    assert record.name == "default" and Policy.from_toml_text(record.policy_toml) == base
    pd.testing.assert_frame_equal(record.allocation, _allocation([150.0, 30.0, 120.0]))
    both = compare_scenarios([store.get_scenario("default"), store.get_scenario("brand 15%")])
    table = both.allocation.set_index(["region", "channel"])
    assert table.loc[("Asia", "youtube_video"), "delta: brand 15%"] == pytest.approx(15.0)
    assert both.revenue["revenue_period_delta"].tolist() == pytest.approx([0.0, -10.0])
    rules = both.rules.set_index("setting")
    assert "brand 15%" in rules.loc["objective shares", "brand 15%"]
    assert "brand 10%" in rules.loc["objective shares", "default"]
    with pytest.raises(ValueError, match="at least two"):
        compare_scenarios([record])


@pytest.mark.slow
def test_promoting_a_scenario_records_a_run_with_its_policy(tmp_path):
    url = f"sqlite:///{(tmp_path / 'runs.db').as_posix()}"
    example = load_config_text((ROOT / "plans" / "example.toml").read_text(encoding="utf-8"), ROOT / "plans")
    fast = example.model_copy(update={"attribution": example.attribution.model_copy(update={"n_boot": 20})})
    policy = Policy(budget=15_000_000.0, roi_hurdle=1.8)
    config = scenario_config(fast, policy)
    store = RunStore(url)
    sid = store.save_scenario(
        "cut to 15M", note="finance asked", config_toml=config.to_toml(), policy_toml=policy.to_toml(),
        headline={"budget": 15e6}, allocation=_allocation([1.0, 1.0, 1.0]),
    )  # fmt: skip
    run = promote_scenario(url, sid, out=tmp_path / "runs")
    record = store.get(run.run_id)
    assert record.status == "complete"
    assert record.config["policy"]["budget"] == 15_000_000.0 and record.config["policy"]["roi_hurdle"] == 1.8
    assert record.allocation["spend_period"].sum() == pytest.approx(15_000_000.0, abs=1.0)
    assert store.get_scenario("cut to 15M").promoted_run_id == run.run_id
