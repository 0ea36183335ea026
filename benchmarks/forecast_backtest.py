"""Out-of-sample calibration of the media-mix model's quarterly forecast: a rolling-origin backtest.

The sample's model (the shipped posterior's spec) is refitted without its last ``h`` weeks (``MMMSpec.holdout_weeks``)
for ``h`` = 13, 26, 39; each fit forecasts the 13 weeks after its last fitted week, given the spend and controls that
were observed there, and the realized quarterly revenue per region is compared with the 90% predictive interval (the
posterior's expected revenue plus the likelihood's noise, as :meth:`mmm.FittedMMM.predict` and ``growth-allocator
check`` do). A calibrated model has ``z`` (realized minus predictive mean, in predictive sds) with mean square near 1
and about 90% of region-quarters inside.

This is the check's interval under the spend that was *observed* (which follows demand). Under a plan that moves
spend, the split of revenue between baseline and media matters more (see ``check_calibration.py``).

Usage: ``python benchmarks/forecast_backtest.py [--holdouts 13,26,39] [--chains 2 --draws 500 --tune 500 --seed 1]``
(about 3 to 6 minutes per fit on 2 cores). Prints a table and writes ``benchmarks/results/forecast_backtest.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import warnings
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = _HERE.parent
HORIZON = 13
HDI_PROB = 0.9


def one_origin(data, spec, holdout: int, sampler, seed: int) -> tuple[list[dict], float]:
    """Fit without the last ``holdout`` weeks; realized revenue of the next 13 weeks against the forecast."""
    import mmm
    from contracts import hdi

    started = time.perf_counter()
    fitted = mmm.fit(
        data, spec=dataclasses.replace(spec, holdout_weeks=holdout), sampler=sampler, seed=seed, check=False
    )
    seconds = time.perf_counter() - started
    first = fitted.data.n_weeks - holdout
    window = slice(first, first + HORIZON)
    expected = fitted.predicted_draws()[:, window, :]
    sigma = fitted.draws("sigma")[:, None, :] * fitted.data.revenue_scale
    noise = sigma * np.random.default_rng(seed).standard_normal(expected.shape)
    predictive = (expected + noise).sum(axis=1)
    low, high = hdi(predictive, HDI_PROB)
    realized = fitted.data.revenue[window].sum(axis=0)
    mean, sd = expected.sum(axis=1).mean(axis=0), predictive.std(axis=0)
    rows = [
        {
            "holdout_weeks": holdout,
            "first_week": str(fitted.data.weeks[first].date()),
            "region": region,
            "realized": float(realized[r]),
            "mean": float(mean[r]),
            "low": float(low[r]),
            "high": float(high[r]),
            "error_pct": float(100 * (realized[r] / mean[r] - 1)),
            "sd_pct": float(100 * sd[r] / mean[r]),
            "z": float((realized[r] - mean[r]) / sd[r]),
            "inside": bool(low[r] <= realized[r] <= high[r]),
        }
        for r, region in enumerate(fitted.data.regions)
    ]
    return rows, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holdouts", default="13,26,39")
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--tune", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=_HERE / "results" / "forecast_backtest.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import contracts
    import mmm

    data = contracts.load_dataset(ROOT / "data" / "sample")
    spec = mmm.load(ROOT / "data" / "sample" / "posterior").spec
    sampler = mmm.Sampler(chains=args.chains, draws=args.draws, tune=args.tune)
    rows, seconds = [], {}
    for holdout in (int(h) for h in args.holdouts.split(",")):
        got, seconds[holdout] = one_origin(data, spec, holdout, sampler, args.seed)
        rows += got
    table = pd.DataFrame(rows)
    z = table["z"].to_numpy()
    print(f"Rolling-origin backtest of the 13-week forecast ({args.chains} x {args.draws} draws, seed {args.seed}):")
    print(table.drop(columns=["realized", "low", "high"]).to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(
        f"inside the 90% interval: {int(table['inside'].sum())} of {len(table)} region-quarters; "
        f"mean z^2 {np.mean(z**2):.2f} (1 when calibrated); mean z {np.mean(z):+.2f}"
    )
    print("fit seconds: " + ", ".join(f"holdout {h}: {s:.0f} s" for h, s in seconds.items()))
    payload = {
        "benchmark": "forecast_backtest",
        "interval": "90% HDI",
        "sampler": {"chains": args.chains, "draws": args.draws, "tune": args.tune, "seed": args.seed},
        "inside": int(table["inside"].sum()),
        "region_quarters": len(table),
        "mean_z2": float(np.mean(z**2)),
        "mean_z": float(np.mean(z)),
        "fit_seconds": seconds,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
