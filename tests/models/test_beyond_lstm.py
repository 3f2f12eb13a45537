"""Chapter 14's models: the linear recurrence, minGRU/minLSTM, causal self-attention, and all of them in one loop."""

import json
import math

import numpy as np
import pytest
import torch

from lstm_course.cli import main
from lstm_course.experiments.architecture_comparison import longest_recalled, matched_config, parameter_count
from lstm_course.models import linear_recurrence
from lstm_course.models.language_model import ARCHITECTURES, ModelConfig, build
from lstm_course.models.min_rnn import MinRNN
from lstm_course.models.transformer import CausalSelfAttention, alibi_slopes, attention_bias
from lstm_course.tasks import recall_task
from lstm_course.tasks.corpus import TINY_CORPUS, split_text
from lstm_course.tasks.vocabulary import Vocabulary
from lstm_course.training.lm_training import TrainConfig, load_model, nats_per_char, train
from lstm_course.training.sampling import sample

TEXT = TINY_CORPUS * 20
RESIDUAL = ("transformer", "mingru", "minlstm")


def small(architecture, **overrides):
    values = {"vocabulary_size": 13, "hidden_size": 16, "num_layers": 2, "embedding_size": 8, "num_heads": 4,
              "context_size": 64, "dropout": 0.0, "architecture": architecture}
    return ModelConfig(**(values | overrides))


# The linear recurrence --------------------------------------------------------------------------

@pytest.mark.parametrize("steps", [1, 2, 7, 64, 300])
def test_the_parallel_scan_equals_the_sequential_loop_in_float64(steps):
    generator = torch.Generator().manual_seed(steps)
    a = torch.rand(steps, 3, 5, generator=generator, dtype=torch.float64) * 0.98 + 0.01  # (0, 1), as the gates give
    b = torch.rand(steps, 3, 5, generator=generator, dtype=torch.float64) * 2 + 1e-3
    h0 = torch.rand(3, 5, generator=generator, dtype=torch.float64)
    expected = linear_recurrence.sequential(a, b, h0)
    parallel = linear_recurrence.log_space(a.log(), b.log(), h0.log())
    assert expected.shape == (steps, 3, 5)
    assert torch.allclose(parallel, expected, rtol=1e-10, atol=0)


def test_the_log_space_scan_starts_from_a_zero_state_and_survives_tiny_gates():
    a = torch.full((400, 1, 2), 1e-30, dtype=torch.float64)  # A_t = 1e-12000: would underflow as a product
    b = torch.ones(400, 1, 2, dtype=torch.float64)
    zero = torch.zeros(1, 2, dtype=torch.float64)
    parallel = linear_recurrence.log_space(a.log(), b.log(), zero.log())
    assert torch.isfinite(parallel).all()
    assert torch.allclose(parallel, linear_recurrence.sequential(a, b, zero), rtol=1e-10, atol=0)


def test_positive_and_its_logarithm():
    x = torch.linspace(-30, 30, 601, dtype=torch.float64)
    assert (linear_recurrence.positive(x) > 0).all()
    assert torch.allclose(linear_recurrence.log_positive(x), linear_recurrence.positive(x).log(), rtol=1e-12)
    assert linear_recurrence.positive(torch.tensor(0.0)) == 0.5  # continuous at 0: sigmoid(0) = 0 + 1/2


# minGRU and minLSTM -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
def test_min_rnn_parallel_mode_equals_its_sequential_mode_and_carries_state(kind):
    torch.manual_seed(0)
    layer = MinRNN(6, 5, kind).double()
    x = torch.randn(40, 3, 6, dtype=torch.float64)
    parallel, (last,) = layer(x, mode="parallel")
    assert torch.equal(layer(x)[0], layer(x, mode="sequential")[0])  # "auto" on a CPU
    sequential, (last_sequential,) = layer(x, mode="sequential")
    assert torch.allclose(parallel, sequential, rtol=1e-10, atol=0)
    assert torch.equal(last, parallel[-1]) and torch.allclose(last_sequential, last, rtol=1e-10, atol=0)
    first, state = layer(x[:17], mode="parallel")
    second, _ = layer(x[17:], state, mode="parallel")  # two calls with the state carried = one call
    assert torch.allclose(torch.cat([first, second]), parallel, rtol=1e-10, atol=0)
    assert (parallel > 0).all()  # a weighted average of positive candidates


@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
def test_min_rnn_gradients_match_finite_differences(kind):
    torch.manual_seed(1)
    layer = MinRNN(3, 4, kind).double()
    x = torch.randn(9, 2, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.rand(2, 4, dtype=torch.float64) + 0.1
    assert torch.autograd.gradcheck(lambda inputs, weight: torch.func.functional_call(
        layer, {"gates.weight": weight, "gates.bias": layer.gates.bias}, (inputs, (h0,)))[0],
        (x, layer.gates.weight.detach().clone().requires_grad_()), eps=1e-6, atol=1e-7)


def test_min_lstm_gates_are_normalised_and_min_gru_matches_its_equations():
    torch.manual_seed(2)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    gru = MinRNN(3, 4, "mingru").double()
    i_pre, g_pre = gru.gates(x).chunk(2, dim=-1)  # minGRU's gate is an input gate (Feng et al.'s z): 1 overwrites
    i, candidate = torch.sigmoid(i_pre), linear_recurrence.positive(g_pre)
    h, expected = torch.zeros(2, 4, dtype=torch.float64), []
    for t in range(5):
        h = (1 - i[t]) * h + i[t] * candidate[t]
        expected.append(h)
    assert torch.allclose(gru(x)[0], torch.stack(expected), rtol=1e-10, atol=0)
    lstm = MinRNN(3, 4, "minlstm").double()
    log_keep, log_write = lstm.coefficients(x)
    i_pre, f_pre, g_pre = lstm.gates(x).chunk(3, dim=-1)
    i, f = torch.sigmoid(i_pre), torch.sigmoid(f_pre)
    assert torch.allclose(log_keep.exp(), f / (f + i), rtol=1e-12)
    assert torch.allclose(log_write.exp(), i / (f + i) * linear_recurrence.positive(g_pre), rtol=1e-12)


def test_min_rnn_errors_are_one_line():
    with pytest.raises(ValueError, match="kind: expected one of"):
        MinRNN(2, 2, "minrnn")
    with pytest.raises(ValueError, match="mode: expected 'auto', 'parallel' or 'sequential'"):
        MinRNN(2, 2)(torch.zeros(1, 1, 2), mode="scan")


# Causal self-attention --------------------------------------------------------------------------

def test_alibi_bias_penalises_distance_and_hides_the_future():
    bias = attention_bias(alibi_slopes(4), num_queries=3, num_cached=2)  # (heads, 3, 5)
    assert bias.shape == (4, 3, 5)
    assert alibi_slopes(4).tolist() == [0.25, 0.0625, 0.015625, 0.00390625]
    for t in range(3):
        position = 2 + t
        assert torch.isinf(bias[:, t, position + 1:]).all()  # the future
        distance = position - torch.arange(position + 1)
        assert torch.equal(bias[:, t, :position + 1], -alibi_slopes(4).view(-1, 1) * distance)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_no_position_sees_the_future(architecture):
    torch.manual_seed(3)
    model = build(small(architecture)).double().eval()
    ids = torch.randint(1, 13, (20, 2))
    logits, _ = model(ids)
    for t in (0, 7, 19):
        changed = ids.clone()
        changed[t] = (changed[t] % 12) + 1  # another character at position t
        changed_logits, _ = model(changed)
        assert torch.equal(changed_logits[:t], logits[:t])  # nothing before t moves ...
        assert not torch.allclose(changed_logits[t], logits[t])  # ... and position t itself does


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_a_text_in_pieces_with_the_state_carried_equals_the_text_in_one_piece(architecture):
    torch.manual_seed(4)
    model = build(small(architecture)).double().eval()
    ids = torch.randint(1, 13, (30, 3))
    whole, _ = model(ids)
    pieces, state = [], None
    for chunk in ids.split([11, 1, 1, 17]):  # one character at a time in the middle, as in generation
        logits, state = model(chunk, state)
        pieces.append(logits)
    assert torch.allclose(torch.cat(pieces), whole, rtol=1e-10, atol=1e-12)


def test_the_key_value_cache_grows_to_its_context_size_and_no_further():
    attention = CausalSelfAttention(8, 2, context_size=10)
    state = None
    for length in (4, 4, 4, 1):
        _, state = attention(torch.randn(length, 1, 8), state)
    keys, values = state
    assert keys.shape == values.shape == (10, 1, 2, 4)


def test_attention_weights_are_a_softmax_over_the_visible_positions():
    torch.manual_seed(5)
    attention = CausalSelfAttention(4, 1, context_size=16).double()
    x = torch.randn(6, 1, 4, dtype=torch.float64)
    y, _ = attention(x)
    q, k, v = attention.qkv(x).chunk(3, dim=-1)  # (T, 1, 4) each; one head of size 4
    slope = alibi_slopes(1)[0].item()
    expected = []
    for t in range(6):
        scores = torch.stack([(q[t, 0] @ k[j, 0]) / 2 - slope * (t - j) for j in range(t + 1)])
        expected.append(torch.softmax(scores, 0) @ v[: t + 1, 0])
    assert torch.allclose(y[:, 0], attention.projection(torch.stack(expected)), rtol=1e-10, atol=1e-12)


def test_model_config_errors_are_one_line():
    with pytest.raises(ValueError, match="architecture: expected one of"):
        ModelConfig(vocabulary_size=5, architecture="mamba")
    with pytest.raises(ValueError, match="num_heads: expected a divisor of hidden_size 16"):
        ModelConfig(vocabulary_size=5, hidden_size=16, num_heads=3, architecture="transformer")
    with pytest.raises(ValueError, match="context_size: expected a positive integer"):
        ModelConfig(vocabulary_size=5, context_size=0, architecture="transformer")
    with pytest.raises(ValueError, match=r"ids: expected a \(T, B\) int64 tensor"):
        build(small("mingru"))(torch.zeros(3, dtype=torch.int64))


# One loop for all -------------------------------------------------------------------------------

@pytest.mark.parametrize("architecture", RESIDUAL)
def test_every_architecture_trains_checkpoints_resumes_and_samples(architecture, tmp_path):
    splits = split_text(TEXT)
    config = TrainConfig(batch_size=4, bptt=16, max_steps=30, eval_every=10, validation_chars=400, lr=1e-2,
                         warmup_steps=2)
    model_config = {"hidden_size": 16, "num_layers": 2, "architecture": architecture, "context_size": 32,
                    "dropout": 0.0}
    vocabulary = Vocabulary.from_text(splits["train"])
    untrained = build(ModelConfig(vocabulary_size=len(vocabulary), **model_config))
    before = nats_per_char(untrained, vocabulary.encode(splits["validation"]))
    model, vocabulary, result = train(splits["train"], splits["validation"], config, model_config,
                                      checkpoint_path=tmp_path / "model.pt", progress_bar=False)
    assert result.best_validation_nats < before - 0.3, (before, result.best_validation_nats)
    reloaded, _, saved = load_model(tmp_path / "model.pt")
    assert saved["model_config"]["architecture"] == architecture and type(reloaded) is type(model)
    ids = vocabulary.encode(splits["validation"])
    assert math.isclose(nats_per_char(reloaded, ids), nats_per_char(model, ids), rel_tol=1e-6)
    text = sample(reloaded, vocabulary, prompt="ROMEO", length=40, seed=1)
    assert text.startswith("ROMEO") and len(text) == 45 and text == sample(reloaded, vocabulary, "ROMEO", 40, seed=1)



@pytest.mark.parametrize("kind", ["mingru", "minlstm"])
def test_a_fresh_min_rnn_keeps_sigmoid_of_its_forget_bias(kind):
    torch.manual_seed(6)
    plain = MinRNN(4, 3, kind).double()
    torch.manual_seed(6)
    biased = MinRNN(4, 3, kind, forget_bias=2.0).double()
    assert torch.equal(plain.gates.weight, biased.gates.weight)
    with torch.no_grad():  # keep the shift alone: no weights, the initial biases taken away
        biased.gates.weight.zero_()
        biased.gates.bias.sub_(plain.gates.bias)
    log_keep, _ = biased.coefficients(torch.zeros(1, 1, 4, dtype=torch.float64))
    assert torch.allclose(log_keep.exp(), torch.full((1, 1, 3), torch.sigmoid(torch.tensor(2.0)).item(),
                                                     dtype=torch.float64), rtol=1e-7)


# The command and the recall task ----------------------------------------------------------------

def test_recall_episodes_hold_the_key_after_the_delay():
    text, delays = recall_task.episodes(50, (3, 9), np.random.default_rng(0))
    lines = text.splitlines()
    assert len(lines) == 50 and delays.min() >= 3 and delays.max() <= 9
    for line, delay in zip(lines, delays, strict=True):
        assert line[0] in recall_task.KEYS and line[-1] == line[0] and line[-2] == recall_task.QUERY
        assert len(line) == delay + 3 and set(line[1:-2]) <= set(recall_task.NOISE)


def test_recall_accuracy_is_right_for_a_model_that_knows_and_chance_for_one_that_does_not():
    vocabulary = Vocabulary.from_text(recall_task.KEYS + recall_task.NOISE + recall_task.QUERY + "\n")

    class Oracle(torch.nn.Module):
        """Predicts, after "?", the key that opened the line: what a perfect memory does."""

        def forward(self, ids, state=None):
            key = state if state is not None else torch.zeros(ids.shape[1], dtype=torch.int64)
            logits = []
            for step in ids:
                is_key = torch.isin(step, torch.from_numpy(vocabulary.encode(recall_task.KEYS)))
                key = torch.where(is_key, step, key)
                logits.append(torch.nn.functional.one_hot(key, len(vocabulary)).double())
            return torch.stack(logits), key

    assert recall_task.recall_accuracy(Oracle(), vocabulary, delay=30, num_episodes=64) == 1.0
    assert recall_task.recall_accuracy(Oracle(), vocabulary, delay=30, num_episodes=64, chunk=7) == 1.0


def test_longest_recalled_stops_at_the_first_miss():
    assert longest_recalled({"10": 1.0, "50": 0.95, "100": 0.5, "200": 0.97}) == 50
    assert longest_recalled({"10": 0.2}) is None


@pytest.mark.parametrize("vocabulary_size", [68, 85])  # 85: Shakespeare's training plays (chapter 14's runs)
def test_matched_configs_are_the_closest_widths_to_the_lstms_parameter_count(vocabulary_size):
    target = parameter_count(matched_config("lstm", vocabulary_size), vocabulary_size)
    for name in RESIDUAL:
        config = matched_config(name, vocabulary_size)
        assert config["hidden_size"] % 4 == 0 and config["num_layers"] == 4
        misses = [abs(parameter_count(config | {"hidden_size": config["hidden_size"] + step}, vocabulary_size) - target)
                  for step in (-4, 0, 4)]
        assert misses[1] == min(misses) and misses[1] < 0.035 * target, (name, misses)


def test_the_command_trains_every_architecture_and_writes_its_file(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "lm.json"
    common = ["--seeds", "0", "--batch-size", "2", "--bptt", "8", "--eval-every", "2", "--validation-chars", "200",
              "--quiet", "--corpus", str(corpus)]
    assert main(["architectures", "--architectures", "lstm", "transformer", "--max-steps", "2", "--lr", "0.01",
                 "--model-lr", "transformer=0.003", "--out", str(out), *common]) == 0
    record = json.loads(out.read_text())
    assert record["command"].startswith("python -m lstm_course architectures")
    assert [(run["architecture"], run["train"]["lr"], run["steps"]) for run in record["runs"]] == [
        ("lstm", 0.01, 2), ("transformer", 0.003, 2)]
    assert all(math.isfinite(run["test_bits"]) for run in record["runs"])
    recall = tmp_path / "recall.json"
    assert main(["architectures", "--task", "recall", "--architectures", "mingru", "--recall-steps", "2",
                 "--max-delay", "5", "--delays", "3", "30", "--out", str(recall), *common]) == 0
    run = json.loads(recall.read_text())["runs"][0]
    assert run["steps"] == 2 and set(run["accuracy"]) == {"3", "30"}


def test_the_recall_command_opens_the_transformers_window_and_sets_the_forget_bias(tmp_path):
    out = tmp_path / "recall.json"
    common = ["--task", "recall", "--seeds", "0", "--batch-size", "2", "--bptt", "8", "--eval-every", "2",
              "--validation-chars", "200", "--recall-steps", "2", "--max-delay", "5", "--quiet"]
    assert main(["architectures", "--architectures", "transformer", "mingru", "--window", "16", "--test-window", "64",
                 "--forget-bias", "3", "--delays", "3", "30", "--out", str(out), *common]) == 0
    transformer, mingru = json.loads(out.read_text())["runs"]
    assert transformer["model"]["context_size"] == 16 and "forget_bias" not in transformer["model"]
    assert transformer["test_context_size"] == 64 and set(transformer["accuracy_opened"]) == {"3", "30"}
    assert transformer["test_chunk"] == 128  # 30 + 16 <= 64: every tested line fits in the opened window
    assert [step for step, _, _ in transformer["history"]] == [2]
    assert mingru["model"]["forget_bias"] == 3.0 and "accuracy_opened" not in mingru
    assert main(["architectures", "--architectures", "transformer", "--test-window", "40", "--delays", "3", "30",
                 "--out", str(out), "--overwrite", *common]) == 0
    assert json.loads(out.read_text())["runs"][0]["test_chunk"] == 1  # a line longer than the window: one at a time


@pytest.mark.parametrize("arguments, message", [
    (["--model-lr", "gpt=0.1"], "--model-lr: expected NAME=RATE with NAME one of"),
    (["--lr", "0.1", "0.2", "--model-lr", "lstm=0.1"], "--model-lr: give one --lr with it"),
    (["--jobs", "0"], "--jobs: expected a positive integer"),
    (["--task", "recall", "--test-window", "0"], "--test-window: expected a positive integer"),
    (["--task", "recall", "--window", "0"], "--window: expected a positive integer"),
])
def test_the_command_refuses_bad_settings_in_one_line(arguments, message, capsys):
    assert main(["architectures", "--max-steps", "1", *arguments]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
