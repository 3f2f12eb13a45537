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

from lstm_course.atomic import atomic_write

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
    return checkpoint
