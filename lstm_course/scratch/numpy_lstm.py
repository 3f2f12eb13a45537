"""The LSTM in NumPy: one gate at a time, one step, a whole sequence (its backward pass is chapter 6's exercise).

Equations for one step, in PyTorch's ``torch.nn.LSTM`` form::

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
    g_t =    tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     candidate (often written C~_t)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
    c_t = f_t * c_{t-1} + i_t * g_t                          cell state
    h_t = o_t * tanh(c_t)                                    hidden state

Layout, used everywhere in the course: the four gates' weights are stacked row-wise in the order
``i, f, g, o`` (:data:`GATES`), exactly as ``torch.nn.LSTM`` stores them. With input width ``D``
and hidden size ``H``: ``W_ih`` is ``(4H, D)``, ``W_hh`` is ``(4H, H)``, ``b_ih`` and ``b_hh``
are ``(4H,)``, and rows ``k*H:(k+1)*H`` belong to gate ``GATES[k]``. Sequences are time-major:
``x`` is ``(T, B, D)``; states ``h`` and ``c`` are ``(B, H)``. float32 in gives float32 out.
(char-rnn and CS231n order the gates ``i, f, o, g``; their weights need reordering to load here.)
"""

from __future__ import annotations

import functools

import numpy as np

from lstm_course.plumbing.validation import as_float_array, common_dtype, expect_ndim, expect_shape, same_shape
from lstm_course.scratch.activations import sigmoid

GATES = ("i", "f", "g", "o")
"""Gate order along the ``4H`` axis, as in ``torch.nn.LSTM``."""


def gate_slice(gate: str, hidden_size: int) -> slice:
    """Rows of the stacked ``4H`` axis that belong to ``gate`` (one of ``"i", "f", "g", "o"``)."""
    if gate not in GATES:
        raise ValueError(f"gate: expected one of {GATES}, got {gate!r}")
    k = GATES.index(gate)
    return slice(k * hidden_size, (k + 1) * hidden_size)


def gate_parameters(gate: str, W_ih, W_hh, b_ih, b_hh) -> dict[str, np.ndarray]:
    """One gate's block of the stacked parameters: ``W_x (H, D)``, ``W_h (H, H)``, ``b_x``, ``b_h (H,)``.

    For the forget gate these are ``W_if, W_hf, b_if, b_hf`` in the equations above.
    """
    hidden_size, _ = _validate_weights(W_ih, W_hh, b_ih, b_hh)
    rows = gate_slice(gate, hidden_size)
    return dict(W_x=W_ih[rows], W_h=W_hh[rows], b_x=b_ih[rows], b_h=b_hh[rows])


def concatenated_form(W_x, W_h, b_x, b_h) -> tuple[np.ndarray, np.ndarray]:
    """One gate's weights in the concatenated form ``sigmoid(W [h_{t-1}, x_t] + b)``.

    Many texts (Olah's diagrams, Gers et al.) write a gate as one matrix applied to the
    concatenation of ``h_{t-1}`` and ``x_t``. That matrix is ``W = [W_h | W_x]``, ``(H, H + D)``,
    and the single bias is ``b = b_x + b_h``: PyTorch's two biases only ever appear summed.
    """
    return np.concatenate([W_h, W_x], axis=1), b_x + b_h


def _check_affine(function):
    """Decorator: ``x_t (B, D)``, ``h_prev (B, H)``, ``W_x (R, D)``, ``W_h (R, H)``, ``b_x, b_h (R,)``, one dtype."""

    @functools.wraps(function)
    def checked(x_t, h_prev, W_x, W_h, b_x, b_h, *args, **kwargs):
        arrays = dict(x_t=x_t, h_prev=h_prev, W_x=W_x, W_h=W_h, b_x=b_x, b_h=b_h)
        for name, array in arrays.items():
            as_float_array(name, array, finite=True)
        for name, symbols in (("x_t", "(B, D)"), ("h_prev", "(B, H)"), ("W_x", "(R, D)"), ("W_h", "(R, H)")):
            expect_ndim(name, arrays[name], 2, symbols)
        (batch_size, input_size), hidden_size, rows = x_t.shape, h_prev.shape[1], W_x.shape[0]
        expect_shape("h_prev", h_prev, (batch_size, hidden_size), "(B, H)")
        expect_shape("W_x", W_x, (rows, input_size), "(R, D)")
        expect_shape("W_h", W_h, (rows, hidden_size), "(R, H)")
        expect_shape("b_x", b_x, (rows,), "(R,)")
        expect_shape("b_h", b_h, (rows,), "(R,)")
        common_dtype(arrays)
        return function(x_t, h_prev, W_x, W_h, b_x, b_h, *args, **kwargs)

    return checked


@_check_affine
def affine(x_t, h_prev, W_x, W_h, b_x, b_h) -> np.ndarray:
    """``W_x x_t + b_x + W_h h_prev + b_h`` for a batch of row vectors.

    With one gate's block (``W_x`` ``(H, D)``) this is that gate's pre-activation ``(B, H)``; with
    the stacked ``W_ih`` ``(4H, D)`` it is all four at once, ``(B, 4H)``.
    """
    return x_t @ W_x.T + b_x + h_prev @ W_h.T + b_h


def gate(x_t, h_prev, W_x, W_h, b_x, b_h, activation=sigmoid) -> np.ndarray:
    """One gate for a batch: ``activation(W_x x_t + b_x + W_h h_prev + b_h)``, ``(B, H)``.

    ``sigmoid`` for the input, forget and output gates; ``np.tanh`` for the candidate.
    """
    return activation(affine(x_t, h_prev, W_x, W_h, b_x, b_h))


def activate_gates(preactivations: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Apply each gate's nonlinearity to stacked pre-activations ``(..., 4H)``, in the layout ``i, f, g, o``.

    Sigmoid for ``i``, ``f`` and ``o`` (a fraction between 0 and 1), tanh for ``g`` (a value
    between -1 and 1). Uses ``sigmoid(z) = (1 + tanh(z / 2)) / 2`` so that a single ``tanh``
    pass covers all four gates; finite and warning-free for any finite input. Writes into
    ``out`` (which may be ``preactivations`` itself) when given.
    """
    scale, _ = _halving(preactivations.shape[-1] // 4, preactivations.dtype)
    halved = np.multiply(preactivations, scale, out=out)  # z / 2 for the sigmoid gates, z for the candidate
    return activate_halved_gates(halved, out=halved)


def sigmoid_rows_halved(hidden_size: int, dtype=np.float64) -> np.ndarray:
    """``(4H,)``: 1/2 on the rows of the sigmoid gates ``i``, ``f``, ``o``, 1 on the candidate's.

    Scaling a gate's weights and biases by it makes its pre-activation ``a / 2`` (exactly: a power
    of two), so that ``tanh`` gives ``tanh(a / 2)``, and ``sigmoid(a) = tanh(a / 2) / 2 + 1 / 2``.
    """
    scale = np.full(4 * hidden_size, 0.5, dtype=dtype)
    scale[gate_slice("g", hidden_size)] = 1
    return scale


@functools.cache
def _halving(hidden_size: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sigmoid_rows_halved` and ``1 -`` it, read-only, made once per size and dtype."""
    scale = sigmoid_rows_halved(hidden_size, dtype)
    offset = 1 - scale
    scale.flags.writeable = offset.flags.writeable = False
    return scale, offset


def activate_halved_gates(halved: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """:func:`activate_gates` of pre-activations ``(..., 4H)`` whose sigmoid gates' rows are already halved.

    One ``tanh`` of every row, then ``tanh(a / 2) / 2 + 1 / 2`` for ``i``, ``f``, ``o`` and
    ``tanh(a) * 1 + 0`` for ``g``: three contiguous passes. Writes into ``out`` when given.
    """
    scale, offset = _halving(halved.shape[-1] // 4, halved.dtype)
    out = np.tanh(halved, out=out)
    out *= scale
    out += offset
    return out


def split_gates(stacked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Views of the four gates ``(i, f, g, o)`` of an array whose last axis is ``4H``."""
    hidden_size = stacked.shape[-1] // 4
    return tuple(stacked[..., gate_slice(name, hidden_size)] for name in GATES)


@same_shape("(B, H)")
def cell_update(c_prev, forget_gate, input_gate, candidate) -> np.ndarray:
    """The constant error carousel: ``c_t = f_t * c_{t-1} + i_t * g_t``, all ``(B, H)``."""
    return forget_gate * c_prev + input_gate * candidate


@same_shape("(B, H)")
def hidden_state(output_gate, cell_state) -> np.ndarray:
    """What the cell exposes: ``h_t = o_t * tanh(c_t)``, ``(B, H)``."""
    return output_gate * np.tanh(cell_state)


def _step_from_activations(activations, c_prev, out=None):
    """Cell and hidden state from the four activated gates ``(B, 4H)``; returns ``(h_t, c_t, tanh(c_t))``.

    Writes the three ``(B, H)`` results into ``out = (h_t, c_t, tanh_c)`` when given: ``lstm_forward``
    passes its caches' rows for step ``t``, so no step allocates an array or copies one.
    """
    input_gate, forget_gate, candidate, output_gate = split_gates(activations)
    h_t, c_t, tanh_c = out if out is not None else (np.empty_like(forget_gate) for _ in range(3))
    np.multiply(forget_gate, c_prev, out=c_t)  # cell_update, in place: c_t = f_t * c_{t-1} + i_t * g_t
    c_t += np.multiply(input_gate, candidate, out=h_t)  # h_t holds i_t * g_t until it is written below
    np.tanh(c_t, out=tanh_c)
    np.multiply(output_gate, tanh_c, out=h_t)  # hidden_state: h_t = o_t * tanh(c_t)
    return h_t, c_t, tanh_c


def _validate_weights(W_ih, W_hh, b_ih, b_hh):
    """Check the stacked parameters against each other; return ``(H, D)``."""
    W_ih = as_float_array("W_ih", W_ih, finite=True)
    expect_ndim("W_ih", W_ih, 2, "(4H, D)")
    rows, input_size = W_ih.shape
    if rows % 4:
        raise ValueError(f"W_ih: expected 4H rows (the gates i, f, g, o stacked), got shape {W_ih.shape}")
    hidden_size = rows // 4
    expect_shape("W_hh", as_float_array("W_hh", W_hh, finite=True), (rows, hidden_size), "(4H, H)")
    expect_shape("b_ih", as_float_array("b_ih", b_ih, finite=True), (rows,), "(4H,)")
    expect_shape("b_hh", as_float_array("b_hh", b_hh, finite=True), (rows,), "(4H,)")
    return hidden_size, input_size


def _validate_states(batch_size, hidden_size, **states):
    for name, state in states.items():
        expect_shape(name, as_float_array(name, state, finite=True), (batch_size, hidden_size), "(B, H)")


def lstm_step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One LSTM step. ``x_t``: ``(B, D)``; ``h_prev``, ``c_prev``: ``(B, H)``. Returns ``(h_t, c_t)``."""
    hidden_size, input_size = _validate_weights(W_ih, W_hh, b_ih, b_hh)
    x_t = as_float_array("x_t", x_t, finite=True)
    expect_ndim("x_t", x_t, 2, "(B, D)")
    expect_shape("x_t", x_t, (x_t.shape[0], input_size), "(B, D)")
    _validate_states(x_t.shape[0], hidden_size, h_prev=h_prev, c_prev=c_prev)
    common_dtype(dict(x_t=x_t, h_prev=h_prev, c_prev=c_prev, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh))
    activations = activate_gates(affine(x_t, h_prev, W_ih, W_hh, b_ih, b_hh))
    h_t, c_t, _ = _step_from_activations(activations, c_prev)
    return h_t, c_t


def lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Run the LSTM over a sequence.

    Args:
        x: inputs, ``(T, B, D)``.
        h0, c0: initial hidden and cell state, ``(B, H)`` each.
        W_ih: ``(4H, D)``; W_hh: ``(4H, H)``; b_ih, b_hh: ``(4H,)``; gates stacked ``i, f, g, o``.

    Returns:
        ``(hs, (h_T, c_T), cache)``: every hidden state ``(T, B, H)``, the final states ``(B, H)``,
        and what a backward pass needs (chapter 6's exercise): the inputs, the gate activations
        ``(T, B, 4H)``, and every step's ``h``, ``c`` and ``tanh(c)``.
    """
    hidden_size, input_size = _validate_weights(W_ih, W_hh, b_ih, b_hh)
    x = as_float_array("x", x, finite=True)
    expect_ndim("x", x, 3, "(T, B, D)")
    num_steps, batch_size, _ = x.shape
    expect_shape("x", x, (num_steps, batch_size, input_size), "(T, B, D)")
    if num_steps < 1 or batch_size < 1:
        raise ValueError(f"x: expected at least one step and one sequence (T, B >= 1), got shape {x.shape}")
    _validate_states(batch_size, hidden_size, h0=h0, c0=c0)
    dtype = common_dtype(dict(x=x, h0=h0, c0=c0, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh))

    # Halve the sigmoid gates' rows of the weights and biases once (exact: a power of two), so that
    # each step needs only activate_halved_gates: one tanh gives tanh(a / 2) for i, f, o, tanh(a) for g.
    scale = sigmoid_rows_halved(hidden_size, dtype)
    # Everything that does not depend on the previous state, for all steps in one (T B, D) x (D, 4H)
    # product: each step's gates start as its input's part, and the loop adds the recurrent part.
    gates = (x.reshape(-1, input_size) @ (W_ih * scale[:, None]).T).reshape(num_steps, batch_size, 4 * hidden_size)
    gates += (b_ih + b_hh) * scale
    hs = np.empty((num_steps, batch_size, hidden_size), dtype=dtype)
    cs = np.empty_like(hs)
    tanh_cs = np.empty_like(hs)
    W_hh_T = np.ascontiguousarray((W_hh * scale[:, None]).T)  # (H, 4H), contiguous: faster products in the loop
    recurrent = np.empty((batch_size, 4 * hidden_size), dtype=dtype)  # h_{t-1} W_hh^T, reused by every step
    h, c = h0, c0
    for t in range(num_steps):
        step_gates = gates[t]  # (B, 4H), a view: the cache's row for step t
        step_gates += np.matmul(h, W_hh_T, out=recurrent)  # one fused 4H-wide product for all four gates
        activate_halved_gates(step_gates, out=step_gates)  # three contiguous passes activate all four gates
        h, c, _ = _step_from_activations(step_gates, c, out=(hs[t], cs[t], tanh_cs[t]))  # written into the caches
    cache = dict(x=x, h0=h0, c0=c0, W_ih=W_ih, W_hh=W_hh, gates=gates, hs=hs, cs=cs, tanh_cs=tanh_cs)
    return hs, (h.copy(), c.copy()), cache


def init_params(input_size: int, hidden_size: int, rng: np.random.Generator, dtype=np.float64,
                forget_bias: float = 0.0) -> dict[str, np.ndarray]:
    """Parameters initialised as ``torch.nn.LSTM`` does: every entry ``U(-1/sqrt(H), 1/sqrt(H))``.

    ``forget_bias`` is added to the forget gate's part of ``b_ih`` (default 0, as in PyTorch; chapter
    8 chooses it from the longest lag a task needs: ``adding_problem.forget_bias_for_span``).
    Returns a dict keyed ``W_ih (4H, D), W_hh (4H, H), b_ih, b_hh (4H,)``.
    """
    bound = 1.0 / np.sqrt(hidden_size)
    shapes = dict(W_ih=(4 * hidden_size, input_size), W_hh=(4 * hidden_size, hidden_size),
                  b_ih=(4 * hidden_size,), b_hh=(4 * hidden_size,))
    params = {name: rng.uniform(-bound, bound, size=shape).astype(dtype) for name, shape in shapes.items()}
    params["b_ih"][gate_slice("f", hidden_size)] += forget_bias
    return params
