"""Chapter 6's exercise, an LSTM's backpropagation through time, in PyTorch form: the instructor's fast path.

:class:`HandWrittenBackward` runs one direction of :class:`lstm_course.models.torch_lstm.LSTM`'s layers
with the backward pass written out. It answers chapter 6's ``lstm_backward`` exercise, so it lives
here, outside the student's library: ``torch_lstm`` uses it when this package is installed (the
instructor's checkout, the benchmarks, chapter 15's timings) and the autograd loop otherwise.
"""

from __future__ import annotations

import torch


class HandWrittenBackward(torch.autograd.Function):
    """:func:`run_direction` with backpropagation through time written out, as in ``numpy_lstm``.

    Autograd would record about a dozen operations per step and replay them backwards one by one.
    Here the forward pass runs without recording and keeps the gate activations; the backward pass
    computes each step's gradient directly from them, with as little as possible left inside its
    loop over steps; the recurrent-weight gradient, a sum over all steps, is one matrix product
    after the loop. Both passes write into tensors allocated once per call (``out=``, in-place
    operations): a small tensor allocated per step costs more than the arithmetic done on it.
    Same inputs and outputs as :func:`run_direction` (first-order gradients only).
    """

    @staticmethod
    def forward(ctx, input_projection, h0, c0, weight_hh, lengths):
        num_steps, batch_size, _ = input_projection.shape
        hidden_size = h0.shape[1]
        activations = torch.empty_like(input_projection)  # (T, B, 4H), gates i, f, g, o after their nonlinearity
        states_h = input_projection.new_empty(num_steps, batch_size, hidden_size)
        states_c, tanh_cs = torch.empty_like(states_h), torch.empty_like(states_h)
        masks = None if lengths is None else (torch.arange(num_steps, device=h0.device).unsqueeze(1) < lengths)
        outputs = None if masks is None else torch.empty_like(states_h)  # unmasked, the outputs are states_h
        weight_hh_t = weight_hh.t()
        h, c = h0, c0
        for t in range(num_steps):
            # gate_activations and cell_and_hidden, written in place into this step's rows of the caches.
            gates = torch.addmm(input_projection[t], h, weight_hh_t, out=activations[t])
            input_and_forget, candidate, output_gate = gates.split([2 * hidden_size, hidden_size, hidden_size], dim=1)
            input_and_forget.sigmoid_(), candidate.tanh_(), output_gate.sigmoid_()
            input_gate, forget_gate = input_and_forget.chunk(2, dim=1)
            c_new = torch.mul(forget_gate, c, out=states_c[t]).addcmul_(input_gate, candidate)
            h_new = torch.mul(output_gate, torch.tanh(c_new, out=tanh_cs[t]), out=states_h[t])
            if masks is not None:  # a finished sequence keeps its state, and outputs zeros
                active = masks[t].unsqueeze(1)
                torch.mul(h_new, active, out=outputs[t])
                h_new.copy_(torch.where(active, h_new, h))
                c_new.copy_(torch.where(active, c_new, c))
            h, c = h_new, c_new
        ctx.save_for_backward(activations, states_h, states_c, tanh_cs, h0, c0, weight_hh,
                              masks if masks is not None else torch.empty(0))
        ctx.masked = masks is not None
        if masks is None:  # the caller gets copies, which it may change in place without touching the caches
            outputs = states_h.clone()
        return outputs, h.clone(), c.clone()

    @staticmethod
    def backward(ctx, d_outputs, d_h_last, d_c_last):
        activations, states_h, states_c, tanh_cs, h0, c0, weight_hh, masks = ctx.saved_tensors
        num_steps, batch_size, hidden_size = states_h.shape
        input_gate, forget_gate, candidate, output_gate = activations.chunk(4, dim=2)  # views, (T, B, H) each
        # Before the loop, for all steps at once: every factor of the pre-activations' gradient d_z
        # that does not depend on the gradients flowing back. With the slopes s (1 - s) (sigmoid)
        # and 1 - g^2 (tanh) written in terms of the cached gates, d_z is
        #     [d_c * g i(1-i),  d_c * c_prev f(1-f),  d_c * i (1-g^2),  d_h * tanh(c) o(1-o)],
        # so each block is one factor, computed here, times d_c or d_h, multiplied in by the loop.
        d_preactivations = (1 - activations).mul_(activations)  # s (1 - s); the candidate's block is replaced next
        d_i, d_f, d_g, d_o = d_preactivations.chunk(4, dim=2)  # views into d_preactivations
        one = activations.new_ones(())  # addcmul(one, a, b, value=-1) is 1 - a b, in one pass
        torch.addcmul(one, candidate, candidate, value=-1, out=d_g)  # 1 - g^2
        d_i.mul_(candidate)
        d_f[1:].mul_(states_c[:-1])  # c_prev: the cached cell states one step back, c0 at the first step
        d_f[0].mul_(c0)
        d_g.mul_(input_gate)
        d_o.mul_(tanh_cs)
        h_to_c = torch.addcmul(one, tanh_cs, tanh_cs, value=-1).mul_(output_gate)  # d_h reaches c_t as o (1 - tanh^2 c)
        d_i_f_g = d_preactivations[..., :3 * hidden_size].view(num_steps, batch_size, 3, hidden_size)
        d_h = torch.zeros_like(h0) if d_h_last is None else d_h_last
        d_c = torch.zeros_like(c0) if d_c_last is None else d_c_last
        for t in reversed(range(num_steps)):
            d_h_step = d_h + d_outputs[t]
            d_c_step = d_c
            if ctx.masked:  # a finished sequence passes its state gradients straight through
                active = masks[t].unsqueeze(1)
                d_h_step, d_c_step = d_h_step * active, d_c_step * active
                d_h_skip, d_c_skip = d_h * ~active, d_c * ~active
            d_c_step = torch.addcmul(d_c_step, d_h_step, h_to_c[t])  # through h = o tanh(c)
            d_i_f_g[t].mul_(d_c_step.unsqueeze(1))  # the gates i, f and g: their factor times d_c
            d_o[t].mul_(d_h_step)  # the output gate: its factor times d_h
            d_h = d_preactivations[t] @ weight_hh
            d_c = d_c_step * forget_gate[t]  # the carousel
            if ctx.masked:
                d_h, d_c = d_h + d_h_skip, d_c + d_c_skip
        h_prevs = torch.cat([h0.unsqueeze(0), states_h[:-1]])
        d_weight_hh = d_preactivations.reshape(-1, 4 * hidden_size).t() @ h_prevs.reshape(-1, hidden_size)
        return d_preactivations, d_h, d_c, d_weight_hh, None
