"""``growth-allocator runs``: list, show, compare and approve stored planning runs.

Wire it in with ``add_runs_parser(subparsers)``; every handler takes ``(args, console)`` and returns the exit code
(0 done, 2 when the store refuses or cannot be reached, with the reason printed).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the store pulls in SQLAlchemy and Alembic: imported when a `runs` command runs, not at start-up
    from planner.store import RunRecord, RunStore

__all__ = ["DEFAULT_STORE", "add_runs_parser"]

DEFAULT_STORE = "sqlite:///runs/runs.db"
Handler = Callable[[argparse.Namespace, Console], int]


def add_runs_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``runs`` command (``list``, ``show``, ``compare``, ``approve``) to a CLI's subparsers."""
    runs = subparsers.add_parser("runs", help="list, show, compare and approve stored planning runs")
    sub = runs.add_subparsers(dest="runs_command", required=True)

    listing = sub.add_parser("list", help="stored runs, newest first")
    listing.add_argument("--limit", type=int, default=20, help="most runs to show (default 20)")
    listing.add_argument(
        "--status", default=None, help="only runs with this status (running, complete, failed, interrupted)"
    )
    _store_option(listing, _list)

    show = sub.add_parser("show", help="everything stored about one run")
    show.add_argument("run_id", metavar="ID", help="run id (a unique prefix is enough)")
    _store_option(show, _show)

    compare = sub.add_parser("compare", help="what changed between two runs (data, rules, plan, revenue)")
    compare.add_argument("run_a", metavar="ID1", help="the earlier run")
    compare.add_argument("run_b", metavar="ID2", help="the later run")
    _store_option(compare, _compare)

    approve = sub.add_parser("approve", help="record who approved a complete run")
    approve.add_argument("run_id", metavar="ID", help="run id (a unique prefix is enough)")
    approve.add_argument("--by", required=True, help="name of the approver")
    approve.add_argument("--note", default=None, help="why, or on what condition")
    _store_option(approve, _approve)
    return runs


def _store_option(parser: argparse.ArgumentParser, handler: Handler) -> None:
    parser.add_argument("--store", default=DEFAULT_STORE, help=f"run store URL (default {DEFAULT_STORE})")
    parser.set_defaults(handler=_guarded(handler))


def _guarded(handler: Handler) -> Handler:
    """Open the store, run the handler, and turn any StoreError into its message and exit code 2."""

    def run(args: argparse.Namespace, console: Console) -> int:
        from planner.store import RunStore, StoreError

        try:
            with RunStore(args.store) as store:
                return handler(args, console, store)
        except StoreError as error:
            console.print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
            return 2

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _list(args: argparse.Namespace, console: Console, store: RunStore) -> int:
    """Table of runs, newest first."""
    runs = store.list(limit=args.limit, status=args.status)
    if runs.empty:
        console.print(f"No runs in {store.url}.")
        return 0
    table = Table(title=f"Runs in {store.url}")
    for name in ("run id", "started (UTC)", "status", "forced", "approved by", "budget", "revenue", "commit"):
        table.add_column(name, justify="right" if name in ("budget", "revenue") else "left")
    for row in runs.itertuples(index=False):
        table.add_row(
            row.run_id,
            _when(row.started_at),
            row.status,
            "yes" if row.forced else "",
            _text(row.approved_by),
            _money(row.budget),
            _money(row.revenue_period),
            _text(row.git_commit)[:10],
        )
    console.print(table)
    return 0


def _show(args: argparse.Namespace, console: Console, store: RunStore) -> int:
    """Everything about one run: provenance, outcome, approval, the plan."""
    run = store.get(args.run_id)
    facts = Table(title=f"Run {run.run_id}", show_header=False)
    facts.add_column("what", style="bold")
    facts.add_column("value")
    for label, value in _facts(run):
        facts.add_row(label, value)
    console.print(facts)
    if not run.allocation.empty:
        plan = Table(title="Plan")
        for name in run.allocation.columns:
            plan.add_column(name, justify="right" if run.allocation[name].dtype.kind == "f" else "left")
        for row in run.allocation.itertuples(index=False):
            plan.add_row(*(_cell(value) for value in row))
        console.print(plan)
    return 0


def _compare(args: argparse.Namespace, console: Console, store: RunStore) -> int:
    """The differences between two runs, in words and a table of region totals."""
    from planner.compare import compare_runs

    comparison = compare_runs(store.get(args.run_a), store.get(args.run_b))
    console.print(comparison.text(), highlight=False, markup=False)
    if not comparison.by_region.empty:
        table = Table(title="Spend by region")
        for name in ("region", "before", "after", "change"):
            table.add_column(name, justify="left" if name == "region" else "right")
        for row in comparison.by_region.itertuples(index=False):
            table.add_row(
                str(row.region),
                _money(row.spend_period_before),
                _money(row.spend_period_after),
                f"{row.spend_period_change:+,.0f}",
            )
        console.print(table)
    return 0


def _approve(args: argparse.Namespace, console: Console, store: RunStore) -> int:
    """Record the approval and confirm it."""
    run_id = store.get(args.run_id).run_id
    store.approve(run_id, by=args.by, note=args.note)
    approval = store.get(run_id).approvals[0]
    console.print(f"Run {run_id} approved by {approval['by']} at {_when(approval['at'])} UTC.", highlight=False)
    return 0


def _facts(run: RunRecord) -> list[tuple[str, str]]:
    facts = [
        ("status", run.status + (" (forced past the gate)" if run.forced else "")),
        ("started (UTC)", _when(run.started_at)),
        ("finished (UTC)", _when(run.finished_at)),
        ("code", f"{run.package_version} @ {run.git_commit or 'unknown commit'}"),
        ("versions", ", ".join(f"{k} {v}" for k, v in sorted(run.versions.items()))),
        ("seeds", json.dumps(run.seeds, sort_keys=True)),
        ("inputs", "\n".join(f"{name}: {digest[:16]}" for name, digest in sorted(run.input_hashes.items()))),
        ("posterior", f"{run.posterior_path or '-'} ({(run.posterior_hash or '-')[:16]})"),
        ("solver", ", ".join(f"{k}={v}" for k, v in sorted(run.solver.items()))),
        ("gate", _gate(run.gate)),
        ("budget", _money(run.headline.get("budget"))),
        ("expected revenue", _revenue(run.headline)),
        ("run folder", run.run_dir or "-"),
    ]
    if run.force_reasons:
        facts.append(("forced because", "\n".join(run.force_reasons)))
    if run.error:
        facts.append(("error", run.error))
    for approval in run.approvals:
        note = f" ({approval['note']})" if approval.get("note") else ""
        facts.append(("approved", f"by {approval['by']} at {_when(approval['at'])} UTC{note}"))
    if not run.approvals:
        facts.append(("approved", "not yet"))
    return facts


def _gate(gate: dict) -> str:
    if not gate:
        return "-"
    failures = gate.get("failures") or []
    return "passed" if gate.get("passed") else "failed: " + "; ".join(map(str, failures))


def _revenue(headline: dict) -> str:
    mean, low, high = (headline.get(k) for k in ("revenue_period", "revenue_period_low", "revenue_period_high"))
    if mean is None:
        return "-"
    return _money(mean) + ("" if low is None or high is None else f" [{_money(low)} to {_money(high)}]")


def _when(moment: Any) -> str:
    if moment is None or moment != moment:  # None or NaT
        return "-"
    return moment.strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else str(moment)


def _text(value: Any) -> str:
    """A text cell; pandas keeps a missing string as NaN."""
    return "" if value is None or value != value else str(value)


def _money(value: Any) -> str:
    if value is None or value != value:
        return "-"
    return f"{float(value):,.0f}"


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)
