"""Train the encoder-decoder on string reversal, and measure its accuracy against the input's length.

    model, result = train(Seq2SeqConfig(attention=True, seed=0))
    scores = accuracy_by_length(model, lengths=[5, 10, 20])

Training is :func:`lstm_course.training.supervised.fit` (the shared loop) on fresh random strings, with the
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

from lstm_course.models.seq2seq import END, PAD, Seq2Seq, beam_search, greedy_decode, sequence_loss
from lstm_course.plumbing.validation import positive_int, positive_number, seed_value
from lstm_course.tasks import reversal
from lstm_course.training.supervised import FitConfig, FitResult, fit

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
"""The learning rates :func:`sweep` tries for each model it tunes (the same effort for every one)."""
MAX_EXTENSIONS = 3
"""How many rates past an edge of :data:`LEARNING_RATES` :func:`search_learning_rate` may add."""
LONGER_BUDGET = 6
"""How many times the steps the row ``longer`` of :func:`sweep_rows` trains for."""
WIDE_HIDDEN_SIZE = 256
"""The hidden size of the row ``wide``: four times the base's units, a state of 512 numbers."""
ROWS = ("plain", "attention", "matched", "longer", "wide")
"""The rows :func:`sweep_rows` can build (``python -m lstm_course seq2seq --rows``): ``plain`` and ``attention``,
without and with attention; then controls without attention: ``matched``, as many parameters as the model with attention
(is it the parameters?); ``longer``, :data:`LONGER_BUDGET` times the steps (is it training?); ``wide``,
:data:`WIDE_HIDDEN_SIZE` units (is it capacity?)."""
DEFAULT_ROWS = ROWS[:4]
"""The rows of ``results/seq2seq_seed_runs.json``; ``wide`` is in ``results/seq2seq_wide_control.json``."""
TUNED_BY = {"plain": "plain", "attention": "attention", "matched": "plain", "longer": "plain", "wide": "wide"}
"""Whose learning-rate search each row takes its rate from: ``matched`` and ``longer`` reuse the one of the
model without attention, ``wide`` has its own (the rate that suits 64 units need not suit 256)."""


def larger_hidden_size(config: Seq2SeqConfig) -> int:
    """The smallest hidden size at which the model without attention has at least as many parameters as
    ``config``'s model with attention."""
    target = parameter_count(build_model(replace(config, attention=True)))
    hidden_size = config.hidden_size
    while parameter_count(build_model(replace(config, attention=False, hidden_size=hidden_size))) < target:
        hidden_size += 1
    return hidden_size


def labelled_rows(base: Seq2SeqConfig, rates: dict[str, float] | None = None,
                  wide_hidden_size: int = WIDE_HIDDEN_SIZE) -> dict[str, tuple[str, Seq2SeqConfig]]:
    """Every row of :data:`ROWS`: key -> ``(label, configuration)``. ``rates``: the learning rate of each
    searched model, by the keys of :data:`TUNED_BY`'s values (default ``base.lr``)."""
    positive_int("wide_hidden_size", wide_hidden_size)
    rates = rates or {}
    without = replace(base, attention=False, lr=rates.get("plain") or base.lr)
    matched = larger_hidden_size(base)
    return {"plain": ("no attention", without),
            "attention": ("attention", replace(base, attention=True, lr=rates.get("attention") or base.lr)),
            "matched": (f"no attention, H = {matched} (more parameters)", replace(without, hidden_size=matched)),
            "longer": (f"no attention, {LONGER_BUDGET}x the steps", replace(without, steps=LONGER_BUDGET * base.steps)),
            "wide": (f"no attention, H = {wide_hidden_size} (wide)",
                     replace(without, hidden_size=wide_hidden_size, lr=rates.get("wide") or base.lr))}


def sweep_rows(base: Seq2SeqConfig, lr_without_attention: float | None = None,
               lr_with_attention: float | None = None, lr_wide: float | None = None,
               rows: Sequence[str] = DEFAULT_ROWS,
               wide_hidden_size: int = WIDE_HIDDEN_SIZE) -> dict[str, Seq2SeqConfig]:
    """The chapter's comparison: label -> configuration, for the keys ``rows`` of :data:`ROWS`. By default the
    same size and budget without and with attention, each at its own learning rate (default ``base.lr``);
    then, without attention, as many parameters as the attention model, and six times the steps. The row
    ``wide`` (``wide_hidden_size`` units, at ``lr_wide``) is asked for by name."""
    table = labelled_rows(base, {"plain": lr_without_attention, "attention": lr_with_attention,
                                 "wide": lr_wide}, wide_hidden_size)
    return dict(table[row] for row in checked_rows(rows))


def checked_rows(rows: Sequence[str]) -> list[str]:
    """``rows``, keys of :data:`ROWS`, without repeats (a one-line error for an empty or unknown one)."""
    if isinstance(rows, str) or not rows or any(row not in ROWS for row in rows):
        raise ValueError(f"rows: expected some of {', '.join(ROWS)}, got {rows!r}")
    return list(dict.fromkeys(rows))


def next_rate(rates: Sequence[float], upward: bool) -> float:
    """The rate one step past the edge of ``rates`` (at least two), continuing their pattern: the step
    between the edge's two neighbours (1e-3, 3e-3, ..., 3e-2, 1e-1 continues 0.3, 1; below, 3e-4, 1e-4),
    or with two rates their ratio. Three significant digits."""
    ordered = sorted(rates, reverse=not upward)
    if len(ordered) < 2:
        raise ValueError(f"rates: expected at least two, got {list(rates)!r}")
    ratio = ordered[-2] / ordered[-3] if len(ordered) >= 3 else ordered[-1] / ordered[-2]
    return float(f"{ordered[-1] * ratio:.3g}")


def search_learning_rate(validation_loss: Callable[[float], float], learning_rates: Sequence[float],
                         max_extensions: int = MAX_EXTENSIONS,
                         log: Callable[[str], None] | None = None) -> dict[float, float]:
    """``{rate: validation loss}`` for each of ``learning_rates``, in increasing order of rate; while the lowest
    loss lies at an edge of the rates tried, one more rate past that edge (:func:`next_rate`), at most
    ``max_extensions`` more. A single rate is tried alone (no edge to extend). The best is the lowest loss:
    ``min(losses, key=losses.get)``; if it is still at an edge, the search stopped before finding a minimum."""
    if not learning_rates:
        raise ValueError("learning_rates: expected at least one")
    log = log or (lambda line: None)
    losses = {lr: float(validation_loss(lr)) for lr in sorted(set(learning_rates))}
    for _ in range(max_extensions):
        best, tried = min(losses, key=losses.get), sorted(losses)
        if len(tried) < 2 or tried[0] < best < tried[-1]:
            break
        extra = next_rate(tried, upward=best == tried[-1])
        log(f"best rate {best:g} at the edge of those tried: trying {extra:g}")
        losses[extra] = float(validation_loss(extra))
    return dict(sorted(losses.items()))


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
          progress_bar: bool = False, rows: Sequence[str] = DEFAULT_ROWS,
          wide_hidden_size: int = WIDE_HIDDEN_SIZE) -> dict:
    """Tune, then compare. First, on seed 0, the validation loss at each of ``learning_rates``
    (:func:`search_learning_rate`, which extends the grid past an edge that holds the best) of each model
    that ``rows`` take their rate from (:data:`TUNED_BY`); each keeps its best. Then every row of
    :func:`sweep_rows` for every seed."""
    base, log = base or Seq2SeqConfig(), log or (lambda line: None)
    rows = checked_rows(rows)
    searches = list(dict.fromkeys(TUNED_BY[row] for row in rows))
    table = labelled_rows(base, wide_hidden_size=wide_hidden_size)
    tuning, chosen = {}, {}
    for searched in searches:
        label, config = table[searched]

        def validation_loss(lr, config=config, label=label):
            _, result = train(replace(config, lr=lr, seed=0), progress_bar=progress_bar)
            log(f"{label}, lr {lr}: validation loss {result.best_validation:.4f}")
            return result.best_validation

        losses = search_learning_rate(validation_loss, learning_rates, log=log)
        tuning[label] = {repr(lr): round(loss, 5) for lr, loss in losses.items()}
        chosen[label] = min(losses, key=losses.get)
    labelled = labelled_rows(base, {searched: chosen[table[searched][0]] for searched in searches}, wide_hidden_size)
    runs = []
    for label, config in (labelled[row] for row in rows):
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
