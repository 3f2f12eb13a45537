"""Replaying a whole training step as one CUDA graph: one launch instead of thousands.

Our LSTM is a Python loop, and every tensor operation in it that computes something is a separate
GPU kernel: the scaling chapter's profiler counts about thirty operations per time step and layer,
forward and backward, so thousands per training step on long sequences. Launching one costs the
CPU time (Python, PyTorch's dispatcher, the CUDA driver) whatever the kernel's size; the chapter
measures that cost on the device it runs on. At the chapter's sizes we expect many of these
kernels to take less time to run than to launch, so that the GPU waits for the CPU and the step is
*launch-bound*. That is a prediction, not a measurement (no GPU run of the chapter is recorded):
executed on a GPU, the chapter tests it with its launch share and with its CUDA-graph rows against
the plain ones.

A CUDA graph removes the CPU from the loop. While a graph is being *captured*, the kernels a piece
of code launches are not run but recorded, with their arguments: which kernel, the grid, and the
memory addresses it reads and writes. *Replaying* the graph launches the whole recording with one
call. What that requires of the recorded code:

* the same shapes and the same memory every time: replaying writes to the addresses captured, so
  new data goes into the captured input tensors (``static_input.copy_(batch)``), and results are
  read from the tensors the capture produced;
* no synchronisation with the CPU inside (no ``.item()``, no ``print`` of a GPU value, no
  ``torch.cuda.synchronize``), and no Python decision that depends on a GPU value: Python runs
  only during the capture, so a branch is frozen as it was taken then;
* a few warm-up calls first, on a side stream, so that lazy initialisation (cuBLAS handles,
  autograd's buffers, ``torch.compile``) happens outside the capture.

PyTorch's documentation, "CUDA Graphs" (``torch.cuda.graph``), has the details.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lstm_course.training.timing import finished, forward_backward


def capture(step: Callable[[], object], warmup: int = 3) -> Callable[[], object]:
    """Record ``step`` (no arguments; it reads and writes fixed tensors on the current GPU) as a CUDA graph.

    Runs ``step`` ``warmup`` times on a side stream, then once more under capture, and returns a
    function that replays the recording and returns what the captured call returned (the same
    tensors every time, overwritten by each replay). On a machine without a CUDA GPU this raises
    ``RuntimeError``: there is nothing to record, and the step itself is what to run.
    """
    if not torch.cuda.is_available():
        raise RuntimeError(f"CUDA graphs need a CUDA GPU, and PyTorch {torch.__version__} sees none: "
                           f"run the step itself on this machine")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 1:
        raise ValueError(f"warmup: expected a positive integer, got {warmup!r}")
    side_stream = torch.cuda.Stream()
    side_stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side_stream):
        for _ in range(warmup):
            step()
    torch.cuda.current_stream().wait_stream(side_stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        captured = step()

    def replay() -> object:
        graph.replay()
        return captured

    replay.graph = graph  # kept alive with the function
    return replay


def graphed_training_step(model, inputs: torch.Tensor) -> Callable[[], None]:
    """:func:`lstm_course.training.timing.training_step`, captured once and replayed: same work, one launch.

    ``model``: an LSTM on the GPU; ``inputs``: ``(T, B, D)`` on the same GPU. After each call the
    parameters' ``.grad`` hold the step's gradients (the tensors the capture allocated). The
    function waits for the GPU, as ``training_step`` does, so that timing it measures the work.
    """
    if inputs.device.type != "cuda":
        raise RuntimeError(f"graphed_training_step: CUDA graphs need inputs on a CUDA GPU, got inputs on "
                           f"{inputs.device}")
    return finished(capture(forward_backward(model, inputs)), inputs.device)
