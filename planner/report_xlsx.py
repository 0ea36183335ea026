"""``report.xlsx``: the run's report for finance, as a workbook whose Checks sheet recomputes the plan's promises.

Sheets, in order: Summary, Allocation, Rules, Flags, ROI, Diagnostics, Policy, Inputs, Checks and RuleCells. All
numbers come from :class:`planner.report_data.ReportData` and are written as values, except the Checks sheet (and the
Allocation sheet's ``within_bounds`` column), which hold live formulas over the Allocation sheet's ``spend_period``
column: edit a planned amount and the checks turn FALSE where the plan stops adding up. RuleCells (visible, last)
holds each policy rule row's member and reference cells as 0/1 columns aligned with the Allocation rows, so the share
and amount checks are plain ``SUMPRODUCT``\\ s. The workbook asks Excel to recalculate everything when it opens.

Tolerances of the checks, in words (amounts are whole multiples of the rounding ``unit``):

- the plan total equals the rounded total (to half a unit, i.e. exactly) and lies within one unit of the continuous
  budget (or, in ``hurdle`` mode, does not exceed it by more than one unit);
- a share rule holds to ``unit × (reference cells) / (reference total)``: rounding moves each cell by at most one
  unit, so an exact share (35% of the plan) is met only to within that; moving even 1,000 of 16.6 million between
  regions (6e-5) breaks it, while the tolerance is 2.7e-6 for 44 whole-euro cells;
- an amount rule holds to ``unit × (member cells)``;
- every cell lies within its bounds exactly (the rounding keeps them as hard constraints).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from planner.report_data import ReportData

#: Sheet names, in workbook order.
SHEETS = (
    "Summary", "Allocation", "Rules", "Flags", "ROI", "Diagnostics", "Policy", "Inputs", "Checks", "RuleCells",
)  # fmt: skip
_MONEY_NAMES = {"lower", "upper", "amount", "budget", "spent", "step"}
_RATIO_NAMES = {"roi", "mroi", "prior_sd_ratio", "roi_hurdle", "shadow_price"}
_MAX_WIDTH = 60


@dataclass(frozen=True)
class _Formats:
    """The workbook's cell formats: money in the run's currency, percents, ratios, headers, highlights."""

    money: Any
    percent: Any
    ratio: Any
    text: Any
    header: Any
    bold: Any
    flagged: Any
    bad: Any
    good: Any
    small: Any

    @classmethod
    def of(cls, book: xlsxwriter.Workbook, currency: str, unit: float) -> _Formats:
        decimals = max(0, -math.floor(math.log10(unit))) if unit < 1 else 0
        number = "#,##0" + ("." + "0" * decimals if decimals else "")
        return cls(
            money=book.add_format({"num_format": f'{number} "{currency}"'}),
            percent=book.add_format({"num_format": "0.0%"}),
            ratio=book.add_format({"num_format": "0.00"}),
            text=book.add_format({"text_wrap": False}),
            header=book.add_format({"bold": True, "bottom": 1, "bg_color": "#DDEBF7"}),
            bold=book.add_format({"bold": True}),
            flagged=book.add_format({"bg_color": "#FCE4D6"}),
            bad=book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"}),
            good=book.add_format({"bg_color": "#C6EFCE", "font_color": "#006100"}),
            small=book.add_format({"num_format": "0.00E+00"}),
        )

    def for_column(self, name: str) -> Any:
        """The number format a column's name implies (the report's vocabulary: ``spend_*`` money, ``share*`` ...)."""
        if name.startswith(("spend_", "revenue_")) or name in _MONEY_NAMES or name.startswith("cost_per"):
            return self.money
        if name.startswith(("share", "p_")) or name.endswith(("_share", "_share_low", "_share_high")):
            return self.percent
        if name in _RATIO_NAMES or (name.startswith(("roi_", "mroi_")) and not name.endswith("hurdle")):
            return self.ratio
        return None


def write_xlsx(data: ReportData, path: str | Path) -> Path:
    """Write the run's finance workbook.

    Parameters
    ----------
    data : ReportData
        The run's report content (:func:`planner.report_data.report_data`).
    path : str or Path
        Where to write ``report.xlsx``; its folder must exist.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> write_xlsx(report, out / "report.xlsx")  # doctest: +SKIP
    """
    path = Path(path)
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": True})
    try:
        book.set_calc_mode("auto")
        sheets = {name: book.add_worksheet(name) for name in SHEETS}
        fmt = _Formats.of(book, data.currency, data.unit)
        summary = _summary(book, sheets["Summary"], data, fmt)
        alloc = _allocation(sheets["Allocation"], data, fmt)
        _rules(sheets["Rules"], data, fmt)
        _flags(sheets["Flags"], data, fmt)
        _roi(book, sheets["ROI"], data, fmt)
        _diagnostics(sheets["Diagnostics"], data, fmt)
        _key_values(sheets["Policy"], _flatten(data.policy), fmt, header=("policy", "value"))
        _inputs(sheets["Inputs"], data, fmt)
        _rule_cells(sheets["RuleCells"], data, fmt)
        _checks(sheets["Checks"], data, fmt, summary, alloc)
    finally:
        book.close()
    return path


# ---------------------------------------------------------------------- writing helpers
def _blank(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, float | np.floating) and not np.isfinite(value)


def _put(sheet: Any, row: int, col: int, value: Any, cell_format: Any = None) -> None:
    """One value: blanks for None/NaN/inf, booleans as Excel booleans, lists and dicts as text."""
    if _blank(value):
        sheet.write_blank(row, col, None, cell_format)
    elif isinstance(value, bool | np.bool_):
        sheet.write_boolean(row, col, bool(value), cell_format)
    elif isinstance(value, int | float | np.integer | np.floating):
        sheet.write_number(row, col, float(value), cell_format)
    elif isinstance(value, list | tuple | dict):
        sheet.write_string(row, col, json.dumps(value, default=str), cell_format)
    else:
        sheet.write_string(row, col, str(value), cell_format)


def _table(sheet: Any, frame: pd.DataFrame, fmt: _Formats, *, row: int = 0, col: int = 0, filter_: bool = True) -> int:
    """A frame as a header row and data rows at (row, col), column formats from the names; returns the next free row."""
    for j, name in enumerate(frame.columns):
        sheet.write_string(row, col + j, str(name), fmt.header)
        cell_format = fmt.for_column(str(name))
        for i, value in enumerate(frame[name].tolist()):
            _put(sheet, row + 1 + i, col + j, value, cell_format)
    if filter_ and len(frame.columns):
        sheet.autofilter(row, col, row + max(len(frame), 1), col + len(frame.columns) - 1)
    _widths(sheet, frame, col)
    return row + len(frame) + 2


def _widths(sheet: Any, frame: pd.DataFrame, col: int = 0) -> None:
    for j, name in enumerate(frame.columns):
        texts = [str(name), *(f"{v:,.2f}" if isinstance(v, float) else str(v) for v in frame[name].tolist()[:200])]
        sheet.set_column(col + j, col + j, min(_MAX_WIDTH, max(8, max(len(t) for t in texts) + 2)))


def _key_values(sheet: Any, items: list[tuple[str, Any]], fmt: _Formats, *, header: tuple[str, str]) -> None:
    frame = pd.DataFrame(items, columns=list(header))
    sheet.write_row(0, 0, header, fmt.header)
    for i, (key, value) in enumerate(items, start=1):
        sheet.write_string(i, 0, key)
        _put(sheet, i, 1, value)
    sheet.freeze_panes(1, 0)
    _widths(sheet, frame)


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        return [
            item
            for key, v in value.items()
            for item in _flatten(v, f"{prefix}{key}" if not prefix else f"{prefix}.{key}")
        ]
    return [(prefix, value)]


# ---------------------------------------------------------------------- sheets
def _summary(book: Any, sheet: Any, data: ReportData, fmt: _Formats) -> dict[str, str]:
    """Headline and readiness as item / value / low / high rows, the region × objective split and its chart.

    Returns the absolute addresses (``Summary!$B$4``) of ``budget``, ``spent``, ``unit``, ``roi_hurdle``.
    """
    h, r = data.headline, data.readiness
    solver = r.get("solver") or {}
    approvals = "; ".join(f"{a.get('approved_by')} at {a.get('approved_at')}" for a in r.get("approvals") or [])
    rows: list[tuple[str, Any, Any, Any, Any]] = [
        ("run id", data.run_id, None, None, None),
        ("currency", data.currency, None, None, None),
        ("period first week", data.period.get("first_week"), None, None, None),
        ("period weeks", data.period.get("weeks"), None, None, None),
        ("budget", h.get("budget"), None, None, fmt.money),
        ("spent", h.get("spent"), None, None, fmt.money),
        ("rounding unit", data.unit, None, None, fmt.money),
        ("current spend", h.get("spend_period_current"), None, None, fmt.money),
        ("expected revenue (plan)", h.get("revenue_period"), *_bounds(h, "revenue_period"), fmt.money),
        (
            "expected revenue (current split)",
            h.get("revenue_period_current"),
            *_bounds(h, "revenue_period_current"),
            fmt.money,
        ),
        ("uplift", h.get("revenue_period_change"), *_bounds(h, "revenue_period_change"), fmt.money),
        ("P(uplift > 0)", h.get("p_uplift_positive"), None, None, fmt.percent),
        ("marginal ROI", h.get("mroi"), None, None, fmt.ratio),
        ("roi_hurdle", h.get("roi_hurdle"), None, None, fmt.ratio),
        ("hurdle budget", h.get("hurdle_budget"), None, None, fmt.money),
        ("hurdle budget status", h.get("hurdle_budget_status"), None, None, None),
        ("status", r.get("status"), None, None, None),
        ("gate passed", r.get("passed"), None, None, None),
        ("gate failures", "; ".join(r.get("failures") or []), None, None, None),
        ("forced", r.get("forced"), None, None, None),
        ("force reasons", "; ".join(r.get("force_reasons") or []), None, None, None),
        ("solver status", solver.get("status"), None, None, None),
        ("solver", solver.get("name"), None, None, None),
        ("optimality gap", solver.get("optimality_gap"), None, None, fmt.small),
        ("rounding optimal", r.get("rounding_optimal"), None, None, None),
        ("approvals", approvals or "none", None, None, None),
        ("data first week", r.get("data_first_week"), None, None, None),
        ("data last week", r.get("data_last_week"), None, None, None),
        ("data weeks", r.get("data_weeks"), None, None, None),
        ("freshness (days)", r.get("freshness_days"), None, None, None),
        ("run at", r.get("run_at"), None, None, None),
        *((f"note {i}", note, None, None, None) for i, note in enumerate(h.get("notes") or [], start=1)),
    ]
    sheet.write_row(0, 0, ["item", "value", f"{data.interval} low", f"{data.interval} high"], fmt.header)
    addresses = {}
    for i, (label, value, low, high, cell_format) in enumerate(rows, start=1):
        sheet.write_string(i, 0, label)
        for j, v in enumerate((value, low, high), start=1):
            _put(sheet, i, j, v, cell_format)
        if label in {"budget", "spent", "rounding unit", "roi_hurdle"}:
            addresses[label.replace("rounding ", "")] = "Summary!" + xl_rowcol_to_cell(i, 1, True, True)
    check_row = len(rows) + 1
    sheet.write_string(check_row, 0, "all checks pass (live)", fmt.bold)
    sheet.write_formula(check_row, 1, "=Checks!$E$2", fmt.bold)
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 28)
    sheet.set_column(2, 3, 20)
    sheet.freeze_panes(1, 0)
    _split_chart(book, sheet, data, fmt)
    return addresses


def _bounds(headline: dict, key: str) -> tuple[Any, Any]:
    return headline.get(f"{key}_low"), headline.get(f"{key}_high")


def _split_chart(book: Any, sheet: Any, data: ReportData, fmt: _Formats) -> None:
    """Current vs planned spend by region × objective: the table at column F and a clustered bar chart below it."""
    split = data.by_region_objective
    col = 5
    _table(sheet, split, fmt, col=col, filter_=False)
    n = len(split)
    if not n:
        return
    chart = book.add_chart({"type": "bar"})
    for name in ("spend_period_current", "spend_period"):
        j = col + list(split.columns).index(name)
        chart.add_series(
            {
                "name": ["Summary", 0, j],
                "categories": ["Summary", 1, col, n, col + 1],
                "values": ["Summary", 1, j, n, j],
            }
        )
    chart.set_title({"name": f"Current vs planned spend by region × objective ({data.currency})"})
    chart.set_x_axis({"num_format": "#,##0"})
    chart.set_y_axis({"reverse": True})
    chart.set_size({"width": 760, "height": 60 + 28 * n})
    sheet.insert_chart(n + 3, col, chart)


def _allocation(sheet: Any, data: ReportData, fmt: _Formats) -> dict[str, Any]:
    """The plan per cell, with a live ``within_bounds`` column; returns the ranges the checks read."""
    frame = data.allocation
    n = len(frame)
    columns = list(frame.columns)
    _table(sheet, frame.assign(within_bounds=True), fmt)
    inside = len(columns)
    s, lo, hi = (xl_col_to_name(columns.index(c)) for c in ("spend_period", "lower", "upper"))
    for i in range(n):
        r = i + 2
        sheet.write_formula(i + 1, inside, f'=AND({s}{r}>={lo}{r},OR({hi}{r}="",{s}{r}<={hi}{r}))')
    last = n + 1
    flag, roi = xl_col_to_name(columns.index("flag")), columns.index("roi")
    whole = (1, 0, max(n, 1), inside)
    sheet.conditional_format(*whole, {"type": "formula", "criteria": f"=${flag}2=TRUE", "format": fmt.flagged})
    hurdle = data.headline.get("roi_hurdle")
    if hurdle is not None:
        sheet.conditional_format(
            1, roi, max(n, 1), roi, {"type": "cell", "criteria": "<", "value": float(hurdle), "format": fmt.bad}
        )
    sheet.conditional_format(
        1, inside, max(n, 1), inside, {"type": "cell", "criteria": "==", "value": "FALSE", "format": fmt.bad}
    )
    sheet.freeze_panes(1, 3)
    return {
        "spend": f"Allocation!${s}$2:${s}${last}",
        "inside": f"Allocation!${xl_col_to_name(inside)}$2:${xl_col_to_name(inside)}${last}",
        "rows": n,
    }


def _rules(sheet: Any, data: ReportData, fmt: _Formats) -> None:
    """Every policy rule; ``low``/``high``/``achieved`` are shares for share rules and amounts otherwise."""
    frame = data.rules
    _table(sheet, frame, fmt)
    for name in ("low", "high", "achieved"):
        if name not in frame.columns:
            continue
        j = list(frame.columns).index(name)
        for i, (kind, value) in enumerate(zip(frame["kind"], frame[name], strict=True), start=1):
            _put(sheet, i, j, value, fmt.percent if kind == "share" else fmt.money)
    if "binding" in frame.columns and len(frame):
        b = xl_col_to_name(list(frame.columns).index("binding"))
        sheet.conditional_format(
            1,
            0,
            len(frame),
            len(frame.columns) - 1,
            {"type": "formula", "criteria": f"=${b}2=TRUE", "format": fmt.flagged},
        )
    sheet.freeze_panes(1, 1)


def _flags(sheet: Any, data: ReportData, fmt: _Formats) -> None:
    frame = data.flags
    _table(sheet, frame, fmt)
    hurdle, n = data.headline.get("roi_hurdle"), len(frame)
    if n and hurdle is not None and "roi" in frame.columns:
        j = list(frame.columns).index("roi")
        sheet.conditional_format(
            1, j, n, j, {"type": "cell", "criteria": "<", "value": float(hurdle), "format": fmt.bad}
        )
    if n and "p_roi_below_hurdle" in frame.columns:
        j = list(frame.columns).index("p_roi_below_hurdle")
        sheet.conditional_format(1, j, n, j, {"type": "3_color_scale", "min_color": "#FFFFFF", "max_color": "#F8696B"})
    sheet.freeze_panes(1, 2)


def _roi(book: Any, sheet: Any, data: ReportData, fmt: _Formats) -> None:
    """ROI per cell at the planned and current spend, with the hurdle; a column chart with intervals and the hurdle."""
    columns = [
        "region", "channel", "objective", "spend_period", "roi", "roi_low", "roi_high", "p_roi_below_hurdle", "mroi",
        "roi_current", "roi_current_low", "roi_current_high",
    ]  # fmt: skip
    a = data.allocation
    hurdle = data.headline.get("roi_hurdle")
    frame = a[[c for c in columns if c in a.columns]].assign(
        roi_hurdle=np.nan if hurdle is None else float(hurdle),
        interval_above=a["roi_high"] - a["roi"],
        interval_below=a["roi"] - a["roi_low"],
    )
    _table(sheet, frame, fmt)
    n, names = len(frame), list(frame.columns)
    sheet.freeze_panes(1, 2)
    if not n:
        return
    j = names.index("roi")
    if hurdle is not None:
        sheet.conditional_format(
            1, j, n, j, {"type": "cell", "criteria": "<", "value": float(hurdle), "format": fmt.bad}
        )

    def ref(name: str) -> list:
        k = names.index(name)
        return ["ROI", 1, k, n, k]

    def formula(name: str) -> str:
        k = xl_col_to_name(names.index(name))
        return f"=ROI!${k}$2:${k}${n + 1}"

    chart = book.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": f"ROI at the planned spend ({data.interval})",
            "categories": ["ROI", 1, 0, n, 1],
            "values": ref("roi"),
            "y_error_bars": {
                "type": "custom",
                "plus_values": formula("interval_above"),
                "minus_values": formula("interval_below"),
            },
        }
    )
    if hurdle is not None:
        line = book.add_chart({"type": "line"})
        line.add_series({"name": "ROI hurdle", "categories": ["ROI", 1, 0, n, 1], "values": ref("roi_hurdle")})
        chart.combine(line)
    chart.set_title({"name": "ROI per cell and the hurdle"})
    chart.set_y_axis({"num_format": "0.0"})
    chart.set_size({"width": 1200, "height": 420})
    sheet.insert_chart(n + 3, 0, chart)


def _diagnostics(sheet: Any, data: ReportData, fmt: _Formats) -> None:
    """The model's diagnostics, then the prior-dominated cells and the attribution reconciliation when present."""
    frame = data.diagnostics
    row = _table(sheet, frame, fmt)
    if "passed" in frame.columns and len(frame):
        j = list(frame.columns).index("passed")
        sheet.conditional_format(
            1, j, len(frame), j, {"type": "cell", "criteria": "==", "value": "FALSE", "format": fmt.bad}
        )
    for title, extra in (
        ("prior-dominated cells", data.prior_dominated),
        ("attribution reconciliation", data.reconciliation),
    ):
        if extra is None:
            continue
        sheet.write_string(row, 0, title, fmt.bold)
        if not len(extra):
            sheet.write_string(row, 1, "none")
            row += 2
            continue
        row = _table(sheet, extra, fmt, row=row + 1, filter_=False) + 1
    sheet.freeze_panes(1, 0)


def _inputs(sheet: Any, data: ReportData, fmt: _Formats) -> None:
    """Provenance: input hashes, versions, seeds, commit, posterior, store; then the config TOML, one line a row."""
    p = data.provenance
    items: list[tuple[str, Any]] = [("run id", data.run_id)]
    for group in ("input_hashes", "versions", "seeds"):
        items += [(f"{group}.{k}", v) for k, v in (p.get(group) or {}).items()]
    items += [(k, p.get(k)) for k in ("git_commit", "posterior_path", "posterior_hash", "store")]
    lines = (p.get("config_toml") or "").splitlines()
    items += [(f"config.toml line {i}", line) for i, line in enumerate(lines, start=1)]
    _key_values(sheet, items, fmt, header=("input", "value"))
    sheet.set_column(1, 1, 70)


def _rule_cells(sheet: Any, data: ReportData, fmt: _Formats) -> None:
    """Per rule row r: 0/1 columns ``members r`` and ``reference r``, rows aligned with the Allocation sheet."""
    cells = data.allocation[["region", "channel", "objective"]]
    frame = cells.copy()
    for r, row in enumerate(data.rule_rows.itertuples(index=False)):
        frame[f"members {r}: {row.rule} ({row.side})"] = data.rule_members[r].astype(int)
        frame[f"reference {r}: {row.reference_name}"] = data.rule_reference[r].astype(int)
    _table(sheet, frame, fmt)
    sheet.set_column(3, max(3, len(frame.columns) - 1), 14)
    sheet.freeze_panes(1, 3)


def _checks(sheet: Any, data: ReportData, fmt: _Formats, summary: dict[str, str], alloc: dict[str, Any]) -> None:
    """Live checks over the Allocation sheet's spend; row 2 is the AND of all of them."""
    spend, n = alloc["spend"], alloc["rows"]
    unit = summary["unit"]
    hurdle_mode = (data.policy or {}).get("mode") == "hurdle"
    rows: list[tuple[str, str, str, str, str]] = [
        ("plan total equals the rounded total (to half a unit)", f"=SUM({spend})", f"={summary['spent']}",
         f"={unit}/2", "=ABS(B{r}-C{r})<=D{r}"),
        ("plan total does not exceed the budget by more than one unit" if hurdle_mode
         else "plan total within one unit of the budget", f"=SUM({spend})", f"={summary['budget']}",
         f"={unit}", "=B{r}<=C{r}+D{r}" if hurdle_mode else "=ABS(B{r}-C{r})<=D{r}"),
    ]  # fmt: skip
    for r, row in enumerate(data.rule_rows.itertuples(index=False)):
        members = _rule_column(2 * r, n)
        if row.kind == "share":
            reference = _rule_column(2 * r + 1, n)
            value = f"=SUMPRODUCT({members},{spend})/SUMPRODUCT({reference},{spend})"
            bound, tol = f"={float(row.ratio)!r}", f"={unit}*SUM({reference})/SUMPRODUCT({reference},{spend})"
        else:
            value = f"=SUMPRODUCT({members},{spend})"
            bound, tol = f"={float(row.amount)!r}", f"={unit}*SUM({members})"
        passes = "=B{r}>=C{r}-D{r}" if row.side == "floor" else "=B{r}<=C{r}+D{r}"
        rows.append((f"{row.side}: {row.label} of {row.reference_name}", value, bound, tol, passes))
    rows.append(("cells outside their bounds", f"=COUNTIF({alloc['inside']},FALSE)", "=0", "=0", "=B{r}=C{r}"))

    sheet.write_row(0, 0, ["check", "value", "bound", "tolerance", "passes"], fmt.header)
    last = len(rows) + 2
    sheet.write_string(1, 0, "all checks pass", fmt.bold)
    sheet.write_formula(1, 4, f"=AND(E3:E{last})", fmt.bold)
    for i, (label, value, bound, tol, passes) in enumerate(rows, start=2):
        is_share = "SUMPRODUCT(" in value and "/" in value
        number = fmt.percent if is_share else fmt.money
        sheet.write_string(i, 0, label)
        sheet.write_formula(i, 1, value, number)
        sheet.write_formula(i, 2, bound, number)
        sheet.write_formula(i, 3, tol, fmt.small if is_share else fmt.money)
        sheet.write_formula(i, 4, passes.format(r=i + 1))
    sheet.conditional_format(1, 4, last - 1, 4, {"type": "cell", "criteria": "==", "value": "FALSE", "format": fmt.bad})
    sheet.conditional_format(1, 4, last - 1, 4, {"type": "cell", "criteria": "==", "value": "TRUE", "format": fmt.good})
    sheet.set_column(0, 0, 70)
    sheet.set_column(1, 3, 18)
    sheet.set_column(4, 4, 10)
    sheet.freeze_panes(2, 0)


def _rule_column(k: int, n: int) -> str:
    """RuleCells' k-th 0/1 column (after region, channel, objective) over the allocation rows."""
    name = xl_col_to_name(3 + k)
    return f"RuleCells!${name}$2:${name}${n + 1}"
