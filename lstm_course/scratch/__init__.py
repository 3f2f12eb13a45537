"""From scratch in NumPy: the RNN and the LSTM as their equations read, then fast, with their gradients.

The textbook versions first (``plain_rnn``, ``plain_lstm``: a few lines, no validation), then the
validated, buffered ones the later chapters run (``numpy_rnn``, ``numpy_lstm``), the activations they
share, and the tools that check and train them: central differences (``gradcheck``), gradient-norm
clipping (``clipping``), how much gradient reaches earlier steps (``gradient_flow``), autograd's
gradients for comparison (``autograd_gradients``) and Adam written out (``optim``).

Chapters 1 to 6 (the RNN, the gates one by one, the LSTM and its backpropagation through time);
chapter 7 compares ``numpy_lstm`` with PyTorch and chapter 9 reuses ``activations``; the benchmarks
time ``numpy_lstm``.
"""
