"""The app in a real browser: ``streamlit run app.py`` on 127.0.0.1, driven by Playwright through Debian's Chromium
(``scripts/ensure-chromium.sh`` installs it; never a browser download). Screenshots of every page are kept as test
artifacts (``$TEST_ARTIFACTS/app`` or the test's temp folder) and timings go to ``browser_timings.json`` beside
them: time until the app is usable after the server starts, and the re-optimisation after a control change.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = pytest.mark.slow


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return "no /usr/bin/chromium: run scripts/ensure-chromium.sh"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed: run scripts/ensure-chromium.sh"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = os.environ.get("TEST_ARTIFACTS")
    folder = Path(base) / "app" if base else tmp_path_factory.mktemp("app-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, artifacts: Path) -> Iterator[tuple[str, float]]:
    """``streamlit run app.py`` on a free port of 127.0.0.1 with a throwaway run store; yields (url, start time)."""
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    port = _free_port()
    store = tmp_path_factory.mktemp("app-store")
    env = {**os.environ, "GROWTH_ALLOCATOR_STORE": f"sqlite:///{(store / 'runs.db').as_posix()}"}
    env["GROWTH_ALLOCATOR_RUNS"] = str(store / "runs")
    log = (artifacts / "streamlit.log").open("w")
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.address", "127.0.0.1",
        "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}; see {artifacts / 'streamlit.log'}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("streamlit did not answer its health check within 90 s")
        yield url, started
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(store, ignore_errors=True)


PAGES = {  # page title in the navigation -> a text the rendered page shows
    "Overview": "Expected uplift",
    "Data": "Tables",
    "Attribution": "bootstrap percentile interval",
    "Media mix": "Prior-dominated cells",
    "Budget planner": "Expected revenue",
    "Scenarios": "Save scenario",
}


def _settled(page, timeout_s: float = 120.0) -> None:
    """Wait until Streamlit has finished running the script (its status widget gone) and the page is drawn.

    The waits in this file guard against a hang, they time nothing: they allow for a slow 2-core machine running
    another test file beside this one (`make test` runs files in parallel)."""
    page.wait_for_load_state("domcontentloaded")
    page.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.locator('[data-testid="stStatusWidget"]').count() == 0 and page.locator(".stSkeleton").count() == 0:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"the app was still running after {timeout_s:.0f} s")


def _charts_drawn(page, timeout_s: float = 60.0) -> None:
    """Wait until every Vega-Lite chart on the page has drawn (its canvas or SVG is there): the chart code loads
    on first use, after Streamlit's run has finished, so a screenshot taken at once shows an empty box."""
    deadline = time.monotonic() + timeout_s
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    while time.monotonic() < deadline:
        n = charts.count()
        if all(charts.nth(i).locator("canvas, svg").count() > 0 for i in range(n)):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"a chart was still not drawn after {timeout_s:.0f} s")


def _allocation_csv(page, path: Path, spend: float | None = None, timeout_s: float = 180.0):
    """Download the planner's allocation CSV (the table on screen, rounded as the planner writes it).

    With ``spend``: download again until the file spends that total (or fail after ``timeout_s``). Twice on fresh
    clones CI fetched the previous plan's file right after a budget change: the click landed while Streamlit was
    still redrawing the page, on the button left from the run before. The app serves the new plan once its run
    is done; what the test checks is that it does, not the instant it does."""
    import pandas as pd

    deadline = time.monotonic() + timeout_s
    tries = 0
    while True:
        tries += 1
        _settled(page)  # the buttons of the plan now on screen, not ones left from the run before
        prepare = page.get_by_role("button", name="Prepare the allocation CSV", exact=False)
        if tries == 1 or prepare.count() > 0:
            prepare.wait_for(timeout=120_000)
            prepare.click()
        page.get_by_role("button", name="Allocation (CSV)").wait_for(timeout=120_000)
        _settled(page)
        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("button", name="Allocation (CSV)").click()
        download.value.save_as(path)
        table = pd.read_csv(path)
        table.attrs["file_name"] = download.value.suggested_filename
        table.attrs["tries"] = tries
        if spend is None or abs(table["spend_period"].sum() - spend) <= 1:
            return table
        if time.monotonic() > deadline:
            raise AssertionError(
                f"after {tries} downloads in {timeout_s:.0f} s the allocation CSV still spends "
                f"{table['spend_period'].sum():,.0f}, not {spend:,.0f}"
            )
        page.wait_for_timeout(500)


def _metric(page, label: str) -> str:
    block = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return block.locator('[data-testid="stMetricValue"]').inner_text()


def _changed(page, label: str, before: str, timings: dict, name: str, timeout_s: float = 60.0) -> None:
    """Record ``name``: seconds until the metric ``label`` shows the new answer (something other than ``before``),
    and ``name_settled``: until the whole page has been redrawn (Streamlit's script run finished)."""
    t0 = time.perf_counter()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if name not in timings and _metric(page, label) != before:
                timings[name] = time.perf_counter() - t0
            if name in timings and page.locator('[data-testid="stStatusWidget"]').count() == 0:
                timings[f"{name}_settled"] = time.perf_counter() - t0
                return
        except Exception:  # the block is being redrawn
            pass
        page.wait_for_timeout(20)
    raise AssertionError(f"{label!r} still shows {before!r} or the page is still running after {timeout_s:.0f} s")


def _solve_seconds(page) -> float:
    """The server's own solve time, from the planner's caption ("Solved in 0.12 s · ...")."""
    text = page.get_by_text("Solved in", exact=False).first.inner_text()
    return float(text.split("Solved in", 1)[1].split("s", 1)[0])


def test_the_app_in_chromium(server, artifacts: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, started = server
    timings: dict[str, float] = {}
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        # nothing but the app's own server: a request elsewhere fails the test
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith((url, "data:", "blob:"))
                      else (errors.append(f"request to {route.request.url}"), route.abort()))  # fmt: skip
        page = context.new_page()
        page.on("pageerror", lambda err: errors.append(f"page error: {err}"))
        page.goto(url)
        page.get_by_text("Expected uplift", exact=False).first.wait_for(timeout=180_000)
        _settled(page, 180)
        timings["first_visit_s"] = time.perf_counter() - started
        # warm: a new browser session on the running server (models, curves and the allocator are cached)
        t0 = time.perf_counter()
        second = context.new_page()
        second.goto(url)
        second.get_by_text("Expected uplift", exact=False).first.wait_for(timeout=120_000)
        _settled(second, 60)
        timings["warm_visit_s"] = time.perf_counter() - t0
        second.close()

        for title, marker in PAGES.items():
            page.get_by_role("link", name=title).first.click()
            page.get_by_text(marker, exact=False).first.wait_for(timeout=120_000)
            _settled(page, 120)
            _charts_drawn(page)
            page.screenshot(path=str(artifacts / f"{title.lower().replace(' ', '_')}.png"), full_page=True)

        # Budget planner: a control change re-optimises; measured from the change to the new figure on screen
        page.get_by_role("link", name="Budget planner").first.click()
        _settled(page)
        allocation_before = _allocation_csv(page, artifacts / "allocation_before.csv")
        before = _metric(page, "Expected revenue")
        budget = page.get_by_label("Total budget for the period (EUR)")
        budget.fill("15000000")
        budget.press("Enter")
        _changed(page, "Expected revenue", before, timings, "reoptimise_mean_first_s")
        timings["reoptimise_mean_first_solve_s"] = _solve_seconds(page)
        # the allocation table itself (a canvas grid on screen) through its download: it now spends 15,000,000
        _settled(page)
        allocation_after = _allocation_csv(page, artifacts / "allocation_after.csv", spend=15_000_000)
        timings["allocation_after_downloads"] = allocation_after.attrs["tries"]
        assert allocation_after["spend_period"].sum() == pytest.approx(15_000_000, abs=1)
        assert allocation_before["spend_period"].sum() != pytest.approx(15_000_000, abs=1)
        assert allocation_after.attrs["file_name"] != allocation_before.attrs["file_name"]  # named by plan
        changed = (allocation_after["spend_period"] != allocation_before["spend_period"]).sum()
        assert changed > len(allocation_after) // 2, changed
        before = _metric(page, "Expected revenue")
        budget.fill("17000000")
        budget.press("Enter")
        _changed(page, "Expected revenue", before, timings, "reoptimise_mean_s")
        timings["reoptimise_mean_solve_s"] = _solve_seconds(page)
        # CVaR: switching the risk re-solves (default λ), then a larger λ re-solves again; the plan's marginal ROI
        # (two decimals) is the figure that moves
        before = _metric(page, "Plan's marginal ROI")
        page.get_by_text("cvar", exact=True).first.click()
        _changed(page, "Plan's marginal ROI", before, timings, "switch_to_cvar_s")
        timings["switch_to_cvar_solve_s"] = _solve_seconds(page)
        before = _metric(page, "Plan's marginal ROI")
        lam = page.get_by_label("λ (weight of the bad tail)")
        lam.fill("3.0")
        lam.press("Enter")
        _changed(page, "Plan's marginal ROI", before, timings, "reoptimise_cvar_s")
        timings["reoptimise_cvar_solve_s"] = _solve_seconds(page)
        # the marginal-dollar ladder, on demand (two more re-solves)
        page.get_by_text("Show the marginal-dollar ladder", exact=False).first.click()
        page.get_by_text("what goes first", exact=False).first.wait_for(timeout=120_000)
        _settled(page)
        _charts_drawn(page)
        page.screenshot(path=str(artifacts / "budget_planner_cvar.png"), full_page=True)

        # the Excel workbook of the current scenario, downloaded
        page.get_by_role("button", name="Build the report (HTML and Excel)").click()
        page.get_by_role("button", name="Report (Excel)").wait_for(timeout=120_000)
        with page.expect_download(timeout=120_000) as download:
            page.get_by_role("button", name="Report (Excel)").click()
        workbook = artifacts / "report.xlsx"
        download.value.save_as(workbook)
        assert workbook.read_bytes()[:2] == b"PK"

        # save the scenario and find it on the Scenarios page
        page.get_by_role("link", name="Scenarios").first.click()
        _settled(page)
        page.get_by_label("Name").fill("browser test scenario")
        page.get_by_role("button", name="Save scenario").click()
        _settled(page)
        page.get_by_text("browser test scenario", exact=False).first.wait_for(timeout=60_000)
        page.screenshot(path=str(artifacts / "scenarios_saved.png"), full_page=True)
        browser.close()
    (artifacts / "browser_timings.json").write_text(json.dumps(timings, indent=2))
    print(json.dumps(timings, indent=2))
    assert not errors, errors
    for name in ("overview", "budget_planner", "scenarios", "scenarios_saved"):
        assert (artifacts / f"{name}.png").stat().st_size > 20_000, name
