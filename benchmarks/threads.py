"""One thread or two? Times the course's typical workloads at 1 and 2 threads in the same run.

    .venv/bin/python benchmarks/threads.py

Prints the median of 5 repetitions for each workload and thread count, and the speed-up of two
threads over one. The notebooks pin one thread regardless (see README.md, "Threads").
"""

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from lstm_course.scratch import gradient_flow
from timing import interleaved_medians


def chapter_1_gradient_sweep():
    inputs = np.random.default_rng(0).normal(size=(100, 16, 8))
    for radius in (0.5, 0.9, 1.0, 1.5, 3.0):
        params = gradient_flow.random_rnn_weights(8, 64, radius, np.random.default_rng(1))
        gradient_flow.rnn_gradient_norms_by_lag(params, inputs)


def torch_lstm_training_step():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(64, 256)
    output, _ = lstm(torch.randn(128, 32, 64))
    output.sum().backward()


def main():
    workloads = {
        "chapter 1 RNN gradient sweep (NumPy, H=64, T=100)": chapter_1_gradient_sweep,
        "nn.LSTM fwd+bwd (T=128, B=32, D=64, H=256)": torch_lstm_training_step,
    }
    print(f"{'workload':<52} {'1 thread':>9} {'2 threads':>10} {'speed-up':>9}")
    for name, workload in workloads.items():
        seconds = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            with threadpool_limits(threads):
                seconds[threads] = interleaved_medians({"workload": workload}, repetitions=5, warmup=1)["workload"]
        print(f"{name:<52} {seconds[1] * 1e3:>7.0f}ms {seconds[2] * 1e3:>8.0f}ms {seconds[1] / seconds[2]:>8.2f}x")


if __name__ == "__main__":
    main()
