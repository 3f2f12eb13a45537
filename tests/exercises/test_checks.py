"""The public exercise checks pass the reference answers, fail wrong ones, and say what is wrong.

The reference answers are the instructor's solution cells (:mod:`lstm_instructor.reference_answers`);
the checks themselves use no answer: central differences, gradients by hand, or cases worked out by hand.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_course.exercises import checks, exercise_inputs
from lstm_course.scratch import numpy_rnn
from lstm_course.scratch.activations import sigmoid
from lstm_instructor import reference_answers
from lstm_instructor.catalogue import catalogue

ROOT = Path(__file__).resolve().parents[2]
REFERENCES = {name: function for path in sorted((ROOT / "chapters").glob("*.ipynb"))
              for name, function in reference_answers.load(path).items()}


def sequential_scan(a, b):
    h, states = np.zeros_like(b[0]), []
    for a_t, b_t in zip(a, b, strict=True):
        h = a_t * h + b_t
        states.append(h)
    return np.array(states)


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


def public_check(name, function, **options):
    """``check_NAME(function)``, with the reference forward pass that a backward pass's cache comes from."""
    companions = [REFERENCES[companion] for companion in exercise_inputs.companions(name)]
    return getattr(checks, f"check_{name}")(function, *companions, **options)


def changed(name, **replacements):
    """The reference answer with some of its outputs replaced: ``replacements[key](kwargs, output)``."""
    def wrong(**kwargs):
        output = REFERENCES[name](**kwargs)
        return {key: replacements[key](kwargs, value) if key in replacements else value
                for key, value in output.items()}
    return wrong


WRONG_ANSWERS = {
    "rnn_step_jacobian": lambda x_t, h_prev, W_ih, W_hh, b_ih, b_hh:  # forgets tanh'
        np.broadcast_to(W_hh, (len(x_t), *W_hh.shape)).copy(),
    "complex_step_gradient": lambda f, x, h:  # central differences: good to 1e-10, not 1e-12
        np.array([(f(x + e) - f(x - e)) / 2e-5 for e in 1e-5 * np.eye(x.size).reshape(-1, *x.shape)]).reshape(x.shape),
    "forget_gate_backward": changed("forget_gate_backward", b_hf=lambda kwargs, value: 0 * value),
    "write_backward": changed("write_backward", a_g=lambda kwargs, value: kwargs["d_write"] * sigmoid(kwargs["a_i"])),
    "cell_update_backward": changed("cell_update_backward", c_prev=lambda kwargs, value: kwargs["d_c"]),
    "hidden_state_backward": changed("hidden_state_backward",
                                     cell_state=lambda kwargs, value: kwargs["d_h"] * kwargs["output_gate"]),
    "lstm_step_forward": lambda **kwargs:  # returns the old cell state: forgets to update it
        (lambda h_t, c_t, cache: (h_t, kwargs["c_prev"], cache))(*REFERENCES["lstm_step_forward"](**kwargs)),
    "lstm_step_backward": lambda d_h, d_c, cache:  # leaves out the path from h_t to c_t
        REFERENCES["lstm_step_backward"](d_h, d_c, cache) | {"c_prev": d_c * cache["f"]},
    "lstm_forward": lambda x, h0, c0, **weights:  # never carries the state: every step starts from h0, c0
        (np.stack([REFERENCES["lstm_step_forward"](x_t, h0, c0, **weights)[0] for x_t in x]), None),
    "lstm_backward": lambda d_hs, cache:  # averages the shared weights' gradients over steps, not sums
        REFERENCES["lstm_backward"](d_hs, cache) | {
            "W_hh": REFERENCES["lstm_backward"](d_hs, cache)["W_hh"] / len(d_hs)},
    "lstm_backward_fast": lambda d_hs, cache:  # the same mistake in the fast version
        REFERENCES["lstm_backward_fast"](d_hs, cache) | {
            "W_hh": REFERENCES["lstm_backward_fast"](d_hs, cache)["W_hh"] / len(d_hs)},
    "keras_gru_to_torch": lambda kernel, recurrent_kernel, bias: {  # keeps Keras's gate order z, r, h
        "weight_ih_l0": kernel.T.copy(), "weight_hh_l0": recurrent_kernel.T.copy(),
        "bias_ih_l0": bias[0].copy(), "bias_hh_l0": bias[1].copy()},
    "temporal_order_targets": lambda inputs: 2 * (inputs[-1].argmax(-1) == 5) + 0,  # reads the last step only
    "gru_step_backward": changed("gru_step_backward", h_prev=lambda kwargs, value: value - kwargs["d_h"]),
    "top_p_distribution": lambda logits, temperature, top_p:  # keeps id 0
        torch.softmax(logits.double() / temperature, 0),
    "ddp_buckets": lambda sizes, bucket_cap: np.arange(len(sizes)) * 0,  # one bucket for everything
    "per_class_f1": lambda predicted, targets, num_classes:  # counts the ignored positions as class 0
        REFERENCES["per_class_f1"](predicted, np.where(targets == -100, 0, targets), num_classes),
    "doubling_scan": lambda a, b:  # every round holds the finished scan: the loop, not the rounds
        tuple((np.cumprod(a, axis=0), sequential_scan(a, b)) for _ in range(max(1, int(np.ceil(np.log2(len(a)))) + 1))),
    "mase": lambda forecasts, actuals, training, season:  # the MAE itself, never scaled
        np.abs(forecasts - actuals).mean(axis=0),
    "additive_attention": lambda query, keys, source_lengths, W_query, W_key, v:  # attends to the padding too
        REFERENCES["additive_attention"](query, keys, np.full_like(source_lengths, len(keys)), W_query, W_key, v),
}


def test_every_exercise_has_a_reference_and_a_wrong_answer():
    implement = [exercise.check for exercise in catalogue(ROOT / "chapters") if exercise.kind == "implement"]
    assert sorted(REFERENCES) == sorted(WRONG_ANSWERS) == sorted(implement) == sorted(exercise_inputs.EXERCISES)


@pytest.mark.parametrize("name", sorted(WRONG_ANSWERS))
def test_wrong_answers_score_zero(name):
    result = public_check(name, WRONG_ANSWERS[name], verbose=False)
    assert not result.passed and result.score == 0 and "differ" in result.message, result.message


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_reference_scores_full_marks(name, capsys):
    result = public_check(name, REFERENCES[name])
    assert result.passed and result.score == result.max_score == 1
    assert capsys.readouterr().out.startswith("PASS")


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_stub_is_reported_as_not_implemented(name, capsys):
    result = public_check(name, not_implemented)
    assert not result.passed and result.score == 0
    assert "not implemented yet" in capsys.readouterr().out


def test_wrong_values_report_entries_and_size_of_the_difference():
    def transposed(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        return REFERENCES["rnn_step_jacobian"](x_t, h_prev, W_ih, W_hh.T, b_ih, b_hh)

    result = checks.check_rnn_step_jacobian(transposed, verbose=False)
    assert result.score == 0
    assert "entries differ; the largest difference is" in result.message
    assert "expected" in result.message and "got" in result.message


def test_wrong_shape_is_named():
    def one_row(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
        return 1 - numpy_rnn.rnn_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) ** 2

    result = checks.check_rnn_step_jacobian(one_row, verbose=False)
    assert "expected shape (1, 1, 1), got (1, 1)" in result.message


def test_a_crash_is_reported_not_raised():
    result = checks.check_rnn_step_jacobian(lambda **kwargs: 1 / 0, verbose=False)
    assert "raised ZeroDivisionError" in result.message


def test_a_missing_gradient_is_named():
    def forgets_the_biases(**kwargs):
        return {key: value for key, value in REFERENCES["forget_gate_backward"](**kwargs).items()
                if not key.startswith("b_")}

    result = checks.check_forget_gate_backward(forgets_the_biases, verbose=False)
    assert not result.passed and "expected keys" in result.message


def test_keras_gru_weights_must_be_a_rearrangement():
    """Summing the r and z biases into bias_ih behaves the same, but the answer must be unique: the grader
    compares the arrays exactly."""
    def sums_the_biases(kernel, recurrent_kernel, bias):
        weights = REFERENCES["keras_gru_to_torch"](kernel, recurrent_kernel, bias)
        two_gates = slice(0, 2 * recurrent_kernel.shape[0])
        weights["bias_ih_l0"][two_gates] += weights["bias_hh_l0"][two_gates]
        weights["bias_hh_l0"][two_gates] = 0
        return weights

    result = checks.check_keras_gru_to_torch(sums_the_biases, verbose=False)
    assert not result.passed and "bias_ih_l0 is not a rearrangement" in result.message


def naive_additive_attention(query, keys, source_lengths, W_query, W_key, v):
    """Bahdanau's attention with a plain exponential: right for moderate scores, NaN for large ones."""
    scores = (np.tanh((query @ W_query.T)[None] + keys @ W_key.T) @ v).T  # (B, S)
    exponentials = np.where(np.arange(len(keys))[None] < source_lengths[:, None], np.exp(scores), 0.0)
    weights = exponentials / exponentials.sum(axis=1, keepdims=True)
    return weights, np.einsum("bs,sbk->bk", weights, keys)


def test_additive_attention_must_survive_large_scores():
    """The exercise warns that the exponential overflows; the public check and the grader's inputs both test it."""
    with np.errstate(all="ignore"):
        result = checks.check_additive_attention(naive_additive_attention, verbose=False)
    assert not result.passed and "near +760" in result.message
    for seed in range(3):  # the grader's inputs, from any seed: one trial has scores too large for np.exp
        trials = exercise_inputs.draw("additive_attention", np.random.default_rng(seed))
        with np.errstate(all="ignore"):
            assert any(np.isnan(naive_additive_attention(**trial.kwargs)[0]).any() for trial in trials)
            assert not any(np.isnan(REFERENCES["additive_attention"](**trial.kwargs)[0]).any() for trial in trials)
        moderate = [trial for trial in trials if "scores up to" not in trial.description]
        for trial in moderate:  # elsewhere the plain exponential is right
            assert np.allclose(naive_additive_attention(**trial.kwargs)[0],
                               REFERENCES["additive_attention"](**trial.kwargs)[0], atol=1e-10)


def test_the_checks_use_no_reference_answer():
    """The public checks compute their expectations from the forward passes, by hand or numerically."""
    source = (ROOT / "lstm_course" / "exercises" / "checks.py").read_text()
    assert "reference_answers" not in source and "solution" not in source.lower()
