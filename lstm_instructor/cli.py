"""The instructor's command line: ``python -m lstm_instructor COMMAND ...``.

    python -m lstm_instructor student-edition OUT_DIR [--repository URL]
    python -m lstm_instructor grade SUBMISSION.ipynb ... --out grades.csv

Each command ends with one JSON line on standard output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lstm_course.cli.common import DescribedCommands, run_command


def _student_edition(args: argparse.Namespace) -> dict:
    from lstm_instructor.student_edition import write_student_edition

    return write_student_edition(args.out_dir, build=not args.no_build, repository=args.repository)


def _grade(args: argparse.Namespace) -> dict:
    from lstm_instructor.grading import grade, printable

    rows = grade(args.submissions, args.out, timeout=args.timeout, force=args.force, chapter=args.chapter,
                 memory_mib=args.memory_mib, sandboxed=not args.unsandboxed, time_multiple=args.time_multiple,
                 log=lambda line: print(line, file=sys.stderr, flush=True))
    names = {printable(str(path)) for path in args.submissions}  # the grades file's keys
    graded = [row for row in rows.values() if row["submission"] in names]
    return {"grades": str(args.out), "submissions": len(graded),
            "ok": sum(row["status"] == "ok" for row in graded)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lstm_instructor",
                                     description="The instructor's commands: the student edition and the autograder.")
    commands = DescribedCommands(parser.add_subparsers(dest="command", required=True))

    student = commands.add_parser("student-edition", help="write the student notebooks and book (no solutions)")
    student.add_argument("out_dir", type=Path, help="folder for the student edition (notebooks, _build/html)")
    student.add_argument("--no-build", action="store_true", help="write the notebooks only, skip the HTML book")
    student.add_argument("--repository", metavar="URL", help="where the student edition will be published (a "
                         "GitHub repository URL); its launch buttons point there. Without it: no launch buttons")
    student.set_defaults(run=_student_edition)

    grade = commands.add_parser("grade", help="run submitted notebooks in a sandbox and grade their exercises")
    grade.add_argument("submissions", type=Path, nargs="+", metavar="SUBMISSION.ipynb")
    grade.add_argument("--out", type=Path, required=True, help="grades.csv to write (rows, and columns you "
                       "added, kept across runs; not a symbolic link)")
    grade.add_argument("--chapter", help="grade every submission as this chapter (e.g. 04_cell_state_update); "
                       "default: the chapter its file's name or folder names (06_lstm_from_scratch.ipynb, "
                       "06_lstm_from_scratch/alice.ipynb), never its metadata's, which must agree")
    grade.add_argument("--timeout", type=float, default=1800.0, help="seconds per submission (default 1800)")
    grade.add_argument("--memory-mib", type=int, default=None, help="memory per submission (default 6144 MiB)")
    grade.add_argument("--time-multiple", type=float, default=20.0, help="the timed tests' limit on backward "
                       "passes, in multiples of the reference answer's time on the same inputs, plus 1 s "
                       "(default 20; raise it on a heavily loaded machine)")
    grade.add_argument("--unsandboxed", action="store_true", help="grade without bubblewrap or control groups "
                       "(not for marks: submissions then run with your rights)")
    grade.add_argument("--force", action="store_true", help="regrade submissions already in --out")
    grade.set_defaults(run=_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)
