"""Chapter 11's measurement: train a capitalisation tagger and score it by how much right context it saw.

One run (:func:`run`) trains one :class:`~lstm_course.tasks.tagging.CaseTagger` with
:func:`lstm_course.training.supervised.fit` on random windows of the training plays, keeps the weights that
label the validation plays best, and reports on the test plays:

* ``test_error``: the fraction of all test letters labelled wrong, each seen with 64 characters on
  both sides (:func:`~lstm_course.tasks.tagging.letter_error_rate`);
* ``right_context``: at ``positions`` letters drawn at random, the fraction labelled right when the
  model sees 64 characters before the letter and exactly ``k`` after it, for each ``k`` of
  :data:`RIGHT_CONTEXTS`, overall and by kind of letter (:data:`~lstm_course.tasks.tagging.CATEGORIES`).

``python -m lstm_course tagging`` runs a grid of models and seeds and records every run
(``results/tagging_seed_runs.json``); the chapter re-runs one of them.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from lstm_course.plumbing.runtime import set_threads
from lstm_course.plumbing.validation import positive_int, seed_value
from lstm_course.tasks import tagging
from lstm_course.training.supervised import FitConfig, fit

MODELS = {"uni1": (False, 1), "bi1": (True, 1), "uni2": (False, 2), "bi2": (True, 2)}
"""Name → (bidirectional, num_layers): the four models the chapter compares."""

RIGHT_CONTEXTS = (0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64)
"""The amounts of right context, in characters, each run is scored with."""

LEFT_CONTEXT = 64
"""Characters before each scored letter (and, for ``test_error``, on both sides)."""

POSITIONS_SEED = 2024
"""The seed that draws the scored positions: the same letters for every model and run."""


@dataclass
class RunSettings:
    """Everything a run needs besides the model's name and the seed: the budget, the data, the sizes."""

    steps: int = 600
    batch_size: int = 32
    window: int = 100
    lr: float = 3e-2
    hidden_size: int = 64
    embedding_size: int = 16
    implementation: str = "torch"
    positions: int = 20_000
    validation_characters: int = 100_000
    eval_every: int = 200

    def __post_init__(self):
        for name in ("steps", "batch_size", "window", "hidden_size", "embedding_size", "positions",
                     "validation_characters", "eval_every"):
            positive_int(name, getattr(self, name))


def model_config(name: str, vocabulary_size: int, settings: RunSettings) -> tagging.TaggerConfig:
    """The :class:`~lstm_course.tasks.tagging.TaggerConfig` of one of :data:`MODELS`."""
    if name not in MODELS:
        raise ValueError(f"model: expected one of {tuple(MODELS)}, got {name!r}")
    bidirectional, num_layers = MODELS[name]
    return tagging.TaggerConfig(vocabulary_size, embedding_size=settings.embedding_size,
                                hidden_size=settings.hidden_size, num_layers=num_layers,
                                bidirectional=bidirectional, implementation=settings.implementation)


def train(name: str, seed: int, vocabulary_size: int, data: dict[str, tagging.CaseData], settings: RunSettings,
          progress_bar: bool = False):
    """Train model ``name`` from ``seed`` (its weights and its batches); returns the model and the ``FitResult``."""
    seed_value("seed", seed)
    torch.manual_seed(seed)
    model = tagging.CaseTagger(model_config(name, vocabulary_size, settings))
    validation = tagging.CaseData(data["validation"].ids[:settings.validation_characters],
                                  data["validation"].labels[:settings.validation_characters])
    result = fit(model, lambda rng: tagging.random_windows(data["train"], settings.window, settings.batch_size, rng),
                 tagging.tagging_loss,
                 FitConfig(steps=settings.steps, lr=settings.lr, eval_every=settings.eval_every, seed=seed),
                 lambda model: tagging.letter_error_rate(model, validation, LEFT_CONTEXT),
                 progress_bar=progress_bar, description=f"{name}, seed {seed}")
    return model, result


def scored_positions(data: tagging.CaseData, count: int) -> np.ndarray:
    """The ``count`` test letters every run is scored at (drawn from :data:`POSITIONS_SEED`)."""
    margin = LEFT_CONTEXT + max(RIGHT_CONTEXTS)
    return tagging.letter_positions(data, count, margin, np.random.default_rng(POSITIONS_SEED))


def right_context_scores(model: tagging.CaseTagger, data: tagging.CaseData, categories: np.ndarray,
                         positions: np.ndarray, rights=RIGHT_CONTEXTS) -> dict:
    """Accuracy at ``positions`` for each right context, overall and per category (``categories``: ``(N,)``)."""
    kinds = categories[positions]
    if model.config.bidirectional:
        correct = [tagging.predict_at(model, ids, LEFT_CONTEXT) == labels.numpy()
                   for ids, labels in (tagging.right_context_batch(data, positions, LEFT_CONTEXT, right)
                                       for right in rights)]
    else:  # its output at a letter cannot depend on what follows the letter: score it once
        ids, labels = tagging.right_context_batch(data, positions, LEFT_CONTEXT, 0)
        correct = [tagging.predict_at(model, ids, LEFT_CONTEXT) == labels.numpy()] * len(rights)

    def mean(values):  # None where a category has no letter among the positions (a tiny corpus)
        return float(values.mean()) if values.size else None

    return {"k": list(rights), "accuracy": [mean(right) for right in correct],
            "by_category": {name: [mean(right[kinds == index]) for right in correct]
                            for index, name in enumerate(tagging.CATEGORIES)},
            "letters_by_category": {name: int((kinds == index).sum()) for index, name in enumerate(tagging.CATEGORIES)}}


def run(name: str, seed: int, vocabulary_size: int, data: dict[str, tagging.CaseData], test_categories: np.ndarray,
        settings: RunSettings, progress_bar: bool = False) -> dict:
    """Train and score one model; returns a JSON-ready record."""
    set_threads(1)
    model, result = train(name, seed, vocabulary_size, data, settings, progress_bar)
    start = time.perf_counter()
    positions = scored_positions(data["test"], settings.positions)
    record = {"model": name, "seed": seed, "settings": asdict(settings),
              "cpu_capability": torch.backends.cpu.get_cpu_capability(),  # PyTorch's kernels (AVX2, AVX512)
              "parameters": tagging.parameter_count(model), "train_seconds": round(result.seconds, 1),
              "validation_error": result.best_validation,
              "test_error": tagging.letter_error_rate(model, data["test"], LEFT_CONTEXT),
              "right_context": right_context_scores(model, data["test"], test_categories, positions)}
    record["score_seconds"] = round(time.perf_counter() - start, 1)
    return record


def baselines(test_text: str, train_text: str | None = None) -> dict:
    """Error rates on the test letters of the answers that need no training (no model, no gradient).

    ``all_lower_case_error``: lower case everywhere. ``rule_error``:
    :func:`~lstm_course.tasks.tagging.rule_predictions` with its one character of right context (it
    decides "the word i" by the character after the "i"); ``causal_rule_error``: the same rule
    with none (``look_ahead=False``); ``strong_causal_error``:
    :func:`~lstm_course.tasks.tagging.strong_causal_predictions`, which adds the capitals after a blank
    line and still reads no right context: these two are a unidirectional tagger's opponents.
    Given ``train_text``, also ``lexicon_error``: :func:`~lstm_course.tasks.tagging.lexicon_predictions`
    with the word lexicon of ``train_text`` (right context up to the end of the word and of the
    line), a bidirectional tagger's opponent.
    """
    labels = tagging.case_labels(test_text)
    letters = labels != tagging.IGNORE
    lowered = tagging.lower_case(test_text)
    answers = {"rule_error": tagging.rule_predictions(lowered),
               "causal_rule_error": tagging.rule_predictions(lowered, look_ahead=False),
               "strong_causal_error": tagging.strong_causal_predictions(lowered)}
    if train_text is not None:
        answers["lexicon_error"] = tagging.lexicon_predictions(lowered, tagging.word_casing_lexicon(train_text))
    errors = {name: float(np.mean(predicted[letters] != labels[letters])) for name, predicted in answers.items()}
    return {"letters": int(letters.sum()),
            "all_lower_case_error": float(np.mean(labels[letters] != tagging.LOWER)), **errors}
