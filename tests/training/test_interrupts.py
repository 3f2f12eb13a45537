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
import torch

from lstm_course.training import checkpoint as checkpoints

TEXT = "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n" * 400


def train_lm(corpus, out, max_steps, *options):
    return [sys.executable, "-m", "lstm_course", "train-lm", "--corpus", str(corpus), "--out", str(out),
            "--hidden-size", "16", "--embedding-size", "8", "--batch-size", "4", "--bptt", "10",
            "--max-steps", str(max_steps), "--eval-every", "100", "--patience", "1000", "--seed", "1", "--threads", "1",
            "--quiet", *options]


def interrupt_after_first_checkpoint(command, out, delay):
    """Run ``command``, and once ``out`` exists wait ``delay`` seconds and press Ctrl-C twice; return stderr."""
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
    return stderr


@pytest.mark.parametrize("delay", [0.0, 0.17, 0.41])
def test_ctrl_c_saves_only_whole_steps_and_exits_130(tmp_path, delay):
    corpus, out = tmp_path / "small.txt", tmp_path / "run.pt"
    corpus.write_text(TEXT)
    interrupt_after_first_checkpoint(train_lm(corpus, out, 100_000), out, delay)
    saved = checkpoints.load(out)
    steps = saved["progress"]["steps"]
    assert {int(state["step"]) for state in saved["optimiser"]["state"].values()} == {steps}


def test_a_run_split_by_ctrl_c_ends_with_the_weights_of_one_run(tmp_path):
    """The README's promise, with a real Ctrl-C: before, a resumed run differed by up to 0.30."""
    corpus, whole, split = tmp_path / "small.txt", tmp_path / "whole.pt", tmp_path / "split.pt"
    corpus.write_text(TEXT)
    completed = subprocess.run(train_lm(corpus, whole, 1500), capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    interrupt_after_first_checkpoint(train_lm(corpus, split, 1500), split, 0.15)
    assert 100 <= checkpoints.load(split)["progress"]["steps"] < 1500
    completed = subprocess.run(train_lm(corpus, split, 1500, "--resume", str(split)), capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr
    whole_weights, split_weights = checkpoints.load(whole)["model"], checkpoints.load(split)["model"]
    assert all(torch.equal(split_weights[name], tensor) for name, tensor in whole_weights.items())
