"""Process peak memory (RSS) of each attribution method on 1M distinct paths, each in a fresh process.

``benchmarks/attribution.py`` traces Python/NumPy allocations only; this measures what the operating system sees
(Arrow, SciPy and interpreter included): ``ru_maxrss`` of a process that imports the package, reads the paths
from Parquet and runs one method.

Usage::

    python benchmarks/attribution_memory.py [--paths 1000000] [--out benchmarks/results/attribution_memory.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CALLS = {
    "markov order 1": "attribution.markov(paths, order=1)",
    "markov order 2": "attribution.markov(paths, order=2)",
    "markov order 3": "attribution.markov(paths, order=3)",
    "markov order 4": "attribution.markov(paths, order=4)",
    "shapley": "attribution.shapley(paths)",
    "shapley ordered": "attribution.shapley(paths, ordered=True)",
    "heuristics": "attribution.heuristics(paths)",
}
CHILD = """
import json, resource, sys, time
import pandas as pd
import attribution
paths = pd.read_parquet(sys.argv[1])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
{call}
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "rss_before_mib": before,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _write_random_paths(n: int, path: Path) -> None:
    """Generate the input in a child process: Linux carries a parent's peak RSS into its children."""
    code = (
        "import importlib.util, sys; "
        "spec = importlib.util.spec_from_file_location('b', sys.argv[1]); b = importlib.util.module_from_spec(spec); "
        "spec.loader.exec_module(b); b.random_paths(int(sys.argv[2]), seed=0).to_parquet(sys.argv[3])"
    )
    bench = ROOT / "benchmarks" / "attribution.py"
    subprocess.run([sys.executable, "-c", code, str(bench), str(n), str(path)], check=True, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paths", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "attribution_memory.json")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "paths.parquet"
        _write_random_paths(args.paths, data)
        for task, call in CALLS.items():
            out = subprocess.run(
                [sys.executable, "-c", CHILD.format(call=call), str(data)],
                capture_output=True, text=True, check=True, cwd=ROOT,
            )  # fmt: skip
            rows.append({"task": task, "paths": args.paths, **json.loads(out.stdout.strip().splitlines()[-1])})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
