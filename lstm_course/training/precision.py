"""TF32, and one switch for both of the flags that decide whether a GPU uses it.

TF32 ("TensorFloat-32") is how NVIDIA's tensor cores (Ampere and later) multiply float32
matrices fast: each input is rounded to 10 stored mantissa bits (float16's precision, about 3
significant decimal digits) but keeps float32's 8-bit exponent, and the products are summed in
float32. NVIDIA rates that at several times the throughput of full float32 arithmetic on an A100 or
H100 (the course has not measured it), at a relative error of about ``1e-3`` per product instead of
``1e-7``.

PyTorch decides per library, and its defaults differ:

* matrix products (``torch.backends.cuda.matmul``, which our LSTM's loop uses): full float32;
* cuDNN's RNNs (``torch.backends.cudnn.rnn``, which ``nn.LSTM`` uses on a GPU): TF32.

So, left at the defaults, ``nn.LSTM`` on a GPU computes in TF32 while our LSTM computes in float32,
and a timing comparison of the two measures precision as well as code. :func:`tf32` sets both
together, and :func:`tf32_settings` says what they are. On a CPU neither flag does anything: CPUs
have no TF32 and always compute float32 products in float32.

Only PyTorch's newer per-backend settings (``fp32_precision = 'tf32'`` or ``'ieee'``) are used:
PyTorch refuses to read its older ``allow_tf32`` flags once the two interfaces are mixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

FLAGS = {"matrix products": torch.backends.cuda.matmul, "cuDNN RNNs": torch.backends.cudnn.rnn}
"""What each library's ``fp32_precision`` setting governs -> the object that holds it."""


def tf32_settings() -> dict[str, bool]:
    """Whether each of :data:`FLAGS` lets the GPU use TF32, e.g. ``{'matrix products': False, 'cuDNN RNNs': True}``.

    ``'none'`` (PyTorch's "inherit") counts as TF32 off, which is what it means for float32 matrix
    products unless someone set ``torch.backends.fp32_precision`` itself.
    """
    return {name: backend.fp32_precision == "tf32" for name, backend in FLAGS.items()}


@contextmanager
def tf32(enabled: bool) -> Iterator[None]:
    """Let both matrix products and cuDNN's RNNs use TF32 (``enabled=True``) or neither (``False``).

    Restores the previous settings on exit. Used as ``with tf32(False): ...`` around every GPU
    timing of the scaling chapter, so that ``nn.LSTM`` and our LSTM compute at the same precision.
    """
    if not isinstance(enabled, bool):
        raise ValueError(f"tf32: expected True or False, got {enabled!r}")
    previous = {name: backend.fp32_precision for name, backend in FLAGS.items()}
    try:
        for backend in FLAGS.values():
            backend.fp32_precision = "tf32" if enabled else "ieee"
        yield
    finally:
        for name, backend in FLAGS.items():
            backend.fp32_precision = previous[name]
