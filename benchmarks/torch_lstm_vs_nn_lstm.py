"""Training-step time of ``lstm_course.torch_lstm.LSTM`` as a ratio to ``torch.nn.LSTM``, same run.

    .venv/bin/python benchmarks/torch_lstm_vs_nn_lstm.py [--compiled] [--steps 128 --batch 32 --input 64 --hidden 256]

One thread, float32. A training step is a forward pass over the sequence and the backward pass
of ``sum(output)``. The variants, repetitions interleaved so that drifts in machine speed affect
all alike: ``nn.LSTM`` (PyTorch's C++ kernel), our LSTM with its hand-written backward (the
default), our LSTM differentiated by autograd step by step, and with ``--compiled`` our LSTM with
its cell compiled by ``torch.compile`` (``compile_cell=True``; compiling, before timing, takes
tens of seconds). Prints each median and the speed ratio ``nn.LSTM time / our time`` (1.0 =
parity); target from the course issue: at least 0.7. The last line is JSON."""

from __future__ import annotations

import json

import torch

from lstm_course.timing import training_step
from lstm_course.torch_lstm import LSTM
from timing import interleaved_medians, report_step_memory, size_parser


def main(argv=None):
    parser = size_parser(__doc__.splitlines()[0])
    parser.add_argument("--compiled", action="store_true", help="also time our LSTM with a torch.compile'd cell")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    reference = torch.nn.LSTM(args.input, args.hidden)
    models = {"nn.LSTM": reference,
              "ours, hand-written backward": LSTM(args.input, args.hidden, hand_written_backward=True),
              "ours, autograd backward": LSTM(args.input, args.hidden, hand_written_backward=False)}
    if args.compiled:
        models["ours, compiled cell"] = LSTM(args.input, args.hidden, compile_cell=True)
    for model in models.values():
        model.load_state_dict(reference.state_dict())
    x = torch.randn(args.steps, args.batch, args.input)
    workloads = {name: training_step(model, x) for name, model in models.items()}
    if args.memory_of:
        return report_step_memory(workloads, args.memory_of)
    seconds = interleaved_medians(workloads, args.repetitions)  # its warm-up rounds include any compiling
    medians = {name: 1e3 * value for name, value in seconds.items()}
    print(f"{args.threads} thread(s), float32, T={args.steps} B={args.batch} D={args.input} H={args.hidden}, "
          f"median of {args.repetitions}")
    for name, ms in medians.items():
        print(f"{name:<30} {ms:8.1f} ms   speed ratio {medians['nn.LSTM'] / ms:.2f}x")
    print(json.dumps({"benchmark": "torch_lstm_vs_nn_lstm", "median_ms": {k: round(v, 2) for k, v in medians.items()},
                      "speed_ratio": round(medians["nn.LSTM"] / medians["ours, hand-written backward"], 3),
                      "speed_ratio_autograd": round(medians["nn.LSTM"] / medians["ours, autograd backward"], 3),
                      "speed_ratios": {name: round(medians["nn.LSTM"] / ms, 3) for name, ms in medians.items()},
                      "variants": list(workloads)}))


if __name__ == "__main__":
    main()
