"""Benchmark the media-mix model on the sample world: speed, convergence and ROI recovery against the truth.

Run (nice it: other people time things on shared machines)::

    nice -n 15 python benchmarks/mmm.py               # 4 chains x 1000 draws after 1000 tuning, everything
    nice -n 15 python benchmarks/mmm.py --quick       # 2 chains x 300 draws, for a smoke check
    nice -n 15 python benchmarks/mmm.py --peers none --reference none   # our variants only
    nice -n 15 python benchmarks/mmm.py --variants base --peers none --reference none --worlds 1,2,3 \
        --out benchmarks/results/mmm_worlds.json                          # base fit on 4 worlds vs the oracle

Parts:

- our model on the sample world (``simulate_world(seed=7)``): preview, base, + lift tests, + lift tests and
  attribution priors; ROI recovery against the simulator's truth;
- pymc-marketing's geo MMM on the same data, side by side (``--peers``, when the ``bench`` extra is installed):
  speed (min ESS per second, over all free parameters and over the cell ROIs), convergence and ROI recovery;
- the public reference datasets in ``../shared/reference-data`` (``--reference``): pymc-marketing's example
  (one region, known truth) and Meridian's 40-geo panel (no truth shipped: speed, convergence and fit only);
- other simulated worlds (``--worlds 1,2,3``: the base fit on ``simulate_world(seed=s)``), each beside the
  information bound's oracle on the same world (:mod:`mmm_information`): its expected error over noise draws and
  its error on that world's own draw, so a miss can be told apart from a world whose data say little.

Prints tables and writes ``benchmarks/results/mmm.json``.
"""

from __future__ import annotations

import argparse
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
from simulator import oracle, simulate_world  # noqa: E402

sys.path.insert(0, str(_HERE))
import mmm_peers  # noqa: E402  (benchmarks/mmm_peers.py)
import mmm_reference  # noqa: E402  (benchmarks/mmm_reference.py)

sys.path.remove(str(_HERE))

RESULTS = Path(__file__).parent / "results" / "mmm.json"


#: How the attribution-prior variant uses attribution (printed and written with the results).
ATTRIBUTION_NOTE = (
    "Markov attribution of the 100k-user journey sample gives ROI on the sample's scale (~0.005), not the KPI's; "
    "only its within-region ranking is used: attributed ROI / region geometric mean, times the default prior median "
    "(1.5), LogNormal sd 0.8 (mmm.relative_roi_priors)"
)


def attribution_priors(world) -> pd.DataFrame | None:
    """Relative ROI priors from Markov attribution of the journeys, or None when unavailable."""
    try:
        from attribution import attributed_roi, markov

        roi = attributed_roi(markov(world.paths, by="region"), world.spend)
    except Exception as exc:  # the attribution package is another engineer's, optional here
        warnings.warn(f"attribution priors unavailable: {exc}", stacklevel=2)
        return None
    spec = mmm.MMMSpec()
    return mmm.relative_roi_priors(roi, median=spec.roi_prior_median, log_sd=spec.roi_prior_log_sd)


def recovery(fitted: mmm.FittedMMM, truth: pd.DataFrame) -> dict[str, float]:
    """:func:`mmm_peers.roi_recovery` (HDI90 coverage, median abs % error of posterior-mean ROI) for our fit, plus
    hurdle-flag agreement, the prior-dominated cells and the error over the others, and the marginal-ROI error
    when the truth has ``mroi``."""
    table = fitted.roi()
    out = mmm_peers.roi_recovery(table, truth)
    est = table.merge(truth, on=["region", "channel"], suffixes=("", "_truth"))
    true_roi = est["roi"]
    errors = np.abs(est["roi_mean"] / true_roi - 1)
    out["hurdle_flag_agreement"] = float(((est["roi_mean"] < 1.5) == (true_roi < 1.5)).mean())
    out["prior_dominated_cells"] = int(est["prior_dominated"].sum())
    # The error over the cells the data inform (not prior-dominated): what the panel itself recovers.
    informed = errors[~est["prior_dominated"]]
    out["informed_cells_median_abs_pct_error"] = float(100 * np.median(informed)) if len(informed) else float("nan")
    if "mroi" in est:
        out["mroi_median_abs_pct_error"] = float(100 * np.median(np.abs(est["mroi_mean"] / est["mroi"] - 1)))
    return out


def run_variant(
    name: str,
    tables,
    *,
    truth: pd.DataFrame | None,
    draws: int,
    tune: int,
    chains: int,
    seed: int,
    dataset: str = "sample world",
    preview: bool = False,
    **kw,
) -> dict:
    """Fit our model on ``tables`` (spend, kpi, controls, channels) and summarise it."""
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = mmm.fit(
            tables.spend,
            tables.kpi,
            channels=tables.channels,
            controls=tables.controls,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            preview=preview,
            check=False,
            **kw,
        )
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
        "ppc_coverage_90": diag.value("ppc_coverage_90"),
        "mape_in_sample": diag.value("mape_in_sample"),
        "r2_in_sample": diag.value("r2_in_sample"),
        "diagnostics_passed": diag.passed,
    }
    if truth is not None:
        row |= recovery(fitted, truth)
    return row


def oracle_bound(world) -> dict[str, float]:
    """The information bound's oracle on ``world`` (default prior): :func:`mmm_information.expected_error` (median
    abs ROI error over noise draws, in percent, with its spread) plus ``realised_median_abs_pct_error``, the error
    on the world's own noise draw."""
    information = oracle.cell_information(world, baseline_known=False)
    bound = oracle.expected_error(information)
    realised, _ = oracle.realised_error(information)
    return bound | {"realised_median_abs_pct_error": realised["median_abs_pct_error"]}


def oracle_columns(bound: dict[str, float]) -> dict[str, float]:
    """The two figures of :func:`oracle_bound` a result row carries."""
    return {
        "oracle_expected_pct_error": bound["median_abs_pct_error"],
        "oracle_realised_pct_error": bound["realised_median_abs_pct_error"],
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
        row |= mmm_peers.roi_recovery(roi_table, truth)
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
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variants", default="preview,base,lift,lift+attribution", help="ours on the sample world")
    parser.add_argument("--peers", default="nutpie,pymc", help="pymc-marketing samplers to run, or 'none'")
    parser.add_argument("--reference", default="pymc_example,meridian", help="reference datasets, or 'none'")
    parser.add_argument("--meridian-geos", type=int, default=None, help="largest N geos only (default: all 40)")
    parser.add_argument("--worlds", default="none", help="other simulator seeds for the base fit, e.g. 1,2,3")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON results file (default {RESULTS})")
    args = parser.parse_args(argv)
    draws, tune, chains = (300, 300, 2) if args.quick else (1000, 1000, 4)
    settings = {"draws": draws, "tune": tune, "chains": chains, "seed": args.seed}
    world = simulate_world(seed=7)
    truth = world.truth.cells
    bound = oracle_bound(world)
    rows: list[dict] = []
    for variant in [v for v in args.variants.split(",") if v and v != "none"]:
        kw = {}
        if variant == "preview":
            kw["preview"] = True
        if "lift" in variant:
            kw["lift_tests"] = world.lift_tests
        if "attribution" in variant:
            priors = attribution_priors(world)
            if priors is None:
                continue
            kw["roi_priors"] = priors
        rows.append(run_variant(variant, world, truth=truth, **settings, **kw))
        if variant == "base":
            rows[-1] |= oracle_columns(bound)
        _print(rows[-1:])
    for world_seed in [int(v) for v in args.worlds.split(",") if v and v != "none"]:
        other = simulate_world(seed=world_seed)
        row = run_variant("base", other, truth=other.truth.cells, dataset=f"world seed {world_seed}", **settings)
        rows.append(row | oracle_columns(oracle_bound(other)))
        _print(rows[-1:])
    samplers = [v for v in args.peers.split(",") if v and v != "none"]
    rows += run_peers(world, truth=truth, samplers=samplers, dataset="sample world", **settings)
    references = [v for v in args.reference.split(",") if v and v != "none"]
    if "pymc_example" in references:
        # x1 and x2 are in [0, 1], not currency: in thousands they give ROIs ~5 and ~2.3, inside our default prior.
        data = mmm_reference.load_pymc_example(spend_scale=1000.0)
        example_truth = mmm_reference.pymc_example_truth(spend_scale=1000.0)
        rows.append(run_variant("base", data, truth=example_truth, dataset="pymc example", **settings))
        _print(rows[-1:])
        rows += run_peers(data, truth=example_truth, samplers=samplers, dataset="pymc example", **settings)
    if "meridian" in references:
        data = mmm_reference.load_meridian_geo(max_geos=args.meridian_geos)
        rows.append(run_variant("base", data, truth=None, dataset="meridian geo", **settings))
        _print(rows[-1:])
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    ratios = _speed_ratios(table)
    for line in ratios:
        print(line)
    bound_line = (
        f"information bound (benchmarks/mmm_information.py): an oracle that knows every true response curve expects "
        f"a median abs ROI error of {bound['median_abs_pct_error']:.1f}% on this world "
        f"({bound['error_p10']:.1f}-{bound['error_p90']:.1f}% over noise draws) with the default prior, and gets "
        f"{bound['realised_median_abs_pct_error']:.1f}% on this world's own noise draw"
    )
    print(bound_line)
    print(f"attribution priors: {ATTRIBUTION_NOTE}")
    print(f"reference data: {mmm_reference.PYMC_ORIGIN}; {mmm_reference.MERIDIAN_ORIGIN}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "world": "simulate_world(seed=7): 104 weeks x 4 regions x 11 channels",
        "machine": {"python": platform.python_version(), "processor": platform.processor(), "cores": 2},
        "targets": {
            "wall_s": 480,
            "preview_wall_s": 60,
            "max_rhat": 1.01,
            "divergence_pct": 0.1,
            "roi_hdi90_coverage": 0.8,
            "roi_median_abs_pct_error": 20,
            "min_ess_per_s_vs_pymc_marketing": 2.0,
        },
        "attribution_prior_method": ATTRIBUTION_NOTE,
        "reference_origins": [mmm_reference.PYMC_ORIGIN, mmm_reference.MERIDIAN_ORIGIN],
        "speed_ratios": ratios,
        "information_bound": {"note": bound_line, **bound},
        "rows": rows,
    }
    args.out.write_text(json.dumps(payload, indent=1, default=float))
    print(f"wrote {args.out}")
    return 0


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
