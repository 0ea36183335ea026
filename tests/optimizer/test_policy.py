import pytest
from pydantic import ValidationError

from optimizer import Policy


def test_defaults_follow_design():
    p = Policy(period_revenue=10_000_000)
    assert p.budget_amount == pytest.approx(1_200_000)
    assert p.objective_shares == {"acquisition": 0.6, "retention": 0.3, "brand": 0.1}
    assert p.region_shares == {"Asia": 0.35, "Europe": 0.25, "North America": 0.2, "Other": 0.2}
    assert (p.roi_hurdle, p.max_change, p.objective_tolerance, p.mode) == (1.5, 0.3, 0.0, "spend_all")


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
