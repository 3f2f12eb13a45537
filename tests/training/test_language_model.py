"""Vocabulary, TBPTT batching, n-gram baselines, the model, checkpoints, training, sampling, interpretation."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from lstm_course.cli import main
from lstm_course.models import ngram
from lstm_course.models.language_model import CharLSTM, ModelConfig
from lstm_course.plumbing.runtime import resolve_device
from lstm_course.tasks.batching import number_of_batches, streams, tbptt_batches
from lstm_course.tasks.corpus import TINY_CORPUS, split_text
from lstm_course.tasks.vocabulary import UNKNOWN, UNKNOWN_SYMBOL, Vocabulary
from lstm_course.training import checkpoint as checkpoints
from lstm_course.training.interpret import best_units, feature_correlations, text_features, trace
from lstm_course.training.lm_training import TrainConfig, TrainingDiverged, load_model, nats_per_char, train
from lstm_course.training.sampling import next_character_distribution, sample

TEXT = TINY_CORPUS * 20
SMALL_MODEL = {"hidden_size": 16, "num_layers": 2, "embedding_size": 8}


def small_config(**overrides):
    values = {"batch_size": 4, "bptt": 16, "max_steps": 12, "eval_every": 4, "validation_chars": 400, "lr": 1e-2,
              "warmup_steps": 2}
    return TrainConfig(**(values | overrides))


# Vocabulary -------------------------------------------------------------------------------------

def test_vocabulary_round_trip_and_unknown_characters():
    vocabulary = Vocabulary.from_text(TINY_CORPUS)
    assert vocabulary.symbols[0] == UNKNOWN_SYMBOL and vocabulary.symbols[1:] == sorted(set(TINY_CORPUS))
    ids = vocabulary.encode(TINY_CORPUS)
    assert ids.dtype == np.int64 and (ids > 0).all() and vocabulary.decode(ids) == TINY_CORPUS
    unseen = vocabulary.encode("Speak, Ω!€")
    # Ω, ! and € never occur in the training text:
    assert unseen.tolist().count(UNKNOWN) == 3 and vocabulary.count_unknown("Speak, Ω!€") == 3
    assert vocabulary.decode(unseen) == "Speak, " + UNKNOWN_SYMBOL * 3
    assert Vocabulary.from_list(vocabulary.to_list()) == vocabulary


def test_vocabulary_errors():
    with pytest.raises(ValueError, match="at least one character"):
        Vocabulary.from_text("")
    with pytest.raises(ValueError, match=r"integers in \[0, 3\)"):
        Vocabulary.from_text("ab").decode([0, 3])
    with pytest.raises(ValueError, match="unknown marker"):
        Vocabulary.from_list(["a", "b"])


# Batching ---------------------------------------------------------------------------------------

def test_tbptt_batches_are_contiguous_streams():
    ids = np.arange(103)
    batches = list(tbptt_batches(ids, batch_size=4, bptt=7))
    assert len(batches) == number_of_batches(len(ids), 4, 7) == 4  # 25 steps per stream: 7 + 7 + 7 + 4
    inputs = torch.cat([x for x, _ in batches])
    targets = torch.cat([y for _, y in batches])
    assert inputs.shape == (25, 4)
    assert (targets == inputs + 1).all()  # the target is the next character
    assert (inputs[:, 1] == torch.arange(25, 50)).all()  # stream 1 continues across batches
    assert [x.shape[0] for x, _ in batches] == [7, 7, 7, 4]
    resumed = list(tbptt_batches(ids, 4, 7, start=2))
    assert all((a == b).all() for (a, _), (b, _) in zip(resumed, batches[2:], strict=True))


def test_batching_errors():
    with pytest.raises(ValueError, match="at least batch_size"):
        streams(np.arange(4), 4)
    with pytest.raises(ValueError, match="1-D integer"):
        streams(np.zeros((3, 3)), 1)
    with pytest.raises(ValueError, match="bptt"):
        list(tbptt_batches(np.arange(10), 2, 0))


# Baselines --------------------------------------------------------------------------------------

@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_kneser_ney_is_a_normalised_distribution(order):
    vocabulary = Vocabulary.from_text(TINY_CORPUS)
    model = ngram.KneserNey(vocabulary.encode(TINY_CORPUS), len(vocabulary), order)
    history = vocabulary.encode("All:\nSpeak, sp")
    totals = [model.probabilities(np.append(history, next_id))[-1] for next_id in range(len(vocabulary))]
    assert math.isclose(sum(totals), 1.0, rel_tol=1e-12)
    assert min(totals) > 0  # unseen characters, the unknown id included, keep a probability


def test_kneser_ney_beats_unigram_which_beats_uniform_on_held_out_text():
    text = TINY_CORPUS * 6 + "First Citizen:\nYou are all resolved rather to famish than to die?\n"
    splits = split_text(text, 0.1, 0.1)
    vocabulary = Vocabulary.from_text(splits["train"])
    train_ids, validation_ids, test_ids = (vocabulary.encode(splits[name]) for name in ("train", "validation", "test"))
    best, scores = ngram.choose_order(train_ids, validation_ids, len(vocabulary), orders=range(1, 7))
    assert best.order == min(scores, key=scores.get) > 1
    assert best.nats_per_char(test_ids) < ngram.unigram_nats_per_char(train_ids, test_ids, len(vocabulary)) \
        < ngram.uniform_nats_per_char(len(vocabulary))


def test_kneser_ney_order_limits_and_errors():
    assert ngram.max_order(85) == 9  # 85**9 < 2**63 < 85**10
    with pytest.raises(ValueError, match=r"order: expected an integer in \[1, 9\]"):
        ngram.KneserNey(np.arange(20) % 85, 85, 10)
    with pytest.raises(ValueError, match=r"ids in \[0, 5\)"):
        ngram.KneserNey(np.arange(20), 5, 2)


# Model ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("implementation", ["torch", "ours"])
def test_model_shapes_forget_bias_and_state(implementation):
    torch.manual_seed(0)
    model = CharLSTM(ModelConfig(vocabulary_size=11, implementation=implementation, forget_bias=1.0, **SMALL_MODEL))
    hidden = SMALL_MODEL["hidden_size"]
    for layer in range(2):
        bias = getattr(model.lstm, f"bias_ih_l{layer}")
        assert bias[hidden : 2 * hidden].mean() > 0.8 > bias[:hidden].abs().max()  # only the forget rows moved
    ids = torch.randint(0, 11, (9, 3))
    logits, (h, c) = model.eval()(ids)
    assert logits.shape == (9, 3, 11) and h.shape == c.shape == (2, 3, hidden)
    first, state = model(ids[:4])
    second, _ = model(ids[4:], state)
    assert torch.allclose(torch.cat([first, second]), logits, atol=1e-6)  # carrying the state continues the text


def test_both_implementations_give_the_same_model():
    torch.manual_seed(0)
    reference = CharLSTM(ModelConfig(vocabulary_size=11, implementation="torch", **SMALL_MODEL)).double()
    ours = CharLSTM(ModelConfig(vocabulary_size=11, implementation="ours", **SMALL_MODEL)).double()
    ours.load_state_dict(reference.state_dict())
    ids = torch.randint(0, 11, (7, 3))
    expected, actual = reference.eval()(ids)[0], ours.eval()(ids)[0]
    assert torch.allclose(actual, expected, atol=1e-10)


def test_model_input_errors():
    model = CharLSTM(ModelConfig(vocabulary_size=5, **SMALL_MODEL))
    with pytest.raises(ValueError, match=r"\(T, B\) int64"):
        model(torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"ids in \[0, 5\)"):
        model(torch.full((2, 2), 7))
    with pytest.raises(ValueError, match="implementation"):
        ModelConfig(vocabulary_size=5, implementation="keras")


# Training, checkpoints, resume ------------------------------------------------------------------

def test_training_lowers_the_loss_and_writes_a_loadable_checkpoint(tmp_path):
    splits = split_text(TEXT, 0.1, 0.1)
    path = tmp_path / "model.pt"
    model, vocabulary, result = train(splits["train"], splits["validation"], small_config(max_steps=40),
                                      SMALL_MODEL, checkpoint_path=path, progress_bar=False)
    history = [entry["validation_nats"] for entry in result.history]
    assert history[-1] < history[0] < math.log(len(vocabulary)) + 0.5
    assert result.steps == 40 and result.stopped == "budget"
    loaded, loaded_vocabulary, saved = load_model(path)
    assert loaded_vocabulary == vocabulary and saved["progress"]["steps"] == 40
    ids = vocabulary.encode(splits["validation"])
    assert nats_per_char(loaded, ids) == pytest.approx(nats_per_char(model, ids), abs=1e-6)
    assert nats_per_char(model, ids) == pytest.approx(result.best_validation_nats, abs=1e-6)


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    splits = split_text(TEXT, 0.1, 0.1)
    whole_path, split_path = tmp_path / "whole.pt", tmp_path / "split.pt"
    train(splits["train"], splits["validation"], small_config(), SMALL_MODEL, checkpoint_path=whole_path,
          progress_bar=False)
    clip = torch.nn.utils.clip_grad_norm_
    calls = []

    def interrupt_at_step_8(*args, **kwargs):  # Ctrl-C in the middle of step 8
        calls.append(1)
        if len(calls) == 8:
            raise KeyboardInterrupt
        return clip(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(torch.nn.utils, "clip_grad_norm_", interrupt_at_step_8)
        _, _, interrupted = train(splits["train"], splits["validation"], small_config(), SMALL_MODEL,
                                  checkpoint_path=split_path, progress_bar=False)
    assert interrupted.stopped == "interrupted" and interrupted.steps == 7
    assert checkpoints.load(split_path)["progress"]["steps"] == 7
    _, _, resumed = train(splits["train"], splits["validation"], small_config(), None, checkpoint_path=split_path,
                          resume_from=split_path, progress_bar=False)
    assert resumed.steps == 12 and resumed.stopped == "budget"
    whole, split = checkpoints.load(whole_path), checkpoints.load(split_path)
    for name, tensor in whole["model"].items():
        assert torch.equal(split["model"][name], tensor), name
    assert whole["progress"]["best_validation_nats"] == split["progress"]["best_validation_nats"]


def test_checkpoint_errors_are_one_line(tmp_path):
    missing = tmp_path / "missing.pt"
    with pytest.raises(checkpoints.CheckpointError, match="no such checkpoint"):
        checkpoints.load(missing)
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a checkpoint")
    with pytest.raises(checkpoints.CheckpointError, match="not a readable checkpoint"):
        checkpoints.load(text_file)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(checkpoints.CheckpointError, match="expected a checkpoint of format"):
        checkpoints.load(foreign)
    splits = split_text(TEXT, 0.1, 0.1)
    good = tmp_path / "good.pt"
    train(splits["train"], splits["validation"], small_config(max_steps=4), SMALL_MODEL, checkpoint_path=good,
          progress_bar=False)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(checkpoints.CheckpointError, match="not a readable checkpoint"):
        checkpoints.load(truncated)


def test_a_failed_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.pt"
    checkpoints.save({"format": "first"}, path)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", fail)
    with pytest.raises(KeyboardInterrupt):
        checkpoints.save({"format": "second"}, path)
    assert path.read_bytes() == before and list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_a_nan_loss_stops_with_a_clear_error(tmp_path, monkeypatch):
    splits = split_text(TEXT, 0.1, 0.1)
    cross_entropy = torch.nn.functional.cross_entropy
    calls = []

    def nan_at_step_3(*args, **kwargs):
        calls.append(1)
        loss = cross_entropy(*args, **kwargs)
        return loss * math.nan if len(calls) == 3 else loss

    monkeypatch.setattr(torch.nn.functional, "cross_entropy", nan_at_step_3)
    with pytest.raises(TrainingDiverged, match=r"loss became nan at step 3 \(learning rate"):
        train(splits["train"], splits["validation"], small_config(eval_every=100), SMALL_MODEL,
              checkpoint_path=tmp_path / "model.pt", progress_bar=False)


def test_resume_refuses_another_corpus(tmp_path):
    splits = split_text(TEXT, 0.1, 0.1)
    path = tmp_path / "model.pt"
    train(splits["train"], splits["validation"], small_config(max_steps=4), SMALL_MODEL, checkpoint_path=path,
          progress_bar=False)
    with pytest.raises(ValueError, match="vocabulary"):
        train(splits["train"] + "Ω", splits["validation"], small_config(max_steps=8), None, resume_from=path,
              progress_bar=False)


def test_early_stopping_keeps_the_best_weights():
    splits = split_text(TEXT, 0.1, 0.1)
    model, _, result = train(splits["train"], splits["validation"], small_config(max_steps=200, lr=0.3, patience=1,
                                                                                 eval_every=2), SMALL_MODEL,
                             progress_bar=False)
    assert result.stopped == "early stopping" and result.steps < 200
    best = min(entry["validation_nats"] for entry in result.history)
    assert result.best_validation_nats == best


# Sampling ---------------------------------------------------------------------------------------

def test_sampling_is_seeded_and_respects_top_k():
    torch.manual_seed(0)
    vocabulary = Vocabulary.from_text(TINY_CORPUS)
    model = CharLSTM(ModelConfig(vocabulary_size=len(vocabulary), **SMALL_MODEL))
    first = sample(model, vocabulary, "All:", 50, temperature=1.0, seed=3)
    assert first == sample(model, vocabulary, "All:", 50, temperature=1.0, seed=3)
    assert first != sample(model, vocabulary, "All:", 50, temperature=1.0, seed=4)
    assert first.startswith("All:") and len(first) == 54 and UNKNOWN_SYMBOL not in first
    logits = torch.tensor([5.0, 1.0, 3.0, 2.0, 0.0])
    probabilities = next_character_distribution(logits, temperature=1.0, top_k=2)
    assert probabilities[0] == 0 and (probabilities > 0).sum() == 2 and probabilities[[2, 3]].sum() == pytest.approx(1)
    cold = next_character_distribution(logits, temperature=0.1)
    assert cold[2] > 0.99
    with pytest.raises(ValueError, match="temperature"):
        sample(model, vocabulary, "All:", 5, temperature=0)
    with pytest.raises(ValueError, match="top_k"):
        sample(model, vocabulary, "All:", 5, top_k=0)


# Interpretation ---------------------------------------------------------------------------------

def test_trace_equals_the_model_forward_pass():
    torch.manual_seed(0)
    vocabulary = Vocabulary.from_text(TINY_CORPUS)
    model = CharLSTM(ModelConfig(vocabulary_size=len(vocabulary), **SMALL_MODEL)).eval()
    passage = TINY_CORPUS[:40]
    layers = trace(model, vocabulary, passage)
    outputs, _ = model.lstm(model.embedding(torch.from_numpy(vocabulary.encode(passage))).unsqueeze(1))
    assert np.allclose(layers[-1]["hidden"], outputs[:, 0].detach().numpy(), atol=1e-6)
    assert layers[0]["forget_gate"].shape == (40, 16)
    assert ((layers[0]["forget_gate"] > 0) & (layers[0]["forget_gate"] < 1)).all()


def test_text_features_and_correlations():
    text = 'MACBETH.\nSay "hi" [Exit.]\n'
    features = text_features(text)
    assert features["speaker_name"][:8].all() and not features["speaker_name"][8:].any()
    assert features["inside_quotes"].tolist()[13:17] == [1, 1, 1, 1] and features["inside_quotes"][18] == 0
    assert features["inside_brackets"][text.index("[") : text.index("]") + 1].all()
    assert features["position_in_line"][text.index("S")] == 0 and features["position_in_line"][text.index("y")] == 2
    values = np.stack([features["position_in_line"] * 2 + 1, -features["speaker_name"], np.ones(len(text))], axis=1)
    correlations = feature_correlations(values, features["position_in_line"])
    assert correlations[0] == pytest.approx(1) and correlations[2] == 0
    assert best_units(values, {"speaker_name": features["speaker_name"]})["speaker_name"] == (1, pytest.approx(-1))
    with pytest.raises(ValueError, match=r"\(T, H\) and \(T,\)"):
        feature_correlations(values, features["position_in_line"][:-1])


# Command line -----------------------------------------------------------------------------------

@pytest.fixture
def own_corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_cli_train_evaluate_sample(tmp_path, own_corpus, capsys):
    checkpoint = tmp_path / "model.pt"
    common = ["--corpus", str(own_corpus)]
    assert main(["train-lm", "--max-steps", "6", "--out", str(checkpoint), "--seed", "1", "--hidden-size", "16",
                 "--layers", "1", "--batch-size", "4", "--bptt", "16", "--eval-every", "3", "--threads", "1",
                 "--quiet", *common]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 6 and summary["checkpoint"] == str(checkpoint)
    assert main(["evaluate", str(checkpoint), "--split", "test", *common]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("test_bits_per_char", "ngram_bits_per_char", "unigram_bits_per_char", "uniform_bits_per_char"):
        assert scores[key] > 0
    vocabulary_size = len(set(split_text(TEXT)["train"])) + 1
    assert scores["uniform_bits_per_char"] == pytest.approx(math.log2(vocabulary_size), abs=1e-4)
    arguments = ["sample", str(checkpoint), "--prompt", "All:", "--length", "40", "--seed", "2"]
    assert main(arguments) == 0
    first = capsys.readouterr().out
    assert main(arguments) == 0
    assert capsys.readouterr().out == first and first.startswith("All:")


def test_cli_refuses_to_overwrite_and_reports_bad_checkpoints(tmp_path, own_corpus, capsys):
    existing = tmp_path / "model.pt"
    existing.write_bytes(b"precious")
    assert main(["train-lm", "--max-steps", "2", "--out", str(existing), "--corpus", str(own_corpus), "--quiet"]) == 2
    assert "already exists" in capsys.readouterr().err and existing.read_bytes() == b"precious"
    for content in (b"", b"PK\x03\x04 truncated zip", b"just text\n"):
        existing.write_bytes(content)
        assert main(["sample", str(existing)]) == 2
        error = capsys.readouterr().err
        assert error.startswith("error: ") and error.count("\n") == 1 and "Traceback" not in error


def test_cli_missing_checkpoint_in_a_subprocess(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "lstm_course", "sample", str(tmp_path / "none.pt")],
                               capture_output=True, text=True)
    assert completed.returncode == 2 and "no such checkpoint" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_device_names_are_checked_with_a_clear_error(tmp_path, own_corpus, capsys):
    with pytest.raises(ValueError, match=r"device: expected 'auto', 'cpu', 'cuda' or 'cuda:N', got 'gpu'"):
        small_config(device="gpu")
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no CUDA GPU"):
            resolve_device("cuda:0")
        assert main(["train-lm", "--max-steps", "1", "--out", str(tmp_path / "unused.pt"), "--corpus",
                     str(own_corpus), "--quiet", "--device", "cuda"]) == 2
        error = capsys.readouterr().err
        assert error.startswith("error: device 'cuda': PyTorch sees no CUDA GPU") and error.count("\n") == 1


def test_training_on_the_automatic_device_gives_a_model_there_and_a_checkpoint_any_machine_loads(tmp_path):
    path = tmp_path / "model.pt"
    model, _, result = train(TEXT, TEXT[:500], small_config(max_steps=4, eval_every=2, device="auto"), SMALL_MODEL,
                             checkpoint_path=path, progress_bar=False)
    assert next(model.parameters()).device.type == resolve_device("auto").type
    saved = checkpoints.load(path)  # on the CPU, whichever device trained it
    assert all(tensor.device.type == "cpu" for tensor in saved["model"].values())
    assert all(tensor.device.type == "cpu" for tensor in saved["progress"]["state"])
    resumed, _, _ = train(TEXT, TEXT[:500], small_config(max_steps=6, eval_every=2, device="auto"),
                          checkpoint_path=tmp_path / "more.pt", resume_from=path, progress_bar=False)
    assert next(resumed.parameters()).device.type == resolve_device("auto").type
    assert result.steps == 4


# Issue 17: checkpoints with the right format tag but wrong contents, and contradicting options ------------------

def _cli_checkpoint(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    good = tmp_path / "good.pt"
    assert main(["train-lm", "--corpus", str(corpus), "--out", str(good), "--max-steps", "4", "--eval-every", "2",
                 "--hidden-size", "8", "--embedding-size", "4", "--batch-size", "2", "--bptt", "8", "--quiet"]) == 0
    capsys.readouterr()
    return corpus, good


DAMAGES = {
    "no steps": (lambda saved: saved["progress"].pop("steps"), "progress has no 'steps'"),
    "negative steps": (lambda saved: saved["progress"].__setitem__("steps", -3), "progress['steps'] is -3"),
    "steps out of step": (lambda saved: saved["progress"].__setitem__("steps", 3), "the optimiser has taken [4] steps"),
    "vocabulary": (lambda saved: saved.__setitem__("vocabulary", "abc"), "vocabulary is not a list of symbols"),
    "sizes": (lambda saved: saved["model_config"].__setitem__("hidden_size", 17),
              "weights do not fit its model_config (size mismatch"),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_checkpoint_with_wrong_contents_is_refused_in_one_line(tmp_path, capsys, damage):
    corpus, good = _cli_checkpoint(tmp_path, capsys)
    saved = torch.load(good, weights_only=True)
    spoil, message = DAMAGES[damage]
    spoil(saved)
    bad = tmp_path / "bad.pt"
    torch.save(saved, bad)
    for command in (["evaluate", str(bad), "--corpus", str(corpus)],
                    ["train-lm", "--corpus", str(corpus), "--resume", str(bad), "--out", str(bad), "--max-steps", "8",
                     "--quiet"]):
        code, error = main(command), capsys.readouterr().err
        assert code == 2 and message in error and error.count("\n") == 1, (command[0], error)


def test_resume_refuses_options_that_contradict_the_checkpoint(tmp_path, capsys):
    corpus, good = _cli_checkpoint(tmp_path, capsys)
    common = ["train-lm", "--corpus", str(corpus), "--resume", str(good), "--out", str(good), "--max-steps", "6",
              "--eval-every", "2", "--batch-size", "2", "--bptt", "8", "--quiet"]
    code, error = main([*common, "--hidden-size", "999"]), capsys.readouterr().err
    assert code == 2 and error == (f"error: --hidden-size 999 contradicts {good}, whose hidden_size is 8: a resumed "
                                   "run keeps its model; leave --hidden-size out\n")
    assert main([*common, "--hidden-size", "8", "--layers", "1"]) == 0  # agreeing options are fine
