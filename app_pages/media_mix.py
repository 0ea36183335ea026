"""Media mix: ROI per cell with 90% HDIs against the hurdle, response curves with current spend, the model's health
verdict and the cells whose ROI is mostly the prior's. Loads a saved posterior; a quick preview fit is optional."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common

#: Response curves are drawn from 0 to this multiple of current spend.
CURVE_SPAN = 2.0
CURVE_POINTS = 41


def roi_chart(roi: pd.DataFrame, hurdle: float) -> alt.LayerChart:
    frame = roi.assign(cell=roi["region"] + " · " + roi["channel"])
    # regions in turn, each from its highest ROI down; every cell labelled (Vega drops labels it thinks overlap)
    order = frame.sort_values(["region", "roi"], ascending=[True, False])["cell"].tolist()
    axis = alt.Axis(labelLimit=260, labelOverlap=False)
    base = alt.Chart(frame).encode(y=alt.Y("cell:N", sort=order, title=None, axis=axis))
    interval = base.mark_rule().encode(x=alt.X("roi_low:Q", title="ROI (revenue per EUR, 90% HDI)"), x2="roi_high:Q")
    points = base.mark_point(filled=True).encode(
        x="roi:Q",
        color=alt.Color("objective:N"),
        shape=alt.Shape("prior_dominated:N", title="prior-dominated"),
        tooltip=["region", "channel", "objective", "roi", "roi_low", "roi_high", "p_roi_below_hurdle"],
    )
    line = alt.Chart(pd.DataFrame({"hurdle": [hurdle]})).mark_rule(color="red", strokeDash=[4, 4]).encode(x="hurdle:Q")
    return (interval + points + line).properties(height=alt.Step(20))


def curve_frame(curves, current: np.ndarray) -> pd.DataFrame:
    """Period revenue (mean and 90% equal-tailed band over draws) on a spend grid per cell."""
    cells = curves.cells
    scale = np.where(current > 0, current, np.maximum(current.max() * 0.01, 1.0))
    rows = []
    for f in np.linspace(0.0, CURVE_SPAN, CURVE_POINTS):
        spend = f * scale
        draws = curves.revenue(spend)
        rows.append(
            pd.DataFrame(
                {
                    "region": cells["region"],
                    "channel": cells["channel"],
                    "spend_period": spend,
                    "revenue_period": draws.mean(axis=0),
                    "revenue_period_low": np.quantile(draws, 0.05, axis=0),
                    "revenue_period_high": np.quantile(draws, 0.95, axis=0),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def curves_chart(frame: pd.DataFrame, now: pd.DataFrame, currency: str) -> alt.LayerChart:
    x = alt.X("spend_period:Q", title=f"spend over the period ({currency})")
    base = alt.Chart(frame).encode(x=x, color=alt.Color("channel:N"))
    band = base.mark_area(opacity=0.15).encode(y="revenue_period_low:Q", y2="revenue_period_high:Q")
    line = base.mark_line().encode(y=alt.Y("revenue_period:Q", title=f"expected revenue over the period ({currency})"))
    dots = (
        alt.Chart(now)
        .mark_point(filled=True, size=80, shape="diamond")
        .encode(x=x, y="revenue_period:Q", color="channel:N", tooltip=["channel", "spend_period", "revenue_period"])
    )
    return (band + line + dots).properties(height=420)


def _posterior_picker() -> None:
    with st.expander("Posterior"):
        path = st.text_input("Saved posterior folder", value=str(common.posterior_path()), key="mmm_posterior")
        if st.button("Load this posterior"):
            if not (Path(path) / "posterior.nc").is_file():
                st.error(f"{path} is not a saved posterior folder (no posterior.nc)")
            else:
                st.session_state["posterior_path"] = path
                st.session_state.pop("policy", None)
                st.rerun()
        st.write(
            "A preview fit (250 draws, 2 chains) takes about a minute on a fast machine and usually fails the "
            "diagnostics: it is for a quick look, not for a plan finance approves."
        )
        if st.button("Fit a preview model on the current data"):
            _preview_fit()


def _preview_fit() -> None:
    import mmm

    active = common.active_data()
    bar = st.progress(0.0, text="compiling the model…")

    def report(p) -> None:  # called by the sampler; must be quick and never raise
        try:
            bar.progress(min(max(p.fraction or 0.0, 0.0), 1.0), text=f"{p.stage} · {p.elapsed_s:.0f} s")
        except Exception:  # a UI update from the sampler's thread may fail; the fit must not
            pass

    fitted = mmm.fit(active.data, sampler=mmm.Sampler.preview(progress=report), seed=1, check=False)
    folder = common.runs_dir().parent / "app-posteriors" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    fitted.save(folder)
    bar.progress(1.0, text=f"saved to {folder}")
    st.session_state["posterior_path"] = str(folder)
    st.session_state.pop("policy", None)
    st.rerun()


def render() -> None:
    st.title("Media mix")
    _posterior_picker()
    eng = common.engine()
    hurdle = float(common.current_policy(eng).roi_hurdle)
    summary = common.model_summary(eng.posterior, hurdle)
    st.caption(common.data_caption(eng))
    roi = summary.roi
    st.subheader("ROI per cell")
    st.caption(
        f"Points: posterior mean ROI; bars: {roi.attrs.get('interval', '90% HDI')}; red line: hurdle {hurdle:g}."
    )
    st.altair_chart(roi_chart(roi, hurdle), width="stretch")
    with st.expander("ROI table"):
        st.dataframe(roi, hide_index=True, width="stretch")

    st.subheader("Response curves")
    curves = eng.allocator.curves
    current = eng.allocator.current
    frame = curve_frame(curves, current)
    now = pd.DataFrame(
        {
            "region": curves.cells["region"],
            "channel": curves.cells["channel"],
            "spend_period": current,
            "revenue_period": curves.revenue(current).mean(axis=0),
        }
    )
    region = st.selectbox("Region", sorted(curves.cells["region"].unique()), key="mmm_region")
    st.caption(
        f"Expected revenue over {curves.period_weeks} weeks with its 90% equal-tailed band over {curves.n_draws} "
        "posterior draws; diamonds: current spend."
    )
    st.altair_chart(
        curves_chart(frame[frame["region"] == region], now[now["region"] == region], eng.currency), width="stretch"
    )

    st.subheader("Model health")
    diag = summary.diagnostics
    if diag.passed:
        st.success("Diagnostics: every measured check passed.")
    else:
        st.error("Diagnostics: some checks failed; the numbers should not be trusted as they are.")
    st.dataframe(diag.table, hide_index=True, width="stretch")
    dominated = roi[roi["prior_dominated"]]
    st.subheader(f"Prior-dominated cells ({len(dominated)})")
    if dominated.empty:
        st.write("None: the data moved every cell's ROI away from its prior.")
    else:
        st.caption("The data hardly moved these ROIs from their priors; a lift test would inform them.")
        st.dataframe(
            dominated[["region", "channel", "roi", "roi_low", "roi_high", "prior_sd_ratio", "prior_source"]],
            hide_index=True,
            width="stretch",
        )


if __name__ == "__main__":
    common.run_page(render)
