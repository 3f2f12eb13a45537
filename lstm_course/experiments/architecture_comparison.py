"""Chapter 14's comparison: the LSTM, a small Transformer, minGRU and minLSTM, in one loop, at one size and budget.

* :func:`matched_config` sizes each architecture to the LSTM's parameter count.
* :func:`run` trains one architecture on Shakespeare with :func:`lstm_course.training.lm_training.train`,
  the LSTM's own loop, and scores the test split.
* :func:`generation_cost` times one generated character, and measures the state a model keeps,
  as the text before it grows.
* :func:`recall_run` trains on the synthetic recall text (:mod:`lstm_course.tasks.recall_task`) and
  returns the accuracy at each delay.

Every run is single-threaded; results are dictionaries of plain numbers, for a JSON file.
"""

from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np
import torch

from lstm_course.models.language_model import ModelConfig, build
from lstm_course.plumbing.runtime import set_threads
from lstm_course.tasks import recall_task
from lstm_course.tasks.vocabulary import Vocabulary
from lstm_course.training.lm_training import LN2, TrainConfig, nats_per_char, train

LSTM_MODEL = {"architecture": "lstm", "hidden_size": 384, "num_layers": 1, "embedding_size": 64, "dropout": 0.0}
"""Chapter 10's language model (``train-lm``'s defaults): the size every other model is matched to."""

RESIDUAL_LAYERS = 4
"""Blocks of the Transformer, minGRU and minLSTM models; their width is chosen to match the parameters."""


def parameter_count(model_config: dict, vocabulary_size: int) -> int:
    return sum(parameter.numel() for parameter in build(ModelConfig(vocabulary_size, **model_config)).parameters())


def matched_config(architecture: str, vocabulary_size: int, context_size: int = 128, num_heads: int = 4) -> dict:
    """The model settings of ``architecture`` whose parameter count is closest to :data:`LSTM_MODEL`'s.

    The LSTM is :data:`LSTM_MODEL`; the others have :data:`RESIDUAL_LAYERS` blocks and the width (a
    multiple of ``num_heads``) that comes closest to it.
    """
    if architecture == "lstm":
        return dict(LSTM_MODEL)
    target = parameter_count(LSTM_MODEL, vocabulary_size)
    base = {"architecture": architecture, "num_layers": RESIDUAL_LAYERS, "dropout": 0.0,
            "num_heads": num_heads, "context_size": context_size}
    widths = range(num_heads, 1024, num_heads)
    counts = {width: parameter_count(base | {"hidden_size": width}, vocabulary_size) for width in widths
              if abs(width * width * 12 * RESIDUAL_LAYERS - target) < target}  # only near candidates are built
    width = min(counts, key=lambda width: abs(counts[width] - target))
    return base | {"hidden_size": width}


def run(architecture: str, splits: dict, train_config: TrainConfig, model_config: dict | None = None,
        progress_bar: bool = False, test_chars: int | None = None) -> dict:
    """Train one model on ``splits["train"]`` (validated on ``splits["validation"]``) and score ``splits["test"]``.

    ``test_chars``: score only the test split's first that many characters (default: all of it).
    """
    vocabulary = Vocabulary.from_text(splits["train"])
    model_config = model_config or matched_config(architecture, len(vocabulary))
    model, vocabulary, result = train(splits["train"], splits["validation"], train_config, model_config,
                                      progress_bar=progress_bar)
    test_ids = vocabulary.encode(splits["test"])
    test_ids = test_ids if test_chars is None else test_ids[:test_chars + 1]
    test_nats = nats_per_char(model, test_ids)
    speeds = [entry["characters_per_second"] for entry in result.history if "characters_per_second" in entry]
    return {"architecture": architecture, "model": model_config, "train": asdict(train_config),
            "parameters": sum(parameter.numel() for parameter in model.parameters()),
            "steps": result.steps, "characters": result.characters, "seconds": round(result.seconds, 1),
            "training_characters_per_second": round(float(np.median(speeds))) if speeds else None,
            "validation_nats": round(result.best_validation_nats, 4),
            "test_characters": len(test_ids) - 1, "test_nats": round(test_nats, 4),
            "test_bits": round(test_nats / LN2, 4), "stopped": result.stopped,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "history": [[entry["seconds"], entry["characters"], round(entry["validation_nats"], 4)]
                        for entry in result.history]}  # (seconds, characters, validation nats) at each validation


@torch.no_grad()
def generation_cost(model, vocabulary_size: int, contexts=(64, 256, 1024, 4096), repeats: int = 32,
                    seed: int = 0) -> list[dict]:
    """For each context length ``n``: seconds per generated character after ``n`` characters, and the state's size.

    The model reads ``n`` random characters (in chunks of 256); the bytes of every tensor its
    state then holds are reported, and the median time of the next ``repeats`` characters, generated
    one at a time. Nothing else grows: the weights are the same at every ``n``.
    """
    set_threads(1)
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    rows = []
    for context in contexts:
        ids = torch.randint(1, vocabulary_size, (context, 1), generator=generator)
        state = None
        for start in range(0, context, 256):
            logits, state = model(ids[start:start + 256], state)
        state_bytes = sum(tensor.numel() * tensor.element_size() for tensor in state)
        times = []
        next_id = torch.ones(1, 1, dtype=torch.int64)
        for _ in range(repeats):
            started = time.perf_counter()
            logits, state = model(next_id, state)
            next_id = logits[-1].argmax(dim=-1, keepdim=True)
            times.append(time.perf_counter() - started)
        rows.append({"context": context, "seconds_per_character": float(np.median(times)), "state_bytes": state_bytes})
    return rows


def with_context_size(model, context_size: int):
    """A Transformer's copy that keeps ``context_size`` positions (ALiBi has no position weights); others unchanged."""
    if model.config.architecture != "transformer":
        return model
    config = ModelConfig(**(asdict(model.config) | {"context_size": context_size}))
    wider = build(config)
    wider.load_state_dict(model.state_dict())
    return wider.eval()


def recall_run(architecture: str, seed: int, steps: int, max_delay: int, delays, train_config: TrainConfig,
               context_size: int = 128, progress_bar: bool = False, test_context_size: int | None = None,
               forget_bias: float | None = None) -> dict:
    """Train ``architecture`` on recall episodes with delays ``1 .. max_delay``; its accuracy at each of ``delays``.

    ``context_size``: the Transformer's window in training and in the test. ``test_context_size``: a
    Transformer is also scored with its window opened to that many positions (:func:`with_context_size`),
    as ``"accuracy_opened"``. ``forget_bias``: the LSTM's, minGRU's and minLSTM's (default: the model's, 1).
    """
    train_text = recall_task.text_of_size(train_config.batch_size * train_config.bptt * steps // 2, max_delay, seed)
    validation_text = recall_task.text_of_size(50_000, max_delay, 10_000 + seed)
    vocabulary = Vocabulary.from_text(train_text)
    model_config = (matched_config(architecture, len(vocabulary), context_size) if architecture != "lstm"
                    else dict(LSTM_MODEL))
    if forget_bias is not None and architecture != "transformer":
        model_config["forget_bias"] = forget_bias
    started = time.perf_counter()
    model, vocabulary, result = train(train_text, validation_text, train_config, model_config,
                                      progress_bar=progress_bar)
    train_seconds = time.perf_counter() - started
    accuracy = {str(delay): recall_task.recall_accuracy(model, vocabulary, delay, seed=20_000 + seed)
                for delay in delays}
    record = {"architecture": architecture, "seed": seed, "model": model_config, "max_delay": max_delay,
              "steps": result.steps, "seconds": round(time.perf_counter() - started, 1),
              "train_seconds": round(train_seconds, 1),
              "validation_nats": round(result.best_validation_nats, 4), "accuracy": accuracy,
              "longest_recalled": longest_recalled(accuracy),
              "history": [[entry["step"], entry["seconds"], round(entry["validation_nats"], 4)]
                          for entry in result.history]}  # (step, seconds, validation nats) at each validation
    if test_context_size is not None and architecture == "transformer":
        opened = with_context_size(model, test_context_size)
        # A window that holds every tested line sees the same positions read 128 at a time as one at a time.
        chunk = 128 if max(delays) + 16 <= test_context_size else 1
        record["test_context_size"], record["test_chunk"] = test_context_size, chunk
        record["accuracy_opened"] = {
            str(delay): recall_task.recall_accuracy(opened, vocabulary, delay, seed=20_000 + seed, chunk=chunk)
            for delay in delays}
        record["longest_recalled_opened"] = longest_recalled(record["accuracy_opened"])
    return record


def longest_recalled(accuracy: dict, threshold: float = 0.9) -> int | None:
    """The longest delay up to which every tested delay was recalled at least ``threshold`` of the time."""
    longest = None
    for delay in sorted(accuracy, key=int):
        if accuracy[delay] < threshold:
            break
        longest = int(delay)
    return longest


def run_task(task: dict) -> dict:
    """One run of the command's grid, described by plain data (so a worker process can receive it).

    ``task``: ``{"kind": "lm" | "recall", "architecture", "seed", "lr", "train": TrainConfig fields,
    ...}``; ``"lm"`` also takes the corpus ``"splits"``, ``"recall"`` its ``"steps"``, ``"max_delay"``
    and ``"delays"``, and optionally ``"context_size"``, ``"test_context_size"`` and ``"forget_bias"``
    (:func:`recall_run`).
    """
    set_threads(1)
    train_config = TrainConfig(**(task["train"] | {"seed": task["seed"], "lr": task["lr"], "threads": 1}))
    if task["kind"] == "lm":
        return run(task["architecture"], task["splits"], train_config,
                   test_chars=task.get("test_chars")) | {"seed": task["seed"]}
    return recall_run(task["architecture"], task["seed"], task["steps"], task["max_delay"], task["delays"],
                      train_config, context_size=task.get("context_size", 128),
                      test_context_size=task.get("test_context_size"),
                      forget_bias=task.get("forget_bias")) | {"lr": task["lr"]}


def run_all(tasks: list[dict], jobs: int = 1, done=None) -> list[dict]:
    """Every task's result, in order; ``jobs`` worker processes of one thread each; ``done(result)`` after each."""
    if jobs == 1:
        results = []
        for task in tasks:
            results.append(run_task(task))
            if done is not None:
                done(results[-1])
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_task, task) for task in tasks]
        for future in futures:
            if done is not None:
                done(future.result())
        return [future.result() for future in futures]
