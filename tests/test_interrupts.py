"""Ctrl-C during `train-lm`: the checkpoint holds whole steps only, the command says so and exits 130 (issue 17).

Interrupted at chosen moments of a real run (a subprocess sent SIGINT, twice, as an impatient
user does), the checkpoint's optimiser state must have taken exactly as many steps as its progress
says: before, 2 interrupts in 8 saved Adam states one step ahead of the weights' progress.
"""

import signal
import subprocess
import sys
import time

import pytest

from lstm_course import checkpoint as checkpoints

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 400


@pytest.mark.parametrize("delay", [0.0, 0.17, 0.41])
def test_ctrl_c_saves_only_whole_steps_and_exits_130(tmp_path, delay):
    corpus, out = tmp_path / "small.txt", tmp_path / "run.pt"
    corpus.write_text(TEXT)
    command = [sys.executable, "-m", "lstm_course", "train-lm", "--corpus", str(corpus), "--out", str(out),
               "--hidden-size", "16", "--embedding-size", "8", "--batch-size", "4", "--bptt", "10",
               "--max-steps", "100000", "--eval-every", "100", "--patience", "1000", "--seed", "1", "--threads", "1",
               "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not out.exists():  # the first checkpoint: training is under way
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint after 120 s"
        time.sleep(0.02)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    time.sleep(0.002)
    process.send_signal(signal.SIGINT)  # a second Ctrl-C, while the first is being handled
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted after step" in stderr and "Traceback" not in stderr and "enforce fail" not in stderr, stderr
    saved = checkpoints.load(out)
    steps = saved["progress"]["steps"]
    assert {int(state["step"]) for state in saved["optimiser"]["state"].values()} == {steps}
