"""Benchmark the quarterly run and the run store.

* ``growth-allocator plan --config plans/example.toml`` on the bundled sample with its shipped posterior, as a
  separate process (process start to exit), with each stage's seconds from the run's log;
* the run store with 1,000 runs of 44 cells: ``list``, ``get`` (show) and ``compare`` in process, and the same
  three as ``growth-allocator runs ...`` commands (process start to exit).

Usage: ``python benchmarks/planner.py [--out PATH] [--runs 1000] [--skip-plan]``
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# run as a script, this file's folder comes first on sys.path and its name would shadow the package
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import pandas as pd  # noqa: E402

from planner.compare import compare_runs  # noqa: E402
from planner.store import RunStore  # noqa: E402

ROOT = _HERE.parent
CLI = [sys.executable, "-m", "planner.cli"]


def _timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}")
    return seconds, done


def bench_plan(folder: Path) -> dict:
    """The example plan as a process; stage seconds from its run.log."""
    seconds, _ = _timed([*CLI, "plan", "--config", "plans/example.toml", "--out", str(folder), "--quiet"])
    log = next(folder.glob("*/run.log")).read_text(encoding="utf-8")
    stages = {m[0]: float(m[1]) for m in re.findall(r"stage (.+?): done in ([\d.]+) s", log)}
    imports, _ = _timed([sys.executable, "-c", "import mmm, optimizer, attribution, planner.run"])
    return {"case": "plan", "wall_s": round(seconds, 2), "stages_s": stages, "imports_s": round(imports, 2)}


def _allocation(n: int, k: int) -> pd.DataFrame:
    rows = [(f"R{c % 4}", f"c{c}", "acquisition", 1000.0 + k, 1000.0 + c, float(c - k), 2000.0, 1800.0, 2200.0,
             2.0, 1.5, False, False, "") for c in range(n)]  # fmt: skip
    return pd.DataFrame(rows, columns=[
        "region", "channel", "objective", "spend_period_current", "spend_period", "spend_period_change",
        "revenue_period", "revenue_period_low", "revenue_period_high", "roi", "mroi", "mroi_below_hurdle", "flag",
        "flag_reason",
    ])  # fmt: skip


def build_store(url: str, runs: int) -> list[str]:
    """``runs`` complete runs of 44 cells through the store's API (one transaction each, as real runs write)."""
    store = RunStore(url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    for k in range(runs):
        run_id = f"2026{k:06d}-bench"
        at = start + timedelta(hours=k)
        store.start_run(run_id, config={"policy": {"budget": 1e6 + k}}, config_toml="", input_hashes={"spend": f"{k}"},
                        versions={}, package_version="bench", git_commit=None, seeds={}, run_dir=None,
                        started_at=at)  # fmt: skip
        headline = {"budget": 1e6 + k, "revenue_period": 2e6 + k, "revenue_period_low": 1.8e6,
                    "revenue_period_high": 2.2e6}  # fmt: skip
        store.complete_run(
            run_id,
            allocation=_allocation(44, k),
            headline=headline,
            solver={"status": "optimal", "name": "bench", "optimality_gap": 0.0},
            gate={"passed": True, "failures": [], "checks": []},
            forced=False,
            force_reasons=[],
            posterior_hash=None,
            posterior_path=None,
            finished_at=at + timedelta(seconds=30),
        )
        ids.append(run_id)
    store.close()
    return ids


def bench_store(url: str, runs: int) -> dict:
    t0 = time.perf_counter()
    ids = build_store(url, runs)
    built = time.perf_counter() - t0
    store = RunStore(url)
    t0 = time.perf_counter()
    listed = store.list()
    list_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    store.get(ids[runs // 2])
    get_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    compare_runs(store.get(ids[0]), store.get(ids[-1])).text()
    compare_s = time.perf_counter() - t0
    cli = {}
    for name, args in (
        ("list", ["list"]),
        ("show", ["show", ids[runs // 2]]),
        ("compare", ["compare", ids[0], ids[-1]]),
    ):
        cli[name], _ = _timed([*CLI, "runs", *args, "--store", url])
    return {
        "case": "store",
        "runs": len(listed),
        "build_s": round(built, 1),
        "list_s": round(list_s, 4),
        "get_s": round(get_s, 4),
        "compare_s": round(compare_s, 4),
        "cli_s": {k: round(v, 2) for k, v in cli.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=_HERE / "results" / "planner.json")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--skip-plan", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_plan:
            plan = bench_plan(Path(tmp) / "runs")
            rows.append(plan)
            stages = ", ".join(f"{k} {v:.1f}" for k, v in plan["stages_s"].items())
            print(f"plan (example config, shipped posterior): {plan['wall_s']:.1f} s process start to exit; "
                  f"imports {plan['imports_s']:.1f} s; stages: {stages}")  # fmt: skip
        store = bench_store(f"sqlite:///{Path(tmp).as_posix()}/bench.db", args.runs)
        rows.append(store)
        print(f"store, {store['runs']} runs x 44 cells (SQLite; built in {store['build_s']} s): list "
              f"{store['list_s']:.3f} s, show {store['get_s']:.3f} s, compare {store['compare_s']:.3f} s in process; "
              f"as commands (process start to exit): {store['cli_s']}")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
