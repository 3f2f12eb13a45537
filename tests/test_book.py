"""The HTML book builds with warnings as errors, from the committed notebook outputs."""

import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

from lstm_course.book import build_book

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_without_warnings(tmp_path):
    html = build_book(ROOT, path_output=tmp_path)  # raises, with the build log, on any warning
    chapter = (html / "chapters" / "01_why_rnns_forget.html").read_text()
    # sphinx-exercise rendered every exercise, and every solution as a collapsed dropdown
    assert chapter.count('class="exercise admonition"') >= 3
    assert chapter.count('class="solution dropdown admonition"') == chapter.count('class="exercise admonition"')
    assert "Bengio" in chapter  # citations resolved against references.bib
    assert (html / "bibliography.html").exists()
    # Every page loads MathJax from the book itself, none from a CDN (readers offline, and CI, see equations)
    assert (html / "_static" / "mathjax" / "tex-mml-chtml.js").exists()
    for page in html.rglob("*.html"):
        text = page.read_text()
        assert "cdn.jsdelivr" not in text and "cdnjs" not in text, page
        if "\\(" in text or "\\[" in text or "math notranslate" in text:
            assert "_static/mathjax/tex-mml-chtml.js" in text, page
    assert broken_internal_links(html) == []
    shutil.rmtree(tmp_path / "_build" / ".doctrees", ignore_errors=True)


class _LinksAndIds(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


def broken_internal_links(html_dir: Path) -> list[str]:
    """Every link inside the book whose target file, or whose #anchor in that file, does not exist."""
    pages = {}
    for page in html_dir.rglob("*.html"):
        parser = _LinksAndIds()
        parser.feed(page.read_text())
        pages[page.resolve()] = parser
    broken = []
    for page, parser in pages.items():
        for link in parser.links:
            parsed = urlparse(link)
            if parsed.scheme or parsed.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parsed.path)).resolve() if parsed.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(html_dir.resolve())}: {link} (no such file)")
            elif parsed.fragment and target in pages and unquote(parsed.fragment) not in pages[target].ids:
                broken.append(f"{page.relative_to(html_dir.resolve())}: {link} (no such anchor)")
    return broken


def test_the_link_check_finds_missing_pages_and_anchors(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#there">ok</a> <a href="b.html#nowhere">x</a>'
                                     ' <a href="c.html">y</a> <a href="https://example.org/z.html">external</a>')
    (tmp_path / "b.html").write_text('<h1 id="there">B</h1>')
    assert broken_internal_links(tmp_path) == ["a.html: b.html#nowhere (no such anchor)",
                                               "a.html: c.html (no such file)"]
