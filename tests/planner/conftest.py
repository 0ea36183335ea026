"""Fixtures for the run store: a throwaway PostgreSQL server for the session, and a fresh store URL per test.

The server is Debian's PostgreSQL (``scripts/ensure-postgres.sh`` installs it), started in a temp dir on 127.0.0.1
with fsync off (a test database need not survive a power cut). PostgreSQL refuses to run as root, so as root the
server runs as the ``postgres`` user. Without the binaries the PostgreSQL tests fail in CI (env var ``CI`` set) and
are skipped elsewhere.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_HINT = "PostgreSQL binaries not found in /usr/lib/postgresql/*/bin: run scripts/ensure-postgres.sh"


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], log: Path) -> None:
    result = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}{tail}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of database ``ga_test`` on a PostgreSQL server started for this test session (user ``ga``, no password)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail(_HINT)
        pytest.skip(_HINT)
    import psycopg

    root = Path(tempfile.mkdtemp(prefix="ga-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
    port = _free_port()
    options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _run([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "ga", "-E", "UTF8", "--no-sync"], log)
    _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start"], log)
    try:
        with psycopg.connect(f"host=127.0.0.1 port={port} user=ga dbname=postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE ga_test")
        yield f"postgresql+psycopg://ga@127.0.0.1:{port}/ga_test"
    finally:
        _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], log)
        shutil.rmtree(root, ignore_errors=True)


def _fresh_pg_database(server_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    name = f"t_{uuid.uuid4().hex}"
    dsn = f"host={url.host} port={url.port} user={url.username} dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} STRATEGY = FILE_COPY")
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL to an empty store, once on SQLite (a file in tmp_path) and once on PostgreSQL (a new database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    return _fresh_pg_database(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory):
    """The example quarterly run on the bundled sample with its shipped posterior (no MCMC), once per session:
    ``(PlanRun, store_url)``. Tests read its files and report; they must not change them."""
    from planner.config import load_config_text
    from planner.run import run_plan

    root = Path(__file__).resolve().parents[2]
    config = load_config_text((root / "plans" / "example.toml").read_text(encoding="utf-8"), root / "plans")
    out = tmp_path_factory.mktemp("sample-run")
    run = run_plan(config, out=out)
    return run, f"sqlite:///{(out / 'runs.db').as_posix()}"


@pytest.fixture(scope="session")
def sample_report(sample_run):
    """The :class:`planner.report_data.ReportData` of :func:`sample_run` (built by the run's report stage)."""
    return sample_run[0].report
