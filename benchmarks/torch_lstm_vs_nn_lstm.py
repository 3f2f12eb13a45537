"""Training-step time of ``lstm_course.models.torch_lstm.LSTM`` as a ratio to ``torch.nn.LSTM``, and to its floor.

    .venv/bin/python benchmarks/torch_lstm_vs_nn_lstm.py [--compiled] [--steps 128 --batch 32 --input 64 --hidden 256]

One thread, float32. A training step is a forward pass over the sequence and the backward pass
of ``sum(output)``. The variants, repetitions interleaved so that drifts in machine speed affect
all alike: ``nn.LSTM`` (PyTorch's C++ kernel), our LSTM with its hand-written backward (the
default), our LSTM differentiated by autograd step by step, and with ``--compiled`` our LSTM with
its cell compiled by ``torch.compile`` (``compile_cell=True``; compiling, before timing, takes
tens of seconds). Timed in the same rounds: their matrix-product floors (``floors.py``), the same
matrix products done alone with PyTorch: those of our hand-written backward, those of autograd
(which the compiled cell shares), and for ``nn.LSTM`` those of the hand-written backward plus the
input gradient. Prints each variant's median, its floor, time / floor, the share of its time
above the floor and the speed ratio ``nn.LSTM time / our time`` (1.0 = parity); target from the
course issue: at least 0.8 for the hand-written backward. The last line is JSON."""

from __future__ import annotations

import json

import torch

from floors import torch_products
from lstm_course.training.timing import training_step
from lstm_course.models.torch_lstm import LSTM
from timing import floor_columns, interleaved_medians, report_step_memory, size_parser

TARGET_SPEED_RATIO = 0.8
"""The course issue's target: our hand-written backward's step at least this fraction of ``nn.LSTM``'s speed."""
FLOOR_OF = {"nn.LSTM": "nn.LSTM floor", "ours, hand-written backward": "hand-written floor",
            "ours, autograd backward": "autograd floor", "ours, compiled cell": "autograd floor"}
"""Each variant's floor workload, by name."""


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
    sizes = args.steps, args.batch, args.input, args.hidden
    floors = {"nn.LSTM floor": torch_products(*sizes, input_gradient=True),
              "hand-written floor": torch_products(*sizes), "autograd floor": torch_products(*sizes, by_autograd=True)}
    seconds = interleaved_medians(workloads | floors, args.repetitions)  # its warm-up rounds include any compiling
    medians = {name: 1e3 * seconds[name] for name in workloads}
    columns = floor_columns(medians, {name: 1e3 * seconds[FLOOR_OF[name]] for name in workloads})
    print(f"{args.threads} thread(s), float32, T={args.steps} B={args.batch} D={args.input} H={args.hidden}, "
          f"median of {args.repetitions}")
    print(f"{'training step':<30} {'time':>8} {'floor':>11} {'time/floor':>10} {'above floor':>11} {'speed ratio':>11}")
    for name, ms in medians.items():
        target = f"   target >= {TARGET_SPEED_RATIO:.2f}x" if name == "ours, hand-written backward" else ""
        print(f"{name:<30} {ms:5.1f} ms {columns['floor_ms'][name]:8.1f} ms {columns['time_over_floor'][name]:9.2f}x "
              f"{columns['share_above_floor'][name]:10.0%} {medians['nn.LSTM'] / ms:10.2f}x{target}")
    print("floors: the same matrix products alone, in PyTorch (MKL); nn.LSTM runs oneDNN's own products")
    print(json.dumps({"benchmark": "torch_lstm_vs_nn_lstm", "median_ms": {k: round(v, 2) for k, v in medians.items()},
                      "speed_ratio": round(medians["nn.LSTM"] / medians["ours, hand-written backward"], 3),
                      "speed_ratio_autograd": round(medians["nn.LSTM"] / medians["ours, autograd backward"], 3),
                      "speed_ratios": {name: round(medians["nn.LSTM"] / ms, 3) for name, ms in medians.items()},
                      **columns, "target_speed_ratio": TARGET_SPEED_RATIO, "variants": list(workloads)}))


if __name__ == "__main__":
    main()
