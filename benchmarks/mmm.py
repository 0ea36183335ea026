"""Benchmark the media-mix model on the sample world: speed, convergence and ROI recovery against the truth.

Run (nice it: other people time things on shared machines)::

    nice -n 15 python benchmarks/mmm.py               # 4 chains x 1000 draws after 1000 tuning, all variants
    nice -n 15 python benchmarks/mmm.py --quick       # 2 chains x 300 draws, for a smoke check

Prints a table and writes ``benchmarks/results/mmm.json``.
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
from simulator import simulate_world  # noqa: E402

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
    """Coverage of the true ROI by 90% HDIs and median absolute % error of the posterior-mean ROI."""
    est = fitted.roi().merge(truth[["region", "channel", "roi", "mroi"]], on=["region", "channel"])
    inside = (est["roi"] >= est["roi_hdi_low"]) & (est["roi"] <= est["roi_hdi_high"])
    err = np.abs(est["roi_mean"] / est["roi"] - 1)
    mroi_err = np.abs(est["mroi_mean"] / est["mroi"] - 1)
    flag_agree = ((est["roi_mean"] < 1.5) == (est["roi"] < 1.5)).mean()
    return {
        "roi_hdi90_coverage": float(inside.mean()),
        "roi_median_abs_pct_error": float(100 * np.median(err)),
        "mroi_median_abs_pct_error": float(100 * np.median(mroi_err)),
        "hurdle_flag_agreement": float(flag_agree),
    }


def run_variant(name: str, world, *, draws: int, tune: int, chains: int, seed: int, preview: bool = False, **kw):
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = mmm.fit(
            world.spend,
            world.kpi,
            channels=world.channels,
            controls=world.controls,
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
    row = {
        "variant": name,
        "chains": fitted.info["chains"],
        "draws": fitted.info["draws"],
        "tune": fitted.info["tune"],
        "wall_s": wall,
        "sampling_s": fitted.info["seconds"],
        "min_ess_per_s": ess / wall,
        "max_rhat": diag.value("max_rhat"),
        "divergence_pct": 100 * diag.value("divergence_share"),
        "ppc_coverage_90": diag.value("ppc_coverage_90"),
        "mape_in_sample": diag.value("mape_in_sample"),
        "diagnostics_passed": diag.passed,
        **recovery(fitted, world.truth.cells),
    }
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 chains x 300 draws after 300 tuning")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variants", default="preview,base,lift,lift+attribution")
    args = parser.parse_args(argv)
    draws, tune, chains = (300, 300, 2) if args.quick else (1000, 1000, 4)
    world = simulate_world(seed=7)
    rows = []
    for variant in args.variants.split(","):
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
        rows.append(run_variant(variant, world, draws=draws, tune=tune, chains=chains, seed=args.seed, **kw))
        print(pd.DataFrame(rows[-1:]).to_string(index=False, float_format=lambda v: f"{v:.3g}"), flush=True)
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"attribution priors: {ATTRIBUTION_NOTE}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
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
        },
        "attribution_prior_method": ATTRIBUTION_NOTE,
        "rows": rows,
    }
    RESULTS.write_text(json.dumps(payload, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
