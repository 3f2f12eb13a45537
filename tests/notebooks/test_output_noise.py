"""No output that nbval compares may show rounding noise, so the notebooks pass on any CPU.

A compared output is one of a cell without the tags ``nbval-ignore-output``/``nbval-skip`` (or
their in-source markers). Two kinds of number in it are noise, since another instruction set
(AVX2 against AVX-512, MKL against OpenBLAS) computes them differently:

* a number in scientific notation below 1e-12 in magnitude, zero included (``4.16e-17`` here is
  ``0.00e+00`` there): print such an error as a bound, ``notebook.error_bound(x)`` gives
  ``< 1e-12``. A zero in scientific notation is always noise. A small non-zero value that is
  computed to full relative precision, such as a gradient at lag 99 (``1.5e-36``) or ``0.5**100``,
  is a result and not noise: its cell says so with the tag ``tiny-values-not-noise``;
* a decimal number with more than 12 significant digits (a float's full ``repr``, such as a
  glued value stored as ``0.42957551931021715``): round it.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(path for folder in ("chapters", "course") for path in (ROOT / folder).glob("*.ipynb"))
IGNORING_TAGS = {"nbval-ignore-output", "nbval-skip"}
IGNORING_MARKERS = ("# NBVAL_IGNORE_OUTPUT", "# NBVAL_SKIP")
SCIENTIFIC = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?[eE][-+]?\d+(?![\w.])")
DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
TINY = 1e-12
MAX_SIGNIFICANT_DIGITS = 12


def compared_texts(cell: dict) -> list[str]:
    """The text of every output of ``cell`` that nbval compares (images are not)."""
    texts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            texts.append("".join(output["text"]))
        for mimetype, value in output.get("data", {}).items():
            if not mimetype.startswith("image/"):
                texts.append(value if isinstance(value, str) else "".join(value) if isinstance(value, list)
                             else json.dumps(value))
    return texts


TINY_VALUES_TAG = "tiny-values-not-noise"


def noise_in(text: str, tiny_values_allowed: bool = False) -> list[str]:
    """The numbers in ``text`` that are rounding noise (see the module's docstring)."""
    found = [number for number in SCIENTIFIC.findall(text)
             if float(number) == 0 or (abs(float(number)) < TINY and not tiny_values_allowed)]
    for number in DECIMAL.findall(text):
        digits = number.replace(".", "").lstrip("0")
        if len(digits) > MAX_SIGNIFICANT_DIGITS:
            found.append(number)
    return found


def compared_noise(path: Path) -> dict[int, list[str]]:
    """``{code cell number (from 1): noisy numbers}`` for the compared outputs of the notebook at ``path``."""
    noise, number = {}, 0
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        number += 1
        source, tags = "".join(cell["source"]), set(cell.get("metadata", {}).get("tags", []))
        if IGNORING_TAGS & tags or any(marker in source for marker in IGNORING_MARKERS):
            continue
        found = [noisy for text in compared_texts(cell) for noisy in noise_in(text, TINY_VALUES_TAG in tags)]
        if found:
            noise[number] = found
    return noise


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_compared_outputs_hold_no_rounding_noise(path):
    noise = compared_noise(path)
    assert not noise, "; ".join(f"{path.name}, code cell {cell}: {numbers[:5]}" for cell, numbers in noise.items())


@pytest.mark.parametrize("text, expected", [
    ("2       2               2.05e-01               4.16e-17", ["4.16e-17"]),
    ("0      5               0.00e+00               0.00e+00", ["0.00e+00", "0.00e+00"]),
    ("0.42957551931021715", ["0.42957551931021715"]),
    ("error < 1e-12, loss 1.06e-04, ratio 0.4296, 1e-10, step 132,800, 3.14159265358", []),
])
def test_the_scan_finds_noise_and_only_noise(text, expected):
    assert noise_in(text) == expected


def test_a_tagged_cell_may_show_tiny_values_but_no_zero():
    assert noise_in("lag 99: 1.5e-36, difference 0.0e+00", tiny_values_allowed=True) == ["0.0e+00"]


def test_the_scan_fails_on_chapter_7_as_it_was(tmp_path):
    """Control: the padded-against-packed table that failed nbval on an AVX-512 Xeon."""
    cell = {"cell_type": "code", "metadata": {}, "source": "print(table)", "outputs": [{
        "output_type": "stream", "name": "stdout",
        "text": "sequence length  |h_n - alone|, padded  |h_n - alone|, packed\n"
                "       0      5               0.00e+00               0.00e+00\n"
                "       2      2               2.05e-01               4.16e-17\n"}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"cells": [cell]}))
    assert compared_noise(path) == {1: ["0.00e+00", "0.00e+00", "4.16e-17"]}
