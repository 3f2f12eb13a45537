"""The autograder against hostile students: every attack a reviewer tried is a submission here.

Each attack is graded in one batch beside honest submissions. An attack scores nothing it did not
solve, changes no file outside its sandbox and leaves no process behind; the honest submissions beside
it keep their full marks.
"""

import contextlib
import csv
import hashlib
import inspect
import io
import json
import os
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lstm_course.exercises import checks, exercise_inputs
from lstm_instructor import exchange, grading, reference_answers, sandbox
from lstm_instructor.cli import main
from lstm_instructor.student_edition import student_notebook

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = "04_cell_state_update"
NAME = grading.implement_exercises()[CHAPTER][0]
TWO_EXERCISES = "01_why_rnns_forget"
TIMEOUT = 15

needs_bubblewrap = pytest.mark.skipif(
    sandbox.bubblewrap() is None and not os.environ.get("CI"),
    reason="bubblewrap is not installed (make test installs it; CI fails instead of skipping)")


def honest_code(chapter: str = CHAPTER) -> str:
    """The instructor's solution cells: what an honest, correct student writes."""
    return "\n\n".join(reference_answers.solution_sources(ROOT / "chapters" / f"{chapter}.ipynb"))


def write_submission(folder: Path, name: str, *cells: str, chapter: str | None = CHAPTER) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    if chapter:
        notebook.metadata["lstm_course"] = {"chapter": chapter}
    path = folder / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def row_key(path) -> str:
    """A row's name in these tests: its file's stem, and its folder's name where that is a link of an attack."""
    path = Path(path)
    return f"{path.parent.name}/{path.stem}" if path.parent.name.startswith("linked_") else path.stem


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as file:
        return {row_key(row["submission"]): row for row in csv.DictReader(file)}


def fingerprint(paths) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in paths if path.is_file()}


def public_seed_lookup() -> str:
    """A function that answers the public check's inputs from a table and everything else with zeros."""
    reference = reference_answers.load(ROOT / "chapters" / f"{CHAPTER}.ipynb")[NAME]
    table = {}
    for trial in exercise_inputs.draw(NAME, np.random.default_rng(0)):
        key = repr(round(float(trial.kwargs["d_c"].flat[0]), 9))
        table[key] = {part: value.tolist() for part, value in reference(**trial.kwargs).items()}
    return f"""
import numpy as np
TABLE = {json.dumps(table)}
def {NAME}(d_c, c_prev, forget_gate, input_gate, candidate):
    known = TABLE.get(repr(round(float(d_c.flat[0]), 9)))
    if known:
        return {{part: np.array(value) for part, value in known.items()}}
    return {{part: np.zeros_like(d_c) for part in ("c_prev", "forget_gate", "input_gate", "candidate")}}
"""


ESCAPED_NAME = "honest_named_\x1b[2J\x1b]0;title\x07_with\na_newline"
LINK_ATTACKS = {  # name -> the reason its row must give
    "links_to_the_instructor_through_proc_self_cwd": "not a regular file but a symbolic link",
    "links_to_the_instructor": "not a regular file but a symbolic link",
    "links_to_another_submission": "not a regular file but a symbolic link",
    "links_to_dev_zero": "not a regular file but a symbolic link",
    "is_a_fifo": "not a regular file but a FIFO",
    "is_too_large": "bytes; expected a notebook of at most 64 MiB",
    "is_a_hard_link_to_another_submission": "is the same file as",
    f"linked_folder/{CHAPTER}": "is the instructor's chapters/",
    "linked_to_its_own_folder/honest": "is the same file as",  # graded first in the batch: it gains nothing
}


def link_attacks(folder: Path, victim: Path) -> list[Path]:
    """Submissions that are not a file of their own (:data:`LINK_ATTACKS`), in ``folder``."""
    paths = {name: folder / f"{name}.ipynb" for name in LINK_ATTACKS if "/" not in name}
    paths["links_to_the_instructor_through_proc_self_cwd"].symlink_to(f"/proc/self/cwd/chapters/{CHAPTER}.ipynb")
    paths["links_to_the_instructor"].symlink_to(ROOT / "chapters" / f"{CHAPTER}.ipynb")
    paths["links_to_another_submission"].symlink_to(victim)
    paths["links_to_dev_zero"].symlink_to("/dev/zero")
    os.mkfifo(paths["is_a_fifo"])
    with open(paths["is_too_large"], "wb") as file:  # sparse: 64 MiB and one byte, on no disk
        file.truncate(64 * sandbox.MIB + 1)
    os.link(victim, paths["is_a_hard_link_to_another_submission"])
    (folder / "linked_folder").symlink_to(ROOT / "chapters")
    paths[f"linked_folder/{CHAPTER}"] = folder / "linked_folder" / f"{CHAPTER}.ipynb"
    (folder / "linked_to_its_own_folder").symlink_to(folder)
    paths["linked_to_its_own_folder/honest"] = folder / "linked_to_its_own_folder" / victim.name
    return list(paths.values())


TABLE_LOOKUP = """
import numpy as np
from lstm_course.exercises import exercise_inputs
def complex_step_gradient(f, x, h):
    for name, function in exercise_inputs.FUNCTIONS.items():  # f itself, or a function equal to it at x
        if function is f or np.allclose(function(x), f(x)):
            return exercise_inputs.GRADIENTS[name](x)
    return np.zeros_like(x)
"""
"""Chapter 1's complex step answered from the public package's table of gradients."""


SCAN_CHAPTER, SCAN = "14_lstm_and_transformers", "doubling_scan"
CAPTURES_A_REFERENCE = f"""
from lstm_course.exercises import checks
captured = {{}}
def spy(exercise, candidate, reference, *args, **kwargs):
    captured["reference"] = reference
try:
    checks._check = spy
    checks.check_{SCAN}(None)
except Exception as error:
    print("no check to capture:", error)
{SCAN} = captured.get("reference")
"""
"""Chapter 14's public check's reference (the scan by its definition), captured and returned as the answer."""


JACOBIAN_BY_BACKWARD = """
import numpy as np
from lstm_course.scratch import numpy_rnn
def rnn_step_jacobian(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    hs, _, cache = numpy_rnn.rnn_forward(x_t[None], h_prev, W_ih, W_hh, b_ih, b_hh)
    rows = []
    for unit in range(h_prev.shape[1]):
        d_hs = np.zeros_like(hs)
        d_hs[0, :, unit] = 1.0
        rows.append(numpy_rnn.rnn_backward(d_hs, cache)["h0"])
    return np.stack(rows, axis=1)
"""
"""Chapter 1's Jacobian from the public package's backward pass, called once per hidden unit."""


GATE_BY_THE_RNN_BACKWARD = """
from lstm_course.scratch import numpy_rnn
def forget_gate_backward(d_f, x_t, h_prev, W_if, W_hf, b_if, b_hf):
    # sigmoid(a) = (1 + tanh(a / 2)) / 2: the RNN step on halved weights, its gradients halved
    _, _, cache = numpy_rnn.rnn_forward(x_t[None], h_prev, W_if / 2, W_hf / 2, b_if / 2, b_hf / 2)
    grads = numpy_rnn.rnn_backward((d_f / 2)[None], cache)
    return dict(x_t=grads["x"][0], h_prev=grads["h0"], W_if=grads["W_ih"] / 2, W_hf=grads["W_hh"] / 2,
                b_if=grads["b_ih"] / 2, b_hf=grads["b_hh"] / 2)
"""
"""Chapter 2's gate backward from the public RNN's backward pass, by a constant factor."""

PACKAGE_STEP = """
from lstm_course.scratch import {module}
def lstm_step_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    return (*{module}.lstm_step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh), None)
"""
PACKAGE_STEP_IN_A_LOOP = """
import numpy as np
from lstm_course.scratch import {module}
def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    h, c, hs = h0, c0, []
    for x_t in x:
        h, c = {module}.lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return np.stack(hs), None
"""
PACKAGE_FORWARD = """
from lstm_course.scratch import numpy_lstm
def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    return numpy_lstm.lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh)
"""
STEP_FROM_PIECES = """
from lstm_course.scratch import numpy_lstm as nl
def lstm_step_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    h, c, _ = nl._step_from_activations(nl.activate_gates(nl.affine(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)), c_prev)
    return h, c, None
"""
STEP_FROM_PLAIN_GATES = """
import numpy as np
from lstm_course.scratch import plain_lstm
def lstm_step_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    i, f, g, o = plain_lstm.lstm_gates(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)
    c = f * c_prev + i * g
    return o * np.tanh(c), c, None
"""
"""Chapter 6's step from the chapters 2 to 5 pieces the package keeps (a student's attack, issue 32)."""

PUBLIC_ANSWERS = {  # exercise -> code that answers it with the public package's functions
    "rnn_step_jacobian": [JACOBIAN_BY_BACKWARD,
                          JACOBIAN_BY_BACKWARD.replace("import numpy_rnn", "import numpy_rnn, plain_rnn")
                          .replace("numpy_rnn.rnn_backward(d_hs, cache)",
                                   "plain_rnn.rnn_backward(d_hs, x_t[None], h_prev, hs, W_ih, W_hh)")],
    "forget_gate_backward": [GATE_BY_THE_RNN_BACKWARD],
    "lstm_step_forward": [*(PACKAGE_STEP.format(module=module) for module in ("numpy_lstm", "plain_lstm")),
                          STEP_FROM_PIECES, STEP_FROM_PLAIN_GATES],
    "lstm_forward": [PACKAGE_FORWARD, *(PACKAGE_STEP_IN_A_LOOP.format(module=module)
                                        for module in ("numpy_lstm", "plain_lstm"))],
}
"""Every answer the audit of issue 32 found in the public package, by exercise (grading.WITHHELD's keys)."""


NUMERICAL_CHAPTER = "06_lstm_from_scratch"
COMPLEX_STEP_BACKWARD = """
import numpy as np

print("largest array in the task folder:", max(array.size for array in np.load("/grader/inputs.npz").values()))


def lstm_step_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    inputs = dict(x_t=x_t, h_prev=h_prev, c_prev=c_prev, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh)
    H = c_prev.shape[1]
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, f, o = (1 / (1 + np.exp(-a[:, k * H:(k + 1) * H])) for k in (0, 1, 3))
    c_t = f * c_prev + i * np.tanh(a[:, 2 * H:3 * H])
    return o * np.tanh(c_t), c_t, inputs


def lstm_step_backward(d_h, d_c, cache, step=1e-30):
    grads = {}
    for name, value in cache.items():
        grads[name] = np.zeros(value.shape)
        for index in np.ndindex(value.shape):
            perturbed = dict(cache, **{name: value.astype(complex)})
            perturbed[name][index] += 1j * step
            h_t, c_t, _ = lstm_step_forward(**perturbed)
            grads[name][index] = np.sum(d_h * h_t + d_c * c_t).imag / step
    return grads
"""
"""Chapter 6's step backward by the complex step of the student's own forward pass: exact, and one
forward pass per parameter (chapter 6's lstm_backward, which calls it, too)."""

CENTRAL_DIFFERENCES = """
import numpy as np


def forget_gate_backward(d_f, x_t, h_prev, W_if, W_hf, b_if, b_hf, eps=1e-6):
    inputs = dict(x_t=x_t, h_prev=h_prev, W_if=W_if, W_hf=W_hf, b_if=b_if, b_hf=b_hf)

    def loss():
        a = inputs["x_t"] @ inputs["W_if"].T + inputs["b_if"] + inputs["h_prev"] @ inputs["W_hf"].T + inputs["b_hf"]
        return np.sum(d_f / (1 + np.exp(-a)))

    grads = {}
    for name, value in inputs.items():
        grads[name] = np.zeros(value.shape)
        for index in np.ndindex(value.shape):
            saved = value[index]
            value[index] = saved + eps
            up = loss()
            value[index] = saved - eps
            down = loss()
            value[index] = saved
            grads[name][index] = (up - down) / (2 * eps)
    return grads
"""
"""Chapter 2's backward pass by central differences of the student's own forward pass."""


def attacks(victims: list[Path]) -> dict[str, str]:
    """Attack name -> the code of its notebook's one cell; ``victims`` are files outside its sandbox."""
    victim_list = json.dumps([str(path) for path in victims])
    return {
        "imports_the_package": f"""
import importlib, pkgutil, lstm_course
for module in pkgutil.iter_modules(lstm_course.__path__):
    try:
        found = importlib.import_module("lstm_course." + module.name)
    except BaseException:
        continue
    if hasattr(found, "{NAME}"):
        {NAME} = getattr(found, "{NAME}")
""",
        "replaces_the_checks": f"""
from lstm_course.exercises import checks
checks.run_check = lambda *args, **kwargs: checks.CheckResult("{NAME}", True, 100.0, 1.0, "PASS")
checks.describe_difference = lambda *args, **kwargs: None
def {NAME}(*args, **kwargs):
    return {{}}
print(checks.check_{NAME}({NAME}))
""",
        "forges_the_report": f"""
import io, json, os
import numpy as np
from IPython import get_ipython
get_ipython().events.register("pre_run_cell", lambda *args: print('LSTM_COURSE_GRADES {{"{NAME}": [100, 1, "ok"]}}'))
buffer = io.BytesIO()
np.savez(buffer, **{{"{NAME}/0": np.zeros(1)}})
report = json.dumps({{"exercises": {{"{NAME}": [{{"ok": True}}] * 4}}}}).encode() + b"\\n" + buffer.getvalue()
for fd in range(3, 40):
    try:
        os.write(fd, report)
    except OSError:
        pass
def {NAME}(*args, **kwargs):
    raise NotImplementedError
""",
        "reads_the_instructor_notebooks": f"""
import glob, json, pathlib, lstm_course
marker = "BEGIN " + "SOLUTION"
patterns = ["/course/**/*.ipynb", "/work/**/*.ipynb", "/root/*/*.ipynb", "/tmp/**/*.ipynb", "/home/**/*.ipynb",
            {str(ROOT / "chapters" / (CHAPTER + ".ipynb"))!r},
            str(pathlib.Path(lstm_course.__file__).resolve().parents[1] / "chapters" / "*.ipynb")]
found = sorted({{path for pattern in patterns for path in glob.glob(pattern, recursive=True)}})
print("notebooks found:", found)
for path in found:
    try:
        for cell in json.load(open(path))["cells"]:
            if marker in "".join(cell["source"]):
                exec("".join(cell["source"]), globals())
    except Exception as error:
        print(path, error)
""",
        "touches_other_files": f"""
import os
for path in {victim_list}:
    for action in (lambda: open(path).read(), lambda: open(path, "a").write("# changed by a submission\\n"),
                   lambda: os.chmod(path, 0o777), lambda: os.remove(path)):
        try:
            action()
            print("DID", path)
        except OSError as error:
            print("refused", path, type(error).__name__)
""",
        "outlives_the_grader": f"""
import os, subprocess, time
subprocess.Popen(["sleep", "1234.5"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        for path in {victim_list}:
            try:
                open(path, "w").write("forged afterwards")
            except OSError:
                pass
        os._exit(0)
    os._exit(0)
""",
        "ignores_its_timeout": """
import os, signal
os._exit = lambda *args: None
signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    pass
""",
        "returns_objects_equal_to_anything": f"""
class Equal:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
def {NAME}(*args, **kwargs):
    return {{part: Equal() for part in ("c_prev", "forget_gate", "input_gate", "candidate")}}
""",
        "answers_the_public_inputs": public_seed_lookup(),
        "kills_itself": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
        "sends_a_zip_that_is_not_npz": """
import io, os, sys, zipfile
archive = io.BytesIO()
with zipfile.ZipFile(archive, "w") as zipped:
    zipped.writestr("x.npy", b"not an npy file")
payload = b'{"cells": 1, "cell_errors": [], "exercises": {}}\\n' + archive.getvalue()
os.write(int(sys.argv[2]), len(payload).to_bytes(8, "big") + payload)
os._exit(0)
""",
        "sends_deeply_nested_json": "import os, sys\nos.write(int(sys.argv[2]), (100001).to_bytes(8, 'big') + b'[' * "
                                    "100000 + b'\\n')\nos._exit(0)",
        "raises_a_lone_surrogate": f"""
print("\\x1b[2J\\x1b]0;owned\\x07 a clear screen and a window title", "\\ud800")
def {NAME}(*args, **kwargs):
    raise ValueError("\\ud800 \\x1b[31m\\nforged line\\r\\u202e")
""",
        "prints_a_huge_line_then_dies": """
import os, sys
sys.stdout.flush()
sys.stdout.buffer.write(b"\\x1b[31m\\xed\\xa0\\x80\\x1b[0m" * (1 << 20))  # a lone surrogate's bytes: not UTF-8
sys.stdout.buffer.flush()
os.kill(os.getpid(), 9)
""",
        "answers_with_autograd": f"""
import numpy as np
import torch
def {NAME}(d_c, c_prev, forget_gate, input_gate, candidate):
    inputs = {{name: torch.tensor(value, requires_grad=True) for name, value in
              dict(c_prev=c_prev, forget_gate=forget_gate, input_gate=input_gate, candidate=candidate).items()}}
    c_t = inputs["forget_gate"] * inputs["c_prev"] + inputs["input_gate"] * inputs["candidate"]
    (c_t * torch.tensor(d_c)).sum().backward()
    return {{name: tensor.grad.numpy() for name, tensor in inputs.items()}}
""",
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    collection = tmp_path_factory.mktemp("submissions")
    folder = collection / CHAPTER  # the chapter comes from the folder: the grader decides it
    folder.mkdir()
    out = collection / "grades.csv"
    instructor = nbformat.read(ROOT / "chapters" / f"{CHAPTER}.ipynb", as_version=4)
    instructor.metadata["lstm_course"] = {"chapter": CHAPTER}
    nbformat.write(instructor, folder / "instructor.ipynb")
    nbformat.write(student_notebook(instructor), folder / "student.ipynb")
    honest = write_submission(folder, "honest", honest_code())
    later = write_submission(folder, "zz_honest_after_the_attacks", honest_code())
    victims = [honest, later, out, ROOT / "lstm_course" / "exercises" / "checks.py",
               ROOT / "chapters" / f"{CHAPTER}.ipynb", ROOT / "results" / "benchmarks.json"]
    out.write_text("submission,score,max_score,status\n")  # a grades file from an earlier run (kept: no rows)
    paths = [folder / "instructor.ipynb", folder / "student.ipynb", honest]
    for name, code in attacks(victims).items():
        paths.append(write_submission(folder, name, code))
        paths.append(write_submission(folder, f"honest_after_{name}", honest_code()))
    paths.append(write_submission(folder, "slow_but_within_limits", "import time\ntime.sleep(3)", honest_code()))
    paths.append(write_submission(folder, "honest_with_imports_after_torch",  # torch is hidden: the rest must import
                                  "import numpy as np\nimport torch\nfrom lstm_course.scratch import numpy_lstm",
                                  honest_code().replace("    ### BEGIN SOLUTION",
                                                        '    assert numpy_lstm.GATES == ("i", "f", "g", "o")\n'
                                                        "    ### BEGIN SOLUTION")))
    first_of_two = reference_answers.solution_sources(ROOT / "chapters" / f"{TWO_EXERCISES}.ipynb")[0]
    for name in (TWO_EXERCISES, "06_lstm_from_scratch", "unsorted", "02_forget_gate"):
        (collection / name).mkdir()
    paths.append(write_submission(collection / TWO_EXERCISES, "only_one_of_two", "import numpy as np", first_of_two,
                                  chapter=TWO_EXERCISES))
    paths.append(write_submission(collection / TWO_EXERCISES, "looks_up_the_tabulated_gradient", TABLE_LOOKUP,
                                  chapter=TWO_EXERCISES))
    paths.append(write_submission(collection / TWO_EXERCISES, "jacobian_by_the_public_backward",
                                  JACOBIAN_BY_BACKWARD, chapter=TWO_EXERCISES))
    paths.append(write_submission(collection / NUMERICAL_CHAPTER, "chapter_6_in_full", "import numpy as np",
                                  honest_code(NUMERICAL_CHAPTER), chapter=NUMERICAL_CHAPTER))
    paths.append(write_submission(collection / NUMERICAL_CHAPTER, "complex_step_backward", "import numpy as np",
                                  honest_code(NUMERICAL_CHAPTER), COMPLEX_STEP_BACKWARD, chapter=NUMERICAL_CHAPTER))
    paths.append(write_submission(collection / NUMERICAL_CHAPTER, "step_and_forward_by_the_package",
                                  "import numpy as np", honest_code(NUMERICAL_CHAPTER),
                                  PUBLIC_ANSWERS["lstm_step_forward"][1], PACKAGE_FORWARD, chapter=NUMERICAL_CHAPTER))
    paths.append(write_submission(collection / "02_forget_gate", "central_differences", CENTRAL_DIFFERENCES,
                                  chapter="02_forget_gate"))
    paths.append(write_submission(collection / "02_forget_gate", "gate_by_the_rnn_backward", GATE_BY_THE_RNN_BACKWARD,
                                  chapter="02_forget_gate"))
    paths.append(write_submission(collection / "02_forget_gate", "chapter_2_in_full", "import numpy as np",
                                  honest_code("02_forget_gate"), chapter="02_forget_gate"))
    (collection / SCAN_CHAPTER).mkdir()
    paths.append(write_submission(collection / SCAN_CHAPTER, "captures_a_checks_reference", CAPTURES_A_REFERENCE,
                                  chapter=SCAN_CHAPTER))
    paths.append(write_submission(collection / "unsorted", "no_chapter", honest_code()))  # its claim is not enough
    paths.append(write_submission(collection / "06_lstm_from_scratch", "claims_chapter_4", honest_code()))
    paths.append(write_submission(collection / "unsorted", f"{TWO_EXERCISES}-without_a_claim", "import numpy as np",
                                  first_of_two,
                                  chapter=None))
    attacks_by_link = link_attacks(folder, honest)
    paths = [attacks_by_link.pop(), *paths, *attacks_by_link]  # a linked folder gains nothing by coming first
    escaped = write_submission(folder, ESCAPED_NAME, honest_code())
    paths.append(escaped)
    (folder / "not_json.ipynb").write_text("{ this is not JSON")
    (folder / "not_a_notebook.ipynb").write_text(json.dumps({"name": "a JSON file"}))
    (folder / "deeply_nested.ipynb").write_text('{"cells": [], "metadata": {"x": ' + "[" * 100000 + "]" * 100000 + "}}")
    paths += [folder / "not_json.ipynb", folder / "not_a_notebook.ipynb", folder / "deeply_nested.ipynb", later]
    watched = [*victims[:2], *ROOT.joinpath("lstm_course").rglob("*.py"),
               *ROOT.joinpath("lstm_instructor").rglob("*.py"), *ROOT.joinpath("chapters").glob("*.ipynb"),
               *ROOT.joinpath("results").glob("*")]
    before = fingerprint(watched)
    started, terminal, here = time.monotonic(), io.StringIO(), os.getcwd()
    os.chdir(ROOT)  # as the README shows: /proc/self/cwd/chapters is then the instructor's
    try:
        with contextlib.redirect_stderr(terminal):
            assert main(["grade", *map(str, paths), "--out", str(out), "--timeout", str(TIMEOUT)]) == 0
    finally:
        os.chdir(here)
    seconds = time.monotonic() - started
    time.sleep(4)  # longer than the grandchild's wait: it would have written by now
    return {"rows": read_csv(out), "before": before, "after": fingerprint(watched), "seconds": seconds,
            "out": out, "paths": paths, "terminal": terminal.getvalue()}


pytestmark = needs_bubblewrap


def test_honest_submissions_get_full_marks_beside_every_attack(batch):
    rows = batch["rows"]
    honest = [name for name in rows if name.startswith("honest") or name in (
        "instructor", "zz_honest_after_the_attacks", "slow_but_within_limits")]
    assert len(honest) == len(attacks([])) + 6
    for name in honest:
        assert (rows[name]["status"], rows[name]["score"], rows[name]["max_score"]) == ("ok", "1", "1"), rows[name]


def test_every_attack_scores_zero(batch):
    rows = batch["rows"]
    for name in attacks([]):
        assert rows[name][NAME] == "0" and rows[name]["score"] == "0" and rows[name]["max_score"] == "1", rows[name]
    assert rows["student"]["feedback"] == f"{NAME}: not implemented yet"
    assert rows["ignores_its_timeout"]["status"] == f"timeout after {TIMEOUT} s"
    assert rows["kills_itself"]["status"].startswith("no result")
    assert rows["sends_a_zip_that_is_not_npz"]["status"].startswith("no result (x: not an array)")
    assert rows["sends_deeply_nested_json"]["status"].startswith("no result (an unreadable report)")
    assert "not defined" in rows["imports_the_package"]["feedback"]
    assert "not defined" in rows["reads_the_instructor_notebooks"]["feedback"]
    assert "expected numbers" in rows["returns_objects_equal_to_anything"]["feedback"]
    assert "differ" in rows["answers_the_public_inputs"]["feedback"]
    assert "torch" in rows["answers_with_autograd"]["feedback"]
  # PyTorch is hidden from chapter 4's grading


def test_links_devices_pipes_and_large_files_score_zero_with_their_reason(batch):
    rows = batch["rows"]
    for name, reason in LINK_ATTACKS.items():
        row = rows[name]
        assert (row["score"], row["max_score"]) == ("0", "1") and reason in row["status"], row


def test_the_grader_decides_the_chapter(batch):
    rows = batch["rows"]
    claims = rows["claims_chapter_4"]
    six = f'{len(grading.implement_exercises()["06_lstm_from_scratch"]):g}'
    assert (claims["chapter"], claims["score"], claims["max_score"]) == ("06_lstm_from_scratch", "0", six)
    assert claims["status"].startswith(f"its metadata says chapter {CHAPTER}, but it is graded as 06_lstm_from_scratch")
    named = rows[f"{TWO_EXERCISES}-without_a_claim"]
    assert (named["chapter"], named["status"], named["score"], named["max_score"]) == (TWO_EXERCISES, "ok", "1", "2")
    assert rows["honest"]["chapter"] == CHAPTER and rows["only_one_of_two"]["chapter"] == TWO_EXERCISES


def test_a_notebook_of_too_many_cells_is_refused_before_it_is_validated():
    """691,000 empty cells took 30 s and 1.5 GB of the grader's own process (a student's attack, issue 32)."""
    cell = {"cell_type": "code", "metadata": {}, "source": "", "outputs": [], "execution_count": None}
    notebook = {"cells": [cell] * (grading.MAX_CELLS + 1), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    started = time.monotonic()
    with pytest.raises(ValueError, match=f"invalid notebook: 2,001 cells; expected at most {grading.MAX_CELLS:,}"):
        grading.parse_submission(json.dumps(notebook).encode())
    assert time.monotonic() - started < 1
    notebook["cells"] = [cell] * 3
    assert len(grading.parse_submission(json.dumps(notebook).encode()).cells) == 3


def test_the_chapter_from_a_name_or_folder(tmp_path):
    place = grading.chapter_of_place
    assert place(Path(f"x/{CHAPTER}.ipynb")) == CHAPTER and place(Path(f"{CHAPTER}/alice.ipynb")) == CHAPTER
    assert place(Path(f"x/{CHAPTER}-alice.ipynb")) == CHAPTER and place(Path(f"{CHAPTER}x/alice.ipynb")) is None
    assert place(Path("submissions/alice.ipynb")) is None
    # a file named after a smaller chapter, in a larger chapter's folder: refused (a student's attack, issue 32)
    with pytest.raises(ValueError, match=f"its name says chapter {CHAPTER}, but its folder says {TWO_EXERCISES}"):
        place(Path(f"{TWO_EXERCISES}/{CHAPTER}-eve.ipynb"))
    with pytest.raises(ValueError, match="its name says chapter"):
        grading.decide_chapter(Path(f"{TWO_EXERCISES}/{CHAPTER}-eve.ipynb"), None, ROOT)
    with pytest.raises(ValueError, match="its name or folder says chapter"):  # --chapter: compared with the name
        grading.decide_chapter(Path(f"{TWO_EXERCISES}/{CHAPTER}-eve.ipynb"), TWO_EXERCISES, ROOT)
    with pytest.raises(ValueError, match="its name or folder says chapter"):
        grading.decide_chapter(Path(f"{CHAPTER}/alice.ipynb"), TWO_EXERCISES, ROOT)


def test_a_file_reached_through_a_linked_folder_belongs_to_the_direct_path(tmp_path):
    (tmp_path / "bob").mkdir()
    bob = write_submission(tmp_path / "bob", "answer", "pass")
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "bob").symlink_to(tmp_path / "bob")
    stolen = tmp_path / "alice" / "bob" / "answer.ipynb"
    identity = (bob.stat().st_dev, bob.stat().st_ino)
    assert grading.owners([stolen, bob]) == {identity: str(bob)}
    assert grading.owners([stolen]) == {} and grading.owners([stolen, stolen]) == {}
    (tmp_path / "carol").symlink_to(tmp_path / "bob")
    assert grading.owners([stolen, tmp_path / "carol" / "answer.ipynb"]) == {identity: ""}  # neither is bob's


def test_devices_are_refused_unread():
    with pytest.raises(ValueError, match="not a regular file but a character device"):
        grading.read_submission_bytes(Path("/dev/zero"))
    with pytest.raises(ValueError, match="not a regular file but a folder"):
        grading.read_submission_bytes(ROOT)


def test_the_proc_self_cwd_link_is_the_instructors_notebook_when_followed():
    """Control: followed from the course's root, the link reads the instructor's notebook (full marks)."""
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        text = Path(f"/proc/self/cwd/chapters/{CHAPTER}.ipynb").read_text()
    finally:
        os.chdir(here)
    assert "### BEGIN SOLUTION" in text


def test_nothing_a_submission_controls_reaches_the_grades_file_or_terminal_raw(batch):
    raw = batch["out"].read_bytes()
    raw.decode("utf-8")  # strict: no lone surrogate was written
    for text in (raw.decode("utf-8"), batch["terminal"]):
        assert not any(unicodedata.category(character) in ("Cc", "Cf", "Cs") and character not in "\r\n"
                       for character in text), text[:2000]
    assert len(raw.decode("utf-8").splitlines()) == 1 + len(batch["rows"])  # no newline inside a cell
    assert len(batch["terminal"].splitlines()) == len(batch["rows"])  # one line per submission
    rows = batch["rows"]
    surrogate = rows["raises_a_lone_surrogate"]["feedback"]
    assert "raised ValueError: \\ud800 \\x1b[31m\\x0aforged line\\x0d\\u202e" in surrogate, surrogate
    assert rows["raises_a_lone_surrogate"]["score"] == "0"
    died = rows["prints_a_huge_line_then_dies"]["status"]
    assert died.startswith("no result") and "\\x1b[31m\ufffd\ufffd\ufffd\\x1b[0m" in died and len(died) <= 300
    escaped = rows[row_key(grading.printable(ESCAPED_NAME))]
    assert (escaped["status"], escaped["score"]) == ("ok", "1")


def test_printable():
    assert grading.printable("a\nb\x1b[0m\ud800\udcff\u202e") == "a\\x0ab\\x1b[0m\\ud800\\xff\\u202e"
    assert grading.printable("é ü 中 ok") == "é ü 中 ok"
    assert grading.printable('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'  # no spreadsheet formula
    assert grading.printable("x" * 50, 10) == "xxxxxxx..." and grading.printable("\n" * 9, 10) == "\\x0a..."


def test_the_autograd_attack_is_a_correct_answer_outside_the_sandbox():
    """Control: with PyTorch in reach, autograd answers the exercise; only the sandbox stops it."""
    namespace = {}
    exec(attacks([])["answers_with_autograd"], namespace)
    assert getattr(checks, f"check_{NAME}")(namespace[NAME], verbose=False).passed


def test_the_public_check_is_fooled_where_the_grader_is_not():
    """Control for the attack above: the notebook's own check uses the public seed and passes it."""
    namespace = {}
    exec(public_seed_lookup(), namespace)
    assert getattr(checks, f"check_{NAME}")(namespace[NAME], verbose=False).passed


def test_the_public_packages_gradient_table_answers_nothing(batch):
    row = batch["rows"]["looks_up_the_tabulated_gradient"]
    assert (row["complex_step_gradient"], row["score"], row["max_score"]) == ("0", "0", "2"), row
    assert "complex_step_gradient: test 1" in row["feedback"] and "differ" in row["feedback"], row
    namespace = {}  # control: on the public functions, the table answers the public check
    exec(TABLE_LOOKUP, namespace)
    assert checks.check_complex_step_gradient(namespace["complex_step_gradient"], verbose=False).passed


def test_no_check_reference_can_be_captured_in_the_sandbox(batch):
    row = batch["rows"]["captures_a_checks_reference"]
    assert (row["chapter"], row["score"], row["max_score"]) == (SCAN_CHAPTER, "0", "1"), row
    assert "not defined" in row["feedback"], row


def test_a_captured_check_reference_would_pass_the_grader_outside_the_sandbox(monkeypatch):
    """Control: where the public checks run, the captured reference passes the grader's own scoring."""
    monkeypatch.setattr(checks, "_check", checks._check)  # the attack replaces it: put it back afterwards
    namespace = {}
    exec(CAPTURES_A_REFERENCE, namespace)
    trials = exercise_inputs.draw(SCAN, np.random.default_rng(99))
    expected = grading.expected_outputs(SCAN, grading.references(ROOT, SCAN_CHAPTER), trials)
    outputs = {}
    for number, trial in enumerate(trials):
        answer = namespace[SCAN](**exercise_inputs.materialise(trial.kwargs))
        outputs.update({f"{SCAN}/{number}" + (f"/{key}" if key else ""): array
                        for key, array in exchange.flatten_output(answer).items()})
    assert grading.score_exercise(SCAN, trials, expected, [{"ok": True}] * len(trials), outputs) is None


def test_public_functions_that_answer_an_exercise_are_withheld(batch):
    row = batch["rows"]["jacobian_by_the_public_backward"]
    assert row["rnn_step_jacobian"] == "0" and "raised RuntimeError: withheld while grading" in row["feedback"], row
    namespace = {}  # control: where the package is whole, the backward pass answers the public check
    exec(JACOBIAN_BY_BACKWARD, namespace)
    assert checks.check_rnn_step_jacobian(namespace["rnn_step_jacobian"], verbose=False).passed


def test_chapter_6s_step_and_forward_are_withheld_and_the_fast_backward_still_graded(batch):
    """The package's LSTM step and forward pass answer chapter 6's; withheld, while lstm_backward_fast, on the
    cache of that forward pass (computed by the grader), keeps its mark, as do honest chapters 2 and 6."""
    row = batch["rows"]["step_and_forward_by_the_package"]
    assert (row["status"], row["lstm_step_forward"], row["lstm_forward"]) == ("ok", "0", "0"), row
    assert row["lstm_backward_fast"] == "1" and row["feedback"].count("withheld while grading") >= 2, row
    gate = batch["rows"]["gate_by_the_rnn_backward"]
    assert (gate["status"], gate["score"], gate["max_score"]) == ("ok", "0", "1"), gate
    assert "raised RuntimeError: withheld while grading" in gate["feedback"], gate
    for name, score in (("chapter_6_in_full", "5"), ("chapter_2_in_full", "1")):
        honest = batch["rows"][name]
        assert (honest["status"], honest["score"], honest["max_score"], honest["feedback"]) == (
            "ok", score, score, ""), honest


def score_public_answer(exercise: str, code: str, seed: int = 5) -> str | None:
    """What the grader says of ``code``'s answer to ``exercise`` on secret-style trials, in this process."""
    chapter = next(chapter for chapter, names in grading.implement_exercises().items() if exercise in names)
    namespace = {}
    exec(code, namespace)
    rng = np.random.default_rng(seed)
    trials = grading.secret_functions(exercise_inputs.draw(exercise, rng), rng)
    expected = grading.expected_outputs(exercise, grading.references(ROOT, chapter), trials)
    statuses, outputs = [], {}
    for number, trial in enumerate(trials):
        try:
            answer = exercise_inputs.call(exercise, namespace, exercise_inputs.materialise(trial.kwargs))
        except Exception as error:
            statuses.append({"error": f"{type(error).__name__}: {error}"})
            continue
        statuses.append({"ok": True})
        outputs.update({f"{exercise}/{number}" + (f"/{key}" if key else ""): array
                        for key, array in exchange.flatten_output(answer).items()})
    return grading.score_exercise(exercise, trials, expected, statuses, outputs)


def load_written_module(package: Path, module: str):
    """``module`` of the package written for the sandbox, loaded on its own (its imports from the whole package)."""
    import importlib.util

    path = package.joinpath(*module.split(".")).with_suffix(".py")
    spec = importlib.util.spec_from_file_location(f"written_{module}", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


@pytest.mark.parametrize("exercise", sorted(grading.WITHHELD))
def test_each_withheld_function_answers_its_exercise_and_is_absent_from_the_sandboxs_package(exercise, tmp_path,
                                                                                           monkeypatch):
    """No sandbox: the public functions answer the exercise where the package is whole (measured, as the grader
    scores); the package written for grading it has each as the stub that raises, and the answers then fail."""
    import importlib

    for code in PUBLIC_ANSWERS[exercise]:
        assert score_public_answer(exercise, code) is None, code
    withheld = grading.withheld_for([exercise])
    package = sandbox.write_student_package(tmp_path, withheld)
    trials = exercise_inputs.draw("lstm_backward_fast", np.random.default_rng(0))  # drawn where the package is whole
    for module, names in withheld.items():
        written, whole = load_written_module(package, module), importlib.import_module(f"lstm_course.{module}")
        written_source = package.joinpath(*module.split(".")).with_suffix(".py").read_text()
        for name in names:
            # gone from the file, not only shadowed: the original cannot be read back and run
            assert inspect.getsource(inspect.unwrap(getattr(whole, name))) not in written_source, (module, name)
            with pytest.raises(RuntimeError, match="withheld while grading"):
                getattr(written, name)()
            monkeypatch.setattr(whole, name, getattr(written, name))
        kept = {name for name in vars(whole)
                if not name.startswith("_") and callable(getattr(whole, name)) and name not in names}
        assert all(getattr(written, name).__name__ == getattr(whole, name).__name__ for name in kept), module
    for code in PUBLIC_ANSWERS[exercise]:  # the package as the sandbox has it: every answer fails
        assert "withheld while grading" in score_public_answer(exercise, code), code
    references = grading.references(ROOT, NUMERICAL_CHAPTER)  # needs no forward pass where it runs
    for trial in trials:
        exercise_inputs.call("lstm_backward_fast", references, exercise_inputs.materialise(trial.kwargs))


def test_the_maximum_comes_from_the_catalogue(batch):
    row = batch["rows"]["only_one_of_two"]
    assert len(grading.implement_exercises()[TWO_EXERCISES]) == 2
    assert (row["status"], row["score"], row["max_score"]) == ("ok", "1", "2")


def test_no_file_outside_the_sandbox_changed_and_no_process_survived(batch):
    assert batch["after"] == batch["before"]
    survivors = subprocess.run(["pgrep", "-f", "sleep 1234.5"], capture_output=True, text=True).stdout
    assert survivors == ""
    assert list(read_csv(batch["out"])) == [row_key(grading.printable(path))
                                            for path in dict.fromkeys(map(str, batch["paths"]))]


def test_bad_files_get_a_row_with_their_reason(batch):
    rows = batch["rows"]
    assert rows["not_json"]["status"].startswith("invalid notebook: not JSON")
    assert rows["not_a_notebook"]["status"].startswith("invalid notebook")
    assert rows["deeply_nested"]["status"].startswith("invalid notebook: JSON too deeply nested")
    assert rows["no_chapter"]["status"].startswith("cannot tell its chapter: expected a file or folder named after")
    assert rows["no_chapter"]["max_score"] == "0" and rows["no_chapter"]["chapter"] == ""
    assert rows["instructor"]["forget_gate_backward"] == ""  # an exercise of another chapter: empty, not zero


def grade_alone(tmp_path, code: str, **limits):
    path = write_submission(tmp_path, "submission", code, honest_code())
    return grading.grade_one(path, CHAPTER, limits=sandbox.Limits(timeout_s=TIMEOUT, **limits))


def test_memory_is_limited(tmp_path):
    grade = grade_alone(tmp_path, "import numpy as np\nblock = np.ones(3 << 30, dtype=np.uint8)",
                        memory_bytes=1536 * sandbox.MIB)
    assert [error.split(":")[0] for _, error in grade.cell_errors] == ["MemoryError"]
    assert grade.score == 1  # the limit stopped the allocation, not the grading


def test_memory_is_limited_for_all_processes_together(tmp_path):
    """Four processes of 400 MiB each, under a 1 GiB cap: a control group stops them together."""
    probe = sandbox.ControlGroup.create(f"lstm-course-probe-{os.getpid()}", sandbox.Limits())
    if probe is None:
        pytest.skip("this machine lets the grader create no control group: memory is capped per process only")
    probe.remove()
    code = """
import os, time
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        block = bytearray(400 << 20)
        block[::4096] = b"\\1" * len(block[::4096])
        time.sleep(1)
        os._exit(0)
    children.append(pid)
print("killed:", sum(os.waitpid(pid, 0)[1] == 9 for pid in children))
"""
    grade = grade_alone(tmp_path, code, memory_bytes=1024 * sandbox.MIB)
    assert int(grade.log_tail.split("killed:")[1].split()[0]) >= 1 and grade.score == 1


def test_processes_are_limited(tmp_path):
    code = """
import subprocess
children = []
try:
    for _ in range(500):
        children.append(subprocess.Popen(["sleep", "20"]))
except OSError as error:
    print("processes started:", len(children), type(error).__name__)
"""
    grade = grade_alone(tmp_path, code, processes=32)
    started = int(grade.log_tail.split("processes started:")[1].split()[0])
    assert 10 < started < 32 and grade.score == 1


def test_output_is_limited(tmp_path):
    code = 'import sys\nchunk = "x" * (1 << 20)\nfor _ in range(200):\n    sys.stdout.write(chunk)'
    grade = grade_alone(tmp_path, code)
    assert grade.status == "printed more than 16 MiB" and grade.score == 0
    assert len(grade.log_tail) <= 4000


def test_no_network_and_private_folders(tmp_path):
    code = """
import os, socket
connection = socket.socket()
connection.settimeout(2)
print("network:", connection.connect_ex(("1.1.1.1", 53)))
print("tmp:", os.listdir("/tmp"), "processes:", sorted(int(p) for p in os.listdir("/proc") if p.isdigit())[:2])
print("user:", os.getuid())
"""
    grade = grade_alone(tmp_path, code)
    log = grade.log_tail
    assert "network: 0" not in log and "network:" in log
    assert "processes: [1, 2]" in log and grade.score == 1
    if os.geteuid() == 0:
        assert "user: 65534" in log


def test_bubblewrap_runs_for_an_unprivileged_user():
    """Debian's bubblewrap 0.8 as ``nobody``: a PID namespace, no network, a private /tmp."""
    if sandbox.bubblewrap() is None:
        pytest.fail("bubblewrap is not installed")
    prefix = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] if os.geteuid() == 0 else []
    script = "echo pid $$; ls /tmp | wc -l; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; id -u"
    result = subprocess.run([*prefix, "bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/",
                             "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "/bin/sh", "-c", script],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split()
    assert lines[:2] == ["pid", "2"] and lines[2] == "0" and lines[3:-1] in ([], ["lo"])
    if os.geteuid() == 0:
        assert lines[-1] == "65534"


def test_arguments_are_checked(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    other_csv = tmp_path / "marks.csv"
    other_csv.write_text("name,mark\nada,10\n")
    submission = write_submission(tmp_path, "honest", honest_code())
    for arguments, expected in [
        (["--out", str(notes)], "expected a .csv file"),
        (["--out", str(other_csv)], "is not a grades file"),
        (["--out", str(tmp_path / "g.csv"), "--timeout", "-1"], "expected a positive number of seconds"),
        (["--out", str(tmp_path / "g.csv"), "--timeout", "inf"], "expected a positive number of seconds"),
        (["--out", str(tmp_path / "g.csv"), "--timeout", "nan"], "expected a positive number of seconds"),
        (["--out", str(tmp_path / "g.csv"), "--chapter", "99_nothing"], "--chapter 99_nothing: expected one of"),
        (["--out", str(tmp_path / "g.csv"), "--memory-mib", "10"], "at least 256"),
    ]:
        assert main(["grade", str(submission), *arguments]) == 2
        error = capsys.readouterr().err
        assert error.startswith("error: ") and expected in error and len(error.strip().splitlines()) == 1, error
    assert notes.read_text() == "my notes" and other_csv.read_text() == "name,mark\nada,10\n"
    assert not (tmp_path / "g.csv").exists()


def test_without_bubblewrap_it_refuses_unless_told(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "bubblewrap", lambda: None)
    submission = write_submission(tmp_path, "honest", honest_code())
    out = tmp_path / "grades.csv"
    assert main(["grade", str(submission), "--out", str(out), "--chapter", CHAPTER]) == 2
    assert "--unsandboxed" in capsys.readouterr().err and not out.exists()
    assert main(["grade", str(submission), "--out", str(out), "--unsandboxed", "--chapter", CHAPTER]) == 0
    assert "WITHOUT a sandbox" in capsys.readouterr().err
    assert read_csv(out)["honest"]["score"] == "1"


def test_rerun_skips_graded_submissions_unless_forced(tmp_path, capsys, monkeypatch):
    out = tmp_path / "grades.csv"
    first, second = (write_submission(tmp_path, name, honest_code()) for name in ("first", "second"))
    calls = []

    def grade_one(path, *args, **kwargs):
        calls.append(str(path))
        return grading.Grade(str(path), CHAPTER, {NAME: 1.0}, 1.0)

    monkeypatch.setattr(grading, "grade_one", grade_one)
    assert main(["grade", str(first), "--out", str(out)]) == 0
    assert main(["grade", str(first), str(second), "--out", str(out)]) == 0
    assert calls == [str(first), str(second)] and "already graded" in capsys.readouterr().err
    assert main(["grade", str(first), "--out", str(out), "--force"]) == 0
    assert calls[-1] == str(first) and set(read_csv(out)) == {"first", "second"}


def test_an_interrupt_keeps_rows_already_written(tmp_path, monkeypatch):
    out = tmp_path / "grades.csv"

    def grade_one(path, *args, **kwargs):
        if "second" in str(path):
            raise KeyboardInterrupt
        return grading.Grade(str(path), CHAPTER, {NAME: 1.0}, 1.0)

    monkeypatch.setattr(grading, "grade_one", grade_one)
    with pytest.raises(KeyboardInterrupt):
        grading.grade(["first.ipynb", "second.ipynb"], out)
    rows = read_csv(out)
    assert list(rows) == ["first"] and rows["first"]["score"] == "1"
    assert [path.name for path in tmp_path.iterdir()] == ["grades.csv"]  # no temporary file left behind


def test_the_grader_runs_no_submission_code_in_its_own_process(monkeypatch):
    """The submission runner is the only module that executes a submission, and only as a child process."""
    source = (ROOT / "lstm_instructor" / "grading.py").read_text()
    assert "exec(" not in source and "NotebookClient" not in source
    assert "submission_runner" in source and sys.modules.get("lstm_instructor.submission_runner") is None


def test_the_instructors_columns_and_rows_are_kept(tmp_path, monkeypatch):
    out = tmp_path / "grades.csv"
    out.write_text("submission,comment,score,max_score,status\nfirst.ipynb,\"late, -10%\",0,1,old\n"
                   "gone.ipynb,\"withdrew\",0,1,ok\n")

    def grade_one(path, *args, **kwargs):
        return grading.Grade(str(path), CHAPTER, {NAME: 1.0}, 1.0)

    monkeypatch.setattr(grading, "grade_one", grade_one)
    grading.grade(["first.ipynb", "second.ipynb"], out, force=True)
    rows = read_csv(out)
    with open(out, newline="") as file:
        header = next(csv.reader(file))
    assert header[:5] == ["submission", "comment", "score", "max_score", "status"] and "chapter" in header
    assert (rows["first"]["comment"], rows["first"]["score"], rows["first"]["status"]) == ("late, -10%", "1", "ok")
    assert rows["gone"]["comment"] == "withdrew" and rows["second"]["comment"] == ""
    assert [path.name for path in tmp_path.iterdir()] == ["grades.csv"]


def test_a_symlinked_out_is_refused(tmp_path, capsys):
    target = tmp_path / "real.csv"
    target.write_text("submission,score,max_score,status\n")
    link = tmp_path / "grades.csv"
    link.symlink_to(target)
    submission = write_submission(tmp_path, "honest", honest_code())
    assert main(["grade", str(submission), "--out", str(link), "--chapter", CHAPTER]) == 2
    error = capsys.readouterr().err
    assert "is a symbolic link" in error and len(error.strip().splitlines()) == 1, error
    assert link.is_symlink() and target.read_text() == "submission,score,max_score,status\n"


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def control_groups() -> list[str]:
    return sorted(str(path) for path in sandbox.CGROUP_ROOT.rglob(f"lstm-course-grade-{os.getpid()}-*"))


def test_a_sandbox_that_cannot_start_stops_the_batch_naming_the_submission(tmp_path, monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(sandbox.subprocess, "Popen", refuse)
    first, second = (write_submission(tmp_path, name, honest_code()) for name in ("first", "second"))
    out = tmp_path / "grades.csv"
    descriptors, groups = open_descriptors(), control_groups()
    assert main(["grade", str(first), str(second), "--out", str(out), "--chapter", CHAPTER]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "stopped at submission 1 of 2" in error and str(first) in error and "could not start" in error, error
    assert open_descriptors() == descriptors and control_groups() == groups
    assert not out.exists()  # no row says "grader error" for a fault of the grader's machine


def test_without_a_control_group_it_refuses_unless_unsandboxed(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox.ControlGroup, "create", classmethod(lambda cls, name, limits: None))
    submission = write_submission(tmp_path, "honest", honest_code())
    out = tmp_path / "grades.csv"
    assert main(["grade", str(submission), "--out", str(out), "--chapter", CHAPTER]) == 2
    error = capsys.readouterr().err
    assert "no control group" in error and "--unsandboxed" in error and len(error.strip().splitlines()) == 1
    assert not out.exists()


def test_no_user_namespaces_inside_the_sandbox(tmp_path):
    if not sandbox.user_namespaces_can_be_disabled():
        pytest.skip("this bubblewrap has no --disable-userns (0.8 and later)")
    code = """
import ctypes, subprocess
libc = ctypes.CDLL(None, use_errno=True)
print("unshare(CLONE_NEWUSER):", libc.unshare(0x10000000), ctypes.get_errno())
print("unshare -U -r:", subprocess.run(["unshare", "-U", "-r", "true"], capture_output=True).returncode)
"""
    grade = grade_alone(tmp_path, code)
    assert "unshare(CLONE_NEWUSER): -1" in grade.log_tail and "unshare -U -r: 1" in grade.log_tail, grade.log_tail
    assert grade.score == 1


def test_the_user_namespace_test_can_fail():
    """Control: the same calls, in a bubblewrap sandbox that does not forbid them, make a user namespace."""
    prefix = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"] if os.geteuid() == 0 else []
    result = subprocess.run([*prefix, "bwrap", "--unshare-all", "--ro-bind", "/", "/", "--proc", "/proc",
                             "--dev", "/dev", "unshare", "-U", "-r", "true"], capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr


INSTRUCTORS_OWN = ("grading", "reference_answers", "hand_written_backward", "sandbox", "student_edition", "catalogue")


def test_nothing_instructor_only_or_hidden_is_in_reach(tmp_path):
    """The student's library, not the instructor's package; SymPy hidden in the base interpreter's site-packages too."""
    code = f"""
import glob, importlib, pathlib, sys, lstm_course
folder = pathlib.Path(lstm_course.__file__).parent
print("package at:", folder)
print("instructor-only found:", any("class HandWrittenBackward" in path.read_text(errors="replace")
                                    for path in pathlib.Path("/").glob("course/**/*.py")))
try:
    import lstm_instructor
    print("instructor package at:", lstm_instructor.__file__)
except ImportError:
    print("instructor package absent")
import grader_runner
print("runner holds:", sorted(path.name for path in pathlib.Path(grader_runner.__file__).parent.glob("*")))
for module in {INSTRUCTORS_OWN!r}:
    try:
        importlib.import_module("lstm_instructor." + module)
        print(module, "imported")
    except ImportError:
        pass
sys.path += glob.glob({sys.base_prefix!r} + "/lib/python3*/site-packages") + ["/usr/lib/python3/dist-packages"]
sys.path += glob.glob("/usr/local/lib/python3*/dist-packages") + glob.glob("/usr/lib/python3*/site-packages")
for name in ("sympy", "mpmath"):
    try:  # a hidden package is an empty folder: at most an empty namespace package
        print(name, "imported" if getattr(importlib.import_module(name), "__file__", None) else "hidden")
    except ImportError:
        print(name, "hidden")
print("host path in mountinfo:", {str(ROOT / "lstm_course")!r} in open("/proc/self/mountinfo").read())
"""
    grade = grade_alone(tmp_path, code)
    log = grade.log_tail
    assert "package at: /course/lstm_course" in log and "instructor-only found: False" in log, log
    # the instructor's package is not there; the grader's runner, a copy of its two modules, is
    assert "instructor package absent" in log, log
    assert "runner holds: ['__init__.py', 'exchange.py', 'submission_runner.py']" in log, log
    assert not [module for module in INSTRUCTORS_OWN if f"{module} imported" in log], log
    assert "sympy hidden" in log and "mpmath hidden" in log and "sympy imported" not in log, log
    assert "host path in mountinfo: False" in log and grade.score == 1, log
    # control: the instructor's package has the hand-written backward, and the base interpreter has SymPy here
    assert "class HandWrittenBackward" in (ROOT / "lstm_instructor" / "hand_written_backward.py").read_text()


def test_an_unreadable_course_notebook_is_the_instructors_error_not_a_submissions_row(tmp_path, monkeypatch):
    """Caught on the first run: a chapter notebook being rewritten (empty) must not become a student's status."""
    def unreadable(chapters):
        raise ValueError("Notebook does not appear to be JSON: ''")

    monkeypatch.setattr(grading, "catalogue", unreadable)
    grading.implement_exercises.cache_clear()
    try:
        submission = write_submission(tmp_path, CHAPTER, honest_code())
        with pytest.raises(grading.GradingError, match="catalogue of exercises is unreadable"):
            grading.grade([submission], tmp_path / "grades.csv")
        with pytest.raises(grading.GradingError):
            grading.grade_one(submission)
        assert not (tmp_path / "grades.csv").exists()
    finally:
        grading.implement_exercises.cache_clear()


TOO_SLOW = "took longer than"


def test_a_numerical_gradient_runs_out_of_time_where_an_honest_one_does_not(batch):
    """The timed test: a forward pass per parameter fails it; the exercises around it keep their marks."""
    rows = batch["rows"]
    full = rows["chapter_6_in_full"]
    assert (full["status"], full["score"], full["max_score"], full["feedback"]) == ("ok", "5", "5", ""), full
    step = rows["complex_step_backward"]  # exact on the small trials: only the timed test catches it
    assert (step["status"], step["score"], step["max_score"]) == ("ok", "3", "5"), step
    assert (step["lstm_step_forward"], step["lstm_forward"], step["lstm_backward_fast"]) == ("1", "1", "1"), step
    assert (step["lstm_step_backward"], step["lstm_backward"]) == ("0", "0"), step  # each in a run of its own
    for name, sizes in (("lstm_step_backward", "B=16, D=256, H=256, 538,624 parameters"),
                        ("lstm_backward", "T=50, B=32, D=32, H=64, 80,384 parameters")):
        assert f"{name}: the timed test ({sizes}" in step["feedback"] and "costs a forward pass per parameter" in \
            step["feedback"], step
    assert step["feedback"].count(TOO_SLOW) == 2 and " test 1 " not in step["feedback"], step
    central = rows["central_differences"]
    assert (central["status"], central["score"], central["max_score"]) == ("ok", "0", "1"), central
    assert "forget_gate_backward: the timed test (B=16, D=256, H=256" in central["feedback"], central
    assert TOO_SLOW in central["feedback"] and "differ" in central["feedback"], central  # and not accurate enough
    for name in ("honest", "instructor", "zz_honest_after_the_attacks"):  # chapter 4's: not timed
        assert (rows[name]["score"], rows[name]["feedback"]) == ("1", ""), rows[name]


def test_the_timed_inputs_are_never_in_the_task_folder(tmp_path):
    """Control for the submission above: its task folder holds the small trials only."""
    path = write_submission(tmp_path, NUMERICAL_CHAPTER, "import numpy as np", honest_code(NUMERICAL_CHAPTER),
                            COMPLEX_STEP_BACKWARD.split("def lstm_step_forward")[0], chapter=NUMERICAL_CHAPTER)
    grade = grading.grade_one(path, NUMERICAL_CHAPTER, limits=sandbox.Limits(timeout_s=60))
    largest = int(grade.log_tail.split("largest array in the task folder:")[1].split()[0])
    timed = [max(np.size(value) for value in draw(np.random.default_rng(0)).kwargs.values())
             for draw in exercise_inputs.TIMED.values()]
    assert largest < 1000 < min(timed), (largest, timed)
    assert grade.score == 5 and all(seconds < limit for seconds, limit in grade.timings.values()), grade.timings


def test_every_run_of_a_submission_counts_against_one_timeout(tmp_path, monkeypatch):
    """A submission whose timed tests overrun gets later runs only within what is left of --timeout (issue 32:
    one that spent its time in its cells and never answered held the batch once per timed exercise)."""
    given = []

    def overrunning(notebook, trials, phase, course_root, limits, sandboxed, hide_differentiators):
        given.append(limits.timeout_s)
        phase.frames = 1  # its report came, the first timed test's inputs went out, its answer never came
        return sandbox.Run(returncode=-9, result=exchange.frame(exchange.message({"exercises": {}}, {})),
                           seconds=25.0, overran=True)

    monkeypatch.setattr(grading, "_run_sandboxed", overrunning)
    monkeypatch.setattr(grading, "score_exercise", lambda *args, **kwargs: None)  # its ordinary trials all right
    path = write_submission(tmp_path, NUMERICAL_CHAPTER, "import numpy as np", chapter=NUMERICAL_CHAPTER)
    timed = [name for name in grading.implement_exercises()[NUMERICAL_CHAPTER] if name in exercise_inputs.TIMED]
    assert len(timed) == 3, timed
    grade = grading.grade_one(path, NUMERICAL_CHAPTER, limits=sandbox.Limits(timeout_s=40))
    assert given == [40.0, 15.0], given  # 25 s each: the second run gets the 15 s left, and there is no third
    assert all("took longer than" in grade.feedback[name] for name in timed), grade.feedback


FAKE_RUNNER = """
import os, sys, time
result, talk = os.fdopen(int(sys.argv[1]), "wb"), os.fdopen(int(sys.argv[2]), "rb")
def send(payload):
    result.write(len(payload).to_bytes(8, "big") + payload)
    result.flush()
send(b"phase 1")
while (header := talk.read(8)):
    inputs = talk.read(int.from_bytes(header, "big"))
    time.sleep(float(sys.argv[3]))
    send(b"answer to %d bytes" % len(inputs))
print("the grader closed the pipe")
"""


@pytest.mark.parametrize("delay", [0.0, 30.0])
def test_the_timed_phase_holds_the_clock_outside_the_runner(tmp_path, delay):
    """A fake runner: the inputs go out once phase 1 is in; an answer too late stops the run, phase 1 kept."""
    trial = exercise_inputs.TIMED["lstm_step_backward"](np.random.default_rng(0))
    tests = [grading.TimedTest("lstm_step_backward", trial, {}, reference_s=0.01, multiple=20) for _ in range(2)]
    phase = grading.TimedPhase(tests)
    started = time.monotonic()
    run = sandbox.run(lambda fd, talk: [sys.executable, "-c", FAKE_RUNNER, str(fd), str(talk), str(delay)],
                      sandbox.Limits(timeout_s=60), {"PATH": "/usr/bin:/bin"}, cwd=tmp_path, conversation=phase)
    seconds = time.monotonic() - started
    payloads = exchange.frames(run.result)
    assert payloads[0] == b"phase 1" and run.stopped is None
    if delay:
        assert run.overran and len(payloads) == 1 and phase.waiting is tests[0] and tests[0].answer is None
        assert tests[0].limit_s <= seconds < tests[0].limit_s + 5  # stopped at its limit, not at the timeout
    else:
        size = len(tests[0].message()) - exchange.FRAME_HEADER
        assert not run.overran and payloads[1:] == [b"answer to %d bytes" % size] * 2 and phase.finished
        assert all(0 < test.seconds < test.limit_s for test in tests) and b"closed the pipe" in run.log_tail


def test_every_backward_exercise_is_timed_or_says_why_not():
    timed, untimed = set(exercise_inputs.TIMED), set(exercise_inputs.UNTIMED)
    differentiating = {name for name in exercise_inputs.EXERCISES if name.endswith(("_backward", "_backward_fast",
                                                                                     "_jacobian", "_gradient"))}
    assert not timed & untimed and timed | untimed == differentiating, (timed, untimed, differentiating)
    for draw in exercise_inputs.TIMED.values():  # thousands of numbers: a forward pass each is minutes
        assert int(draw(np.random.default_rng(0)).description.split(", ")[-1].split()[0].replace(",", "")) > 20000
