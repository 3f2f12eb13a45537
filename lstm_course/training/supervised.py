"""One training loop for the tasks beyond the language model: labelling, translating, forecasting.

Chapter 10's :func:`lstm_course.training.lm_training.train` is built around one text read as carried
streams. The later tasks instead draw independent batches (a window of text and its labels, a
source string and its target, a stretch of a series), so they share this loop::

    result = fit(model, draw_batch, batch_loss, FitConfig(steps=600, lr=3e-3), validation_score)

It runs Adam on ``batch_loss(model, batch)`` for batches ``draw_batch(rng)``, with chapter 10's
learning-rate schedule (:func:`lstm_course.training.lm_training.learning_rate`: linear warm-up, cosine
decay), gradient-norm clipping, a :class:`~lstm_course.training.lm_training.TrainingDiverged` error at
the first non-finite loss, a progress bar, and Ctrl-C acted on between two steps
(:class:`~lstm_course.training.lm_training.StepBoundaryInterrupt`). Every ``eval_every`` steps it calls
``validation_score(model)`` (lower is better, in eval mode and without gradients), keeps the best
weights, and returns the model holding them.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from lstm_course.plumbing.runtime import set_threads
from lstm_course.plumbing.validation import positive_int, positive_number, seed_value
from lstm_course.training.lm_training import StepBoundaryInterrupt, TrainingDiverged, learning_rate


@dataclass
class FitConfig:
    """How :func:`fit` trains: a budget in steps (reproducible), Adam's settings, when to validate."""

    steps: int = 1000
    lr: float = 3e-3
    final_lr_fraction: float = 0.05
    warmup_steps: int = 20
    clip_norm: float = 1.0
    weight_decay: float = 0.0
    eval_every: int = 100
    seed: int = 0
    threads: int = 1

    def __post_init__(self):
        for name in ("steps", "eval_every", "threads"):
            positive_int(name, getattr(self, name))
        for name in ("lr", "clip_norm"):
            positive_number(name, getattr(self, name))
        if not (isinstance(self.weight_decay, (int, float)) and 0 <= self.weight_decay < math.inf):
            raise ValueError(f"weight_decay: expected a number >= 0, got {self.weight_decay!r}")
        if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps: expected an integer >= 0, got {self.warmup_steps!r}")
        if not (isinstance(self.final_lr_fraction, (int, float)) and 0 <= self.final_lr_fraction <= 1):
            raise ValueError(f"final_lr_fraction: expected a number in [0, 1], got {self.final_lr_fraction!r}")
        seed_value("seed", self.seed)


@dataclass
class FitResult:
    """What :func:`fit` did: ``history`` has one entry per validation (step, train loss, validation score)."""

    steps: int
    seconds: float
    best_validation: float
    stopped: str  # "budget" or "interrupted"
    history: list = field(default_factory=list)


def fit(model: nn.Module, draw_batch: Callable[[np.random.Generator], object],
        batch_loss: Callable[[nn.Module, object], torch.Tensor], config: FitConfig | None = None,
        validation_score: Callable[[nn.Module], float] | None = None, progress_bar: bool = False,
        log: Callable[[str], None] | None = None, description: str = "fit") -> FitResult:
    """Train ``model`` in place for ``config.steps`` steps; at the end it holds the best-validation weights.

    ``draw_batch(rng)`` returns a batch from the NumPy generator ``rng`` (seeded from
    ``config.seed``, so a run is reproducible); ``batch_loss(model, batch)`` returns the scalar
    loss to minimise. ``validation_score(model)`` (optional; lower is better) is called every
    ``eval_every`` steps and at the end; without it the final weights are kept. ``log`` is given one
    line per validation.
    """
    config = config or FitConfig()
    set_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    history, best_score, best_weights = [], math.inf, None
    window_loss, window_steps, stopped, start = 0.0, 0, "budget", time.perf_counter()

    def validate(step: int) -> None:
        nonlocal best_score, best_weights, window_loss, window_steps
        if validation_score is None:
            return
        model.eval()
        with torch.no_grad():
            score = float(validation_score(model))
        model.train()
        history.append({"step": step, "train_loss": window_loss / max(window_steps, 1), "validation": score})
        window_loss, window_steps = 0.0, 0
        if score < best_score:
            best_score, best_weights = score, copy.deepcopy(model.state_dict())
        if log is not None:
            log(f"step {step:>5}  train {history[-1]['train_loss']:.4f}  validation {score:.4f}")

    model.train()
    bar = tqdm(total=config.steps, unit="step", disable=not progress_bar, desc=description, mininterval=2.0)
    with StepBoundaryInterrupt() as interrupt:
        step = 0
        for step in range(1, config.steps + 1):
            for group in optimiser.param_groups:
                group["lr"] = learning_rate(config, step - 1, (step - 1) / config.steps)
            loss = batch_loss(model, draw_batch(rng))
            if not math.isfinite(loss.item()):
                raise TrainingDiverged(f"the training loss became {loss.item()} at step {step} "
                                       f"(learning rate {optimiser.param_groups[0]['lr']:.2g}); lower lr or clip_norm")
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            optimiser.step()
            window_loss, window_steps = window_loss + loss.item(), window_steps + 1
            bar.update(1)
            if step % config.eval_every == 0:
                validate(step)
            if interrupt.requested:
                stopped = "interrupted"
                break
        if step % config.eval_every != 0:
            validate(step)
    bar.close()
    if best_weights is not None:
        model.load_state_dict(best_weights)
    model.eval()
    return FitResult(step, time.perf_counter() - start, best_score, stopped, history)
