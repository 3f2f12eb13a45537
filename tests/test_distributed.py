"""Data-parallel training with torchrun on this CPU: two processes equal one process with twice the batch."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lstm_course import checkpoint as checkpoints
from lstm_course.batching import tbptt_batches
from lstm_course.corpus import TINY_CORPUS, split_text
from lstm_course.lm_training import TrainConfig, train

MODEL = ["--hidden-size", "16", "--layers", "1", "--embedding-size", "8", "--dropout", "0"]
STEPS = ["--max-steps", "6", "--bptt", "16", "--eval-every", "3", "--threads", "1", "--seed", "3"]


def test_shards_partition_the_streams():
    ids = torch.arange(1001).numpy()
    whole = list(tbptt_batches(ids, batch_size=8, bptt=10))
    shards = [list(tbptt_batches(ids, batch_size=4, bptt=10, rank=rank, world_size=2)) for rank in (0, 1)]
    for (inputs, _), (first, _), (second, _) in zip(whole, *shards, strict=True):
        assert torch.equal(torch.cat([first, second], dim=1), inputs)
    with pytest.raises(ValueError, match="rank"):
        next(tbptt_batches(ids, 4, 10, rank=2, world_size=2))


def test_two_processes_with_torchrun_equal_one_process_with_twice_the_batch(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TINY_CORPUS * 20)
    checkpoint = tmp_path / "ddp.pt"
    torchrun = Path(sys.executable).with_name("torchrun")
    completed = subprocess.run(
        [str(torchrun), "--standalone", "--nproc_per_node=2", "-m", "lstm_course", "train-lm", "--out",
         str(checkpoint), "--corpus", str(corpus), "--batch-size", "4", "--lr", "1e-2", "--quiet", *MODEL, *STEPS],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "world size 2 (gloo)" in completed.stderr
    json_lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert len(json_lines) == 1  # process 0 reports for both
    summary = json.loads(json_lines[0])
    assert summary["world_size"] == 2 and summary["steps"] == 6 and summary["characters"] == 6 * 16 * 8
    assert list(tmp_path.glob("*.pt")) == [checkpoint]  # one checkpoint, from process 0, no temporaries
    distributed_weights = checkpoints.load(checkpoint)["model"]

    splits = split_text(TINY_CORPUS * 20)
    config = TrainConfig(batch_size=8, bptt=16, max_steps=6, eval_every=3, threads=1, seed=3, lr=1e-2)
    latest = tmp_path / "single.pt"  # its "model" entry holds the latest weights, as the torchrun checkpoint's does
    train(splits["train"], splits["validation"], config,
          {"hidden_size": 16, "num_layers": 1, "embedding_size": 8, "dropout": 0.0}, checkpoint_path=latest,
          progress_bar=False)
    single_weights = checkpoints.load(latest)["model"]
    for name, tensor in single_weights.items():
        assert torch.allclose(distributed_weights[name], tensor, atol=1e-5), name
