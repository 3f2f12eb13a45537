"""The residual stack that the Transformer and the minGRU/minLSTM language models share.

Each block mixes information across time with a *mixer* (causal self-attention, or a minGRU or
minLSTM layer), then transforms each position on its own with a two-layer perceptron, both
behind a layer norm and added back to their input ("pre-norm", as in GPT-2)::

    x = x + dropout(mixer(layer_norm(x)))
    x = x + dropout(W_2 gelu(W_1 layer_norm(x)))      W_1: (4D, D), W_2: (D, 4D)

A mixer is a module with ``forward(x (T, B, D), state) -> (y (T, B, D), new_state)`` and an
attribute ``state_size``: how many tensors its state holds (``None`` when starting). The model's
state is the flat tuple of every block's tensors, so the language-model loop carries, detaches
and saves it exactly as it does the LSTM's ``(h, c)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class ResidualBlock(nn.Module):
    """``x + mixer(norm(x))``, then ``x + mlp(norm(x))``. ``forward(x (T, B, D), state) -> (x, state)``."""

    def __init__(self, mixer: nn.Module, width: int, dropout: float):
        super().__init__()
        self.mixer_norm, self.mixer = nn.LayerNorm(width), mixer
        self.mlp_norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, state=None):
        mixed, state = self.mixer(self.mixer_norm(x), state)
        x = x + self.dropout(mixed)
        return x + self.dropout(self.mlp(self.mlp_norm(x))), state


class ResidualLanguageModel(nn.Module):
    """Embedding → ``num_layers`` residual blocks → norm → linear; ``forward(ids (T, B), state) -> (logits, state)``.

    ``make_mixer()`` builds one block's mixer. ``config`` is the
    :class:`~lstm_course.models.language_model.ModelConfig`: its ``hidden_size`` is the width ``D`` of
    every position's vector, embeddings included.
    """

    def __init__(self, config, make_mixer: Callable[[], nn.Module]):
        super().__init__()
        self.config = config
        width = config.hidden_size
        self.embedding = nn.Embedding(config.vocabulary_size, width)
        self.embedding_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(ResidualBlock(make_mixer(), width, config.dropout)
                                    for _ in range(config.num_layers))
        self.final_norm = nn.LayerNorm(width)
        self.output = nn.Linear(width, config.vocabulary_size)

    def forward(self, ids: torch.Tensor, state=None):
        x = self.embedding_dropout(self.embedding(ids))  # (T, B, D)
        new_state, used = [], 0
        for block in self.blocks:
            size = block.mixer.state_size
            block_state = None if state is None else tuple(state[used:used + size])
            x, block_state = block(x, block_state)
            new_state.extend(block_state)
            used += size
        return self.output(self.final_norm(x)), tuple(new_state)
