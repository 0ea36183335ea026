"""The quarterly planning run: data → attribution → media-mix model → readiness gate → plan → record → report.

:func:`run_plan` runs the stages of :data:`planner.progress.STAGES` for one :class:`planner.config.PlanConfig`,
writes the run folder (``allocation.csv``, ``plan.json``, ``config.toml``, the posterior or its hash, ``credit.csv``,
``run.log``, the finance report ``report.html`` and ``report.xlsx``) and records the run in the run store. A stage
that raises, or Ctrl-C, leaves the run recorded as ``failed`` or ``interrupted`` with its error and the folder marked
``INCOMPLETE``; it is never ``complete``.
"""

from __future__ import annotations

import importlib.metadata
import secrets
import subprocess
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

import contracts
from planner.config import PlanConfig
from planner.gate import GateVerdict, judge, model_data_hashes
from planner.hashing import dataset_hashes, folder_hash
from planner.inputs import load_data, period_revenue
from planner.outputs import allocation_table, headline, write_allocation, write_json
from planner.progress import RunProgress
from planner.store import RunStore

#: Packages whose versions every run records.
RECORDED_PACKAGES = ("growth-allocator", "pymc", "arviz", "nutpie", "cvxpy", "highspy", "numpy", "pandas", "scipy")
DEFAULT_STORE = "sqlite:///runs/runs.db"


class GateRefused(RuntimeError):
    """The readiness gate failed and the run was not forced; the message names each failed check and its number."""


@dataclass
class PlanRun:
    """The outcome of :func:`run_plan`: where its files are, what was recorded, and the plan itself."""

    run_id: str
    run_dir: Path
    status: str
    gate: GateVerdict | None = None
    forced: bool = False
    headline: dict = field(default_factory=dict)
    allocation: pd.DataFrame | None = None
    plan: object | None = None
    report: object | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-xxxxxx``: sortable by start time, unique across concurrent runs."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def package_versions() -> dict[str, str]:
    out = {}
    for name in RECORDED_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str | None:
    """The code's commit (with ``+dirty`` when the work tree has changes), or None outside a git checkout."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def run_plan(
    config: PlanConfig,
    *,
    out: Path | str = "runs",
    store_url: str | None = None,
    force: bool = False,
    progress: RunProgress | None = None,
    run_id: str | None = None,
) -> PlanRun:
    """Run the quarterly plan for ``config``; see the module docstring.

    The store is opened first: an unreachable store is an error before any work. Raises :class:`GateRefused` when
    the model fails the readiness gate and ``force`` is False (the run is recorded as ``failed`` with the reasons).
    """
    out = Path(out)
    if store_url is None:  # the default store lives in the runs folder: make that folder, nothing else
        out.mkdir(parents=True, exist_ok=True)
        store_url = f"sqlite:///{(out / 'runs.db').as_posix()}"
    store = RunStore(store_url)
    run_id = run_id or new_run_id()
    run_dir = out / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    progress = progress or RunProgress(show=False)
    result = PlanRun(run_id, run_dir, "running", forced=force)
    with progress:
        progress.log_to(run_dir / "run.log")
        progress.note(f"run {run_id}: config {config.source}, store {store.url}, force={force}")
        state = _Stages(config, run_dir, progress, force)
        started = False
        try:
            data = state.validate()
            versions = package_versions()
            store.start_run(
                run_id,
                config=state.record_config(),
                config_toml=state.config_toml,
                input_hashes=state.input_hashes,
                versions=versions,
                package_version=versions["growth-allocator"],
                git_commit=git_commit(),
                seeds=state.seeds,
                run_dir=str(run_dir),
            )
            started = True
            state.run(data)
            state.report(data, run_id, store.url)
            store.complete_run(
                run_id,
                allocation=state.table,
                headline=state.headline,
                solver=state.headline["solver"],
                gate=state.gate.to_dict(),
                forced=force and not state.gate.passed,
                force_reasons=state.gate.failures if force else [],
                posterior_hash=state.posterior_hash,
                posterior_path=state.posterior_path,
            )
        except BaseException as err:
            status = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
            text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            (run_dir / "INCOMPLETE").write_text(f"{status}: {text}\n", encoding="utf-8")
            progress.note(f"run {run_id} {status}: {text}")
            if started:
                store.fail_run(run_id, status=status, error=text, gate=state.gate.to_dict() if state.gate else None)
            raise
        progress.note(f"run {run_id} complete")
    result.status = "complete"
    result.gate, result.forced = state.gate, force and not state.gate.passed
    result.headline, result.allocation, result.plan = state.headline, state.table, state.plan
    result.report = state.report_data
    result.seconds = dict(progress.seconds)
    return result


class _Stages:
    """The stages' work and what they hand each other (kept apart from the store and error handling)."""

    def __init__(self, config: PlanConfig, run_dir: Path, progress: RunProgress, force: bool) -> None:
        self.config, self.run_dir, self.progress, self.force = config, run_dir, progress, force
        self.gate: GateVerdict | None = None
        self.posterior_hash: str | None = None
        self.posterior_path: str | None = None
        self.credit_table: pd.DataFrame | None = None
        self.report_data = None
        self.seeds = {"attribution": config.attribution.seed, "model": config.model.seed}

    # ------------------------------------------------------------------ stages
    def validate(self) -> contracts.Dataset:
        with self.progress.stage("validate"):
            data = load_data(self.config)
            weeks = self.config.period.weeks
            self.current = contracts.period_spend(data.spend, weeks)
            self.policy = self.config.policy_for(
                current_spend=float(self.current["spend_period"].sum()), revenue=period_revenue(data, weeks)
            )
            check_policy_cells(self.policy, data)
            self.input_hashes = dataset_hashes(data)
            self.config = self.config.resolved(first_week=first_week_after(data))
            self.config_toml = self.config.to_toml()
            (self.run_dir / "config.toml").write_text(self.config_toml, encoding="utf-8")
            self.progress.note(f"tables: {', '.join(f'{k} {v[:12]}' for k, v in self.input_hashes.items())}")
        return data

    def record_config(self) -> dict:
        """The resolved config as stored: with the rules actually used (a policy file's content, the budget)."""
        stored = self.config.model_dump(mode="json")
        stored["policy"] = {
            "file": stored["policy"].get("file"),
            "budget_from": stored["policy"].get("budget_from"),
            **self.policy.model_dump(mode="json"),
        }
        return stored

    def run(self, data: contracts.Dataset) -> None:
        credit = self.attribute(data)
        priors = self.priors(data, credit)
        fitted = self.model(data, priors)
        self.readiness(fitted, data)
        self.fitted = fitted
        with self.progress.stage("response curves"):
            curves = fitted.response_curves(period_weeks=self.config.period.weeks, currency=self.config.output.currency)
        self.optimize(data, curves)
        self.record()

    def attribute(self, data: contracts.Dataset):
        import attribution

        cfg = self.config.attribution
        paths = data.paths
        if paths is None and data.events is not None:
            with self.progress.stage("build paths"):
                paths = attribution.build_paths(data.events, by="region")
        else:
            self.progress.skip("build paths", "paths given" if paths is not None else "no events")
        if cfg.method == "none" or paths is None:
            self.progress.skip("attribute", "method none" if cfg.method == "none" else "no paths or events")
            return None
        with self.progress.stage("attribute"):
            method, options, self.credit_value = _attribution_method(cfg.method)
            if method == "markov":
                order = cfg.order
                if order == "auto":
                    order = attribution.select_order(paths, seed=cfg.seed).best_order
                    self.progress.note(f"Markov order {order} chosen by hold-out log-loss")
                options["order"] = int(order)
            credit = attribution.bootstrap(
                paths, method, n_boot=max(cfg.n_boot, 1), seed=cfg.seed, by="region", **options
            )
            credit.table.to_csv(self.run_dir / "credit.csv", index=False, lineterminator="\n")
            self.credit_table = credit.table if method == "markov" else None
        return credit

    def priors(self, data: contracts.Dataset, credit) -> pd.DataFrame | None:
        import attribution
        import mmm

        if credit is None or not self.config.model.fit or not self.config.model.attribution_priors:
            self.progress.skip("attribution priors", "not fitting" if not self.config.model.fit else "no attribution")
            return None
        with self.progress.stage("attribution priors"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the journey sample's scale is reported in the table, not a warning
                roi = attribution.attributed_roi(credit, data.spend, value=self.credit_value, kpi=data.kpi)
            return mmm.relative_roi_priors(roi.table)

    def model(self, data: contracts.Dataset, priors: pd.DataFrame | None):
        import mmm
        from mmm.data import prepare_data

        cfg = self.config.model
        with self.progress.stage("model"):
            if cfg.fit:
                sampler = mmm.Sampler(
                    draws=cfg.draws,
                    tune=cfg.tune,
                    chains=cfg.chains,
                    target_accept=cfg.target_accept,
                    progress=self.progress.sampler(),
                )
                fitted = mmm.fit(
                    data, sampler=sampler, roi_priors=priors, lift_tests=cfg.lift_tests, seed=cfg.seed, check=False
                )
                folder = fitted.save(self.run_dir / "posterior")
                self.posterior_path = str(folder)
                self.model_hashes = None
            else:
                folder = Path(cfg.posterior)
                if not folder.is_dir():
                    raise FileNotFoundError(f"[model] posterior = {str(folder)!r}: no such folder")
                fitted = mmm.load(folder)
                self.posterior_path = str(folder.resolve())
                # the saved model's own panel against the one this run's tables give (lift tests as it used them)
                with_lift = len(fitted.data.lift_tests) > 0
                self.model_hashes = model_data_hashes(fitted.data)
                self.data_model_hashes = model_data_hashes(prepare_data(data, lift_tests=with_lift))
            self.posterior_hash = folder_hash(Path(folder))
            self.progress.note(f"posterior {self.posterior_path} sha256 {self.posterior_hash}")
        return fitted

    def readiness(self, fitted, data: contracts.Dataset) -> None:
        with self.progress.stage("readiness gate"):
            data_hashes = getattr(self, "data_model_hashes", {})
            self.gate = judge(fitted.diagnostics(warn=False), self.model_hashes, data_hashes)
            for line in self.gate.failures:
                self.progress.note(f"gate: {line}")
            if not self.gate.passed and not self.force:
                raise GateRefused(
                    "the model is not ready to plan with; failed checks: "
                    + "; ".join(self.gate.failures)
                    + ". Fix the model (more draws, other data) or rerun with --force (recorded as forced)"
                )
            if not self.gate.passed:
                self.progress.note("gate failed; forced by the user: " + "; ".join(self.gate.failures))

    def optimize(self, data: contracts.Dataset, curves) -> None:
        from optimizer import Allocator

        with self.progress.stage("optimize"):
            self.plan = Allocator(curves, self.current).allocate(self.policy)
            self.rounded = self.plan.rounded(self.config.output.unit)
            self.table = allocation_table(self.plan, self.rounded)
            self.headline = headline(self.plan, self.rounded, self.table)
            self.headline["gate"] = self.gate.to_dict()
            self.headline["forced"] = bool(self.force and not self.gate.passed)

    def record(self) -> None:
        with self.progress.stage("record"):
            write_allocation(self.table, self.run_dir / "allocation.csv", self.config.output.unit)
            body = {
                **self.headline,
                "input_hashes": self.input_hashes,
                "posterior": {"path": self.posterior_path, "sha256": self.posterior_hash},
                "period": {"first_week": str(self.config.period.first_week), "weeks": self.config.period.weeks},
            }
            write_json(body, self.run_dir / "plan.json")

    def report(self, data: contracts.Dataset, run_id: str, store_url: str) -> None:
        """``report.html`` and ``report.xlsx`` in the run folder, from the plan in hand (no re-solve of the plan)."""
        from planner.report_data import report_data, safe_url
        from planner.report_html import write_html
        from planner.report_xlsx import write_xlsx

        with self.progress.stage("report"):
            meta = {
                "run_at": datetime.now(UTC),
                "status": "complete",
                "approvals": [],
                "force_reasons": self.gate.failures if self.force else [],
                "input_hashes": self.input_hashes,
                "versions": package_versions(),
                "seeds": self.seeds,
                "git_commit": git_commit(),
                "posterior_path": self.posterior_path,
                "posterior_hash": self.posterior_hash,
                "config_toml": self.config_toml,
                "store": safe_url(store_url),
            }
            self.report_data = report_data(
                run_id=run_id, plan=self.plan, table=self.table, headline=self.headline, fitted=self.fitted,
                data=data, config=self.config, meta=meta, credit=self.credit_table,
            )  # fmt: skip
            write_html(self.report_data, self.run_dir / "report.html")
            write_xlsx(self.report_data, self.run_dir / "report.xlsx")


def check_policy_cells(policy, data: contracts.Dataset) -> None:
    """Names in the policy (locks, cell rules, group rules) that the data do not have: an error before any work."""
    from optimizer.rules import policy_rows

    spend = data.spend
    cells = set(zip(spend["region"], spend["channel"], strict=True))
    for name in ("locked", "unavailable", "cell_rules"):
        unknown = [(r.region, r.channel) for r in getattr(policy, name) if (r.region, r.channel) not in cells]
        if unknown:
            raise ValueError(
                f"[policy] {name} names cells the data do not have: {unknown}; the data's channels are "
                f"{sorted(set(spend['channel']))} in regions {sorted(set(spend['region']))}"
            )
    if policy.group_rules and data.channels is not None:
        frame = (
            spend[["region", "channel"]].drop_duplicates().merge(data.channels[["channel", "objective"]], on="channel")
        )
        policy_rows(frame.reset_index(drop=True), policy)  # raises naming an unknown region/channel/objective


def first_week_after(data: contracts.Dataset) -> pd.Timestamp:
    return (pd.to_datetime(data.spend["week"]).max() + pd.Timedelta(days=7)).normalize()


def _attribution_method(method: str) -> tuple[str, dict, str]:
    """(bootstrap method, its options, the credit column of attributed revenue) for a config method name."""
    if method == "markov":
        return "markov", {}, "value"
    if method in ("shapley", "ordered_shapley"):
        return "shapley", {"ordered": method == "ordered_shapley"}, "value"
    return "heuristics", {}, f"{method}_value"
