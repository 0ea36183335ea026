"""How well could *any* model recover the sample world's cell ROIs from spend and revenue? The information bound.

The oracle itself lives in :mod:`simulator.oracle` (it knows each cell's true response curve and the noise sd, so
only the ROIs are left to estimate, and its posterior under our default prior is computed exactly). This script
prints its figures for the sample world, a few sensitivities and other worlds, with and without the lift tests.

If even this oracle misses a target, no honest model can meet it on that world without more information (lift
tests, attribution priors) or a prior that happens to sit on the truth.

Run::

    python benchmarks/mmm_information.py          # a few minutes: sample world, sensitivities, other worlds

Prints a table and writes ``benchmarks/results/mmm_information.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator import simulate_world
from simulator.oracle import (
    PRIOR_LOG_SD,
    PRIOR_MEDIAN,
    cell_information,
    expected_error,
    prior_only_error,
    realised_error,
)

RESULTS = Path(__file__).parent / "results" / "mmm_information.json"
#: Noise replicates per case (each an exact posterior; the Monte Carlo se of the mean is printed).
REPLICATES = 100


def main() -> int:
    rows = []

    def add(label: str, world, *, baseline_known: bool = False, **kw) -> pd.DataFrame:
        info = cell_information(world, baseline_known, lift_tests=kw.pop("lift_tests", False))
        data_se = float(info.cells["se_log_roi"].median())
        realised, _ = realised_error(info, **kw)
        rows.append(
            {
                "case": label,
                "data_only_rel_se": data_se,
                **expected_error(info, replicates=REPLICATES, **kw),
                "realised_pct_error": realised["median_abs_pct_error"],
            }
        )
        return info.cells

    sample = simulate_world(seed=7)
    cells = add("sample world, pooled (spread 0.12), baseline estimated", sample)
    add("sample world, pooled (spread 0.12), baseline known", sample, baseline_known=True)
    add("sample world, pooled (spread 0.3), baseline estimated", sample, tau=0.3)
    add("sample world, no pooling, baseline estimated", sample, tau=None)
    for median in (1.0, 2.0, 2.5):
        add(f"sample world, pooled, prior median {median} (1.5 default)", sample, prior_median=median)
    add("sample world, pooled, with its 8 lift tests", sample, lift_tests=True)
    for seed in (1, 2, 3):
        other = simulate_world(seed=seed)
        add(f"world seed {seed}, pooled", other)
        add(f"world seed {seed}, pooled, with its lift tests", other, lift_tests=True)
    for noise in (0.015, 0.01):
        add(f"sample world, pooled, noise_sd {noise} (0.03 in the sample)", simulate_world(seed=7, noise_sd=noise))
    add("sample world, pooled, 208 weeks (104 in the sample)", simulate_world(seed=7, weeks=208))
    by_channel = cells.groupby("channel")["se_log_roi"].median().round(3).to_dict()
    prior_only = prior_only_error(cells)
    realised, realised_cells = realised_error(cell_information(sample, baseline_known=False))
    realised_known, _ = realised_error(cell_information(sample, baseline_known=True))

    print("Oracle ROI recovery (true response curves and noise sd known; default LogNormal(log 1.5, 0.8) prior;")
    print("pooled: regions of a channel spread around it with the simulator's roi_spread 0.12 unless stated).")
    print(
        f"median_abs_pct_error: mean over {REPLICATES} noise replicates of the median abs % error of the exact "
        "posterior-mean ROI; realised_pct_error: the same on the world's own noise draw"
    )
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    prior_mean = PRIOR_MEDIAN * np.exp(PRIOR_LOG_SD**2 / 2)
    print(f"prior only (every cell at the prior mean {prior_mean:.2f}): median abs error {prior_only:.1f}%")
    print(
        f"on the sample world's own noise draw (not averaged): median abs error "
        f"{realised['median_abs_pct_error']:.1f}% "
        f"with the baseline estimated, {realised_known['median_abs_pct_error']:.1f}% with it known; coverage "
        f"{realised['interval90_coverage']:.1%}. Largest cell errors:"
    )
    worst = realised_cells.reindex(realised_cells["error"].abs().sort_values(ascending=False).index).head(8)
    print(worst.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print("data-only relative se of ROI, one region (sample world, baseline estimated), median by channel:")
    print("  " + ", ".join(f"{k} {v}" for k, v in by_channel.items()))
    RESULTS.parent.mkdir(exist_ok=True)
    payload = {
        "prior": {"median": PRIOR_MEDIAN, "log_sd": PRIOR_LOG_SD},
        "rows": rows,
        "prior_only_median_abs_pct_error": prior_only,
        "sample_realised_noise": {
            "baseline_estimated": realised,
            "baseline_known": realised_known,
            "cells": realised_cells.to_dict(orient="records"),
        },
        "sample_se_log_roi_by_channel": by_channel,
    }
    RESULTS.write_text(json.dumps(payload, indent=1))
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
