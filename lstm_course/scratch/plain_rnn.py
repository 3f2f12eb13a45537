"""The vanilla (Elman) RNN as its equation reads: the textbook version, shown before any other.

    h_t = tanh(a_t),    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh

Shapes: ``x_t`` is ``(B, D)``, ``h`` is ``(B, H)``, ``W_ih`` is ``(H, D)``, ``W_hh`` is ``(H, H)``,
``b_ih`` and ``b_hh`` are ``(H,)``; a sequence ``x`` is ``(T, B, D)``, time first. No checks, no
buffers, no tricks: :mod:`lstm_course.scratch.numpy_rnn` is the same arithmetic with one-line errors for bad
input and the input products of all steps done at once (``tests/scratch/test_plain_versions.py`` holds them equal).
"""

from __future__ import annotations

import numpy as np


def rnn_step(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """One step: ``h_t`` ``(B, H)`` from ``x_t`` ``(B, D)`` and ``h_prev`` ``(B, H)``."""
    return np.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Every hidden state ``hs`` ``(T, B, H)`` of the sequence ``x`` ``(T, B, D)``, from ``h0`` ``(B, H)``."""
    hs = []
    h = h0
    for x_t in x:
        h = rnn_step(x_t, h, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return np.stack(hs)


def rnn_backward(d_hs, x, h0, hs, W_ih, W_hh):
    """Backpropagation through time, given ``d_hs = dL/dhs`` ``(T, B, H)`` and the forward's ``hs``.

    ``d_v`` is the gradient of the loss with respect to ``v``, the chapters' ``δv = ∂L/∂v``. Returns
    the gradients of ``L`` keyed ``x, h0, W_ih, W_hh, b_ih, b_hh``, each shaped like its input.
    """
    d_x = np.zeros_like(x)
    d_W_ih, d_W_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    d_b = np.zeros(W_hh.shape[0])
    d_h_next = np.zeros_like(h0)  # the part of δh_t that comes back from step t + 1; none after the last step
    for t in reversed(range(len(x))):
        h_prev = hs[t - 1] if t > 0 else h0
        d_a = (d_hs[t] + d_h_next) * (1 - hs[t] ** 2)  # δa_t = δh_t ⊙ tanh'(a_t), and tanh'(a) = 1 - tanh(a)^2
        d_W_ih += d_a.T @ x[t]
        d_W_hh += d_a.T @ h_prev
        d_b += d_a.sum(axis=0)
        d_x[t] = d_a @ W_ih
        d_h_next = d_a @ W_hh  # W_hh^T δa_t, what h_{t-1} receives: the step back in time
    return dict(x=d_x, h0=d_h_next, W_ih=d_W_ih, W_hh=d_W_hh, b_ih=d_b, b_hh=d_b.copy())
