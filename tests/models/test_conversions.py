import numpy as np
import pytest
import torch

from lstm_course.models import conversions
from lstm_course.scratch import numpy_lstm
from lstm_course.scratch.activations import sigmoid


def keras_lstm_step(x_t, h, c, kernel, recurrent_kernel, bias):
    """Keras's LSTM cell written independently: row vectors times (D, 4H) kernels, gates i, f, c, o."""
    z = x_t @ kernel + h @ recurrent_kernel + bias
    i, f, candidate, o = np.split(z, 4, axis=1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(candidate)
    return sigmoid(o) * np.tanh(c), c


def test_keras_weights_run_identically_in_nn_lstm(rng):
    D, H, B, T = 3, 4, 2, 5
    kernel, recurrent_kernel, bias = rng.normal(size=(D, 4 * H)), rng.normal(size=(H, 4 * H)), rng.normal(size=4 * H)
    lstm = torch.nn.LSTM(D, H).double()
    state = conversions.keras_lstm_to_torch(kernel, recurrent_kernel, bias)
    lstm.load_state_dict({name: torch.from_numpy(value) for name, value in state.items()})
    x = rng.normal(size=(T, B, D))
    h = c = np.zeros((B, H))
    for t in range(T):
        h, c = keras_lstm_step(x[t], h, c, kernel, recurrent_kernel, bias)
    with torch.no_grad():
        _, (h_n, _) = lstm(torch.from_numpy(x))
    np.testing.assert_allclose(h_n[0].numpy(), h, atol=1e-12)


def test_ifog_reordering_matches_a_cell_written_in_that_order(rng):
    D, H, B = 3, 4, 2
    W_x, W_h, b = rng.normal(size=(4 * H, D)), rng.normal(size=(4 * H, H)), rng.normal(size=4 * H)
    x_t, h, c = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    z = x_t @ W_x.T + h @ W_h.T + b  # char-rnn / CS231n: blocks i, f, o, g
    i, f, o, g = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H]), sigmoid(z[:, 2 * H:3 * H]), np.tanh(z[:, 3 * H:])
    c_expected = f * c + i * g
    params = dict(W_ih=conversions.ifog_to_ifgo(W_x), W_hh=conversions.ifog_to_ifgo(W_h),
                  b_ih=conversions.ifog_to_ifgo(b), b_hh=np.zeros(4 * H))
    h_t, c_t = numpy_lstm.lstm_step(x_t, h, c, **params)
    np.testing.assert_allclose(c_t, c_expected, atol=1e-12)
    np.testing.assert_allclose(h_t, o * np.tanh(c_expected), atol=1e-12)


def test_bad_shapes_are_named(rng):
    with pytest.raises(ValueError, match=r"kernel: expected 4H columns"):
        conversions.keras_lstm_to_torch(rng.normal(size=(3, 10)), rng.normal(size=(2, 10)), rng.normal(size=10))
    with pytest.raises(ValueError, match=r"recurrent_kernel: expected shape \(H, 4H\) = \(2, 8\), got \(8, 2\)"):
        conversions.keras_lstm_to_torch(rng.normal(size=(3, 8)), rng.normal(size=(8, 2)), rng.normal(size=8))


def test_keras_default_initialisation(rng):
    kernel, recurrent_kernel, bias = conversions.keras_default_initialisation(2, 8, rng)
    assert kernel.shape == (2, 32) and recurrent_kernel.shape == (8, 32) and bias.shape == (32,)
    assert np.abs(kernel).max() <= np.sqrt(6 / 34)
    np.testing.assert_allclose(recurrent_kernel @ recurrent_kernel.T, np.eye(8), atol=1e-12)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(8), np.ones(8), np.zeros(16)])
