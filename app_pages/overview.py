"""Overview: the current plan in one screen (uplift with its interval, readiness, flags) and what it rests on."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_pages import common


def readiness_badge(gate) -> None:
    """The readiness gate's verdict as a badge, with each failed check in words."""
    if gate.passed:
        st.badge("Ready to plan: every model check passed", icon=":material/check_circle:", color="green")
        return
    st.badge("Not ready: the readiness gate failed", icon=":material/warning:", color="red")
    for line in gate.failures:
        st.warning(line)


def render() -> None:
    st.title("Overview")
    eng = common.engine()
    policy = common.current_policy(eng)
    from optimizer import InfeasiblePolicyError

    try:
        plan = common.solve(eng, policy)
    except InfeasiblePolicyError as err:
        common.show_error(err, "The current planner settings have no feasible plan:")
        plan = None
    readiness_badge(eng.gate)
    if plan is not None:
        cur, uplift, hurdle = eng.currency, plan.uplift, plan.policy.roi_hurdle
        cols = st.columns(3)
        cols[0].metric(f"Budget ({plan.period_weeks} weeks)", common.eur(plan.budget, cur))
        cols[1].metric(
            "Expected uplift vs current spend",
            common.eur(uplift["revenue_period_change"], cur, signed=True),
            help="Expected incremental revenue of the plan minus that of current spend over the period",
        )
        cols[2].metric("Plan's marginal ROI", f"{plan.mroi:.2f}", help=f"hurdle {hurdle:g}")
        st.markdown("**Uplift:** " + common.uplift_text(plan, cur))
        for note in plan.notes():
            st.info(note)
        flagged = plan.table[plan.table["flag"]]
        if len(flagged):
            st.subheader(f"Flagged cells ({len(flagged)})")
            st.dataframe(flagged[["region", "channel", "flag_reason"]], hide_index=True, width="stretch")
        else:
            st.success(f"No cell is flagged below the ROI hurdle {hurdle:g}.")
    st.subheader("Data and model")
    data = eng.active.data
    weeks = sorted(set(data.spend["week"]))
    rows = {
        "data": eng.active.label,
        "tables": ", ".join(data.names()),
        "weeks": f"{len(weeks)} ({str(weeks[0])[:10]} to {str(weeks[-1])[:10]})",
        "posterior": str(eng.posterior.path),
        "posterior sha256": eng.posterior.sha256,
        "policy fingerprint": policy.fingerprint()[:16] + "…",
    }
    st.dataframe(pd.DataFrame({"what": list(rows), "value": list(rows.values())}), hide_index=True, width="stretch")


if __name__ == "__main__":
    common.run_page(render)
