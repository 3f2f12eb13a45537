"""Generating text from a trained :class:`~lstm_course.models.language_model.CharLSTM`.

The prompt is run through the model to set its state; then, one character at a time, the logits
are divided by ``temperature`` (below 1: safer, more repetitive; above 1: more surprising), all but
the ``top_k`` largest are discarded (``None``: keep all), and the next character is drawn from the
softmax of what is left with a ``torch.Generator`` seeded by ``seed``, so the same seed gives the
same text. The unknown id is never sampled.
"""

from __future__ import annotations

import math

import torch

from lstm_course.models.language_model import CharLSTM
from lstm_course.plumbing.validation import seed_value
from lstm_course.tasks.vocabulary import UNKNOWN, Vocabulary


def _check_distribution_arguments(logits, temperature, top_k) -> None:
    if not isinstance(logits, torch.Tensor) or logits.dim() != 1 or logits.numel() < 2 \
            or not logits.is_floating_point():
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits: expected a 1-D floating tensor (V,) with V >= 2, got {shape}")
    if not torch.isfinite(logits).all():
        raise ValueError("logits: expected finite values, got NaN or infinity")
    if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not math.isfinite(temperature) \
            or temperature <= 0:
        raise ValueError(f"temperature: expected a positive finite number, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k: expected None or a positive integer, got {top_k!r}")


def next_character_distribution(logits: torch.Tensor, temperature: float = 1.0,
                                top_k: int | None = None) -> torch.Tensor:
    """``(V,)`` probabilities from ``(V,)`` logits: temperature, then top-k, never the unknown id."""
    _check_distribution_arguments(logits, temperature, top_k)
    logits = logits.to(torch.float64, copy=True)
    logits[UNKNOWN] = -torch.inf
    logits = (logits - logits.max()) / temperature  # the largest is 0: no overflow at any temperature
    if top_k is not None and top_k < logits.numel():
        threshold = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < threshold, -torch.inf)
    return torch.softmax(logits, dim=0)


@torch.no_grad()
def sample(model: CharLSTM, vocabulary: Vocabulary, prompt: str = "\n", length: int = 200,
           temperature: float = 1.0, top_k: int | None = None, seed: int = 0) -> str:
    """``prompt`` followed by ``length`` generated characters."""
    if not isinstance(prompt, str) or not prompt:
        raise ValueError(f"prompt: expected a non-empty string, got {prompt!r}")
    if not isinstance(length, int) or length < 0:
        raise ValueError(f"length: expected a non-negative integer, got {length!r}")
    if not temperature > 0:
        raise ValueError(f"temperature: expected a positive number, got {temperature!r}")
    if top_k is not None and not (isinstance(top_k, int) and 1 <= top_k <= len(vocabulary) - 1):
        raise ValueError(f"top_k: expected an integer in [1, {len(vocabulary) - 1}] or None, got {top_k!r}")
    if len(vocabulary) != model.config.vocabulary_size:
        raise ValueError(f"vocabulary: expected {model.config.vocabulary_size} ids to match the model, "
                         f"got {len(vocabulary)}")
    model.eval()
    generator = torch.Generator().manual_seed(seed_value("seed", seed))
    ids = torch.from_numpy(vocabulary.encode(prompt)).unsqueeze(1)  # (T, 1)
    logits, state = model(ids)
    generated = []
    for _ in range(length):
        probabilities = next_character_distribution(logits[-1, 0], temperature, top_k)
        next_id = int(torch.multinomial(probabilities, 1, generator=generator))
        generated.append(next_id)
        logits, state = model(torch.tensor([[next_id]]), state)
    return prompt + vocabulary.decode(generated)
