"""Gradients by PyTorch's autograd, for the course's own tools.

The hand-written backward passes are exercises (chapters 2 to 6), so the tools that need an LSTM's
gradient (the gradient-flow measurements, the sequence-regression model's default) take this other
route: the same forward equations in PyTorch (:func:`lstm_course.models.torch_lstm.lstm_cell`),
differentiated by autograd.

    grads = lstm_backward_by_autograd(d_hs, x, h0, c0, W_ih, W_hh, b_ih, b_hh)
    # {"x": (T, B, D), "h0": (B, H), "c0": (B, H), "W_ih": (4H, D), "W_hh": (4H, H), "b_ih": (4H,), "b_hh": (4H,)}
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_course.models.torch_lstm import lstm_cell

PARAMETERS = ("x", "h0", "c0", "W_ih", "W_hh", "b_ih", "b_hh")


def lstm_backward_by_autograd(d_hs, x, h0, c0, W_ih, W_hh, b_ih, b_hh, d_cT=None) -> dict[str, np.ndarray]:
    """Gradients of ``L = sum(d_hs * hs) [+ sum(d_cT * c_T)]`` for ``numpy_lstm.lstm_forward(x, h0, c0, ...)``.

    ``d_hs`` and ``x`` are ``(T, B, H)`` and ``(T, B, D)``; ``d_cT``, optional, ``(B, H)`` weights the
    final cell state. Every gradient has its input's shape and the inputs' common dtype.
    """
    arrays = dict(zip(PARAMETERS, (x, h0, c0, W_ih, W_hh, b_ih, b_hh), strict=True))
    dtype = np.result_type(*arrays.values(), d_hs)
    tensors = {name: torch.tensor(np.asarray(value, dtype=dtype), requires_grad=True)
               for name, value in arrays.items()}
    projection = tensors["x"] @ tensors["W_ih"].T + tensors["b_ih"] + tensors["b_hh"]
    h, c, hs = tensors["h0"], tensors["c0"], []
    for t in range(projection.shape[0]):
        h, c = lstm_cell(projection[t], h, c, tensors["W_hh"])
        hs.append(h)
    loss = (torch.stack(hs) * torch.from_numpy(np.asarray(d_hs, dtype=dtype))).sum()
    if d_cT is not None:
        loss = loss + (c * torch.from_numpy(np.asarray(d_cT, dtype=dtype))).sum()
    gradients = torch.autograd.grad(loss, list(tensors.values()))
    return {name: gradient.numpy() for name, gradient in zip(tensors, gradients, strict=True)}
