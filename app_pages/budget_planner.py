"""Budget planner: the company's rules as controls; every change re-solves the plan on the optimizer built once.

Results: allocation with flags, current versus recommended by region and by objective, expected revenue with its
interval, binding rules in words (shadow prices), the marginal-dollar ladder, the budget frontier and downloads.
"""

from __future__ import annotations

import dataclasses
import time

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from app_pages import common, downloads
from app_pages import planner_controls as controls

#: Budgets of the frontier, as multiples of the plan's budget.
FRONTIER_STEPS = (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4)


def build_policy(base, fields: dict, cells: dict, groups: list[dict]):
    """The Policy of the controls: ``base`` with the fields, cell settings and group rules set, validated."""
    from optimizer import Policy

    data = base.model_dump() | fields | cells | {"group_rules": groups}
    data["period_revenue"] = base.period_revenue
    return Policy.model_validate(data)


def split_chart(frame: pd.DataFrame, by: str, currency: str) -> alt.Chart:
    """Current versus recommended spend per ``by`` (region or objective)."""
    long = frame.reset_index(names=by).melt(
        id_vars=[by], value_vars=["spend_period_current", "spend_period"], var_name="spend", value_name="amount"
    )
    long["spend"] = long["spend"].map({"spend_period_current": "current", "spend_period": "recommended"})
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            # horizontal bars: the labels ("North America", "acquisition") read level and are never clipped
            y=alt.Y(f"{by}:N", title=None, axis=alt.Axis(labelLimit=200)),
            yOffset="spend:N",
            x=alt.X("amount:Q", title=f"spend over the period ({currency})", axis=alt.Axis(format="~s")),
            color=alt.Color("spend:N", scale=alt.Scale(range=["#9aa5b1", "#1f77b4"])),
            tooltip=[by, "spend", alt.Tooltip("amount:Q", format=",.0f")],
        )
        .properties(height=60 * frame.shape[0] + 40)
    )


def frontier_chart(table: pd.DataFrame, currency: str) -> alt.LayerChart:
    base = alt.Chart(table).encode(x=alt.X("budget:Q", title=f"budget ({currency})"))
    band = base.mark_area(opacity=0.2).encode(y="revenue_period_low:Q", y2="revenue_period_high:Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y("revenue_period:Q", title=f"expected revenue ({currency})"),
        tooltip=[alt.Tooltip(c, format=",.2f") for c in ("budget", "revenue_period", "roi", "mroi")],
    )
    return (band + line).properties(height=300)


def _results(eng: common.Engine, plan, seconds: float) -> None:
    cur, uplift = eng.currency, plan.uplift
    mean, low, high = common.revenue_interval(plan)
    c1, c2, c3 = st.columns(3)
    c1.metric("Expected revenue", common.eur(mean, cur), help=f"over {plan.period_weeks} weeks")
    c2.metric("Uplift vs current spend", common.eur(uplift["revenue_period_change"], cur, signed=True))
    c3.metric("Plan's marginal ROI", f"{plan.mroi:.2f}", help=f"hurdle {plan.policy.roi_hurdle:g}")
    st.markdown(
        f"**Expected revenue:** {common.eur_interval(mean, low, high, cur, '90% equal-tailed')}  \n"
        "**Uplift:** " + common.uplift_text(plan, cur)
    )
    st.caption(f"Solved in {seconds:.2f} s · {plan.solver} · optimality gap {plan.optimality_gap:.1e}")
    # the notes without the hurdle-budget search (tens of re-solves): the frontier below states that budget
    for note in dataclasses.replace(plan, allocator=None).notes():
        st.info(note)

    c1, c2 = st.columns(2)
    c1.markdown("**By region**")
    c1.altair_chart(split_chart(plan.by_region, "region", cur), width="stretch")
    c2.markdown("**By objective**")
    c2.altair_chart(split_chart(plan.by_objective, "objective", cur), width="stretch")

    st.subheader("Allocation")
    st.caption("Exact amounts; the downloads and saved scenarios round them to whole units with exact totals.")
    st.dataframe(
        plan.table,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%,.0f") for c in plan.table.columns if "period" in c},
    )
    st.subheader("What the rules cost")
    prices = plan.shadow_prices
    binding = prices[prices["binding"]] if "binding" in prices else prices
    for text in binding["description"]:
        st.write(f"- {text}")

    st.subheader("Where the next euro goes")
    # the ladder re-solves the plan twice (budget ± step); on demand, so a control change re-optimises in well
    # under a second (the browser test measures it)
    if st.toggle("Show the marginal-dollar ladder (re-solves the plan at the budget ± a step)", key="show_ladder"):
        step = st.number_input(
            f"Step ({cur})",
            min_value=1.0,
            value=float(round(plan.budget * 0.05, -3) or 1000.0),
            step=1000.0,
            key="ladder_step",
        )
        with eng.lock:
            ladder = plan.ladder(float(step))
        c1, c2 = st.columns(2)
        c1.markdown(f"**Add {common.eur(step, cur)}**: where it goes")
        money = {"amount": st.column_config.NumberColumn(f"amount ({cur})", format="%,.0f")}
        c1.dataframe(ladder.add, hide_index=True, width="stretch", column_config=money)
        c2.markdown(f"**Cut {common.eur(step, cur)}**: what goes first")
        c2.dataframe(ladder.cut, hide_index=True, width="stretch", column_config=money)
        st.dataframe(
            ladder.revenue,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="%,.0f") for c in ladder.revenue.columns if "revenue" in c
            },
        )

    st.subheader("Budget frontier")
    if st.toggle("Show the budget frontier (re-solves the plan at 9 budgets)", key="show_frontier"):
        frontier = eng.frontier([plan.budget * f for f in FRONTIER_STEPS], plan.policy)
        st.altair_chart(frontier_chart(frontier.table, cur), width="stretch")
        st.write(frontier.hurdle.statement)
        st.dataframe(frontier.table, hide_index=True, width="stretch")

    st.subheader("Downloads")
    downloads.download_panel(eng, plan)


def render() -> None:
    from optimizer import InfeasiblePolicyError

    st.title("Budget planner")
    eng = common.engine()
    st.caption(common.data_caption(eng))
    base = common.current_policy(eng)
    cells = eng.allocator.curves.cells
    regions = list(dict.fromkeys(cells["region"]))
    current = pd.Series(eng.allocator.current)
    with st.sidebar:
        st.header("Rules")
        fields = controls.policy_inputs(base, regions, eng.key, eng.currency)
        if st.button("Reset to the company's defaults"):
            controls.reset()
            st.rerun()
    with st.expander("Locks and bounds per cell"):
        cell_settings = controls.cells_editor(cells, current, base, eng.key, eng.currency)
    with st.expander("Group rules"):
        st.caption("e.g. social commerce (channel tiktok_shop, kol_affiliate) at most 0.6 of objective acquisition")
        groups = controls.groups_editor(base, eng.key)
    try:
        policy = build_policy(eng.default_policy, fields, cell_settings, groups)
    except ValidationError as err:
        common.show_error(err, "These rules are not valid:")
        return
    common.set_policy(eng, policy)
    started = time.perf_counter()
    try:
        plan = common.solve(eng, policy)
    except InfeasiblePolicyError as err:
        common.show_error(err, "No plan satisfies these rules:")
        return
    _results(eng, plan, time.perf_counter() - started)


if __name__ == "__main__":
    common.run_page(render)
