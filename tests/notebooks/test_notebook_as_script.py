"""tools/notebook_as_script.py: a chapter run as a plain script (how a GPU machine without Jupyter runs one)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from notebook_as_script import cell_as_script, notebook_as_script  # noqa: E402


def test_a_chapter_runs_as_a_script_with_its_cells_marked(tmp_path):
    script = tmp_path / "chapter.py"
    script.write_text(notebook_as_script(ROOT / "chapters" / "03_input_gate_and_candidate.ipynb"))
    completed = subprocess.run([sys.executable, str(script)], cwd=ROOT / "chapters", capture_output=True, text=True,
                               env=os.environ | {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "# cell 1\n" in completed.stdout and "PASS  write_backward" in completed.stdout


def test_the_last_expression_is_shown_as_jupyter_shows_it(capsys):
    namespace = {}
    exec(notebook_as_script.__globals__["PRELUDE"] + cell_as_script("x = 2\nx * 21", 7) + cell_as_script("None", 8),
         namespace)
    assert capsys.readouterr().out == "# cell 7\n42\n# cell 8\n"


@pytest.mark.parametrize("line", ["%timeit f()", "!pip install torch"])
def test_ipython_syntax_is_a_one_line_error(line):
    with pytest.raises(ValueError, match="cell 3: .* is IPython syntax"):
        cell_as_script(f"x = 1\n{line}", 3)
