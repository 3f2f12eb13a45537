"""The textbook versions the chapters show first compute what the package's checked, faster versions do."""

import numpy as np
import pytest
import torch

from lstm_course.scratch import numpy_lstm, numpy_rnn, plain_lstm, plain_rnn
from lstm_course.scratch.activations import sigmoid

T, B, D, H = 5, 3, 4, 6


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _rnn_params(rng):
    return dict(W_ih=rng.normal(size=(H, D)), W_hh=rng.normal(scale=0.5, size=(H, H)),
                b_ih=rng.normal(size=H), b_hh=rng.normal(size=H))


def test_plain_rnn_forward_and_backward_match_the_package(rng):
    params = _rnn_params(rng)
    x, h0, d_hs = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(T, B, H))
    hs = plain_rnn.rnn_forward(x, h0, **params)
    package_hs, package_h_T, cache = numpy_rnn.rnn_forward(x, h0, **params)
    np.testing.assert_allclose(hs, package_hs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(plain_rnn.rnn_step(x[0], h0, **params), package_hs[0], rtol=0, atol=1e-12)
    plain = plain_rnn.rnn_backward(d_hs, x, h0, hs, params["W_ih"], params["W_hh"])
    package = numpy_rnn.rnn_backward(d_hs, cache)
    assert plain.keys() == package.keys()
    for name in plain:
        np.testing.assert_allclose(plain[name], package[name], rtol=0, atol=1e-12, err_msg=name)


def test_plain_rnn_backward_matches_autograd(rng):
    params = _rnn_params(rng)
    x, h0, d_hs = rng.normal(size=(T, B, D)), rng.normal(size=(B, H)), rng.normal(size=(T, B, H))
    hs = plain_rnn.rnn_forward(x, h0, **params)
    grads = plain_rnn.rnn_backward(d_hs, x, h0, hs, params["W_ih"], params["W_hh"])
    leaves = {name: torch.tensor(value, requires_grad=True) for name, value in dict(x=x, h0=h0, **params).items()}
    h, outputs = leaves["h0"], []
    for t in range(T):
        h = torch.tanh(leaves["x"][t] @ leaves["W_ih"].T + leaves["b_ih"] + h @ leaves["W_hh"].T + leaves["b_hh"])
        outputs.append(h)
    (torch.stack(outputs) * torch.from_numpy(d_hs)).sum().backward()
    for name, leaf in leaves.items():
        np.testing.assert_allclose(grads[name], leaf.grad.numpy(), rtol=0, atol=1e-12, err_msg=name)


def test_plain_lstm_step_matches_the_package_and_nn_lstm(rng):
    params = numpy_lstm.init_params(D, H, rng)
    x_t, h_prev, c_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    h_t, c_t = plain_lstm.lstm_step(x_t, h_prev, c_prev, **params)
    package_h, package_c = numpy_lstm.lstm_step(x_t, h_prev, c_prev, **params)
    np.testing.assert_allclose(h_t, package_h, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_t, package_c, rtol=0, atol=1e-12)
    layer = torch.nn.LSTM(D, H).double()
    with torch.no_grad():
        for name in ("W_ih", "W_hh", "b_ih", "b_hh"):
            torch_name = {"W_ih": "weight_ih_l0", "W_hh": "weight_hh_l0", "b_ih": "bias_ih_l0", "b_hh": "bias_hh_l0"}
            getattr(layer, torch_name[name]).copy_(torch.from_numpy(params[name]))
        _, (torch_h, torch_c) = layer(torch.from_numpy(x_t)[None], (torch.from_numpy(h_prev)[None],
                                                                     torch.from_numpy(c_prev)[None]))
    np.testing.assert_allclose(h_t, torch_h[0].numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(c_t, torch_c[0].numpy(), rtol=0, atol=1e-12)


def test_plain_gates_are_the_package_gates_in_order_i_f_g_o(rng):
    params = numpy_lstm.init_params(D, H, rng)
    x_t, h_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H))
    plain = plain_lstm.lstm_gates(x_t, h_prev, **params)
    package = numpy_lstm.split_gates(numpy_lstm.activate_gates(numpy_lstm.affine(x_t, h_prev, *params.values())))
    for name, ours, theirs in zip(numpy_lstm.GATES, plain, package, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12, err_msg=name)


def test_plain_sigmoid_is_the_stable_sigmoid_where_both_are_finite():
    z = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(plain_lstm.sigmoid(z), sigmoid(z), rtol=1e-12, atol=1e-15)


def test_plain_gate_is_the_package_gate(rng):
    params = numpy_lstm.init_params(D, H, rng)
    x_t, h_prev = rng.normal(size=(B, D)), rng.normal(size=(B, H))
    for name, activation in (("f", sigmoid), ("g", np.tanh)):
        block = numpy_lstm.gate_parameters(name, **params)
        plain_activation = plain_lstm.sigmoid if activation is sigmoid else np.tanh
        np.testing.assert_allclose(plain_lstm.gate(x_t, h_prev, **block, activation=plain_activation),
                                   numpy_lstm.gate(x_t, h_prev, **block, activation=activation),
                                   rtol=0, atol=1e-12, err_msg=name)
