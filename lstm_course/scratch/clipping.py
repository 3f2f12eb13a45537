"""Gradient-norm clipping (Pascanu, Mikolov & Bengio 2013).

When the global norm of all gradients exceeds ``max_norm``, every gradient is rescaled by the
same factor ``max_norm / norm``: the direction of the update is kept, only its length shrinks.
This is what ``torch.nn.utils.clip_grad_norm_`` does.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lstm_course.plumbing.validation import as_float_array


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """The Euclidean norm of all gradients together, as if concatenated into one vector."""
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_grad_norm(grads: Mapping[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    """Rescale ``grads`` so that their global norm is at most ``max_norm``.

    Args:
        grads: name -> gradient array; not modified.
        max_norm: the largest global norm allowed, a positive number.

    Returns:
        ``(clipped, total_norm)``: new arrays with the same keys, shapes and dtypes, and the
        global norm *before* clipping (as ``torch.nn.utils.clip_grad_norm_`` returns it).

    A NaN or infinite gradient makes the norm NaN or infinite, and then, as in torch, the result
    is not finite either (NaN everywhere for a NaN): the failure shows instead of being hidden.
    Check ``total_norm`` before taking the step.
    """
    if isinstance(max_norm, bool) or not isinstance(max_norm, int | float | np.number) or not np.isfinite(max_norm) \
            or max_norm <= 0:
        raise ValueError(f"max_norm: expected a positive finite number, got {max_norm}")
    grads = {name: as_float_array(f"grads[{name!r}]", g) for name, g in grads.items()}
    total_norm = global_norm(grads)
    scale = np.minimum(1.0, max_norm / (total_norm + 1e-6))  # np.minimum keeps a NaN, Python's min would drop it
    return {name: (g * scale).astype(g.dtype) for name, g in grads.items()}, total_norm
