"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t``, step by step and all at once.

``a`` and ``b`` are Heinsen's letters; chapter 14 writes them ``lambda_t`` and ``beta_t``, since the
course's ``a_t`` is a pre-activation.

minGRU and minLSTM (:mod:`lstm_course.models.min_rnn`) compute their gates from the input alone, so their
state follows this recurrence with ``a`` and ``b`` known for every step before the first one runs.
Shapes are time-major: ``a``, ``b`` ``(T, B, H)``, ``h0`` ``(B, H)``, the result ``(T, B, H)``.

* :func:`sequential` is the textbook loop: ``T`` steps, each waiting for the last.
* :func:`log_space` is Heinsen's (2023) closed form, the one Feng et al. (2024) use. Unrolling
  the loop gives ``h_t = A_t * (h_0 + sum_{k<=t} b_k / A_k)`` with ``A_t = a_1 a_2 ... a_t``;
  in logarithms the product is a cumulative sum and the sum a cumulative log-sum-exp, two
  operations that a library runs over all ``T`` steps at once (in ``O(log T)`` parallel depth on
  a GPU). Logarithms need ``a > 0`` and ``b > 0``: the models keep ``a`` in ``(0, 1)`` with a
  sigmoid, and ``b > 0`` with :func:`positive` (``phi``, Feng et al.'s ``g``). Working with logarithms keeps
  ``1 / A_t``, which grows without bound, from ever being formed.
"""

from __future__ import annotations

import torch
from torch.nn import functional


def sequential(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor) -> torch.Tensor:
    """``h_t = a_t * h_{t-1} + b_t`` for ``t = 1 .. T``, one step at a time. Returns ``(T, B, H)``."""
    states, h = [], h0
    for a_t, b_t in zip(a, b, strict=True):
        h = a_t * h + b_t
        states.append(h)
    return torch.stack(states)


def log_space(log_a: torch.Tensor, log_b: torch.Tensor, log_h0: torch.Tensor) -> torch.Tensor:
    """The same ``(T, B, H)`` states from ``log a``, ``log b`` ``(T, B, H)`` and ``log h0`` ``(B, H)``, at once.

    ``log A_t = cumsum(log a)_t``; ``log h_t = log A_t + logcumsumexp([log h0, log b_k - log A_k])_t``.
    """
    log_products = torch.cumsum(log_a, dim=0)  # log A_t, (T, B, H)
    terms = torch.cat([log_h0.unsqueeze(0), log_b - log_products])  # (T + 1, B, H): h0, then b_k / A_k
    return torch.exp(log_products + torch.logcumsumexp(terms, dim=0)[1:])


def positive(x: torch.Tensor) -> torch.Tensor:
    """``phi`` (Feng et al.'s ``g``): ``x + 1/2`` for ``x >= 0``, ``sigmoid(x)`` below: positive, continuous."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_positive(x: torch.Tensor) -> torch.Tensor:
    """``log phi(x)`` without forming ``phi(x)``: ``log(x + 1/2)`` for ``x >= 0``, ``-softplus(-x)`` below."""
    return torch.where(x >= 0, torch.log(functional.relu(x) + 0.5), -functional.softplus(-x))
