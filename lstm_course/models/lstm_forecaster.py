"""An LSTM that forecasts a series the way AR(p) does: predict the next value, feed it back, repeat.

The model reads a window of standardised values (time-major ``(T, B)``) and, after every step,
predicts the next value with a linear readout of its hidden state. It is trained on random windows
of the past with the mean squared error at every step (:func:`lstm_course.training.supervised.fit`, the
course's one training loop), and forecasts several steps ahead as the AR model does: it reads the
``window`` values before the origin, then takes its own prediction as the next input, ``horizon - 1``
times, carrying its state. Inputs are standardised with the mean and standard deviation of the past
it was fitted on, never of the values it will be scored on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstm_course.plumbing.validation import positive_int, positive_number, seed_value
from lstm_course.training.supervised import FitConfig, fit


@dataclass
class LSTMForecasterConfig:
    """The forecaster's hyper-parameters: model size, window, and :func:`fit`'s budget in steps."""

    hidden_size: int = 32
    window: int = 24
    steps: int = 600
    batch_size: int = 32
    lr: float = 3e-3
    seed: int = 0

    def __post_init__(self):
        for name in ("hidden_size", "window", "steps", "batch_size"):
            positive_int(name, getattr(self, name))
        positive_number("lr", self.lr)
        seed_value("seed", self.seed)


class NextValueLSTM(nn.Module):
    """``nn.LSTM(1, H)`` and a linear readout: ``(T, B)`` values -> ``(T, B)`` predictions of each next value."""

    def __init__(self, hidden_size: int):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden_size)
        self.readout = nn.Linear(hidden_size, 1)

    def forward(self, values: torch.Tensor, state=None):
        """``values`` ``(T, B)``; returns predictions ``(T, B)`` and the final ``(h, c)``, each ``(1, B, H)``."""
        outputs, state = self.lstm(values.unsqueeze(-1), state)
        return self.readout(outputs).squeeze(-1), state


class LSTMForecaster:
    """A :class:`NextValueLSTM` behind :mod:`lstm_course.forecasting.walk_forward`'s protocol; ``context = window``."""

    def __init__(self, config: LSTMForecasterConfig | None = None):
        self.config = config or LSTMForecasterConfig()
        self.context = self.config.window
        self.model, self.mean, self.scale, self.fit_result = None, 0.0, 1.0, None

    def fit(self, past: np.ndarray) -> None:
        """Train a new model, from ``config.seed``, on random windows of ``past`` ``(t,)``."""
        config, window = self.config, self.config.window
        if len(past) < window + 2:
            raise ValueError(f"past: expected at least window + 2 = {window + 2} values, got {len(past)}")
        self.mean, self.scale = float(np.mean(past)), float(np.std(past)) or 1.0
        standardised = torch.tensor((past - self.mean) / self.scale, dtype=torch.float32)
        last_start = len(past) - window - 1  # a window and the value after it must fit in the past

        def draw_batch(rng):
            steps = rng.integers(0, last_start + 1, size=config.batch_size)[None, :] + np.arange(window + 1)[:, None]
            values = standardised[torch.from_numpy(steps)]  # (window + 1, B)
            return values[:-1], values[1:]

        def batch_loss(model, batch):
            inputs, targets = batch
            return nn.functional.mse_loss(model(inputs)[0], targets)

        torch.manual_seed(config.seed)  # the initial weights
        self.model = NextValueLSTM(config.hidden_size)
        self.fit_result = fit(self.model, draw_batch, batch_loss,
                              FitConfig(steps=config.steps, lr=config.lr, eval_every=config.steps, seed=config.seed))

    @torch.no_grad()
    def forecast(self, contexts: np.ndarray, horizon: int) -> np.ndarray:
        """``(N, window)`` -> ``(N, horizon)``: read each context, then feed each prediction back in."""
        if self.model is None:
            raise ValueError("forecast: fit the model first (model is None)")
        self.model.eval()
        values = torch.tensor((contexts[:, -self.context:].T - self.mean) / self.scale, dtype=torch.float32)
        predictions, state = self.model(values)  # (window, N)
        following = predictions[-1:]  # (1, N): the forecast one step ahead
        forecasts = [following]
        for _ in range(horizon - 1):
            predictions, state = self.model(following, state)
            following = predictions
            forecasts.append(following)
        return torch.cat(forecasts).T.double().numpy() * self.scale + self.mean
