"""The budget planner's controls: widgets and editable tables → an :class:`optimizer.Policy`.

Widget values live in session state under fixed keys (``plan_budget``, ``obj_<objective>``, ``reg_<region>``, …).
On each visit they start from the session's last policy (Streamlit forgets a page's widgets when another page
runs); the two tables start from their last edited copies.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from contracts import OBJECTIVES

CELL_COLUMNS = ["region", "channel", "objective", "spend_period_current", "locked", "unavailable"]
BOUND_COLUMNS = ["min_spend", "max_spend", "max_change"]
GROUP_TEXT = ["name", "region", "channel", "objective", "of_region", "of_channel", "of_objective", "per"]
GROUP_NUMBERS = ["min_share", "max_share", "min_spend", "max_spend"]
PERS = ["", "region", "channel", "objective"]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or (isinstance(value, str) and not value)


def _names(text: Any) -> list[str] | None:
    if _blank(text):
        return None
    names = [part.strip() for part in str(text).split(",") if part.strip()]
    return names or None


# ---------------------------------------------------------------------------------------------------- tables
def cells_frame(cells: pd.DataFrame, current: pd.Series, policy: Any) -> pd.DataFrame:
    """One row per cell: current spend, locked/unavailable and the cell's bounds (max change in %), from ``policy``."""
    frame = cells[["region", "channel", "objective"]].reset_index(drop=True).copy()
    frame["spend_period_current"] = current.to_numpy(dtype=float)
    keys = list(zip(frame["region"], frame["channel"], strict=True))
    locked = {(c.region, c.channel) for c in policy.locked}
    unavailable = {(c.region, c.channel) for c in policy.unavailable}
    rules = {(r.region, r.channel): r for r in policy.cell_rules}
    frame["locked"] = [k in locked for k in keys]
    frame["unavailable"] = [k in unavailable for k in keys]
    for column in BOUND_COLUMNS:
        values = [getattr(rules[k], column) if k in rules else None for k in keys]
        frame[column] = pd.array(values, dtype="float64")
    frame["max_change"] = frame["max_change"] * 100.0
    return frame


def cell_settings(frame: pd.DataFrame) -> dict[str, list[dict]]:
    """``locked``, ``unavailable`` and ``cell_rules`` of a Policy from the edited cells table."""
    out: dict[str, list[dict]] = {"locked": [], "unavailable": [], "cell_rules": []}
    for row in frame.to_dict("records"):
        ref = {"region": row["region"], "channel": row["channel"]}
        if bool(row.get("locked")):
            out["locked"].append(ref)
        if bool(row.get("unavailable")):
            out["unavailable"].append(ref)
        bounds = {c: float(row[c]) for c in BOUND_COLUMNS if not _blank(row.get(c))}
        if "max_change" in bounds:
            bounds["max_change"] /= 100.0
        if bounds:
            out["cell_rules"].append(ref | bounds)
    return out


def groups_frame(policy: Any) -> pd.DataFrame:
    """The policy's group rules, one row each (names comma-separated)."""
    rows = []
    for g in policy.group_rules:
        of = g.of
        row = {
            "name": g.name,
            "region": ", ".join(g.region or ()),
            "channel": ", ".join(g.channel or ()),
            "objective": ", ".join(g.objective or ()),
            "of_region": ", ".join((of.region or ()) if of else ()),
            "of_channel": ", ".join((of.channel or ()) if of else ()),
            "of_objective": ", ".join((of.objective or ()) if of else ()),
            "per": g.per or "",
        }
        rows.append(row | {c: getattr(g, c) for c in GROUP_NUMBERS})
    frame = pd.DataFrame(rows, columns=GROUP_TEXT + GROUP_NUMBERS)
    frame[GROUP_TEXT] = frame[GROUP_TEXT].astype("object")
    frame[GROUP_NUMBERS] = frame[GROUP_NUMBERS].astype("float64")
    return frame


def group_settings(frame: pd.DataFrame) -> list[dict]:
    """``group_rules`` of a Policy from the edited table; rows without a name are ignored."""
    rules = []
    for row in frame.to_dict("records"):
        if _blank(row.get("name")):
            continue
        rule: dict[str, Any] = {"name": str(row["name"]).strip()}
        for column in ("region", "channel", "objective"):
            if (names := _names(row.get(column))) is not None:
                rule[column] = names
        of = {c: n for c in ("region", "channel", "objective") if (n := _names(row.get(f"of_{c}"))) is not None}
        if of:
            rule["of"] = of
        if not _blank(row.get("per")):
            rule["per"] = row["per"]
        rule |= {c: float(row[c]) for c in GROUP_NUMBERS if not _blank(row.get(c))}
        rules.append(rule)
    return rules


# ---------------------------------------------------------------------------------------------------- widgets
def _start_visit(policy: Any, regions: list[str], engine_key: str) -> None:
    """Put the policy's values into the widgets' session keys when the widgets are new (first run of a visit)."""
    if st.session_state.get("plan_widgets_for") == engine_key and "plan_budget" in st.session_state:
        return
    state = st.session_state
    state["plan_widgets_for"] = engine_key
    state["plan_budget"] = float(round(policy.budget_amount))
    for o in OBJECTIVES:
        state[f"obj_{o}"] = 100.0 * float(policy.objective_shares.get(o, 0.0))
    for r in regions:
        state[f"reg_{r}"] = 100.0 * float(policy.region_shares.get(r, 0.0))
    state["plan_obj_tol"] = 100.0 * policy.objective_tolerance
    state["plan_reg_tol"] = 100.0 * policy.region_tolerance
    state["plan_hurdle"] = float(policy.roi_hurdle)
    state["plan_limit_change"] = policy.max_change is not None
    state["plan_max_change"] = 100.0 * (policy.max_change if policy.max_change is not None else 0.3)
    state["plan_mode"] = policy.mode
    state["plan_risk"] = policy.risk.kind
    state["plan_lam"] = float(policy.risk.lam) if policy.risk.kind == "cvar" else 0.5
    state["plan_alpha"] = float(policy.risk.alpha)


def _percent(container: Any, label: str, key: str) -> float:
    return container.number_input(label, min_value=0.0, max_value=100.0, step=1.0, format="%.1f", key=key)


def policy_inputs(policy: Any, regions: list[str], engine_key: str, currency: str) -> dict[str, Any]:
    """Draw the scalar controls; return the Policy fields they set."""
    _start_visit(policy, regions, engine_key)
    state = st.session_state
    st.number_input(
        f"Total budget for the period ({currency})", min_value=1.0, step=50_000.0, format="%.0f", key="plan_budget"
    )
    st.markdown("**Objective shares (%)**")
    cols = st.columns(len(OBJECTIVES))
    objective_shares = {o: _percent(cols[i], o, f"obj_{o}") / 100.0 for i, o in enumerate(OBJECTIVES)}
    st.markdown("**Region shares (%)**")
    cols = st.columns(len(regions))
    region_shares = {r: _percent(cols[i], r, f"reg_{r}") / 100.0 for i, r in enumerate(regions)}
    c1, c2 = st.columns(2)
    c1.number_input("Objective tolerance (± points)", 0.0, 100.0, step=0.5, key="plan_obj_tol")
    c2.number_input("Region tolerance (± points)", 0.0, 100.0, step=0.5, key="plan_reg_tol")
    c1, c2 = st.columns(2)
    c1.number_input("ROI hurdle", min_value=0.0, step=0.1, key="plan_hurdle")
    c2.selectbox(
        "Mode",
        ["spend_all", "hurdle"],
        key="plan_mode",
        help="spend_all spends the whole budget; hurdle spends only where marginal ROI ≥ hurdle",
    )
    # full width: in a half column the sidebar cut the label short
    st.checkbox("Cap each cell's change", key="plan_limit_change")
    st.number_input(
        "Maximum change per cell (± %)",
        0.0,
        1000.0,
        step=5.0,
        key="plan_max_change",
        disabled=not state["plan_limit_change"],
    )
    st.radio(
        "Risk",
        ["mean", "cvar"],
        horizontal=True,
        key="plan_risk",
        help="mean: expected revenue; cvar: expected revenue + λ × mean of the worst α of draws",
    )
    risk: dict[str, Any] = {"kind": state["plan_risk"]}
    if state["plan_risk"] == "cvar":
        c1, c2 = st.columns(2)
        c1.number_input("λ (weight of the bad tail)", min_value=0.0, step=0.1, key="plan_lam")
        c2.number_input("α (share of worst draws)", min_value=0.01, max_value=1.0, step=0.05, key="plan_alpha")
        risk |= {"lam": state["plan_lam"], "alpha": state["plan_alpha"]}
    return {
        "budget": state["plan_budget"],
        "objective_shares": objective_shares,
        "region_shares": region_shares,
        "objective_tolerance": state["plan_obj_tol"] / 100.0,
        "region_tolerance": state["plan_reg_tol"] / 100.0,
        "roi_hurdle": state["plan_hurdle"],
        "max_change": state["plan_max_change"] / 100.0 if state["plan_limit_change"] else None,
        "mode": state["plan_mode"],
        "risk": risk,
    }


def _editor_base(name: str, engine_key: str, build: Any) -> pd.DataFrame:
    """The table an editor starts from: stable while its widget lives; its last edit when a visit starts."""
    base_key, saved_key = f"{name}_base", f"{name}_saved"
    saved = st.session_state.get(saved_key)
    if name not in st.session_state or st.session_state.get(base_key, (None,))[0] != engine_key:
        start = saved[1] if saved is not None and saved[0] == engine_key else build()
        st.session_state[base_key] = (engine_key, start)
    return st.session_state[base_key][1]


def cells_editor(cells: pd.DataFrame, current: pd.Series, policy: Any, engine_key: str, currency: str) -> dict:
    base = _editor_base("plan_cells", engine_key, lambda: cells_frame(cells, current, policy))
    edited = st.data_editor(
        base,
        key="plan_cells",
        hide_index=True,
        width="stretch",
        disabled=["region", "channel", "objective", "spend_period_current"],
        column_config={
            "spend_period_current": st.column_config.NumberColumn(f"current ({currency})", format="%,.0f"),
            "locked": st.column_config.CheckboxColumn("locked", help="held at current spend"),
            "unavailable": st.column_config.CheckboxColumn("unavailable", help="cannot be funded"),
            "min_spend": st.column_config.NumberColumn(f"min ({currency})", min_value=0.0, format="%,.0f"),
            "max_spend": st.column_config.NumberColumn(f"max ({currency})", min_value=0.0, format="%,.0f"),
            "max_change": st.column_config.NumberColumn("max change (± %)", min_value=0.0, format="%.0f"),
        },
    )
    st.session_state["plan_cells_saved"] = (engine_key, edited)
    return cell_settings(edited)


def groups_editor(policy: Any, engine_key: str) -> list[dict]:
    base = _editor_base("plan_groups", engine_key, lambda: groups_frame(policy))
    edited = st.data_editor(
        base,
        key="plan_groups",
        num_rows="dynamic",
        hide_index=True,
        width="stretch",
        column_config={
            "name": st.column_config.TextColumn("name", help="shown in shadow prices and explanations"),
            "region": st.column_config.TextColumn("region(s)", help="comma-separated; blank = any"),
            "channel": st.column_config.TextColumn("channel(s)", help="comma-separated; blank = any"),
            "objective": st.column_config.TextColumn("objective(s)", help="comma-separated; blank = any"),
            "of_region": st.column_config.TextColumn("share of region(s)"),
            "of_channel": st.column_config.TextColumn("share of channel(s)"),
            "of_objective": st.column_config.TextColumn("share of objective(s)"),
            "per": st.column_config.SelectboxColumn("per", options=PERS, help="repeat the rule within each"),
            "min_share": st.column_config.NumberColumn("min share (0–1)", min_value=0.0, max_value=1.0),
            "max_share": st.column_config.NumberColumn("max share (0–1)", min_value=0.0, max_value=1.0),
            "min_spend": st.column_config.NumberColumn("min spend", min_value=0.0, format="%,.0f"),
            "max_spend": st.column_config.NumberColumn("max spend", min_value=0.0, format="%,.0f"),
        },
    )
    st.session_state["plan_groups_saved"] = (engine_key, edited)
    return group_settings(edited)


def reset() -> None:
    """Forget the planner's controls and tables: the next run starts from the config's policy."""
    for key in list(st.session_state):
        if key.startswith(("plan_", "obj_", "reg_")) or key == "policy":
            del st.session_state[key]
