"""The later chapters' shared training loop: it learns, keeps the best weights, is reproducible, checks settings."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from lstm_course.training.lm_training import TrainingDiverged
from lstm_course.training.supervised import FitConfig, fit

TRUE_WEIGHTS = np.array([[1.5, -2.0, 0.5]], dtype=np.float32)


def draw_regression(rng):
    inputs = rng.normal(size=(32, 3)).astype(np.float32)
    return torch.from_numpy(inputs), torch.from_numpy(inputs @ TRUE_WEIGHTS.T)


def mse(model, batch):
    inputs, targets = batch
    return nn.functional.mse_loss(model(inputs), targets)


def validation_mse(model):
    with torch.no_grad():
        return float(mse(model, draw_regression(np.random.default_rng(123))))


def test_fit_learns_and_returns_the_best_weights():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    before = validation_mse(model)
    result = fit(model, draw_regression, mse, FitConfig(steps=200, lr=5e-2, eval_every=50), validation_mse)
    assert [entry["step"] for entry in result.history] == [50, 100, 150, 200]
    assert result.best_validation == min(entry["validation"] for entry in result.history)
    assert validation_mse(model) == pytest.approx(result.best_validation)
    assert result.best_validation < before / 100 and result.stopped == "budget" and not model.training


def test_fit_is_reproducible_from_its_seed():
    weights = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nn.Linear(3, 1)
        fit(model, draw_regression, mse, FitConfig(steps=20, seed=4, eval_every=7), validation_mse)
        weights.append(model.weight.detach().clone())
    assert torch.equal(*weights)


def test_a_non_finite_loss_stops_with_the_step():
    def exploding(model, batch):
        return mse(model, batch) * math.inf

    with pytest.raises(TrainingDiverged, match="at step 1"):
        fit(nn.Linear(3, 1), draw_regression, exploding, FitConfig(steps=5))


@pytest.mark.parametrize("field, value, expected", [
    ("steps", 0, "steps: expected a positive integer"), ("lr", -1.0, "lr: expected a positive"),
    ("weight_decay", -0.1, "weight_decay: expected a number >= 0"), ("warmup_steps", 1.5, "warmup_steps"),
    ("final_lr_fraction", 2, "final_lr_fraction: expected a number in [0, 1]"), ("eval_every", 0, "eval_every")])
def test_bad_settings_are_one_line_errors(field, value, expected):
    with pytest.raises(ValueError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        FitConfig(**{field: value})
