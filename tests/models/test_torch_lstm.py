"""lstm_course.models.torch_lstm against torch.nn.LSTM / nn.LSTMCell with copied weights (float64, 1e-10)."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course.models import torch_lstm
from lstm_course.models.torch_lstm import LSTM, LSTMCell

D, H, B, T = 4, 5, 3, 7
CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"batch_first": True},
    {"num_layers": 3, "bidirectional": True, "batch_first": True},
    {"bias": False},
    {"num_layers": 2, "dropout": 0.5},  # dropout is inactive in eval mode, as in nn.LSTM
]


def pair(hand_written_backward=True, **config):
    torch.manual_seed(0)
    reference = nn.LSTM(D, H, **config).double().eval()
    ours = LSTM(D, H, **config, hand_written_backward=hand_written_backward).double().eval()
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def outputs_and_gradients(model, x, state, loss_of=lambda out: (out**2).sum()):
    output, (h_n, c_n) = model(x, state)
    padded = pad_packed_sequence(output)[0] if isinstance(output, torch.nn.utils.rnn.PackedSequence) else output
    loss = loss_of(padded) + h_n.sum() + (c_n**3).sum()
    leaves = [tensor for tensor in [x if isinstance(x, torch.Tensor) else None, *state] if tensor is not None]
    grads = torch.autograd.grad(loss, leaves + list(model.parameters()), retain_graph=True)
    return [padded, h_n, c_n, *grads]


@pytest.mark.parametrize("hand_written_backward", [True, False], ids=["hand-written", "autograd"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_outputs_and_gradients_match_nn_lstm(config, hand_written_backward):
    reference, ours = pair(hand_written_backward, **config)
    layers = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    shape = (B, T, D) if config.get("batch_first") else (T, B, D)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    state = tuple(torch.randn(layers, B, H, dtype=torch.float64, requires_grad=True) for _ in range(2))
    expected_all, actual_all = outputs_and_gradients(reference, x, state), outputs_and_gradients(ours, x, state)
    for expected, actual in zip(expected_all, actual_all, strict=True):
        torch.testing.assert_close(actual, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("hand_written_backward", [True, False], ids=["hand-written", "autograd"])
def test_packed_variable_length_batch_matches_nn_lstm(hand_written_backward):
    reference, ours = pair(hand_written_backward, num_layers=2, bidirectional=True)
    x = torch.randn(T, B, D, dtype=torch.float64, requires_grad=True)
    state = tuple(torch.randn(4, B, H, dtype=torch.float64, requires_grad=True) for _ in range(2))
    packed = pack_padded_sequence(x, torch.tensor([4, 7, 2]), enforce_sorted=False)
    expected = outputs_and_gradients(reference, packed, state)
    actual = outputs_and_gradients(ours, packed, state)
    for want, got in zip(expected, actual, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


def test_default_state_and_unbatched_input():
    reference, ours = pair()
    x = torch.randn(T, D, dtype=torch.float64)
    expected, (h_n, c_n) = reference(x)
    actual, (our_h, our_c) = ours(x)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-10)
    assert our_h.shape == h_n.shape == (1, H) and our_c.shape == c_n.shape


def test_state_dict_loads_both_ways_with_identical_names():
    reference = nn.LSTM(D, H, num_layers=2, bidirectional=True)
    ours = LSTM(D, H, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(reference.state_dict())
    reference.load_state_dict(ours.state_dict())


def test_lstm_cell_matches_nn_lstm_cell():
    torch.manual_seed(0)
    reference, ours = nn.LSTMCell(D, H).double(), LSTMCell(D, H).double()
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(B, D, dtype=torch.float64)
    state = (torch.randn(B, H, dtype=torch.float64), torch.randn(B, H, dtype=torch.float64))
    for expected, actual in zip(reference(x, state), ours(x, state), strict=True):
        torch.testing.assert_close(actual, expected, rtol=0, atol=1e-10)
    for expected, actual in zip(reference(x[0]), ours(x[0]), strict=True):
        torch.testing.assert_close(actual, expected, rtol=0, atol=1e-10)


def test_dropout_is_applied_in_training_mode_only():
    torch.manual_seed(0)
    model = LSTM(D, H, num_layers=2, dropout=0.9)
    x = torch.randn(T, B, D)
    model.eval()
    assert torch.equal(model(x)[0], model(x)[0])
    model.train()
    assert not torch.equal(model(x)[0], model(x)[0])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m(torch.randn(T, B, D + 1)), r"input: expected the last dimension to be input_size=4"),
        (lambda m: m(torch.randn(T, B, D, 1)), r"input: expected 3 dimensions \(T, B, D\)"),
        (lambda m: m(torch.randn(T, B, D), (torch.zeros(1, B + 1, H), torch.zeros(1, B, H))),
         r"h0: expected shape \(num_layers \* num_directions, B, H\) = \(1, 3, 5\), got \(1, 4, 5\)"),
        (lambda m: m(torch.randn(T, B, D), (torch.zeros(1, B, H), torch.zeros(2, B, H))),
         r"c0: expected shape .* = \(1, 3, 5\), got \(2, 3, 5\)"),
    ],
)
def test_bad_input_names_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call(LSTM(D, H))


def test_constructor_rejects_bad_sizes():
    with pytest.raises(ValueError, match="hidden_size: expected a positive integer, got 0"):
        LSTM(D, 0)
    with pytest.raises(ValueError, match=r"dropout: expected a probability in \[0, 1\], got 1.5"):
        LSTM(D, H, dropout=1.5)


def test_the_compiled_cell_matches_nn_lstm():
    torch.manual_seed(0)
    reference = nn.LSTM(D, H, num_layers=2).double()
    ours = LSTM(D, H, num_layers=2, compile_cell=True).double()
    ours.load_state_dict(reference.state_dict())
    assert not ours.hand_written_backward
    x = torch.randn(T, B, D, dtype=torch.float64, requires_grad=True)
    state = tuple(torch.randn(2, B, H, dtype=torch.float64, requires_grad=True) for _ in range(2))
    for want, got in zip(outputs_and_gradients(reference, x, state), outputs_and_gradients(ours, x, state),
                         strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="cannot be combined with hand_written_backward=True"):
        LSTM(D, H, compile_cell=True, hand_written_backward=True)


def test_without_the_hand_written_backward_the_default_is_autograd(monkeypatch):
    """Without the instructor's package (the student edition's case) LSTM runs autograd, and says so if asked."""
    monkeypatch.setattr(torch_lstm, "hand_written_backward_available", lambda: False)
    assert torch_lstm.LSTM(3, 4).hand_written_backward is False
    with pytest.raises(ValueError, match="needs the instructor's package .lstm_instructor."):
        torch_lstm.LSTM(3, 4, hand_written_backward=True)
