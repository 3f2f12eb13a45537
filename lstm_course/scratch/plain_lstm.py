"""The LSTM cell as its equations read: the textbook version, shown before any other.

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh      the four gates' pre-activations, stacked i, f, g, o
    i_t = sigmoid(a_t[i])   input gate              f_t = sigmoid(a_t[f])   forget gate
    g_t = tanh(a_t[g])      candidate               o_t = sigmoid(a_t[o])   output gate
    c_t = f_t * c_{t-1} + i_t * g_t                 h_t = o_t * tanh(c_t)

Shapes: ``x_t`` is ``(B, D)``; ``h`` and ``c`` are ``(B, H)``; ``W_ih`` is ``(4H, D)``, ``W_hh``
``(4H, H)``, ``b_ih`` and ``b_hh`` ``(4H,)``, with the gates' rows stacked in PyTorch's order
``i, f, g, o`` (rows ``0:H`` are ``i``, ``H:2H`` ``f``, ``2H:3H`` ``g``, ``3H:4H`` ``o``). No checks, no
buffers, no tricks: :mod:`lstm_course.scratch.numpy_lstm` is the same arithmetic with one-line errors for bad
input and the speed-ups chapter 6 names (``tests/scratch/test_plain_versions.py`` holds the two equal).
"""

from __future__ import annotations

import numpy as np


def sigmoid(a):
    """The logistic function ``1 / (1 + exp(-a))``: a fraction in (0, 1)."""
    return 1 / (1 + np.exp(-a))


def gate(x_t, h_prev, W_x, W_h, b_x, b_h, activation=sigmoid):
    """One gate, ``(B, H)``, from one gate's weights: ``W_x`` ``(H, D)``, ``W_h`` ``(H, H)``, ``b_x, b_h`` ``(H,)``."""
    a = x_t @ W_x.T + b_x + h_prev @ W_h.T + b_h  # the gate's pre-activation
    return activation(a)  # sigmoid for i, f, o: a fraction; np.tanh for the candidate g


def lstm_gates(x_t, h_prev, W_ih, W_hh, b_ih, b_hh):
    """The four gates ``(i, f, g, o)``, each ``(B, H)``, from ``x_t`` ``(B, D)`` and ``h_prev`` ``(B, H)``."""
    H = h_prev.shape[1]
    a = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh  # (B, 4H): every gate's pre-activation at once
    i = sigmoid(a[:, 0 * H:1 * H])  # input gate: how much to write
    f = sigmoid(a[:, 1 * H:2 * H])  # forget gate: how much to keep
    g = np.tanh(a[:, 2 * H:3 * H])  # candidate: what to write
    o = sigmoid(a[:, 3 * H:4 * H])  # output gate: how much to show
    return i, f, g, o


def lstm_step(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """One step: ``(h_t, c_t)``, each ``(B, H)``."""
    i, f, g, o = lstm_gates(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)
    c_t = f * c_prev + i * g
    h_t = o * np.tanh(c_t)
    return h_t, c_t
