"""Group rules an analyst declares: parsed and checked, solved like an independent scipy formulation, priced by
finite differences, explained when infeasible."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pydantic import ValidationError
from scipy.optimize import Bounds, LinearConstraint, minimize

from optimizer import Allocator, InfeasiblePolicyError, Policy, ResponseCurves, allocate
from optimizer.groups import GroupRule
from optimizer.rules import policy_rows

REGIONS = {"Asia": 0.5, "Europe": 0.5}
CHANNELS = {"tiktok_shop": "acquisition", "kol_affiliate": "acquisition", "meta_ads": "acquisition",
            "email_crm": "retention", "ctv": "brand"}  # fmt: skip
OBJECTIVES = {"acquisition": 0.6, "retention": 0.3, "brand": 0.1}


def small_world(seed: int = 0) -> tuple[ResponseCurves, np.ndarray]:
    """10 cells (2 regions × 5 channels), Michaelis–Menten, tiktok_shop and kol_affiliate the strongest."""
    rng = np.random.default_rng(seed)
    cells = [(r, c, o) for r in REGIONS for c, o in CHANNELS.items()]
    current = np.array([1e5 * REGIONS[r] * OBJECTIVES[o] / (3 if o == "acquisition" else 1) for r, _, o in cells])
    strength = np.array([6.0 if c in ("tiktok_shop", "kol_affiliate") else 3.0 for _, c, _ in cells])
    beta = current * strength * rng.lognormal(0, 0.2, (30, len(cells)))
    half = current * rng.lognormal(0, 0.2, (30, len(cells)))
    return ResponseCurves.michaelis_menten(cells, beta, half), current


SOCIAL = GroupRule(name="social commerce", channel=["tiktok_shop", "kol_affiliate"], of={"objective": "acquisition"},
                   max_share=0.6)  # fmt: skip
POLICY = Policy(budget=1e5, region_shares=REGIONS, max_change=None, group_rules=(SOCIAL,))


def scipy_plan(curves: ResponseCurves, policy: Policy, starts: int = 3) -> np.ndarray:
    """The same problem as dense linear constraints for scipy's trust-region interior-point method on the exact
    (sample-average) curves, best of several starts.

    Not SLSQP: with scipy 1.17 it stops "successfully" 2-20% short of the optimum on this problem, whose rules come
    as floor/ceiling pairs on the same row (a singular constraint Jacobian), e.g. 164,857-204,767 against 208,211."""
    cells, budget = curves.cells, policy.budget_amount
    rows = policy_rows(cells, policy)
    matrix = np.vstack([np.ones(len(cells)), *[row.coef for row in rows]])
    low = [1.0, *[row.amount / budget if row.side == "floor" else -np.inf for row in rows]]
    high = [1.0, *[row.amount / budget if row.side == "ceiling" else np.inf for row in rows]]
    constraint = LinearConstraint(matrix, low, high)
    rng = np.random.default_rng(0)
    best, best_value = None, -np.inf
    for _ in range(starts):
        with warnings.catch_warnings():
            # expected here: the floor/ceiling pairs make the constraint Jacobian singular (scipy then uses an SVD),
            # and the quasi-Newton Hessian update sees no change in the gradient once the iterate stops moving
            warnings.filterwarnings("ignore", "Singular Jacobian matrix", UserWarning)
            warnings.filterwarnings("ignore", "delta_grad == 0.0", UserWarning)
            res = minimize(
                lambda x: -curves.revenue(np.maximum(x, 0) * budget).mean(axis=0).sum() / budget,
                rng.dirichlet(np.ones(len(cells))),
                jac=lambda x: -curves.mroi(np.maximum(x, 1e-12) * budget).mean(axis=0),
                bounds=Bounds(0.0, 1.0),
                constraints=[constraint],
                method="trust-constr",
                options={"gtol": 1e-12, "xtol": 1e-14, "maxiter": 5000},
            )
        x = np.clip(res.x, 0.0, 1.0)
        if np.all(matrix @ x >= np.array(low) - 1e-7) and np.all(matrix @ x <= np.array(high) + 1e-7):
            if -res.fun > best_value:
                best, best_value = x * budget, -res.fun
    return best


def expected_revenue(curves: ResponseCurves, spend: np.ndarray) -> float:
    return float(curves.revenue(spend).mean(axis=0).sum())


def test_policy_reads_and_writes_group_rules(tmp_path):
    text = """
budget = 1_000_000
[[group_rules]]
name = "social commerce"
channel = ["tiktok_shop", "kol_affiliate"]
of = { objective = ["acquisition"] }
max_share = 0.60
[[group_rules]]
name = "acquisition in each region"
objective = "acquisition"
per = "region"
min_share = 0.55
max_share = 0.65
[[group_rules]]
name = "Europe brand"
region = ["Europe"]
objective = ["brand"]
min_spend = 200_000
"""
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    policy = Policy.from_toml(path)
    assert [g.name for g in policy.group_rules] == ["social commerce", "acquisition in each region", "Europe brand"]
    assert policy.group_rules[1].objective == ("acquisition",) and policy.group_rules[1].per == "region"
    assert Policy.from_toml_text(policy.to_toml()) == policy
    assert policy.fingerprint() != Policy(budget=1_000_000).fingerprint()


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"name": "x", "channel": "a"}, "bounds nothing"),
        ({"name": "x", "channel": "a", "min_share": 0.5, "max_share": 0.4}, "min_share 0.5 must be <= max_share 0.4"),
        ({"name": "x", "channel": "a", "min_spend": 10, "of": {"region": "Asia"}}, "'of' names the reference"),
        ({"name": "x", "channel": "a", "max_share": 1.5}, "less than or equal to 1"),
        ({"name": "x", "channel": [], "max_share": 0.5}, "at least one non-blank name"),
        ({"name": "x", "channel": "a", "max_share": True}, "must be a number"),
        ({"name": "x", "channel": "a", "max_share": 0.5, "per": "week"}, "'region', 'channel' or 'objective'"),
        ({"name": "x", "chanel": "a", "max_share": 0.5}, "Extra inputs are not permitted"),
    ],
)
def test_bad_group_rules_are_refused_with_what_is_allowed(rule, message):
    with pytest.raises(ValidationError, match=message):
        Policy(budget=1.0, group_rules=[rule])


def test_duplicate_names_and_unknown_names_are_refused():
    rule = {"name": "x", "channel": "tiktok_shop", "max_share": 0.5}
    with pytest.raises(ValidationError, match=r"used more than once: \['x'\]"):
        Policy(budget=1.0, group_rules=[rule, rule])
    curves, current = small_world()
    typo = Policy(budget=1e5, region_shares=REGIONS, max_change=None,
                  group_rules=[{"name": "x", "channel": "tiktok_shp", "max_share": 0.5}])  # fmt: skip
    with pytest.raises(ValueError, match=r"channel 'tiktok_shp'.*did you mean 'tiktok_shop'"):
        allocate(curves, typo, current)


def test_share_of_another_group_matches_scipy_and_binds():
    curves, current = small_world()
    plan = allocate(curves, POLICY, current)
    spend = plan.table["spend_period"].to_numpy()
    reference = scipy_plan(curves, POLICY)
    assert expected_revenue(curves, spend) == pytest.approx(expected_revenue(curves, reference), rel=1e-6)
    assert expected_revenue(curves, spend) >= expected_revenue(curves, reference) - 1e-6 * spend.sum()
    np.testing.assert_allclose(spend, reference, rtol=2e-3, atol=1e-3 * spend.sum())
    table = plan.table
    social = table["channel"].isin(["tiktok_shop", "kol_affiliate"]).to_numpy()
    acquisition = (table["objective"] == "acquisition").to_numpy()
    assert spend[social].sum() == pytest.approx(0.6 * spend[acquisition].sum(), rel=1e-7)
    without = allocate(curves, Policy(budget=1e5, region_shares=REGIONS, max_change=None), current)
    assert without.table["spend_period"].to_numpy()[social].sum() > 0.61 * spend[acquisition].sum()


def test_per_region_rules_and_amounts_match_scipy():
    curves, current = small_world(seed=3)
    rules = (
        GroupRule(
            name="acquisition in each region", objective="acquisition", per="region", min_share=0.55, max_share=0.58
        ),
        GroupRule(name="Europe brand", region="Europe", objective="brand", min_spend=9_000),
        GroupRule(name="kol cap", channel="kol_affiliate", per="region", max_spend=9_000),
    )
    policy = Policy(budget=1e5, region_shares=REGIONS, objective_tolerance=0.05, max_change=None, group_rules=rules)
    plan = allocate(curves, policy, current)
    table, spend = plan.table, plan.table["spend_period"].to_numpy()
    for region in REGIONS:
        inside = (table["region"] == region).to_numpy()
        share = spend[inside & (table["objective"] == "acquisition").to_numpy()].sum() / spend[inside].sum()
        assert 0.55 - 1e-7 <= share <= 0.58 + 1e-7
        assert spend[inside & (table["channel"] == "kol_affiliate").to_numpy()].sum() <= 9_000 * (1 + 1e-9)
    assert spend[((table["region"] == "Europe") & (table["objective"] == "brand")).to_numpy()].sum() >= 9_000 - 1e-6
    reference = scipy_plan(curves, policy)
    assert expected_revenue(curves, spend) == pytest.approx(expected_revenue(curves, reference), rel=1e-6)


def test_kkt_conditions_hold_with_the_reported_prices():
    """At the plan, each cell strictly inside its bounds has mROI = budget price + Σ rule prices × coefficients."""
    curves, current = small_world(seed=1)
    allocator = Allocator(curves, current)
    spend, duals, *_, rows = allocator.solve(POLICY)
    mroi = curves.mroi(spend).mean(axis=0)
    signed = np.array([-g if r.side == "floor" else g for r, g in zip(rows, duals["rows"], strict=True)])
    coef = np.array([r.coef for r in rows])
    predicted = duals["budget"] + signed @ coef
    inside = spend > 1e-6 * spend.sum()
    np.testing.assert_allclose(mroi[inside], predicted[inside], rtol=2e-3)
    assert np.all(np.asarray(duals["rows"]) >= 0)


@pytest.mark.parametrize("field, delta", [("max_share", 0.001), ("min_spend", 50.0)])
def test_group_rule_prices_match_finite_differences(field, delta):
    """The reported price against a central difference of the certified optimum in the rule's own bound."""
    curves, current = small_world(seed=2)
    if field == "max_share":
        rule, value, relax = SOCIAL, 0.6, 1.0  # relaxing a ceiling raises it
    else:
        rule, value, relax = (
            GroupRule(name="Europe brand", region="Europe", objective="brand", min_spend=7_000),
            7e3,
            -1,
        )
    allocator = Allocator(curves, current)

    def solve(bound: float):
        changed = rule.model_copy(update={field: bound})
        return allocator.allocate(POLICY.model_copy(update={"group_rules": (changed,)}).validated())

    base = solve(value)
    gain = solve(value + relax * delta).objective_value - solve(value - relax * delta).objective_value
    prices = base.shadow_prices.set_index("rule")
    name = [r for r in prices.index if r.startswith(f"group {rule.name}")]
    assert len(name) == 1, prices.index.tolist()
    if field == "max_share":
        acquisition = (base.table["objective"] == "acquisition").to_numpy()
        amount = 2 * delta * base.table["spend_period"].to_numpy()[acquisition].sum()
    else:
        amount = 2 * delta
    assert gain > 0
    assert gain / amount == pytest.approx(prices.loc[name[0], "shadow_price"], rel=0.01)
    assert "binds at its" in prices.loc[name[0], "description"]


def test_infeasible_group_rules_are_explained_in_words():
    curves, current = small_world()
    bounded = Policy(budget=1e5, region_shares=REGIONS, max_change=0.3,
                     group_rules=[{"name": "Europe brand", "region": "Europe", "objective": "brand",
                                   "min_spend": 50_000}])  # fmt: skip
    with pytest.raises(
        InfeasiblePolicyError, match=r"group 'Europe brand'.*at least 50,000.*cell maximums sum to only"
    ):
        allocate(curves, bounded, current)
    clash = Policy(budget=1e5, region_shares=REGIONS, max_change=None,
                   group_rules=[{"name": "ctv heavy", "channel": "ctv", "min_share": 0.3}])  # fmt: skip
    with pytest.raises(
        InfeasiblePolicyError, match=r"group 'ctv heavy'.*at least 0.30 of the plan.*would have to give"
    ):
        allocate(curves, clash, current)
