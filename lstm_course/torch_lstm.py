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

from lstm_course.recurrent import RecurrentStack, scan


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
    length (see :func:`lstm_course.recurrent.scan`). Returns the outputs ``(T, B, H)`` and the
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
    compiled for AVX-512 computed wrong values (``tests/test_second_instruction_set.py``). The folder
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


# The hand-written backward below is chapter 6's exercise (an LSTM's BPTT) in PyTorch form: the student
# edition's copy of the package leaves it out, and its LSTM then runs the autograd loop instead.
### BEGIN INSTRUCTOR ONLY
class HandWrittenBackward(torch.autograd.Function):
    """:func:`run_direction` with backpropagation through time written out, as in ``numpy_lstm``.

    Autograd would record about a dozen operations per step and replay them backwards one by one.
    Here the forward pass runs without recording and keeps the gate activations; the backward pass
    computes each step's gradient directly from them, with as little as possible left inside its
    loop over steps; the recurrent-weight gradient, a sum over all steps, is one matrix product
    after the loop. Both passes write into tensors allocated once per call (``out=``, in-place
    operations): a small tensor allocated per step costs more than the arithmetic done on it.
    Same inputs and outputs as :func:`run_direction` (first-order gradients only).
    """

    @staticmethod
    def forward(ctx, input_projection, h0, c0, weight_hh, lengths):
        num_steps, batch_size, _ = input_projection.shape
        hidden_size = h0.shape[1]
        activations = torch.empty_like(input_projection)  # (T, B, 4H), gates i, f, g, o after their nonlinearity
        states_h = input_projection.new_empty(num_steps, batch_size, hidden_size)
        states_c, tanh_cs = torch.empty_like(states_h), torch.empty_like(states_h)
        masks = None if lengths is None else (torch.arange(num_steps, device=h0.device).unsqueeze(1) < lengths)
        outputs = None if masks is None else torch.empty_like(states_h)  # unmasked, the outputs are states_h
        weight_hh_t = weight_hh.t()
        h, c = h0, c0
        for t in range(num_steps):
            # gate_activations and cell_and_hidden, written in place into this step's rows of the caches.
            gates = torch.addmm(input_projection[t], h, weight_hh_t, out=activations[t])
            input_and_forget, candidate, output_gate = gates.split([2 * hidden_size, hidden_size, hidden_size], dim=1)
            input_and_forget.sigmoid_(), candidate.tanh_(), output_gate.sigmoid_()
            input_gate, forget_gate = input_and_forget.chunk(2, dim=1)
            c_new = torch.mul(forget_gate, c, out=states_c[t]).addcmul_(input_gate, candidate)
            h_new = torch.mul(output_gate, torch.tanh(c_new, out=tanh_cs[t]), out=states_h[t])
            if masks is not None:  # a finished sequence keeps its state, and outputs zeros
                active = masks[t].unsqueeze(1)
                torch.mul(h_new, active, out=outputs[t])
                h_new.copy_(torch.where(active, h_new, h))
                c_new.copy_(torch.where(active, c_new, c))
            h, c = h_new, c_new
        ctx.save_for_backward(activations, states_h, states_c, tanh_cs, h0, c0, weight_hh,
                              masks if masks is not None else torch.empty(0))
        ctx.masked = masks is not None
        if masks is None:  # the caller gets copies, which it may change in place without touching the caches
            outputs = states_h.clone()
        return outputs, h.clone(), c.clone()

    @staticmethod
    def backward(ctx, d_outputs, d_h_last, d_c_last):
        activations, states_h, states_c, tanh_cs, h0, c0, weight_hh, masks = ctx.saved_tensors
        num_steps, batch_size, hidden_size = states_h.shape
        input_gate, forget_gate, candidate, output_gate = activations.chunk(4, dim=2)  # views, (T, B, H) each
        # Before the loop, for all steps at once: every factor of the pre-activations' gradient d_z
        # that does not depend on the gradients flowing back. With the slopes s (1 - s) (sigmoid)
        # and 1 - g^2 (tanh) written in terms of the cached gates, d_z is
        #     [d_c * g i(1-i),  d_c * c_prev f(1-f),  d_c * i (1-g^2),  d_h * tanh(c) o(1-o)],
        # so each block is one factor, computed here, times d_c or d_h, multiplied in by the loop.
        d_preactivations = (1 - activations).mul_(activations)  # s (1 - s); the candidate's block is replaced next
        d_i, d_f, d_g, d_o = d_preactivations.chunk(4, dim=2)  # views into d_preactivations
        one = activations.new_ones(())  # addcmul(one, a, b, value=-1) is 1 - a b, in one pass
        torch.addcmul(one, candidate, candidate, value=-1, out=d_g)  # 1 - g^2
        d_i.mul_(candidate)
        d_f[1:].mul_(states_c[:-1])  # c_prev: the cached cell states one step back, c0 at the first step
        d_f[0].mul_(c0)
        d_g.mul_(input_gate)
        d_o.mul_(tanh_cs)
        h_to_c = torch.addcmul(one, tanh_cs, tanh_cs, value=-1).mul_(output_gate)  # d_h reaches c_t as o (1 - tanh^2 c)
        d_i_f_g = d_preactivations[..., :3 * hidden_size].view(num_steps, batch_size, 3, hidden_size)
        d_h = torch.zeros_like(h0) if d_h_last is None else d_h_last
        d_c = torch.zeros_like(c0) if d_c_last is None else d_c_last
        for t in reversed(range(num_steps)):
            d_h_step = d_h + d_outputs[t]
            d_c_step = d_c
            if ctx.masked:  # a finished sequence passes its state gradients straight through
                active = masks[t].unsqueeze(1)
                d_h_step, d_c_step = d_h_step * active, d_c_step * active
                d_h_skip, d_c_skip = d_h * ~active, d_c * ~active
            d_c_step = torch.addcmul(d_c_step, d_h_step, h_to_c[t])  # through h = o tanh(c)
            d_i_f_g[t].mul_(d_c_step.unsqueeze(1))  # the gates i, f and g: their factor times d_c
            d_o[t].mul_(d_h_step)  # the output gate: its factor times d_h
            d_h = d_preactivations[t] @ weight_hh
            d_c = d_c_step * forget_gate[t]  # the carousel
            if ctx.masked:
                d_h, d_c = d_h + d_h_skip, d_c + d_c_skip
        h_prevs = torch.cat([h0.unsqueeze(0), states_h[:-1]])
        d_weight_hh = d_preactivations.reshape(-1, 4 * hidden_size).t() @ h_prevs.reshape(-1, hidden_size)
        return d_preactivations, d_h, d_c, d_weight_hh, None
### END INSTRUCTOR ONLY


def hand_written_backward_available() -> bool:
    """Whether this copy of the package has :class:`HandWrittenBackward` (the student edition's has not)."""
    return "HandWrittenBackward" in globals()


class LSTM(RecurrentStack):
    """Multi-layer, optionally bidirectional LSTM with ``torch.nn.LSTM``'s interface and parameter names.

    Parameters of layer ``k`` (``_reverse`` appended for the backward direction):
    ``weight_ih_l{k}`` ``(4H, D_k)``, ``weight_hh_l{k}`` ``(4H, H)``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
    ``(4H,)``, gates stacked ``i, f, g, o``. Layers, directions, ``batch_first``, dropout, packed and
    unbatched input are handled by :class:`lstm_course.recurrent.RecurrentStack`.

    Keyword-only options, not in ``nn.LSTM``: ``hand_written_backward`` runs each layer with
    :class:`HandWrittenBackward` (the default where the package has it, faster) or, if ``False``,
    with the autograd loop :func:`run_direction` (the default in the student edition, whose package
    leaves the hand-written backward out: it is chapter 6's exercise); ``compile_cell=True`` runs that
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
            raise ValueError("hand_written_backward=True: this copy of the package (the student edition's) has no "
                             "hand-written backward, which is chapter 6's exercise; expected False")
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
