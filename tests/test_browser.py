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
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\\begin\{|\\frac|\\sigma")

def toc_pages() -> list[str]:
    def files(entries):
        for entry in entries:
            if "file" in entry:
                yield entry["file"]
            for key in ("parts", "chapters", "sections"):
                yield from files(entry.get(key, []))

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [f"{toc['root']}.html", *(f"{name}.html" for name in files(toc["parts"]))]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    completed = subprocess.run([str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "--keep-going"],
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:]
    handler = functools.partial(_QuietHandler, directory=str(out / "_build" / "html"))
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


@pytest.mark.parametrize("name", toc_pages())
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
    chapters = [name for name in toc_pages() if name.startswith("chapters/")]
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
