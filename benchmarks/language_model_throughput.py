"""Training throughput of the language model (characters per second), ``nn.LSTM`` inside vs ours.

    .venv/bin/python benchmarks/language_model_throughput.py [--hidden 384 --batch 32 --steps 100 --threads 1]

One training step of ``lstm_course.models.language_model.CharLSTM`` as ``train-lm`` runs it: forward over
``batch × steps`` characters, cross-entropy, backward, clipping, Adam. Both implementations start
from the same weights and step on the same random batch; repetitions are interleaved. Prints
characters per second for each and the ratio ours / ``nn.LSTM``; the last line is JSON.
"""

from __future__ import annotations

import json

import torch
from torch import nn

from lstm_course.models.language_model import CharLSTM, ModelConfig
from timing import benchmark_parser, interleaved_medians, report_step_memory

VOCABULARY_SIZE = 85


def main(argv=None):
    parser = benchmark_parser(__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=100, help="truncated-BPTT length")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    models = {name: CharLSTM(ModelConfig(VOCABULARY_SIZE, hidden_size=args.hidden, num_layers=args.layers,
                                         dropout=0.0, implementation=name)) for name in ("torch", "ours")}
    models["ours"].load_state_dict(models["torch"].state_dict())
    optimisers = {name: torch.optim.Adam(model.parameters(), lr=1e-3) for name, model in models.items()}
    ids = torch.randint(0, VOCABULARY_SIZE, (args.steps + 1, args.batch))

    def training_step(name):
        model, optimiser = models[name], optimisers[name]
        logits, _ = model(ids[:-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, VOCABULARY_SIZE), ids[1:].reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()

    workloads = {name: lambda name=name: training_step(name) for name in models}
    if args.memory_of:
        return report_step_memory(workloads, args.memory_of)
    seconds = interleaved_medians(workloads, args.repetitions)
    characters = args.batch * args.steps
    speed = {name: characters / value for name, value in seconds.items()}
    print(f"{args.threads} thread(s), {args.layers}x{args.hidden} LSTM, batches of {args.batch}x{args.steps}, "
          f"median of {args.repetitions}")
    for name, value in speed.items():
        print(f"{name:<6} {value:10,.0f} characters/s")
    print(f"speed ratio (ours / nn.LSTM): {speed['ours'] / speed['torch']:.2f}x")
    print(json.dumps({"benchmark": "language_model_throughput", "threads": args.threads,
                      "characters_per_second": {k: round(v) for k, v in speed.items()},
                      "speed_ratio": round(speed["ours"] / speed["torch"], 3), "variants": list(workloads)}))


if __name__ == "__main__":
    main()
