import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

import contracts
from optimizer import Policy

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_follow_design():
    p = Policy(period_revenue=10_000_000)
    assert p.budget_amount == pytest.approx(1_200_000)
    assert p.objective_shares == {"acquisition": 0.6, "retention": 0.3, "brand": 0.1}
    assert p.region_shares == {"Asia": 0.35, "Europe": 0.25, "North America": 0.2, "Other": 0.2}
    assert (p.roi_hurdle, p.max_change, p.objective_tolerance, p.mode) == (1.5, 0.3, 0.0, "spend_all")
    # defined once, in contracts
    assert p.objective_shares == dict(contracts.OBJECTIVE_SHARES) and p.region_shares == dict(contracts.REGION_SHARES)
    assert (p.roi_hurdle, p.max_change) == (contracts.ROI_HURDLE, contracts.MAX_CHANGE)
    assert p.budget_share_of_revenue == contracts.BUDGET_SHARE_OF_REVENUE


def test_missing_budget_and_revenue_is_named():
    with pytest.raises(ValidationError, match="period_revenue"):
        Policy()


def test_shares_must_sum_to_one():
    with pytest.raises(ValidationError, match=r"objective_shares must sum to 1.*0.9"):
        Policy(budget=1, objective_shares={"acquisition": 0.6, "retention": 0.2, "brand": 0.1})


def test_unknown_objective_and_negative_hurdle():
    with pytest.raises(ValidationError, match="awareness"):
        Policy(budget=1, objective_shares={"awareness": 1.0})
    with pytest.raises(ValidationError, match="roi_hurdle"):
        Policy(budget=1, roi_hurdle=-1)


def test_locked_and_unavailable_clash():
    cell = {"region": "Asia", "channel": "meta_ads"}
    with pytest.raises(ValidationError, match="both locked and unavailable"):
        Policy(budget=1, locked=[cell], unavailable=[cell])


def test_from_toml(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(
        """
budget = 1_200_000
mode = "hurdle"
region_tolerance = 0.02
[objective_shares]
acquisition = 0.5
retention = 0.4
brand = 0.1
[[locked]]
region = "Asia"
channel = "meta_ads"
[risk]
kind = "cvar"
lam = 0.5
alpha = 0.2
"""
    )
    p = Policy.from_toml(path)
    assert p.mode == "hurdle" and p.risk.lam == 0.5 and p.locked[0].channel == "meta_ads"
    assert p.objective_shares["retention"] == 0.4


def test_from_toml_rejects_unknown_key(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("budget = 1\nbudgett = 2\n")
    with pytest.raises(ValidationError, match="budgett"):
        Policy.from_toml(path)


# ---------------------------------------------------------------- to_toml, fingerprint
FULL = {
    "budget": 250_000.0,
    "budget_share_of_revenue": 0.1,
    "period_revenue": 3_000_000.0,
    "objective_shares": {"acquisition": 0.5, "retention": 0.4, "brand": 0.1},
    "objective_tolerance": 0.02,
    "region_shares": {"Asia": 0.5, "North America": 0.3, 'Other "Rest of World"': 0.2},
    "region_tolerance": 0.01,
    "roi_hurdle": 1.25,
    "max_change": 0.45,
    "cell_rules": [
        {"region": "Asia", "channel": "meta_ads", "min_spend": 1e-5, "max_spend": 1e20, "max_change": float("inf")},
        {"region": "North America", "channel": "email_crm", "max_change": 0.5},
        {"region": "Asia", "channel": "kol_affiliate", "max_spend": 12_345.678},
    ],
    "locked": [{"region": "Asia", "channel": "sponsorship_events"}],
    "unavailable": [{"region": "North America", "channel": "tiktok_shop"}],
    "mode": "hurdle",
    "risk": {"kind": "cvar", "lam": 0.5, "alpha": 0.2},
}


@pytest.mark.parametrize(
    "policy",
    [Policy(budget=1_000_000), Policy(period_revenue=5e6), Policy(**FULL), Policy(budget=1.0, max_change=None)],
    ids=["default", "share-of-revenue", "every-field", "no-max-change"],
)
def test_to_toml_round_trips(policy, tmp_path):
    text = policy.to_toml()
    assert Policy.from_toml_text(text) == policy
    path = tmp_path / "policy.toml"
    path.write_text(text)
    assert Policy.from_toml(path) == policy
    assert Policy.from_toml(path).fingerprint() == policy.fingerprint()


def test_to_toml_states_every_rule():
    text = Policy(budget=1_000_000).to_toml()
    for line in ("budget = 1000000.0", "roi_hurdle = 1.5", "max_change = 0.3", '"North America" = 0.2', "[risk]"):
        assert line in text.splitlines()
    assert "max_change = inf" in Policy(budget=1.0, max_change=None).to_toml().splitlines()


def test_infinite_max_change_is_no_limit():
    assert Policy(budget=1.0, max_change=float("inf")) == Policy(budget=1.0, max_change=None)
    rule = {"region": "Asia", "channel": "meta_ads", "max_change": float("inf")}  # overrides the policy's 0.3
    assert Policy(budget=1.0, cell_rules=[rule]).cell_rules[0].max_change == float("inf")


# the default policy with a budget; a change here means saved plans no longer match their recorded policies
DEFAULT_FINGERPRINT = "4eeb79659ba9544ee2f2beca99cc788a2aee4af5c060e7b593781029684e25d2"


def test_fingerprint_is_stable():
    assert Policy(budget=1_000_000).fingerprint() == DEFAULT_FINGERPRINT
    assert Policy(budget=1e6).fingerprint() == Policy(budget=1_000_000, roi_hurdle=1.5).fingerprint()
    assert Policy(**FULL).fingerprint() == Policy(**FULL).fingerprint()
    shuffled = {**FULL, "objective_shares": dict(reversed(FULL["objective_shares"].items()))}
    assert Policy(**shuffled).fingerprint() == Policy(**FULL).fingerprint()


def test_fingerprint_is_the_same_in_another_process():
    code = "from optimizer import Policy; print(Policy(budget=1_000_000).fingerprint())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == DEFAULT_FINGERPRINT


@pytest.mark.parametrize(
    "change",
    [
        {"budget": 250_001.0},
        {"budget": None},
        {"budget_share_of_revenue": 0.11},
        {"period_revenue": 3_000_001.0},
        {"objective_shares": {"acquisition": 0.51, "retention": 0.39, "brand": 0.1}},
        {"objective_tolerance": 0.03},
        {"region_shares": {"Asia": 0.5, "North America": 0.2, 'Other "Rest of World"': 0.3}},
        {"region_tolerance": 0.0},
        {"roi_hurdle": 1.5},
        {"max_change": None},
        {"cell_rules": FULL["cell_rules"][:2]},
        {"cell_rules": [{**FULL["cell_rules"][0], "min_spend": 2e-5}, *FULL["cell_rules"][1:]]},
        {"locked": []},
        {"unavailable": [{"region": "Asia", "channel": "tiktok_shop"}]},
        {"mode": "spend_all"},
        {"risk": {"kind": "cvar", "lam": 0.5, "alpha": 0.25}},
        {"risk": {"kind": "mean"}},
    ],
)
def test_fingerprint_changes_with_any_field(change):
    base = Policy(**FULL)
    changed = Policy(**{**FULL, **change})
    assert changed != base
    assert changed.fingerprint() != base.fingerprint()
