"""What every recurrent layer in the course shares: the time loop, and stacking layers and directions.

* :func:`scan` runs any cell over time, with a mask for padded batches of different lengths.
* :class:`RecurrentStack` gives a cell ``torch.nn.LSTM``'s and ``torch.nn.GRU``'s interface:
  ``num_layers``, ``bidirectional``, ``batch_first``, ``dropout``, unbatched and packed input,
  default zero states, and PyTorch's parameter names ``weight_ih_l{k}``, ``bias_hh_l{k}_reverse``, …

A subclass says how many gate blocks its weights stack (``gates``), which states it carries
(``state_names``: ``("h", "c")`` for an LSTM, ``("h",)`` for a GRU), and how one direction of one
layer runs over a sequence (:meth:`RecurrentStack.run_sequence`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

State = tuple[torch.Tensor, ...]


def scan(step: Callable[[torch.Tensor, State], State], inputs: torch.Tensor, state: State,
         lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, State]:
    """Apply ``step(inputs[t], state) -> new_state`` for ``t = 0 .. T-1``; the output is ``new_state[0]``.

    ``inputs``: ``(T, B, ...)``; each state tensor ``(B, H)``. With ``lengths`` (``(B,)``), sequence
    ``b`` keeps its state after ``lengths[b]`` steps and outputs zeros there, as ``nn.LSTM`` does
    for a ``PackedSequence``. Returns the outputs ``(T, B, H)`` and the final state.
    """
    outputs = []
    for t in range(inputs.shape[0]):
        new_state = step(inputs[t], state)
        if lengths is None:
            state = new_state
            outputs.append(state[0])
        else:
            active = (t < lengths).unsqueeze(1)
            state = tuple(torch.where(active, new, old) for new, old in zip(new_state, state, strict=True))
            outputs.append(new_state[0] * active)
    return torch.stack(outputs), state


def reverse_padded(sequence: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reverse each sequence of a time-major ``(T, B, ...)`` batch within its own length."""
    if lengths is None:
        return sequence.flip(0)
    steps = torch.arange(sequence.shape[0], device=sequence.device).unsqueeze(1)  # (T, 1)
    lengths = lengths.to(sequence.device).unsqueeze(0)  # (1, B)
    index = torch.where(steps < lengths, lengths - 1 - steps, steps)  # padding stays where it is
    index = index.view(*index.shape, *([1] * (sequence.dim() - 2))).expand_as(sequence)
    return sequence.gather(0, index)


class RecurrentStack(nn.Module):
    """Layers and directions of a recurrent cell, with the interface of ``torch.nn.LSTM``/``nn.GRU``.

    Parameters of layer ``k`` (``_reverse`` appended for the backward direction):
    ``weight_ih_l{k}`` ``(G*H, D_k)``, ``weight_hh_l{k}`` ``(G*H, H)``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` ``(G*H,)``, with ``G = self.gates``, ``D_0 = input_size`` and
    ``D_k = num_directions * H`` above; plus any from :meth:`extra_parameters`. All are initialised
    ``U(-1/sqrt(H), 1/sqrt(H))`` as in PyTorch. ``dropout`` applies to the outputs of every layer but
    the last, in training mode only.
    """

    gates: int = 4
    state_names: tuple[str, ...] = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None):
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout: expected a probability in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.num_directions = 2 if bidirectional else 1
        factory = {"device": device, "dtype": dtype}
        rows = self.gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes():
                shapes = {"weight_ih": (rows, layer_input), "weight_hh": (rows, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(rows,), bias_hh=(rows,))
                shapes.update(self.extra_parameters())
                for name, shape in shapes.items():
                    self.register_parameter(f"{name}_l{layer}{suffix}", nn.Parameter(torch.empty(shape, **factory)))
        self.reset_parameters()

    def extra_parameters(self) -> dict[str, tuple[int, ...]]:
        """Names and shapes of per-layer, per-direction parameters beyond PyTorch's four (none here)."""
        return {}

    def run_sequence(self, layer_input: torch.Tensor, state: State, params: dict[str, torch.Tensor],
                     lengths: torch.Tensor | None) -> tuple[torch.Tensor, State]:
        """One direction of one layer: ``layer_input`` ``(T, B, D_k)`` -> outputs ``(T, B, H)``, final state."""
        raise NotImplementedError

    def add_to_gate_bias(self, block: int, value: float) -> None:
        """Add ``value`` to gate block ``block``'s part of every ``bias_ih`` (all layers and directions).

        Block 1 is the LSTM's forget gate (``i, f, g, o``) and the GRU's update gate (``r, z, n``): a
        positive value makes the layer start out keeping its state.
        """
        if not 0 <= block < self.gates:
            raise ValueError(f"block: expected 0 <= block < {self.gates}, got {block}")
        if not self.bias or not value:
            return
        rows = slice(block * self.hidden_size, (block + 1) * self.hidden_size)
        with torch.no_grad():
            for name, parameter in self.named_parameters():
                if name.startswith("bias_ih"):
                    parameter[rows] += value

    def _suffixes(self):
        return ["", "_reverse"][: self.num_directions]

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def extra_repr(self) -> str:
        options = [f"{self.input_size}, {self.hidden_size}"]
        defaults = dict(num_layers=1, bias=True, batch_first=False, dropout=0.0, bidirectional=False)
        options += [f"{name}={getattr(self, name)}" for name, default in defaults.items()
                    if getattr(self, name) != default]
        return ", ".join(options)

    def layer_parameters(self, layer: int, suffix: str) -> dict[str, torch.Tensor | None]:
        """This layer's and direction's parameters, keyed without the ``_l{k}{suffix}`` ending."""
        names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh", *self.extra_parameters()]
        return {name: getattr(self, f"{name}_l{layer}{suffix}", None) for name in names}

    def forward(self, input, hx=None):
        """``input``: ``(T, B, D)`` (``(B, T, D)`` if ``batch_first``), ``(T, D)`` unbatched, or a ``PackedSequence``.

        ``hx``: the initial states, each ``(num_layers * num_directions, B, H)`` (no batch axis for
        unbatched input): ``(h0, c0)`` for an LSTM, ``h0`` for a GRU; zeros when omitted. Returns
        ``(output, (h_n, c_n))`` or ``(output, h_n)`` likewise.
        """
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:  # padded, in the caller's batch order (as hx and h_n are for nn.LSTM)
            x, lengths = pad_packed_sequence(input, batch_first=False)
            lengths = lengths.to(x.device)
        else:
            x = input
            if not isinstance(x, torch.Tensor):
                raise ValueError(f"input: expected a tensor or PackedSequence, got {type(x).__name__}")
            if x.dim() not in (2, 3):
                layout = "(B, T, D)" if self.batch_first else "(T, B, D)"
                raise ValueError(f"input: expected 3 dimensions {layout} or 2 for an unbatched sequence "
                                 f"(T, D), got shape {tuple(x.shape)}")
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first and not packed:
            x = x.transpose(0, 1)
        if x.shape[-1] != self.input_size:
            raise ValueError(f"input: expected the last dimension to be input_size={self.input_size}, "
                             f"got shape {tuple(x.shape) if packed else tuple(input.shape)}")
        parameter = next(self.parameters())
        if x.dtype != parameter.dtype:
            raise ValueError(f"input: expected dtype {parameter.dtype}, the parameters' dtype, got {x.dtype} "
                             f"(convert one of them, e.g. input.to({parameter.dtype}) or module.to({x.dtype}))")
        initial = self._initial_states(hx, x.shape[1], x, unbatched)

        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            direction_outputs = []
            for direction, suffix in enumerate(self._suffixes()):
                index = layer * self.num_directions + direction
                sequence = layer_input if direction == 0 else reverse_padded(layer_input, lengths)
                state = tuple(states[index] for states in initial)
                outputs, final = self.run_sequence(sequence, state, self.layer_parameters(layer, suffix), lengths)
                direction_outputs.append(outputs if direction == 0 else reverse_padded(outputs, lengths))
                finals.append(final)
            layer_input = torch.cat(direction_outputs, dim=2) if self.bidirectional else direction_outputs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = nn.functional.dropout(layer_input, self.dropout, training=True)

        output = layer_input
        final_states = tuple(torch.stack([final[k] for final in finals]) for k in range(len(self.state_names)))
        if packed:
            output = self._repack(output, lengths, input)
        elif unbatched:
            output = output.squeeze(1)
            final_states = tuple(state.squeeze(1) for state in final_states)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, final_states if len(final_states) > 1 else final_states[0]

    @staticmethod
    def _repack(output, lengths, like: PackedSequence) -> PackedSequence:
        """Pack a padded ``(T, B, H)`` output with the same batch ordering as the input ``like``."""
        if like.sorted_indices is not None:
            output, lengths = output.index_select(1, like.sorted_indices), lengths[like.sorted_indices]
        data = pack_padded_sequence(output, lengths.cpu(), enforce_sorted=True)
        return PackedSequence(data.data, data.batch_sizes, like.sorted_indices, like.unsorted_indices)

    def _initial_states(self, hx, batch_size, x, unbatched) -> State:
        shape = (self.num_layers * self.num_directions, batch_size, self.hidden_size)
        if hx is None:
            return tuple(x.new_zeros(shape) for _ in self.state_names)
        states = hx if len(self.state_names) > 1 else (hx,)
        if not isinstance(states, tuple | list) or len(states) != len(self.state_names) \
                or not all(isinstance(state, torch.Tensor) for state in states):
            expected = "a tuple (h0, c0)" if len(self.state_names) > 1 else "a tensor h0"
            raise ValueError(f"hx: expected {expected}")
        checked = []
        for name, state in zip(self.state_names, states, strict=True):
            if unbatched:
                if state.dim() != 2:
                    raise ValueError(f"{name}0: expected 2 dimensions (num_layers * num_directions, H) for "
                                     f"unbatched input, got shape {tuple(state.shape)}")
                state = state.unsqueeze(1)
            if tuple(state.shape) != shape:
                raise ValueError(f"{name}0: expected shape (num_layers * num_directions, B, H) = {shape}, "
                                 f"got {tuple(state.shape)}")
            if state.dtype != x.dtype:
                raise ValueError(f"{name}0: expected dtype {x.dtype} like the input, got {state.dtype}")
            checked.append(state)
        return tuple(checked)
