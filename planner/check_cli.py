"""``growth-allocator check --run ID --data FOLDER``: did the plan work? (:func:`planner.check.check_run`).

Wire it in with ``add_check_parser(subparsers)``; the handler takes ``(args, console)`` like the other subcommands.
Exit codes follow :mod:`planner.plan_cli`: 0 when the check ran (whatever the verdict: it is printed, and recorded
in the run store), 2 for bad input (unknown run, a data folder without realized weeks, missing cells, a store that
cannot be reached), 1 when the check itself failed unexpectedly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from planner.plan_cli import EXIT_FAILED, EXIT_INPUT
from planner.runs_cli import DEFAULT_STORE


def add_check_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``check`` subcommand to ``subparsers``; its handler is :func:`main`."""
    check = subparsers.add_parser("check", help="did the plan work? a run's plan against the weeks realized since")
    check.add_argument("--run", dest="run_id", required=True, metavar="ID", help="run id (a unique prefix works)")
    check.add_argument("--data", type=Path, required=True, help="data folder with the weeks since the plan began")
    check.add_argument("--store", default=DEFAULT_STORE, help=f"run store URL (default {DEFAULT_STORE})")
    check.add_argument(
        "--out", type=Path, default=None, help="folder for <check id>/check.html (default <run folder>/checks)"
    )
    check.add_argument(
        "--tolerance", type=float, default=0.1, help="spend within ±this share of plan counts as followed (0.1)"
    )
    check.add_argument("--seed", type=int, default=0, help="seed of the predictive noise (default 0)")
    check.set_defaults(handler=main)
    return check


#: The name the lead's brief uses; same function.
add_parser = add_check_parser


def main(args: argparse.Namespace, console: Console | None = None) -> int:
    """Run the check for parsed ``args``; print the verdict and tables; return the exit code."""
    from contracts import ContractError
    from planner.check import check_run
    from planner.store import StoreError

    console = console or Console(highlight=False)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        result = check_run(
            args.run_id, args.data, store_url=args.store, out=args.out, tolerance=args.tolerance, seed=args.seed
        )
    except (StoreError, ContractError, FileNotFoundError, ValueError) as err:
        errors.print("[bold red]check not run:[/] ", end="")
        errors.print(str(err), markup=False)
        return EXIT_INPUT
    except Exception as err:  # a bug of ours; still no traceback, but say what it was
        errors.print("[bold red]check failed:[/] ", end="")
        errors.print(f"{type(err).__name__}: {err}", markup=False)
        return EXIT_FAILED
    _print(console, result)
    return 0


def _print(console: Console, result) -> None:
    cur = result.currency
    table = Table(
        title=f"Run {result.run_id}: {result.weeks} weeks {result.first_week}..{result.last_week} "
        f"(revenue against the {result.interval} given the realized spend)"
    )
    for name in ("region", "realized", "interval", "status", "spend vs plan"):
        table.add_column(name, justify="left" if name in ("region", "status") else "right")
    spend = result.adherence.set_index(["level", "region"])
    for row in result.outcome.itertuples():
        level = "total" if row.region == "total" else "region"
        ratio = spend.loc[(level, row.region), "ratio"]
        table.add_row(
            row.region,
            f"{row.revenue_realized:,.0f} {cur}",
            f"{row.revenue_low:,.0f} to {row.revenue_high:,.0f}",
            row.status,
            f"{ratio:.0%}",
        )
    console.print(table)
    console.print(f"Reweighting: PSIS k-hat {result.khat:.2f}, effective sample size {result.ess:.0f}.")
    console.print(
        f"All regions together: joint p {result.joint_p:.2f} (re-plan below {1 - result.hdi_prob:.2f}).", markup=False
    )
    console.print(f"Verdict: [bold]{result.verdict}[/]")
    console.print(result.recommendation, markup=False)
    for note in result.notes:
        console.print(f"• {note}", markup=False)
    console.print(f"Check {result.check_id} recorded; files: {', '.join(str(p) for p in result.paths)}", markup=False)
