"""The HTML book builds with warnings as errors, from the committed notebook outputs."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_book_builds_without_warnings(tmp_path):
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", str(ROOT), "--path-output", str(tmp_path), "-W", "--keep-going"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-5000:]

    html = tmp_path / "_build" / "html"
    chapter = (html / "chapters" / "01_why_rnns_forget.html").read_text()
    # sphinx-exercise rendered every exercise, and every solution as a collapsed dropdown
    assert chapter.count('class="exercise admonition"') >= 3
    assert chapter.count('class="solution dropdown admonition"') == chapter.count('class="exercise admonition"')
    assert "Bengio" in chapter  # citations resolved against references.bib
    assert (html / "bibliography.html").exists()
    shutil.rmtree(tmp_path / "_build" / ".doctrees", ignore_errors=True)
