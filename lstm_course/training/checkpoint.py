"""Language-model checkpoints: written atomically, read with ``torch.load(..., weights_only=True)``.

A checkpoint is one file holding plain data only (tensors, numbers, strings, lists, dicts), so it
loads without unpickling arbitrary objects::

    format        "lstm_course.char_lstm/1"
    model_config  dict of ModelConfig        vocabulary  list of symbols (Vocabulary.to_list)
    train_config  dict of TrainConfig        model       state_dict of the latest weights
    best_model    state_dict of the weights with the best validation loss so far
    optimiser     Adam's state_dict          progress    counters, history, RNG state (to resume)

:func:`save` writes to a temporary file in the same folder, flushes it to disk and renames it
over the target, so an interrupt or a full disk never leaves a half-written checkpoint where a
good one was. :func:`load` turns every way a file can be wrong (missing, truncated, not a
checkpoint, another format) into a :class:`CheckpointError` with one line saying what and where.
"""

from __future__ import annotations

from pathlib import Path

import torch

from lstm_course.plumbing.atomic import atomic_write

FORMAT = "lstm_course.char_lstm/1"
REQUIRED_KEYS = ("format", "model_config", "train_config", "vocabulary", "model", "best_model", "optimiser", "progress")


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint of this course."""


def save(checkpoint: dict, path) -> Path:
    """Write ``checkpoint`` to ``path`` atomically (temporary file, fsync, rename); return the path."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder; expected a checkpoint file name such as {path / 'model.pt'}")
    with atomic_write(path, "wb") as file:
        torch.save(checkpoint, file)
    return path


def load(path) -> dict:
    """Read a checkpoint written by :func:`save`; raise :class:`CheckpointError` for anything else."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file (train one with `python -m lstm_course train-lm`)")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated zip, foreign pickle, text file, ...: all one message
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0].split(". ")[0]
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(error).__name__}: {reason[:160]})") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        found = checkpoint.get("format") if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise CheckpointError(f"{path}: expected a checkpoint of format {FORMAT!r}, found {found!r}")
    missing = [key for key in REQUIRED_KEYS if key not in checkpoint]
    if missing:
        raise CheckpointError(f"{path}: checkpoint is missing {missing}")
    problem = _first_problem(checkpoint)
    if problem:
        raise CheckpointError(f"{path}: not a usable checkpoint: {problem}")
    return checkpoint


PROGRESS_FIELDS = {"steps": int, "characters": int, "seconds": float, "epoch": int, "batch_in_epoch": int,
                   "best_validation_nats": float, "evaluations_without_improvement": int, "history": list}
"""The counters a resumed run continues from, and their types (an int is a float too)."""


def _is(value, kind) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, kind) and not isinstance(value, bool)


def _first_problem(checkpoint: dict) -> str | None:
    """What is wrong with a checkpoint's fields, in a few words, or ``None``: checked before anything reads them."""
    for key in ("model_config", "train_config", "progress", "optimiser"):
        if not isinstance(checkpoint[key], dict):
            return f"{key} is a {type(checkpoint[key]).__name__}, expected a dict"
    for key in ("model", "best_model"):
        weights = checkpoint[key]
        if not isinstance(weights, dict) or not weights or not all(
                isinstance(name, str) and isinstance(tensor, torch.Tensor) for name, tensor in weights.items()):
            return f"{key} is not a dict of named tensors"
    vocabulary = checkpoint["vocabulary"]
    if not isinstance(vocabulary, list) or not vocabulary or not all(isinstance(symbol, str) for symbol in vocabulary):
        return "vocabulary is not a list of symbols"
    progress = checkpoint["progress"]
    for name, kind in PROGRESS_FIELDS.items():
        if name not in progress:
            return f"progress has no {name!r}"
        if not _is(progress[name], kind) or (kind is int and progress[name] < 0):
            return f"progress[{name!r}] is {progress[name]!r}, expected a non-negative {kind.__name__}"
    optimiser = checkpoint["optimiser"]
    if not isinstance(optimiser.get("state"), dict) or not isinstance(optimiser.get("param_groups"), list):
        return "optimiser is not an optimiser's state_dict (no 'state' and 'param_groups')"
    steps = {int(state["step"]) for state in optimiser["state"].values()
             if isinstance(state, dict) and isinstance(state.get("step"), torch.Tensor)}
    if steps and steps != {progress["steps"]}:
        return f"the optimiser has taken {sorted(steps)} steps but progress says {progress['steps']}"
    return None
