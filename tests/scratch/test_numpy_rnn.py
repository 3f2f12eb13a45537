import numpy as np
import pytest
import torch

from lstm_course.scratch import numpy_rnn
from lstm_course.scratch.gradcheck import gradient_errors

T, B, D, H = 6, 3, 4, 5


def make_inputs(rng, dtype=np.float64):
    params = dict(
        W_ih=rng.normal(scale=0.5, size=(H, D)),
        W_hh=rng.normal(scale=0.5, size=(H, H)),
        b_ih=rng.normal(size=H),
        b_hh=rng.normal(size=H),
    )
    x = rng.normal(size=(T, B, D))
    h0 = rng.normal(size=(B, H))
    cast = {name: value.astype(dtype) for name, value in params.items()}
    return x.astype(dtype), h0.astype(dtype), cast


def torch_rnn_with(params):
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh").double()
    names = dict(W_ih="weight_ih_l0", W_hh="weight_hh_l0", b_ih="bias_ih_l0", b_hh="bias_hh_l0")
    with torch.no_grad():
        for ours, theirs in names.items():
            getattr(rnn, theirs).copy_(torch.from_numpy(params[ours]))
    return rnn, names


def test_forward_matches_torch_rnn(rng):
    x, h0, params = make_inputs(rng)
    hs, h_T, _ = numpy_rnn.rnn_forward(x, h0, **params)
    rnn, _ = torch_rnn_with(params)
    expected, expected_h_T = rnn(torch.from_numpy(x), torch.from_numpy(h0)[None])
    np.testing.assert_allclose(hs, expected.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(h_T, expected_h_T[0].detach().numpy(), atol=1e-12)


def test_backward_matches_torch_autograd(rng):
    x, h0, params = make_inputs(rng)
    d_hs, d_hT = rng.normal(size=(T, B, H)), rng.normal(size=(B, H))
    _, _, cache = numpy_rnn.rnn_forward(x, h0, **params)
    grads = numpy_rnn.rnn_backward(d_hs, cache, d_hT=d_hT)

    rnn, names = torch_rnn_with(params)
    x_t = torch.from_numpy(x).requires_grad_()
    h0_t = torch.from_numpy(h0)[None].clone().requires_grad_()
    out, h_n = rnn(x_t, h0_t)
    ((out * torch.from_numpy(d_hs)).sum() + (h_n[0] * torch.from_numpy(d_hT)).sum()).backward()

    np.testing.assert_allclose(grads["x"], x_t.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(grads["h0"], h0_t.grad[0].numpy(), atol=1e-12)
    for ours, theirs in names.items():
        np.testing.assert_allclose(grads[ours], getattr(rnn, theirs).grad.numpy(), atol=1e-12)


def test_backward_matches_finite_differences(rng):
    x, h0, params = make_inputs(rng)
    d_hs, d_hT = rng.normal(size=(T, B, H)), rng.normal(size=(B, H))
    _, _, cache = numpy_rnn.rnn_forward(x, h0, **params)
    grads = numpy_rnn.rnn_backward(d_hs, cache, d_hT=d_hT)

    def loss():
        hs, h_T, _ = numpy_rnn.rnn_forward(x, h0, **params)
        return np.sum(hs * d_hs) + np.sum(h_T * d_hT)

    errors = gradient_errors(loss, dict(x=x, h0=h0, **params), grads)
    assert set(errors) == {"x", "h0", "W_ih", "W_hh", "b_ih", "b_hh"}
    assert max(errors.values()) < 1e-6, errors


def test_a_wrong_backward_fails_the_gradient_check(rng):
    """The check must be able to fail: a gradient off by 1% is caught."""
    x, h0, params = make_inputs(rng)
    d_hs = rng.normal(size=(T, B, H))
    _, _, cache = numpy_rnn.rnn_forward(x, h0, **params)
    grads = numpy_rnn.rnn_backward(d_hs, cache)
    grads["W_hh"] = grads["W_hh"] * 1.01
    errors = gradient_errors(lambda: np.sum(numpy_rnn.rnn_forward(x, h0, **params)[0] * d_hs),
                             dict(W_hh=params["W_hh"]), grads)
    assert errors["W_hh"] > 1e-3


def test_rnn_step_equals_one_step_of_forward(rng):
    x, h0, params = make_inputs(rng)
    hs, _, _ = numpy_rnn.rnn_forward(x, h0, **params)
    np.testing.assert_allclose(numpy_rnn.rnn_step(x[0], h0, **params), hs[0], atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(rng, dtype):
    x, h0, params = make_inputs(rng, dtype)
    hs, h_T, cache = numpy_rnn.rnn_forward(x, h0, **params)
    grads = numpy_rnn.rnn_backward(np.ones_like(hs), cache)
    assert hs.dtype == h_T.dtype == dtype
    assert all(g.dtype == dtype for g in grads.values())


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.update(x=a["x"][:, :, :2]), r"x: expected shape \(T, B, D\) = \(6, 3, 4\), got \(6, 3, 2\)"),
        (lambda a: a.update(x=a["x"][0]), r"x: expected 3 dimensions \(T, B, D\), got shape \(3, 4\)"),
        (lambda a: a.update(h0=a["h0"][:2]), r"h0: expected shape \(B, H\) = \(3, 5\), got \(2, 5\)"),
        (lambda a: a.update(W_hh=a["W_hh"][:, :4]), r"W_hh: expected shape \(H, H\) = \(5, 5\), got \(5, 4\)"),
        (lambda a: a.update(b_ih=a["b_ih"][:3]), r"b_ih: expected shape \(H,\) = \(5,\), got \(3,\)"),
        (lambda a: a.update(x=a["x"].astype(int)), r"x: expected dtype float32 or float64"),
        (lambda a: a.update(x=a["x"].tolist()), r"x: expected a NumPy array, got list"),
        (lambda a: a.update(h0=a["h0"].astype(np.float32)), r"h0: expected dtype float64"),
    ],
)
def test_bad_input_names_the_argument_and_shapes(rng, change, message):
    x, h0, params = make_inputs(rng)
    arguments = dict(x=x, h0=h0, **params)
    change(arguments)
    with pytest.raises(ValueError, match=message):
        numpy_rnn.rnn_forward(**arguments)


def test_backward_rejects_a_wrongly_shaped_gradient(rng):
    x, h0, params = make_inputs(rng)
    _, _, cache = numpy_rnn.rnn_forward(x, h0, **params)
    with pytest.raises(ValueError, match=r"d_hs: expected shape \(T, B, H\) = \(6, 3, 5\), got \(6, 3, 4\)"):
        numpy_rnn.rnn_backward(np.ones((T, B, 4)), cache)
    with pytest.raises(ValueError, match=r"d_hT: expected shape \(B, H\)"):
        numpy_rnn.rnn_backward(np.ones((T, B, H)), cache, d_hT=np.ones(H))
