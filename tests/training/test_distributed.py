"""Data-parallel training with torchrun on this CPU: two processes equal one process with twice the batch."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from lstm_course.cli import main
from lstm_course.tasks.batching import tbptt_batches
from lstm_course.tasks.corpus import TINY_CORPUS, split_text
from lstm_course.training import checkpoint as checkpoints
from lstm_course.training.distributed import current_world
from lstm_course.training.lm_training import TrainConfig, train

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


def pretend_gpus(monkeypatch, gpus: int, processes: int, local_rank: int) -> None:
    """Look like process ``local_rank`` of ``processes`` that torchrun started on a machine with ``gpus`` GPUs."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    for variable, value in dict(WORLD_SIZE=processes, LOCAL_WORLD_SIZE=processes, RANK=local_rank,
                                LOCAL_RANK=local_rank).items():
        monkeypatch.setenv(variable, str(value))


def test_each_process_takes_the_gpu_of_its_local_rank(monkeypatch):
    pretend_gpus(monkeypatch, gpus=2, processes=2, local_rank=1)
    world = current_world("auto")
    assert (world.device, world.size, world.backend) == (torch.device("cuda:1"), 2, "nccl")


def test_the_cpu_when_asked_for_on_a_single_gpu_machine(monkeypatch):
    pretend_gpus(monkeypatch, gpus=1, processes=2, local_rank=1)
    world = current_world("cpu")
    assert (world.device, world.size, world.backend) == (torch.device("cpu"), 2, "gloo")


@pytest.mark.parametrize("device", ["auto", "cuda", "cuda:0"])
def test_more_processes_than_gpus_is_a_one_line_error_that_says_so(monkeypatch, tmp_path, capsys, device):
    pretend_gpus(monkeypatch, gpus=1, processes=2, local_rank=1)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TINY_CORPUS * 20)
    out = tmp_path / "model.pt"
    status = main(["train-lm", "--out", str(out), "--corpus", str(corpus), "--device", device, "--quiet",
                   *MODEL, *STEPS])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1, error
    assert "2 training processes on this machine" in error and "sees 1 CUDA GPU" in error
    assert "--nproc_per_node=1" in error and "--device cpu" in error
    assert not out.exists()


def test_the_chapter_compares_processes_on_the_cpu_whatever_the_machine():
    """On a one-GPU machine, two processes that each picked the GPU would fail (issue 19): the chapter says cpu."""
    chapter = nbformat.read(Path(__file__).resolve().parents[2] / "chapters" / "15_scaling_up.ipynb", as_version=4)
    torchrun_cells = [cell.source for cell in chapter.cells if cell.cell_type == "code" and "torchrun" in cell.source]
    assert torchrun_cells and all('"--device", "cpu"' in source for source in torchrun_cells)
