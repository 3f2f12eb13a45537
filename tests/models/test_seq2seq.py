"""The encoder-decoder of chapter 12: shapes, attention, the teacher-forced loss, decoding, and that it learns."""

import copy
import json
import math
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from lstm_course.models.seq2seq import (
    END,
    PAD,
    START,
    Seq2Seq,
    beam_search,
    general_attention,
    greedy_decode,
    sequence_loss,
)
from lstm_course.tasks import reversal
from lstm_course.training.seq2seq_training import (
    LEARNING_RATES,
    MAX_EXTENSIONS,
    WIDE_HIDDEN_SIZE,
    Seq2SeqConfig,
    accuracy_by_length,
    build_model,
    larger_hidden_size,
    next_rate,
    parameter_count,
    score,
    search_learning_rate,
    sweep_rows,
    train,
)

ROOT = Path(__file__).resolve().parents[2]

VOCABULARY = reversal.VOCABULARY_SIZE


def tiny_batch():
    return reversal.make_batch(["abc", "z", "hello", "lstm"])


def untrained(attention=True, hidden_size=8, seed=0):
    torch.manual_seed(seed)
    return Seq2Seq(VOCABULARY, embedding_size=5, hidden_size=hidden_size, attention=attention).double().eval()


def test_the_task_batches_reversal_with_teacher_forcing():
    batch = tiny_batch()
    assert batch.source.shape == (5, 4) and batch.source_lengths.tolist() == [3, 1, 5, 4]
    assert batch.targets.shape == batch.decoder_inputs.shape == (6, 4)  # longest target, 5 letters, plus END
    assert [reversal.decode(batch.targets[:, k]) for k in range(4)] == ["cba", "z", "olleh", "mtsl"]
    assert batch.targets[3, 0] == END and (batch.targets[4:, 0] == PAD).all()
    assert (batch.decoder_inputs[0] == START).all()  # then the target, one step late, without its END
    assert torch.equal(batch.decoder_inputs[1:4, 0], batch.targets[:3, 0]) and batch.decoder_inputs[4, 0] == PAD
    assert not (batch.decoder_inputs == END).any()
    assert reversal.decode(batch.source[:, 0]) is None  # no END: an unfinished output, not "abc"


@pytest.mark.parametrize("texts, message", [("abc", "expected a non-empty list"), ([], "expected a non-empty list"),
                                            (["ab", "A"], "letters a-z"), ([""], "letters a-z")])
def test_bad_strings_are_one_line_errors(texts, message):
    with pytest.raises(ValueError, match=message):
        reversal.encode(texts)


def test_random_strings_follow_the_lengths_asked_for():
    strings = reversal.random_strings(np.random.default_rng(0), 500, 3, 7)
    assert {len(text) for text in strings} == set(range(3, 8)) and set("".join(strings)) == set(reversal.LETTERS)
    with pytest.raises(ValueError, match="max_length: expected at least min_length"):
        reversal.random_strings(np.random.default_rng(0), 5, 4, 3)


@pytest.mark.parametrize("attention", [False, True])
def test_shapes(attention):
    batch, model = tiny_batch(), untrained(attention)
    logits, weights = model(batch.source, batch.source_lengths, batch.decoder_inputs)
    assert logits.shape == (6, 4, VOCABULARY)
    assert (weights is None) == (not attention)
    if attention:
        assert weights.shape == (6, 4, 5)
    keys, (h, c) = model.encode(batch.source, batch.source_lengths)
    assert keys.shape == (5, 4, 8) and h.shape == c.shape == (1, 4, 8)


def test_attention_weights_sum_to_one_and_ignore_padding():
    torch.manual_seed(0)
    queries, keys = torch.randn(3, 2, 4, dtype=torch.float64), torch.randn(5, 2, 4, dtype=torch.float64)
    lengths, score_weight = torch.tensor([5, 2]), torch.randn(4, 4, dtype=torch.float64)
    weights, context = general_attention(queries, keys, lengths, score_weight)
    assert weights.shape == (3, 2, 5) and context.shape == (3, 2, 4)
    assert torch.allclose(weights.sum(-1), torch.ones(3, 2, dtype=torch.float64), atol=1e-12)
    assert (weights[:, 1, 2:] == 0).all() and (weights[:, 1, :2] > 0).all() and (weights[:, 0] > 0).all()
    changed = keys.clone()
    changed[2:, 1] = 100.0  # what lies in the padding changes nothing
    again, context_again = general_attention(queries, changed, lengths, score_weight)
    assert torch.equal(again[:, 1], weights[:, 1]) and torch.allclose(context_again[:, 1], context[:, 1])
    # one query by hand: scores h^T W_a k_s, softmax, weighted sum
    scores = torch.stack([queries[0, 0] @ score_weight @ keys[s, 0] for s in range(5)])
    by_hand = torch.softmax(scores, dim=0)
    assert torch.allclose(weights[0, 0], by_hand, atol=1e-12)
    assert torch.allclose(context[0, 0], (by_hand[:, None] * keys[:, 0]).sum(0), atol=1e-12)


def test_padded_sources_encode_as_they_would_alone():
    model, batch = untrained(), tiny_batch()
    keys, (h, _) = model.encode(batch.source, batch.source_lengths)
    alone, (h_alone, _) = model.encode(batch.source[:1, 1:2], batch.source_lengths[1:2])  # "z" by itself
    assert torch.allclose(keys[0, 1], alone[0, 0], atol=1e-12) and torch.allclose(h[0, 1], h_alone[0, 0], atol=1e-12)
    assert (keys[1:, 1] == 0).all()  # nothing after its end


def test_the_teacher_forced_loss_by_hand():
    model, batch = untrained(), reversal.make_batch(["ab", "c"])
    with torch.no_grad():
        logits, _ = model(batch.source, batch.source_lengths, batch.decoder_inputs)
    targets = batch.targets  # [["b", "c"], ["a", END], [END, PAD]]
    assert targets[2, 0] == END and targets[1, 1] == END and targets[2, 1] == PAD
    terms = [-torch.log_softmax(logits[t, b], dim=0)[targets[t, b]] for t in range(3) for b in range(2)
             if targets[t, b] != PAD]
    assert len(terms) == 5
    assert math.isclose(float(sequence_loss(logits, targets)), float(sum(terms) / 5), rel_tol=1e-12)


@pytest.mark.parametrize("attention", [False, True])
def test_the_decoder_step_by_step_is_the_decoder_teacher_forced(attention):
    model, batch = untrained(attention), tiny_batch()
    logits, weights = model(batch.source, batch.source_lengths, batch.decoder_inputs)
    keys, state = model.encode(batch.source, batch.source_lengths)
    for t in range(batch.decoder_inputs.shape[0]):
        step_logits, step_weights, state = model.step(batch.decoder_inputs[t], state, keys, batch.source_lengths)
        assert torch.allclose(step_logits, logits[t], atol=1e-12)
        if attention:
            assert torch.allclose(step_weights, weights[t], atol=1e-12)


@pytest.mark.parametrize("attention", [False, True])
def test_beam_search_of_width_one_is_greedy_decoding(attention):
    batch = reversal.make_batch(reversal.random_strings(np.random.default_rng(1), 16, 1, 9))
    for seed in range(3):
        model = untrained(attention, seed=seed)
        greedy, _ = greedy_decode(model, batch.source, batch.source_lengths, max_steps=12)
        beam, _ = beam_search(model, batch.source, batch.source_lengths, beam_width=1, max_steps=12)
        assert torch.equal(greedy, beam)


@pytest.fixture(scope="module")
def tiny_trained():
    """A small model with attention trained on strings of up to 4 letters: right on short strings, not on long."""
    config = Seq2SeqConfig(attention=True, hidden_size=32, embedding_size=16, max_length=4, steps=150,
                           eval_every=50, seed=0)
    return train(config)


def log_probability(model, batch, tokens):
    """Of each column's output ``tokens`` ``(T, B)`` up to its END, scored by the model with those tokens fed back."""
    inputs = torch.cat([torch.full((1, tokens.shape[1]), START), tokens[:-1]]).masked_fill_(
        torch.cat([torch.zeros(1, tokens.shape[1], dtype=torch.bool), tokens[:-1] == END]), PAD)
    logits, _ = model(batch.source, batch.source_lengths, inputs)
    chosen = torch.log_softmax(logits, -1).gather(2, tokens[..., None])[..., 0]
    ended = torch.cumsum((tokens == END).long(), 0) - (tokens == END).long() > 0  # after END: not scored
    return chosen.masked_fill(ended | (tokens == PAD), 0).sum(0)


def test_a_wider_beam_finds_outputs_at_least_as_likely(tiny_trained):
    model = copy.deepcopy(tiny_trained[0]).double().eval()
    batch = reversal.make_batch(reversal.random_strings(np.random.default_rng(2), 32, 2, 8))
    narrow, narrow_scores = beam_search(model, batch.source, batch.source_lengths, 1, max_steps=10)
    wide, wide_scores = beam_search(model, batch.source, batch.source_lengths, 4, max_steps=10)
    assert (narrow == END).any(0).all() and (wide == END).any(0).all()  # room enough: every output ended
    with torch.no_grad():
        assert torch.allclose(log_probability(model, batch, wide), wide_scores, atol=1e-10)
        assert torch.allclose(log_probability(model, batch, narrow), narrow_scores, atol=1e-10)
    assert (wide_scores >= narrow_scores - 1e-12).all() and (wide_scores > narrow_scores + 1e-6).any()


def test_an_output_that_has_not_ended_scores_minus_infinity(tiny_trained):
    model = tiny_trained[0]
    batch = reversal.make_batch(reversal.random_strings(np.random.default_rng(2), 32, 2, 8))
    tokens, scores = beam_search(model, batch.source, batch.source_lengths, 4, max_steps=6)  # too few for 8 letters
    unfinished = ~(tokens == END).any(0)
    assert unfinished.any() and (~unfinished).any()
    assert torch.isinf(scores[unfinished]).all() and torch.isfinite(scores[~unfinished]).all()
    assert all(reversal.decode(tokens[:, b]) is None for b in unfinished.nonzero().flatten().tolist())


@pytest.mark.parametrize("attention", [False, True])
def test_decoding_never_chooses_padding_or_start(attention):
    model, batch = untrained(attention), tiny_batch()
    with torch.no_grad():
        model.output.bias[PAD] += 100.0  # the model's favourites, were they allowed
        model.output.bias[START] += 50.0
    greedy, _ = greedy_decode(model, batch.source, batch.source_lengths, max_steps=6)
    beam, _ = beam_search(model, batch.source, batch.source_lengths, 3, max_steps=6)
    for tokens in (greedy, beam):
        ended = torch.cumsum((tokens == END).long(), 0) - (tokens == END).long() > 0
        assert not ((tokens == PAD) & ~ended).any() and not (tokens == START).any()


def test_scoring_whole_outputs_and_characters():
    targets = reversal.make_batch(["ab", "cde"]).targets  # "ba" END, "edc" END
    right = targets.clone()
    assert score(right, targets) == (1.0, 1.0)
    one_letter_wrong = right.clone()
    one_letter_wrong[0, 1] = reversal.encode(["a"])[0][0, 0]
    assert score(one_letter_wrong, targets) == (0.5, 0.8)
    too_long = torch.cat([right[:2, :1], right[:2, :1]])  # "baba": no END where the target has one
    assert score(too_long, targets[:, :1]) == (0.0, 1.0)


def test_a_tiny_model_learns_to_reverse_short_strings(tiny_trained):
    model, result = tiny_trained
    assert result.best_validation < 0.2
    table = accuracy_by_length(model, lengths=[2, 4], count=64)
    assert min(table["sequence"]) > 0.8, table


@pytest.mark.parametrize("changes, message", [({"hidden_size": 0}, "hidden_size"), ({"lr": -1.0}, "lr"),
                                              ({"min_length": 5, "max_length": 4}, "max_length")])
def test_bad_settings_are_one_line_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        Seq2SeqConfig(**changes)


def test_bad_model_sizes_and_beam_widths_are_one_line_errors():
    with pytest.raises(ValueError, match="vocabulary_size: expected more than the 3 reserved ids"):
        Seq2Seq(3)
    batch, model = tiny_batch(), untrained()
    with pytest.raises(ValueError, match="beam_width: expected a positive integer"):
        beam_search(model, batch.source, batch.source_lengths, beam_width=0, max_steps=4)


def test_the_controls_are_what_their_labels_say():
    base = Seq2SeqConfig()
    rows = sweep_rows(base, lr_without_attention=0.03, lr_with_attention=0.01)
    plain, attending, wider, longer = rows.values()
    assert (plain.attention, attending.attention, wider.attention, longer.attention) == (False, True, False, False)
    assert plain.lr == wider.lr == longer.lr == 0.03 and attending.lr == 0.01 and longer.steps == 6 * base.steps
    hidden_size = larger_hidden_size(base)
    assert wider.hidden_size == hidden_size and f"H = {hidden_size}" in list(rows)[2]
    with_attention = parameter_count(build_model(attending))
    assert parameter_count(build_model(wider)) >= with_attention > parameter_count(build_model(
        Seq2SeqConfig(attention=False, hidden_size=hidden_size - 1)))
    # the wide control: asked for by name, its own rate, everything else the plain model's
    (label, wide), = sweep_rows(base, 0.03, 0.01, lr_wide=0.003, rows=["wide"]).items()
    assert label == f"no attention, H = {WIDE_HIDDEN_SIZE} (wide)" and WIDE_HIDDEN_SIZE >= 4 * base.hidden_size
    assert asdict(wide) == asdict(plain) | {"hidden_size": WIDE_HIDDEN_SIZE, "lr": 0.003}
    assert parameter_count(build_model(wide)) > 5 * with_attention
    assert list(sweep_rows(base, rows=["wide", "plain", "wide"])) == [label, "no attention"]


@pytest.mark.parametrize("rows", [[], ["nope"], "wide"])
def test_bad_rows_are_one_line_errors(rows):
    with pytest.raises(ValueError, match="rows: expected some of plain, attention, matched, longer, wide"):
        sweep_rows(Seq2SeqConfig(), rows=rows)


def test_the_next_rate_continues_the_grid():
    assert next_rate(LEARNING_RATES, upward=True) == 0.3 and next_rate([*LEARNING_RATES, 0.3], upward=True) == 1.0
    assert next_rate(LEARNING_RATES, upward=False) == 3e-4 and next_rate([3e-4, *LEARNING_RATES], upward=False) == 1e-4
    assert next_rate([0.01, 0.02], upward=True) == 0.04 and next_rate([0.01, 0.02], upward=False) == 0.005


def test_the_search_extends_the_grid_past_an_edge_that_holds_the_best():
    def loss_with_minimum_at(best):
        return lambda lr: (math.log10(lr) - math.log10(best)) ** 2

    tried = search_learning_rate(loss_with_minimum_at(0.02), LEARNING_RATES)
    assert list(tried) == list(LEARNING_RATES)  # best inside the grid: nothing added
    tried = search_learning_rate(loss_with_minimum_at(0.5), LEARNING_RATES)
    assert list(tried) == [*LEARNING_RATES, 0.3, 1.0] and min(tried, key=tried.get) == 0.3  # now inside
    tried = search_learning_rate(loss_with_minimum_at(2e-4), list(reversed(LEARNING_RATES)))
    assert list(tried) == [1e-4, 3e-4, *LEARNING_RATES] and min(tried, key=tried.get) == 3e-4
    tried = search_learning_rate(lambda lr: lr, LEARNING_RATES)  # no minimum: stops after MAX_EXTENSIONS
    assert len(tried) == len(LEARNING_RATES) + MAX_EXTENSIONS and min(tried) == min(tried, key=tried.get)
    assert list(search_learning_rate(lambda lr: 1.0, [0.01])) == [0.01]  # one rate: no edge to extend


def test_the_command_runs_the_sweep_and_writes_its_file(tmp_path):
    out = tmp_path / "runs.json"
    command = [sys.executable, "-m", "lstm_course", "seq2seq", "--seeds", "2", "--steps", "3", "--hidden-size", "8",
               "--learning-rates", "0.01", "0.03", "--test-strings", "2", "--quiet", "--out", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    printed = json.loads(completed.stdout.strip().splitlines()[-1])
    assert json.loads(out.read_text()) == printed and printed["command"].startswith("python -m lstm_course seq2seq")
    assert set(printed["learning_rates"]) == {"no attention", "attention"}
    assert [run["config"]["seed"] for run in printed["runs"]] == [0, 1] * 4
    first = printed["runs"][0]["accuracy"]
    assert set(first) == {"greedy", "beam", "teacher-forced"} and first["greedy"]["length"][-1] == 30


def test_the_command_runs_the_wide_control_alone_with_its_own_rate_search(tmp_path):
    out = tmp_path / "wide.json"
    command = [sys.executable, "-m", "lstm_course", "seq2seq", "--seeds", "1", "--steps", "3", "--hidden-size", "8",
               "--rows", "wide", "--wide-hidden-size", "12", "--learning-rates", "0.01", "0.03", "0.1",
               "--test-strings", "2", "--quiet", "--out", str(out)]
    subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    recorded = json.loads(out.read_text())
    label = "no attention, H = 12 (wide)"
    assert list(recorded["learning_rates"]) == list(recorded["chosen_learning_rates"]) == [label]
    tried = [float(lr) for lr in recorded["learning_rates"][label]]
    assert tried == sorted(tried) and {0.01, 0.03, 0.1} <= set(tried)
    (run,) = recorded["runs"]
    assert run["label"] == label and run["config"]["hidden_size"] == 12 and not run["config"]["attention"]
    assert run["config"]["lr"] == recorded["chosen_learning_rates"][label]


def test_the_command_refuses_bad_settings():
    completed = subprocess.run([sys.executable, "-m", "lstm_course", "seq2seq", "--seeds", "0"], capture_output=True,
                               text=True, cwd=ROOT)
    assert completed.returncode == 2 and "--seeds: expected a positive integer" in completed.stderr


def test_the_recorded_comparison_is_the_documented_command():
    recorded = json.loads((ROOT / "results" / "seq2seq_seed_runs.json").read_text())
    assert recorded["command"] == "python -m lstm_course seq2seq --seeds 5 --out results/seq2seq_seed_runs.json"
    labels = [run["label"] for run in recorded["runs"]]
    assert list(dict.fromkeys(labels)) == list(sweep_rows(Seq2SeqConfig()))
    assert all(labels.count(label) == 5 for label in set(labels))
    for run in recorded["runs"]:  # each run's configuration is its row's, at the learning rate the search chose
        chosen = recorded["chosen_learning_rates"]
        row = sweep_rows(Seq2SeqConfig(), chosen["no attention"], chosen["attention"])[run["label"]]
        assert {**run["config"], "seed": 0} == {**asdict(row), "seed": 0}


def test_the_recorded_wide_control_is_the_documented_command():
    recorded = json.loads((ROOT / "results" / "seq2seq_wide_control.json").read_text())
    assert recorded["command"] == ("python -m lstm_course seq2seq --seeds 5 --rows wide "
                                   "--out results/seq2seq_wide_control.json")
    main = json.loads((ROOT / "results" / "seq2seq_seed_runs.json").read_text())
    assert recorded["base_config"] == main["base_config"] and recorded["test_strings_per_length"] == 256
    ((label, rate),) = recorded["chosen_learning_rates"].items()
    row = sweep_rows(Seq2SeqConfig(), lr_wide=rate, rows=["wide"])[label]
    assert [run["config"]["seed"] for run in recorded["runs"]] == list(range(5))
    assert all(run["label"] == label and {**run["config"], "seed": 0} == {**asdict(row), "seed": 0}
               for run in recorded["runs"])
    tried = [float(lr) for lr in recorded["learning_rates"][label]]
    assert set(LEARNING_RATES) <= set(tried) and min(tried) < rate < max(tried)  # a minimum, not an edge
