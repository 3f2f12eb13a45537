"""Moving LSTM weights between layouts: Keras, char-rnn / CS231n, and PyTorch (the course's).

* PyTorch (and this course): ``weight_ih`` ``(4H, D)``, ``weight_hh`` ``(4H, H)``, two biases
  ``(4H,)``; gate blocks ``i, f, g, o``; a batch row times the *transposed* weight.
* Keras ``LSTM``: ``kernel`` ``(D, 4H)``, ``recurrent_kernel`` ``(H, 4H)``, one ``bias`` ``(4H,)``;
  gate blocks ``i, f, c, o`` (Keras's ``c`` is our candidate ``g``), so the order matches and
  only transposes are needed.
* Karpathy's char-rnn and Stanford's CS231n: gate blocks ``i, f, o, g``; the last two blocks swap.
"""

from __future__ import annotations

import numpy as np

from lstm_course.plumbing.validation import as_float_array, expect_ndim, expect_shape


def keras_lstm_to_torch(kernel, recurrent_kernel, bias) -> dict[str, np.ndarray]:
    """Keras ``(kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,))`` to an ``nn.LSTM`` layer-0 state dict.

    Returns NumPy arrays keyed ``weight_ih_l0 (4H, D)``, ``weight_hh_l0 (4H, H)``, ``bias_ih_l0``
    (Keras's bias) and ``bias_hh_l0`` (zeros: PyTorch's two biases are only ever summed).
    """
    kernel = as_float_array("kernel", kernel)
    expect_ndim("kernel", kernel, 2, "(D, 4H)")
    input_size, columns = kernel.shape
    if columns % 4:
        raise ValueError(f"kernel: expected 4H columns (gates i, f, c, o), got shape {kernel.shape}")
    hidden_size = columns // 4
    expect_shape("recurrent_kernel", as_float_array("recurrent_kernel", recurrent_kernel),
                 (hidden_size, columns), "(H, 4H)")
    expect_shape("bias", as_float_array("bias", bias), (columns,), "(4H,)")
    return {
        "weight_ih_l0": kernel.T.copy(),
        "weight_hh_l0": recurrent_kernel.T.copy(),
        "bias_ih_l0": bias.copy(),
        "bias_hh_l0": np.zeros_like(bias),
    }


def ifog_to_ifgo(stacked: np.ndarray) -> np.ndarray:
    """Reorder gate blocks along axis 0 from char-rnn/CS231n's ``i, f, o, g`` to PyTorch's ``i, f, g, o``."""
    stacked = as_float_array("stacked", stacked)
    if stacked.shape[0] % 4:
        raise ValueError(f"stacked: expected 4H rows (four gate blocks), got shape {stacked.shape}")
    input_gate, forget_gate, output_gate, candidate = np.split(stacked, 4, axis=0)
    return np.concatenate([input_gate, forget_gate, candidate, output_gate], axis=0)


def keras_default_initialisation(input_size: int, hidden_size: int, rng: np.random.Generator):
    """Keras ``LSTM``'s default initial weights, in Keras's layout: ``(kernel, recurrent_kernel, bias)``.

    ``kernel`` ``(D, 4H)``: Glorot-uniform, ``U(-a, a)`` with ``a = sqrt(6 / (D + 4H))``.
    ``recurrent_kernel`` ``(H, 4H)``: orthogonal (orthonormal rows). ``bias`` ``(4H,)``: zeros, except
    ones for the forget gate (``unit_forget_bias=True``). Convert with :func:`keras_lstm_to_torch`.
    """
    limit = np.sqrt(6.0 / (input_size + 4 * hidden_size))
    kernel = rng.uniform(-limit, limit, size=(input_size, 4 * hidden_size))
    q, r = np.linalg.qr(rng.normal(size=(4 * hidden_size, hidden_size)))
    recurrent_kernel = (q * np.sign(np.diag(r))).T
    bias = np.zeros(4 * hidden_size)
    bias[hidden_size:2 * hidden_size] = 1.0
    return kernel, recurrent_kernel, bias
