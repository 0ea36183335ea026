"""Calibration of ``growth-allocator check``: does realized revenue fall inside the 90% predictive interval?

The bundled sample world (``simulate_world(seed=7)``) is played forward 13 weeks under its own example plan
(``plans/example.toml`` run once in process with the shipped posterior: no MCMC), once per noise seed. Each quarter is
checked with :func:`planner.check.assess_plan`; a calibrated model puts realized quarterly revenue inside its 90%
interval given the realized spend in about 90% of seeds per region (target: at least 80%). Also reported: the
verdicts, the PSIS k-hat of the reweighting, and the model's mean forecast against the true expected revenue.

Usage: ``python benchmarks/check_calibration.py [--out PATH] [--seeds 20] [--first-seed 11]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

# run as a script, this file's folder comes first on sys.path and its name would shadow the package
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = _HERE.parent
TARGET_COVERAGE = 0.8


def example_plan(folder: Path):
    """The example run (shipped posterior) in ``folder``: its :class:`planner.check.PlanTarget` and posterior."""
    import mmm
    from planner.check import PlanTarget
    from planner.config import load_config_text
    from planner.progress import RunProgress
    from planner.run import run_plan
    from planner.store import RunStore

    config = load_config_text((ROOT / "plans" / "example.toml").read_text(encoding="utf-8"), ROOT / "plans")
    run = run_plan(config, out=folder, progress=RunProgress(show=False))
    record = RunStore(f"sqlite:///{(folder / 'runs.db').as_posix()}").get(run.run_id)
    return PlanTarget.from_record(record), mmm.load(record.posterior_path)


def one_seed(world, target, fitted, seed: int) -> list[dict]:
    """Check the quarter realized under the plan with noise ``seed``: one row per region and the total."""
    from planner.check import assess_plan

    realization = world.realize(target.allocation, target.weeks, seed=seed)
    findings = assess_plan(target, realization.data, fitted, seed=seed)
    truth = realization.revenue.groupby("region", sort=False)["expected_revenue"].sum()
    truth["total"] = truth.sum()
    rows = []
    for row in findings.outcome.itertuples():
        rows.append(
            {
                "seed": seed,
                "region": row.region,
                "inside": bool(row.inside),
                "status": row.status,
                "position": float(row.position),
                "realized": float(row.revenue_realized),
                "low": float(row.revenue_low),
                "high": float(row.revenue_high),
                "model_mean_vs_true_expected_pct": float(100 * (row.revenue_mean / truth[row.region] - 1)),
                "verdict": findings.verdict,
                "khat": findings.khat,
            }
        )
    return rows


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Coverage and bias per region (and total) over the seeds."""
    out = rows.groupby("region", sort=False).agg(
        seeds=("seed", "nunique"),
        coverage=("inside", "mean"),
        below=("status", lambda s: int((s == "below").sum())),
        above=("status", lambda s: int((s == "above").sum())),
        mean_position=("position", "mean"),
        bias_pct=("model_mean_vs_true_expected_pct", "mean"),
    )
    out["meets_target"] = out["coverage"] >= TARGET_COVERAGE
    return out.reset_index()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=_HERE / "results" / "check_calibration.json")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=11)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from simulator import simulate_world

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        target, fitted = example_plan(Path(tmp))
    world = simulate_world(seed=7)
    setup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    rows = pd.DataFrame([r for seed in seeds for r in one_seed(world, target, fitted, seed)])
    per_seed_s = (time.perf_counter() - t0) / args.seeds
    table = summarize(rows)
    verdicts = rows.drop_duplicates("seed")["verdict"].value_counts().to_dict()
    khat = rows.drop_duplicates("seed")["khat"].to_numpy()

    print(f"Plan followed in the sample world, {args.seeds} seeds ({seeds.start}..{seeds.stop - 1}), 13 weeks each:")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    print(f"verdicts: {verdicts}; PSIS k-hat median {np.median(khat):.2f}, > 0.7 in {int((khat > 0.7).sum())} seeds")
    print(f"setup {setup_s:.1f} s (example run + world); {per_seed_s:.1f} s per seed (realize + check)")
    payload = {
        "benchmark": "check_calibration",
        "interval": "90% HDI",
        "target_coverage": TARGET_COVERAGE,
        "seeds": list(seeds),
        "summary": json.loads(table.to_json(orient="records")),
        "verdicts": verdicts,
        "khat": {"median": float(np.median(khat)), "above_0_7": int((khat > 0.7).sum())},
        "seconds": {"setup": round(setup_s, 1), "per_seed": round(per_seed_s, 2)},
        "rows": json.loads(rows.to_json(orient="records")),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
