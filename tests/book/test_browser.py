"""The built book in a real browser: Debian's Chromium, driven by Playwright, offline.

Builds the book, serves ``_build/html`` on localhost, and opens every page with every request that
leaves localhost refused (as a reader without a connection, and as CI). On each page: MathJax
typeset every equation (no raw TeX left), every image loaded, no console errors. It also follows
the "next" links from the first chapter to the last, and searches for "forget gate". Screenshots of
the chapter pages are kept in ``_build/screenshots/``.

The course's diagrams are checked in light and dark mode (each loads, has alt text and a caption),
with screenshots of the gate chapters' diagrams in both modes in ``_build/screenshots/diagrams/``;
and chapter 2's forget-bias slider is moved, and its figure must redraw.
"""

import functools
import http.server
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from lstm_course.plumbing.book import build_book, toc_pages

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "_build" / "screenshots"
RAW_TEX = re.compile(r"\\[A-Za-z]+|\\[()\[\]{}]|\$[^$\s][^$]*\$|\$\$")
"""A TeX command (``\\tanh``), delimiter (``\\(``, ``\\{``) or a ``$...$`` pair: what a page shows where math failed."""
PROSE_TEXT = """() => {
    const article = document.querySelector("article").cloneNode(true);
    article.querySelectorAll("div.cell, pre, code, script, style, .math, mjx-container").forEach(e => e.remove());
    return article.textContent;
}"""
"""The article's text outside code cells, code and typeset math: where no TeX may be left."""

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


def open_page(browser, url: str, mode: str | None = None):
    """A page with every request off localhost refused; returns it and the lists of problems it collects.

    ``mode``: ``"light"`` or ``"dark"``, the book's colour mode, set as a reader's toggle would (the
    theme keeps it in ``localStorage``); ``None`` leaves the default (light).
    """
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    if mode is not None:
        page.add_init_script(f"window.localStorage.setItem('mode', '{mode}')")
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
    if mode is not None:
        assert page.evaluate("document.documentElement.dataset.theme") == mode
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
    prose = page.evaluate(PROSE_TEXT)
    raw = RAW_TEX.search(prose)
    assert raw is None, f"raw TeX in the prose: ...{prose[max(raw.start() - 80, 0):raw.end() + 80]}..."
    broken = page.evaluate("() => [...document.images].filter(i => !i.complete || !i.naturalWidth).map(i => i.src)")
    assert broken == []
    assert problems["console"] == []
    if name.startswith("chapters/"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / (Path(name).stem + ".png")))
    page.close()
    assert problems["external"] == [], problems["external"]  # the page asked for nothing outside the book


@pytest.mark.parametrize(("paragraph", "raw"), [
    (r"its score is <em>additive</em>, $v^\top \tanh(W q + U \bar h_s)$, a small network", True),  # chapter 12's
    (r"the output is \(\mathrm{softmax}(z)\) as before", True),
    (r"the output is <span class='math'>\(\mathrm{softmax}(z)\)</span> as before, for $3 a line", False),
])
def test_the_raw_tex_check_finds_math_that_was_not_typeset(browser, paragraph, raw):
    page = browser.new_page()
    page.set_content(f"<article><p>{paragraph}</p><div class='cell'><pre>print('\\n', r'\\tanh')</pre></div>"
                     f"<p>a name in code: <code>\\sigma</code></p></article>")
    assert bool(RAW_TEX.search(page.evaluate(PROSE_TEXT))) == raw
    page.close()


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


DIAGRAM_CHAPTERS = ["01_why_rnns_forget", "02_forget_gate", "03_input_gate_and_candidate", "04_cell_state_update",
                    "05_output_gate", "06_lstm_from_scratch", "07_lstm_in_pytorch", "09_variants",
                    "10_language_model", "11_sequence_labelling", "12_sequence_to_sequence", "13_forecasting",
                    "14_lstm_and_transformers", "15_scaling_up"]
GATE_CHAPTERS = DIAGRAM_CHAPTERS[1:5]
DIAGRAM_SCREENSHOTS = SCREENSHOTS / "diagrams"


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("stem", DIAGRAM_CHAPTERS)
def test_diagrams_load_with_alt_text_and_caption(site, browser, stem, mode):
    page, problems = open_page(browser, f"{site}/chapters/{stem}.html", mode=mode)
    images = page.evaluate("""() => [...document.querySelectorAll('img.diagram')].map(image => ({
        loaded: image.complete && image.naturalWidth > 0, alt: image.alt,
        caption: image.closest('figure')?.querySelector('figcaption')?.innerText || ''}))""")
    assert images, f"{stem}: no diagram on the page"
    for image in images:
        assert image["loaded"]
        assert len(image["alt"]) > 100 and not image["alt"].endswith(".png"), image["alt"]
        assert len(image["caption"]) > 80, image["caption"]
    if stem in GATE_CHAPTERS:
        DIAGRAM_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        figure = page.locator("figure:has(img.diagram)").first
        figure.scroll_into_view_if_needed()
        figure.screenshot(path=str(DIAGRAM_SCREENSHOTS / f"{stem}-{mode}.png"))
    page.close()
    assert problems["console"] == [] and problems["external"] == []


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_forget_bias_slider_redraws_the_figure(site, browser, mode):
    page, problems = open_page(browser, f"{site}/chapters/02_forget_gate.html", mode=mode)
    figure = page.locator("#forget-bias-explorer")
    slider, readout = figure.locator("input[type=range]"), figure.locator("[data-readout]")
    curves = ["survival", "gradient"]

    def state():
        points = [figure.locator(f'[data-curve="{curve}"]').get_attribute("points") for curve in curves]
        return points, readout.inner_text(), figure.locator("output").inner_text()

    before = state()
    assert before[2] == "1"
    slider.focus()
    for _ in range(3):  # three steps of 0.5, as a reader with the keyboard would
        slider.press("ArrowRight")
    after = state()
    assert after[2] == "2.5"
    assert after[0][0] != before[0][0] and after[0][1] != before[0][1]  # both panels redrawn
    assert after[1] != before[1] and "f = σ(b) = 0.924" in after[1]
    assert page.evaluate("getComputedStyle(document.getElementById('forget-bias-explorer')).backgroundColor") \
        == "rgb(255, 255, 255)"  # its own white background, in dark mode too
    DIAGRAM_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    figure.screenshot(path=str(DIAGRAM_SCREENSHOTS / f"forget_bias_explorer-{mode}.png"))
    page.close()
    assert problems["console"] == [] and problems["external"] == []
