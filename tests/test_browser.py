"""The built book in a real browser: Debian's Chromium, driven by Playwright, offline.

Builds the book, serves ``_build/html`` on localhost, and opens every page with every request that
leaves localhost refused (as a reader without a connection, and as CI). On each page: MathJax
typeset every equation (no raw TeX left), every image loaded, no console errors. It also follows
the "next" links from the first chapter to the last, and searches for "forget gate". Screenshots of
the chapter pages are kept in ``_build/screenshots/``.
"""

import functools
import http.server
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from lstm_course.book import build_book, toc_pages

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\\begin\{|\\frac|\\sigma")

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    html = build_book(ROOT, path_output=tmp_path_factory.mktemp("book"))
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM}: not found; `make test` installs Debian's chromium (apt-get)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def open_page(browser, url: str):
    """A page with every request off localhost refused; returns it and the lists of problems it collects."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = {"console": [], "external": []}
    page.on("console", lambda message: problems["console"].append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems["console"].append(str(error)))

    def refuse_external(route):
        if urlparse(route.request.url).hostname not in ("127.0.0.1", "localhost"):
            problems["external"].append(route.request.url)
            return route.abort()
        return route.continue_()

    page.route("**/*", refuse_external)
    page.goto(url, wait_until="load")
    return page, problems


def typeset(page) -> None:
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
    page.evaluate("() => MathJax.startup.promise")


PAGES = [f"{name}.html" for name in toc_pages(ROOT)]


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_offline(site, browser, name):
    page, problems = open_page(browser, f"{site}/{name}")
    math_elements = page.locator(".math").count()
    if math_elements:
        typeset(page)
        assert page.locator("mjx-container").count() >= math_elements
    visible_text = page.locator("article").inner_text()
    assert not RAW_TEX.search(visible_text), RAW_TEX.search(visible_text)
    broken = page.evaluate("() => [...document.images].filter(i => !i.complete || !i.naturalWidth).map(i => i.src)")
    assert broken == []
    assert problems["console"] == []
    if name.startswith("chapters/"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / (Path(name).stem + ".png")))
    page.close()
    assert problems["external"] == [], problems["external"]  # the page asked for nothing outside the book


def test_next_links_walk_through_the_chapters(site, browser):
    chapters = [name for name in PAGES if name.startswith("chapters/")]
    page, _ = open_page(browser, f"{site}/{chapters[0]}")
    for expected in chapters[1:]:
        page.locator("a.right-next").first.click()
        page.wait_for_load_state("load")
        assert page.url.endswith(expected), (page.url, expected)
    page.close()


def test_search_finds_the_forget_gate(site, browser):
    page, problems = open_page(browser, f"{site}/search.html?q=forget+gate")
    page.wait_for_selector("#search-results li", timeout=30_000)
    results = page.locator("#search-results li").all_inner_texts()
    assert any("forget" in result.lower() for result in results), results
    assert problems["external"] == []
    page.close()
