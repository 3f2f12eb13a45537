"""The conversions and the checks' Keras simulators, against real Keras 3 (PyTorch backend, no TensorFlow).

tests/models/test_conversions.py tests the conversions against Keras's cells written out in NumPy; this file
runs the real layers, so a Keras release that changed a layout, a gate order or an initialiser would fail
here. Keras picks its backend once, at import: ``KERAS_BACKEND`` is set before the first import.
"""

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402  (requirements.txt pins it: a missing Keras is a failure, not a skip)

from lstm_course.exercises import checks  # noqa: E402
from lstm_course.models import conversions
from lstm_course.scratch import numpy_lstm

# Keras 3.15 converts its tensors with np.array(x, copy=False), which NumPy 2 reports as deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")

D, H, B, T = 3, 5, 2, 6


@pytest.fixture(autouse=True)
def _torch_backend():
    assert keras.backend.backend() == "torch", f"Keras runs on {keras.backend.backend()!r}, expected 'torch'"
    keras.utils.set_random_seed(0)


def _random_weights(layer, rng):
    layer.set_weights([rng.normal(scale=0.5, size=w.shape).astype("float32") for w in layer.get_weights()])
    return [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]


def test_a_keras_lstm_runs_identically_in_nn_lstm_and_numpy_lstm(rng):
    layer = keras.layers.LSTM(H, return_sequences=True)
    x = rng.normal(size=(B, T, D)).astype("float32")
    layer.build((B, T, D))
    kernel, recurrent_kernel, bias = _random_weights(layer, rng)
    keras_hs = np.asarray(keras.ops.convert_to_numpy(layer(x)), dtype=np.float64)  # (B, T, H)
    state = conversions.keras_lstm_to_torch(kernel, recurrent_kernel, bias)
    torch_lstm = torch.nn.LSTM(D, H, batch_first=True).double()
    torch_lstm.load_state_dict({name: torch.from_numpy(value) for name, value in state.items()})
    with torch.no_grad():
        torch_hs = torch_lstm(torch.from_numpy(x.astype(np.float64)))[0].numpy()
    zeros = np.zeros((B, H))
    numpy_hs, _, _ = numpy_lstm.lstm_forward(x.transpose(1, 0, 2).astype(np.float64), zeros, zeros,
                                             W_ih=state["weight_ih_l0"], W_hh=state["weight_hh_l0"],
                                             b_ih=state["bias_ih_l0"], b_hh=state["bias_hh_l0"])
    np.testing.assert_allclose(torch_hs, keras_hs, atol=1e-5)  # Keras ran in float32
    np.testing.assert_allclose(numpy_hs.transpose(1, 0, 2), keras_hs, atol=1e-5)


def test_the_checks_keras_gru_step_is_keras_gru(rng):
    layer = keras.layers.GRU(H)  # reset_after=True, Keras's default
    x_t = rng.normal(size=(B, 1, D)).astype("float32")
    h_prev = rng.normal(size=(B, H)).astype("float32")
    layer.build((B, 1, D))
    kernel, recurrent_kernel, bias = _random_weights(layer, rng)
    keras_h = np.asarray(keras.ops.convert_to_numpy(layer(x_t, initial_state=h_prev)), dtype=np.float64)
    ours = checks.keras_gru_step(kernel, recurrent_kernel, bias, x_t[:, 0].astype(np.float64),
                                 h_prev.astype(np.float64))
    np.testing.assert_allclose(ours, keras_h, atol=1e-5)


def test_keras_default_initialisation_is_kerass():
    layer = keras.layers.LSTM(8)
    layer.build((1, 1, 2))
    kernel, recurrent_kernel, bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
    ours = conversions.keras_default_initialisation(2, 8, np.random.default_rng(0))
    for theirs, mine in zip((kernel, recurrent_kernel, bias), ours, strict=True):
        assert theirs.shape == mine.shape
    np.testing.assert_array_equal(bias, ours[2])  # zeros, ones for the forget gate
    np.testing.assert_allclose(recurrent_kernel @ recurrent_kernel.T, np.eye(8), atol=1e-5)  # orthogonal rows
    limit = np.sqrt(6 / (2 + 4 * 8))  # Glorot-uniform
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
