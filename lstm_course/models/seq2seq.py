"""An LSTM encoder-decoder, with or without attention; teacher-forced loss, greedy and beam-search decoding.

The encoder reads the source (embedding, then an LSTM) and returns its outputs at every position,
``keys`` ``(S, B, H)``, and its final state ``(h, c)``. The decoder is a second LSTM that starts
from that final state and reads the previous target token at each step (Sutskever et al. 2014).
Its hidden state ``h_t`` becomes the logits through ``h~_t = tanh(W_c x)`` and ``W_out h~_t``:

* without attention, ``x = h_t``: everything the decoder knows about the source came through the
  encoder's final state, a summary of fixed size;
* with attention (Luong et al. 2015, "global" attention with the "general" score), ``x = [ctx_t; h_t]``
  where the context ``ctx_t = sum_s alpha_t(s) h-_s`` mixes the encoder's outputs with the weights
  ``alpha_t = softmax_s(h_t^T W_a h-_s)``, over each source's own positions only (Luong et al. write
  the context ``c_t`` and the weights ``a_t``; the course keeps ``c_t`` for cell states).

The decoder LSTM never reads the context (Luong's "input feeding" and Bahdanau et al.'s decoder,
which does, are left out), so its states do not depend on attention: teacher-forced training runs it
over the whole target in one call, and attention is then computed for all steps at once.

Token ids :data:`PAD`, :data:`START` and :data:`END` are reserved in every vocabulary of this model.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course.plumbing.validation import positive_int

PAD, START, END = 0, 1, 2
"""Reserved ids: padding (never a target), the decoder's first input, the end of an output."""
NEVER_OUTPUT = (PAD, START)
"""Ids that are never targets, so decoding never chooses them (training never taught the model not to)."""

State = tuple[torch.Tensor, torch.Tensor]


def padding_mask(source_lengths: torch.Tensor, source_steps: int) -> torch.Tensor:
    """``(B, S)`` booleans: ``True`` at the padding after each source's end."""
    return torch.arange(source_steps)[None, :] >= source_lengths[:, None]


def general_attention(queries: torch.Tensor, keys: torch.Tensor, source_lengths: torch.Tensor,
                      score_weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Luong's "general" attention: ``(weights (T, B, S), context (T, B, H))``.

    ``queries`` ``(T, B, H)``: the decoder's states; ``keys`` ``(S, B, H)``: the encoder's outputs;
    ``source_lengths`` ``(B,)``; ``score_weight`` ``W_a`` ``(H, H)``. Score ``h_t^T W_a h-_s``, then a
    softmax over the source positions ``s < source_lengths[b]`` (padding gets weight 0), then the
    weighted sum of the keys.
    """
    scores = torch.einsum("tbh,sbh->tbs", queries, keys @ score_weight.T)
    scores = scores.masked_fill(padding_mask(source_lengths, keys.shape[0])[None], float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    context = torch.einsum("tbs,sbh->tbh", weights, keys)
    return weights, context


class Seq2Seq(nn.Module):
    """Encoder LSTM → decoder LSTM, ``attention=True`` for Luong's general attention (see the module).

    ``forward(source (S, B), source_lengths (B,), decoder_inputs (T, B))`` runs the decoder on the
    given inputs (teacher forcing) and returns ``(logits (T, B, V), weights (T, B, S) or None)``.
    """

    def __init__(self, vocabulary_size: int, embedding_size: int = 32, hidden_size: int = 64,
                 attention: bool = True):
        super().__init__()
        for name, value in (("vocabulary_size", vocabulary_size), ("embedding_size", embedding_size),
                            ("hidden_size", hidden_size)):
            positive_int(name, value)
        if vocabulary_size <= END + 1:
            raise ValueError(f"vocabulary_size: expected more than the {END + 1} reserved ids, got {vocabulary_size}")
        self.attention = bool(attention)
        self.source_embedding = nn.Embedding(vocabulary_size, embedding_size)
        self.encoder = nn.LSTM(embedding_size, hidden_size)
        self.target_embedding = nn.Embedding(vocabulary_size, embedding_size)
        self.decoder = nn.LSTM(embedding_size, hidden_size)
        if self.attention:
            self.score = nn.Linear(hidden_size, hidden_size, bias=False)  # W_a
        self.combine = nn.Linear(2 * hidden_size if self.attention else hidden_size, hidden_size, bias=False)  # W_c
        self.output = nn.Linear(hidden_size, vocabulary_size)  # W_out

    def encode(self, source: torch.Tensor, source_lengths: torch.Tensor) -> tuple[torch.Tensor, State]:
        """``(keys (S, B, H), (h, c) each (1, B, H))``: the outputs (zero after each end) and final states."""
        packed = pack_padded_sequence(self.source_embedding(source), source_lengths.cpu(), enforce_sorted=False)
        outputs, state = self.encoder(packed)
        keys, _ = pad_packed_sequence(outputs, total_length=source.shape[0])
        return keys, state

    def readout(self, hidden: torch.Tensor, keys: torch.Tensor,
                source_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decoder states ``(T, B, H)`` → ``(logits (T, B, V), attention weights (T, B, S) or None)``."""
        if not self.attention:
            return self.output(torch.tanh(self.combine(hidden))), None
        weights, context = general_attention(hidden, keys, source_lengths, self.score.weight)
        return self.output(torch.tanh(self.combine(torch.cat([context, hidden], dim=-1)))), weights

    def forward(self, source: torch.Tensor, source_lengths: torch.Tensor,
                decoder_inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        keys, state = self.encode(source, source_lengths)
        hidden, _ = self.decoder(self.target_embedding(decoder_inputs), state)
        return self.readout(hidden, keys, source_lengths)

    def step(self, tokens: torch.Tensor, state: State, keys: torch.Tensor,
             source_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None, State]:
        """One decoding step from the previous tokens ``(B,)``: ``(logits (B, V), weights (B, S) or None, state)``."""
        hidden, state = self.decoder(self.target_embedding(tokens)[None], state)
        logits, weights = self.readout(hidden, keys, source_lengths)
        return logits[0], None if weights is None else weights[0], state


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per target token, ``PAD`` left out: ``logits`` ``(T, B, V)``, ``targets`` ``(T, B)``."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD)


def never_output(scores: torch.Tensor) -> torch.Tensor:
    """``scores`` ``(..., V)`` with ``-inf`` at :data:`NEVER_OUTPUT`'s ids, which decoding must not choose; the
    other entries unchanged (log-probabilities stay the model's, not renormalised)."""
    return scores.index_fill(-1, torch.tensor(NEVER_OUTPUT), float("-inf"))


@torch.no_grad()
def greedy_decode(model: Seq2Seq, source: torch.Tensor, source_lengths: torch.Tensor,
                  max_steps: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Feed the decoder its own most likely token, step by step: ``(tokens (T, B), weights (T, B, S) or None)``.

    ``PAD`` and ``START`` are never chosen (:data:`NEVER_OUTPUT`). After a sequence's ``END`` its
    tokens are ``PAD``; decoding stops when every sequence has ended, or after ``max_steps``.
    """
    positive_int("max_steps", max_steps)
    keys, state = model.encode(source, source_lengths)
    tokens = torch.full((source.shape[1],), START)
    ended = torch.zeros(source.shape[1], dtype=torch.bool)
    outputs, weights = [], []
    for _ in range(max_steps):
        logits, step_weights, state = model.step(tokens, state, keys, source_lengths)
        tokens = never_output(logits).argmax(dim=-1).masked_fill(ended, PAD)
        outputs.append(tokens)
        weights.append(step_weights)
        ended |= tokens == END
        if ended.all():
            break
    return torch.stack(outputs), None if weights[0] is None else torch.stack(weights)


@torch.no_grad()
def beam_search(model: Seq2Seq, source: torch.Tensor, source_lengths: torch.Tensor, beam_width: int,
                max_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the ``beam_width`` most likely outputs so far at every step: ``(tokens (T, B), log-probabilities (B,))``.

    An output's score is the sum of its tokens' log-probabilities (no length normalisation; ``PAD``
    and ``START`` are never chosen). An output that has ended continues with ``PAD`` at no cost, so
    it keeps its score while the others grow. Returns the most likely output of each sequence after
    ``max_steps`` steps, in the form :func:`greedy_decode` returns; if it has not ended (no ``END``),
    its score is ``-inf``: an unfinished output is no answer (``reversal.decode`` and the scoring
    reject it too), so give ``max_steps`` room. With ``beam_width=1`` it is greedy decoding.
    """
    width = positive_int("beam_width", beam_width)
    positive_int("max_steps", max_steps)
    batch_size = source.shape[1]
    keys, (h, c) = model.encode(source, source_lengths)
    keys, lengths = keys.repeat_interleave(width, dim=1), source_lengths.repeat_interleave(width)  # row b*K + k
    h, c = h.repeat_interleave(width, dim=1), c.repeat_interleave(width, dim=1)
    scores = torch.full((batch_size, width), float("-inf"))
    scores[:, 0] = 0.0  # one live output at the start, so that the first step's choices are distinct
    ended = torch.zeros(batch_size, width, dtype=torch.bool)
    history = torch.zeros(0, batch_size, width, dtype=torch.int64)
    tokens = torch.full((batch_size * width,), START)
    for _ in range(max_steps):
        logits, _, (h, c) = model.step(tokens, (h, c), keys, lengths)
        log_probabilities = never_output(torch.log_softmax(logits, dim=-1)).view(batch_size, width, -1)
        vocabulary_size = log_probabilities.shape[-1]
        only_pad = torch.full((vocabulary_size,), float("-inf"))
        only_pad[PAD] = 0.0
        log_probabilities = torch.where(ended[..., None], only_pad, log_probabilities)
        scores, chosen = (scores[..., None] + log_probabilities).view(batch_size, -1).topk(width, dim=1)
        parents, new_tokens = chosen // vocabulary_size, chosen % vocabulary_size  # (B, K) each
        history = torch.cat([history.gather(2, parents[None].expand(len(history), -1, -1)), new_tokens[None]])
        ended = ended.gather(1, parents) | (new_tokens == END)
        rows = (torch.arange(batch_size)[:, None] * width + parents).view(-1)
        h, c, tokens = h[:, rows], c[:, rows], new_tokens.view(-1)
        if ended.all():
            break
    # topk sorts: beam 0 is the most likely output, finished or not; an unfinished one is no answer
    return history[:, :, 0], scores[:, 0].masked_fill(~ended[:, 0], float("-inf"))
