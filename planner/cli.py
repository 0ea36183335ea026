"""The ``growth-allocator`` command line.

Subcommands:

* ``simulate`` — write a simulated world (tables + ``truth.json``) to a folder;
* ``validate`` — load every table in a folder, check the data contracts, and say which uses (attribute, fit,
  plan) the tables are enough for; exit 2 with the reason on any failure, or when they are enough for none;
* ``plan`` — the quarterly run from a config to a recorded plan (:mod:`planner.plan_cli`, :mod:`planner.run`);
* ``fit`` — fit the media-mix model on a data folder and save its posterior;
* ``runs`` — list, show, compare and approve recorded runs (:mod:`planner.runs_cli`);
* ``report`` — write a recorded run's ``report.html`` and ``report.xlsx`` again (:mod:`planner.report_cli`);
* ``check`` — did the plan work? a run's plan against the weeks realized since (:mod:`planner.check_cli`).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``growth-allocator`` console script; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    console = Console(stderr=False, highlight=False)
    return args.handler(args, console)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="growth-allocator",
        description="Marketing measurement and budget allocation: attribution, media-mix model, optimizer.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="write a simulated world with exact ground truth")
    sim.add_argument("--seed", type=int, required=True, help="random seed (same seed → same bytes)")
    sim.add_argument("--out", type=Path, required=True, help="folder to write the tables and truth.json to")
    sim.add_argument("--weeks", type=int, default=104, help="weeks of data (default 104)")
    sim.add_argument("--users", type=int, default=None, help="journeys to simulate (default 100000)")
    sim.set_defaults(handler=_simulate)

    val = sub.add_parser("validate", help="check the data tables in a folder against the data contracts")
    val.add_argument("folder", type=Path, help="folder with <table>.csv / .csv.gz / .parquet files")
    val.add_argument(
        "--for",
        dest="uses",
        action="append",
        choices=("attribute", "fit", "plan"),
        help="also require the tables this use needs (repeatable); without it, any one use is enough",
    )
    val.add_argument("--max-bytes", type=_positive_int, default=None, help="largest file on disk, bytes (2 GiB)")
    val.add_argument(
        "--max-expanded-bytes", type=_positive_int, default=None, help="largest decompressed file, bytes (4 GiB)"
    )
    val.set_defaults(handler=_validate)

    from planner.check_cli import add_check_parser
    from planner.plan_cli import add_plan_parsers
    from planner.report_cli import add_report_parser
    from planner.runs_cli import add_runs_parser

    add_plan_parsers(sub)
    add_runs_parser(sub)
    add_report_parser(sub)
    add_check_parser(sub)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of bytes; got {text}")
    return value


def _simulate(args: argparse.Namespace, console: Console) -> int:
    from simulator import simulate_world

    overrides = {} if args.users is None else {"n_users": args.users}
    world = simulate_world(seed=args.seed, weeks=args.weeks, **overrides)
    written = world.save(args.out)
    cells = world.truth.cells
    hurdle = world.truth.meta["roi_hurdle"]

    table = Table(title=f"True ROI by region and channel (seed {args.seed}, {args.weeks} weeks; * = below {hurdle})")
    table.add_column("channel")
    table.add_column("objective")
    regions = list(dict.fromkeys(cells["region"]))
    for region in regions:
        table.add_column(region, justify="right")
    for channel, group in cells.groupby("channel", sort=False):
        by_region = group.set_index("region")
        values = [f"{by_region.at[r, 'roi']:.2f}{'*' if by_region.at[r, 'roi_below_hurdle'] else ' '}" for r in regions]
        table.add_row(channel, group["objective"].iloc[0], *values)
    console.print(table)

    spend_total = world.spend["spend"].sum()
    revenue_total = world.kpi["revenue"].sum()
    console.print(
        f"Spend {spend_total:,.0f} over {args.weeks} weeks = {spend_total / revenue_total:.1%} of revenue "
        f"{revenue_total:,.0f}; {int(cells['roi_below_hurdle'].sum())} of {len(cells)} cells below ROI {hurdle}."
    )
    meta = world.truth.meta["journeys"]
    console.print(
        f"Journeys: {meta['users']:,} users, {len(world.events):,} events, {len(world.paths):,} distinct "
        f"(region, path) rows; {meta['open_journeys']:,} journeys still open at the data end (not in paths)."
    )
    for path in written:
        console.print(f"  wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


def _validate(args: argparse.Namespace, console: Console) -> int:
    """Load and check the folder; exit 0 when it supports a use (and every ``--for`` use), else 2 with the reason.

    The rule: a folder passes when every table in it passes its contract, the tables agree with each other, and
    together they are enough for at least one use (``attribute``: events or paths; ``fit`` and ``plan``: spend,
    kpi and channels) and for every use named with ``--for``. Every failure, whatever raised it, exits 2 with a
    message and no traceback.
    """
    from contracts import ContractError
    from contracts.errors import DataWarning, Problem
    from contracts.io import USES, load_dataset, missing_for, supported_uses

    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    limits = {k: v for k, v in (("max_bytes", args.max_bytes), ("max_expanded_bytes", args.max_expanded_bytes)) if v}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            data = load_dataset(args.folder, require=tuple(args.uses or ()), **limits)
        for warning in caught:
            errors.print(f"warning: {warning.message}", markup=False)
        supported = supported_uses(data.names())
        if not supported:
            needs = "; ".join(f"{use} needs {', '.join(missing_for(use, data.names()))}" for use in USES)
            raise ContractError(
                [
                    Problem(
                        str(args.folder),
                        None,
                        f"tables {data.names()} are not enough for any use ({needs})",
                        "events or paths (to attribute), or spend, kpi and channels (to fit and plan)",
                    )
                ]
            )
    except (ContractError, OSError, ValueError, UnicodeError, MemoryError) as err:
        return _fail(errors, args.folder, str(err))
    except Exception as err:  # a bug of ours; still no traceback for the user, but say what it was
        return _fail(errors, args.folder, f"unexpected {type(err).__name__}: {err} (please report this as a bug)")
    table = Table(title=f"{args.folder}: every table passes its data contract")
    for col in ("table", "rows", "columns", "covers"):
        table.add_column(col)
    for name, df in data.tables().items():
        table.add_row(name, f"{len(df):,}", ", ".join(map(str, df.columns)), _coverage(df))
    console.print(table)
    unsupported = [f"{use} (needs {', '.join(missing_for(use, data.names()))})" for use in USES if use not in supported]
    not_to = f" Not to: {'; '.join(unsupported)}." if unsupported else ""
    console.print(f"Enough to: {', '.join(supported)}.{not_to}")
    return 0


def _fail(errors: Console, folder: Path, message: str) -> int:
    errors.print(f"[bold red]{folder}: data contract check failed[/]")
    errors.print(message, markup=False)
    return 2


def _coverage(df) -> str:
    for col in ("week", "ts", "start"):
        if col in df.columns:
            return f"{df[col].min():%Y-%m-%d} .. {df[col].max():%Y-%m-%d}"
    if "region" in df.columns:
        return f"{df['region'].nunique()} regions"
    return ""


if __name__ == "__main__":
    sys.exit(main())
