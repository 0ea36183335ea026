"""``report.html``: every section and chart present, nothing to fetch, the headline's numbers as the data's, names
escaped, and a real (offline) Chromium draws every chart.

The browser test needs Debian's Chromium and the ``playwright`` package (``scripts/ensure-chromium.sh``); without
them it fails in CI (env var ``CI`` set) and is skipped elsewhere. All but the format test use the sample run (slow).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.report_html import money, money_interval, render_html, roi_interval, write_html

SECTIONS = (
    "headline", "readiness", "allocation", "rules", "roi", "curves", "ladder", "reconciliation", "diagnostics",
    "provenance",
)  # fmt: skip
CHARTS = ("allocation", "roi", "curves", "reconciliation")
#: Tags that load something (or run code) in a browser: a self-contained report has none.
LOADING_TAGS = {"script", "link", "iframe", "img", "object", "embed", "source", "video", "audio", "frame", "base"}
URL_ATTRIBUTES = {"src", "href", "xlink:href", "srcset", "action", "poster", "data", "background", "formaction"}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
EVIL = "<script>alert('x')</script>"


class _Page(HTMLParser):
    """The page's tags with their attributes, ids, texts by ``data-testid`` and the tags inside each chart figure."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.ids: set[str] = set()
        self.texts: dict[str, str] = {}
        self.figures: dict[str, list[str]] = {}
        self.styles: list[str] = []
        self._open: list[tuple[str, str | None]] = []
        self._figure: str | None = None
        self._in_style = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list, *, empty: bool = False) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append((tag, attributes))
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if "style" in attributes:
            self.styles.append(attributes["style"])
        if tag == "figure" and "chart" in attributes.get("class", "").split():
            self._figure = attributes.get("data-testid", "")
            self.figures[self._figure] = []
        elif self._figure is not None:
            self.figures[self._figure].append(tag)
        self._in_style = tag == "style"
        if not empty and tag not in {"meta", "br", "hr", "input", "img", "link"}:
            self._open.append((tag, attributes.get("data-testid")))
            if attributes.get("data-testid"):
                self.texts[attributes["data-testid"]] = ""

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs, empty=True)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure = None
        self._in_style = False
        while self._open:
            name, _ = self._open.pop()
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)
        for _, testid in self._open:
            if testid:
                self.texts[testid] += data


@pytest.fixture(scope="module")
def html(sample_report) -> str:
    return render_html(sample_report)


@pytest.fixture(scope="module")
def page(html: str) -> _Page:
    return _Page(html)


# ---------------------------------------------------------------------- formats
def test_money_formats_with_units_and_interval_on_the_means_scale():
    assert money_interval(38_068_881, 30_809_867, 46_153_913, "EUR", "90% HDI") == "38.1 M EUR (90% HDI 30.8–46.2 M)"
    assert money_interval(798_459, 295_446, 1_367_533, "EUR", "90% HDI", signed=True) == (
        "+798 k EUR (90% HDI 295–1,368 k)"
    )
    assert money(-2_500_000, "USD") == "−2.50 M USD"
    assert money(950, "EUR") == "950 EUR"
    assert money(float("nan"), "EUR") == "—"
    assert roi_interval(1.834, 1.31, 2.4, "90% HDI") == "ROI 1.83 (90% HDI 1.31–2.40)"


# ---------------------------------------------------------------------- structure
@pytest.mark.slow  # the sample run (sample_report) takes tens of seconds
def test_every_section_and_chart_is_there(page: _Page):
    missing = [s for s in SECTIONS if s not in page.ids]
    assert not missing, f"sections missing: {missing}"
    links = [a["href"][1:] for tag, a in page.tags if tag == "a" and a.get("href", "").startswith("#")]
    assert set(SECTIONS) <= set(links), "the table of contents links every section"
    assert set(links) <= page.ids, f"anchors without a target: {set(links) - page.ids}"
    assert sorted(page.figures) == sorted(f"chart-{c}" for c in CHARTS)
    for name, inner in page.figures.items():
        assert "svg" in inner and "figcaption" in inner, f"{name} lacks an inline svg or a caption"
    svgs = [a.get("data-chart") for tag, a in page.tags if tag == "svg"]
    assert sorted(svgs) == sorted(CHARTS)


@pytest.mark.slow  # the sample run (sample_report) takes tens of seconds
def test_nothing_to_fetch(html: str, page: _Page):
    loading = sorted({tag for tag, _ in page.tags} & LOADING_TAGS)
    assert not loading, f"tags that load or run something: {loading}"
    for tag, attributes in page.tags:
        for name in URL_ATTRIBUTES & set(attributes):
            value = attributes[name].strip()
            assert value.startswith("#") or value.startswith("data:"), f"<{tag} {name}={value!r}> points outside"
    for style in page.styles:
        assert "@import" not in style
        for target in re.findall(r"url\(\s*['\"]?([^'\")]*)", style):
            assert target.startswith(("#", "data:")), f"CSS url({target}) points outside"
    # namespace declarations name a URL without loading it; anything else with a scheme is suspect
    without_namespaces = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", html)
    assert "http://" not in without_namespaces and "https://" not in without_namespaces
    assert "@font-face" not in html


@pytest.mark.slow  # the sample run (sample_report) takes tens of seconds
def test_headline_numbers_are_the_datas(sample_report, page: _Page):
    h, cur, interval = sample_report.headline, sample_report.currency, sample_report.interval
    assert cur and interval == "90% HDI"
    expected = {
        "budget": money(h["budget"], cur),
        "revenue": money_interval(
            h["revenue_period"], h["revenue_period_low"], h["revenue_period_high"], cur, interval
        ),
        "revenue-current": money_interval(
            h["revenue_period_current"], h["revenue_period_current_low"], h["revenue_period_current_high"], cur,
            interval,
        ),
        "uplift": money_interval(
            h["revenue_period_change"], h["revenue_period_change_low"], h["revenue_period_change_high"], cur,
            interval, signed=True,
        ),
        "p-uplift": f"{h['p_uplift_positive']:.1%}",
        "mroi": f"{h['mroi']:.2f}",
    }  # fmt: skip
    for testid, text in expected.items():
        assert page.texts[testid].strip() == text, testid
    # an independent spelling of the revenue, on the millions scale the sample's revenue has
    assert 1e7 <= h["revenue_period"] < 1e8
    mean, low, high = (h[f"revenue_period{s}"] / 1e6 for s in ("", "_low", "_high"))
    assert page.texts["revenue"].strip() == f"{mean:.1f} M {cur} (90% HDI {low:.1f}–{high:.1f} M)"
    for note in h["notes"]:
        assert note.split(":")[0] in page.texts["headline-notes"]


@pytest.mark.slow  # the sample run (sample_report) takes tens of seconds
def test_every_cell_rule_and_flag_is_listed(sample_report, page: _Page):
    allocation = page.texts["allocation-table"]
    for row in sample_report.allocation.itertuples():
        assert f"{row.spend_period:,.0f}" in allocation and f"{row.spend_period_current:,.0f}" in allocation
    rules = page.texts["rules-table"]
    assert all(str(rule) in rules for rule in sample_report.rules["rule"])
    flags = page.texts["flags-table"]
    assert all(str(reason) in flags for reason in sample_report.flags["reason"])


@pytest.mark.slow  # the sample run (sample_report) takes tens of seconds
def test_size_and_determinism(sample_report, html: str):
    assert len(html.encode("utf-8")) <= 5 * 1024 * 1024
    assert render_html(sample_report) == html


# ---------------------------------------------------------------------- variants
def _hostile(data):
    """``data`` with a script for a channel name, a rule name, a note and an approval note."""
    allocation = data.allocation.copy()
    region, channel = allocation.loc[0, "region"], allocation.loc[0, "channel"]
    allocation.loc[0, "channel"] = EVIL
    curves = data.curves.copy()
    curves.loc[(curves["region"] == region) & (curves["channel"] == channel), "channel"] = EVIL
    rules = data.rules.copy()
    rules.loc[0, "rule"] = EVIL
    reconciliation = data.reconciliation.copy() if data.reconciliation is not None else None
    if reconciliation is not None:
        reconciliation.loc[0, "channel"] = EVIL
    readiness = {**data.readiness, "approvals": [{"approved_by": EVIL, "approved_at": "2026-01-05", "note": EVIL}]}
    return dataclasses.replace(
        data, allocation=allocation, curves=curves, rules=rules, reconciliation=reconciliation,
        headline={**data.headline, "notes": [EVIL]}, readiness=readiness,
    )  # fmt: skip


@pytest.mark.slow  # the sample run (sample_report) takes tens of seconds
def test_hostile_names_are_escaped(sample_report):
    html = render_html(_hostile(sample_report))
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert [a.get("data-chart") for tag, a in _Page(html).tags if tag == "svg"] == list(CHARTS)


@pytest.mark.slow  # the sample run (sample_report) takes tens of seconds
def test_failed_forced_approved_run_without_journeys(sample_report):
    """The branches the sample does not take: no journeys, a failed and forced gate, approvals, prior-dominated cells
    and a ladder direction that is unavailable."""
    readiness = {
        **sample_report.readiness,
        "passed": False,
        "failures": ["max_rhat 1.08 above 1.01"],
        "forced": True,
        "force_reasons": ["quarter close"],
        "approvals": [{"approved_by": "cfo@example.com", "approved_at": "2026-01-05T10:00:00", "note": "ok"}],
    }
    prior = pd.DataFrame(
        {"region": ["Asia"], "channel": ["tv"], "prior_sd_ratio": [0.93], "roi": [1.2], "roi_low": [0.4],
         "roi_high": [2.1], "prior_source": ["lift test"]}
    )  # fmt: skip
    revenue = sample_report.ladder["revenue"].copy()
    revenue.loc["cut", ["revenue_period_change", "revenue_period_change_low", "revenue_period_change_high"]] = np.nan
    revenue.loc["cut", "status"] = "no cut possible: every cell is at its minimum"
    ladder = {**sample_report.ladder, "cut": sample_report.ladder["cut"].iloc[0:0], "revenue": revenue}
    data = dataclasses.replace(
        sample_report, reconciliation=None, readiness=readiness, prior_dominated=prior, ladder=ladder
    )
    html = render_html(data)
    page = _Page(html)
    assert "no journeys" in page.texts["no-journeys"].lower()
    assert "chart-reconciliation" not in page.figures and set(SECTIONS) <= page.ids
    badge = page.texts["readiness-badge"]
    assert "gate failed" in badge and "Forced" in badge and "Approved" in badge
    assert "max_rhat 1.08 above 1.01" in html and "quarter close" in html and "cfo@example.com" in html
    assert "lift test" in page.texts["prior-dominated-table"]
    assert "no cut possible: every cell is at its minimum" in page.texts["ladder-cut"]


# ---------------------------------------------------------------------- a real browser
def _need_browser() -> None:
    hint = "Chromium or playwright missing: run scripts/ensure-chromium.sh"
    if CHROMIUM.exists() and importlib.util.find_spec("playwright") is not None:
        return
    if os.environ.get("CI"):
        pytest.fail(hint)
    pytest.skip(hint)


def _artifacts(tmp_path: Path) -> Path:
    root = os.environ.get("TEST_ARTIFACTS")
    folder = Path(root) / "report_html" if root else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow  # the sample run (sample_report) takes tens of seconds
def test_chromium_renders_every_chart_offline(sample_report, tmp_path: Path):
    _need_browser()
    from playwright.sync_api import Route, sync_playwright

    url = write_html(sample_report, tmp_path / "report.html").resolve().as_uri()
    requested, errors = [], []

    def allow_only_the_file(route: Route) -> None:
        if route.request.url in (url, f"{url}#") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.on("request", lambda r: None if r.url == url or r.url.startswith("data:") else requested.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", allow_only_the_file)
            page.goto(url, wait_until="load")
            sizes = page.eval_on_selector_all(
                "figure.chart svg",
                "els => els.map(e => [e.dataset.chart, e.getBoundingClientRect().width, "
                "e.getBoundingClientRect().height, e.querySelectorAll('path, text').length])",
            )
            page.screenshot(path=str(_artifacts(tmp_path) / "report.png"), full_page=True)
        finally:
            browser.close()
    assert not requested, f"the page asked for {requested}"
    assert not errors, f"console or page errors: {errors}"
    assert sorted(name for name, *_ in sizes) == sorted(CHARTS)
    for name, width, height, marks in sizes:
        assert width > 100 and height > 100 and marks > 10, f"chart {name} drawn {width}×{height} with {marks} marks"
