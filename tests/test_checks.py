"""The exercise checks must pass the reference, fail wrong answers, and say what is wrong."""

import numpy as np
import pytest

from lstm_course import checks, clipping, gradcheck, numpy_rnn


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


CASES = [
    (checks.check_rnn_step, numpy_rnn.rnn_step),
    (checks.check_clip_grad_norm, clipping.clip_grad_norm),
    (checks.check_numerical_gradient, gradcheck.numerical_gradient),
]


@pytest.mark.parametrize("check, reference", CASES)
def test_reference_scores_full_marks(check, reference, capsys):
    result = check(reference)
    assert result.passed and result.score == result.max_score == 1
    assert capsys.readouterr().out.startswith("PASS")


@pytest.mark.parametrize("check, reference", CASES)
def test_stub_is_reported_as_not_implemented(check, reference, capsys):
    result = check(not_implemented)
    assert not result.passed and result.score == 0
    assert "not implemented yet" in capsys.readouterr().out


def test_wrong_values_report_entries_and_size_of_the_difference():
    def forgets_the_recurrent_bias(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T)

    result = checks.check_rnn_step(forgets_the_recurrent_bias, verbose=False)
    assert result.score == 0
    assert "entries differ; the largest difference is" in result.message
    assert "expected" in result.message and "got" in result.message


def test_wrong_shape_is_named():
    result = checks.check_rnn_step(lambda **kwargs: numpy_rnn.rnn_step(**kwargs).T, verbose=False)
    assert "expected shape (3, 5), got (5, 3)" in result.message


def test_a_crash_is_reported_not_raised():
    result = checks.check_rnn_step(lambda **kwargs: 1 / 0, verbose=False)
    assert "raised ZeroDivisionError" in result.message


def test_clip_that_forgets_to_return_the_norm_is_caught():
    result = checks.check_clip_grad_norm(lambda grads, max_norm: clipping.clip_grad_norm(grads, max_norm)[0],
                                         verbose=False)
    assert not result.passed and "expected a tuple of 2 values" in result.message


def test_one_sided_difference_is_caught_as_inaccurate():
    def forward_difference(f, x, eps=1e-6):
        gradient = np.zeros_like(x)
        base = f(x)
        for index in np.ndindex(x.shape):
            x[index] += eps
            gradient[index] = (f(x) - base) / eps
            x[index] -= eps
        return gradient

    assert not checks.check_numerical_gradient(forward_difference, verbose=False).passed
