"""The quarterly run end to end on the bundled sample with its shipped posterior (no MCMC): outputs, record,
reproducibility across stores, the readiness gate, failures and interruptions, concurrent runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import contracts
from planner.config import load_config_text
from planner.run import GateRefused, run_plan
from planner.store import RunStore, StoreError

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"
POSTERIOR = SAMPLE / "posterior"

FAST = """
[data]
folder = "{data}"
[attribution]
method = "markov"
order = {order}
n_boot = {n_boot}
seed = 1
[model]
posterior = "{posterior}"
[policy]
file = "{policy}"
{extra}
"""


def config(data: Path = SAMPLE, posterior: Path = POSTERIOR, order: str = "1", n_boot: int = 20, extra: str = ""):
    text = FAST.format(
        data=data.as_posix(), posterior=posterior.as_posix(), policy=(ROOT / "plans" / "policy.toml").as_posix(),
        order=order, n_boot=n_boot, extra=extra,
    )  # fmt: skip
    return load_config_text(text, ROOT / "plans")


def example():
    return load_config_text((ROOT / "plans" / "example.toml").read_text(encoding="utf-8"), ROOT / "plans")


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return run_plan(example(), out=out), out


def test_shipped_posterior_is_small_and_intact():
    size = sum(p.stat().st_size for p in POSTERIOR.iterdir())
    assert size < 20e6
    import hashlib

    for line in (POSTERIOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((POSTERIOR / name).read_bytes()).hexdigest() == digest, name


def test_example_run_writes_every_output_and_records_the_run(first):
    run, out = first
    folder = run.run_dir
    for name in ("allocation.csv", "plan.json", "config.toml", "credit.csv", "run.log"):
        assert (folder / name).is_file(), name
    assert not (folder / "INCOMPLETE").exists()
    table = pd.read_csv(folder / "allocation.csv")
    assert list(table.columns)[:6] == [
        "region", "channel", "objective", "spend_period_current", "spend_period", "spend_period_change",
    ]  # fmt: skip
    assert table[["region", "channel"]].equals(table.sort_values(["region", "channel"])[["region", "channel"]])
    plan = json.loads((folder / "plan.json").read_text())
    # whole euros that add up exactly to the budget (current quarter's spend, rounded)
    assert (table["spend_period"] == table["spend_period"].round()).all()
    assert int(table["spend_period"].sum()) == plan["spent"] == round(plan["budget"])
    assert (table["spend_period_change"] == table["spend_period"] - table["spend_period_current"]).all()
    assert plan["solver"]["status"] == "optimal" and plan["solver"]["optimality_gap"] <= 1e-6
    assert plan["revenue_period_change_low"] <= plan["revenue_period_change"] <= plan["revenue_period_change_high"]
    assert plan["gate"]["passed"] and not plan["forced"]
    log = (folder / "run.log").read_text()
    for stage in ("validate", "attribute", "model", "readiness gate", "optimize", "record"):
        assert f"stage {stage}: done" in log, stage
    record = RunStore(f"sqlite:///{(out / 'runs.db').as_posix()}").get(run.run_id)
    assert record.status == "complete" and not record.forced
    assert set(record.input_hashes) >= {"spend", "kpi", "channels", "paths", "lift_tests"}
    assert record.posterior_hash and record.versions["pymc"] and record.git_commit
    assert record.config["policy"]["objective_shares"]["acquisition"] == 0.6
    assert len(record.allocation) == len(table)
    np.testing.assert_array_equal(record.allocation["spend_period"].to_numpy(), table["spend_period"].to_numpy())


def test_same_inputs_give_the_same_bytes_across_stores(tmp_path, store_url, first):
    run, _ = first
    again = run_plan(example(), out=tmp_path / "again", store_url=store_url)
    assert (again.run_dir / "allocation.csv").read_bytes() == (run.run_dir / "allocation.csv").read_bytes()
    assert json.loads((again.run_dir / "plan.json").read_text()) == json.loads((run.run_dir / "plan.json").read_text())
    record = RunStore(store_url).get(again.run_id)
    assert record.status == "complete" and record.headline["spent"] == run.headline["spent"]


def test_a_posterior_fitted_on_other_data_is_refused_and_force_records_why(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data, ignore=shutil.ignore_patterns("posterior", "events*"))
    spend = pd.read_csv(data / "spend.csv")
    spend.loc[0, "spend"] = spend.loc[0, "spend"] * 1.01 + 1.0
    spend.to_csv(data / "spend.csv", index=False)
    url = f"sqlite:///{(tmp_path / 'runs.db').as_posix()}"
    with pytest.raises(GateRefused, match=r"fitted on different data: spend \(sha256"):
        run_plan(config(data), out=tmp_path / "runs", store_url=url)
    refused = RunStore(url).list()
    assert refused["status"].tolist() == ["failed"]
    forced = run_plan(config(data), out=tmp_path / "runs", store_url=url, force=True)
    record = RunStore(url).get(forced.run_id)
    assert record.status == "complete" and record.forced
    assert any("different data" in reason for reason in record.force_reasons)
    assert json.loads((forced.run_dir / "plan.json").read_text())["forced"] is True


def test_a_poorly_mixed_posterior_fails_the_gate_with_its_numbers(tmp_path):
    import mmm
    from mmm import io as mmm_io

    parts = mmm_io.read(POSTERIOR)
    parts["idata"] = parts["idata"].isel(chain=slice(0, 2), draw=slice(0, 40))
    mmm.FittedMMM(**parts).save(tmp_path / "thin")
    with pytest.raises(GateRefused, match=r"min_ess_bulk = [\d.]+ \(allowed >= 400\)"):
        run_plan(config(posterior=tmp_path / "thin"), out=tmp_path / "runs")


@pytest.mark.parametrize(
    "error, status", [(RuntimeError("boom in optimize"), "failed"), (KeyboardInterrupt(), "interrupted")]
)
def test_a_failing_or_interrupted_stage_is_recorded_and_never_complete(tmp_path, monkeypatch, error, status):
    from planner import run as run_module

    def explode(self, data, curves):
        raise error

    monkeypatch.setattr(run_module._Stages, "optimize", explode)
    url = f"sqlite:///{(tmp_path / 'runs.db').as_posix()}"
    with pytest.raises(type(error)):
        run_plan(config(), out=tmp_path / "runs", store_url=url)
    runs = RunStore(url).list()
    assert runs["status"].tolist() == [status]
    record = RunStore(url).get(runs["run_id"][0])
    assert record.finished_at is not None and (status == "interrupted" or "boom in optimize" in record.error)
    folder = Path(record.run_dir)
    assert (folder / "INCOMPLETE").read_text().startswith(status)
    assert not (folder / "allocation.csv").exists()


def test_an_unreachable_store_stops_the_run_before_any_work(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    with pytest.raises(StoreError, match="not-a-folder"):
        run_plan(config(), out=tmp_path / "runs", store_url=f"sqlite:///{(blocker / 'runs.db').as_posix()}")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_lock_on_a_channel_the_data_do_not_have_is_named(tmp_path):
    text = f"""
[data]
folder = "{SAMPLE.as_posix()}"
[model]
posterior = "{POSTERIOR.as_posix()}"
[policy]
[[policy.locked]]
region = "Asia"
channel = "tiktok_shopp"
"""
    with pytest.raises(ValueError, match=r"locked names cells the data do not have: \[\('Asia', 'tiktok_shopp'\)\]"):
        run_plan(load_config_text(text, tmp_path), out=tmp_path / "runs")


def test_mismatched_tables_are_refused(tmp_path):
    from simulator import simulate_world

    other = simulate_world(seed=3, weeks=60, n_users=500)
    other.kpi.to_csv(tmp_path / "kpi.csv", index=False)
    text = f"""
[data]
spend = "{(SAMPLE / "spend.csv").as_posix()}"
kpi = "{(tmp_path / "kpi.csv").as_posix()}"
channels = "{(SAMPLE / "channels.csv").as_posix()}"
[model]
posterior = "{POSTERIOR.as_posix()}"
"""
    with pytest.raises(contracts.ContractError, match="week"):
        run_plan(load_config_text(text, tmp_path), out=tmp_path / "runs")


def test_two_runs_writing_to_one_store_at_the_same_time_both_land(tmp_path):
    """Two processes of the real command line, started together, one SQLite store: both runs land."""
    import subprocess
    import sys

    url = f"sqlite:///{(tmp_path / 'runs.db').as_posix()}"
    path = tmp_path / "plan.toml"
    path.write_text(
        FAST.format(
            data=SAMPLE.as_posix(), posterior=POSTERIOR.as_posix(), policy=(ROOT / "plans" / "policy.toml").as_posix(),
            order="1", n_boot=20, extra="",
        ),
        encoding="utf-8",
    )  # fmt: skip
    command = [sys.executable, "-m", "planner.cli", "plan", "--config", str(path), "--store", url, "--quiet"]
    procs = [
        subprocess.Popen(
            [*command, "--out", str(tmp_path / name)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1].decode()[-2000:] for o in outputs]
    runs = RunStore(url).list()
    assert len(runs) == 2 and (runs["status"] == "complete").all()


def test_cli_plan_exit_codes(tmp_path, capsys):
    from planner.cli import main

    assert main(["plan", "--config", str(ROOT / "plans" / "example.toml"), "--out", str(tmp_path), "--quiet"]) == 0
    assert "Run folder:" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[data]\nfolder = "nowhere"\n[model]\nfit = true\ndraws = "many"\n')
    assert main(["plan", "--config", str(bad), "--out", str(tmp_path)]) == 2
    assert "draws" in capsys.readouterr().err


def test_fit_path_and_fit_command_with_tiny_samplers(tmp_path):
    """A fresh fit inside the run (attribution priors, the posterior saved in the run folder) and the ``fit``
    command (thinned, with SHA256SUMS), both with tiny samplers: the gate fails on so few draws, so the run is
    forced and recorded as forced."""
    import hashlib
    import subprocess
    import sys

    import mmm

    text = FAST.format(
        data=SAMPLE.as_posix(), posterior=POSTERIOR.as_posix(), policy=(ROOT / "plans" / "policy.toml").as_posix(),
        order="1", n_boot=10, extra="",
    )  # fmt: skip
    text = text.replace(f'posterior = "{POSTERIOR.as_posix()}"', "fit = true\ndraws = 30\ntune = 30\nchains = 1")
    fit_cfg = load_config_text(text, tmp_path)
    assert fit_cfg.model.fit and fit_cfg.model.draws == 30
    run = run_plan(fit_cfg, out=tmp_path / "runs", force=True)
    assert run.forced and not run.gate.passed
    assert (run.run_dir / "posterior" / "posterior.nc").is_file()
    log = (run.run_dir / "run.log").read_text()
    assert "stage attribution priors: done" in log and "stage model: done" in log
    record = RunStore(f"sqlite:///{(tmp_path / 'runs' / 'runs.db').as_posix()}").get(run.run_id)
    assert record.forced and record.force_reasons and record.posterior_hash

    # The command as a user runs it, in a fresh interpreter: PyTensor's check for a BLAS library runs once a
    # process, inside the model's compile, and its notice (nothing a user can act on) must not reach them.
    out = tmp_path / "posterior"
    args = ["fit", "--data", str(SAMPLE), "--out", str(out), "--draws", "20", "--tune", "20", "--chains", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", *args, "--thin", "2"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sha256sum -c SHA256SUMS" in done.stdout
    assert "BLAS" not in done.stderr and "Warning" not in done.stderr, done.stderr[-2000:]
    for line in (out / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert mmm.load(out).idata.posterior.sizes["draw"] == 10
