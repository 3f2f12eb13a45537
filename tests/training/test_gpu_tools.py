"""The scaling chapter's GPU tools, on the CPU: the TF32 switch, and CUDA graphs' clear refusal without a GPU.

What only a GPU can check is not tested here: that a captured step's gradients equal the plain
step's, and how fast it runs. Chapter 15, executed on a GPU, times the captured step next to the
plain one; no GPU run of it is recorded.
"""

import pytest
import torch

from lstm_course.models.torch_lstm import LSTM
from lstm_course.training import cuda_graphs, precision
from lstm_course.training.timing import finished, forward_backward, training_step


def test_tf32_sets_both_flags_together_and_restores_them():
    before = precision.tf32_settings()
    assert set(before) == {"matrix products", "cuDNN RNNs"}
    for enabled in (True, False):
        with precision.tf32(enabled):
            assert precision.tf32_settings() == {"matrix products": enabled, "cuDNN RNNs": enabled}
    assert precision.tf32_settings() == before
    with pytest.raises(KeyError), precision.tf32(True):
        raise KeyError("inside")
    assert precision.tf32_settings() == before


def test_pytorch_defaults_differ_which_is_why_the_chapter_sets_them():
    """What a fresh PyTorch does: float32 products, TF32 in cuDNN's RNNs (the unfairness issue 19 found)."""
    assert precision.tf32_settings() == {"matrix products": False, "cuDNN RNNs": True}


@pytest.mark.parametrize("enabled", [1, "yes", None])
def test_tf32_refuses_anything_but_a_bool(enabled):
    with pytest.raises(ValueError, match="expected True or False"), precision.tf32(enabled):
        pass


def test_capture_without_a_gpu_is_a_one_line_error():
    with pytest.raises(RuntimeError, match="CUDA graphs need a CUDA GPU") as raised:
        cuda_graphs.capture(lambda: None)
    assert "\n" not in str(raised.value)
    model = LSTM(3, 4)
    with pytest.raises(RuntimeError, match="inputs on a CUDA GPU, got inputs on cpu"):
        cuda_graphs.graphed_training_step(model, torch.zeros(2, 1, 3))


def test_training_step_is_forward_backward_then_waiting():
    torch.manual_seed(0)
    model, inputs = LSTM(3, 4), torch.randn(5, 2, 3)
    training_step(model, inputs)()
    first = [parameter.grad.clone() for parameter in model.parameters()]
    finished(forward_backward(model, inputs), "cpu")()  # gradients replaced, not accumulated
    for before, parameter in zip(first, model.parameters(), strict=True):
        assert torch.equal(before, parameter.grad)
