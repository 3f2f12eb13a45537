"""The capitalisation tagger of chapter 11: labels, windows, right-context batches, the model, scores, the command."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course.cli import main
from lstm_course.experiments import tagging_experiment
from lstm_course.tasks import tagging
from lstm_course.tasks.corpus import TINY_CORPUS, split_text
from lstm_course.tasks.vocabulary import Vocabulary

TEXT = "FIRST WITCH.\nWhen shall we three meet again?\nI come, Graymalkin! and i think\n"


def tiny_data(text=TEXT * 20):
    vocabulary = Vocabulary.from_text(tagging.lower_case(text))
    return vocabulary, tagging.CaseData.from_text(text, vocabulary)


def test_labels_mark_capitals_small_letters_and_the_rest():
    labels = tagging.case_labels("Ab c.D")
    assert labels.tolist() == [1, 0, tagging.IGNORE, 0, tagging.IGNORE, 1]
    assert tagging.lower_case("FIRST Witch.") == "first witch."
    with pytest.raises(ValueError, match="lower-case to one character each, got 'İ'"):
        tagging.lower_case("İstanbul")


def test_case_data_lines_up_ids_of_the_lower_cased_text_with_labels_of_the_original():
    vocabulary, data = tiny_data(TEXT)
    assert vocabulary.decode(data.ids) == TEXT.lower()
    restored = "".join(c.upper() if label == tagging.UPPER else c
                       for c, label in zip(vocabulary.decode(data.ids), data.labels, strict=True))
    assert restored == TEXT


def test_random_windows_are_aligned_and_reproducible():
    _, data = tiny_data()
    ids, labels = tagging.random_windows(data, 30, 5, np.random.default_rng(1))
    assert ids.shape == labels.shape == (30, 5) and ids.dtype == labels.dtype == torch.int64
    for column in range(5):  # each column is one contiguous stretch of the text, ids and labels together
        start = int(np.flatnonzero([np.array_equal(data.ids[s:s + 30], ids[:, column].numpy())
                                    for s in range(len(data.ids) - 29)])[0])
        assert np.array_equal(data.labels[start:start + 30], labels[:, column].numpy())
    again, _ = tagging.random_windows(data, 30, 5, np.random.default_rng(1))
    assert torch.equal(ids, again)
    with pytest.raises(ValueError, match="window: expected a positive integer up to"):
        tagging.random_windows(data, len(data.ids) + 1, 5, np.random.default_rng(1))


def test_right_context_batch_puts_the_letter_at_row_left_with_exactly_right_characters_after_it():
    _, data = tiny_data()
    positions = tagging.letter_positions(data, 10, margin=8, rng=np.random.default_rng(0))
    assert (data.labels[positions] != tagging.IGNORE).all() and len(set(positions)) == 10
    ids, labels = tagging.right_context_batch(data, positions, left=5, right=3)
    assert ids.shape == (9, 10) and labels.tolist() == data.labels[positions].tolist()
    assert ids[5].tolist() == data.ids[positions].tolist()
    assert ids[-1].tolist() == data.ids[positions + 3].tolist()
    with pytest.raises(ValueError, match="positions: expected positions from 5"):
        tagging.right_context_batch(data, np.array([2]), left=5, right=3)


@pytest.mark.parametrize("num_layers, bidirectional", [(1, False), (2, True)])
def test_our_lstm_and_nn_lstm_tag_alike_with_the_same_weights(num_layers, bidirectional):
    torch.manual_seed(0)
    configs = [tagging.TaggerConfig(30, hidden_size=8, num_layers=num_layers, bidirectional=bidirectional,
                                    implementation=implementation) for implementation in ("torch", "ours")]
    reference, ours = (tagging.CaseTagger(config) for config in configs)
    ours.load_state_dict(reference.state_dict())
    assert isinstance(ours.lstm, tagging.LSTM) and isinstance(reference.lstm, nn.LSTM)
    ids = torch.randint(0, 30, (12, 3))
    expected = reference(ids)
    assert expected.shape == (12, 3, 2)
    torch.testing.assert_close(ours(ids), expected, atol=1e-5, rtol=1e-5)


def test_a_unidirectional_tagger_ignores_what_follows_and_a_bidirectional_one_does_not():
    torch.manual_seed(0)
    ids = torch.randint(0, 30, (10, 4))
    changed = ids.clone()
    changed[6:] = (changed[6:] + 1) % 30  # change everything after position 5
    for bidirectional in (False, True):
        model = tagging.CaseTagger(tagging.TaggerConfig(30, hidden_size=8, bidirectional=bidirectional)).eval()
        with torch.no_grad():
            same = torch.equal(model(ids)[:6], model(changed)[:6])
        assert same is (not bidirectional)


def test_letter_error_rate_counts_every_letter_in_the_middle_of_its_window():
    vocabulary, data = tiny_data()
    model = tagging.CaseTagger(tagging.TaggerConfig(len(vocabulary), hidden_size=8, bidirectional=True))
    context = 4
    error = tagging.letter_error_rate(model, data, context=context, batch_size=7)
    wrong = letters = 0
    for start in range(0, len(data.ids) - 3 * context + 1, context):  # one window at a time, by hand
        predicted = tagging.predict(model, torch.from_numpy(data.ids[start:start + 3 * context, None]))[:, 0]
        for row in range(context, 2 * context):
            if data.labels[start + row] != tagging.IGNORE:
                letters += 1
                wrong += int(predicted[row] != data.labels[start + row])
    assert error == pytest.approx(wrong / letters)


def test_the_rule_capitalises_line_and_sentence_starts_and_the_word_i():
    text = "first witch.\nwhen i come. is it? in"
    predicted = tagging.rule_predictions(text)
    capitals = "".join(c.upper() if label == tagging.UPPER else c for c, label in zip(text, predicted, strict=True))
    assert capitals == "First witch.\nWhen I come. Is it? In"
    assert (predicted[[c.isalpha() for c in text]] != tagging.IGNORE).all()


def test_the_rule_looks_one_character_ahead_only_for_the_word_i_and_the_causal_rule_never():
    text = "first witch.\nwhen i come. is it? in, i\nand i\ni'll go"
    causal = tagging.rule_predictions(text, look_ahead=False)
    capitals = "".join(c.upper() if label == tagging.UPPER else c for c, label in zip(text, causal, strict=True))
    assert capitals == "First witch.\nWhen i come. Is it? In, i\nAnd i\nI'll go"  # "I'll" starts a line
    for end in range(1, len(text) + 1):  # causal: a letter's label is the same whatever follows it
        assert np.array_equal(tagging.rule_predictions(text[:end], look_ahead=False), causal[:end])
    ahead = tagging.rule_predictions(text)
    assert [text[p] for p in np.flatnonzero(ahead != causal)] == ["i", "i", "i"]  # the three words "i" only
    assert tagging.rule_predictions("so i")[-1] == tagging.UPPER != tagging.rule_predictions("so in")[-2]


def capitalised(text, labels):
    return "".join(c.upper() if label == tagging.UPPER else c for c, label in zip(text, labels, strict=True))


def test_the_strong_causal_rule_adds_capitals_after_a_blank_line_and_reads_no_right_context():
    text = "first witch.\nwhen i come. is it?\n\nsecond witch, aside. go\nact i.\n\nexit"
    predicted = tagging.strong_causal_predictions(text)
    assert capitalised(text, predicted) == \
        "FIRST WITCH.\nWhen i come. Is it?\n\nSECOND WITCH, aside. Go\nAct i.\n\nEXIT"
    for end in range(1, len(text) + 1):  # causal: a letter's label is the same whatever follows it
        assert np.array_equal(tagging.strong_causal_predictions(text[:end]), predicted[:end])


def test_the_lexicon_keeps_each_words_most_frequent_casing_in_the_text_it_is_built_from():
    lexicon = tagging.word_casing_lexicon("Macbeth and MACBETH. Macbeth's sword; the THE the O'er")
    assert lexicon == {"macbeth": "Macbeth", "and": "and", "s": "s", "sword": "sword", "the": "the", "o": "O",
                       "er": "er"}


def test_the_lexicon_rule_uses_the_lexicon_the_rule_and_short_lines_after_a_blank_line():
    lexicon = tagging.word_casing_lexicon("Macbeth met Banquo, and Rome.")
    text = "first witch.\nwhere met macbeth, i think\n\nbanquo.\nthe rome of banquo.\n\nexit, pursued."
    predicted = tagging.lexicon_predictions(text, lexicon)
    assert capitalised(text, predicted) == \
        "FIRST WITCH.\nWhere met Macbeth, I think\n\nBANQUO.\nThe Rome of Banquo.\n\nExit, pursued."
    ahead = 42  # its right context: the end of the word, and of a line of at most 42 characters
    for end in range(1, len(text) + 1):
        labels = tagging.lexicon_predictions(text[:end] + "\n", lexicon)[:end]
        start = max(0, end - ahead)  # letters at least `ahead` characters before the cut keep their labels
        assert np.array_equal(labels[:start], predicted[:start])


def test_letter_categories():
    text = "FIRST WITCH.\nI come, Graymalkin! i think\nand Macbeth"
    categories = tagging.letter_categories(text)
    named = {character_index: tagging.CATEGORIES[category] for character_index, category in enumerate(categories)
             if category >= 0}
    assert {named[k] for k in range(5)} == {"all-capital line"}
    assert named[text.index("I come")] == "the word I" == named[text.index("i think")]
    assert named[text.index("come")] == named[text.index("Graymalkin")] == "first letter of a word"
    assert named[text.index("and")] == "first letter of a line"
    assert named[text.index("ome")] == "inside a word"
    assert (categories[[not c.isalpha() for c in text]] == -1).all()


def test_bad_settings_are_one_line_errors():
    with pytest.raises(ValueError, match="implementation: expected one of"):
        tagging.TaggerConfig(10, implementation="keras")
    with pytest.raises(ValueError, match="bidirectional: expected True or False"):
        tagging.TaggerConfig(10, bidirectional=1)
    with pytest.raises(ValueError, match="model: expected one of"):
        tagging_experiment.model_config("bi3", 10, tagging_experiment.RunSettings())
    with pytest.raises(ValueError, match="ids: expected a \\(T, B\\) int64 tensor"):
        tagging.CaseTagger(tagging.TaggerConfig(10))(torch.zeros(3, 2))


SMALL = tagging_experiment.RunSettings(steps=4, batch_size=4, window=20, hidden_size=8, positions=30,
                                       validation_characters=2000, eval_every=2)


def test_one_run_records_the_right_context_curve_and_a_flat_one_for_a_unidirectional_model():
    splits = split_text(TINY_CORPUS * 200)
    vocabulary, data = tagging.case_restoration_data(splits)
    categories = tagging.letter_categories(splits["test"])
    records = {name: tagging_experiment.run(name, 0, len(vocabulary), data, categories, SMALL)
               for name in ("uni1", "bi1")}
    for record in records.values():
        curve = record["right_context"]
        assert curve["k"] == list(tagging_experiment.RIGHT_CONTEXTS) and len(curve["accuracy"]) == len(curve["k"])
        assert 0 <= record["test_error"] <= 1 and sum(curve["letters_by_category"].values()) == SMALL.positions
    assert len(set(records["uni1"]["right_context"]["accuracy"])) == 1  # flat: it cannot see to the right
    assert records["bi1"]["parameters"] > records["uni1"]["parameters"]
    baselines = tagging_experiment.baselines(splits["test"])
    assert 0 < baselines["rule_error"] < baselines["all_lower_case_error"] < 1
    assert baselines["rule_error"] <= baselines["causal_rule_error"] < 1
    assert 0 < baselines["strong_causal_error"] < 1 and "lexicon_error" not in baselines
    with_lexicon = tagging_experiment.baselines(splits["test"], splits["train"])
    assert 0 < with_lexicon["lexicon_error"] <= with_lexicon["rule_error"]


def test_the_command_line_runs_the_grid_and_writes_its_record(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TINY_CORPUS * 200)
    out = tmp_path / "runs.json"
    arguments = ["tagging", "--corpus", str(corpus), "--models", "uni1", "bi2", "--seeds", "0", "--steps", "3",
                 "--hidden-size", "8", "--positions", "20", "--quiet", "--out", str(out)]
    assert main(arguments) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert [(run["model"], run["seed"]) for run in printed["runs"]] == [("uni1", 0), ("bi2", 0)]
    assert printed["command"].startswith("python -m lstm_course tagging --corpus")
    assert set(printed["baselines"]) >= {"strong_causal_error", "lexicon_error"}  # the lexicon from the training plays
    assert main(arguments) == 2  # an existing record is not replaced without --overwrite
    assert "already exists" in capsys.readouterr().err


def test_a_model_can_have_its_own_learning_rate(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TINY_CORPUS * 200)
    arguments = ["tagging", "--corpus", str(corpus), "--models", "uni1", "bi1", "--seeds", "0", "--steps", "2",
                 "--hidden-size", "4", "--positions", "10", "--quiet", "--model-lr", "bi1=0.1"]
    assert main(arguments) == 0
    assert [run["settings"]["lr"] for run in json.loads(capsys.readouterr().out)["runs"]] == [0.03, 0.1]


@pytest.mark.parametrize("arguments, message", [
    (["--steps", "0"], "steps: expected a positive integer"),
    (["--model-lr", "bi3=0.1"], "--model-lr: expected MODEL=RATE"),
    (["--model-lr", "bi1=fast"], "--model-lr: expected MODEL=RATE"),
    (["--model-lr", "bi1=0.1", "--lr", "0.01", "0.02"], "give one --lr with it"),
])
def test_the_command_line_refuses_bad_settings(arguments, message):
    completed = subprocess.run([sys.executable, "-m", "lstm_course", "tagging", "--quiet", *arguments],
                               capture_output=True, text=True)
    assert completed.returncode == 2 and message in completed.stderr, completed.stderr
