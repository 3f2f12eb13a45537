"""The GRU and LSTM variants, on the same stacking and time loop as the LSTM (``lstm_course.models.recurrent``).

``GRU`` is a drop-in for ``torch.nn.GRU`` (same arguments, parameter names, outputs). Its gates,
stacked ``r, z, n`` in PyTorch's order::

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
    n_t =    tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))   candidate
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

``LSTMVariant`` changes one thing about the LSTM cell at a time, for ablations:

* ``"standard"``: the LSTM of this course (gates ``i, f, g, o``).
* ``"peephole"``: the gates also see the cell state through diagonal weights (Gers & Schmidhuber
  2000): ``i`` and ``f`` see ``c_{t-1}``, ``o`` sees ``c_t``. Extra parameters
  ``peephole_i``, ``peephole_f``, ``peephole_o``, each ``(H,)``.
* ``"coupled"`` (CIFG): no separate input gate, ``i_t = 1 - f_t``; gates stacked ``f, g, o``.
* ``"no_forget_gate"``: ``f_t = 1``, the original 1997 cell; gates ``i, g, o``.
* ``"no_output_gate"``: ``o_t = 1``, so ``h_t = tanh(c_t)``; gates ``i, f, g``.
"""

from __future__ import annotations

import torch

from lstm_course.models.recurrent import RecurrentStack, scan


def _input_projection(layer_input, params):
    projection = torch.matmul(layer_input, params["weight_ih"].t())
    return projection if params["bias_ih"] is None else projection + params["bias_ih"]


def _hidden_projection(h, params):
    projection = h @ params["weight_hh"].t()
    return projection if params["bias_hh"] is None else projection + params["bias_hh"]


class GRU(RecurrentStack):
    """Gated recurrent unit with ``torch.nn.GRU``'s interface: ``forward(input, h0=None) -> (output, h_n)``."""

    gates = 3
    state_names = ("h",)

    def run_sequence(self, layer_input, state, params, lengths):
        def step(input_projection, state):
            (h,) = state
            reset_x, update_x, candidate_x = input_projection.chunk(3, dim=1)
            reset_h, update_h, candidate_h = _hidden_projection(h, params).chunk(3, dim=1)
            reset_gate = torch.sigmoid(reset_x + reset_h)
            update_gate = torch.sigmoid(update_x + update_h)
            candidate = torch.tanh(candidate_x + reset_gate * candidate_h)
            return ((1 - update_gate) * candidate + update_gate * h,)

        return scan(step, _input_projection(layer_input, params), state, lengths)


VARIANT_GATES = {
    "standard": ("i", "f", "g", "o"),
    "peephole": ("i", "f", "g", "o"),
    "coupled": ("f", "g", "o"),
    "no_forget_gate": ("i", "g", "o"),
    "no_output_gate": ("i", "f", "g"),
}
"""The gate blocks each variant stacks in its weights, in order."""


class LSTMVariant(RecurrentStack):
    """An LSTM with one component changed (see the module docstring); ``nn.LSTM``'s interface.

    ``forget_bias`` is added to the forget gate's ``bias_ih`` after initialisation (variants with a
    forget gate only).
    """

    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, *args, variant: str = "standard",
                 forget_bias: float = 0.0, **kwargs):
        if variant not in VARIANT_GATES:
            raise ValueError(f"variant: expected one of {sorted(VARIANT_GATES)}, got {variant!r}")
        self.variant, self.gate_names = variant, VARIANT_GATES[variant]
        self.gates = len(self.gate_names)
        super().__init__(input_size, hidden_size, *args, **kwargs)
        if "f" in self.gate_names:
            self.add_to_gate_bias(self.gate_names.index("f"), forget_bias)

    def extra_parameters(self):
        if self.variant != "peephole":
            return {}
        return {f"peephole_{gate}": (self.hidden_size,) for gate in ("i", "f", "o")}

    def run_sequence(self, layer_input, state, params, lengths):
        names, variant = self.gate_names, self.variant

        def step(input_projection, state):
            h, c = state
            preactivations = input_projection + _hidden_projection(h, params)
            blocks = dict(zip(names, preactivations.chunk(len(names), dim=1), strict=True))
            if variant == "peephole":
                blocks["i"] = blocks["i"] + params["peephole_i"] * c
                blocks["f"] = blocks["f"] + params["peephole_f"] * c
            forget_gate = torch.sigmoid(blocks["f"]) if "f" in blocks else torch.ones_like(c)
            input_gate = torch.sigmoid(blocks["i"]) if "i" in blocks else 1 - forget_gate
            c_t = forget_gate * c + input_gate * torch.tanh(blocks["g"])
            if "o" not in blocks:
                return torch.tanh(c_t), c_t
            output_preactivation = blocks["o"] + (params["peephole_o"] * c_t if variant == "peephole" else 0)
            return torch.sigmoid(output_preactivation) * torch.tanh(c_t), c_t

        return scan(step, _input_projection(layer_input, params), state, lengths)
