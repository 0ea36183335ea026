"""``report.html``: one self-contained page a finance team signs off, readable with no network at all.

Text comes from a Jinja2 template (``planner/templates/report.html.j2``, autoescaped); charts are Altair specs
rendered to static SVG by ``vl-convert`` and inlined, so the page has no script, no font, no image and no link to
fetch. Everything shown comes from :class:`planner.report_data.ReportData`; this module only formats and draws.

Examples
--------
>>> from planner.report_html import write_html
>>> write_html(data, "out/report.html")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import altair as alt
import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from planner.report_data import ReportData

#: Colours: current split, plan, interval band, hurdle / flag.
CURRENT, PLAN, BAND, ALERT = "#9aa5b1", "#1f5f99", "#9cc3e6", "#c0392b"
#: Chart text uses the system's sans-serif font: no font file is ever fetched.
FONT = "sans-serif"
#: Small multiples per row in the response-curve chart.
CURVE_COLUMNS = 5

_SCALES = ((1e9, "bn"), (1e6, "M"), (1e3, "k"))


# ---------------------------------------------------------------------- number formats
def _finite(x: Any) -> bool:
    return x is not None and isinstance(x, int | float | np.number) and math.isfinite(float(x))


def _scale(x: float) -> tuple[float, str]:
    for size, suffix in _SCALES:
        if abs(x) >= size:
            return size, suffix
    return 1.0, ""


def _digits(x: float, size: float) -> int:
    """Decimals that show three significant digits of ``x`` on the scale ``size`` (none for plain amounts)."""
    value = abs(x / size)
    return 0 if size == 1.0 or value >= 100 else 1 if value >= 10 else 2


def _scaled(x: float, size: float, digits: int) -> str:
    return f"{x / size:,.{digits}f}".replace("-", "−")


def money(x: Any, currency: str = "", *, signed: bool = False) -> str:
    """An amount in thousands (k), millions (M) or billions (bn) with its currency: ``38.1 M EUR``."""
    if not _finite(x):
        return "—"
    size, suffix = _scale(float(x))
    sign = "+" if signed and x > 0 else ""
    text = f"{sign}{_scaled(float(x), size, _digits(float(x), size))}"
    return " ".join(part for part in (text, suffix, currency) if part)


def money_interval(mean: Any, low: Any, high: Any, currency: str, interval: str, *, signed: bool = False) -> str:
    """A mean with its interval, both on the mean's scale and precision: ``38.1 M EUR (90% HDI 30.8–46.2 M)``."""
    text = money(mean, currency, signed=signed)
    if not (_finite(mean) and _finite(low) and _finite(high)):
        return text
    size, suffix = _scale(float(mean))
    digits = _digits(float(mean), size)
    bounds = f"{_scaled(float(low), size, digits)}–{_scaled(float(high), size, digits)}"
    return f"{text} ({interval} {bounds}{' ' + suffix if suffix else ''})"


def roi_interval(roi: Any, low: Any, high: Any, interval: str, *, label: str = "ROI") -> str:
    """``ROI 1.83 (90% HDI 1.31–2.40)``; ``label=""`` leaves out the word ROI."""
    if not _finite(roi):
        return "—"
    text = f"{label} {roi:.2f}".strip()
    return f"{text} ({interval} {low:.2f}–{high:.2f})" if _finite(low) and _finite(high) else text


def amount(x: Any) -> str:
    """A whole amount with thousands separators: ``1,234,567``."""
    return f"{x:,.0f}".replace("-", "−") if _finite(x) else "—"


def signed_amount(x: Any) -> str:
    return ("+" if _finite(x) and x > 0 else "") + amount(x)


def percent(x: Any, digits: int = 1, *, signed: bool = False) -> str:
    if not _finite(x):
        return "—"
    return f"{x:{'+' if signed else ''}.{digits}%}".replace("-", "−")


def number(x: Any, digits: int = 2) -> str:
    return f"{x:,.{digits}f}".replace("-", "−") if _finite(x) else "—"


def general(x: Any) -> str:
    """A diagnostic value: 4 significant digits, ``—`` when not measured."""
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    return f"{x:.4g}" if _finite(x) else "—"


# ---------------------------------------------------------------------- charts
def _svg(chart: alt.TopLevelMixin, name: str) -> Markup:
    """The chart as inline SVG. Ids get the chart's prefix (several SVGs share one document) and the namespace
    declarations go (an SVG inside HTML needs none), so the page holds no URL at all."""
    import vl_convert

    svg = vl_convert.vegalite_to_svg(chart.to_dict(), config=_chart_config())
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)
    svg = re.sub(r'href="#([^"]+)"', rf'href="#{name}-\1"', svg)
    svg = svg.replace("<svg ", f'<svg data-chart="{name}" role="img" ', 1)
    return Markup(svg)  # vl-convert escapes every text it draws (the escaping test checks it)


@cache
def _chart_config() -> dict:
    return {
        "font": FONT,
        "view": {"stroke": "#d9dee3"},
        "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#eef1f4", "titleFontWeight": "normal"},
        "header": {"labelFontSize": 11, "titleFontSize": 11},
        "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "top"},
    }


def _cell(frame: pd.DataFrame) -> pd.Series:
    return frame["region"].astype(str) + " · " + frame["channel"].astype(str)


def _allocation_chart(data: ReportData) -> alt.Chart:
    table = data.by_region_objective
    long = pd.concat(
        [
            pd.DataFrame(
                {
                    "group": table["region"].astype(str) + " · " + table["objective"].astype(str),
                    "split": split,
                    "spend": table[column].to_numpy(dtype=float),
                }
            )
            for split, column in (("current", "spend_period_current"), ("plan", "spend_period"))
        ],
        ignore_index=True,
    )
    order = list(dict.fromkeys(long["group"]))
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("group:N", sort=order, title=None),
            yOffset=alt.YOffset("split:N", sort=["current", "plan"]),
            x=alt.X("spend:Q", title=f"spend over the period ({data.currency})", axis=alt.Axis(format="~s")),
            color=alt.Color("split:N", sort=["current", "plan"], title=None, scale=alt.Scale(range=[CURRENT, PLAN])),
        )
        .properties(width=560, height=alt.Step(11))
    )


def _roi_chart(data: ReportData) -> alt.LayerChart:
    table = data.allocation.assign(cell=_cell(data.allocation))
    table = table.assign(flagged=np.where(table["flag"].astype(bool), "flagged", "not flagged"))
    table = table[["cell", "roi", "roi_low", "roi_high", "flagged"]]
    order = list(table.sort_values(["roi", "cell"], ascending=[False, True])["cell"])
    hurdle = float(data.headline.get("roi_hurdle") or np.nan)
    y = alt.Y("cell:N", sort=order, title=None)
    color = alt.Color("flagged:N", title=None, scale=alt.Scale(domain=["not flagged", "flagged"], range=[PLAN, ALERT]))
    bars = (
        alt.Chart(table)
        .mark_rule(strokeWidth=2, opacity=0.6)
        .encode(
            y=y,
            x=alt.X("roi_low:Q", title=f"ROI at the recommended spend ({data.interval})"),
            x2="roi_high:Q",
            color=color,
        )
    )
    dots = alt.Chart(table).mark_circle(size=45, opacity=1).encode(y=y, x="roi:Q", color=color)
    layers = [bars, dots]
    if math.isfinite(hurdle):
        rule = (
            alt.Chart(pd.DataFrame({"hurdle": [hurdle]})).mark_rule(color=ALERT, strokeDash=[5, 3]).encode(x="hurdle:Q")
        )
        label = (
            alt.Chart(pd.DataFrame({"hurdle": [hurdle], "text": [f"hurdle {hurdle:g}"]}))
            .mark_text(align="left", dx=4, dy=-6, color=ALERT, fontSize=11)
            .encode(x="hurdle:Q", y=alt.value(0), text="text:N")
        )
        layers += [rule, label]
    return alt.layer(*layers).properties(width=560, height=alt.Step(14))


def _curves_chart(data: ReportData) -> alt.FacetChart:
    digits = 0 if data.unit >= 1 else 2
    curves = data.curves.assign(cell=_cell(data.curves), layer="curve")
    curves = curves[["cell", "layer", "spend_period", "revenue_period", "revenue_period_low", "revenue_period_high"]]
    marks = data.allocation.assign(cell=_cell(data.allocation))
    markers = pd.concat(
        [
            pd.DataFrame({"cell": marks["cell"], "layer": layer, "spend_period": marks[column].to_numpy(dtype=float)})
            for layer, column in (("current", "spend_period_current"), ("plan", "spend_period"))
        ],
        ignore_index=True,
    )
    long = pd.concat([curves, markers], ignore_index=True).round(digits)
    # a fixed axis width keeps the panels aligned although each has its own scale
    spend = alt.X(
        "spend_period:Q", title=None, axis=alt.Axis(format="~s", tickCount=3, labelOverlap="greedy", labelSeparation=6)
    )
    revenue = alt.Y("revenue_period:Q", title=None, axis=alt.Axis(format="~s", tickCount=3, minExtent=34, maxExtent=34))
    base = alt.Chart()
    band = base.transform_filter(alt.datum.layer == "curve").mark_area(color=BAND, opacity=0.5)
    band = band.encode(x=spend, y=alt.Y("revenue_period_low:Q"), y2="revenue_period_high:Q")
    line = base.transform_filter(alt.datum.layer == "curve").mark_line(color=PLAN, strokeWidth=1.5)
    line = line.encode(x=spend, y=revenue)
    ticks = base.transform_filter(alt.datum.layer != "curve").mark_rule(strokeWidth=1.5)
    ticks = ticks.encode(
        x=spend,
        color=alt.Color(
            "layer:N",
            title=None,
            scale=alt.Scale(domain=["current", "plan"], range=[CURRENT, ALERT]),
            legend=alt.Legend(labelExpr="datum.label + ' spend'"),
        ),
        strokeDash=alt.StrokeDash(
            "layer:N", scale=alt.Scale(domain=["current", "plan"], range=[[4, 2], [1, 0]]), legend=None
        ),
    )
    return (
        alt.layer(band, line, ticks, data=long)
        .properties(width=150, height=90)
        .facet(
            facet=alt.Facet("cell:N", title=None, header=alt.Header(labelFontSize=10, labelLimit=170)),
            columns=CURVE_COLUMNS,
            spacing={"row": 14, "column": 16},
            align="all",
        )
        .resolve_scale(x="independent", y="independent")
    )


def _reconciliation_chart(data: ReportData) -> alt.LayerChart:
    table = data.reconciliation
    methods = (("Markov", "markov_share"), ("Shapley", "shapley_share"), ("media-mix model", "mmm_share"))
    long = pd.concat(
        [
            pd.DataFrame(
                {
                    "channel": table["channel"].astype(str),
                    "method": method,
                    "share": table[column].to_numpy(dtype=float),
                    "low": table[f"{column}_low"].to_numpy(dtype=float),
                    "high": table[f"{column}_high"].to_numpy(dtype=float),
                }
            )
            for method, column in methods
        ],
        ignore_index=True,
    )
    order = [m for m, _ in methods]
    y = alt.Y("channel:N", title=None, sort=list(table["channel"].astype(str)))
    offset = alt.YOffset("method:N", sort=order)
    color = alt.Color("method:N", title=None, sort=order, scale=alt.Scale(range=["#7f8c8d", "#e67e22", PLAN]))
    x = alt.X("low:Q", title=f"share of credit or contribution ({data.interval})", axis=alt.Axis(format="%"))
    rules = alt.Chart(long).mark_rule(strokeWidth=2).encode(y=y, yOffset=offset, x=x, x2="high:Q", color=color)
    dots = alt.Chart(long).mark_circle(size=35, opacity=1).encode(y=y, yOffset=offset, x="share:Q", color=color)
    return alt.layer(rules, dots).properties(width=560, height=alt.Step(8))


def _charts(data: ReportData) -> dict[str, Markup]:
    builders: dict[str, Callable[[ReportData], Any]] = {
        "allocation": _allocation_chart,
        "roi": _roi_chart,
        "curves": _curves_chart,
    }
    if data.reconciliation is not None and len(data.reconciliation):
        builders["reconciliation"] = _reconciliation_chart
    return {name: _svg(build(data), name) for name, build in builders.items()}


# ---------------------------------------------------------------------- page
@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        amount=amount, signed_amount=signed_amount, percent=percent, number=number, general=general, money=money
    )
    return env


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None:
        return []
    return frame.replace({np.nan: None}).to_dict("records")


def _rules(rules: pd.DataFrame) -> list[dict]:
    """The rules with ``words``: their plain-words price, less the target when the text repeats it (cell rules)."""
    words = [
        text[len(target) :].lstrip(": ") if target and text.startswith(target) and len(text) > len(target) else text
        for text, target in zip(rules["text"].astype(str), rules["target"].astype(str), strict=True)
    ]
    return _records(rules.assign(words=words))


def _ladder(data: ReportData) -> list[dict]:
    ladder = data.ladder or {}
    revenue = ladder.get("revenue")
    out = []
    steps = (
        ("add", "Add the next step", "expected revenue gained"),
        ("cut", "Cut the next step", "expected revenue lost"),
    )
    for direction, title, stake_label in steps:
        moves = ladder.get(direction)
        row = revenue.loc[direction] if revenue is not None and direction in revenue.index else None
        status = str(row["status"]) if row is not None and row.get("status") else ""
        stake = (
            money_interval(
                row["revenue_period_change"], row["revenue_period_change_low"], row["revenue_period_change_high"],
                data.currency, data.interval,
            )
            if row is not None and _finite(row["revenue_period_change"])
            else ""
        )  # fmt: skip
        out.append(
            {
                "direction": direction,
                "title": title,
                "stake_label": stake_label,
                "moves": _records(moves),
                "total": float(moves["amount"].sum()) if moves is not None and len(moves) else np.nan,
                "stake": stake,
                "mroi": float(row["mroi"]) if row is not None and _finite(row["mroi"]) else np.nan,
                "status": status if status and status.lower() not in ("ok", "optimal") else "",
            }
        )
    return out


def _headline_interval(headline: dict, key: str, currency: str, interval: str, *, signed: bool = False) -> str:
    low, high = headline.get(f"{key}_low"), headline.get(f"{key}_high")
    return money_interval(headline.get(key), low, high, currency, interval, signed=signed)


def _context(data: ReportData) -> dict:
    h, r = data.headline, data.readiness
    cur, interval = data.currency, data.interval
    allocation = data.allocation.assign(
        change_share=data.allocation["spend_period_change"]
        / data.allocation["spend_period_current"].where(data.allocation["spend_period_current"] > 0),
        roi_text=[
            roi_interval(a, b, c, interval, label="")
            for a, b, c in zip(
                data.allocation["roi"], data.allocation["roi_low"], data.allocation["roi_high"], strict=True
            )
        ],
    )
    headline = {
        "budget": money(h.get("budget"), cur),
        "revenue": _headline_interval(h, "revenue_period", cur, interval),
        "revenue_current": _headline_interval(h, "revenue_period_current", cur, interval),
        "uplift": _headline_interval(h, "revenue_period_change", cur, interval, signed=True),
        "p_uplift": percent(h.get("p_uplift_positive")),
        "mroi": number(h.get("mroi")),
        "hurdle": number(h.get("roi_hurdle")),
        "hurdle_budget": money(h.get("hurdle_budget"), cur) if _finite(h.get("hurdle_budget")) else "",
    }
    gap = (r.get("solver") or {}).get("optimality_gap")
    return {
        "d": data,
        "h": h,
        "r": r,
        "headline": headline,
        "gap": f"{gap:.1e}" if _finite(gap) else "not certified",
        "allocation": _records(allocation),
        "by_region_objective": _records(data.by_region_objective),
        "rules": _rules(data.rules),
        "flags": _records(data.flags),
        "ladder": _ladder(data),
        "ladder_step": money(data.ladder.get("step"), cur) if data.ladder else "—",
        "reconciliation": _records(data.reconciliation) if data.reconciliation is not None else None,
        "diagnostics": _records(data.diagnostics),
        "prior_dominated": _records(data.prior_dominated),
        "roi_interval": roi_interval,
        "money_interval": money_interval,
        "charts": _charts(data),
    }


def render_html(data: ReportData) -> str:
    """The report of one run as one self-contained HTML page (inline CSS and SVG; no script, no URL to fetch).

    Parameters
    ----------
    data : planner.report_data.ReportData

    Returns
    -------
    str
        The page. The same data gives the same bytes.
    """
    return _environment().get_template("report.html.j2").render(**_context(data))


def write_html(data: ReportData, path: str | Path) -> Path:
    """Write :func:`render_html` of ``data`` to ``path`` (UTF-8; parent folders created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(data), encoding="utf-8")
    return path
