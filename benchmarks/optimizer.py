"""Benchmark the convex budget optimizer: 4 regions × 12 channels, 200 and 1000 posterior draws, families mixed.

Measures, per method (``outer``, the default; the cvxpy references ``cuts`` and ``conic``):

* mean risk: the first solve (build + solve), a re-solve after a budget change, the certified gap, and the plan's
  expected revenue over all draws against the peers' method (multi-start SLSQP on the posterior-mean curves);
* CVaR (λ = 1, α = 0.1): first solve, re-solve, gap, and the objective against the cvxpy reference (``cuts``, slow:
  run at the draws in ``--cvar-reference-draws`` only);
* scenarios (default method): a frontier of 20 budgets (with the hurdle budget), the ladder, the whole-currency
  rounding and a weekly plan with month budgets;
* flags on the sample world's oracle plan (true curves, default rules, budget = current spend).

Usage: ``python benchmarks/optimizer.py [--out PATH] [--draws 200 1000] [--methods outer cuts conic]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

# run as a script, this file's folder comes first on sys.path and its name would shadow the package
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

from contracts import OBJECTIVE_SHARES, REGION_SHARES  # noqa: E402
from optimizer import Allocator, Policy, ResponseCurves, Risk  # noqa: E402

REGIONS = REGION_SHARES
CHANNELS = {
    "tiktok_shop": "acquisition",
    "meta_ads": "acquisition",
    "google_search": "acquisition",
    "kol_affiliate": "acquisition",
    "amazon_ads": "acquisition",
    "email_crm": "retention",
    "app_push": "retention",
    "loyalty_program": "retention",
    "retargeting": "retention",
    "youtube_video": "brand",
    "sponsorship_events": "brand",
    "ctv": "brand",
}
FAMILIES = ("hill", "michaelis_menten", "exponential", "logistic")
BUDGET = 1_200_000.0


def world(draws: int, seed: int = 0) -> tuple[ResponseCurves, np.ndarray]:
    """48 cells with mixed families; current spend follows the default shares."""
    rng = np.random.default_rng(seed)
    cells = [(r, c, o) for r in REGIONS for c, o in CHANNELS.items()]
    n_obj = {o: sum(v == o for v in CHANNELS.values()) for o in OBJECTIVE_SHARES}
    current = np.array([BUDGET * REGIONS[r] * OBJECTIVE_SHARES[o] / n_obj[o] for r, _, o in cells])
    current *= rng.uniform(0.8, 1.2, current.size)
    current *= BUDGET / current.sum()
    beta = current * rng.lognormal(np.log(4.0), 0.3, (draws, len(cells)))
    half = current * rng.lognormal(0.0, 0.3, (draws, len(cells)))
    parts, order = [], []
    for k, fam in enumerate(FAMILIES):
        idx = np.arange(k, len(cells), len(FAMILIES))
        sub = [cells[i] for i in idx]
        if fam == "hill":
            parts.append(ResponseCurves.hill(sub, beta[:, idx], half[:, idx], rng.uniform(0.5, 1.0, (draws, idx.size))))
        elif fam == "michaelis_menten":
            parts.append(ResponseCurves.michaelis_menten(sub, beta[:, idx], half[:, idx]))
        elif fam == "exponential":
            parts.append(ResponseCurves.exponential(sub, beta[:, idx], half[:, idx]))
        else:
            parts.append(ResponseCurves.logistic(sub, beta[:, idx], half[:, idx]))
        order.extend(idx)
    return ResponseCurves.concat(parts), current[np.asarray(order)]


def slsqp_on_mean(curves: ResponseCurves, current: np.ndarray, policy: Policy, starts: int, seed: int) -> np.ndarray:
    """The peers' method: SLSQP from several starts on the posterior-mean curves; best feasible plan."""
    mean = curves.mean_draw()
    budget = policy.budget_amount
    cells = curves.cells
    cons = [{"type": "eq", "fun": lambda x: x.sum() - 1.0}]
    for col, shares in (("objective", policy.objective_shares), ("region", policy.region_shares)):
        for name, share in shares.items():
            m = (cells[col] == name).to_numpy()
            cons.append({"type": "eq", "fun": lambda x, m=m, s=share: x[m].sum() - s})
    bounds = list(zip(0.7 * current / budget, 1.3 * current / budget, strict=True))
    rng = np.random.default_rng(seed)
    best, best_val = current.copy(), -np.inf
    for _ in range(starts):
        x0 = current / budget * rng.uniform(0.7, 1.3, current.size)
        res = minimize(
            lambda x: -mean.revenue(x * budget).sum() / budget,
            x0,
            jac=lambda x: -mean.mroi(x * budget)[0],
            bounds=bounds,
            constraints=cons,
            method="SLSQP",
            options={"maxiter": 1000, "ftol": 1e-12},
        )
        val = -res.fun
        feasible = all(abs(c["fun"](res.x)) <= 1e-6 for c in cons)
        if feasible and val > best_val:
            best, best_val = np.clip(res.x, 0, None) * budget, val
    return best


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run(draws: int, method: str, starts: int) -> dict:
    """Mean risk: first solve, re-solve after a 5% budget change, certificate, revenue against SLSQP."""
    curves, current = world(draws)
    policy = Policy(budget=BUDGET)
    allocator = Allocator(curves, current, method)
    plan, first = _timed(lambda: allocator.allocate(policy))
    _, resolve = _timed(lambda: allocator.allocate(policy.with_budget(1.05 * BUDGET)))
    peers = slsqp_on_mean(curves, current, policy, starts, seed=draws)
    ours_rev = curves.revenue(plan.table["spend_period"].to_numpy()).sum(axis=1).mean()
    peer_rev = curves.revenue(peers).sum(axis=1).mean()
    return {
        "case": "mean",
        "cells": curves.n_cells,
        "draws": draws,
        "method": method,
        "first_solve_s": round(first, 3),
        "resolve_s": round(resolve, 3),
        "status": plan.status,
        "optimality_gap": plan.optimality_gap,
        "objective": plan.objective_value,
        "revenue_ours": ours_rev,
        "revenue_slsqp_mean": peer_rev,
        "ours_minus_slsqp_rel": (ours_rev - peer_rev) / abs(peer_rev),
    }


def run_cvar(draws: int, method: str) -> dict:
    """CVaR (λ = 1, α = 0.1): first solve, re-solve after a 5% budget change, certificate and objective."""
    curves, current = world(draws)
    policy = Policy(budget=BUDGET, risk=Risk(kind="cvar", lam=1.0, alpha=0.1))
    allocator = Allocator(curves, current, method)
    plan, first = _timed(lambda: allocator.allocate(policy))
    _, resolve = _timed(lambda: allocator.allocate(policy.with_budget(1.05 * BUDGET)))
    return {
        "case": "cvar",
        "cells": curves.n_cells,
        "draws": draws,
        "method": method,
        "first_solve_s": round(first, 3),
        "resolve_s": round(resolve, 3),
        "status": plan.status,
        "optimality_gap": plan.optimality_gap,
        "objective": plan.objective_value,
    }


def run_scenarios(draws: int) -> dict:
    """Frontier of 20 budgets (and the hurdle budget), ladder, whole-currency rounding, weekly plan."""
    curves, current = world(draws)
    policy = Policy(budget=BUDGET)
    allocator = Allocator(curves, current)
    plan = allocator.allocate(policy)
    budgets = np.linspace(0.75, 1.25, 20) * BUDGET
    frontier, frontier_s = _timed(lambda: Allocator(curves, current).frontier(budgets, policy))
    ladder, ladder_s = _timed(lambda: plan.ladder(0.01 * BUDGET))
    rounded, rounded_s = _timed(lambda: plan.rounded(1.0))
    months = {"2026-01": 0.3 * BUDGET, "2026-02": 0.3 * BUDGET, "2026-03": 0.4 * BUDGET}
    weekly, weekly_s = _timed(lambda: plan.weekly("2026-01-05", month_budgets=months))
    mroi = frontier.table["mroi"].to_numpy()
    revenue = frontier.table["revenue_period"].to_numpy()
    return {
        "case": "scenarios",
        "cells": curves.n_cells,
        "draws": draws,
        "frontier_20_budgets_s": round(frontier_s, 3),
        "frontier_revenue_increasing": bool(np.all(np.diff(revenue) > 0)),
        "frontier_mroi_non_increasing": bool(np.all(np.diff(mroi) <= 1e-9)),
        "hurdle_budget": frontier.hurdle.budget,
        "hurdle_statement": frontier.hurdle.statement,
        "ladder_s": round(ladder_s, 3),
        "ladder_add_mroi": float(ladder.revenue.loc["add", "mroi"]),
        "ladder_cut_mroi": float(ladder.revenue.loc["cut", "mroi"]),
        "rounding_s": round(rounded_s, 3),
        "rounded_total": rounded.total,
        "rounding_rules_held": bool(rounded.rules["held"].all()),
        "weekly_s": round(weekly_s, 3),
        "weekly_rows": len(weekly),
        "weekly_month_totals_exact": bool(
            (weekly.groupby("month")["spend_weekly"].sum().round(6) == pd.Series(months).round(6)).all()
        ),
    }


def run_flags() -> dict:
    """The sample world's oracle plan: how many cells are flagged, against how many have a true ROI below 1.5."""
    from simulator import simulate_world

    sample = simulate_world(seed=7, n_users=1_000)
    current = sample.truth.average_period_spend(13)
    curves = sample.truth.response_curves(13)
    plan = Allocator(curves, current).allocate(Policy(budget=float(current["spend_period"].sum())))
    true_roi = curves.roi(plan.table["spend_period"].to_numpy())[0]
    return {
        "case": "flags",
        "cells": curves.n_cells,
        "flagged": int(plan.table["flag"].sum()),
        "true_roi_below_hurdle": int((true_roi < 1.5).sum()),
        "flags_match_truth": bool((plan.table["flag"].to_numpy() == (true_roi < 1.5)).all()),
        "mroi_below_hurdle": int(plan.table["mroi_below_hurdle"].sum()),
        "plan_mroi": plan.mroi,
        "notes": plan.notes(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "optimizer.json")
    parser.add_argument("--draws", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--methods", nargs="+", default=["outer", "cuts", "conic"])
    parser.add_argument("--cvar-reference-draws", type=int, nargs="*", default=[200])
    parser.add_argument("--starts", type=int, default=8)
    args = parser.parse_args()
    rows = [run(d, m, args.starts) for d in args.draws for m in args.methods]
    rows += [run_cvar(d, "outer") for d in args.draws]
    rows += [run_cvar(d, "cuts") for d in args.draws if d in args.cvar_reference_draws]
    header = (
        f"{'case':>5} {'draws':>5} {'method':>6} {'first s':>8} {'resolve s':>9} {'gap':>9} {'objective':>16} "
        f"{'vs SLSQP':>10}"
    )
    print(header)
    for r in rows:
        versus = f"{r['ours_minus_slsqp_rel']:>+10.2e}" if "ours_minus_slsqp_rel" in r else f"{'':>10}"
        print(
            f"{r['case']:>5} {r['draws']:>5} {r['method']:>6} {r['first_solve_s']:>8.3f} {r['resolve_s']:>9.3f} "
            f"{r['optimality_gap']:>9.1e} {r['objective']:>16.4f} {versus}"
        )
    scenarios = [run_scenarios(d) for d in args.draws]
    for r in scenarios:
        print(
            f"scenarios, {r['draws']} draws: frontier of 20 budgets {r['frontier_20_budgets_s']:.3f} s (revenue "
            f"increasing {r['frontier_revenue_increasing']}, mROI non-increasing "
            f"{r['frontier_mroi_non_increasing']}); ladder {r['ladder_s']:.3f} s (next step mROI "
            f"{r['ladder_add_mroi']:.3f}, first cut {r['ladder_cut_mroi']:.3f}); rounding {r['rounding_s']:.3f} s "
            f"(total {r['rounded_total']:,.0f}, rules held {r['rounding_rules_held']}); weekly {r['weekly_s']:.3f} s "
            f"({r['weekly_rows']} rows, month totals exact {r['weekly_month_totals_exact']})"
        )
        print(f"  hurdle: {r['hurdle_statement']}")
    flags = run_flags()
    print(
        f"flags on the sample world's oracle plan: {flags['flagged']} of {flags['cells']} flagged, "
        f"{flags['true_roi_below_hurdle']} with a true ROI below 1.5 (match: {flags['flags_match_truth']}); "
        f"mROI below the hurdle in {flags['mroi_below_hurdle']} (plan mROI {flags['plan_mroi']:.3f})"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([*rows, *scenarios, flags], indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
