"""Files of the current plan for download: allocation CSV, and the finance report (HTML, Excel) built on request."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit as st

from app_pages import common


def allocation_csv(table, unit: float) -> bytes:
    """``allocation.csv`` as the planner writes it (``planner.outputs.write_allocation``), as bytes."""
    from planner.outputs import write_allocation

    with tempfile.TemporaryDirectory(prefix="allocation-") as tmp:
        path = write_allocation(table, Path(tmp) / "allocation.csv", unit)
        return path.read_bytes()


@dataclass(frozen=True)
class Report:
    key: tuple
    html: str
    xlsx: bytes


def scenario_config(eng: common.Engine, policy: Any) -> Any:
    """The run config with this policy inline (``planner.scenarios.scenario_config``), first week filled in."""
    from planner.run import first_week_after

    try:
        from planner.scenarios import scenario_config as with_policy
    except ImportError:  # planner.scenarios not there yet: the base config (its policy file) stands in
        config = common.run_config(eng)
    else:
        config = with_policy(common.run_config(eng), policy)
    return config.resolved(first_week=first_week_after(eng.active.data))


def build_report(eng: common.Engine, out: common.PlanOutputs, run_id: str) -> Report:
    """The finance report of the plan (``planner.report_data`` → HTML and Excel); takes several seconds."""
    from planner.hashing import dataset_hashes
    from planner.report_data import report_data, safe_url
    from planner.report_html import render_html
    from planner.report_xlsx import write_xlsx
    from planner.run import git_commit, package_versions

    config = scenario_config(eng, out.plan.policy)
    config_toml = config.to_toml()
    meta = {
        "run_at": datetime.now(UTC),
        "status": "draft (not a recorded run)",
        "approvals": [],
        "force_reasons": [],
        "input_hashes": dataset_hashes(eng.active.data),
        "versions": package_versions(),
        "seeds": {"attribution": config.attribution.seed, "model": config.model.seed},
        "git_commit": git_commit(),
        "posterior_path": str(eng.posterior.path),
        "posterior_hash": eng.posterior.sha256,
        "config_toml": config_toml,
        "store": safe_url(common.store_url()),
    }
    with eng.lock:  # the report re-solves on the shared allocator (ladder, hurdle budget)
        data = report_data(
            run_id=run_id,
            plan=out.plan,
            table=out.table,
            headline=out.headline,
            fitted=eng.posterior.fitted,
            data=eng.active.data,
            config=config,
            meta=meta,
        )
    with tempfile.TemporaryDirectory(prefix="report-") as tmp:
        xlsx = write_xlsx(data, Path(tmp) / "report.xlsx").read_bytes()
    return Report((eng.key, out.plan.policy.fingerprint()), render_html(data), xlsx)


def download_panel(eng: common.Engine, plan: Any) -> None:
    """Allocation CSV and the report, each built when the user asks for it (rounding takes about a second, the
    report several), then offered as a plain file.

    Not a deferred download (a callable run on click): a rerun while the browser fetched it dropped the callable
    ("Deferred file ... not found"), caught by the browser test's download after a budget change.
    """
    stamp = f"{datetime.now(UTC):%Y%m%d}"
    unit = eng.config.output.unit
    key = (eng.key, plan.policy.fingerprint())
    csv = st.session_state.get("allocation_csv")
    if csv is None or csv[0] != key:
        csv = None
        if st.button("Prepare the allocation CSV (rounded to whole units)", key="build_csv"):
            with st.spinner("Rounding the plan…"):
                csv = (key, allocation_csv(common.plan_outputs(eng, plan).table, unit))
            st.session_state["allocation_csv"] = csv
    if csv is not None:
        st.download_button(
            "Allocation (CSV)",
            csv[1],
            file_name=f"allocation-{stamp}-{key[1][:8]}.csv",  # the plan's policy fingerprint: one name per plan
            mime="text/csv",
            key="dl_csv",
        )
    report = st.session_state.get("report")
    if report is None or report.key != key:
        if st.button("Build the report (HTML and Excel)", key="build_report"):
            with st.spinner("Building the report…"):
                out = common.plan_outputs(eng, plan)
                report = build_report(eng, out, run_id=f"draft-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
            st.session_state["report"] = report
        else:
            return
    c1, c2 = st.columns(2)
    c1.download_button("Report (HTML)", report.html, file_name=f"report-{stamp}.html", mime="text/html", key="dl_html")
    c2.download_button(
        "Report (Excel)",
        report.xlsx,
        file_name=f"report-{stamp}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="dl_xlsx",
    )
