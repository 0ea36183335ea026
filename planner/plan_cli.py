"""``growth-allocator plan`` (the quarterly run) and ``growth-allocator fit`` (fit and save a posterior)."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from rich.console import Console
from rich.table import Table

#: Exit codes: 0 done, 1 a stage failed, 2 bad input (config, data, store), 3 refused by the readiness gate,
#: 130 interrupted (Ctrl-C).
EXIT_FAILED, EXIT_INPUT, EXIT_GATE, EXIT_INTERRUPTED = 1, 2, 3, 130


def add_plan_parsers(sub: argparse._SubParsersAction) -> None:
    plan = sub.add_parser("plan", help="the quarterly run: data → attribution → model → gate → plan → run store")
    plan.add_argument("--config", type=Path, required=True, help="plan config (TOML), e.g. plans/example.toml")
    plan.add_argument("--out", type=Path, default=Path("runs"), help="folder for run folders (default runs/)")
    plan.add_argument("--store", default=None, help="run store URL (default sqlite:///<out>/runs.db)")
    plan.add_argument("--force", action="store_true", help="issue a plan even if the readiness gate fails (recorded)")
    plan.add_argument("--quiet", action="store_true", help="no progress display (the log still has every stage)")
    plan.set_defaults(handler=_plan)

    fit = sub.add_parser("fit", help="fit the media-mix model on a data folder and save its posterior")
    fit.add_argument("--data", type=Path, required=True, help="data folder (spend, kpi, channels; lift_tests used)")
    fit.add_argument("--out", type=Path, required=True, help="folder to save the posterior to")
    fit.add_argument("--draws", type=int, default=1000)
    fit.add_argument("--tune", type=int, default=1000)
    fit.add_argument("--chains", type=int, default=4)
    fit.add_argument("--target-accept", type=float, default=0.98)
    fit.add_argument("--seed", type=int, default=1)
    fit.add_argument("--no-lift-tests", action="store_true", help="ignore the data's lift tests")
    fit.add_argument(
        "--thin", type=int, default=1, help="keep every N-th draw of each chain when saving (smaller file)"
    )
    fit.set_defaults(handler=_fit)


def _plan(args: argparse.Namespace, console: Console) -> int:
    from planner.config import ConfigError, load_config
    from planner.progress import RunProgress
    from planner.run import GateRefused, run_plan
    from planner.store import StoreError

    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        config = load_config(args.config)
        run = run_plan(
            config, out=args.out, store_url=args.store, force=args.force, progress=RunProgress(show=not args.quiet)
        )
    except (ConfigError, StoreError) as err:
        errors.print(f"[bold red]plan not run:[/] {err}", markup=True)
        return EXIT_INPUT
    except GateRefused as err:
        errors.print(f"[bold red]plan refused by the readiness gate:[/] {err}")
        return EXIT_GATE
    except KeyboardInterrupt:
        errors.print("[bold red]interrupted[/]: the run is recorded as interrupted; its folder is marked INCOMPLETE")
        return EXIT_INTERRUPTED
    except Exception as err:
        from contracts import ContractError

        code = EXIT_INPUT if isinstance(err, (ContractError, FileNotFoundError, ValueError)) else EXIT_FAILED
        errors.print(f"[bold red]plan failed:[/] {type(err).__name__}: {err}", markup=True)
        return code
    _summary(console, run)
    return 0


def _summary(console: Console, run) -> None:
    h = run.headline
    currency = h.get("currency") or ""
    table = Table(title=f"Run {run.run_id}: plan for {h['period_weeks']} weeks ({h['interval']} intervals)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("budget", f"{h['spent']:,.0f} {currency}")
    table.add_row("current spend", f"{h['spend_period_current']:,.0f} {currency}")
    table.add_row(
        "revenue vs current spend",
        f"{h['revenue_period_change']:+,.0f} ({h['revenue_period_change_low']:+,.0f} to "
        f"{h['revenue_period_change_high']:+,.0f}) {currency}",
    )
    table.add_row("plan's marginal ROI", f"{h['mroi']:.2f} (hurdle {h['roi_hurdle']:g})")
    table.add_row("flagged cells", str(len(h["flags"])))
    gate = "passed" if run.gate.passed else ("FORCED past: " + "; ".join(run.gate.failures))
    table.add_row("readiness gate", gate)
    console.print(table)
    for note in h["notes"]:
        console.print(f"• {note}", markup=False)
    console.print(f"Run folder: {run.run_dir} (allocation.csv, plan.json, config.toml, credit.csv, run.log)")


def _fit(args: argparse.Namespace, console: Console) -> int:
    import contracts
    import mmm

    errors = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        data = contracts.load_dataset(args.data, require=("fit",))
        sampler = mmm.Sampler(draws=args.draws, tune=args.tune, chains=args.chains, target_accept=args.target_accept)
        if args.thin < 1:
            raise ValueError(f"--thin must be a positive integer; got {args.thin}")
        with console.status("fitting the media-mix model"):
            fitted = mmm.fit(data, sampler=sampler, lift_tests=not args.no_lift_tests, seed=args.seed, check=False)
        if args.thin > 1:
            fitted = thinned(fitted, args.thin)
        folder = fitted.save(args.out)
    except (contracts.ContractError, OSError, ValueError, TypeError) as err:
        errors.print(f"[bold red]fit failed:[/] {err}")
        return EXIT_INPUT
    write_checksums(folder)
    verdict = fitted.diagnostics(warn=False)
    console.print(f"saved {folder} ({sum(p.stat().st_size for p in folder.iterdir()) / 1e6:.1f} MB)")
    console.print("verdict: " + ("passed" if verdict.passed else "FAILED: " + verdict.message()), markup=False)
    console.print(f"verify later with: (cd {folder} && sha256sum -c SHA256SUMS)")
    return 0


def thinned(fitted: object, every: int) -> object:
    """The fit with every ``every``-th draw of each chain (what ``--thin`` saves): the same chains, fewer bytes."""
    import dataclasses

    return dataclasses.replace(fitted, idata=fitted.idata.isel(draw=slice(None, None, every)))


def write_checksums(folder: Path) -> Path:
    """``SHA256SUMS`` in ``sha256sum`` format for every file of a saved posterior (check: ``sha256sum -c``)."""
    lines = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and p.name != "SHA256SUMS"):
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}")
    out = folder / "SHA256SUMS"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
