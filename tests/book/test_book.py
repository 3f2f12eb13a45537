"""The HTML book builds with warnings as errors, from the committed notebook outputs."""

import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import yaml

from lstm_course.plumbing.book import build_book

ROOT = Path(__file__).resolve().parents[2]


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
    # The licences, named in every page's footer, and their files there
    for page in [*html.glob("chapters/*.html"), *html.glob("course/*.html"), html / "intro.html"]:
        footer = page.read_text().partition('class="course-licence"')[2][:400]
        assert "CC BY 4.0" in footer and "MIT" in footer, page
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert "CC BY 4.0" in (ROOT / "LICENSE-TEXT.md").read_text()
    shutil.rmtree(tmp_path / "_build" / ".doctrees", ignore_errors=True)



def test_every_chapter_has_a_download_button_and_launch_buttons_once_the_repository_is_named(tmp_path):
    """The course has no public repository yet (``repository.url`` is empty); given one, the buttons appear."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["launch_buttons"]["colab_url"] and config["launch_buttons"]["binderhub_url"]
    config["repository"]["url"] = "https://github.com/example-org/lstm-course"
    config["sphinx"]["local_extensions"] = {name: str(ROOT / folder)  # paths in a config are relative to it
                                            for name, folder in config["sphinx"]["local_extensions"].items()}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
    html = build_book(ROOT, path_output=tmp_path / "out", config=tmp_path / "_config.yml")
    for page in sorted((html / "chapters").glob("*.html")):
        notebook = f"chapters/{page.stem}.ipynb"
        text = page.read_text()
        assert f'href="../_sources/{notebook}"' in text, f"{page.name}: no download button"
        assert f"https://colab.research.google.com/github/example-org/lstm-course/blob/main/{notebook}" in text
        assert f"https://mybinder.org/v2/gh/example-org/lstm-course/main?urlpath=tree/{notebook}" in text
    shutil.rmtree(tmp_path / "out" / "_build" / ".doctrees", ignore_errors=True)

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
