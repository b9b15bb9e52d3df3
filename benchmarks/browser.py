"""Driving the app in a real browser: `streamlit run app.py` served on a free port, Debian's headless Chromium.

Shared by ``tests/test_browser.py`` (what the app does) and ``benchmarks/app.py`` (how long it takes, and
the screenshots in docs/). Every step waits for the state it needs before it acts: a Streamlit page reruns
its script after each input, and an element clicked while the page is still running belongs to the
previous run and may vanish with the click.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from benchmarks.common import ROOT, answers, free_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
QUERY_BOX = "What would you like to watch?"
# The page has finished a run: no "Running…" status, no element left over from the previous run.
SETTLED = """() => !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-stale="true"]')"""
CAPTION_CHANGED = """before => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
    .some(c => c.innerText.includes('results in') && c.innerText !== before)"""


class App:
    """A `streamlit run app.py` server on a free port, with its own recsys home (where models are built)."""

    def __init__(self, home: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "RECSYS_HOME": str(home)}
        command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(self.port),
                   "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def wait_until_up(self, timeout: float = 120.0) -> None:
        """Wait for the server's health check to answer."""
        if not answers(f"{self.url}/_stcore/health", timeout):
            raise AssertionError(f"the app did not start: {self.process.stderr.read1().decode()[-2000:]}")

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        self.process.wait(timeout=30)


def settle(page, timeout: float = 120_000) -> None:
    """Wait until the page has finished its current run."""
    page.wait_for_function(SETTLED, timeout=timeout)


def first_results(browser, app: App, query: str, timeout: float = 1_200_000):
    """Open the app, search, wait for the results with their marked words; return the page."""
    app.wait_until_up()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(180_000)  # a busy machine reruns a page slowly; a step still waits for its state
    page.goto(app.url)
    box = page.get_by_label(QUERY_BOX)
    box.wait_for(timeout=timeout)  # a first start builds the default model before the page is drawn
    box.fill(query)
    box.press("Enter")
    page.locator("mark").first.wait_for(timeout=120_000)
    settle(page)
    return page


def search(page, query: str, tries: int = 3) -> None:
    """Type a query in the running app and wait until its results are drawn.

    A rerun still drawing the previous page (after a language switch, say) can redraw the box with the old
    query between typing and Enter; Enter then submits nothing new, so the query is typed again. Before the
    last try the page is loaded afresh (a new session, with no results yet), in case the old one is stuck.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # the dev extra installs playwright

    before = page.get_by_text("results in").first.inner_text()
    box = page.get_by_label(QUERY_BOX)
    for attempt in range(tries):
        if attempt == tries - 1 and attempt:
            page.reload()
            box.wait_for()
            before = ""  # a fresh session shows no results until the query is typed
        settle(page)
        box.fill(query)
        box.press("Enter")
        try:
            page.wait_for_function(CAPTION_CHANGED, arg=before, timeout=60_000)
            settle(page)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"typing {query!r} {tries} times did not change the results")


def start_job(page, button: str, started, tries: int = 3) -> None:
    """Click a button that starts a background job until the page shows the job started (``started``).

    A click that lands while the page is rerunning can be lost with the run; the button is disabled once
    the job runs, so clicking again never starts a second job.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # the dev extra installs playwright

    for _ in range(tries):
        settle(page)
        page.get_by_role("button", name=button).click()
        try:
            page.get_by_text(started).first.wait_for(timeout=60_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"clicking {button!r} {tries} times did not start the job")


def set_slider(page, value: int, which: int = 0) -> None:
    """Move the page's ``which``-th slider (an ``input type=range``) to ``value`` with the keyboard."""
    thumb = page.get_by_role("slider").nth(which)
    settle(page)
    thumb.focus()
    thumb.press("Home")
    for _ in range(value - int(thumb.get_attribute("min"))):
        thumb.press("ArrowRight")
    page.wait_for_function("([thumb, value]) => thumb.value === value", arg=[thumb.element_handle(), str(value)])
    settle(page)


def index_upload(page, catalog: Path) -> None:
    """On the Catalog page, upload a catalog file and index it; wait until the app serves it."""
    page.locator("input[type=file]").set_input_files(str(catalog))
    page.get_by_text("titles read").wait_for()
    start_job(page, "Index this catalog", re.compile("Indexing…|Indexed"))
    page.get_by_text("Indexed").wait_for(timeout=300_000)


def go(page, name: str) -> None:
    """Open a page from the sidebar and wait for its heading."""
    settle(page)
    page.get_by_test_id("stSidebar").get_by_text(name, exact=True).click()
    heading = name if name != "Recommendations" else "Recommendations from your likes"
    page.get_by_role("heading", name=heading).wait_for()
    settle(page)
