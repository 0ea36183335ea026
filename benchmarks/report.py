"""Benchmark the finance report of the example run (issue 16's target: both files in at most 10 s, HTML <= 5 MB).

* inside the run: the ``report`` stage (gather the numbers, render ``report.html``, write ``report.xlsx``) with each
  part timed again in process on the run's own objects;
* ``growth-allocator report --run ID`` as a process (process start to exit: it loads the data and posterior and
  re-solves the plan before it writes the two files).

Usage: ``python benchmarks/report.py [--out PATH]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

# run as a script, this file's folder comes first on sys.path and its name would shadow the package
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

ROOT = _HERE.parent


def _seconds(fn, *args, **kwargs) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=_HERE / "results" / "report.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from planner.config import load_config_text
    from planner.report_html import write_html
    from planner.report_xlsx import write_xlsx
    from planner.run import run_plan

    config = load_config_text((ROOT / "plans" / "example.toml").read_text(encoding="utf-8"), ROOT / "plans")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "runs"
        run = run_plan(config, out=out)
        html_s, _ = _seconds(write_html, run.report, Path(tmp) / "again.html")
        xlsx_s, _ = _seconds(write_xlsx, run.report, Path(tmp) / "again.xlsx")
        command = [sys.executable, "-m", "planner.cli", "report", "--run", run.run_id]
        command += ["--store", f"sqlite:///{(out / 'runs.db').as_posix()}", "--out", str(Path(tmp) / "cli")]
        cli_s, done = _seconds(subprocess.run, command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"report command exited {done.returncode}: {done.stderr[-2000:]}")
        result = {
            "report_stage_s": round(run.seconds["report"], 2),
            "html_render_warm_s": round(html_s, 2),
            "xlsx_write_s": round(xlsx_s, 2),
            "gather_s": round(run.seconds["report"] - html_s - xlsx_s, 2),
            "report_command_s": round(cli_s, 2),
            "html_mb": round((run.run_dir / "report.html").stat().st_size / 1e6, 3),
            "xlsx_mb": round((run.run_dir / "report.xlsx").stat().st_size / 1e6, 3),
            "target_s": 10.0,
            "target_html_mb": 5.0,
        }
    print(
        f"report stage in the run: {result['report_stage_s']:.1f} s (target <= 10 s) = gather about "
        f"{result['gather_s']:.1f} s + HTML {result['html_render_warm_s']:.1f} s (warm) + Excel "
        f"{result['xlsx_write_s']:.1f} s; report.html {result['html_mb']:.2f} MB (target <= 5 MB), report.xlsx "
        f"{result['xlsx_mb']:.2f} MB; `growth-allocator report` as a process (loads, re-solves, writes): "
        f"{result['report_command_s']:.1f} s"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
