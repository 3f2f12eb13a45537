"""Looking inside a trained language model: gate and cell activations over a passage, and cells
that track a feature of the text (Karpathy, Johnson & Fei-Fei 2015, Fig. 2).

:func:`trace` runs the model one step at a time with the package's own cell
(:func:`lstm_course.models.torch_lstm.gate_activations`, :func:`~lstm_course.models.torch_lstm.cell_and_hidden`)
and records, per layer, every gate ``i, f, g, o``, the cell state ``c`` and the output ``h`` as
``(T, H)`` arrays. :func:`text_features` marks, per character, things a reader can see: inside a
stage direction ``[...]``, inside quotes, position in the line, on a speaker's name line
(``MACBETH.``). :func:`feature_correlations` correlates every unit with a feature, so the best
match is a measured number rather than a picked example.
"""

from __future__ import annotations

import re

import numpy as np
import torch

from lstm_course.models.language_model import CharLSTM
from lstm_course.models.torch_lstm import cell_and_hidden, gate_activations
from lstm_course.tasks.vocabulary import Vocabulary

QUANTITIES = ("input_gate", "forget_gate", "candidate", "output_gate", "cell", "hidden")


@torch.no_grad()
def trace_lstm_layer(lstm: torch.nn.Module, layer: int, layer_input: torch.Tensor) -> dict[str, np.ndarray]:
    """``{quantity: (T, B, H) array}`` for each of :data:`QUANTITIES` of one layer, from a zero state.

    ``lstm``: any module whose weights are named as ``nn.LSTM``'s (``weight_ih_l{layer}``, ...);
    ``layer_input``: ``(T, B, D)``. Runs the package's own cell one step at a time.
    """
    weight_ih, weight_hh = getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")
    bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
    projection = layer_input @ weight_ih.t() + bias  # (T, B, 4H)
    h = c = torch.zeros(layer_input.shape[1], weight_hh.shape[1])
    record = {name: [] for name in QUANTITIES}
    for step_projection in projection:
        activations = gate_activations(step_projection, h, weight_hh)
        h, c, _ = cell_and_hidden(activations, c)
        for name, value in zip(QUANTITIES[:4], activations.chunk(4, dim=1), strict=True):
            record[name].append(value)
        record["cell"].append(c)
        record["hidden"].append(h)
    return {name: torch.stack(values).numpy() for name, values in record.items()}


@torch.no_grad()
def trace(model: CharLSTM, vocabulary: Vocabulary, text: str) -> list[dict[str, np.ndarray]]:
    """Per layer, ``{quantity: (len(text), H) array}`` for each of :data:`QUANTITIES`, from a zero state.

    Equal to the model's own forward pass (checked in the tests): the same weights, the same
    ``i, f, g, o`` layout.
    """
    model.eval()
    layer_input = model.embedding(torch.from_numpy(vocabulary.encode(text)))[:, None]  # (T, 1, E)
    layers = []
    for layer in range(model.config.num_layers):
        traced = trace_lstm_layer(model.lstm, layer, layer_input)
        layers.append({name: values[:, 0] for name, values in traced.items()})
        layer_input = torch.from_numpy(traced["hidden"])
    return layers


SPEAKER_LINE = re.compile(r"^[A-Z][A-Z '\-]*[A-Z]\.$")


def text_features(text: str) -> dict[str, np.ndarray]:
    """Per-character features, each ``(len(text),)`` float:

    * ``inside_brackets``: 1 between ``[`` and ``]`` (stage directions), else 0;
    * ``inside_quotes``: 1 between an opening and a closing ``"``, else 0;
    * ``position_in_line``: characters since the last newline;
    * ``speaker_name``: 1 on a line that is a speaker's name in capitals, such as ``MACBETH.``.
    """
    inside_brackets, inside_quotes, position = np.zeros(len(text)), np.zeros(len(text)), np.zeros(len(text))
    speaker = np.zeros(len(text))
    depth, quoted, column = 0, False, 0
    for t, character in enumerate(text):
        if character == "[":
            depth += 1
        inside_brackets[t] = depth > 0
        if character == "]":
            depth = max(depth - 1, 0)
        if character == '"':
            quoted = not quoted
            inside_quotes[t] = 1
        else:
            inside_quotes[t] = quoted
        position[t] = column
        column = 0 if character == "\n" else column + 1
    offset = 0
    for line in text.split("\n"):
        if SPEAKER_LINE.match(line):
            speaker[offset : offset + len(line)] = 1
        offset += len(line) + 1
    return {"inside_brackets": inside_brackets, "inside_quotes": inside_quotes,
            "position_in_line": position, "speaker_name": speaker}


def feature_correlations(values: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson correlation of each unit (column of ``values`` ``(T, H)``) with ``feature`` ``(T,)``; ``(H,)``.

    A constant unit or feature gets correlation 0.
    """
    values, feature = np.asarray(values, dtype=np.float64), np.asarray(feature, dtype=np.float64)
    if values.ndim != 2 or feature.shape != (values.shape[0],):
        raise ValueError(f"values, feature: expected shapes (T, H) and (T,), got {values.shape} and {feature.shape}")
    centred_values = values - values.mean(axis=0)
    centred_feature = feature - feature.mean()
    denominator = np.sqrt((centred_values**2).sum(axis=0) * (centred_feature**2).sum())
    covariance = centred_feature @ centred_values
    return np.divide(covariance, denominator, out=np.zeros_like(covariance), where=denominator > 0)


def best_units(values: np.ndarray, features: dict[str, np.ndarray]) -> dict[str, tuple[int, float]]:
    """For each feature, the unit with the largest absolute correlation and that correlation (signed)."""
    best = {}
    for name, feature in features.items():
        correlations = feature_correlations(values, feature)
        unit = int(np.argmax(np.abs(correlations)))
        best[name] = (unit, float(correlations[unit]))
    return best
