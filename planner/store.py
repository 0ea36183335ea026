"""The run store: what each quarterly planning run recommended, from which data, by which code, and who approved it.

A SQLite file by default (``sqlite:///runs/runs.db``), PostgreSQL through ``postgresql+psycopg://...`` URLs. The
schema is made only by the Alembic migrations in ``planner/migrations`` (run on open, up to head). Runs are never
deleted, their status only moves ``running`` → ``complete`` | ``failed`` | ``interrupted``, and an approved run is
frozen.

Examples
--------
>>> store = RunStore("sqlite:///runs/runs.db")  # doctest: +SKIP
>>> store.start_run("2026Q1-a1b2", config=cfg, config_toml=text, ...)  # doctest: +SKIP
>>> store.complete_run("2026Q1-a1b2", allocation=plan, headline=..., ...)  # doctest: +SKIP
>>> store.approve("2026Q1", by="cfo@example.com")  # a unique prefix is enough  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import json
import math
import secrets
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

__all__ = ["RunApproved", "RunNotFound", "RunRecord", "RunStore", "StoreError", "StoreUnavailable"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: The newest migration's revision; a test checks it against the scripts (add a migration: update it).
HEAD_REVISION = "0003_scenarios"
STATUSES = ("running", "complete", "failed", "interrupted")
#: Allocation columns the store keeps, in their SQL types; ``region`` and ``channel`` are required.
ALLOCATION_TEXT = ("region", "channel", "objective", "flag_reason")
ALLOCATION_FLOAT = (
    "spend_period_current",
    "spend_period",
    "spend_period_change",
    "revenue_period",
    "revenue_period_low",
    "revenue_period_high",
    "roi",
    "mroi",
)
ALLOCATION_BOOL = ("mroi_below_hurdle", "flag")
ALLOCATION_COLUMNS = ("region", "channel", "objective", *ALLOCATION_FLOAT, *ALLOCATION_BOOL, "flag_reason")
_PG_CONNECT_TIMEOUT_S = 5
_SQLITE_BUSY_TIMEOUT_MS = 30_000


class StoreError(RuntimeError):
    """Anything the run store refuses or cannot do."""


class StoreUnavailable(StoreError):
    """The store cannot be reached or written (the message names the URL, password masked, and the cause)."""


class RunNotFound(StoreError):
    """No run has this id (or id prefix)."""


class RunApproved(StoreError):
    """The run is approved and can no longer be altered."""


class _UTCDateTime(sa.types.TypeDecorator):
    """Timezone-aware UTC timestamps on every backend (SQLite keeps naive UTC text, PostgreSQL ``timestamptz``)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Mirrors planner/migrations/versions (a test checks the migrated schema against it); never create_all() it.
_metadata = sa.MetaData()
runs_table = sa.Table(
    "runs",
    _metadata,
    sa.Column("run_id", sa.String(128), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", _UTCDateTime(), nullable=False, index=True),
    sa.Column("finished_at", _UTCDateTime()),
    sa.Column("forced", sa.Boolean(), nullable=False),
    *(sa.Column(name, sa.Text(), nullable=False) for name in ("force_reasons", "config", "config_toml")),
    sa.Column("input_hashes", sa.Text(), nullable=False),
    sa.Column("posterior_hash", sa.String(128)),
    sa.Column("posterior_path", sa.Text()),
    sa.Column("package_version", sa.String(64), nullable=False),
    sa.Column("git_commit", sa.String(64)),
    sa.Column("versions", sa.Text(), nullable=False),
    sa.Column("seeds", sa.Text(), nullable=False),
    *(sa.Column(name, sa.Text()) for name in ("solver", "gate", "headline")),
    sa.Column("budget", sa.Float()),
    sa.Column("revenue_period", sa.Float()),
    *(sa.Column(name, sa.Text()) for name in ("allocation_columns", "error", "run_dir")),
    sa.CheckConstraint("status IN ('running', 'complete', 'failed', 'interrupted')", name="ck_runs_status"),
)
allocation_table = sa.Table(
    "allocation_rows",
    _metadata,
    sa.Column("run_id", sa.String(128), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("row_order", sa.Integer(), primary_key=True),
    sa.Column("region", sa.String(128), nullable=False),
    sa.Column("channel", sa.String(128), nullable=False),
    sa.Column("objective", sa.String(64)),
    *(sa.Column(name, sa.Float()) for name in ALLOCATION_FLOAT),
    *(sa.Column(name, sa.Boolean()) for name in ALLOCATION_BOOL),
    sa.Column("flag_reason", sa.Text()),
    sa.Index("ix_allocation_rows_run_id_region_channel", "run_id", "region", "channel"),
)
approvals_table = sa.Table(
    "approvals",
    _metadata,
    sa.Column("run_id", sa.String(128), sa.ForeignKey("runs.run_id"), primary_key=True),
    sa.Column("approved_by", sa.String(256), nullable=False),
    sa.Column("approved_at", _UTCDateTime(), nullable=False),
    sa.Column("note", sa.Text()),
)
checks_table = sa.Table(
    "checks",
    _metadata,
    sa.Column("check_id", sa.String(128), primary_key=True),
    sa.Column("run_id", sa.String(128), sa.ForeignKey("runs.run_id"), nullable=False, index=True),
    sa.Column("checked_at", _UTCDateTime(), nullable=False),
    sa.Column("first_week", sa.String(10), nullable=False),
    sa.Column("last_week", sa.String(10), nullable=False),
    sa.Column("weeks", sa.Integer(), nullable=False),
    sa.Column("input_hashes", sa.Text(), nullable=False),
    sa.Column("verdict", sa.String(32), nullable=False),
    sa.Column("recommendation", sa.Text(), nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Column("check_dir", sa.Text()),
)
scenarios_table = sa.Table(
    "scenarios",
    _metadata,
    sa.Column("scenario_id", sa.String(128), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False, unique=True),
    sa.Column("note", sa.Text()),
    sa.Column("created_at", _UTCDateTime(), nullable=False),
    *(sa.Column(name, sa.Text(), nullable=False) for name in ("config_toml", "policy_toml", "headline", "allocation")),
    sa.Column("budget", sa.Float()),
    sa.Column("revenue_period", sa.Float()),
    sa.Column("promoted_run_id", sa.String(128), sa.ForeignKey("runs.run_id")),
)


@dataclass(frozen=True, eq=False)
class ScenarioRecord:
    """A saved scenario: the run config with its policy, the plan's headline and allocation, and the run it was
    promoted to (``None`` until promoted)."""

    scenario_id: str
    name: str
    note: str | None
    created_at: datetime
    config_toml: str
    policy_toml: str
    headline: dict
    allocation: pd.DataFrame = field(repr=False)
    promoted_run_id: str | None = None


@dataclass(frozen=True, eq=False)
class RunRecord:
    """Everything stored about one run (``eq=False``: a data frame has no single truth value)."""

    run_id: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    forced: bool
    force_reasons: list[str]
    config: dict
    config_toml: str
    input_hashes: dict[str, str]
    posterior_hash: str | None
    posterior_path: str | None
    package_version: str
    git_commit: str | None
    versions: dict[str, str]
    seeds: dict
    solver: dict
    gate: dict
    headline: dict
    error: str | None
    run_dir: str | None
    allocation: pd.DataFrame = field(repr=False)
    approvals: list[dict]


class RunStore:
    """Durable record of planning runs, opened (and migrated to the newest schema) at ``url``.

    Parameters
    ----------
    url : str
        SQLAlchemy URL: ``sqlite:///path/runs.db`` or ``postgresql+psycopg://user:password@host:port/db``.

    Raises
    ------
    StoreUnavailable
        When the store cannot be reached or created (within 5 s for PostgreSQL), before any work is done.
    """

    def __init__(self, url: str) -> None:
        try:
            parsed = make_url(url)
        except exc.ArgumentError as error:
            raise StoreError(f"not a database URL: {url!r} ({error})") from None
        self.url: str = parsed.render_as_string(hide_password=True)
        self._engine = self._create_engine(parsed)
        self._check_reachable()
        self._migrate()

    # ----------------------------------------------------------------------------------------------------- writes
    def start_run(
        self,
        run_id: str,
        *,
        config: dict,
        config_toml: str,
        input_hashes: dict,
        versions: dict,
        package_version: str,
        git_commit: str | None,
        seeds: dict,
        run_dir: str | None,
        started_at: datetime | None = None,
    ) -> None:
        """Record a new run as ``running``, with everything that decides its result.

        Parameters
        ----------
        run_id : str
            New id (ids are never reused).
        config, config_toml : dict, str
            The run's configuration, parsed and as written.
        input_hashes : dict
            Input table name → content hash.
        versions, package_version, git_commit, seeds, run_dir
            The code and randomness that made the run, and its output folder.
        started_at : datetime, optional
            Timezone-aware; now (UTC) by default.

        Raises
        ------
        StoreError
            The id exists, a value is not JSON-able, or ``started_at`` is naive.
        """
        if not run_id or not isinstance(run_id, str):
            raise StoreError(f"run_id must be a non-empty string; got {run_id!r}")
        values = {
            "run_id": run_id,
            "status": "running",
            "started_at": _utc(started_at, "started_at"),
            "forced": False,
            "force_reasons": _dumps([], "force_reasons"),
            "config": _dumps(config, "config"),
            "config_toml": config_toml,
            "input_hashes": _dumps(input_hashes, "input_hashes"),
            "package_version": package_version,
            "git_commit": git_commit,
            "versions": _dumps(versions, "versions"),
            "seeds": _dumps(seeds, "seeds"),
            "run_dir": run_dir,
        }
        with self._write() as conn:
            exists = conn.execute(sa.select(runs_table.c.run_id).where(runs_table.c.run_id == run_id)).first()
            if exists:
                raise StoreError(f"run {run_id!r} already exists in {self.url}; run ids are never reused")
            conn.execute(runs_table.insert().values(**values))

    def complete_run(
        self,
        run_id: str,
        *,
        allocation: pd.DataFrame,
        headline: dict,
        solver: dict,
        gate: dict,
        forced: bool,
        force_reasons: list[str],
        posterior_hash: str | None,
        posterior_path: str | None,
        finished_at: datetime | None = None,
    ) -> None:
        """Mark a running run ``complete`` with its plan; the plan rows and the run land in one transaction.

        Parameters
        ----------
        allocation : pandas.DataFrame
            One row per region/channel; columns from ``ALLOCATION_COLUMNS`` (``region`` and ``channel`` required),
            kept in their order.
        headline, solver, gate : dict
            JSON-able figures; ``headline["budget"]`` and ``["revenue_period"]`` are also kept as columns.
        forced, force_reasons : bool, list of str
            Whether the plan was issued past a failed gate, and why (required when forced).
        posterior_hash, posterior_path : str or None
            The posterior the plan came from.

        Raises
        ------
        RunNotFound, RunApproved, StoreError
            No such run; the run is approved; it is not running or the allocation has unknown/repeated columns.
        """
        rows, columns = _allocation_rows(run_id, allocation)
        if forced and not force_reasons:
            raise StoreError(f"run {run_id!r} is marked forced but has no force_reasons; say which checks failed")
        values = {
            "status": "complete",
            "finished_at": _utc(finished_at, "finished_at"),
            "headline": _dumps(headline, "headline"),
            "solver": _dumps(solver, "solver"),
            "gate": _dumps(gate, "gate"),
            "forced": bool(forced),
            "force_reasons": _dumps(list(force_reasons), "force_reasons"),
            "posterior_hash": posterior_hash,
            "posterior_path": posterior_path,
            "budget": _figure(headline, "budget"),
            "revenue_period": _figure(headline, "revenue_period"),
            "allocation_columns": _dumps(columns, "allocation columns"),
        }
        with self._write() as conn:
            self._require_running(conn, run_id, "complete")
            conn.execute(runs_table.update().where(runs_table.c.run_id == run_id).values(**values))
            if rows:
                conn.execute(allocation_table.insert(), rows)

    def fail_run(
        self,
        run_id: str,
        *,
        status: Literal["failed", "interrupted"],
        error: str,
        gate: dict | None = None,
        finished_at: datetime | None = None,
    ) -> None:
        """Mark a running run ``failed`` or ``interrupted`` with the error (and the gate, when it was the gate).

        Raises
        ------
        RunNotFound, RunApproved, StoreError
            No such run; the run is approved; it is not running, or ``status`` is neither failed nor interrupted.
        """
        if status not in ("failed", "interrupted"):
            raise StoreError(f"status must be 'failed' or 'interrupted'; got {status!r}")
        values = {
            "status": status,
            "error": error,
            "finished_at": _utc(finished_at, "finished_at"),
            "gate": None if gate is None else _dumps(gate, "gate"),
        }
        with self._write() as conn:
            self._require_running(conn, run_id, status)
            conn.execute(runs_table.update().where(runs_table.c.run_id == run_id).values(**values))

    def approve(self, run_id: str, *, by: str, note: str | None = None, at: datetime | None = None) -> None:
        """Record who approved a complete run, when (now by default), and why; ``run_id`` may be a unique prefix.

        Raises
        ------
        RunApproved
            The run was approved before (the message names that approval).
        StoreError
            The run is not complete, or ``by`` is empty.
        """
        if not by or not by.strip():
            raise StoreError("an approval needs the approver's name (by=...)")
        with self._write() as conn:
            run_id = self._resolve(conn, run_id)
            self._refuse_if_approved(conn, run_id, "approve it again")
            status = conn.execute(sa.select(runs_table.c.status).where(runs_table.c.run_id == run_id)).scalar_one()
            if status != "complete":
                raise StoreError(f"run {run_id!r} is {status}; only a complete run can be approved")
            conn.execute(
                approvals_table.insert().values(
                    run_id=run_id, approved_by=by.strip(), approved_at=_utc(at, "at"), note=note
                )
            )

    def add_check(
        self,
        run_id: str,
        *,
        check_id: str,
        first_week: str,
        last_week: str,
        weeks: int,
        input_hashes: Mapping[str, str],
        verdict: str,
        recommendation: str,
        summary: Mapping[str, Any],
        check_dir: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record a check of a complete run's plan against a realized period (``growth-allocator check``).

        Raises
        ------
        StoreError
            The run is not complete, or ``check_id`` exists already.
        """
        with self._write() as conn:
            run_id = self._resolve(conn, run_id)
            status = conn.execute(sa.select(runs_table.c.status).where(runs_table.c.run_id == run_id)).scalar_one()
            if status != "complete":
                raise StoreError(f"run {run_id!r} is {status}; only a complete run's plan can be checked")
            conn.execute(
                checks_table.insert().values(
                    check_id=check_id,
                    run_id=run_id,
                    checked_at=_utc(at, "at"),
                    first_week=first_week,
                    last_week=last_week,
                    weeks=int(weeks),
                    input_hashes=_dumps(dict(input_hashes), "input_hashes"),
                    verdict=verdict,
                    recommendation=recommendation,
                    summary=_dumps(dict(summary), "summary"),
                    check_dir=check_dir,
                )
            )

    def save_scenario(
        self,
        name: str,
        *,
        note: str | None,
        config_toml: str,
        policy_toml: str,
        headline: Mapping[str, Any],
        allocation: pd.DataFrame,
        at: datetime | None = None,
    ) -> str:
        """Save a planner scenario under a unique ``name``; returns its id.

        Raises
        ------
        StoreError
            The name is empty or already taken (the message names the scenario that has it).
        """
        name = (name or "").strip()
        if not name:
            raise StoreError("a scenario needs a name")
        if len(name) > 256:
            raise StoreError(f"a scenario name has at most 256 characters; got {len(name)}")
        scenario_id = f"{_utc(at, 'at'):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        rows = allocation.to_dict(orient="records")
        with self._write() as conn:
            taken = conn.execute(
                sa.select(scenarios_table.c.scenario_id).where(scenarios_table.c.name == name)
            ).scalar_one_or_none()
            if taken is not None:
                raise StoreError(f"a scenario named {name!r} exists already ({taken}); choose another name")
            conn.execute(
                scenarios_table.insert().values(
                    scenario_id=scenario_id,
                    name=name,
                    note=note,
                    created_at=_utc(at, "at"),
                    config_toml=config_toml,
                    policy_toml=policy_toml,
                    headline=_dumps(dict(headline), "headline"),
                    allocation=_dumps({"columns": list(allocation.columns), "rows": rows}, "allocation"),
                    budget=_float_or_none(headline.get("budget")),
                    revenue_period=_float_or_none(headline.get("revenue_period")),
                )
            )
        return scenario_id

    def scenarios(self) -> pd.DataFrame:
        """Saved scenarios, newest first: ``scenario_id``, ``name``, ``note``, ``created_at``, ``budget``,
        ``revenue_period`` with ``revenue_period_low``/``_high`` (of the plan, from its headline) and
        ``promoted_run_id``."""
        with self._read() as conn:
            rows = [
                dict(r)
                for r in conn.execute(
                    sa.select(scenarios_table).order_by(scenarios_table.c.created_at.desc(), scenarios_table.c.name)
                ).mappings()
            ]
        out = []
        for r in rows:
            head = json.loads(r["headline"])
            out.append(
                {
                    "scenario_id": r["scenario_id"], "name": r["name"], "note": r["note"],
                    "created_at": r["created_at"], "budget": r["budget"], "revenue_period": r["revenue_period"],
                    "revenue_period_low": head.get("revenue_period_low"),
                    "revenue_period_high": head.get("revenue_period_high"),
                    "promoted_run_id": r["promoted_run_id"],
                }
            )  # fmt: skip
        columns = [
            "scenario_id", "name", "note", "created_at", "budget", "revenue_period", "revenue_period_low",
            "revenue_period_high", "promoted_run_id",
        ]  # fmt: skip
        return pd.DataFrame(out, columns=columns)

    def get_scenario(self, key: str) -> ScenarioRecord:
        """A saved scenario by id or by name.

        Raises
        ------
        StoreError
            No scenario has that id or name (the message lists the names there are).
        """
        with self._read() as conn:
            row = (
                conn.execute(
                    sa.select(scenarios_table).where(
                        (scenarios_table.c.scenario_id == key) | (scenarios_table.c.name == key)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                names = conn.execute(sa.select(scenarios_table.c.name)).scalars().all()
                raise StoreError(f"no scenario has the id or name {key!r}; saved scenarios: {sorted(names) or 'none'}")
        table = json.loads(row["allocation"])
        return ScenarioRecord(
            scenario_id=row["scenario_id"],
            name=row["name"],
            note=row["note"],
            created_at=row["created_at"],
            config_toml=row["config_toml"],
            policy_toml=row["policy_toml"],
            headline=json.loads(row["headline"]),
            allocation=pd.DataFrame(table["rows"], columns=table["columns"]),
            promoted_run_id=row["promoted_run_id"],
        )

    def set_promoted(self, scenario_id: str, run_id: str) -> None:
        """Record that a scenario was promoted to the (complete) run ``run_id``."""
        with self._write() as conn:
            run_id = self._resolve(conn, run_id)
            done = conn.execute(
                scenarios_table.update()
                .where(scenarios_table.c.scenario_id == scenario_id)
                .values(promoted_run_id=run_id)
            )
            if done.rowcount != 1:
                raise StoreError(f"no scenario has the id {scenario_id!r}")

    # ------------------------------------------------------------------------------------------------------ reads
    def checks(self, run_id: str) -> pd.DataFrame:
        """The checks recorded against a run, oldest first: ``check_id``, ``checked_at``, ``first_week``,
        ``last_week``, ``weeks``, ``verdict``, ``recommendation``, ``summary`` (dict), ``input_hashes`` (dict),
        ``check_dir``; ``run_id`` may be a unique prefix."""
        with self._read() as conn:
            run_id = self._resolve(conn, run_id)
            rows = conn.execute(
                sa.select(checks_table).where(checks_table.c.run_id == run_id).order_by(checks_table.c.checked_at)
            ).mappings()
            rows = [dict(r) for r in rows]
        columns = [
            "check_id", "checked_at", "first_week", "last_week", "weeks", "verdict", "recommendation", "summary",
            "input_hashes", "check_dir",
        ]  # fmt: skip
        for row in rows:
            row["summary"], row["input_hashes"] = json.loads(row["summary"]), json.loads(row["input_hashes"])
        return pd.DataFrame(rows, columns=columns)

    def get(self, run_id: str) -> RunRecord:
        """Everything stored about one run; ``run_id`` may be a unique prefix of an id.

        Raises
        ------
        RunNotFound
            No id starts with ``run_id`` (the message suggests close ids).
        StoreError
            The prefix matches several ids.
        """
        with self._read() as conn:
            run_id = self._resolve(conn, run_id)
            run = conn.execute(sa.select(runs_table).where(runs_table.c.run_id == run_id)).mappings().one()
            cells = conn.execute(
                sa.select(allocation_table)
                .where(allocation_table.c.run_id == run_id)
                .order_by(allocation_table.c.row_order)
            ).mappings()
            allocation = _allocation_frame([dict(c) for c in cells], json.loads(run["allocation_columns"] or "[]"))
            approvals = conn.execute(sa.select(approvals_table).where(approvals_table.c.run_id == run_id)).mappings()
            approvals = [{"by": a["approved_by"], "at": a["approved_at"], "note": a["note"]} for a in approvals]
        return RunRecord(
            run_id=run["run_id"],
            status=run["status"],
            started_at=run["started_at"],
            finished_at=run["finished_at"],
            forced=bool(run["forced"]),
            force_reasons=json.loads(run["force_reasons"]),
            config=json.loads(run["config"]),
            config_toml=run["config_toml"],
            input_hashes=json.loads(run["input_hashes"]),
            posterior_hash=run["posterior_hash"],
            posterior_path=run["posterior_path"],
            package_version=run["package_version"],
            git_commit=run["git_commit"],
            versions=json.loads(run["versions"]),
            seeds=json.loads(run["seeds"]),
            solver=json.loads(run["solver"] or "{}"),
            gate=json.loads(run["gate"] or "{}"),
            headline=json.loads(run["headline"] or "{}"),
            error=run["error"],
            run_dir=run["run_dir"],
            allocation=allocation,
            approvals=approvals,
        )

    def list(self, limit: int | None = None, status: str | None = None) -> pd.DataFrame:
        """One row per run, newest first.

        Parameters
        ----------
        limit : int, optional
            Most rows to return.
        status : {"running", "complete", "failed", "interrupted"}, optional
            Only runs with this status.

        Returns
        -------
        pandas.DataFrame
            run_id, started_at, finished_at (UTC), status, forced, approved_by, budget, revenue_period, git_commit.
        """
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise StoreError(f"limit must be a positive integer or None; got {limit!r}")
        if status is not None and status not in STATUSES:
            raise StoreError(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
        r, a = runs_table.c, approvals_table.c
        query = (
            sa.select(r.run_id, r.started_at, r.finished_at, r.status, r.forced, a.approved_by)
            .add_columns(r.budget, r.revenue_period, r.git_commit)
            .select_from(runs_table.outerjoin(approvals_table, a.run_id == r.run_id))
            .order_by(r.started_at.desc(), r.run_id.desc())
            .limit(limit)
        )
        if status is not None:
            query = query.where(r.status == status)
        with self._read() as conn:
            rows = conn.execute(query).all()
        columns = ["run_id", "started_at", "finished_at", "status", "forced", "approved_by"]
        frame = pd.DataFrame([tuple(row) for row in rows], columns=[*columns, "budget", "revenue_period", "git_commit"])
        frame["forced"] = frame["forced"].astype(bool)
        for name in ("started_at", "finished_at"):
            frame[name] = pd.to_datetime(frame[name], utc=True)
        for name in ("budget", "revenue_period"):
            frame[name] = frame[name].astype(float)
        return frame

    def close(self) -> None:
        """Release the store's connections."""
        self._engine.dispose()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunStore({self.url!r})"

    # ---------------------------------------------------------------------------------------------------- helpers
    def _create_engine(self, url: URL) -> Engine:
        try:
            if url.get_backend_name() == "sqlite":
                engine = sa.create_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000})
                _configure_sqlite(engine)
                return engine
            connect_args = {"connect_timeout": _PG_CONNECT_TIMEOUT_S} if url.get_backend_name() == "postgresql" else {}
            return sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
            hint = " (use postgresql+psycopg://...)" if url.get_backend_name() == "postgresql" else ""
            raise StoreUnavailable(f"cannot open the run store {self.url}: {error}{hint}") from None

    def _check_reachable(self) -> None:
        with self._read() as conn:
            conn.exec_driver_sql("SELECT 1")

    def _migrate(self) -> None:
        """Bring the schema to the newest migration. A store already there is seen with one query, so reading a
        store does not load Alembic (a third of a second on the command line)."""
        if self._at_head():
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self._write() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def _at_head(self) -> bool:
        try:
            with self._read() as conn:
                if not sa.inspect(conn).has_table("alembic_version"):
                    return False
                versions = set(conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars())
        except StoreUnavailable:
            raise
        except exc.SQLAlchemyError:
            return False
        return versions == {HEAD_REVISION}

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._unavailable_as_error(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        # sqlite_write: take SQLite's write lock at BEGIN, so two writers queue instead of failing on upgrade
        engine = self._engine.execution_options(sqlite_write=True)
        with self._unavailable_as_error(), engine.begin() as conn:
            yield conn

    @contextmanager
    def _unavailable_as_error(self) -> Iterator[None]:
        try:
            yield
        except exc.IntegrityError as error:
            raise StoreError(f"the run store {self.url} refused the write: {_cause(error)}") from None
        except (exc.OperationalError, exc.InterfaceError) as error:
            raise StoreUnavailable(f"run store {self.url} is unavailable: {_cause(error)}") from None

    def _resolve(self, conn: Connection, run_id: str) -> str:
        """The one id equal to ``run_id``, else the one starting with it; RunNotFound names close ids."""
        r = runs_table.c
        if conn.execute(sa.select(r.run_id).where(r.run_id == run_id)).first():
            return run_id
        pattern = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = conn.execute(sa.select(r.run_id).where(r.run_id.like(pattern, escape="\\")).limit(6)).scalars()
        matches = list(matches)
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise StoreError(f"run id prefix {run_id!r} is ambiguous: it matches {shown}; give more characters")
        close = _close_ids(run_id, list(conn.execute(sa.select(r.run_id)).scalars()))
        hint = f"; did you mean {', '.join(close)}?" if close else "; `runs list` shows the stored runs"
        raise RunNotFound(f"no run {run_id!r} in {self.url}{hint}")

    def _refuse_if_approved(self, conn: Connection, run_id: str, action: str) -> None:
        a = approvals_table.c
        first = conn.execute(sa.select(a.approved_by, a.approved_at).where(a.run_id == run_id)).first()
        if first:
            raise RunApproved(
                f"run {run_id!r} was approved by {first.approved_by} at {first.approved_at:%Y-%m-%d %H:%M:%S} UTC; "
                f"an approved run cannot be altered (refused: {action})"
            )

    def _require_running(self, conn: Connection, run_id: str, to: str) -> None:
        r = runs_table.c
        row = conn.execute(sa.select(r.status).where(r.run_id == run_id).with_for_update()).first()
        if row is None:
            self._resolve(conn, run_id)  # raises RunNotFound with suggestions
            raise RunNotFound(f"no run {run_id!r} in {self.url}; writes need the full id")
        self._refuse_if_approved(conn, run_id, f"mark it {to}")
        if row.status != "running":
            raise StoreError(f"run {run_id!r} is already {row.status}; only a running run can be marked {to}")


def _configure_sqlite(engine: Engine) -> None:
    """WAL journal (readers never block the writer), a busy timeout, foreign keys, and BEGIN IMMEDIATE for writes."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below); pysqlite's own is deferred
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_write") else "BEGIN")


def _cause(error: exc.DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)


def _float_or_none(value: Any) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _utc(moment: datetime | None, name: str) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise StoreError(f"{name} must be timezone-aware (UTC); got the naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays
        return value.tolist()
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON-serialisable")


def _dumps(value: Any, name: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=_json_default, allow_nan=True)
    except (TypeError, ValueError) as error:
        raise StoreError(f"{name} cannot be stored as JSON: {error}") from None


def _figure(headline: Mapping[str, Any], key: str) -> float | None:
    value = headline.get(key)
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        raise StoreError(f"headline[{key!r}] must be a number; got {value!r}") from None


def _allocation_rows(run_id: str, allocation: pd.DataFrame) -> tuple[list[dict], list[str]]:
    """Rows ready to insert, and the column order to restore; refuses unknown or missing columns."""
    if not isinstance(allocation, pd.DataFrame):
        raise StoreError(f"allocation must be a pandas DataFrame; got {type(allocation).__name__}")
    columns = [str(c) for c in allocation.columns]
    unknown = [c for c in columns if c not in ALLOCATION_COLUMNS]
    if unknown:
        allowed = ", ".join(ALLOCATION_COLUMNS)
        raise StoreError(f"allocation has columns the store does not keep: {', '.join(unknown)}; allowed: {allowed}")
    missing = [c for c in ("region", "channel") if c not in columns]
    if missing:
        raise StoreError(f"allocation must have the columns region and channel; missing: {', '.join(missing)}")
    values = {name: allocation[name].tolist() for name in columns}  # plain lists: pandas' per-row access is slow
    cells = list(zip(values["region"], values["channel"], strict=True))
    repeated = [cell for cell, count in Counter(cells).items() if count > 1]
    if repeated:
        shown = ", ".join("/".join(map(str, cell)) for cell in repeated[:5])
        raise StoreError(f"allocation has {len(repeated)} repeated cells (one row per region/channel allowed): {shown}")
    rows = []
    for order in range(len(allocation)):
        row: dict[str, Any] = {"run_id": run_id, "row_order": order}
        for name in ALLOCATION_COLUMNS:
            row[name] = _cell(values[name][order], name, order) if name in values else None
        rows.append(row)
    return rows, columns


def _cell(value: Any, name: str, order: int) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    try:
        if name in ALLOCATION_FLOAT:
            return float(value)
        if name in ALLOCATION_BOOL:
            if value not in (True, False, 0, 1):
                raise ValueError(f"{value!r} is not a boolean")
            return bool(value)
    except (TypeError, ValueError) as error:
        raise StoreError(f"allocation.{name} in row {order} must be numeric: {error}") from None
    return str(value)


def _allocation_frame(cells: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(cells, columns=["run_id", "row_order", *ALLOCATION_COLUMNS])
    frame = frame[columns].reset_index(drop=True)
    for name in columns:
        if name in ALLOCATION_FLOAT:
            frame[name] = frame[name].astype(float)
        elif name in ALLOCATION_BOOL and frame[name].notna().all():
            frame[name] = frame[name].astype(bool)
    return frame


def _close_ids(run_id: str, known: list[str], n: int = 5) -> list[str]:
    """Up to ``n`` ids, closest first: those sharing the longest leading part with ``run_id``, then look-alikes."""
    if not known:
        return []
    shared = {k: len(_common_prefix(run_id, k)) for k in known}
    best = max(shared.values())
    close = sorted(k for k in known if shared[k] == best and best >= 2)
    close += [k for k in difflib.get_close_matches(run_id, known, n=n, cutoff=0.6) if k not in close]
    return close[:n]


def _common_prefix(a: str, b: str) -> str:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return a[:size]
