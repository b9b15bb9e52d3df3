"""The app in a real browser: `streamlit run app.py` driven by Playwright in Debian's headless Chromium.

In a recsys home that holds the default model (built once for the whole suite) it types queries, opens an
explanation, likes titles and gets recommendations, evaluates, retrains, uploads a catalog and searches it.
The first start, which builds the default model, is timed (with the screenshots in docs/) by
``python -m benchmarks.app``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from benchmarks.browser import (
    CHROMIUM,
    FLAGS,
    QUERY_BOX,
    App,
    first_results,
    go,
    index_upload,
    search,
    set_slider,
    settle,
    start_job,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def home(default_model, tmp_path) -> Path:
    """A recsys home holding a copy of the default model, so the app starts as it does after its first start."""
    from recsys.default import default_model as built

    home = tmp_path / "home"
    shutil.copytree(built(), home / "models" / "default")
    return home


def test_the_app_end_to_end_in_a_browser(browser, home, tmp_path, small_catalog_path):
    app = App(home)
    try:
        page = first_results(browser, app, "sci-fi about aliens")
        page.get_by_text("genre: Science Fiction, from 'sci-fi'").first.wait_for()
        page.locator("p:visible", has_text="Science Fiction").nth(4).wait_for()  # five cards of the genre, or more
        marks = page.locator("mark")
        marks.nth(19).wait_for()  # at least twenty marked words
        assert "alien" in " ".join(marks.all_inner_texts()).lower()

        page.get_by_test_id("stSidebar").get_by_text("Español", exact=True).click()  # the app in Spanish
        page.get_by_role("heading", name="Buscar").wait_for()
        settle(page)
        box = page.get_by_label("¿Qué te apetece ver?")
        box.fill("ciencia ficción sobre extraterrestres")
        box.press("Enter")
        page.get_by_text("género: Ciencia ficción, de 'ciencia ficción'").first.wait_for()
        settle(page)
        page.locator("p:visible", has_text="Science Fiction").nth(4).wait_for()  # science-fiction titles
        typed = page.locator("p", has_text="Tu búsqueda").locator("mark")  # the shares on the words typed
        assert {"ciencia", "ficción", "extraterrestres"} & {mark.lower() for mark in typed.all_inner_texts()}
        page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
        page.get_by_role("heading", name="Search").wait_for()
        settle(page)

        for query in ["haunted house horror", "heist gone wrong", "documentary about music"]:
            search(page, query)
        page.get_by_text(re.compile(r"· (movie|series) · .*Documentary")).first.wait_for()  # a card of the genre

        page.get_by_text("Why this match").first.click()
        page.get_by_text("Query, for this title:").wait_for()
        page.locator("[data-testid=stVegaLiteChart]").first.wait_for()
        settle(page)

        page.get_by_role("button", name="♡ Like").first.click()
        page.get_by_role("button", name="♥ Liked").first.wait_for()
        settle(page)
        page.get_by_role("button", name="♡ Like").first.click()
        page.get_by_role("button", name="♥ Liked").nth(1).wait_for()
        go(page, "Recommendations")
        page.get_by_role("button", name="Recommend from my likes").click()
        page.get_by_text("Because you liked").nth(9).wait_for()  # all ten cards drawn
        assert page.get_by_text("Because you liked").count() == 10

        go(page, "Evaluate")
        page.get_by_role("button", name="Or use genre queries made from this catalog's labels").click()
        page.get_by_text("genre queries from the catalog's labels").wait_for(timeout=300_000)
        page.locator("canvas, svg").first.wait_for()

        go(page, "Retrain")
        set_slider(page, 2)  # epochs: two are enough to see a retrain through
        start_job(page, "Start retraining", re.compile("Training…|Done in"))
        page.get_by_text("Done in").wait_for(timeout=900_000)

        go(page, "Catalog")
        upload = tmp_path / "upload" / "my-catalog.csv"
        upload.parent.mkdir()
        shutil.copy(small_catalog_path, upload)
        index_upload(page, upload)
        assert page.get_by_text("14 titles read, 0 rows skipped").count() == 1
        page.get_by_text("Indexed 14 titles. The Search page now searches my-catalog.csv.").wait_for()

        go(page, "Search")
        box = page.get_by_label(QUERY_BOX)
        box.fill("alien creature on a ship")
        box.press("Enter")
        page.get_by_text("Star Harbor").first.wait_for()  # the uploaded catalog is what is searched now
    finally:
        app.stop()
