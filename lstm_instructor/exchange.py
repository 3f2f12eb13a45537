"""What crosses the sandbox wall: exercise inputs in, outputs back, as JSON and ``.npz``, never pickle.

Going in (:func:`encode_inputs` / :func:`decode_inputs`): a manifest (JSON) naming each trial's
arguments, and the arrays in one ``.npz`` under keys ``EXERCISE/TRIAL/ARGUMENT`` (a dict of arrays,
a package forward pass's cache, under ``EXERCISE/TRIAL/ARGUMENT/KEY``).

Coming back (:func:`flatten_output`): whatever a function returned, flattened to arrays keyed by
their place in it: ``""`` for a single array, ``"0"``, ``"1"`` for a tuple, ``"W_ih"`` for a dict,
``"0/W_ih"`` for a dict inside a tuple. :func:`read_npz` opens what a submission sent without
unpickling anything and without inflating more than a given number of bytes.

On the pipes, each message is a frame (:func:`frame`): its length in 8 bytes, then a JSON line and
``.npz`` bytes (:func:`message`). The grader knows a message is complete when its frame is
(:func:`frame_end`): the runner's report of the ordinary trials, then, in the timed phase, the timed
inputs going in and each timed answer coming back.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping

import numpy as np

from lstm_course.exercises.exercise_inputs import Function, Tensor, Trial

NUMERIC_KINDS = "biuf"  # bool, signed and unsigned integers, floats (not complex, not structured)


def encode_inputs(trials_by_exercise: Mapping[str, list[Trial]]) -> tuple[dict, dict[str, np.ndarray]]:
    """``(manifest, arrays)`` for every exercise's trials; the manifest is JSON-ready."""
    manifest, arrays = {}, {}
    for exercise, trials in trials_by_exercise.items():
        encoded = []
        for number, trial in enumerate(trials):
            arguments = {}
            for name, value in trial.kwargs.items():
                key = f"{exercise}/{number}/{name}"
                if isinstance(value, Tensor):
                    arrays[key] = np.asarray(value.array)
                    arguments[name] = {"tensor": key}
                elif isinstance(value, Function):
                    arguments[name] = {"function": value.name}
                    if value.scale is not None:  # the grader's secret variation of it
                        for part in ("scale", "shift"):
                            arrays[f"{key}/{part}"] = np.asarray(getattr(value, part))
                            arguments[name][part] = f"{key}/{part}"
                elif isinstance(value, np.ndarray):
                    arrays[key] = value
                    arguments[name] = {"array": key}
                elif isinstance(value, Mapping) and all(isinstance(item, np.ndarray) for item in value.values()):
                    arguments[name] = {"arrays": {}}  # a cache, computed by the grader (exercise_inputs.CACHE)
                    for part, item in value.items():
                        arrays[f"{key}/{part}"] = item
                        arguments[name]["arrays"][part] = f"{key}/{part}"
                elif value is None or isinstance(value, bool | int | float):
                    arguments[name] = {"value": value}
                else:
                    raise TypeError(f"{exercise}: argument {name} is a {type(value).__name__}; expected data")
            encoded.append({"description": trial.description, "arguments": arguments})
        manifest[exercise] = encoded
    return manifest, arrays


def decode_inputs(manifest: Mapping, arrays: Mapping[str, np.ndarray]) -> dict[str, list[Trial]]:
    """The trials :func:`encode_inputs` encoded, with tensors and functions as markers again."""
    decoded = {}
    for exercise, trials in manifest.items():
        decoded[exercise] = []
        for trial in trials:
            kwargs = {}
            for name, value in trial["arguments"].items():
                if "tensor" in value:
                    kwargs[name] = Tensor(arrays[value["tensor"]])
                elif "function" in value:
                    kwargs[name] = Function(value["function"], *(arrays[value[part]] if part in value else None
                                                                 for part in ("scale", "shift")))
                elif "array" in value:
                    kwargs[name] = arrays[value["array"]]
                elif "arrays" in value:
                    kwargs[name] = {part: arrays[key] for part, key in value["arrays"].items()}
                else:
                    kwargs[name] = value["value"]
            decoded[exercise].append(Trial(trial["description"], kwargs))
    return decoded


def flatten_output(value, prefix: str = "") -> dict[str, np.ndarray]:
    """Arrays keyed by their place in ``value`` (a tensor, array, number, or tuple/list/dict of them).

    Raises ``TypeError`` for anything that is not numbers (strings, objects, ``None``).
    """
    if isinstance(value, Mapping):
        flat = {}
        for key, item in value.items():
            flat.update(flatten_output(item, f"{prefix}/{key}" if prefix else str(key)))
        return flat
    if isinstance(value, tuple | list):
        flat = {}
        for position, item in enumerate(value):
            flat.update(flatten_output(item, f"{prefix}/{position}" if prefix else str(position)))
        return flat
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"returned {type(value).__name__} ({array.dtype}); expected numbers")
    return {prefix: array}


def to_npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def read_npz(data: bytes, max_bytes: int) -> dict[str, np.ndarray]:
    """The arrays in ``data``: numeric only, no pickles, at most ``max_bytes`` once inflated.

    Raises ``ValueError`` with the reason for anything else.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"not an .npz file ({error})") from None
    if inflated > max_bytes:
        raise ValueError(f"outputs of {inflated} bytes once inflated; the limit is {max_bytes}")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
        for key, array in arrays.items():
            if type(array) is not np.ndarray:  # a member that is not .npy data comes back as raw bytes
                raise ValueError(f"{key[:60]}: not an array")
            if array.dtype.kind not in NUMERIC_KINDS or array.dtype.fields is not None:
                raise ValueError(f"{key[:60]}: {array.dtype} array; expected numbers")
    except ValueError:
        raise
    except Exception as error:  # a hostile file can fail in many ways; none of them is trusted
        raise ValueError(f"unreadable .npz ({type(error).__name__}: {str(error)[:100]})") from None
    return arrays


FRAME_HEADER = 8
"""Bytes of a frame's length, big-endian, before its payload."""


def frame(payload: bytes) -> bytes:
    """``payload`` with its length first: one message on a pipe."""
    return len(payload).to_bytes(FRAME_HEADER, "big") + payload


def frame_end(data: bytes, start: int = 0) -> int | None:
    """Where the frame that starts at ``start`` of ``data`` ends, or ``None`` if it is not complete yet."""
    if len(data) < start + FRAME_HEADER:
        return None
    end = start + FRAME_HEADER + int.from_bytes(data[start:start + FRAME_HEADER], "big")
    return end if len(data) >= end else None


def frames(data: bytes) -> list[bytes]:
    """The payloads of the complete frames at the start of ``data`` (an incomplete last one is left out)."""
    payloads, start = [], 0
    while (end := frame_end(data, start)) is not None:
        payloads.append(data[start + FRAME_HEADER:end])
        start = end
    return payloads


def message(header: Mapping, arrays: Mapping[str, np.ndarray]) -> bytes:
    """A frame's payload: ``header`` as one JSON line, then ``arrays`` as ``.npz`` bytes."""
    return json.dumps(header).encode() + b"\n" + to_npz_bytes(arrays)


def read_frame(file) -> bytes | None:
    """The payload of the next frame read from the binary ``file``; ``None`` at its end (or a frame cut short)."""
    header = file.read(FRAME_HEADER)
    if len(header) < FRAME_HEADER:
        return None
    size = int.from_bytes(header, "big")
    payload = file.read(size)
    return payload if len(payload) == size else None
