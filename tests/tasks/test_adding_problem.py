import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_course.experiments.adding_experiment import AddingConfig, SequenceToOne, evaluate, train
from lstm_course.tasks import adding_problem
from lstm_course.tasks.adding_problem import generate


@pytest.fixture(scope="module")
def batch():
    return generate(4000, 100, np.random.default_rng(0))


def test_shapes_and_lengths(batch):
    inputs, lengths, targets = batch
    assert inputs.dtype == np.float32 and targets.dtype == np.float32 and lengths.dtype == np.int64
    assert inputs.shape == (lengths.max(), 4000, 2) and targets.shape == (4000,)
    assert lengths.min() == 100 and lengths.max() == 110  # uniform over T .. T + T/10
    assert np.all(inputs[:, :, 0] >= -1) and np.all(inputs[:, :, 0] <= 1)


def test_markers_follow_the_paper(batch):
    inputs, lengths, targets = batch
    for b in range(len(lengths)):
        values, markers = inputs[: lengths[b], b, 0], inputs[: lengths[b], b, 1]
        marked = np.flatnonzero(markers == 1.0)
        assert len(marked) == 2
        assert marked[0] < 10 and marked[1] <= 100 // 2 - 1  # one of the first T/2 - 1 unmarked pairs
        assert markers[-1] == -1.0 and (markers[0] == -1.0 or marked[0] == 0)
        assert np.count_nonzero(markers) == 2 + (markers[0] == -1.0) + 1
        # The target is what the network can see: the marked input values (X1 is zeroed in the
        # input itself when the first mark falls on the first pair).
        assert targets[b] == pytest.approx(0.5 + values[marked].sum() / 4, abs=1e-6)
        assert np.all(inputs[lengths[b]:, b] == 0)  # padding after the end
    # Where the first pair is marked and the other mark is beyond the first ten, the first pair is
    # X1's, and the paper sets X1 to zero.
    x1_at_start = [b for b in range(len(lengths))
                   if inputs[0, b, 1] == 1.0 and np.flatnonzero(inputs[:, b, 1] == 1.0)[1] >= 10]
    assert x1_at_start and all(inputs[0, b, 0] == 0.0 for b in x1_at_start)
    second_positions = [np.flatnonzero(inputs[:, b, 1] == 1.0)[1] for b in range(len(lengths))]
    assert max(second_positions) == 49  # the whole range of T/2 - 1 = 49 unmarked candidates is used


def test_generate_rejects_bad_arguments():
    with pytest.raises(ValueError, match="length: expected at least 20"):
        generate(4, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="num_sequences: expected a positive integer"):
        generate(0, 100, np.random.default_rng(0))


def test_evaluate_counts_errors_below_the_tolerance():
    class Oracle(torch.nn.Module):
        """Reads the two marked values and adds them: always correct."""

        def forward(self, inputs, lengths):
            marked = (inputs[..., 1] == 1.0).float()
            return 0.5 + (inputs[..., 0] * marked).sum(0) / 4

    accuracy, mse = evaluate(Oracle(), 50, np.random.default_rng(0), num_sequences=600)
    assert accuracy == 1.0 and mse < 1e-12
    constant = SequenceToOne("rnn", hidden_size=4)
    with torch.no_grad():
        for parameter in constant.parameters():
            parameter.zero_()
        constant.readout.bias.fill_(0.5)
    accuracy, mse = evaluate(constant, 50, np.random.default_rng(0), num_sequences=2560)
    assert 0.1 < accuracy < 0.3 and 0.03 < mse < 0.05  # guessing the mean


def test_unknown_model_is_rejected():
    expected = "kind: expected 'lstm', 'gru', 'rnn', 'irnn', 'irnn-tanh' or 'lstm:VARIANT', got 'transformer'"
    with pytest.raises(ValueError, match=expected):
        SequenceToOne("transformer")


def test_train_records_a_learning_curve():
    config = AddingConfig(length=20, model="gru", hidden_size=8, max_sequences=640, eval_every=5, eval_sequences=64)
    result = train(config, progress=False)
    assert result.sequences_seen == 640 and len(result.curve["mse"]) == 4
    assert 0.0 <= result.accuracy <= 1.0 and result.wall_seconds > 0
    assert set(result.summary()) >= {"accuracy", "mse", "sequences_seen", "wall_seconds"}


def test_cli_ends_with_one_json_line():
    command = [sys.executable, "-m", "lstm_course", "adding", "--length", "20", "--model", "lstm", "--seed", "1",
               "--hidden-size", "8", "--max-sequences", "320", "--quiet"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["sequences_seen"] == 320 and result["model"] == "lstm"
    assert {"accuracy", "mse", "sequences_seen", "wall_seconds"} <= set(result)


def test_cli_reports_bad_arguments_clearly():
    completed = subprocess.run([sys.executable, "-m", "lstm_course", "adding", "--length", "5", "--quiet"],
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2 and "length: expected at least 20" in completed.stderr


def test_test_set_size_is_the_papers():
    assert adding_problem.TEST_SEQUENCES == 2560 and adding_problem.TOLERANCE == 0.04


def test_targets_can_be_read_off_the_inputs(batch):
    inputs, _, targets = batch
    np.testing.assert_allclose(adding_problem.targets_from_inputs(inputs), targets, atol=1e-6)


def test_divergence_is_recorded_not_raised_and_clipping_prevents_it():
    explosive = dict(length=100, model="rnn", rnn_spectral_radius=1.5, optimizer="sgd", lr=0.1,
                     max_sequences=1600, eval_every=25)
    unclipped = train(AddingConfig(**explosive, clip_norm=None), progress=False)
    assert unclipped.diverged_at is not None and unclipped.summary()["mse"] is None
    json.dumps(unclipped.summary(), allow_nan=False)  # valid JSON
    clipped = train(AddingConfig(**explosive, clip_norm=1.0), progress=False)
    assert clipped.diverged_at is None and np.isfinite(clipped.mse)
    with pytest.raises(ValueError, match="optimizer: expected 'adam' or 'sgd', got 'rmsprop'"):
        train(AddingConfig(length=20, optimizer="rmsprop"), progress=False)


def test_gate_biases_reach_the_right_rows():
    hidden = 8
    lstm = SequenceToOne("lstm", hidden_size=hidden, forget_bias=3.0).recurrent
    gru = SequenceToOne("gru", hidden_size=hidden, gru_update_bias=3.0).recurrent
    bound = 1 / hidden**0.5
    assert lstm.bias_ih_l0[hidden:2 * hidden].min() > 3.0 - bound  # forget gate: rows H:2H of i, f, g, o
    assert gru.bias_ih_l0[hidden:2 * hidden].min() > 3.0 - bound  # update gate: rows H:2H of r, z, n
    assert gru.bias_ih_l0[:hidden].abs().max() <= bound


def test_forget_bias_for_span_keeps_half_over_the_span():
    for span in (1, 10, 110, 1000):
        bias = adding_problem.forget_bias_for_span(span)
        assert abs((1 / (1 + np.exp(-bias))) ** span - 0.5) < 1e-12
    assert round(adding_problem.forget_bias_for_span(110)) == AddingConfig().forget_bias == 5
    with pytest.raises(ValueError, match="span: expected a positive number of steps, got 0"):
        adding_problem.forget_bias_for_span(0)


def test_the_recipe_budget_leaves_a_quarter_spare_over_the_recorded_runs():
    """The defaults are the recipe chapter 8 measured: every recorded LSTM run solved T = 100 with 25% to spare."""
    runs = json.loads((Path(__file__).resolve().parents[2] / "results" / "adding_seed_runs.json").read_text())["runs"]
    lstm = [run["result"] for run in runs if run["label"] == "LSTM"]
    assert len(lstm) >= 10 and {run["cpu_capability"] for run in lstm} >= {"AVX2", "AVX512"}
    assert all(run["solved_after"] is not None for run in lstm)
    assert max(run["solved_after"] for run in lstm) <= 0.75 * AddingConfig().max_sequences
    defaults = AddingConfig()
    assert all("--forget-bias" not in run["command"] and "--max-sequences" not in run["command"] for run in runs)
    assert (defaults.forget_bias, defaults.lr, defaults.batch_size, defaults.clip_norm) == (5.0, 1e-3, 32, 1.0)


@pytest.mark.parametrize("kind, nonlinearity", [("irnn", "relu"), ("irnn-tanh", "tanh")])
def test_irnn_starts_as_le_et_al_2015_describe(kind, nonlinearity):
    """The IRNN, and the same identity start with tanh (chapter 8 separates the start from the ReLU)."""
    torch.manual_seed(0)
    irnn = SequenceToOne(kind, hidden_size=64).recurrent
    assert irnn.nonlinearity == nonlinearity
    assert torch.equal(irnn.weight_hh_l0, torch.eye(64))
    assert float(irnn.bias_ih_l0.detach().abs().max()) == 0.0 and float(irnn.bias_hh_l0.detach().abs().max()) == 0.0
    assert 0.0005 < float(irnn.weight_ih_l0.std()) < 0.002


def test_the_trace_of_a_trained_models_layer_equals_its_forward_pass():
    from lstm_course.training.interpret import trace_lstm_layer

    result = train(AddingConfig(length=20, max_sequences=320, eval_every=5, eval_sequences=64, seed=0), progress=False)
    inputs, _, _ = generate(5, 20, np.random.default_rng(1))
    traced = trace_lstm_layer(result.model.recurrent, 0, torch.from_numpy(inputs))
    outputs, _ = result.model.recurrent(torch.from_numpy(inputs))
    assert traced["hidden"].shape == (inputs.shape[0], 5, 64)
    np.testing.assert_allclose(traced["hidden"], outputs.detach().numpy(), atol=1e-6)
    assert result.summary()["model"] == "lstm"  # the kind, from the config; the trained module stays out
