"""The vanilla (Elman) RNN in NumPy: forward over a sequence and backpropagation through time.

Equation, for each step ``t`` (PyTorch's ``torch.nn.RNN`` with ``nonlinearity="tanh"``)::

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

Shapes: ``x`` is ``(T, B, D)``, ``h0`` is ``(B, H)``, ``W_ih`` is ``(H, D)``, ``W_hh`` is
``(H, H)``, ``b_ih`` and ``b_hh`` are ``(H,)``. The output ``hs`` stacks every ``h_t``:
``(T, B, H)``. float32 in gives float32 out, float64 likewise.
"""

from __future__ import annotations

import numpy as np

from lstm_course.plumbing.validation import as_float_array, common_dtype, expect_ndim, expect_shape
from lstm_course.scratch.activations import tanh_derivative_from_output


def _validate_rnn_weights(W_ih, W_hh, b_ih, b_hh):
    """Check the four parameters against each other; return ``(H, D)``."""
    W_ih = as_float_array("W_ih", W_ih, finite=True)
    expect_ndim("W_ih", W_ih, 2, "(H, D)")
    hidden_size, input_size = W_ih.shape
    expect_shape("W_hh", as_float_array("W_hh", W_hh, finite=True), (hidden_size, hidden_size), "(H, H)")
    expect_shape("b_ih", as_float_array("b_ih", b_ih, finite=True), (hidden_size,), "(H,)")
    expect_shape("b_hh", as_float_array("b_hh", b_hh, finite=True), (hidden_size,), "(H,)")
    return hidden_size, input_size


def recurrent_update(input_projection: np.ndarray, h_prev: np.ndarray, W_hh, b_hh) -> np.ndarray:
    """The part of one RNN step that depends on the past: ``tanh(input_projection + W_hh h + b_hh)``.

    ``input_projection`` is ``W_ih x_t + b_ih``, ``(B, H)``; ``h_prev`` is ``(B, H)``.
    Shared by :func:`rnn_step` and :func:`rnn_forward`, so both run the same arithmetic.
    """
    return np.tanh(input_projection + h_prev @ W_hh.T + b_hh)


def rnn_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> np.ndarray:
    """One RNN step. ``x_t``: ``(B, D)``, ``h_prev``: ``(B, H)``; returns ``h_t``: ``(B, H)``."""
    hidden_size, input_size = _validate_rnn_weights(W_ih, W_hh, b_ih, b_hh)
    x_t = as_float_array("x_t", x_t, finite=True)
    expect_ndim("x_t", x_t, 2, "(B, D)")
    expect_shape("x_t", x_t, (x_t.shape[0], input_size), "(B, D)")
    expect_shape("h_prev", as_float_array("h_prev", h_prev, finite=True), (x_t.shape[0], hidden_size), "(B, H)")
    common_dtype(dict(x_t=x_t, h_prev=h_prev, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh))
    return recurrent_update(x_t @ W_ih.T + b_ih, h_prev, W_hh, b_hh)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Run the RNN over a whole sequence.

    Args:
        x: inputs, ``(T, B, D)``.
        h0: initial hidden state, ``(B, H)``.
        W_ih: input-to-hidden weights, ``(H, D)``.
        W_hh: hidden-to-hidden weights, ``(H, H)``.
        b_ih, b_hh: biases, ``(H,)`` each.

    Returns:
        ``(hs, h_T, cache)``: every hidden state ``(T, B, H)``, the last one ``(B, H)``, and
        what :func:`rnn_backward` needs.
    """
    hidden_size, input_size = _validate_rnn_weights(W_ih, W_hh, b_ih, b_hh)
    x = as_float_array("x", x, finite=True)
    expect_ndim("x", x, 3, "(T, B, D)")
    num_steps, batch_size, _ = x.shape
    expect_shape("x", x, (num_steps, batch_size, input_size), "(T, B, D)")
    if num_steps < 1 or batch_size < 1:
        raise ValueError(f"x: expected at least one step and one sequence (T, B >= 1), got shape {x.shape}")
    expect_shape("h0", as_float_array("h0", h0, finite=True), (batch_size, hidden_size), "(B, H)")
    dtype = common_dtype(dict(x=x, h0=h0, W_ih=W_ih, W_hh=W_hh, b_ih=b_ih, b_hh=b_hh))

    # The input's contribution for every step at once: one (T*B, D) x (D, H) product.
    input_projection = x @ W_ih.T + b_ih
    hs = np.empty((num_steps, batch_size, hidden_size), dtype=dtype)
    h = h0
    for t in range(num_steps):
        h = recurrent_update(input_projection[t], h, W_hh, b_hh)
        hs[t] = h
    cache = dict(x=x, h0=h0, hs=hs, W_ih=W_ih, W_hh=W_hh)
    return hs, h, cache


def rnn_backward(d_hs, cache, d_hT=None):
    """Backpropagation through time for :func:`rnn_forward`.

    Args:
        d_hs: gradient of the loss with respect to every output ``hs``, ``(T, B, H)``.
        cache: the third value returned by :func:`rnn_forward`.
        d_hT: optional extra gradient with respect to the final state ``h_T``, ``(B, H)``.

    Returns:
        dict of gradients keyed ``x, h0, W_ih, W_hh, b_ih, b_hh``, each shaped like its input.
    """
    x, h0, hs, W_ih, W_hh = (cache[key] for key in ("x", "h0", "hs", "W_ih", "W_hh"))
    d_hs = as_float_array("d_hs", d_hs, finite=True)
    expect_shape("d_hs", d_hs, hs.shape, "(T, B, H)")
    d_h_next = np.zeros_like(h0)
    if d_hT is not None:
        expect_shape("d_hT", as_float_array("d_hT", d_hT, finite=True), h0.shape, "(B, H)")
        d_h_next = d_hT.astype(hs.dtype, copy=True)
    common_dtype(dict(hs=hs, d_hs=d_hs, d_hT=d_hT))

    # Gradient at each step's pre-activation a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh.
    d_preactivation = np.empty_like(hs)
    d_W_hh = np.zeros_like(W_hh)
    for t in reversed(range(len(hs))):
        h_prev = hs[t - 1] if t > 0 else h0
        d_a = (d_hs[t] + d_h_next) * tanh_derivative_from_output(hs[t])
        d_W_hh += d_a.T @ h_prev
        d_h_next = d_a @ W_hh
        d_preactivation[t] = d_a

    hidden_size, input_size = W_ih.shape
    flat_d_a = d_preactivation.reshape(-1, hidden_size)
    d_bias = flat_d_a.sum(axis=0)
    return dict(
        x=d_preactivation @ W_ih,
        h0=d_h_next,
        W_ih=flat_d_a.T @ x.reshape(-1, input_size),
        W_hh=d_W_hh,
        b_ih=d_bias,
        b_hh=d_bias.copy(),
    )
