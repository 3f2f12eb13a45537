"""Train the encoder-decoder on string reversal, and measure its accuracy against the input's length.

    model, result = train(Seq2SeqConfig(attention=True, seed=0))
    scores = accuracy_by_length(model, lengths=[5, 10, 20])

Training is :func:`lstm_course.supervised.fit` (the shared loop) on fresh random strings, with the
teacher-forced loss; the weights kept are those with the lowest teacher-forced loss on a fixed
validation set. :func:`accuracy_by_length` decodes fixed test strings of each length (greedy, beam
search, or teacher-forced) and scores whole outputs and single characters. :func:`sweep` runs
the chapter's comparison over seeds (:func:`sweep_rows`; ``python -m lstm_course seq2seq``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from lstm_course import reversal
from lstm_course.seq2seq import END, PAD, Seq2Seq, beam_search, greedy_decode, sequence_loss
from lstm_course.supervised import FitConfig, FitResult, fit
from lstm_course.validation import positive_int, positive_number, seed_value

VALIDATION_SEED, TEST_SEED = 1_000_001, 1_000_002
"""The fixed strings every model is validated and tested on (independent of the training seed)."""
VALIDATION_STRINGS = 512
TEST_LENGTHS = tuple(range(2, 31, 2))
"""Test lengths: training covers 1 to 20 letters by default, so 22 to 30 are longer than any seen."""
TEST_STRINGS = 256
"""Test strings per length."""
DECODINGS = ("greedy", "beam", "teacher-forced")


@dataclass
class Seq2SeqConfig:
    """One run: the model's size, the training lengths, the budget in steps and Adam's learning rate.

    :func:`sweep` tunes the learning rate of each model on the validation loss (chapter 12 reads the
    result, ``results/seq2seq_seed_runs.json``); 1e-2 was the best for the model with attention.
    """

    attention: bool = True
    hidden_size: int = 64
    embedding_size: int = 32
    min_length: int = 1
    max_length: int = 20
    batch_size: int = 64
    steps: int = 500
    lr: float = 1e-2
    eval_every: int = 100
    seed: int = 0

    def __post_init__(self):
        for name in ("hidden_size", "embedding_size", "min_length", "max_length", "batch_size", "steps",
                     "eval_every"):
            positive_int(name, getattr(self, name))
        if self.max_length < self.min_length:
            raise ValueError(f"max_length: expected at least min_length = {self.min_length}, got {self.max_length}")
        positive_number("lr", self.lr)
        seed_value("seed", self.seed)


def build_model(config: Seq2SeqConfig) -> Seq2Seq:
    """A fresh model for ``config``, its initial weights drawn from ``config.seed``."""
    torch.manual_seed(config.seed)
    return Seq2Seq(reversal.VOCABULARY_SIZE, config.embedding_size, config.hidden_size, config.attention)


def teacher_forced_loss(model: Seq2Seq, batch: reversal.Batch) -> torch.Tensor:
    """The training loss: mean cross-entropy of each target token, the decoder fed the true previous token."""
    logits, _ = model(batch.source, batch.source_lengths, batch.decoder_inputs)
    return sequence_loss(logits, batch.targets)


def validation_batch(config: Seq2SeqConfig) -> reversal.Batch:
    """:data:`VALIDATION_STRINGS` fixed strings of the training lengths."""
    rng = np.random.default_rng(VALIDATION_SEED)
    return reversal.make_batch(reversal.random_strings(rng, VALIDATION_STRINGS, config.min_length, config.max_length))


def train(config: Seq2SeqConfig, progress_bar: bool = False,
          log: Callable[[str], None] | None = None) -> tuple[Seq2Seq, FitResult]:
    """Train a fresh model on ``config.steps`` batches of fresh strings; returns it with the best validation loss."""
    model = build_model(config)
    validation = validation_batch(config)
    result = fit(model, lambda rng: reversal.draw_batch(rng, config.batch_size, config.min_length, config.max_length),
                 teacher_forced_loss, FitConfig(steps=config.steps, lr=config.lr, eval_every=config.eval_every,
                                                seed=config.seed),
                 lambda model: float(teacher_forced_loss(model, validation)), progress_bar=progress_bar, log=log,
                 description="attention" if config.attention else "no attention")
    return model, result


def fixed_test_strings(length: int, count: int = TEST_STRINGS) -> list[str]:
    """The fixed test strings of one length (the same for every model)."""
    return reversal.random_strings(np.random.default_rng([TEST_SEED, length]), count, length, length)


@torch.no_grad()
def decode(model: Seq2Seq, batch: reversal.Batch, decoding: str = "greedy", beam_width: int = 5) -> torch.Tensor:
    """Output tokens ``(T, B)`` for ``batch``'s sources: ``greedy``, ``beam`` (of ``beam_width``) or ``teacher-forced``.

    ``teacher-forced`` is not a way to decode: each step's token is the model's best guess given the
    *true* previous tokens, what training measures. The decoders get ``T`` = longest target + 1 steps.
    """
    if decoding not in DECODINGS:
        raise ValueError(f"decoding: expected one of {DECODINGS}, got {decoding!r}")
    model.eval()
    max_steps = batch.targets.shape[0] + 1
    if decoding == "greedy":
        return greedy_decode(model, batch.source, batch.source_lengths, max_steps)[0]
    if decoding == "beam":
        return beam_search(model, batch.source, batch.source_lengths, beam_width, max_steps)[0]
    logits, _ = model(batch.source, batch.source_lengths, batch.decoder_inputs)
    return logits.argmax(dim=-1).masked_fill(batch.targets == PAD, PAD)


def score(outputs: torch.Tensor, targets: torch.Tensor) -> tuple[float, float]:
    """``(sequence accuracy, character accuracy)`` of outputs ``(T', B)`` against targets ``(T, B)``.

    A sequence is right if its output equals its target up to and including ``END``. Character
    accuracy is the fraction of target letters (not ``END``) that the output has at the same position.
    """
    steps = max(outputs.shape[0], targets.shape[0])
    outputs = torch.nn.functional.pad(outputs, (0, 0, 0, steps - outputs.shape[0]), value=PAD)
    targets = torch.nn.functional.pad(targets, (0, 0, 0, steps - targets.shape[0]), value=PAD)
    real = targets != PAD
    matches = (outputs == targets) & real
    letters = real & (targets != END)
    right_sequences = int((matches.sum(0) == real.sum(0)).sum())
    return right_sequences / targets.shape[1], int((matches & letters).sum()) / int(letters.sum())


def accuracy_by_length(model: Seq2Seq, lengths: Sequence[int] = TEST_LENGTHS, decoding: str = "greedy",
                       beam_width: int = 5, count: int = TEST_STRINGS) -> dict[str, list]:
    """``{"length": [...], "sequence": [...], "character": [...]}`` on ``count`` test strings per length."""
    table = {"length": [], "sequence": [], "character": []}
    for length in lengths:
        batch = reversal.make_batch(fixed_test_strings(length, count))
        sequence, character = score(decode(model, batch, decoding, beam_width), batch.targets)
        for key, value in (("length", length), ("sequence", sequence), ("character", character)):
            table[key].append(value)
    return table


LEARNING_RATES = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
"""The learning rates :func:`sweep` tries for each model (the same effort for both)."""
LONGER_BUDGET = 6
"""How many times the steps the fourth row of :func:`sweep_rows` trains for."""


def larger_hidden_size(config: Seq2SeqConfig) -> int:
    """The smallest hidden size at which the model without attention has at least as many parameters as
    ``config``'s model with attention."""
    target = parameter_count(build_model(replace(config, attention=True)))
    hidden_size = config.hidden_size
    while parameter_count(build_model(replace(config, attention=False, hidden_size=hidden_size))) < target:
        hidden_size += 1
    return hidden_size


def sweep_rows(base: Seq2SeqConfig, lr_without_attention: float | None = None,
               lr_with_attention: float | None = None) -> dict[str, Seq2SeqConfig]:
    """The chapter's comparison: label -> configuration. The same size and budget without and with
    attention, each at its own learning rate (default ``base.lr``); then, without attention, as many
    parameters as the attention model, and six times the steps."""
    without = replace(base, attention=False, lr=lr_without_attention or base.lr)
    hidden_size = larger_hidden_size(base)
    return {"no attention": without,
            "attention": replace(base, attention=True, lr=lr_with_attention or base.lr),
            f"no attention, H = {hidden_size} (more parameters)": replace(without, hidden_size=hidden_size),
            f"no attention, {LONGER_BUDGET}x the steps": replace(without, steps=LONGER_BUDGET * base.steps)}


def parameter_count(model: torch.nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def run(config: Seq2SeqConfig, beam_width: int = 5, test_strings: int = TEST_STRINGS,
        progress_bar: bool = False) -> dict:
    """Train one model and measure it: the record :func:`sweep` writes for each run."""
    start = time.perf_counter()
    model, result = train(config, progress_bar=progress_bar)
    seconds = time.perf_counter() - start
    return {"config": asdict(config), "parameters": parameter_count(model), "train_seconds": round(seconds, 1),
            "best_validation_loss": round(result.best_validation, 5),
            "validation_history": [{key: round(value, 5) if isinstance(value, float) else value
                                    for key, value in entry.items()} for entry in result.history],
            "accuracy": {decoding: _rounded(accuracy_by_length(model, decoding=decoding, beam_width=beam_width,
                                                               count=test_strings))
                         for decoding in DECODINGS},
            "beam_width": beam_width}


def _rounded(table: dict[str, list]) -> dict[str, list]:
    return {key: [round(value, 4) if isinstance(value, float) else value for value in values]
            for key, values in table.items()}


def sweep(seeds: Sequence[int], base: Seq2SeqConfig | None = None, learning_rates: Sequence[float] = LEARNING_RATES,
          test_strings: int = TEST_STRINGS, log: Callable[[str], None] | None = None,
          progress_bar: bool = False) -> dict:
    """Tune, then compare. First, on seed 0, the validation loss without and with attention at each of
    ``learning_rates``; each model keeps its best. Then every row of :func:`sweep_rows` for every seed."""
    base, log = base or Seq2SeqConfig(), log or (lambda line: None)
    tuning, chosen = {}, {}
    for attention, label in ((False, "no attention"), (True, "attention")):
        for lr in learning_rates:
            _, result = train(replace(base, attention=attention, lr=lr, seed=0), progress_bar=progress_bar)
            tuning.setdefault(label, {})[repr(lr)] = round(result.best_validation, 5)
            log(f"{label}, lr {lr}: validation loss {result.best_validation:.4f}")
        chosen[label] = min(learning_rates, key=lambda lr, label=label: tuning[label][repr(lr)])
    rows = sweep_rows(base, chosen["no attention"], chosen["attention"])
    runs = []
    for label, config in rows.items():
        for seed in seeds:
            record = run(replace(config, seed=seed), test_strings=test_strings, progress_bar=progress_bar)
            runs.append({"label": label, **record})
            greedy = record["accuracy"]["greedy"]
            seen = [value for length, value in zip(greedy["length"], greedy["sequence"], strict=True)
                    if length <= base.max_length]
            log(f"{label}, seed {seed}: {np.mean(seen):.1%} of the test strings of training lengths right "
                f"(greedy), trained in {record['train_seconds']:.0f} s")
    return {"base_config": asdict(base), "test_strings_per_length": test_strings, "learning_rates": tuning,
            "chosen_learning_rates": chosen, "runs": runs}
