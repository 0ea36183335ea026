"""Scenarios: save the planner's current rules and plan in the run store, compare saved scenarios side by side, and
promote one to a recorded plan run that finance can approve (``planner.scenarios``, ``planner.store``)."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import common


def revenue_chart(revenue: pd.DataFrame, currency: str) -> alt.LayerChart:
    base = alt.Chart(revenue).encode(y=alt.Y("scenario:N", title=None))
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("revenue_period_low:Q", title=f"expected revenue over the period ({currency}, 90% interval)"),
        x2="revenue_period_high:Q",
    )
    points = base.mark_point(filled=True, size=90).encode(
        x="revenue_period:Q", tooltip=[alt.Tooltip(c, format=",.0f") for c in revenue.columns if c != "scenario"]
    )
    return (bars + points).properties(height=alt.Step(40))


def _save_form(store, sc, eng: common.Engine) -> None:
    from optimizer import InfeasiblePolicyError
    from planner.store import StoreError

    policy = common.current_policy(eng)
    st.caption(
        f"The planner's current rules: budget {common.eur(policy.budget_amount, eng.currency)}, "
        f"hurdle {policy.roi_hurdle:g}, risk {policy.risk.kind} (policy {policy.fingerprint()[:12]}…)."
    )
    if eng.active.key != "sample":
        st.info("Scenarios are saved from the bundled sample only: a recorded run must find its data on disk.")
        return
    with st.form("save_scenario", clear_on_submit=True):
        name = st.text_input("Name", key="scenario_name")
        note = st.text_area("Note", key="scenario_note")
        if not st.form_submit_button("Save scenario", type="primary"):
            return
    if not name.strip():
        st.error("Give the scenario a name.")
        return
    try:
        plan = common.solve(eng, policy)
    except InfeasiblePolicyError as err:
        common.show_error(err, "The current rules have no feasible plan; nothing was saved:")
        return
    out = common.plan_outputs(eng, plan)
    config = sc.scenario_config(common.run_config(eng), policy)
    try:
        sid = store.save_scenario(
            name.strip(),
            note=note,
            config_toml=config.to_toml(),
            policy_toml=policy.to_toml(),
            headline=out.headline,
            allocation=out.table,
        )
    except StoreError as err:
        common.show_error(err)
        return
    st.success(f"Saved scenario {name.strip()!r} ({sid}).")


def _compare(store, sc, listed: pd.DataFrame, currency: str) -> None:
    names = st.multiselect("Compare (the first is the reference)", list(listed["name"]), key="compare_names")
    if len(names) < 2:
        st.caption("Pick two or more scenarios to compare.")
        return
    comparison = sc.compare_scenarios([store.get_scenario(n) for n in names])
    st.markdown("**Expected revenue**")
    st.altair_chart(revenue_chart(comparison.revenue, currency), width="stretch")
    st.dataframe(comparison.revenue, hide_index=True, width="stretch", column_config=_money(comparison.revenue))
    st.markdown("**Allocation** (spend over the period; deltas against the first scenario)")
    numbers = [c for c in comparison.allocation.columns if c not in ("region", "channel", "objective")]
    st.dataframe(
        comparison.allocation,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%,.0f") for c in numbers},
    )
    st.markdown("**Rules**")
    st.dataframe(comparison.rules, hide_index=True, width="stretch")


def _money(table: pd.DataFrame) -> dict:
    """Whole-currency number formats for the amount columns (budget, revenue and their intervals)."""
    columns = [c for c in table.columns if c.startswith(("budget", "revenue"))]
    return {c: st.column_config.NumberColumn(format="%,.0f") for c in columns}


def _promote(sc, listed: pd.DataFrame) -> None:
    name = st.selectbox("Scenario", list(listed["name"]), key="promote_name")
    st.caption(
        "Promoting runs the quarterly plan with the scenario's rules and records it; finance can then approve it."
    )
    if st.button("Promote to a plan", key="promote"):
        sid = listed.loc[listed["name"] == name, "scenario_id"].iloc[0]
        with st.spinner("Running the plan (attribution, gate, optimizer, report)…"):
            run = sc.promote_scenario(common.store_url(), sid, out=common.runs_dir())
        st.session_state["promoted"] = (name, run.run_id, run.status, str(run.run_dir))
    if "promoted" in st.session_state:
        name, run_id, status, folder = st.session_state["promoted"]
        st.success(
            f"Scenario {name!r} is run {run_id} ({status}), files in {folder}. Finance approves it with "
            f"`growth-allocator runs approve {run_id} --by NAME`."
        )


def render() -> None:
    st.title("Scenarios")
    try:
        from planner import scenarios as sc
        from planner.store import RunStore
    except ImportError as err:
        st.warning(f"Scenarios are not available in this version of the planner ({err}).")
        return
    eng = common.engine()
    store = RunStore(common.store_url())
    st.subheader("Save the current scenario")
    _save_form(store, sc, eng)
    listed = store.scenarios()
    st.subheader(f"Saved scenarios ({len(listed)})")
    if listed.empty:
        st.caption("None yet.")
        return
    st.dataframe(listed, hide_index=True, width="stretch", column_config=_money(listed))
    st.subheader("Compare")
    _compare(store, sc, listed, eng.currency)
    st.subheader("Promote to a plan")
    _promote(sc, listed)


if __name__ == "__main__":
    common.run_page(render)
