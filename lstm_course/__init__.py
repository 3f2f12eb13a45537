"""Tested reference implementations for the course *LSTM from the ground up*: the student's library.

Its folders follow the course: ``scratch`` (the RNN and the LSTM in NumPy, chapters 1 to 6),
``models`` (the PyTorch models), ``tasks`` (the tasks and their data), ``training`` (the loops and
measurements), ``forecasting`` (chapter 13's forecasters), ``experiments`` (what writes
``results/``), ``pictures`` (the diagrams and the gate colours), ``exercises`` (the public checks and
their inputs), ``plumbing`` (notebook set-up, runtime, the book) and ``cli`` (``python -m lstm_course``).
The instructor's machinery (grader, sandbox, student edition) is the separate package ``lstm_instructor``.

Conventions used everywhere in the package:

* Sequences are time-major: ``x`` has shape ``(T, B, D)`` (steps, batch, input width).
* Weights use PyTorch's layout: ``W_ih`` is ``(G*H, D)``, ``W_hh`` is ``(G*H, H)`` and the two
  biases ``b_ih``, ``b_hh`` are ``(G*H,)``, where ``G`` is 1 for the plain RNN and 4 for the
  LSTM, whose gates are stacked in PyTorch's order ``i, f, g, o``.
"""

__version__ = "0.1.0"
