"""A chapter's code cells as one Python script, for machines without Jupyter (such as a lent GPU machine).

    .venv/bin/python tools/notebook_as_script.py chapters/15_scaling_up.ipynb > /tmp/chapter.py
    cd chapters && MPLBACKEND=Agg python /tmp/chapter.py

The script runs the cells in order, in one namespace, from the ``chapters/`` folder as Jupyter
would. Before each cell it prints ``# cell N``; a cell whose last line is an expression prints
that value's ``repr`` unless it is ``None``, as Jupyter shows it. ``notebook.glue`` does nothing
without MyST-NB, and figures are not shown (``MPLBACKEND=Agg``). A notebook with IPython magics
(``%``, ``!``) is refused with a one-line error: a script cannot run them.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat

PRELUDE = '''def _show(value):
    if value is not None:
        print(repr(value))
'''


def cell_as_script(source: str, number: int) -> str:
    """One cell's source, preceded by a print of its number, its last expression shown as Jupyter would."""
    for line in source.splitlines():
        if line.lstrip().startswith(("%", "!")):
            raise ValueError(f"cell {number}: {line.strip()!r} is IPython syntax, which a script cannot run")
    tree = ast.parse(source)
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        tree.body[-1] = ast.Expr(ast.Call(ast.Name("_show", ast.Load()), [last.value], []))
    return f"print('# cell {number}', flush=True)\n{ast.unparse(ast.fix_missing_locations(tree))}\n"


def notebook_as_script(path: Path) -> str:
    """Every code cell of the notebook at ``path``, in order, as one script."""
    notebook = nbformat.read(path, as_version=4)
    cells = [cell_as_script(cell.source, number) for number, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and cell.source.strip()]
    return PRELUDE + "\n".join(cells)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1 or not arguments[0].endswith(".ipynb"):
        print("usage: notebook_as_script.py CHAPTER.ipynb > SCRIPT.py", file=sys.stderr)
        return 2
    try:
        print(notebook_as_script(Path(arguments[0])))
    except (OSError, ValueError, SyntaxError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
