"""Calibration of ``growth-allocator check``: does realized revenue fall inside the 90% predictive interval?

The bundled sample world (``simulate_world(seed=7)``) is played forward 13 weeks under its own example plan
(``plans/example.toml`` run once in process with the shipped posterior: no MCMC), once per noise seed. Each quarter is
checked with :func:`planner.check.assess_plan`; a calibrated model puts realized quarterly revenue inside its 90%
interval given the realized spend in about 90% of seeds per region (target: at least 80%). Also reported: the
verdicts, the PSIS k-hat of the reweighting, and the model's mean forecast against the true expected revenue.

What the target asks of a calibrated model is printed beside it: every posterior draw is taken in turn as the true
world, and the chance that realized revenue lands inside the interval, and that at least 80% of the seeds do, is
computed exactly (the noise is Gaussian given the draw). A model whose posterior is right about its own uncertainty
meets "at least 80% of 20 seeds in every region" on only the share of worlds printed there; where the real truth
sits within the posterior is printed as a z-score per region.

What the data themselves allow is printed too: :func:`simulator.oracle.forecast_oracle`, an analyst who knew every
true response curve (baseline and ROIs estimated from the same data and lift tests, the default ROI prior), forecasts
each realized quarter given its spend; its bias, where the truth sits in its posterior, its coverage over the same
seeds and its chance of meeting the target (exact, from its interval and the simulator's noise) tell a miss that any
model would make on this world's draw from one that is ours.

``--worlds 1,2,3`` repeats the whole check on other simulated worlds, each fitted on its own data first (``--draws``
per chain, 2 chains, lift tests used; the example plan's config with that world's folder and posterior), so coverage
can be judged over worlds as well as seeds.

Usage: ``python benchmarks/check_calibration.py [--out PATH] [--seeds 20] [--first-seed 11] [--worlds 1,2,3]
[--draws 500]``
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


def example_plan(folder: Path, data: Path | None = None, posterior: Path | None = None, force: bool = False):
    """The example run in ``folder``: its :class:`planner.check.PlanTarget` and posterior.

    By default on the bundled sample with its shipped posterior; ``data`` and ``posterior`` point the same config at
    another world's folder and fit (``force`` plans even when that fit fails the readiness gate)."""
    import mmm
    from planner.check import PlanTarget
    from planner.config import load_config_text
    from planner.progress import RunProgress
    from planner.run import run_plan
    from planner.store import RunStore

    text = (ROOT / "plans" / "example.toml").read_text(encoding="utf-8")
    pointers = (("folder", "../data/sample", data), ("posterior", "../data/sample/posterior", posterior))
    for key, default, path in pointers:
        if path is not None:
            line = f"{key} = {json.dumps(default)}"
            if line not in text:
                raise ValueError(f"plans/example.toml has no line {line!r} to point at {path}")
            text = text.replace(line, f"{key} = {json.dumps(Path(path).resolve().as_posix())}")
    config = load_config_text(text, ROOT / "plans")
    run = run_plan(config, out=folder, progress=RunProgress(show=False), force=force)
    record = RunStore(f"sqlite:///{(folder / 'runs.db').as_posix()}").get(run.run_id)
    return PlanTarget.from_record(record), mmm.load(record.posterior_path)


def one_seed(world, target, fitted, seed: int) -> list[dict]:
    """Check the quarter realized under the plan with noise ``seed``: one row per region and the total, with the
    forecast oracle's interval on the same quarter beside the model's."""
    from planner.check import assess_plan
    from simulator.oracle import forecast_oracle

    realization = world.realize(target.allocation, target.weeks, seed=seed)
    findings = assess_plan(target, realization.data, fitted, seed=seed)
    truth = realization.revenue.groupby("region", sort=False)["expected_revenue"].sum()
    truth["total"] = truth.sum()
    oracle = forecast_oracle(world, realization, lift_tests=True, seed=seed).set_index("region")
    oracle["p_inside"] = p_inside(oracle["low"], oracle["high"], oracle["truth"], oracle["noise_sd"])
    rows = []
    for row in findings.outcome.itertuples():
        best = oracle.loc[row.region]
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
                "oracle_inside": bool(best["low"] <= row.revenue_realized <= best["high"]),
                "oracle_mean_vs_true_expected_pct": float(100 * (best["mean"] / best["truth"] - 1)),
                "oracle_truth_z": float(best["truth_z"]),
                "oracle_p_inside": float(best["p_inside"]),
            }
        )
    return rows


def p_inside(low, high, expected, sd):
    """Chance that ``expected`` plus Gaussian noise of sd ``sd`` lands in ``[low, high]``."""
    from scipy import stats

    return stats.norm.cdf((high - expected) / sd) - stats.norm.cdf((low - expected) / sd)


def needed(seeds: int) -> int:
    """Seeds that must land inside to meet the target."""
    return int(np.ceil(TARGET_COVERAGE * seeds - 1e-9))


def at_least(p_inside: np.ndarray, need: int) -> float:
    """Chance that at least ``need`` of independent events with chances ``p_inside`` happen (Poisson binomial)."""
    count = np.array([1.0])
    for p in p_inside:
        count = np.append(count * (1 - p), 0.0) + np.append(0.0, count * p)
    return float(count[need:].sum())


def oracle_reference(rows: pd.DataFrame) -> pd.DataFrame:
    """The forecast oracle over the seeds, per region: coverage seen, mean bias, truth's z in its posterior, and its
    exact chance of meeting the target (each seed's chance of landing inside, Poisson binomial over seeds);
    ``p_all_regions_meet`` multiplies the regions' chances (their noise is independent)."""
    need = needed(rows["seed"].nunique())
    out = rows.groupby("region", sort=False).agg(
        oracle_coverage=("oracle_inside", "mean"),
        oracle_bias_pct=("oracle_mean_vs_true_expected_pct", "mean"),
        oracle_truth_z=("oracle_truth_z", "mean"),
        oracle_expected_coverage=("oracle_p_inside", "mean"),
    )
    out["oracle_p_meets_target"] = [
        at_least(rows.loc[rows["region"] == region, "oracle_p_inside"].to_numpy(), need) for region in out.index
    ]
    regional = out.index != "total"
    out["oracle_p_all_regions_meet"] = float(np.prod(out.loc[regional, "oracle_p_meets_target"]))
    return out.reset_index()


def calibrated_reference(world, target, fitted, seeds: int, seed: int) -> pd.DataFrame:
    """What the coverage target asks of a model that is right about its own uncertainty, per region and total.

    The quarter is realized once (noise ``seed``) for its spend and controls; the model's predictive interval of
    quarterly revenue given that spend is the check's. Each posterior draw is then taken as the true world: its
    expected quarter ``E`` and noise sd ``s`` (weekly sd times sqrt(weeks), independent weeks) give the exact chance
    ``p = Phi((high - E)/s) - Phi((low - E)/s)`` that realized revenue lands inside, and the chance that at least
    80% of ``seeds`` noise seeds do is the binomial tail. Averaged over draws: ``coverage`` (about 0.9 when the
    interval is calibrated) and ``p_meets_target``; ``p_all_regions_meet`` is, per draw, the chance that every region
    meets it at once, averaged. ``truth_z`` is where the world's real expected quarter sits in the posterior of the
    expected quarter (posterior sd units): how far from the centre this world's truth happens to be.
    """
    from scipy import stats

    from contracts import hdi
    from planner.check import _model_spend, observed_weeks

    realization = world.realize(target.allocation, target.weeks, seed=seed)
    data = realization.data
    weeks = observed_weeks(data, target)
    spend = _model_spend(data.spend, fitted, weeks[-1])
    controls = None if data.controls is None else data.controls[data.controls["week"] <= weeks[-1]]
    forecast = fitted.predict(spend, controls, hdi_prob=0.9, seed=seed)
    checked = forecast.weeks.isin(weeks)

    def totals(x: np.ndarray) -> np.ndarray:
        per_region = x[:, checked].sum(axis=1)
        return np.concatenate([per_region, per_region.sum(axis=1, keepdims=True)], axis=1)

    expected, predictive = totals(forecast.expected), totals(forecast.predictive)
    low, high = hdi(predictive, 0.9)
    weekly_sd = fitted.draws("sigma").reshape(len(expected), -1) * fitted.data.revenue_scale
    sd = np.sqrt(int(checked.sum())) * weekly_sd
    sd = np.concatenate([sd, np.sqrt((sd**2).sum(axis=1, keepdims=True))], axis=1)
    inside = p_inside(low, high, expected, sd)
    p_meets = stats.binom.sf(needed(seeds) - 1, seeds, inside)
    truth = realization.revenue.groupby("region", sort=False)["expected_revenue"].sum()
    truth["total"] = truth.sum()
    regions = [*fitted.data.regions, "total"]
    truth_z = (truth[regions].to_numpy() - expected.mean(axis=0)) / expected.std(axis=0)
    all_regions = float(np.prod(p_meets[:, :-1], axis=1).mean())
    return pd.DataFrame(
        {
            "region": regions,
            "coverage": inside.mean(axis=0),
            "p_meets_target": p_meets.mean(axis=0),
            "p_all_regions_meet": [all_regions] * len(regions),
            "truth_z": truth_z,
        }
    )


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


def fitted_world(seed: int, folder: Path, draws: int):
    """Simulate world ``seed`` into ``folder``, fit it (2 chains x ``draws`` after as many tuning steps, lift tests
    used, seed 1) and save the posterior under ``folder/posterior``: what the example plan needs to run on it."""
    import contracts
    import mmm
    from simulator import simulate_world

    world = simulate_world(seed=seed)
    world.save(folder)
    data = contracts.load_dataset(folder, require=("fit",))
    fitted = mmm.fit(data, sampler=mmm.Sampler(chains=2, draws=draws, tune=draws), seed=1, check=False)
    fitted.save(folder / "posterior")
    return world, fitted.diagnostics(warn=False).passed


def check_world(world, target, fitted, seeds: range) -> dict:
    """Realize ``seeds`` quarters under the plan and check each; the summary, verdicts and calibrated reference."""
    t0 = time.perf_counter()
    rows = pd.DataFrame([r for seed in seeds for r in one_seed(world, target, fitted, seed)])
    per_seed_s = (time.perf_counter() - t0) / len(seeds)
    khat = rows.drop_duplicates("seed")["khat"].to_numpy()
    return {
        "rows": rows,
        "table": summarize(rows),
        "reference": calibrated_reference(world, target, fitted, len(seeds), seeds.start),
        "oracle": oracle_reference(rows),
        "verdicts": rows.drop_duplicates("seed")["verdict"].value_counts().to_dict(),
        "khat": khat,
        "per_seed_s": per_seed_s,
    }


def _records(df: pd.DataFrame) -> list:
    return json.loads(df.to_json(orient="records"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=_HERE / "results" / "check_calibration.json")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=11)
    parser.add_argument("--worlds", default="", help="other simulated worlds to fit and check, e.g. 1,2,3")
    parser.add_argument("--draws", type=int, default=500, help="draws per chain when fitting another world")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from simulator import simulate_world

    seeds = range(args.first_seed, args.first_seed + args.seeds)
    others = [int(w) for w in args.worlds.split(",") if w.strip()]
    fmt = {"float_format": lambda x: f"{x:.3f}", "index": False}
    results, pooled = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for world_seed in [7, *others]:
            t0 = time.perf_counter()
            if world_seed == 7:
                world, ready = simulate_world(seed=7), True
                target, fitted = example_plan(Path(tmp) / "run7")
                label = "sample world (seed 7), shipped posterior"
            else:
                folder = Path(tmp) / f"world{world_seed}"
                world, ready = fitted_world(world_seed, folder, args.draws)
                target, fitted = example_plan(
                    Path(tmp) / f"run{world_seed}", data=folder, posterior=folder / "posterior", force=not ready
                )
                label = f"world {world_seed}, fitted 2 x {args.draws} on its own data" + ("" if ready else " (forced)")
            setup_s = time.perf_counter() - t0
            out = check_world(world, target, fitted, seeds)
            table, reference, khat = out["table"], out["reference"], out["khat"]
            print(f"\n{label}: plan followed, {len(seeds)} seeds ({seeds.start}..{seeds.stop - 1}), 13 weeks each")
            print(table.to_string(**fmt))
            print(
                f"verdicts: {out['verdicts']}; PSIS k-hat median {np.median(khat):.2f}, > 0.7 in "
                f"{int((khat > 0.7).sum())} seeds; setup {setup_s:.1f} s, {out['per_seed_s']:.1f} s per seed"
            )
            print("a model right about its own uncertainty, on a world drawn from this posterior:")
            print(reference.to_string(**fmt))
            print("an analyst who knew every true curve (the forecast oracle), on the same quarters:")
            print(out["oracle"].to_string(**fmt))
            pooled.append(out["rows"].assign(world=world_seed))
            results.append(
                {
                    "world": world_seed,
                    "label": label,
                    "ready": ready,
                    "summary": _records(table),
                    "calibrated_reference": _records(reference),
                    "oracle_reference": _records(out["oracle"]),
                    "verdicts": out["verdicts"],
                    "khat": {"median": float(np.median(khat)), "above_0_7": int((khat > 0.7).sum())},
                    "seconds": {"setup": round(setup_s, 1), "per_seed": round(out["per_seed_s"], 2)},
                    "rows": _records(out["rows"]),
                }
            )
    rows = pd.concat(pooled, ignore_index=True)
    regional = rows[rows["region"] != "total"]
    over_worlds = {
        "worlds": [r["world"] for r in results],
        "region_quarters": len(regional),
        "coverage": float(regional["inside"].mean()),
        "oracle_coverage": float(regional["oracle_inside"].mean()),
        "per_world_region_coverage": _records(
            regional.groupby(["world", "region"], sort=False)["inside"].mean().reset_index(name="coverage")
        ),
    }
    if len(results) > 1:
        print(
            f"\nover {len(results)} worlds: {over_worlds['coverage']:.3f} of {len(regional)} region-quarters inside "
            f"the 90% interval (the forecast oracle: {over_worlds['oracle_coverage']:.3f}); world-regions at >= "
            f"{TARGET_COVERAGE:.0%}: "
            f"{sum(r['coverage'] >= TARGET_COVERAGE for r in over_worlds['per_world_region_coverage'])} of "
            f"{len(over_worlds['per_world_region_coverage'])}"
        )
    payload = {
        "benchmark": "check_calibration",
        "interval": "90% HDI",
        "target_coverage": TARGET_COVERAGE,
        "seeds": list(seeds),
        "worlds": results,
        "over_worlds": over_worlds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
