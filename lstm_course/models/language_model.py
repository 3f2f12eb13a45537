"""The character-level language models: the LSTM (embedding → LSTM → dropout → linear), and the others.

Shapes are time-major, as everywhere in the course: ``ids`` ``(T, B)`` int64 →
embeddings ``(T, B, E)`` → LSTM outputs ``(T, B, H)`` → logits ``(T, B, V)``, the unnormalised
log-probabilities of the *next* character at every position.

``implementation`` picks the recurrent layer: ``"ours"`` is :class:`lstm_course.models.torch_lstm.LSTM`
(hand-written BPTT), ``"torch"`` is ``torch.nn.LSTM`` (cuDNN on a GPU). Both have the same
parameter names and layout (gates ``i, f, g, o``), so a checkpoint trained with one loads into the
other.

Initialisation: the embedding is ``N(0, 1)`` and the output layer ``U(-1/sqrt(H), 1/sqrt(H))``
(PyTorch's defaults); the LSTM's weights and biases are ``U(-1/sqrt(H), 1/sqrt(H))``, and then
``forget_bias`` (default 1, Gers et al. 2000; Jozefowicz et al. 2015) is added to the forget gate's
part of ``bias_ih`` in every layer, so a fresh model starts out keeping its cell state
(chapter 4). Dropout applies between LSTM layers and before the output layer, in training only.

``architecture`` picks the model; :func:`build` makes it. Besides ``"lstm"`` (:class:`CharLSTM`),
chapter 14 compares ``"transformer"`` (causal self-attention, :mod:`lstm_course.models.transformer`),
``"mingru"`` and ``"minlstm"`` (:mod:`lstm_course.models.min_rnn`), each a stack of
:class:`~lstm_course.models.residual_blocks.ResidualBlock` whose width is ``hidden_size`` (their
embedding has that width too; ``embedding_size`` and ``implementation`` are the LSTM's only;
``forget_bias`` also sets how much of its state a fresh minGRU or minLSTM keeps per step). Every
model has the same interface, ``forward(ids (T, B), state) -> (logits (T, B, V), state)`` with
``state`` a tuple of tensors (``None`` to start), so one training loop, one evaluation and one
sampler serve them all.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from lstm_course.models.min_rnn import MinRNN
from lstm_course.models.residual_blocks import ResidualLanguageModel
from lstm_course.models.torch_lstm import LSTM
from lstm_course.models.transformer import CausalSelfAttention

IMPLEMENTATIONS = ("torch", "ours")
ARCHITECTURES = ("lstm", "transformer", "mingru", "minlstm")
FORGET_GATE = 1  # block index in the gate order i, f, g, o


@dataclass
class ModelConfig:
    """Sizes of :class:`CharLSTM`. ``vocabulary_size`` includes the unknown id 0."""

    vocabulary_size: int
    embedding_size: int = 64
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.1
    forget_bias: float = 1.0
    implementation: str = "torch"
    architecture: str = "lstm"
    num_heads: int = 4  # the Transformer's
    context_size: int = 128  # how many past positions the Transformer's key-value cache keeps

    def __post_init__(self):
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture: expected one of {ARCHITECTURES}, got {self.architecture!r}")
        for name in ("vocabulary_size", "embedding_size", "hidden_size", "num_layers", "num_heads", "context_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1), got {self.dropout}")
        if self.implementation not in IMPLEMENTATIONS:
            raise ValueError(f"implementation: expected one of {IMPLEMENTATIONS}, got {self.implementation!r}")
        if self.architecture == "transformer" and self.hidden_size % self.num_heads:
            raise ValueError(f"num_heads: expected a divisor of hidden_size {self.hidden_size}, got {self.num_heads}")


def add_forget_bias(lstm: nn.Module, value: float) -> None:
    """Add ``value`` to the forget-gate rows of every ``bias_ih`` of ``lstm`` (ours or ``nn.LSTM``)."""
    hidden_size = lstm.hidden_size
    rows = slice(FORGET_GATE * hidden_size, (FORGET_GATE + 1) * hidden_size)
    with torch.no_grad():
        for name, parameter in lstm.named_parameters():
            if name.startswith("bias_ih"):
                parameter[rows] += value


class CharLSTM(nn.Module):
    """Next-character model. ``forward(ids (T, B), state) -> (logits (T, B, V), state)``.

    ``state`` is ``(h, c)``, each ``(num_layers, B, H)``; ``None`` means zeros. Carry the returned
    state into the next call to continue a text (detach it first when training, see
    :mod:`lstm_course.tasks.batching`).
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocabulary_size, config.embedding_size)
        recurrent = LSTM if config.implementation == "ours" else nn.LSTM
        self.lstm = recurrent(config.embedding_size, config.hidden_size, num_layers=config.num_layers,
                              dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.output = nn.Linear(config.hidden_size, config.vocabulary_size)
        add_forget_bias(self.lstm, config.forget_bias)

    def forward(self, ids: torch.Tensor, state=None):
        check_ids(ids, self.config.vocabulary_size)
        outputs, state = self.lstm(self.embedding(ids), state)
        return self.output(self.dropout(outputs)), state

    def zero_state(self, batch_size: int, device=None):
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        return torch.zeros(shape, device=device), torch.zeros(shape, device=device)


def check_ids(ids: torch.Tensor, vocabulary_size: int) -> None:
    """Raise a one-line ``ValueError`` unless ``ids`` is a ``(T, B)`` int64 tensor of ids below ``vocabulary_size``."""
    if ids.dim() != 2 or ids.dtype != torch.int64:
        raise ValueError(f"ids: expected a (T, B) int64 tensor, got shape {tuple(ids.shape)} and dtype {ids.dtype}")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocabulary_size):
        raise ValueError(f"ids: expected ids in [0, {vocabulary_size}), got range [{int(ids.min())}, {int(ids.max())}]")


class CharResidual(ResidualLanguageModel):
    """A Transformer, minGRU or minLSTM character model (``config.architecture``), used as :class:`CharLSTM` is."""

    def __init__(self, config: ModelConfig):
        width = config.hidden_size
        if config.architecture == "transformer":
            super().__init__(config, lambda: CausalSelfAttention(width, config.num_heads, config.context_size))
        else:
            super().__init__(config, lambda: MinRNN(width, width, config.architecture, config.forget_bias))

    def forward(self, ids: torch.Tensor, state=None):
        check_ids(ids, self.config.vocabulary_size)
        return super().forward(ids, state)


def build(config: ModelConfig) -> nn.Module:
    """The model ``config.architecture`` names: :class:`CharLSTM` or :class:`CharResidual`."""
    return CharLSTM(config) if config.architecture == "lstm" else CharResidual(config)


def detach_state(state):
    """Cut the graph behind a carried state: gradients stop here (truncated BPTT)."""
    return None if state is None else tuple(tensor.detach() for tensor in state)
