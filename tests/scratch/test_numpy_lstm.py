"""The NumPy LSTM forward, and the LSTM backward passes the course has: chapter 6's reference answers
(the instructor's solution cells, not in the package: the plain loop over the step and the fast one) and
the autograd route the package's tools use."""

from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_course.scratch import numpy_lstm
from lstm_course.scratch.activations import sigmoid
from lstm_course.scratch.autograd_gradients import lstm_backward_by_autograd
from lstm_course.scratch.gradcheck import gradient_errors
from lstm_instructor import reference_answers

CHAPTER_6 = Path(__file__).resolve().parents[2] / "chapters" / "06_lstm_from_scratch.ipynb"
ANSWERS = reference_answers.load(CHAPTER_6)


def plain_answer(d_hs, x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Chapter 6's lstm_backward on the cache of its lstm_forward (the plain loops)."""
    return ANSWERS["lstm_backward"](d_hs, ANSWERS["lstm_forward"](x, h0, c0, W_ih, W_hh, b_ih, b_hh)[1])


def fast_answer(d_hs, x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Chapter 6's lstm_backward_fast on the cache of the package's numpy_lstm.lstm_forward."""
    return ANSWERS["lstm_backward_fast"](d_hs, numpy_lstm.lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh)[2])


BACKWARDS = {"chapter 6's plain answer": plain_answer, "chapter 6's fast answer": fast_answer,
             "autograd": lstm_backward_by_autograd}

T, B, D, H = 5, 3, 4, 6
TORCH_NAMES = dict(W_ih="weight_ih_l0", W_hh="weight_hh_l0", b_ih="bias_ih_l0", b_hh="bias_hh_l0")


def make_inputs(rng, dtype=np.float64):
    params = dict(
        W_ih=rng.normal(scale=0.5, size=(4 * H, D)),
        W_hh=rng.normal(scale=0.5, size=(4 * H, H)),
        b_ih=rng.normal(size=4 * H),
        b_hh=rng.normal(size=4 * H),
    )
    arrays = dict(x=rng.normal(size=(T, B, D)), h0=rng.normal(size=(B, H)), c0=rng.normal(size=(B, H)), **params)
    return {name: value.astype(dtype) for name, value in arrays.items()}


def torch_lstm_with(inputs):
    lstm = torch.nn.LSTM(D, H).double()
    with torch.no_grad():
        for ours, theirs in TORCH_NAMES.items():
            getattr(lstm, theirs).copy_(torch.from_numpy(inputs[ours]))
    return lstm


def params_of(inputs):
    return {name: inputs[name] for name in TORCH_NAMES}


@pytest.mark.parametrize("backward", BACKWARDS.values(), ids=BACKWARDS.keys())
def test_forward_and_every_gradient_match_torch_lstm(rng, backward):
    inputs = make_inputs(rng)
    d_hs = rng.normal(size=(T, B, H))
    hs, (h_T, c_T), _ = numpy_lstm.lstm_forward(**inputs)
    grads = backward(d_hs, **inputs)

    lstm = torch_lstm_with(inputs)
    x = torch.from_numpy(inputs["x"]).requires_grad_()
    h0 = torch.from_numpy(inputs["h0"])[None].clone().requires_grad_()
    c0 = torch.from_numpy(inputs["c0"])[None].clone().requires_grad_()
    out, (h_n, c_n) = lstm(x, (h0, c0))
    (out * torch.from_numpy(d_hs)).sum().backward()

    np.testing.assert_allclose(hs, out.detach().numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(h_T, h_n[0].detach().numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(c_T, c_n[0].detach().numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(grads["x"], x.grad.numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(grads["h0"], h0.grad[0].numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(grads["c0"], c0.grad[0].numpy(), rtol=0, atol=1e-9)
    for ours, theirs in TORCH_NAMES.items():
        np.testing.assert_allclose(grads[ours], getattr(lstm, theirs).grad.numpy(), rtol=0, atol=1e-9)


@pytest.mark.parametrize("backward", BACKWARDS.values(), ids=BACKWARDS.keys())
def test_backward_matches_finite_differences(rng, backward):
    inputs = make_inputs(rng)
    d_hs = rng.normal(size=(T, B, H))
    grads = backward(d_hs, **inputs)

    def loss():
        hs, _, _ = numpy_lstm.lstm_forward(**inputs)
        return np.sum(hs * d_hs)

    errors = gradient_errors(loss, inputs, grads)
    assert set(errors) == {"x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh"}
    assert max(errors.values()) < 1e-6, errors


def test_the_step_answer_matches_the_sequence_answer_for_one_step(rng):
    """Chapter 6's answers agree: one step backwards is the sequence backwards with T = 1."""
    inputs = make_inputs(rng)
    d_h = rng.normal(size=(B, H))
    *_, step_cache = ANSWERS["lstm_step_forward"](inputs["x"][0], inputs["h0"], inputs["c0"], **params_of(inputs))
    step = ANSWERS["lstm_step_backward"](d_h, np.zeros((B, H)), step_cache)
    sequence = plain_answer(d_h[None], **dict(inputs, x=inputs["x"][:1]))
    for ours, theirs in (("x_t", "x"), ("h_prev", "h0"), ("c_prev", "c0"), *[(name, name) for name in TORCH_NAMES]):
        np.testing.assert_allclose(step[ours], sequence[theirs][0] if theirs == "x" else sequence[theirs], atol=1e-12)


def test_one_step_functions_agree_with_the_sequence_forward(rng):
    inputs = make_inputs(rng)
    hs, _, cache = numpy_lstm.lstm_forward(**inputs)
    x_t, h_prev, c_prev = inputs["x"][0], inputs["h0"], inputs["c0"]
    h_1, c_1 = numpy_lstm.lstm_step(x_t, h_prev, c_prev, **params_of(inputs))
    np.testing.assert_allclose(h_1, hs[0], atol=1e-14)
    np.testing.assert_allclose(c_1, cache["cs"][0], atol=1e-14)

    # Gate by gate, with each gate's own block of the stacked weights.
    gates = {}
    for name in numpy_lstm.GATES:
        activation = np.tanh if name == "g" else sigmoid
        block = numpy_lstm.gate_parameters(name, **params_of(inputs))
        gates[name] = numpy_lstm.gate(x_t, h_prev, activation=activation, **block)
    c_by_gates = numpy_lstm.cell_update(c_prev, gates["f"], gates["i"], gates["g"])
    np.testing.assert_allclose(c_by_gates, c_1, atol=1e-14)
    np.testing.assert_allclose(numpy_lstm.hidden_state(gates["o"], c_by_gates), h_1, atol=1e-14)


def test_gate_blocks_follow_torch_order(rng):
    inputs = make_inputs(rng)
    lstm = torch_lstm_with(inputs)
    forget_rows = lstm.weight_ih_l0.detach().numpy()[H:2 * H]  # PyTorch: W_ii | W_if | W_ig | W_io
    np.testing.assert_array_equal(numpy_lstm.gate_parameters("f", **params_of(inputs))["W_x"], forget_rows)
    with pytest.raises(ValueError, match=r"gate: expected one of \('i', 'f', 'g', 'o'\), got 'c'"):
        numpy_lstm.gate_slice("c", H)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("backward", BACKWARDS.values(), ids=BACKWARDS.keys())
def test_dtype_is_preserved(rng, dtype, backward):
    inputs = make_inputs(rng, dtype)
    hs, (h_T, c_T), cache = numpy_lstm.lstm_forward(**inputs)
    grads = backward(np.ones_like(hs), **inputs)
    assert hs.dtype == h_T.dtype == c_T.dtype == dtype
    assert all(g.dtype == dtype for g in grads.values())


def test_huge_preactivations_stay_finite_without_warnings(rng):
    inputs = make_inputs(rng)
    inputs["b_ih"] = np.tile([1000.0, -1000.0], 2 * H)  # pre-activations of about +-1000
    with np.errstate(all="raise"):
        hs, (h_T, c_T), cache = numpy_lstm.lstm_forward(**inputs)
        grads = fast_answer(np.ones_like(hs), **inputs)  # the plain sigmoid, 1 / (1 + exp(-a)), overflows here
    assert np.all(np.isfinite(hs)) and np.all(np.isfinite(c_T))
    assert all(np.all(np.isfinite(g)) for g in grads.values())
    gates = numpy_lstm.activate_gates(np.array([[-1000.0, 1000.0] * 2]))
    assert np.all((gates >= -1) & (gates <= 1))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.update(x=a["x"][:, :, :2]), r"x: expected shape \(T, B, D\) = \(5, 3, 4\), got \(5, 3, 2\)"),
        (lambda a: a.update(h0=a["h0"][:2]), r"h0: expected shape \(B, H\) = \(3, 6\), got \(2, 6\)"),
        (lambda a: a.update(c0=a["c0"][:, :5]), r"c0: expected shape \(B, H\) = \(3, 6\), got \(3, 5\)"),
        (lambda a: a.update(W_ih=a["W_ih"][:22]), r"W_ih: expected 4H rows .*got shape \(22, 4\)"),
        (lambda a: a.update(W_hh=a["W_hh"][:20]), r"W_hh: expected shape \(4H, H\) = \(24, 6\), got \(20, 6\)"),
        (lambda a: a.update(b_hh=a["b_hh"][:6]), r"b_hh: expected shape \(4H,\) = \(24,\), got \(6,\)"),
        (lambda a: a.update(c0=a["c0"].astype(np.float32)), r"c0: expected dtype float64"),
    ],
)
def test_bad_input_names_the_argument_and_shapes(rng, change, message):
    inputs = make_inputs(rng)
    change(inputs)
    with pytest.raises(ValueError, match=message):
        numpy_lstm.lstm_forward(**inputs)


def test_concatenated_form_gives_the_same_gate(rng):
    inputs = make_inputs(rng)
    block = numpy_lstm.gate_parameters("f", **params_of(inputs))
    W_f, b_f = numpy_lstm.concatenated_form(**block)
    assert W_f.shape == (H, H + D) and b_f.shape == (H,)
    x_t, h_prev = inputs["x"][0], inputs["h0"]
    concatenated = sigmoid(np.concatenate([h_prev, x_t], axis=1) @ W_f.T + b_f)
    np.testing.assert_allclose(concatenated, numpy_lstm.gate(x_t, h_prev, **block), atol=1e-14)


def test_with_no_recurrent_weights_the_cell_gradient_is_the_product_of_forget_gates(rng):
    """dc_T/dc_0 = prod_t diag(f_t) exactly, once W_hh removes the paths through h."""
    inputs = make_inputs(rng)
    inputs["W_hh"] = np.zeros_like(inputs["W_hh"])
    hs, _, cache = numpy_lstm.lstm_forward(**inputs)
    grads = lstm_backward_by_autograd(np.zeros_like(hs), **inputs, d_cT=np.ones((B, H)))
    forget_gates = numpy_lstm.split_gates(cache["gates"])[1]
    np.testing.assert_allclose(grads["c0"], forget_gates.prod(axis=0), rtol=1e-12)


def test_halving_the_sigmoid_rows_of_the_weights_leaves_every_gate_bit_for_bit_the_same():
    rng = np.random.default_rng(3)
    params = numpy_lstm.init_params(5, 4, rng, dtype=np.float32)
    x, h = rng.normal(size=(3, 5)).astype(np.float32), rng.normal(size=(3, 4)).astype(np.float32)
    scale = numpy_lstm.sigmoid_rows_halved(4, np.float32)
    assert scale.tolist() == [0.5] * 8 + [1.0] * 4 + [0.5] * 4  # i, f, g, o
    gates = numpy_lstm.activate_gates(numpy_lstm.affine(x, h, *params.values()))
    halved = {name: value * (scale[:, None] if value.ndim == 2 else scale) for name, value in params.items()}
    by_halved_rows = np.tanh(numpy_lstm.affine(x, h, *halved.values())) * scale + (1 - scale)
    np.testing.assert_array_equal(by_halved_rows, gates)
