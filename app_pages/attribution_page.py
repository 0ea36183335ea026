"""Attribution: Markov (order 1–4 or chosen by hold-out), Shapley and the heuristics side by side, per region, with
bootstrap intervals (``attribution.bootstrap``)."""

from __future__ import annotations

import warnings

import altair as alt
import pandas as pd
import streamlit as st

from app_pages import common

ORDERS = ("auto", 1, 2, 3, 4)
RULES = ("first_touch", "last_touch", "linear", "position_based")
SEED = 1


@st.cache_data(show_spinner="Building journeys from events…", max_entries=4)
def _paths(data_key: str, _events: pd.DataFrame) -> pd.DataFrame:
    import attribution

    return attribution.build_paths(_events, by="region").table


@st.cache_data(show_spinner="Choosing the Markov order by hold-out log-loss…", max_entries=8)
def _order_selection(data_key: str, _paths: pd.DataFrame) -> pd.DataFrame:
    import attribution

    return attribution.select_order(_paths, seed=SEED).table


@st.cache_data(show_spinner="Bootstrapping credit…", max_entries=16)
def _credit(data_key: str, method: str, n_boot: int, order: int | None, _paths: pd.DataFrame) -> pd.DataFrame:
    import attribution

    options = {"order": order} if method == "markov" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skipped rows are counted in the result, shown on the page
        return attribution.bootstrap(_paths, method, n_boot=n_boot, seed=SEED, by="region", **options).table


def credit_long(tables: dict[str, pd.DataFrame], measure: str) -> pd.DataFrame:
    """One row per (method, region, channel): credit and its interval; ``measure`` is ``conversions`` or ``value``."""
    rows = []
    for method, table in tables.items():
        if method == "heuristics":
            columns = {r: (r if measure == "conversions" else f"{r}_value") for r in RULES}
        else:
            columns = {method: measure}
        for label, col in columns.items():
            if col not in table:
                continue
            part = table[["region", "channel"]].copy()
            part["method"] = label
            part["credit"] = table[col]
            part["low"] = table.get(f"{col}_low", table[col])
            part["high"] = table.get(f"{col}_high", table[col])
            rows.append(part)
    return pd.concat(rows, ignore_index=True)


def _chart(frame: pd.DataFrame, measure: str) -> alt.Chart:
    base = alt.Chart(frame).encode(
        y=alt.Y("channel:N", title=None, axis=alt.Axis(labelLimit=240)),
        yOffset="method:N",
        color=alt.Color("method:N", title="method"),
    )
    bars = base.mark_rule().encode(x=alt.X("low:Q", title=measure), x2="high:Q")
    points = base.mark_point(filled=True).encode(x="credit:Q", tooltip=["method", "channel", "credit", "low", "high"])
    # an explicit height: with a Step height and yOffset Streamlit drew an empty box
    rows = frame["channel"].nunique() * frame["method"].nunique()
    return (bars + points).properties(height=8 * rows + 40)


def render() -> None:
    st.title("Attribution")
    active = common.active_data()
    data = active.data
    if data.paths is not None:
        paths = data.paths
    elif data.events is not None:
        paths = _paths(active.key, data.events)
    else:
        st.info("This dataset has no journeys (paths or events): upload a paths table to attribute.")
        return
    c1, c2, c3 = st.columns(3)
    order_choice = c1.selectbox("Markov order", ORDERS, key="attr_order", help="'auto': lowest hold-out log-loss")
    n_boot = c2.number_input("Bootstrap replicates", 10, 1000, 50, step=10, key="attr_n_boot")
    measure = c3.radio("Credit in", ["conversions", "value"], horizontal=True, key="attr_measure")
    if order_choice == "auto":
        selection = _order_selection(active.key, paths)
        order = int(selection.loc[selection["log_loss"].idxmin(), "order"])
        with st.expander(f"Markov order {order} chosen by hold-out log-loss"):
            st.dataframe(selection, hide_index=True)
    else:
        order = int(order_choice)
    tables = {
        "markov": _credit(active.key, "markov", int(n_boot), order, paths),
        "shapley": _credit(active.key, "shapley", int(n_boot), None, paths),
        "heuristics": _credit(active.key, "heuristics", int(n_boot), None, paths),
    }
    frame = credit_long(tables, measure)
    regions = sorted(frame["region"].unique())
    region = st.selectbox("Region", regions, key="attr_region")
    shown = frame[frame["region"] == region]
    st.caption(f"Points: credit; bars: 90% bootstrap percentile interval ({int(n_boot)} replicates, seed {SEED}).")
    st.altair_chart(_chart(shown, measure), width="stretch")
    wide = shown.pivot_table(index="channel", columns="method", values="credit").reset_index()
    unit = "conversions" if measure == "conversions" else f"revenue ({common.base_config().output.currency})"
    st.caption(f"Credit per channel in {region}, in {unit}.")
    st.dataframe(
        wide,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%,.1f") for c in wide.columns if c != "channel"},
    )


if __name__ == "__main__":
    common.run_page(render)
