"""minGRU and minLSTM (Feng et al. 2024, "Were RNNs all we needed?"): recurrences that train in parallel.

Their gates read the input ``x_t`` only, never ``h_{t-1}``, so every gate of every step can be
computed at once, and the state is the linear recurrence ``h_t = lambda_t * h_{t-1} + beta_t`` of
:mod:`lstm_course.models.linear_recurrence` (whose arguments ``a``, ``b`` are ``lambda``, ``beta``). One
linear layer stacks the gates' pre-activations, in the order :data:`KINDS` gives, with the course's
letters (``i`` input gate, ``f`` forget gate, ``g`` candidate)::

    minGRU   i_t = sigmoid(a^i_t)     g_t = phi(a^g_t)     h_t = (1 - i_t) h_{t-1} + i_t g_t
    minLSTM  i_t = sigmoid(a^i_t)     f_t = sigmoid(a^f_t)     g_t = phi(a^g_t)
             h_t = f_t / (f_t + i_t) * h_{t-1} + i_t / (f_t + i_t) * g_t

with ``a_t = W x_t + b`` ``(B, G*H)`` and ``phi`` = :func:`~lstm_course.models.linear_recurrence.positive`.
minGRU's one gate is an input gate coupled to the forget gate ``1 - i_t``: near 1 it overwrites the
state. Feng et al. write it ``z_t`` (the candidate ``h~_t``, ``phi`` as ``g``); it is the opposite of
the GRU's update gate ``z_t`` of chapter 9 and PyTorch, which keeps the state near 1 (their ``z_t``
is the GRU's ``1 - z_t``).

``forget_bias`` (default 0, as in Feng et al.) shifts the gates' biases so that a fresh layer
keeps ``sigmoid(forget_bias)`` of its state per step, like an LSTM whose forget gate has that bias
(chapter 4): the input gate ``i`` by ``-forget_bias`` (minGRU's keeps ``1 - i``), and minLSTM's
forget gate ``f`` by ``+forget_bias``, since ``sigmoid(b) / (sigmoid(b) + sigmoid(-b)) = sigmoid(b)``. Without it a
fresh layer keeps about half per step.
minLSTM's forget and input gates are normalised to sum to one, so its state, like minGRU's, is
a weighted average of positive candidates and stays in their range. Unlike the LSTM there is no
output gate and no ``tanh``: ``h_t`` is the output.

``forward(x (T, B, D), state)`` with ``state`` ``(h,)``, ``h`` ``(B, H)`` (``None``: zeros), returns
``(outputs (T, B, H), (h_T,))``. ``mode="parallel"`` runs
:func:`~lstm_course.models.linear_recurrence.log_space`; ``mode="sequential"`` the plain loop; the tests
hold the two to the same states. ``mode="auto"`` (the default) takes the scan on a GPU and the
loop on a CPU, where ``torch.logcumsumexp`` runs element by element: with its backward pass it
took 2.6 to 7 times as long as the loop at the language model's shapes (``T = 100``, 4,096 units
and streams together). Only for long sequences of few units did the scan win on a CPU too
(chapter 14 measures both).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from lstm_course.models import linear_recurrence

KINDS = {"mingru": ("i", "g"), "minlstm": ("i", "f", "g")}
"""Each model's gates, in the order its weight stacks them (minGRU's ``i`` is Feng et al.'s ``z``)."""


class MinRNN(nn.Module):
    """A minGRU or minLSTM layer (``kind``), ``input_size`` → ``hidden_size``; weight ``(G*H, D)``, bias ``(G*H,)``."""

    state_size = 1

    def __init__(self, input_size: int, hidden_size: int, kind: str = "mingru", forget_bias: float = 0.0):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {tuple(KINDS)}, got {kind!r}")
        self.kind, self.hidden_size = kind, hidden_size
        self.gates = nn.Linear(input_size, len(KINDS[kind]) * hidden_size)
        shifts = {"i": -forget_bias} if kind == "mingru" else {"f": forget_bias, "i": -forget_bias}
        with torch.no_grad():
            for gate, shift in shifts.items():
                position = KINDS[kind].index(gate)
                self.gates.bias[position * hidden_size:(position + 1) * hidden_size] += shift

    def coefficients(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``log lambda``, ``log beta`` ``(T, B, H)`` of ``h_t = lambda_t h_{t-1} + beta_t`` for ``x`` ``(T, B, D)``."""
        pre_activations = dict(zip(KINDS[self.kind], self.gates(x).chunk(len(KINDS[self.kind]), dim=-1), strict=True))
        log_candidate = linear_recurrence.log_positive(pre_activations["g"])
        if self.kind == "mingru":
            log_keep = -functional.softplus(pre_activations["i"])  # log(1 - i)
            log_write = -functional.softplus(-pre_activations["i"])  # log i
        else:
            # log f' = log(f / (f + i)) = -softplus(log i - log f), with log f = -softplus(-a^f); i' likewise
            log_ratio = functional.softplus(-pre_activations["f"]) - functional.softplus(-pre_activations["i"])
            log_keep, log_write = -functional.softplus(log_ratio), -functional.softplus(-log_ratio)
        return log_keep, log_write + log_candidate

    def forward(self, x: torch.Tensor, state=None, mode: str = "auto"):
        h0 = x.new_zeros(x.shape[1], self.hidden_size) if state is None else state[0]
        log_a, log_b = self.coefficients(x)
        if mode == "auto":
            mode = "parallel" if x.device.type == "cuda" else "sequential"
        if mode == "parallel":
            outputs = linear_recurrence.log_space(log_a, log_b, torch.log(h0))
        elif mode == "sequential":
            outputs = linear_recurrence.sequential(log_a.exp(), log_b.exp(), h0)
        else:
            raise ValueError(f"mode: expected 'auto', 'parallel' or 'sequential', got {mode!r}")
        return outputs, (outputs[-1],)
