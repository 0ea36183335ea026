"""What every page shares: the active dataset and posterior, the optimizer built once per (data, posterior), the
current plan, error display and number formats.

Two caches, for two kinds of object:

* :func:`memo` keeps what is read from files that do not change under a running app (the bundled sample, a saved
  posterior keyed by its content hash, the model's ROI table and diagnostics): a small process-wide LRU, shared by
  every session. Tests warm it once per test session; clearing Streamlit's caches does not empty it.
* ``st.cache_resource`` keeps the response curves and the :class:`optimizer.Allocator` per (dataset, posterior): built
  once, then every control change only re-solves (``allocator.allocate(policy)``).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError

import contracts
from planner.report_html import money, money_interval

ROOT = Path(__file__).resolve().parents[1]
#: The plan config the app starts from (data folder, posterior, period, policy file, output unit and currency).
CONFIG_PATH = ROOT / "plans" / "example.toml"
#: Environment variables that move the run store and the runs folder (tests point them at a temporary folder).
STORE_ENV, RUNS_ENV = "GROWTH_ALLOCATOR_STORE", "GROWTH_ALLOCATOR_RUNS"
DEFAULT_RUNS_DIR = ROOT / ".out" / "runs"
#: Posterior draws the optimizer sees: enough for mean and CVaR plans, small enough to re-solve in well under 1 s.
MAX_DRAWS = 200
CURVE_SEED = 0
#: Plans solved in one session, kept so that a rerun without a change of rules does not re-solve.
_PLANS_KEPT = 8
_MEMO_SIZE = 8

log = logging.getLogger("growth_allocator.app")
_memo: OrderedDict[tuple, Any] = OrderedDict()
_memo_lock = threading.Lock()


def memo(key: tuple, build: Callable[[], Any]) -> Any:
    """``build()`` once per ``key`` in this process (least recently used dropped beyond a few entries)."""
    with _memo_lock:
        if key in _memo:
            _memo.move_to_end(key)
            return _memo[key]
    value = build()
    with _memo_lock:
        _memo[key] = value
        while len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return value


# ---------------------------------------------------------------------------------------------------- errors
def describe_error(err: BaseException) -> str:
    """The error in words for a marketer: pydantic errors one line per field, others their own message."""
    if isinstance(err, ValidationError):
        lines = []
        for e in err.errors(include_url=False):
            where = ".".join(str(p) for p in e["loc"])
            msg = e["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {msg}" if where else msg)
        return "\n".join(lines)
    text = str(err).strip()
    return text or type(err).__name__


def show_error(err: BaseException, title: str = "") -> None:
    """``st.error`` with the error's text (never a traceback)."""
    text = describe_error(err)
    lines = [line for line in text.splitlines() if line.strip()]
    body = "\n".join(f"- {line}" for line in lines) if len(lines) > 1 else text
    st.error(f"{title}\n\n{body}" if title else body)


def run_page(render: Callable[[], None]) -> None:
    """Run a page body; an unexpected error is logged with its traceback and shown as one short message."""
    try:
        render()
    except Exception as err:  # st.stop / st.rerun are BaseExceptions and pass through
        log.exception("page %s failed", getattr(render, "__module__", "?"))
        show_error(err, "This page could not be shown:")


# ---------------------------------------------------------------------------------------------------- formats
def eur(value: float, currency: str = "EUR", *, signed: bool = False) -> str:
    return money(value, currency, signed=signed)


def eur_interval(mean: float, low: float, high: float, currency: str, interval: str, *, signed: bool = False) -> str:
    return money_interval(mean, low, high, currency, interval, signed=signed)


# ---------------------------------------------------------------------------------------------------- store
def uplift_text(plan: Any, currency: str) -> str:
    """The plan's uplift against the current split with its interval, e.g. ``+802 k EUR (90% HDI 310–1,365 k)``."""
    uplift = plan.uplift
    return eur_interval(
        uplift["revenue_period_change"],
        uplift["revenue_period_change_low"],
        uplift["revenue_period_change_high"],
        currency,
        plan.interval,
        signed=True,
    )


def store_url() -> str:
    """The run store: ``$GROWTH_ALLOCATOR_STORE``, else SQLite in the runs folder."""
    url = os.environ.get(STORE_ENV)
    if url:
        return url
    folder = runs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'runs.db').as_posix()}"


def runs_dir() -> Path:
    """Where promoted runs write their folders: ``$GROWTH_ALLOCATOR_RUNS``, else ``.out/runs``."""
    return Path(os.environ.get(RUNS_ENV) or DEFAULT_RUNS_DIR)


# ---------------------------------------------------------------------------------------------------- inputs
def base_config():
    """The plan config (``plans/example.toml``), validated by ``planner.config``."""
    from planner.config import load_config

    stamp = CONFIG_PATH.stat().st_mtime_ns
    return memo(("config", str(CONFIG_PATH), stamp), lambda: load_config(CONFIG_PATH))


@dataclass(frozen=True)
class ActiveData:
    """The dataset the pages work on: the bundled sample or validated uploads."""

    key: str
    label: str
    data: contracts.Dataset
    folder: Path | None = None
    files: dict[str, str] = field(default_factory=dict)


def sample_data() -> ActiveData:
    from planner.inputs import load_data

    config = base_config()
    folder = config.data.resolved_folder()

    def build() -> ActiveData:
        return ActiveData("sample", f"bundled sample ({folder})", load_data(config), folder)

    return memo(("data", str(folder)), build)


def active_data() -> ActiveData:
    """The uploaded dataset of this session when there is one, else the bundled sample."""
    return st.session_state.get("dataset") or sample_data()


@dataclass(frozen=True)
class Posterior:
    path: Path
    sha256: str
    fitted: Any


def posterior_path() -> Path:
    chosen = st.session_state.get("posterior_path")
    return Path(chosen) if chosen else Path(base_config().model.posterior)


def load_posterior(path: Path | None = None) -> Posterior:
    """The saved posterior at ``path`` (default: this session's, else the config's), read once per content hash."""
    import mmm
    from planner.hashing import folder_hash

    path = Path(path or posterior_path())
    if not path.is_dir():
        raise FileNotFoundError(f"no saved posterior at {path}")
    digest = folder_hash(path)
    return memo(("posterior", digest), lambda: Posterior(path, digest, mmm.load(path)))


@dataclass(frozen=True)
class ModelSummary:
    roi: pd.DataFrame
    diagnostics: Any


def model_summary(post: Posterior, roi_hurdle: float = contracts.ROI_HURDLE) -> ModelSummary:
    """ROI per cell (90% HDI) and the diagnostics verdict of a posterior (computed once per posterior and hurdle)."""

    def build() -> ModelSummary:
        return ModelSummary(post.fitted.roi(roi_hurdle=roi_hurdle, hdi_prob=0.9), post.fitted.diagnostics(warn=False))

    return memo(("summary", post.sha256, float(roi_hurdle)), build)


# ---------------------------------------------------------------------------------------------------- optimizer
@dataclass(eq=False)
class Engine:
    """The optimizer over one (dataset, posterior): built once, re-solved per policy (thread-safe)."""

    key: str
    config: Any
    active: ActiveData
    posterior: Posterior
    current: pd.DataFrame
    allocator: Any
    default_policy: Any
    period_revenue: float
    gate: Any
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def currency(self) -> str:
        return self.config.output.currency

    def allocate(self, policy: Any) -> Any:
        with self.lock:
            return self.allocator.allocate(policy)

    def frontier(self, budgets: list[float], policy: Any) -> Any:
        with self.lock:
            return self.allocator.frontier(budgets, policy)


def readiness(post: Posterior, active: ActiveData) -> Any:
    """The planner's readiness gate: the diagnostics verdict and whether the posterior was fitted on this data."""
    from mmm.data import prepare_data
    from planner.gate import judge, model_data_hashes

    fitted = post.fitted
    summary = model_summary(post)
    with_lift = len(fitted.data.lift_tests) > 0
    data_hashes = model_data_hashes(prepare_data(active.data, lift_tests=with_lift))
    return judge(summary.diagnostics, model_data_hashes(fitted.data), data_hashes)


@st.cache_resource(show_spinner="Preparing the optimizer…", max_entries=4)
def _engine(key: str, _active: ActiveData, _post: Posterior) -> Engine:
    from optimizer import Allocator
    from planner.inputs import period_revenue
    from planner.run import check_policy_cells

    config = base_config()
    weeks = config.period.weeks
    data = _active.data
    current = contracts.period_spend(data.spend, weeks)
    curves = _post.fitted.response_curves(
        period_weeks=weeks, max_draws=MAX_DRAWS, seed=CURVE_SEED, currency=config.output.currency
    )
    revenue = period_revenue(data, weeks)
    policy = config.policy_for(current_spend=float(current["spend_period"].sum()), revenue=revenue)
    check_policy_cells(policy, data)
    allocator = Allocator(curves, current)
    _prewarm(allocator, policy)
    gate = readiness(_post, _active)
    return Engine(key, config, _active, _post, current, allocator, policy, revenue, gate)


def _prewarm(allocator: Any, policy: Any) -> None:
    """Build the mean and CVaR programs once with the engine, so that a marketer's first switch to CVaR re-solves
    a built program (about 0.1 s) instead of building one (about 1 s on the slower machine type)."""
    from optimizer import Risk

    for risk in (Risk(), Risk(kind="cvar", lam=0.5, alpha=0.1)):
        try:
            allocator.allocate(policy.model_copy(update={"risk": risk}))
        except Exception:  # a warm-up only; the page reports the real error when it solves
            log.debug("prewarm with %s failed", risk, exc_info=True)


def engine() -> Engine:
    """The optimizer for this session's dataset and posterior."""
    active, post = active_data(), load_posterior()
    return _engine(f"{active.key}|{post.sha256}", active, post)


def current_policy(eng: Engine) -> Any:
    """The policy the planner page last set for this engine, else the config's default policy."""
    saved = st.session_state.get("policy")
    if saved is not None and saved[0] == eng.key:
        return saved[1]
    return eng.default_policy


def set_policy(eng: Engine, policy: Any) -> None:
    st.session_state["policy"] = (eng.key, policy)


def solve(eng: Engine, policy: Any) -> Any:
    """The plan for ``policy`` (kept per session: a rerun with the same rules does not re-solve).

    Raises ``optimizer.InfeasiblePolicyError`` (its message names the conflicting rules) when no plan fits.
    """
    plans: OrderedDict = st.session_state.setdefault("plans", OrderedDict())
    key = (eng.key, policy.fingerprint())
    if key in plans:
        plans.move_to_end(key)
        return plans[key]
    plan = eng.allocate(policy)
    plans[key] = plan
    while len(plans) > _PLANS_KEPT:
        plans.popitem(last=False)
    return plan


@dataclass(frozen=True)
class PlanOutputs:
    """The plan as the planner writes it: rounded to the config's unit, its table and headline."""

    plan: Any
    rounded: Any
    table: pd.DataFrame
    headline: dict


def outputs(eng: Engine, plan: Any) -> PlanOutputs:
    """The plan rounded to the config's unit, with the planner's table and headline (rounding takes about 1 s)."""
    from planner.outputs import allocation_table, headline

    rounded = plan.rounded(eng.config.output.unit)
    table = allocation_table(plan, rounded)
    head = headline(plan, rounded, table)
    head["gate"], head["forced"] = eng.gate.to_dict(), False
    # the plan's total expected revenue with its interval over draws (what the store's scenario list shows)
    _, head["revenue_period_low"], head["revenue_period_high"] = revenue_interval(plan)
    return PlanOutputs(plan, rounded, table, head)


def plan_outputs(eng: Engine, plan: Any) -> PlanOutputs:
    """:func:`outputs`, kept in the session for the latest plan (saving and the report need it, browsing does not)."""
    cache = st.session_state.setdefault("plan_outputs", {})
    key = (eng.key, plan.policy.fingerprint())
    if key not in cache:
        cache.clear()  # only the latest plan's outputs are kept
        cache[key] = outputs(eng, plan)
    return cache[key]


def revenue_interval(plan: Any) -> tuple[float, float, float]:
    """Expected revenue of the plan over the period and its 90% equal-tailed interval over posterior draws."""
    import numpy as np

    curves = plan.allocator.curves
    spend = plan.table["spend_period"].to_numpy(dtype=float)
    total = curves.revenue(spend).sum(axis=1)
    return float(total.mean()), float(np.quantile(total, 0.05)), float(np.quantile(total, 0.95))


def data_caption(eng: Engine) -> str:
    post = eng.posterior
    return f"Data: {eng.active.label} · posterior {post.path} (sha256 {post.sha256[:12]}…)"


def run_config(eng: Engine) -> Any:
    """The plan config a recorded run of this session would use: the base config with this session's posterior."""
    config = eng.config
    if Path(config.model.posterior or "") == eng.posterior.path:
        return config
    return config.model_copy(update={"model": config.model.model_copy(update={"posterior": eng.posterior.path})})
