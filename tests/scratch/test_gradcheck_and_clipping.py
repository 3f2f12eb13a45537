import numpy as np
import pytest
import torch

from lstm_course.scratch import clipping, gradcheck, gradient_flow


def test_numerical_gradient_of_a_known_function(rng):
    x = rng.normal(size=(3, 4))
    before = x.copy()
    gradient = gradcheck.numerical_gradient(lambda v: np.sum(np.sin(v) * v), x)
    np.testing.assert_allclose(gradient, np.cos(before) * before + np.sin(before), atol=1e-8)
    np.testing.assert_array_equal(x, before)  # restored exactly


def test_relative_error():
    a = np.array([1.0, 2.0, 3.0])
    assert gradcheck.relative_error(a, a) == 0.0
    assert gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck.relative_error(a, -a) == pytest.approx(1.0)
    assert gradcheck.relative_error(a, a * (1 + 1e-6)) == pytest.approx(5e-7, rel=1e-3)
    with pytest.raises(ValueError, match="expected shape"):
        gradcheck.relative_error(a, a[:2])


def test_clip_grad_norm_matches_torch(rng):
    grads = {"a": rng.normal(size=(4, 3)) * 10, "b": rng.normal(size=5) * 10}
    clipped, total = clipping.clip_grad_norm(grads, max_norm=2.0)
    tensors = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads.values()]
    for tensor, g in zip(tensors, grads.values(), strict=True):
        tensor.grad = torch.from_numpy(g.copy())
    torch_total = torch.nn.utils.clip_grad_norm_(tensors, max_norm=2.0)
    assert total == pytest.approx(float(torch_total))
    for tensor, name in zip(tensors, grads, strict=True):
        np.testing.assert_allclose(clipped[name], tensor.grad.numpy(), rtol=1e-9)
    assert clipping.global_norm(clipped) == pytest.approx(2.0, rel=1e-6)


def test_clip_grad_norm_leaves_small_gradients_and_inputs_alone(rng):
    grads = {"a": rng.normal(size=3) * 1e-3}
    original = grads["a"].copy()
    clipped, _ = clipping.clip_grad_norm(grads, max_norm=1.0)
    np.testing.assert_array_equal(clipped["a"], original)
    np.testing.assert_array_equal(grads["a"], original)
    with pytest.raises(ValueError, match="max_norm: expected a positive finite number"):
        clipping.clip_grad_norm(grads, max_norm=0.0)


def test_spectral_radius_scaling(rng):
    matrix = gradient_flow.scale_to_spectral_radius(rng.normal(size=(6, 6)), 0.7)
    assert np.max(np.abs(np.linalg.eigvals(matrix))) == pytest.approx(0.7)


def test_gradient_vanishes_below_and_explodes_above_radius_one():
    x = np.random.default_rng(2).normal(size=(60, 8, 4))
    norms = {
        radius: gradient_flow.rnn_gradient_norms_by_lag(
            gradient_flow.random_rnn_weights(4, 32, radius, np.random.default_rng(1)), x)
        for radius in (0.5, 3.0)
    }
    assert norms[0.5].shape == (60,)
    assert norms[0.5][50] < 1e-10 * norms[0.5][0]
    assert norms[3.0][50] > 1e3 * norms[3.0][0]


def test_gradient_flow_rejects_bad_arguments(rng):
    with pytest.raises(ValueError, match=r"matrix: expected a square matrix \(H, H\), got shape \(3, 4\)"):
        gradient_flow.scale_to_spectral_radius(rng.normal(size=(3, 4)), 0.9)
    with pytest.raises(ValueError, match="hidden_size: expected a positive integer, got 0"):
        gradient_flow.random_rnn_weights(4, 0, 0.9, rng)
    with pytest.raises(ValueError, match="start, stop: expected 0 <= start < stop < 5"):
        gradient_flow.per_step_factor(np.ones(5), 2, 9)


def test_lstm_gradient_survives_longer_than_the_rnn_gradient():
    from lstm_course.scratch import numpy_lstm

    x = np.random.default_rng(2).normal(size=(80, 8, 4))
    rnn = gradient_flow.rnn_gradient_norms_by_lag(
        gradient_flow.random_rnn_weights(4, 32, 0.9, np.random.default_rng(1)), x)
    lstm_params = numpy_lstm.init_params(4, 32, np.random.default_rng(1), forget_bias=3.0)
    lstm = gradient_flow.lstm_gradient_norms_by_lag(lstm_params, x)
    assert lstm.shape == (80,)
    assert gradient_flow.per_step_factor(lstm) > gradient_flow.per_step_factor(rnn)
