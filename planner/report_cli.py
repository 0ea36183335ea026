"""``growth-allocator report --run ID``: write a stored run's ``report.html`` and ``report.xlsx`` again.

The report is rebuilt from the run's record: its config, data and posterior are loaded and its plan re-solved, and
the re-solved allocation must equal the stored one (else the inputs changed since the run and the command refuses).
A rebuilt report shows the run's approvals as they stand now. Exit codes: 0 written, 2 the run or its inputs cannot
be had (the reason is printed).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from planner.runs_cli import DEFAULT_STORE

__all__ = ["add_report_parser"]


def add_report_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``report`` command to a CLI's subparsers."""
    parser = subparsers.add_parser("report", help="write a stored run's report.html and report.xlsx")
    parser.add_argument("--run", required=True, metavar="ID", help="run id (a unique prefix is enough)")
    parser.add_argument("--store", default=DEFAULT_STORE, help=f"run store URL (default {DEFAULT_STORE})")
    parser.add_argument(
        "--out", type=Path, default=None, help="folder to write the two files to (default: the run's own folder)"
    )
    parser.set_defaults(handler=_report)
    return parser


def _report(args: argparse.Namespace, console: Console) -> int:
    from planner.report_data import report_data_from_store
    from planner.report_html import write_html
    from planner.report_xlsx import write_xlsx
    from planner.store import StoreError

    start = time.perf_counter()
    try:
        data, record = report_data_from_store(args.run, args.store)
    except (StoreError, ValueError, FileNotFoundError) as error:
        console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
        return 2
    out = args.out or (Path(record.run_dir) if record.run_dir else Path.cwd())
    out.mkdir(parents=True, exist_ok=True)
    html = write_html(data, out / "report.html")
    xlsx = write_xlsx(data, out / "report.xlsx")
    seconds = time.perf_counter() - start
    console.print(f"Run {record.run_id}: wrote {html} and {xlsx} in {seconds:.1f} s", highlight=False)
    return 0
