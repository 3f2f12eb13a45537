"""The matrix-product floor of an LSTM's forward and backward pass: its matrix products, done alone.

An LSTM's training step spends most of its time in matrix products, and how fast those run is the
library's business (its BLAS), not the LSTM's. So each benchmark also times a *floor*: the same
matrix products as the implementation it measures, with the same shapes, the same operand layouts
and the same count, in the same library, and nothing else. The implementation's time divided by
its floor says how much it adds on top (element-wise gate arithmetic, per-step Python, memory
traffic), whatever the BLAS; the share above the floor, ``1 - floor / time``, is that addition as
a part of its time. For a sequence of ``T`` steps, batch ``B``, input width ``D`` and hidden size
``H`` (four gates stacked ``4H`` wide), the floor counts:

* the input projection of all steps at once, ``(T B, D) x (D, 4H)``;
* ``T`` recurrent products forwards, ``(B, H) x (H, 4H)``, one per step;
* ``T`` recurrent products backwards, ``(B, 4H) x (4H, H)``, one per step: the gradient that
  reaches ``h_{t-1}``;
* the gradients of the weights, sums over all steps, one product each: ``(4H, T B) x (T B, D)``
  for ``W_ih`` and ``(4H, T B) x (T B, H)`` for ``W_hh`` (autograd, stepping backwards through
  our LSTM's loop, computes the latter as ``T`` products, one per step);
* with ``input_gradient``, the gradient of the inputs, ``(T B, 4H) x (4H, D)``. The NumPy LSTM
  computes it; our PyTorch LSTM does not, since the benchmarks' inputs need no gradient.

It leaves out everything else: the bias gradient (a sum), the nonlinearities and the cell
update. ``torch.nn.LSTM`` on a CPU runs oneDNN's fused LSTM kernel, forwards and backwards, with
its own matrix-product code; its floor here is the same products done with PyTorch's (MKL), the
library our PyTorch LSTM uses, with the input gradient, which oneDNN computes whether or not the
input needs it (timed: the same step time either way).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

__all__ = ["floor_gflop", "numpy_products", "torch_products"]


def floor_gflop(steps: int, batch: int, input_size: int, hidden_size: int, input_gradient: bool) -> float:
    """Billions of floating-point operations (a multiply and an add count two) in the floor's products."""
    rows, gates = steps * batch, 4 * hidden_size
    recurrent = 2 * (2 * rows * hidden_size * gates)  # T products of (B, H) x (H, 4H) each way
    inner_sizes = input_size + input_size + hidden_size + input_size * input_gradient  # projection, gradients
    return (recurrent + 2 * rows * gates * inner_sizes) / 1e9


def _operands(steps, batch, input_size, hidden_size, seed=0):
    """Random float32 operands of the floor's shapes, as NumPy arrays (values do not change the time)."""
    rng = np.random.default_rng(seed)

    def random(*shape):
        return (rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(np.float32)

    return dict(x=random(steps * batch, input_size), W_ih=random(4 * hidden_size, input_size),
                W_hh=random(4 * hidden_size, hidden_size), h=random(batch, hidden_size),
                d_z=random(steps * batch, 4 * hidden_size), hs=random(steps * batch, hidden_size))


def numpy_products(steps: int, batch: int, input_size: int, hidden_size: int) -> Callable[[], None]:
    """The floor of chapter 6's fast NumPy LSTM (``numpy_lstm.lstm_forward``, then ``lstm_backward_fast``), in NumPy.

    The products as it writes them: the input projection, the recurrent weights transposed once and
    kept contiguous for the forward products, each step's product into a buffer reused by every
    step, the input gradient included, and the recurrent weights' gradient as two products (the
    previous states of steps 1 to T - 1, read in place from the hidden states, and the initial one).
    """
    arrays = _operands(steps, batch, input_size, hidden_size)
    x, W_ih, W_hh, h, d_z, hs = (arrays[name] for name in ("x", "W_ih", "W_hh", "h", "d_z", "hs"))
    W_hh_T = np.ascontiguousarray(W_hh.T)
    gates = np.empty((batch, 4 * hidden_size), dtype=np.float32)
    d_h = np.empty((batch, hidden_size), dtype=np.float32)

    def run():
        x @ W_ih.T  # the input projection
        for _ in range(steps):
            np.matmul(h, W_hh_T, out=gates)
        for t in range(steps):
            np.matmul(d_z[t * batch:(t + 1) * batch], W_hh, out=d_h)
        d_z @ W_ih  # the input gradient
        d_z.T @ x  # the weight gradients; W_hh's as two products, steps 1 .. T-1 and step 0
        d_z[batch:].T @ hs[:-batch]
        d_z[:batch].T @ h

    return run


def torch_products(steps: int, batch: int, input_size: int, hidden_size: int, input_gradient: bool = False,
                   by_autograd: bool = False) -> Callable[[], None]:
    """The floor of our PyTorch LSTM (:mod:`lstm_course.models.torch_lstm`, hand-written backward), in PyTorch.

    The products as it writes them: the input projection with ``torch.matmul`` of the ``(T, B, D)``
    input, the forward products as ``addmm`` onto each step's input projection, with the recurrent
    weights transposed as a view, and the gradients as its backward and autograd compute them. With
    ``input_gradient`` (for ``nn.LSTM``'s floor), the input gradient too. With ``by_autograd``, the
    products of our LSTM differentiated by autograd step by step: the recurrent weights' gradient as
    ``T`` products ``(4H, B) x (B, H)``, one per step, and no gradient for ``h0``, which needs none.
    ``tests/benchmarks/test_benchmarks.py`` checks both against PyTorch's profiler.
    """
    arrays = {name: torch.from_numpy(value) for name, value in _operands(steps, batch, input_size, hidden_size).items()}
    x, W_ih, W_hh, h, d_z, hs = (arrays[name] for name in ("x", "W_ih", "W_hh", "h", "d_z", "hs"))
    x = x.view(steps, batch, input_size)
    d_z_steps = d_z.view(steps, batch, 4 * hidden_size)
    gates = torch.empty(batch, 4 * hidden_size)

    def run():
        projection = torch.matmul(x, W_ih.t())
        for t in range(steps):
            torch.addmm(projection[t], h, W_hh.t(), out=gates)
        for t in range(steps):
            if t > 0 or not by_autograd:
                d_z_steps[t] @ W_hh
            if by_autograd:
                d_z_steps[t].t() @ h
        if input_gradient:
            d_z @ W_ih
        d_z.t() @ x.view(-1, input_size)  # the weight gradients
        if not by_autograd:
            d_z.t() @ hs

    return run
