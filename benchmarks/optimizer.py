"""Benchmark the convex budget optimizer: 4 regions × 12 channels, 200 and 1000 posterior draws, families mixed.

Measures the wall time of the first solve (build + compile + solve), of a re-solve after a budget change (DPP
Parameters only), and compares the plan's expected revenue over all draws with the peers' method: multi-start
SLSQP on the posterior-mean curves, evaluated on all draws.

Usage: ``python benchmarks/optimizer.py [--out PATH] [--draws 200 1000] [--methods conic cuts]``
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
from scipy.optimize import minimize  # noqa: E402

from contracts import OBJECTIVE_SHARES, REGION_SHARES  # noqa: E402
from optimizer import Allocator, Policy, ResponseCurves  # noqa: E402

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


def run(draws: int, method: str, starts: int) -> dict:
    curves, current = world(draws)
    policy = Policy(budget=BUDGET)
    t0 = time.perf_counter()
    allocator = Allocator(curves, current, method)
    plan = allocator.allocate(policy)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    allocator.allocate(policy.with_budget(1.05 * BUDGET))
    resolve = time.perf_counter() - t0
    peers = slsqp_on_mean(curves, current, policy, starts, seed=draws)
    ours_rev = curves.revenue(plan.table["spend_period"].to_numpy()).sum(axis=1).mean()
    peer_rev = curves.revenue(peers).sum(axis=1).mean()
    return {
        "cells": curves.n_cells,
        "draws": draws,
        "method": method,
        "first_solve_s": round(first, 3),
        "resolve_s": round(resolve, 3),
        "status": plan.status,
        "optimality_gap": plan.optimality_gap,
        "revenue_ours": ours_rev,
        "revenue_slsqp_mean": peer_rev,
        "ours_minus_slsqp_rel": (ours_rev - peer_rev) / abs(peer_rev),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "optimizer.json")
    parser.add_argument("--draws", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--methods", nargs="+", default=["conic", "cuts"])
    parser.add_argument("--starts", type=int, default=8)
    args = parser.parse_args()
    rows = [run(d, m, args.starts) for d in args.draws for m in args.methods]
    header = f"{'cells':>5} {'draws':>5} {'method':>6} {'first s':>8} {'resolve s':>9} {'gap':>9} {'vs SLSQP':>10}"
    print(header)
    for r in rows:
        print(
            f"{r['cells']:>5} {r['draws']:>5} {r['method']:>6} {r['first_solve_s']:>8.3f} {r['resolve_s']:>9.3f} "
            f"{r['optimality_gap']:>9.1e} {r['ours_minus_slsqp_rel']:>+10.2e}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
