"""The run store on SQLite and PostgreSQL: schema by migration, round trips, status rules, approvals, failures to
connect, two writing processes, a 1,000-run store; and compare_runs against a hand-made pair."""

from __future__ import annotations

import multiprocessing
import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from planner.compare import compare_runs
from planner.store import (
    RunApproved,
    RunNotFound,
    RunRecord,
    RunStore,
    StoreError,
    StoreUnavailable,
    _allocation_rows,
    _dumps,
    _metadata,
    allocation_table,
    runs_table,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, 9, 30, 15, 123456, tzinfo=UTC)
REGIONS = ("Americas", "Asia", "Europe", "MEA")
CHANNELS = tuple(f"ch{i:02d}" for i in range(12))


def plan(scale: float = 1.0, regions=REGIONS, channels=CHANNELS) -> pd.DataFrame:
    """An allocation with every stored column, one row per cell (48 by default), in a deliberate non-sorted order."""
    rows = []
    for i, (region, channel) in enumerate((r, c) for r in reversed(regions) for c in channels):
        spend = 1000.0 * (i + 1) * scale
        rows.append(
            {
                "region": region,
                "channel": channel,
                "objective": "growth" if region in ("Asia", "MEA") else "profit",
                "spend_period_current": 1000.0 * (i + 1),
                "spend_period": spend,
                "spend_period_change": spend - 1000.0 * (i + 1),
                "revenue_period": 3.0 * spend,
                "revenue_period_low": 2.5 * spend,
                "revenue_period_high": 3.5 * spend,
                "roi": 3.0,
                "mroi": 1.0 + i / 100,
                "mroi_below_hurdle": i % 5 == 0,
                "flag": i % 7 == 0,
                "flag_reason": "capped by the channel rule" if i % 7 == 0 else None,
            }
        )
    return pd.DataFrame(rows)


def start_kwargs(**overrides) -> dict:
    kwargs = {
        "config": {"policy": {"budget": 1.0e6, "hurdle": {"roi": 1.2, "mode": "soft"}}, "quarter": "2026Q1"},
        "config_toml": '[policy]\nbudget = 1000000.0\n\n[policy.hurdle]\nroi = 1.2\nmode = "soft"\n',
        "input_hashes": {"spend": "a" * 64, "revenue": "b" * 64},
        "versions": {"python": "3.11.7", "pymc": "5.28.5", "cvxpy": "1.9.3"},
        "package_version": "0.1.0",
        "git_commit": "07c9bad0123456789abcdef0123456789abcdef0",
        "seeds": {"fit": 1, "simulate": [2, 3]},
        "run_dir": "runs/2026Q1-a",
        "started_at": T0,
    }
    return {**kwargs, **overrides}


def complete_kwargs(allocation: pd.DataFrame | None = None, **overrides) -> dict:
    allocation = plan() if allocation is None else allocation
    revenue = float(allocation["revenue_period"].sum()) if "revenue_period" in allocation else 1.0e6
    kwargs = {
        "allocation": allocation,
        "headline": {
            "budget": float(allocation["spend_period"].sum()),
            "revenue_period": revenue,
            "revenue_period_low": 0.9 * revenue,
            "revenue_period_high": 1.1 * revenue,
            "revenue_period_change": 1234.5,
            "mroi": 1.31,
            "notes": ["hurdle binds in Europe"],
            "shadow_prices": [{"rule": "budget", "price": 0.42}],
        },
        "solver": {"status": "optimal", "name": "HiGHS", "optimality_gap": 1e-9},
        "gate": {"passed": True, "failures": [], "checks": [{"name": "rhat", "value": 1.01, "passed": True}]},
        "forced": False,
        "force_reasons": [],
        "posterior_hash": "c" * 64,
        "posterior_path": "runs/2026Q1-a/posterior.nc",
        "finished_at": T0 + timedelta(minutes=7),
    }
    return {**kwargs, **overrides}


def record(run_id: str, **fields) -> RunRecord:
    """A hand-made RunRecord (for compare_runs without a store)."""
    base = {
        "run_id": run_id,
        "status": "complete",
        "started_at": T0,
        "finished_at": T0,
        "forced": False,
        "force_reasons": [],
        "config": {},
        "config_toml": "",
        "input_hashes": {},
        "posterior_hash": None,
        "posterior_path": None,
        "package_version": "0.1.0",
        "git_commit": None,
        "versions": {},
        "seeds": {},
        "solver": {},
        "gate": {},
        "headline": {},
        "error": None,
        "run_dir": None,
        "allocation": pd.DataFrame(columns=["region", "channel", "objective", "spend_period"]),
        "approvals": [],
    }
    return RunRecord(**{**base, **fields})


@pytest.fixture
def store(store_url: str):
    with RunStore(store_url) as opened:
        yield opened


def test_migrations_create_the_schema_and_are_idempotent(store_url: str) -> None:
    with RunStore(store_url):
        pass
    with RunStore(store_url) as again:  # second open: already at head, nothing to do
        again.start_run("r1", **start_kwargs())
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            inspector = sa.inspect(conn)
            assert {"runs", "allocation_rows", "approvals", "checks", "scenarios", "alembic_version"} <= set(
                inspector.get_table_names()
            )
            versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
            assert versions == ["0003_scenarios"]
            assert "ix_runs_started_at" in {ix["name"] for ix in inspector.get_indexes("runs")}
            assert inspector.get_pk_constraint("allocation_rows")["constrained_columns"] == ["run_id", "row_order"]
            # the store's table definitions and the migrated schema agree (no drift between code and migrations)
            diff = compare_metadata(MigrationContext.configure(conn), _metadata)
            assert [d for d in diff if d[0] != "remove_table"] == []
            assert conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one() == 1
    finally:
        engine.dispose()


def test_round_trip_keeps_every_field(store: RunStore) -> None:
    allocation = plan()
    store.start_run("2026Q1-abc", **start_kwargs())
    store.complete_run("2026Q1-abc", **complete_kwargs(allocation, forced=True, force_reasons=["rhat 1.08 > 1.05"]))
    store.approve("2026Q1-abc", by="Dana (CFO)", note="ok for Q1", at=T0 + timedelta(days=1))
    run = store.get("2026Q1-abc")
    start, done = start_kwargs(), complete_kwargs(allocation)
    assert (run.run_id, run.status, run.forced, run.force_reasons) == (
        "2026Q1-abc",
        "complete",
        True,
        ["rhat 1.08 > 1.05"],
    )
    assert run.started_at == T0 and run.started_at.tzinfo is not None
    assert run.finished_at == T0 + timedelta(minutes=7)
    for name in ("config", "config_toml", "input_hashes", "versions", "package_version", "git_commit", "seeds"):
        assert getattr(run, name) == start[name], name
    assert run.seeds["simulate"] == [2, 3]
    assert run.run_dir == "runs/2026Q1-a"
    for name in ("headline", "solver", "gate", "posterior_hash", "posterior_path"):
        assert getattr(run, name) == done[name], name
    assert run.error is None
    assert run.approvals == [{"by": "Dana (CFO)", "at": T0 + timedelta(days=1), "note": "ok for Q1"}]
    pd.testing.assert_frame_equal(run.allocation, allocation, check_dtype=False)
    assert list(run.allocation.columns) == list(allocation.columns)
    assert run.allocation["spend_period"].dtype == float and run.allocation["flag"].dtype == bool
    assert run.allocation.loc[0, "region"] == "MEA"  # stored order, not sorted


def test_columns_subset_and_order_survive_and_timestamps_are_utc(store: RunStore) -> None:
    allocation = plan()[["channel", "spend_period", "region"]]
    paris = timezone(timedelta(hours=1))
    store.start_run("r1", **start_kwargs(started_at=datetime(2026, 1, 5, 10, 30, tzinfo=paris)))
    store.complete_run("r1", **complete_kwargs(allocation))
    run = store.get("r1")
    assert list(run.allocation.columns) == ["channel", "spend_period", "region"]
    assert run.started_at == datetime(2026, 1, 5, 9, 30, tzinfo=UTC) and run.started_at.utcoffset() == timedelta(0)
    with pytest.raises(StoreError, match="timezone-aware"):
        store.start_run("r2", **start_kwargs(started_at=datetime(2026, 1, 5)))


def test_bad_allocation_is_refused_and_nothing_is_written(store: RunStore) -> None:
    store.start_run("r1", **start_kwargs())
    with pytest.raises(StoreError, match="does not keep: spend_eur_typo"):
        store.complete_run("r1", **complete_kwargs(plan().assign(spend_eur_typo=1.0)))
    with pytest.raises(StoreError, match="repeated cells"):
        store.complete_run("r1", **complete_kwargs(pd.concat([plan(), plan().head(1)])))
    with pytest.raises(StoreError, match="forced but has no force_reasons"):
        store.complete_run("r1", **complete_kwargs(forced=True))
    with pytest.raises(StoreError, match="config cannot be stored as JSON"):
        store.start_run("r2", **start_kwargs(config={"when": object()}))
    with pytest.raises(StoreError, match="missing: channel"):
        store.complete_run("r1", **complete_kwargs(plan().drop(columns="channel")))
    run = store.get("r1")
    assert run.status == "running" and run.allocation.empty


def test_status_only_moves_forward_from_running(store: RunStore) -> None:
    store.start_run("r1", **start_kwargs())
    with pytest.raises(StoreError, match="already exists"):
        store.start_run("r1", **start_kwargs())
    with pytest.raises(StoreError, match="only a complete run can be approved"):
        store.approve("r1", by="Dana")
    store.complete_run("r1", **complete_kwargs())
    with pytest.raises(StoreError, match="already complete"):
        store.complete_run("r1", **complete_kwargs())
    with pytest.raises(StoreError, match="already complete"):
        store.fail_run("r1", status="failed", error="late")
    with pytest.raises(RunNotFound, match="'nope'"):
        store.complete_run("nope", **complete_kwargs())
    with pytest.raises(StoreError, match="'failed' or 'interrupted'"):
        store.fail_run("r1", status="complete", error="x")  # type: ignore[arg-type]
    run = store.get("r1")
    assert run.status == "complete" and len(run.allocation) == 48 and run.error is None


@pytest.mark.parametrize("status", ["failed", "interrupted"])
def test_failed_and_interrupted_runs_keep_the_error_and_never_complete(store: RunStore, status: str) -> None:
    gate = {"passed": False, "failures": ["rhat 1.3 > 1.05"], "checks": [{"name": "rhat", "value": 1.3}]}
    store.start_run("r1", **start_kwargs())
    store.fail_run("r1", status=status, error="Traceback ...\nValueError: boom", gate=gate, finished_at=T0)
    with pytest.raises(StoreError, match=f"already {status}"):
        store.complete_run("r1", **complete_kwargs())
    with pytest.raises(StoreError, match="only a complete run"):
        store.approve("r1", by="Dana")
    run = store.get("r1")
    assert (run.status, run.error, run.gate, run.finished_at) == (status, "Traceback ...\nValueError: boom", gate, T0)
    assert run.allocation.empty and run.headline == {} and run.approvals == []
    listed = store.list()
    assert listed.loc[0, "status"] == status and pd.isna(listed.loc[0, "budget"])


def test_approval_rules(store: RunStore) -> None:
    store.start_run("r1", **start_kwargs())
    store.complete_run("r1", **complete_kwargs())
    store.approve("r1", by="Dana", note="fine", at=T0 + timedelta(hours=2))
    with pytest.raises(RunApproved, match=r"approved by Dana at 2026-01-05 11:30:15"):
        store.approve("r1", by="Eve")
    with pytest.raises(RunApproved, match="cannot be altered"):
        store.complete_run("r1", **complete_kwargs())
    with pytest.raises(RunApproved, match="cannot be altered"):
        store.fail_run("r1", status="interrupted", error="x")
    with pytest.raises(StoreError, match="approver's name"):
        store.approve("r1", by="  ")
    assert store.get("r1").approvals == [{"by": "Dana", "at": T0 + timedelta(hours=2), "note": "fine"}]
    assert store.list().loc[0, "approved_by"] == "Dana"


def test_get_by_prefix_and_helpful_not_found(store: RunStore) -> None:
    for run_id in ("2026Q1-aaa1", "2026Q1-aab2", "2026Q2-ccc3"):
        store.start_run(run_id, **start_kwargs())
    assert store.get("2026Q2").run_id == "2026Q2-ccc3"
    assert store.get("2026Q1-aab").run_id == "2026Q1-aab2"
    with pytest.raises(StoreError, match="ambiguous: it matches 2026Q1-aaa1, 2026Q1-aab2"):
        store.get("2026Q1-a")
    with pytest.raises(RunNotFound, match=r"no run '2026Q1-abx'.*did you mean 2026Q1-aaa1, 2026Q1-aab2\b"):
        store.get("2026Q1-abx")
    with pytest.raises(RunNotFound, match="'100%_'"):
        store.get("100%_")  # LIKE wildcards are taken literally


def test_list_is_newest_first_with_filters(store: RunStore) -> None:
    for i in range(5):
        store.start_run(f"r{i}", **start_kwargs(started_at=T0 + timedelta(hours=i)))
    store.complete_run("r3", **complete_kwargs())
    store.fail_run("r1", status="failed", error="x")
    listed = store.list()
    assert listed["run_id"].tolist() == ["r4", "r3", "r2", "r1", "r0"]
    expected = ["run_id", "started_at", "finished_at", "status", "forced", "approved_by", "budget"]
    assert listed.columns.tolist() == [*expected, "revenue_period", "git_commit"]
    assert listed.loc[1, "budget"] == pytest.approx(plan()["spend_period"].sum())
    assert store.list(limit=2)["run_id"].tolist() == ["r4", "r3"]
    assert store.list(status="running")["run_id"].tolist() == ["r4", "r2", "r0"]
    assert store.list(status="complete").loc[0, "started_at"] == pd.Timestamp(T0 + timedelta(hours=3))
    with pytest.raises(StoreError, match="status must be one of"):
        store.list(status="done")


def test_unreachable_sqlite_store_fails_fast_naming_the_url(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'runs.db'}"
    with pytest.raises(StoreUnavailable, match=r"missing-dir/runs\.db.*unable to open database file"):
        RunStore(url)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match=r"a-file/runs\.db"):
        RunStore(f"sqlite:///{blocker / 'runs.db'}")


def test_unreachable_postgres_fails_fast_with_the_password_masked() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(StoreUnavailable) as caught:
            RunStore(f"postgresql+psycopg://ga:s3cret@127.0.0.1:{port}/ga")
    message = str(caught.value)
    assert f"postgresql+psycopg://ga:***@127.0.0.1:{port}/ga" in message and "s3cret" not in message
    assert "refused" in message.lower() or "connect" in message.lower()
    with pytest.raises(StoreError, match="not a database URL"):
        RunStore("runs.db")


def _write_runs(url: str, prefix: str, n: int, barrier) -> None:
    """One writer process: start and complete ``n`` runs, starting when the other writer is ready too."""
    with RunStore(url) as store:
        barrier.wait(timeout=60)
        for i in range(n):
            run_id = f"{prefix}-{i:03d}"
            store.start_run(run_id, **start_kwargs(started_at=T0 + timedelta(seconds=i)))
            store.complete_run(run_id, **complete_kwargs())


def test_two_processes_writing_at_once_both_land(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # spawned children unpickle _write_runs by module name; they get the parent's sys.path, so put the repo root on it
    monkeypatch.syspath_prepend(str(ROOT))
    RunStore(store_url).close()  # migrate once, as the planning job does, before the writers start
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_write_runs, args=(store_url, side, 20, barrier)) for side in ("left", "right")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with RunStore(store_url) as store:
        runs = store.list()
        assert len(runs) == 40 and set(runs["status"]) == {"complete"}
        assert {r.split("-")[0] for r in runs["run_id"]} == {"left", "right"}
        assert len(store.get("right-019").allocation) == 48


def bulk_insert_runs(url: str, n: int) -> None:
    """``n`` complete runs in one transaction, rows shaped exactly as ``complete_run`` writes them (the API pays
    one durable commit per call: minutes for 1,000 runs on a slow disk)."""
    start, base_plan = start_kwargs(), plan()
    runs, cells = [], []
    for i in range(n):
        run_id = f"2026-{i:04d}"
        allocation = base_plan.assign(spend_period=base_plan["spend_period"] * (1 + i / 1000))
        rows, columns = _allocation_rows(run_id, allocation)
        cells += rows
        runs.append(
            {
                "run_id": run_id,
                "status": "complete",
                "started_at": T0 + timedelta(minutes=i),
                "finished_at": T0 + timedelta(minutes=i + 1),
                "forced": False,
                "force_reasons": "[]",
                "config": _dumps(start["config"], "config"),
                "config_toml": start["config_toml"],
                "input_hashes": _dumps({"spend": f"{i:064d}"}, "input_hashes"),
                "package_version": "0.1.0",
                "versions": "{}",
                "seeds": "{}",
                "headline": _dumps({"budget": float(allocation["spend_period"].sum())}, "headline"),
                "budget": float(allocation["spend_period"].sum()),
                "allocation_columns": _dumps(columns, "columns"),
            }
        )
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(runs_table.insert(), runs)
            conn.execute(allocation_table.insert(), cells)
    finally:
        engine.dispose()


def test_a_thousand_runs_list_get_and_compare(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    RunStore(url).close()
    bulk_insert_runs(url, 1000)
    with RunStore(url) as store:
        store.start_run("2026-1000", **start_kwargs(started_at=T0 + timedelta(days=1)))
        store.complete_run("2026-1000", **complete_kwargs())
        listed = store.list()
        assert len(listed) == 1001 and listed["run_id"].iloc[-1] == "2026-0000"
        assert listed["run_id"].iloc[:2].tolist() == ["2026-1000", "2026-0999"]
        assert listed["started_at"].is_monotonic_decreasing and set(listed["status"]) == {"complete"}
        assert store.list(limit=10)["run_id"].iloc[-1] == "2026-0991"
        newest, oldest = store.get("2026-0999"), store.get("2026-0000")
        assert newest.started_at == T0 + timedelta(minutes=999) and len(newest.allocation) == 48
        expected_plan = plan().assign(spend_period=plan()["spend_period"] * 1.999)
        pd.testing.assert_frame_equal(newest.allocation, expected_plan, check_dtype=False)
        comparison = compare_runs(oldest, newest)
        expected = 0.999 * plan()["spend_period"].sum()
        assert comparison.inputs.changed == ["spend"]
        assert comparison.cells["spend_period_change"].sum() == pytest.approx(expected)
        assert comparison.by_region["spend_period_change"].sum() == pytest.approx(expected)
        assert comparison.by_objective["spend_period_change"].sum() == pytest.approx(expected)


def test_compare_runs_against_a_hand_made_pair() -> None:
    before = pd.DataFrame(
        {
            "region": ["EU", "EU", "US"],
            "channel": ["search", "tv", "search"],
            "objective": ["profit", "profit", "growth"],
            "spend_period": [100.0, 200.0, 300.0],
        }
    )
    after = pd.DataFrame(
        {
            "region": ["US", "EU", "US"],
            "channel": ["search", "search", "social"],
            "objective": ["growth", "profit", "growth"],
            "spend_period": [250.0, 160.0, 90.0],
        }
    )
    a = record(
        "A",
        input_hashes={"spend": "1", "revenue": "2", "costs": "3"},
        config={"policy": {"budget": 600, "hurdle": {"roi": 1.2, "mode": "soft"}, "caps": {"tv": 0.3}}},
        headline={"revenue_period": 1000.0, "revenue_period_low": 900.0, "revenue_period_high": 1100.0},
        allocation=before,
    )
    b = record(
        "B",
        input_hashes={"spend": "1", "revenue": "9", "journeys": "4"},
        config={"policy": {"budget": 500, "hurdle": {"roi": 1.5, "mode": "soft"}, "floors": {"EU": 100}}},
        headline={"revenue_period": 1150.0, "revenue_period_low": 1000.0, "revenue_period_high": 1320.0},
        allocation=after,
    )
    result = compare_runs(a, b)
    assert (result.inputs.added, result.inputs.removed, result.inputs.changed) == (["journeys"], ["costs"], ["revenue"])
    assert result.policy == [
        ("budget", 600, 500),
        ("caps", {"tv": 0.3}, None),
        ("floors", None, {"EU": 100}),
        ("hurdle.roi", 1.2, 1.5),
    ]
    cells = result.cells.set_index(["region", "channel"])
    assert cells.loc[("EU", "search")].tolist()[1:] == [100.0, 160.0, 60.0]
    assert cells.loc[("EU", "tv")].tolist()[1:] == [200.0, 0.0, -200.0]
    assert cells.loc[("US", "social")].tolist()[1:] == [0.0, 90.0, 90.0]
    assert cells.loc[("US", "search"), "spend_period_change"] == -50.0
    by_region = result.by_region.set_index("region")["spend_period_change"].to_dict()
    assert by_region == {"EU": -140.0, "US": 40.0}
    by_objective = result.by_objective.set_index("objective")
    assert by_objective.loc["growth"].tolist() == [300.0, 340.0, 40.0]
    assert by_objective.loc["profit"].tolist() == [300.0, 160.0, -140.0]
    revenue = {r.name: (r.before, r.after, r.difference) for r in result.revenue}
    assert revenue == {
        "revenue_period": (1000.0, 1150.0, 150.0),
        "revenue_period_low": (900.0, 1000.0, 100.0),
        "revenue_period_high": (1100.0, 1320.0, 220.0),
    }
    text = result.text()
    assert "table journeys added" in text and "table costs removed" in text and "table revenue changed" in text
    assert "hurdle.roi: 1.2 -> 1.5" in text and "caps: {'tv': 0.3} -> (not set)" in text
    assert "Expected revenue: 1,000 [900 to 1,100] -> 1,150 [1,000 to 1,320], a change of +150 (+15.0%)." in text
    assert "EU: 300 -> 160 (-140)" in text and "EU / tv: 200 -> 0 (-200)" in text


def test_compare_runs_with_nothing_changed_says_so() -> None:
    allocation = pd.DataFrame({"region": ["EU"], "channel": ["tv"], "objective": ["profit"], "spend_period": [5.0]})
    a = record("A", allocation=allocation, input_hashes={"spend": "1"}, config={"policy": {"budget": 5}})
    text = compare_runs(a, record("B", allocation=allocation, input_hashes={"spend": "1"}, config=a.config)).text()
    assert "the same tables" in text and "Policy: unchanged." in text and "No cell's spend changed." in text
    assert "Expected revenue: not known for both runs." in text


def test_head_revision_constant_matches_the_migration_scripts():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from planner.store import HEAD_REVISION, MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


def test_stored_allocation_columns_are_the_plans_columns():
    """The store types the plan's table columns one by one (it does not import the optimizer, to start fast):
    a column added to the plan must be added here too."""
    from optimizer.summary import TABLE_COLUMNS
    from planner.outputs import ALLOCATION_COLUMNS as CSV_COLUMNS
    from planner.store import ALLOCATION_COLUMNS

    assert list(ALLOCATION_COLUMNS) == TABLE_COLUMNS == CSV_COLUMNS
