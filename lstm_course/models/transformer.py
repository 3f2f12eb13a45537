"""Causal self-attention with a key-value cache and ALiBi positions: the mixer of the small Transformer.

For each head, every position ``t`` asks a query ``q_t`` and reads a weighted average of the
values ``v_j`` of the positions ``j <= t`` it may see, weighted by ``softmax_j(q_t . k_j / sqrt(d)
- m (t - j))``. Queries, keys and values are three linear maps of the input, stacked in one
weight ``(3D, D)`` in the order ``q, k, v``; ``D = heads * d``.

* **Causal mask.** Positions ``j > t`` get weight 0: no position sees the future.
* **Positions (ALiBi, Press et al. 2022).** Instead of position embeddings, head ``n`` of ``N``
  subtracts ``m_n (t - j)`` from its scores, with slopes ``m_n = 2^(-8n/N)``: some heads look far
  back, some near. Only the distance ``t - j`` enters, so the same weights work for any window.
* **Key-value cache.** The state is each position's keys and values ``(S, B, heads, d)``: a call
  attends to the cached positions before its own, and returns the cache with its own appended,
  cut to the last ``context_size``. The language-model loop carries it from batch to batch as it
  carries the LSTM's ``(h, c)`` (Transformer-XL's segment recurrence, Dai et al. 2019), and
  generating a character costs one query against the cache. Unlike the LSTM's state, the cache
  grows with every character, up to ``context_size``.

``forward(x (T, B, D), state) -> (y (T, B, D), (keys, values))``, ``state`` ``None`` or
``(keys, values)`` each ``(S, B, heads, d)``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional


def alibi_slopes(num_heads: int) -> torch.Tensor:
    """``(num_heads,)`` slopes ``2^(-8n/N)``, ``n = 1 .. N``: the penalty per position of distance."""
    return torch.tensor([2.0 ** (-8.0 * n / num_heads) for n in range(1, num_heads + 1)])


def attention_bias(slopes: torch.Tensor, num_queries: int, num_cached: int) -> torch.Tensor:
    """``(heads, T, S + T)`` additive bias: ``-m (t - j)`` where ``j`` may be seen, ``-inf`` in the future.

    Query ``t`` (0-based within the call) sits at position ``S + t`` of the ``S + T`` keys.
    """
    query_positions = torch.arange(num_queries).unsqueeze(1) + num_cached  # (T, 1)
    key_positions = torch.arange(num_cached + num_queries).unsqueeze(0)  # (1, S + T)
    distance = (query_positions - key_positions).to(slopes.dtype)  # (T, S + T); negative = the future
    bias = -slopes.view(-1, 1, 1) * distance
    return bias.masked_fill(distance < 0, -torch.inf)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention over the cached and the current positions (see the module)."""

    state_size = 2

    def __init__(self, width: int, num_heads: int, context_size: int):
        super().__init__()
        if width % num_heads:
            raise ValueError(f"num_heads: expected a divisor of the width {width}, got {num_heads}")
        self.num_heads, self.head_size, self.context_size = num_heads, width // num_heads, context_size
        self.qkv = nn.Linear(width, 3 * width)
        self.projection = nn.Linear(width, width)
        self.register_buffer("slopes", alibi_slopes(num_heads), persistent=False)

    def forward(self, x: torch.Tensor, state=None):
        steps, batch, width = x.shape
        queries, keys, values = (part.view(steps, batch, self.num_heads, self.head_size)
                                 for part in self.qkv(x).chunk(3, dim=-1))  # each (T, B, heads, d)
        if state is not None:
            keys, values = torch.cat([state[0], keys]), torch.cat([state[1], values])  # (S + T, B, heads, d)
        bias = attention_bias(self.slopes, steps, keys.shape[0] - steps).to(x.dtype)
        mixed = functional.scaled_dot_product_attention(
            *(tensor.permute(1, 2, 0, 3) for tensor in (queries, keys, values)), attn_mask=bias)  # (B, heads, T, d)
        mixed = mixed.permute(2, 0, 1, 3).reshape(steps, batch, width)
        return self.projection(mixed), (keys[-self.context_size:], values[-self.context_size:])
