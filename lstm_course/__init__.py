"""Tested reference implementations for the course *LSTM from the ground up*.

Conventions used everywhere in the package:

* Sequences are time-major: ``x`` has shape ``(T, B, D)`` (steps, batch, input width).
* Weights use PyTorch's layout: ``W_ih`` is ``(G*H, D)``, ``W_hh`` is ``(G*H, H)`` and the two
  biases ``b_ih``, ``b_hh`` are ``(G*H,)``, where ``G`` is 1 for the plain RNN and 4 for the
  LSTM, whose gates are stacked in PyTorch's order ``i, f, g, o``.
"""

__version__ = "0.1.0"
