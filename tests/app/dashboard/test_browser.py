"""A real browser on a real dashboard: Debian chromium, driven by Playwright, loads every
page of `gridshift dashboard` started on loopback, checks the key elements and that no
error shows, and saves a screenshot of each page as a test artefact
($GRIDSHIFT_ARTIFACTS, default build/test-artifacts)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.dashboard import fmt
from app.store import Store
from tests.app.dashboard.conftest import PAGES

pytestmark = pytest.mark.real_component

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[3]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# `gridshift dashboard` as app/cli.py registers it, or the command alone until it does
RUNNER = ("import typer\nfrom app.cli import app\nfrom app.commands import dashboard\n"
          "if not any((c.name or c.callback.__name__) == 'dashboard' "
          "for c in app.registered_commands):\n    dashboard.register(app)\napp()\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _artefacts() -> Path:
    root = Path(os.environ.get("GRIDSHIFT_ARTIFACTS") or REPO / "build" / "test-artifacts")
    out = root / "dashboard"
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def sync_playwright():
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("python playwright is not installed: pip install playwright "
                    "(the browser is Debian's chromium; never `playwright install`)")
    return sync_playwright


@pytest.fixture
def server(demo_url, dashboard_env, tmp_path):
    """`gridshift dashboard --db <the demo store>` on a free loopback port."""
    dashboard_env()
    port, log_path = _free_port(), tmp_path / "dashboard.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-c", RUNNER, "dashboard", "--db", demo_url,
                                 "--host", "127.0.0.1", "--port", str(port)], cwd=tmp_path,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        try:
            yield _healthy(f"http://127.0.0.1:{port}", proc, log_path)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the group of the process started here
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _healthy(url: str, proc: subprocess.Popen, log_path: Path) -> str:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not come up:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.3)


def _settled(page) -> None:
    page.wait_for_selector("h1", timeout=120_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=120_000)
    # placeholders of elements still being drawn must be gone before the screenshot
    page.wait_for_function(
        "document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0",
        timeout=60_000)
    page.wait_for_timeout(1500)


def test_every_page_loads_in_chromium_without_an_error(sync_playwright, server, demo_url):
    store = Store(demo_url)
    stored = store.load_plan()
    store.close()
    shots = _artefacts()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        try:
            for name, title in PAGES.items():
                page.goto(f"{server}/{'' if name == 'overview' else name}")
                _settled(page)
                if name not in ("overview", "teams"):
                    page.wait_for_selector(".js-plotly-plot", timeout=180_000)
                page.screenshot(path=str(shots / f"{name}.png"))
                assert page.locator("h1").first.inner_text() == title
                assert page.locator('[data-testid="stException"]').count() == 0, name
                assert page.locator('[data-testid="stAlertContentError"]').count() == 0, name
                check = CHECKS[name]
                check(page, stored)
        finally:
            browser.close()


def _overview(page, stored) -> None:
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    for label in ("Energy", "Location-based CO2e", "Market-based CO2e", "Cost"):
        assert label in labels
    cost = page.locator('[data-testid="stMetric"]', has_text="Cost").first
    value = cost.locator('[data-testid="stMetricValue"]').inner_text()
    assert value == fmt.usd(stored.plan.totals.cost_usd)


def _timeline(page, stored) -> None:
    bars = page.locator(".js-plotly-plot .barlayer .point")
    assert bars.count() == len(stored.all_assignments)
    bars.first.hover(force=True)
    hover = page.locator(".js-plotly-plot .hoverlayer .hovertext")
    hover.first.wait_for(timeout=10_000)
    assert "why:" in hover.first.text_content()  # the explanation is in the hover


def _carbon(page, stored) -> None:
    assert page.get_by_text("Grid intensity behind the plan").count() == 1
    assert page.locator(".js-plotly-plot .hm").count() >= 1  # the region x hour heatmap


def _capacity(page, stored) -> None:
    series = {f"{a.cluster}/{a.accelerator}" for a in stored.all_assignments}
    assert page.locator(".js-plotly-plot").count() >= len(series)


def _tradeoffs(page, stored) -> None:
    assert page.locator('[data-testid="stSlider"]').count() >= 2
    assert page.locator(".js-plotly-plot .scatterlayer").count() >= 1


def _teams(page, stored) -> None:
    assert page.locator('[data-testid="stDownloadButton"]').count() == 2
    assert page.locator(".js-plotly-plot").count() == 1


CHECKS = {"overview": _overview, "timeline": _timeline, "carbon": _carbon,
          "capacity": _capacity, "tradeoffs": _tradeoffs, "teams": _teams}
