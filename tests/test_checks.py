"""The exercise checks must pass the reference, fail wrong answers, and say what is wrong."""

import numpy as np
import pytest
import torch

from lstm_course import (
    adding_problem,
    batching,
    checks,
    clipping,
    conversions,
    gradcheck,
    numpy_lstm,
    numpy_rnn,
    optim,
    sampling,
)
from lstm_course.activations import sigmoid


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


CASES = [
    (checks.check_rnn_step, numpy_rnn.rnn_step),
    (checks.check_clip_grad_norm, clipping.clip_grad_norm),
    (checks.check_numerical_gradient, gradcheck.numerical_gradient),
    (checks.check_forget_gate,
     lambda x_t, h_prev, W_if, W_hf, b_if, b_hf: sigmoid(x_t @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)),
    (checks.check_candidate,
     lambda x_t, h_prev, W_ig, W_hg, b_ig, b_hg: np.tanh(x_t @ W_ig.T + b_ig + h_prev @ W_hg.T + b_hg)),
    (checks.check_cell_update_backward, lambda d_c, c_prev, forget_gate, input_gate, candidate: {
        "c_prev": d_c * forget_gate, "forget_gate": d_c * c_prev, "input_gate": d_c * candidate,
        "candidate": d_c * input_gate}),
    (checks.check_hidden_state, numpy_lstm.hidden_state),
    (checks.check_lstm_step, numpy_lstm.lstm_step),
    (checks.check_adam_update, optim.adam_update),
    (checks.check_keras_lstm_to_torch, conversions.keras_lstm_to_torch),
    (checks.check_adding_targets, adding_problem.targets_from_inputs),
    (checks.check_gru_step, checks.gru_step_reference),
    (checks.check_streams, batching.streams),
    (checks.check_next_character_distribution, sampling.next_character_distribution),
    (checks.check_shard, batching.shard),
]


WRONG_ANSWERS = [
    (checks.check_forget_gate,  # tanh where the gate needs a sigmoid
     lambda x_t, h_prev, W_if, W_hf, b_if, b_hf: np.tanh(x_t @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)),
    (checks.check_candidate,  # sigmoid where the candidate needs a tanh
     lambda x_t, h_prev, W_ig, W_hg, b_ig, b_hg: sigmoid(x_t @ W_ig.T + b_ig + h_prev @ W_hg.T + b_hg)),
    (checks.check_cell_update_backward, lambda d_c, c_prev, forget_gate, input_gate, candidate: {  # misses f
        "c_prev": d_c, "forget_gate": d_c * c_prev, "input_gate": d_c * candidate, "candidate": d_c * input_gate}),
    (checks.check_hidden_state, lambda output_gate, cell_state: np.tanh(output_gate * cell_state)),
    (checks.check_lstm_step, lambda **kw: numpy_lstm.lstm_step(**{**kw, "b_hh": 0 * kw["b_hh"]})),
    (checks.check_adam_update, lambda param, grad, m, v, step, lr, beta1, beta2, eps: optim.adam_update(
        param, grad, m, v, 1, lr, beta1, beta2, eps)),  # forgets the bias correction's step
    (checks.check_keras_lstm_to_torch, lambda kernel, recurrent_kernel, bias: {  # forgets to transpose
        "weight_ih_l0": kernel.reshape(kernel.shape[::-1]), "weight_hh_l0": recurrent_kernel.T,
        "bias_ih_l0": bias, "bias_hh_l0": 0 * bias}),
    (checks.check_adding_targets, lambda inputs: 0.5 + (inputs[..., 0] * inputs[..., 1]).sum(0) / 4),  # counts -1 too
    (checks.check_gru_step,  # ignores the previous hidden state
     lambda x_t, h_prev, W_ih, W_hh, b_ih, b_hh: checks.gru_step_reference(x_t, 0 * h_prev, W_ih, W_hh, b_ih, b_hh)),
    (checks.check_streams, lambda ids, batch_size: batching.streams(ids[::-1].copy(), batch_size)),  # wrong order
    (checks.check_next_character_distribution,  # samples the unknown id, ignores top_k
     lambda logits, temperature, top_k: torch.softmax(logits / temperature, 0)),
    (checks.check_shard, lambda array, rank, world_size: array[:, rank::world_size]),  # interleaved, not blocks
]


@pytest.mark.parametrize("check, wrong", WRONG_ANSWERS)
def test_wrong_answers_score_zero(check, wrong):
    result = check(wrong, verbose=False)
    assert not result.passed and result.score == 0 and "differ" in result.message


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
