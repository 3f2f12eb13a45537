"""A readable LSTM in PyTorch, written from the gate equations: a drop-in for ``torch.nn.LSTM``.

Same constructor arguments, forward signature, return value, defaults and parameter names as
``torch.nn.LSTM`` and ``torch.nn.LSTMCell``, so ``ours.load_state_dict(theirs.state_dict())``
works both ways and the outputs can be compared directly. No call into ``nn.LSTM``, ``_VF`` or
cuDNN: every step is the four gate equations, in the stacked order ``i, f, g, o``::

    gates = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (B, 4H), one fused product per step
    i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the four blocks
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Shapes follow ``nn.LSTM``: input ``(T, B, D)``, or ``(B, T, D)`` with ``batch_first=True``, or
``(T, D)`` unbatched, or a ``PackedSequence``; states ``(num_layers * num_directions, B, H)``.
"""

from __future__ import annotations

import functools
import getpass
import math
import os
import tempfile

import torch
from torch import nn

from lstm_course.models.recurrent import RecurrentStack, scan


def gate_activations(input_projection: torch.Tensor, h_prev: torch.Tensor, weight_hh: torch.Tensor) -> torch.Tensor:
    """The four gates ``(B, 4H)``, order ``i, f, g, o``: sigmoid, sigmoid, tanh, sigmoid of ``z``.

    ``z = input_projection + h_prev W_hh^T``, where ``input_projection = W_ih x_t + b_ih + b_hh``.
    """
    gates = torch.addmm(input_projection, h_prev, weight_hh.t())  # one fused 4H-wide product
    hidden_size = h_prev.shape[1]
    input_and_forget, candidate, output = gates.split([2 * hidden_size, hidden_size, hidden_size], dim=1)
    return torch.cat([torch.sigmoid(input_and_forget), torch.tanh(candidate), torch.sigmoid(output)], dim=1)


def cell_and_hidden(activations: torch.Tensor, c_prev: torch.Tensor):
    """``c_t = f * c_prev + i * g`` and ``h_t = o * tanh(c_t)``; returns ``(h_t, c_t, tanh(c_t))``."""
    input_gate, forget_gate, candidate, output_gate = activations.chunk(4, dim=1)
    c_t = forget_gate * c_prev + input_gate * candidate
    tanh_c = torch.tanh(c_t)
    return output_gate * tanh_c, c_t, tanh_c


def lstm_cell(input_projection: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor,
              weight_hh: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One step given the input's part of the gates, ``input_projection = W_ih x_t + b_ih + b_hh``.

    ``input_projection``: ``(B, 4H)``; ``h_prev``, ``c_prev``: ``(B, H)``; ``weight_hh``: ``(4H, H)``.
    Returns ``(h_t, c_t)``. Differentiated by autograd.
    """
    h_t, c_t, _ = cell_and_hidden(gate_activations(input_projection, h_prev, weight_hh), c_prev)
    return h_t, c_t


def run_direction(input_projection: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, weight_hh: torch.Tensor,
                  lengths: torch.Tensor | None = None,
                  cell=lstm_cell) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Run ``cell`` (:func:`lstm_cell`) over ``T`` steps of a ``(T, B, 4H)`` input projection, with autograd.

    With ``lengths`` (``(B,)``, for padded batches) each sequence stops updating after its own
    length (see :func:`lstm_course.models.recurrent.scan`). Returns the outputs ``(T, B, H)`` and the
    final ``h``, ``c``. This is the readable reference; :class:`HandWrittenBackward` computes the
    same with a faster backward pass, and :func:`compiled_lstm_cell` is a fused ``cell``.
    """
    outputs, (h, c) = scan(lambda projection, state: cell(projection, *state, weight_hh),
                           input_projection, (h0, c0), lengths)
    return outputs, h, c


COMPILE_CACHE_VARIABLE = "LSTM_COURSE_COMPILE_CACHE"
"""Names the compile-cache folder :func:`compiled_lstm_cell` chose (see there)."""


@functools.cache
def compiled_lstm_cell():
    """:func:`lstm_cell` compiled by ``torch.compile`` (once per process, on first use).

    The compiler fuses a step's element-wise gate arithmetic (the nonlinearities and the cell
    update) into one generated kernel, forward and backward; the matrix product stays a library
    call. Compiling takes seconds to a minute. Whether it pays depends on the device: see
    ``benchmarks/torch_lstm_vs_nn_lstm.py --compiled`` and the scaling chapter.

    Unless ``TORCHINDUCTOR_CACHE_DIR`` was set by someone else, the compiled kernels are cached in a
    folder per instruction set (``torch.backends.cpu.get_cpu_capability()``): PyTorch's own cache
    does not tell them apart, and a run with ``ATEN_CPU_CAPABILITY=avx2`` that reused kernels
    compiled for AVX-512 computed wrong values (``tests/notebooks/test_foreign_arithmetic.py``). The folder
    chosen is also recorded in ``LSTM_COURSE_COMPILE_CACHE``, so that a child process, which inherits
    both variables but may use other kernels, chooses its own.
    """
    chosen = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if chosen is None or chosen == os.environ.get(COMPILE_CACHE_VARIABLE):
        capability = torch.backends.cpu.get_cpu_capability().lower()
        folder = os.path.join(tempfile.gettempdir(), f"torchinductor_{_user_name()}_{capability}")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.environ[COMPILE_CACHE_VARIABLE] = folder
    return torch.compile(lstm_cell, dynamic=False)


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError, ModuleNotFoundError):
        return "user"


# The hand-written backward is chapter 6's exercise (an LSTM's BPTT) in PyTorch form: it lives in the
# instructor's package (lstm_instructor.hand_written_backward), which the student edition does not ship;
# without it the LSTM runs the autograd loop instead.
try:
    from lstm_instructor.hand_written_backward import HandWrittenBackward
except ImportError:
    HandWrittenBackward = None


def hand_written_backward_available() -> bool:
    """Whether the instructor's package, which holds :class:`HandWrittenBackward`, is installed here."""
    return HandWrittenBackward is not None


class LSTM(RecurrentStack):
    """Multi-layer, optionally bidirectional LSTM with ``torch.nn.LSTM``'s interface and parameter names.

    Parameters of layer ``k`` (``_reverse`` appended for the backward direction):
    ``weight_ih_l{k}`` ``(4H, D_k)``, ``weight_hh_l{k}`` ``(4H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
    ``(4H,)``, gates stacked ``i, f, g, o``. Layers, directions, ``batch_first``, dropout, packed and
    unbatched input are handled by :class:`lstm_course.models.recurrent.RecurrentStack`.

    Keyword-only options, not in ``nn.LSTM``: ``hand_written_backward`` runs each layer with
    :class:`HandWrittenBackward` (the default where the instructor's package is installed, faster) or,
    if ``False``, with the autograd loop :func:`run_direction` (the default in the student edition,
    which does not ship the hand-written backward: it is chapter 6's exercise); ``compile_cell=True`` runs that
    autograd loop with :func:`compiled_lstm_cell` (and so cannot be combined with
    ``hand_written_backward=True``).
    """

    gates = 4
    state_names = ("h", "c")

    def __init__(self, *args, hand_written_backward: bool | None = None, compile_cell: bool = False, **kwargs):
        if compile_cell and hand_written_backward:
            raise ValueError("compile_cell=True differentiates the compiled cell by autograd; "
                             "it cannot be combined with hand_written_backward=True")
        if hand_written_backward and not hand_written_backward_available():
            raise ValueError("hand_written_backward=True needs the instructor's package (lstm_instructor), which "
                             "holds the hand-written backward, chapter 6's exercise; expected False")
        if hand_written_backward is None:
            hand_written_backward = not compile_cell and hand_written_backward_available()
        self.hand_written_backward = hand_written_backward
        self.compile_cell = compile_cell
        super().__init__(*args, **kwargs)

    def run_sequence(self, layer_input, state, params, lengths):
        projection = torch.matmul(layer_input, params["weight_ih"].t())  # all steps at once: (T, B, 4H)
        if params["bias_ih"] is not None:
            projection = projection + (params["bias_ih"] + params["bias_hh"])
        if self.hand_written_backward:
            outputs, h_n, c_n = HandWrittenBackward.apply(projection, *state, params["weight_hh"], lengths)
        else:
            cell = compiled_lstm_cell() if self.compile_cell else lstm_cell
            outputs, h_n, c_n = run_direction(projection, *state, params["weight_hh"], lengths, cell)
        return outputs, (h_n, c_n)


class LSTMCell(nn.Module):
    """One LSTM step with ``torch.nn.LSTMCell``'s interface and parameter names.

    ``weight_ih`` ``(4H, D)``, ``weight_hh`` ``(4H, H)``, ``bias_ih``, ``bias_hh`` ``(4H,)``.
    ``forward(input, hx=None)``: ``input`` ``(B, D)`` or ``(D,)``; ``hx = (h, c)`` each ``(B, H)``;
    returns ``(h', c')``.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size, **factory))
            self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1.0 / math.sqrt(hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def forward(self, input, hx=None):
        if input.dim() not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"input: expected shape (B, {self.input_size}) or ({self.input_size},), "
                             f"got {tuple(input.shape)}")
        unbatched = input.dim() == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            h_prev, c_prev = zeros, zeros
        else:
            h_prev, c_prev = (state.unsqueeze(0) if unbatched else state for state in hx)
        for name, state in (("h", h_prev), ("c", c_prev)):
            if tuple(state.shape) != (x.shape[0], self.hidden_size):
                raise ValueError(f"hx ({name}): expected shape (B, H) = {(x.shape[0], self.hidden_size)}, "
                                 f"got {tuple(state.shape)}")
        projection = x @ self.weight_ih.t()
        if self.bias:
            projection = projection + self.bias_ih + self.bias_hh
        h_t, c_t = lstm_cell(projection, h_prev, c_prev, self.weight_hh)
        return (h_t.squeeze(0), c_t.squeeze(0)) if unbatched else (h_t, c_t)
