"""Adam (Kingma & Ba 2015) for NumPy parameters, written out by hand.

    m = beta1 * m + (1 - beta1) * grad                 running mean of the gradient
    v = beta2 * v + (1 - beta2) * grad**2              running mean of its square
    param -= lr * (m / (1 - beta1**step)) / (sqrt(v / (1 - beta2**step)) + eps)

``step`` counts from 1; the two divisions undo the bias of ``m`` and ``v`` towards their zero
start. This is the update ``torch.optim.Adam`` makes with its default settings.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def adam_update(param, grad, m, v, step: int, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                eps: float = 1e-8):
    """One Adam update of one array. Returns new ``(param, m, v)``; the inputs are not modified."""
    if step < 1:
        raise ValueError(f"step: expected an integer >= 1 (Adam counts steps from 1), got {step}")
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1**step)
    v_hat = v / (1 - beta2**step)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


class Adam:
    """Adam over a dict of named arrays, which :meth:`step` updates in place."""

    def __init__(self, params: Mapping[str, np.ndarray], lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = params
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.m = {name: np.zeros_like(p) for name, p in params.items()}
        self.v = {name: np.zeros_like(p) for name, p in params.items()}
        self.steps = 0

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """Apply one update; ``grads`` must have the same keys and shapes as the parameters."""
        if set(grads) != set(self.params):
            raise ValueError(f"grads: expected keys {sorted(self.params)}, got {sorted(grads)}")
        self.steps += 1
        for name, param in self.params.items():
            if grads[name].shape != param.shape:
                raise ValueError(f"grads[{name!r}]: expected shape {param.shape}, got {grads[name].shape}")
            param[...], self.m[name], self.v[name] = adam_update(
                param, grads[name], self.m[name], self.v[name], self.steps, self.lr, self.beta1, self.beta2, self.eps)
