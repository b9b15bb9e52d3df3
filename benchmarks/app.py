"""How long the app takes in a real browser, and the screenshots in docs/.

    python -m benchmarks.app [--json results.json]

Starts `streamlit run app.py` with an empty recsys home (a first start: the default model is built), then
again with that home (a later start), in Debian's headless Chromium; times each start to the first
results and the browser round trip of searches in the running app (median), and saves a 1280×800
screenshot of each page under docs/. Needs the dev extra (playwright) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.browser import CHROMIUM, FLAGS, App, first_results, go, index_upload, search, settle, start_job
from benchmarks.common import ROOT, machine

DOCS = ROOT / "docs"
SEARCHES = ["haunted house horror", "heist gone wrong", "90s romantic comedy", "documentary about music",
            "animated series for kids", "time travel", "space adventure with aliens"]  # fmt: skip


def shot(page, name: str) -> None:
    """Save a screenshot of the page as docs/NAME.png once it has finished drawing."""
    settle(page)
    page.wait_for_timeout(500)  # charts finish drawing after the run ends
    page.screenshot(path=str(DOCS / f"{name}.png"))


def timed_start(browser, home: Path) -> tuple[App, object, float]:
    """Start the app and search once; the app, the page and the seconds from start to marked results."""
    started = time.monotonic()
    app = App(home)
    page = first_results(browser, app, "sci-fi about aliens")
    return app, page, time.monotonic() - started


def screenshots(page, small_catalog: Path) -> None:
    """Visit every page and take its picture."""
    shot(page, "search")
    page.get_by_text("Why this match").first.click()
    page.get_by_text("Query, for this title:").wait_for()
    page.get_by_text("Why this match").first.evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "why-this-match")
    page.get_by_role("button", name="♡ Like").first.click()
    page.get_by_role("button", name="♥ Liked").first.wait_for()
    go(page, "Recommendations")
    page.get_by_role("button", name="Recommend from my likes").click()
    page.get_by_text("Because you liked").nth(9).wait_for()
    shot(page, "recommendations")
    go(page, "Evaluate")
    page.get_by_role("button", name="Or use genre queries made from this catalog's labels").click()
    page.get_by_text("genre queries from the catalog's labels").wait_for(timeout=300_000)
    shot(page, "evaluate")
    go(page, "Retrain")
    start_job(page, "Start retraining", re.compile("Training…|Done in"))
    page.get_by_text("Done in").wait_for(timeout=600_000)
    shot(page, "retrain")
    go(page, "Catalog")
    index_upload(page, small_catalog)
    shot(page, "catalog")


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    timings = {}
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        home = Path(folder) / "home"
        app, page, timings["first_start_to_results_s"] = timed_start(browser, home)
        app.stop()
        app, page, timings["later_start_to_results_s"] = timed_start(browser, home)
        rounds = []
        for query in SEARCHES:
            started = time.monotonic()
            search(page, query)
            rounds.append(time.monotonic() - started)
        timings["search_in_running_app_median_s"] = statistics.median(rounds)
        upload = Path(folder) / "my-catalog.csv"
        shutil.copy(ROOT / "tests" / "data" / "small.csv", upload)
        screenshots(page, upload)
        app.stop()
        browser.close()
    report = {"timings": {k: round(v, 2) for k, v in timings.items()}, "searches": len(SEARCHES), "machine": machine()}
    print(json.dumps(report, indent=1))
    (DOCS / "app-timings.json").write_text(json.dumps(report, indent=1) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
