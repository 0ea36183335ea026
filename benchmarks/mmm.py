"""Benchmark the media-mix model on simulated worlds: speed, convergence, ROI recovery against the exact oracle on
the same data, and the quality of the budget decisions it leads to.

Run (nice it: other people time things on shared machines)::

    nice -n 15 python benchmarks/mmm.py               # worlds 7 (the sample), 1, 2, 3 x (base, lift), 4 x 2000 draws,
                                                      # pymc-marketing beside us on the sample world
    nice -n 15 python benchmarks/mmm.py --quick       # 2 chains x 300 draws, for a smoke check
    nice -n 15 python benchmarks/mmm.py --worlds 7 --variants preview,base,lift,lift+attribution --peers none
    nice -n 15 python benchmarks/mmm.py --variants base,base+shapes --peers none   # what the curve shapes cost

Per world and variant it prints and writes (``benchmarks/results/mmm.json``):

- our median absolute ROI error, the exact oracle's on the same noise draw (:mod:`simulator.oracle`: it knows every
  true response curve; with the lift tests when the variant uses them), the gap, HDI90 coverage; the same with
  posterior medians as the point estimates, ours and the oracle's (``median_point_gap_points``);
- max R-hat, divergences, the share of draws at maximum tree depth, wall time and min ESS per second;
- **decision quality**: the plan made from the fitted curves under the default policy (budget = current period
  spend), judged on the simulator's true curves, as the share of the oracle plan's true uplift it captures, beside
  the marginal-ROI error;
- pymc-marketing's geo MMM on the sample world (``--peers``, when installed): min ESS/s side by side, as a ratio;
- optionally the public reference datasets in ``../shared/reference-data`` (``--reference``).

A variant with ``+shapes`` (``base+shapes``, ``lift+shapes``) is a diagnostic, not a configuration to use: it gives
the model the world's true Hill shape of every channel as a tight prior (median the truth, log sd 0.05), which the
exact oracle also knows and the panel does not tell. The gap that remains is what the other unknowns cost.
``+lineartrend`` fits ``MMMSpec(trend_form="linear")``: the trend grows by a constant amount a week, as the
simulator's does, instead of a constant rate. ``+product`` fits ``MMMSpec(baseline="multiplicative")``: the baseline
as a product ``level (1 + trend t)(1 + season)(1 + controls gamma)``, the simulator's own form.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import sys
import time
import warnings
from pathlib import Path

# This script is called mmm.py: keep its own folder off the path so `import mmm` finds the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import mmm  # noqa: E402
from contracts import PERIOD_WEEKS, ROI_HURDLE, Dataset  # noqa: E402
from optimizer import Policy, allocate  # noqa: E402
from simulator import oracle, simulate_world  # noqa: E402
from simulator import reference as mmm_reference  # noqa: E402
from simulator.scoring import roi_recovery  # noqa: E402

sys.path.insert(0, str(_HERE))
import mmm_peers  # noqa: E402  (benchmarks/mmm_peers.py)

sys.path.remove(str(_HERE))

RESULTS = Path(__file__).parent / "results" / "mmm.json"


#: How the attribution-prior variant uses attribution (printed and written with the results).
ATTRIBUTION_NOTE = (
    "Markov attribution of the 100k-user journey sample, scaled to the KPI's revenue per region (an upper bound: it "
    "credits baseline revenue to channels too); only its within-region ranking is used: attributed ROI / region "
    "geometric mean, times the default prior median (1.5), LogNormal sd 0.8 (mmm.relative_roi_priors)"
)


def attribution_priors(world) -> pd.DataFrame | None:
    """Relative ROI priors from Markov attribution of the journeys, or None when unavailable."""
    try:
        from attribution import attributed_roi, markov

        roi = attributed_roi(markov(world.paths, by="region"), world.spend, kpi=world.kpi).table
    except Exception as exc:  # the attribution package is another engineer's, optional here
        warnings.warn(f"attribution priors unavailable: {exc}", stacklevel=2)
        return None
    spec = mmm.MMMSpec()
    return mmm.relative_roi_priors(roi, median=spec.roi_prior_median, log_sd=spec.roi_prior_log_sd)


def known_shapes_spec(world, log_sd: float = 0.05) -> mmm.MMMSpec:
    """The default spec with each channel's Hill shape prior centred on the world's true shape (the geometric mean
    over its regions, which differ by ~5%), log sd ``log_sd``: the diagnostic ``+shapes`` variants."""
    cells = world.truth.cells
    shapes = np.exp(np.log(cells["hill_shape"].astype(float)).groupby(cells["channel"]).mean())
    saturation = mmm.HillSaturation(shape_log_sd=log_sd, shape_prior_median=shapes.to_dict())
    return mmm.MMMSpec(saturation=saturation)


def recovery(fitted: mmm.FittedMMM, truth: pd.DataFrame) -> dict[str, float]:
    """:func:`simulator.scoring.roi_recovery` (HDI90 coverage, median abs % error of posterior-mean ROI) for our
    fit, plus hurdle-flag agreement, the prior-dominated cells and the error over the others, and the marginal-ROI
    error when the truth has ``mroi``."""
    table = fitted.roi()
    out = roi_recovery(table, truth)
    est = table.merge(truth, on=["region", "channel"], suffixes=("", "_truth"))
    true_roi = est["roi_truth"]
    errors = np.abs(est["roi"] / true_roi - 1)
    out["hurdle_flag_agreement"] = float(((est["roi"] < ROI_HURDLE) == (true_roi < ROI_HURDLE)).mean())
    out["prior_dominated_cells"] = int(est["prior_dominated"].sum())
    # The error over the cells the data inform (not prior-dominated): what the panel itself recovers.
    informed = errors[~est["prior_dominated"]]
    out["informed_cells_median_abs_pct_error"] = float(100 * np.median(informed)) if len(informed) else float("nan")
    # The posterior median as the point estimate (the Bayes estimate under absolute loss; our ROI posteriors are
    # right-skewed, so it sits below the mean): scored beside the oracle's own posterior median.
    out["roi_posterior_median_abs_pct_error"] = float(100 * np.median(np.abs(est["roi_median"] / true_roi - 1)))
    if "mroi_truth" in est:
        out["mroi_median_abs_pct_error"] = float(100 * np.median(np.abs(est["mroi"] / est["mroi_truth"] - 1)))
    return out


def run_variant(
    name: str,
    data: Dataset,
    *,
    truth: pd.DataFrame | None,
    sampler: mmm.Sampler,
    seed: int,
    dataset: str = "sample world",
    world=None,
    **kw,
) -> dict:
    """Fit our model on ``data`` and summarise it; with ``world`` (a simulated one) also the decision quality of its
    plan (:func:`decision_quality`). ``kw`` goes to :func:`mmm.fit` (``lift_tests``, ``roi_priors``)."""
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = mmm.fit(data, sampler=sampler, seed=seed, check=False, **kw)
    wall = time.perf_counter() - started
    diag = fitted.diagnostics(warn=False)
    ess = min(diag.value("min_ess_bulk"), diag.value("min_ess_tail"))
    roi_draws = fitted.draws("roi").reshape(fitted.info["chains"], -1, len(fitted.data.cells))
    row = {
        "dataset": dataset,
        "variant": name,
        "cells": len(fitted.data.cells),
        "chains": fitted.info["chains"],
        "draws": fitted.info["draws"],
        "tune": fitted.info["tune"],
        "wall_s": wall,
        "sampling_s": fitted.info["seconds"],
        "min_ess_per_s": ess / wall,
        "min_ess_roi_per_s": mmm_peers.min_ess(roi_draws) / wall,
        "max_rhat": diag.value("max_rhat"),
        "divergence_pct": 100 * diag.value("divergence_share"),
        "max_tree_depth_pct": 100 * diag.value("max_tree_depth_share"),
        "ppc_coverage_90": diag.value("ppc_coverage_90"),
        "mape_in_sample": diag.value("mape_in_sample"),
        "r2_in_sample": diag.value("r2_in_sample"),
        "diagnostics_passed": diag.passed,
    }
    if truth is not None:
        row |= recovery(fitted, truth)
    if world is not None:
        row |= decision_quality(fitted, world)
    return row


def decision_quality(fitted: mmm.FittedMMM, world, max_draws: int = 500) -> dict[str, float]:
    """How good a budget plan the fit leads to, judged on the simulator's true curves.

    The default policy (60/30/10, 35/25/20/20, hurdle 1.5, at most ±30% per cell) with the budget of the current
    period (the window's average quarter) is solved twice: on the fitted curves and on the true ones (the oracle
    plan). Both plans are scored by their true revenue. Returns the oracle plan's true uplift over the current split
    in % of the budget and the share of it that the fitted plan captures (1 = as good as knowing the truth; below 0
    = worse than not moving).
    """
    truth_curves = world.truth.response_curves(PERIOD_WEEKS)
    current = world.truth.average_period_spend(PERIOD_WEEKS)
    budget = float(current["spend_period"].sum())
    policy = Policy(budget=budget)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted_plan = allocate(fitted.response_curves(period_weeks=PERIOD_WEEKS, max_draws=max_draws), policy, current)
    oracle_plan = allocate(truth_curves, policy, current)
    key = ["region", "channel"]

    def true_revenue(table: pd.DataFrame) -> float:
        spend = truth_curves.cells[key].merge(table[[*key, "spend_period"]], on=key, how="left", validate="one_to_one")
        return float(truth_curves.revenue(spend["spend_period"].to_numpy()).sum())

    now = true_revenue(current)
    best = true_revenue(oracle_plan.table) - now
    return {
        "oracle_plan_uplift_pct_of_budget": 100 * best / budget,
        "plan_uplift_captured": (true_revenue(fitted_plan.table) - now) / best,
    }


def oracle_columns(world, lift_tests: bool) -> dict[str, float]:
    """The exact oracle (:mod:`simulator.oracle`) on ``world``'s own noise draw, with or without its lift tests:
    its median abs ROI error and coverage, and its expected error over noise draws (10th-90th percentile)."""
    information = oracle.cell_information(world, baseline_known=False, lift_tests=lift_tests)
    realised, _ = oracle.realised_error(information)
    expected = oracle.expected_error(information, replicates=100)
    return {
        "oracle_pct_error": realised["median_abs_pct_error"],
        "oracle_median_point_pct_error": realised["median_abs_pct_error_of_median"],
        "oracle_coverage": realised["interval90_coverage"],
        "oracle_expected_pct_error": expected["median_abs_pct_error"],
        "oracle_p10_pct_error": expected["error_p10"],
        "oracle_p90_pct_error": expected["error_p90"],
    }


def run_peer(tables, *, truth, sampler: str, draws: int, tune: int, chains: int, seed: int, dataset: str) -> dict:
    """pymc-marketing on the same tables; ``{}`` with a note when it is not installed or fails."""
    try:
        import pymc_marketing  # noqa: F401
    except ImportError:
        print("pymc-marketing is not installed (pip install -e '.[bench]'): peer skipped", flush=True)
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = mmm_peers.fit_pymc_marketing(
            tables.spend,
            tables.kpi,
            tables.controls,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            nuts_sampler=sampler,
        )
    roi_table = out.pop("roi_table")
    row = {
        "dataset": dataset,
        "variant": f"pymc-marketing ({sampler})",
        "cells": len(roi_table),
        **{k: out[k] for k in ("chains", "draws", "tune", "wall_s")},
        "min_ess_per_s": out["min_ess_per_s"],
        "min_ess_roi_per_s": out["min_ess_roi"] / out["wall_s"],
        "max_rhat": out["max_rhat"],
        "divergence_pct": out["divergence_pct"],
    }
    if truth is not None:
        row |= roi_recovery(roi_table, truth)
    return row


def run_peers(tables, *, samplers: list[str], **kw) -> list[dict]:
    """:func:`run_peer` with each sampler, printing each row as it comes."""
    rows = []
    for sampler in samplers:
        row = run_peer(tables, sampler=sampler, **kw)
        if row:
            rows.append(row)
            _print([row])
    return rows


def _print(rows: list[dict]) -> None:
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 chains x 300 draws after 300 tuning")
    parser.add_argument(
        "--draws",
        type=int,
        default=2000,
        help="draws per chain after 1000 tuning steps, ours and the peers' (not --quick); at 1000 the slowest "
        "parameter (roi_region_sd, bulk ESS ~750) put max R-hat over 1.01 on some seeds",
    )
    parser.add_argument("--seed", type=int, default=1, help="sampler seed")
    parser.add_argument("--worlds", default="7,1,2,3", help="simulator seeds (7 is the bundled sample world)")
    parser.add_argument(
        "--variants",
        default="base,lift",
        help="of preview, base, lift, lift+attribution, base+shapes, lift+shapes, base+lineartrend, "
        "lift+lineartrend, base+product, lift+product; run on every world",
    )
    parser.add_argument("--peers", default="nutpie", help="pymc-marketing samplers (nutpie, pymc), or 'none'")
    parser.add_argument("--reference", default="none", help="reference datasets: pymc_example, meridian, or 'none'")
    parser.add_argument("--meridian-geos", type=int, default=None, help="largest N geos only (default: all 40)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON results file (default {RESULTS})")
    args = parser.parse_args(argv)
    draws, tune, chains = (300, 300, 2) if args.quick else (args.draws, 1000, 4)
    settings = {"draws": draws, "tune": tune, "chains": chains, "seed": args.seed}
    ours = {"sampler": mmm.Sampler(draws=draws, tune=tune, chains=chains), "seed": args.seed}
    samplers = [v for v in args.peers.split(",") if v and v != "none"]
    rows: list[dict] = []
    for world_seed in [int(v) for v in args.worlds.split(",") if v and v != "none"]:
        world = simulate_world(seed=world_seed)
        dataset = "sample world" if world_seed == 7 else f"world seed {world_seed}"
        oracles = {lift: oracle_columns(world, lift_tests=lift) for lift in (False, True)}
        for variant in [v for v in args.variants.split(",") if v and v != "none"]:
            kw = {"lift_tests": "lift" in variant}
            if variant == "preview":
                kw["sampler"] = mmm.Sampler.preview()
            if "shapes" in variant:
                kw["spec"] = known_shapes_spec(world)
            if "lineartrend" in variant:
                kw["spec"] = dataclasses.replace(kw.get("spec", mmm.MMMSpec()), trend_form="linear")
            if "product" in variant:
                kw["spec"] = dataclasses.replace(kw.get("spec", mmm.MMMSpec()), baseline="multiplicative")
            if "attribution" in variant:
                priors = attribution_priors(world)
                if priors is None:
                    continue
                kw["roi_priors"] = priors
            row = run_variant(variant, world.data, truth=world.truth.cells, dataset=dataset, world=world, **(ours | kw))
            row |= oracles["lift" in variant]
            row["gap_to_oracle_points"] = row["roi_median_abs_pct_error"] - row["oracle_pct_error"]
            row["median_point_gap_points"] = (
                row["roi_posterior_median_abs_pct_error"] - row["oracle_median_point_pct_error"]
            )
            rows.append(row)
            _print(rows[-1:])
            if variant == "base" and world_seed == 7:
                # The peer right after our base fit on the same data, so the speed ratio is measured side by side.
                rows += run_peers(world, truth=world.truth.cells, samplers=samplers, dataset=dataset, **settings)
    references = [v for v in args.reference.split(",") if v and v != "none"]
    if "pymc_example" in references:
        # x1 and x2 are in [0, 1], not currency: in thousands they give ROIs ~5 and ~2.3, inside our default prior.
        data = mmm_reference.load_pymc_example(spend_scale=1000.0)
        example_truth = mmm_reference.pymc_example_truth(spend_scale=1000.0)
        rows.append(run_variant("base", data.data, truth=example_truth, dataset="pymc example", **ours))
        _print(rows[-1:])
        rows += run_peers(data, truth=example_truth, samplers=samplers, dataset="pymc example", **settings)
    if "meridian" in references:
        data = mmm_reference.load_meridian_geo(max_geos=args.meridian_geos)
        rows.append(run_variant("base", data.data, truth=None, dataset="meridian geo", **ours))
        _print(rows[-1:])
    table = pd.DataFrame(rows)
    print()
    print(table[[c for c in SUMMARY_COLUMNS if c in table]].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    ratios = _speed_ratios(table)
    summary = _summary(table)
    for line in [*ratios, *summary]:
        print(line)
    print(f"attribution priors: {ATTRIBUTION_NOTE}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "worlds": "simulate_world(seed=s): 104 weeks x 4 regions x 11 channels; seed 7 is the bundled sample",
        "settings": settings,
        "machine": {"python": platform.python_version(), "processor": platform.processor(), "cores": 2},
        "targets": {
            "base_mean_gap_to_oracle_points": 3.0,
            "base_max_gap_to_oracle_points": 8.0,
            "roi_hdi90_coverage": [0.80, 0.97],
            "lift_roi_median_abs_pct_error": 20.0,
            "lift_gap_to_oracle_points": 3.0,
            "max_rhat": 1.01,
            "divergence_pct": 0.1,
            "min_ess_per_s_vs_pymc_marketing": 10.0,
        },
        "attribution_prior_method": ATTRIBUTION_NOTE,
        "reference_origins": [mmm_reference.PYMC_ORIGIN, mmm_reference.MERIDIAN_ORIGIN],
        "speed_ratios": ratios,
        "summary": summary,
        "rows": rows,
    }
    args.out.write_text(json.dumps(payload, indent=1, default=float))
    print(f"wrote {args.out}")
    return 0


#: Columns of the printed summary table.
SUMMARY_COLUMNS = [
    "dataset",
    "variant",
    "roi_median_abs_pct_error",
    "oracle_pct_error",
    "gap_to_oracle_points",
    "roi_hdi90_coverage",
    "max_rhat",
    "divergence_pct",
    "max_tree_depth_pct",
    "wall_s",
    "min_ess_per_s",
    "plan_uplift_captured",
    "oracle_plan_uplift_pct_of_budget",
    "mroi_median_abs_pct_error",
]


def _summary(table: pd.DataFrame) -> list[str]:
    """Mean and worst gap to the oracle per variant over the simulated worlds."""
    lines = []
    if "gap_to_oracle_points" not in table:
        return lines
    for variant, group in table.dropna(subset=["gap_to_oracle_points"]).groupby("variant", sort=False):
        lines.append(
            f"{variant}: gap to the exact oracle on the same draw, mean {group['gap_to_oracle_points'].mean():+.1f} "
            f"points, worst {group['gap_to_oracle_points'].max():+.1f} over {len(group)} worlds; our error "
            f"{group['roi_median_abs_pct_error'].min():.1f}-{group['roi_median_abs_pct_error'].max():.1f}%; plan "
            f"captures {group['plan_uplift_captured'].min():.0%}-{group['plan_uplift_captured'].max():.0%} of the "
            "oracle plan's true uplift"
        )
        if "median_point_gap_points" in group:
            lines.append(
                f"{variant}, posterior medians as the point estimates (ours and the oracle's): gap mean "
                f"{group['median_point_gap_points'].mean():+.1f} points, "
                f"worst {group['median_point_gap_points'].max():+.1f}; "
                f"our error {group['roi_posterior_median_abs_pct_error'].min():.1f}-"
                f"{group['roi_posterior_median_abs_pct_error'].max():.1f}%"
            )
    return lines


def _speed_ratios(table: pd.DataFrame) -> list[str]:
    """Our min ESS per second over pymc-marketing's, per dataset and peer sampler (base variants)."""
    lines = []
    if table.empty or "dataset" not in table:
        return lines
    for dataset, group in table.groupby("dataset", sort=False):
        ours = group[group["variant"] == "base"]
        if ours.empty:
            continue
        for row in group[group["variant"].str.startswith("pymc-marketing")].itertuples():
            every = ours["min_ess_per_s"].iloc[0] / row.min_ess_per_s
            rois = ours["min_ess_roi_per_s"].iloc[0] / row.min_ess_roi_per_s
            lines.append(
                f"{dataset}: ours (base) / {row.variant}: min ESS/s x{every:.1f} (all parameters), x{rois:.1f} (ROIs)"
            )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
