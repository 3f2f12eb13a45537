"""GRU against torch.nn.GRU, and the LSTM variants against the equations they claim."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_course.models.torch_lstm import LSTM
from lstm_course.models.variants import GRU, LSTMVariant

D, H, B, T = 4, 5, 3, 6


@pytest.mark.parametrize("config", [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True},
                                    {"bias": False}],
                         ids=["default", "2-layer-bidirectional", "batch_first", "no-bias"])
def test_gru_matches_nn_gru(config):
    torch.manual_seed(0)
    reference, ours = nn.GRU(D, H, **config).double(), GRU(D, H, **config).double()
    ours.load_state_dict(reference.state_dict())
    assert list(ours.state_dict()) == list(reference.state_dict())
    layers = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    x = torch.randn(*((B, T, D) if config.get("batch_first") else (T, B, D)), dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(layers, B, H, dtype=torch.float64, requires_grad=True)
    results = []
    for model in (reference, ours):
        output, h_n = model(x, h0)
        loss = (output**2).sum() + (h_n**3).sum()
        results.append([output, h_n, *torch.autograd.grad(loss, [x, h0, *model.parameters()])])
    for expected, actual in zip(*results, strict=True):
        torch.testing.assert_close(actual, expected, rtol=0, atol=1e-10)


def test_gru_packed_and_bad_state():
    torch.manual_seed(0)
    reference, ours = nn.GRU(D, H).double(), GRU(D, H).double()
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(T, B, D, dtype=torch.float64)
    packed = pack_padded_sequence(x, torch.tensor([6, 2, 4]), enforce_sorted=False)
    expected, h_expected = reference(packed)
    actual, h_actual = ours(packed)
    torch.testing.assert_close(pad_packed_sequence(actual)[0], pad_packed_sequence(expected)[0], rtol=0, atol=1e-12)
    torch.testing.assert_close(h_actual, h_expected, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"h0: expected shape \(num_layers \* num_directions, B, H\) = \(1, 3, 5\)"):
        ours(torch.randn(T, B, D, dtype=torch.float64), torch.zeros(1, 2, H, dtype=torch.float64))


def test_standard_variant_is_the_lstm():
    torch.manual_seed(0)
    variant = LSTMVariant(D, H, num_layers=2, variant="standard").double()
    lstm = LSTM(D, H, num_layers=2).double()
    lstm.load_state_dict(variant.state_dict())
    x = torch.randn(T, B, D, dtype=torch.float64)
    torch.testing.assert_close(variant(x)[0], lstm(x)[0], rtol=0, atol=1e-12)


def one_step(model, x_t):
    """Run a single step from zero state through the variant; return (h_1, c_1)."""
    _, (h_n, c_n) = model(x_t.unsqueeze(0))
    return h_n[0], c_n[0]


def test_variant_equations():
    torch.manual_seed(0)
    x = torch.randn(B, D, dtype=torch.float64)
    c0 = torch.randn(B, H, dtype=torch.float64)
    h0 = torch.randn(B, H, dtype=torch.float64)

    def blocks(model):
        z = x @ model.weight_ih_l0.t() + model.bias_ih_l0 + h0 @ model.weight_hh_l0.t() + model.bias_hh_l0
        return dict(zip(model.gate_names, z.chunk(model.gates, dim=1), strict=True))

    def run(model):
        _, (h_n, c_n) = model(x.unsqueeze(0), (h0.unsqueeze(0), c0.unsqueeze(0)))
        return h_n[0], c_n[0]

    with torch.no_grad():
        coupled = LSTMVariant(D, H, variant="coupled").double()
        z = blocks(coupled)
        f = torch.sigmoid(z["f"])
        c = f * c0 + (1 - f) * torch.tanh(z["g"])
        torch.testing.assert_close(run(coupled), (torch.sigmoid(z["o"]) * torch.tanh(c), c))

        no_forget = LSTMVariant(D, H, variant="no_forget_gate").double()
        z = blocks(no_forget)
        c = c0 + torch.sigmoid(z["i"]) * torch.tanh(z["g"])
        torch.testing.assert_close(run(no_forget), (torch.sigmoid(z["o"]) * torch.tanh(c), c))

        no_output = LSTMVariant(D, H, variant="no_output_gate").double()
        z = blocks(no_output)
        c = torch.sigmoid(z["f"]) * c0 + torch.sigmoid(z["i"]) * torch.tanh(z["g"])
        torch.testing.assert_close(run(no_output), (torch.tanh(c), c))

        peephole = LSTMVariant(D, H, variant="peephole").double()
        z = blocks(peephole)
        i = torch.sigmoid(z["i"] + peephole.peephole_i_l0 * c0)
        f = torch.sigmoid(z["f"] + peephole.peephole_f_l0 * c0)
        c = f * c0 + i * torch.tanh(z["g"])
        o = torch.sigmoid(z["o"] + peephole.peephole_o_l0 * c)  # the output gate sees the new cell state
        torch.testing.assert_close(run(peephole), (o * torch.tanh(c), c))


def test_forget_bias_and_bad_variant():
    model = LSTMVariant(D, H, variant="coupled", forget_bias=1.0)
    plain = LSTMVariant(D, H, variant="coupled")
    assert model.bias_ih_l0[:H].mean() > 0.5 > plain.bias_ih_l0[:H].abs().max()
    with pytest.raises(ValueError, match="variant: expected one of"):
        LSTMVariant(D, H, variant="gru")


def test_add_to_gate_bias_checks_the_block():
    with pytest.raises(ValueError, match=r"block: expected 0 <= block < 3, got 3"):
        GRU(D, H).add_to_gate_bias(3, 1.0)
