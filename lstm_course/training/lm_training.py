"""Training and scoring the character-level language model.

:func:`train` runs Adam on the cross-entropy of the next character over contiguous truncated-BPTT
batches (:mod:`lstm_course.tasks.batching`), carrying the detached LSTM state from batch to batch, with:

* gradient-norm clipping at ``clip_norm``;
* a learning-rate schedule: linear warm-up over ``warmup_steps``, then a cosine decay to
  ``final_lr_fraction * lr`` at the end of the budget (``max_steps`` if given, else ``minutes``);
* a progress bar (loss, characters per second, validation bits per character);
* validation every ``eval_every`` steps on the first ``validation_chars`` characters of the
  validation text, keeping the best weights, and early stopping after ``patience`` evaluations
  without improvement;
* a :class:`TrainingDiverged` error, naming the step, as soon as the loss is NaN or infinite;
* a checkpoint (:mod:`lstm_course.training.checkpoint`) after every validation, at the end, and on
  Ctrl-C; ``resume_from`` continues from one, with the same data position, carried state and
  random state, so a run split in two equals a run in one piece when the budget is in steps.

:func:`nats_per_char` scores a text as the n-gram baselines are scored: every character
predicted from the ones before it, in contiguous streams that start from a zero state.
"""

from __future__ import annotations

import copy
import math
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from lstm_course.models.language_model import CharLSTM, ModelConfig, build, detach_state
from lstm_course.plumbing.runtime import check_device_name, set_threads
from lstm_course.plumbing.validation import positive_int, positive_number, seed_value
from lstm_course.tasks.batching import streams, tbptt_batches
from lstm_course.tasks.vocabulary import Vocabulary
from lstm_course.training import checkpoint as checkpoints
from lstm_course.training import distributed

LN2 = math.log(2.0)


@dataclass
class TrainConfig:
    """How to train. Set ``max_steps`` for a reproducible run; otherwise ``minutes`` is the budget."""

    batch_size: int = 64
    bptt: int = 128
    lr: float = 3e-3
    final_lr_fraction: float = 0.02
    warmup_steps: int = 50
    clip_norm: float = 1.0
    minutes: float = 10.0
    max_steps: int | None = None
    eval_every: int = 100
    validation_chars: int | None = 100_000
    patience: int = 5
    seed: int = 0
    threads: int = 1
    device: str = "cpu"  # 'auto' (a CUDA GPU if PyTorch sees one), 'cpu', 'cuda' or 'cuda:N'

    def __post_init__(self):
        check_device_name(self.device)
        for name in ("batch_size", "bptt", "eval_every", "patience", "threads"):
            positive_int(name, getattr(self, name))
        if self.max_steps is not None:
            positive_int("max_steps", self.max_steps)
        for name in ("lr", "clip_norm"):
            positive_number(name, getattr(self, name))
        positive_number("minutes", self.minutes, infinity_allowed=True)
        seed_value("seed", self.seed)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


@dataclass
class TrainResult:
    steps: int
    characters: int
    seconds: float
    best_validation_nats: float
    stopped: str  # "budget", "early stopping" or "interrupted"
    history: list = field(default_factory=list)
    checkpoint: str | None = None
    world_size: int = 1

    @property
    def characters_per_second(self) -> float:
        return self.characters / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        return {"steps": self.steps, "characters": self.characters, "seconds": round(self.seconds, 1),
                "characters_per_second": round(self.characters_per_second),
                "best_validation_nats_per_char": round(self.best_validation_nats, 4),
                "best_validation_bits_per_char": round(self.best_validation_nats / LN2, 4),
                "stopped": self.stopped, "checkpoint": self.checkpoint, "world_size": self.world_size}


def learning_rate(config: TrainConfig, step: int, budget_fraction: float) -> float:
    """Warm-up for ``warmup_steps``, then cosine from ``lr`` down to ``final_lr_fraction * lr`` at fraction 1."""
    warmup = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
    fraction = min(max(budget_fraction, 0.0), 1.0)
    floor = config.final_lr_fraction
    return config.lr * warmup * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * fraction)))


@torch.no_grad()
def nats_per_char(model: CharLSTM, ids: np.ndarray, num_streams: int = 32, bptt: int = 256) -> float:
    """Mean ``-log P(next character)`` over ``ids``, in ``num_streams`` contiguous streams, eval mode.

    Each stream starts from a zero state and carries it to its end; the last
    ``(len(ids) - 1) % num_streams`` characters are not scored.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    num_streams = max(1, min(num_streams, (len(ids) - 1) // 2))
    total, count, state = 0.0, 0, None
    for inputs, targets in tbptt_batches(ids, num_streams, bptt):
        inputs, targets = inputs.to(device), targets.to(device)
        logits, state = model(inputs, state)
        total += float(nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                                   reduction="sum"))
        count += targets.numel()
    model.train(was_training)
    return total / count


def _new_run(train_text: str, model_config: dict | None, config: TrainConfig, device: torch.device):
    vocabulary = Vocabulary.from_text(train_text)
    model = build(ModelConfig(vocabulary_size=len(vocabulary), **(model_config or {}))).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    progress = {"steps": 0, "characters": 0, "seconds": 0.0, "epoch": 0, "batch_in_epoch": 0,
                "best_validation_nats": math.inf, "evaluations_without_improvement": 0, "history": [],
                "state": None, "rng": None}
    return vocabulary, model, optimiser, progress, copy.deepcopy(model.state_dict())


def _resumed_run(path, train_text: str, device: torch.device):
    saved = checkpoints.load(path)
    vocabulary = _vocabulary_from(saved, path)
    if vocabulary != Vocabulary.from_text(train_text):
        raise ValueError(f"{path}: the checkpoint's vocabulary ({len(vocabulary)} ids) differs from the training "
                         f"text's; resume with the corpus it was trained on")
    model = _model_from(saved, "model", path)
    model.to(device)  # before the optimiser's state is loaded, which then follows each parameter's device
    try:
        optimiser = torch.optim.Adam(model.parameters(), lr=saved["train_config"]["lr"])
        optimiser.load_state_dict(saved["optimiser"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise checkpoints.CheckpointError(f"{path}: its optimiser state does not fit its model "
                                          f"({type(error).__name__}: {str(error).splitlines()[0][:160]})") from None
    return vocabulary, model, optimiser, saved["progress"], saved["best_model"]


def _checkpoint(model, best_model, optimiser, vocabulary, config, progress, state, rng) -> dict:
    progress = dict(progress, state=None if state is None else [tensor.cpu() for tensor in state], rng=rng)
    return {"format": checkpoints.FORMAT, "model_config": asdict(model.config), "train_config": asdict(config),
            "vocabulary": vocabulary.to_list(), "model": model.state_dict(), "best_model": best_model,
            "optimiser": optimiser.state_dict(), "progress": progress}


class StepBoundaryInterrupt:
    """Ctrl-C (SIGINT) during training, remembered and acted on only between two steps.

    An interrupt in the middle of ``optimiser.step()`` would leave some parameters updated and
    others not, and the checkpoint written on the way out would hold that half-applied step
    (resuming then diverges from an uninterrupted run). With this handler installed the step
    finishes, the loop stops, and the checkpoint is saved; a second Ctrl-C while saving is
    reported and ignored, so the save completes. Signals can only be caught in the main thread;
    elsewhere this does nothing and a ``KeyboardInterrupt`` behaves as before.
    """

    def __init__(self):
        self.requested, self._previous = False, None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signal_number, frame):
        if self.requested:
            print("interrupt: already stopping; the checkpoint is being written, wait a moment", file=sys.stderr,
                  flush=True)
        self.requested = True

    def __exit__(self, *exception):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _random_state(device: torch.device) -> dict:
    """The generators dropout draws from: the CPU's, and the GPU's when training on one."""
    return {"cpu": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def _set_random_state(saved, device: torch.device) -> None:
    saved = saved if isinstance(saved, dict) else {"cpu": saved, "cuda": None}
    torch.set_rng_state(saved["cpu"])
    if device.type == "cuda" and saved["cuda"] is not None:
        torch.cuda.set_rng_state(saved["cuda"], device)


def train(train_text: str, validation_text: str, config: TrainConfig | None = None, model_config: dict | None = None,
          checkpoint_path=None, resume_from=None, progress_bar: bool = True,
          log=None) -> tuple[CharLSTM, Vocabulary, TrainResult]:
    """Train a language model; return the model holding the *best* validation weights, its vocabulary and a result.

    ``model_config``: keyword arguments of :class:`ModelConfig` (not ``vocabulary_size``, which
    comes from the training text); its ``architecture`` picks the model (default the LSTM, a
    :class:`CharLSTM`; see :func:`lstm_course.models.language_model.build`).
    ``resume_from``: a checkpoint to continue; its model
    configuration is used, and the budget (``minutes`` or ``max_steps``) counts from its start, so
    resuming an interrupted run with the same budget finishes it. ``log``: optional ``callable(str)``
    given one line per validation (the notebook prints them; the CLI has the progress bar).

    ``config.device`` says where to train (``'auto'``: a CUDA GPU if there is one); the returned
    model is on that device, and checkpoints load on any machine.

    Under ``torchrun`` (:mod:`lstm_course.training.distributed`) every process calls this; each trains on its
    own shard of the streams, gradients are averaged, and only process 0 saves, logs and shows
    progress. A resumed multi-process run restarts the carried LSTM state from zeros.
    """
    config = config or TrainConfig()
    set_threads(config.threads)
    world = distributed.current_world(config.device)
    device = world.device
    joined = distributed.join(world)
    if not world.is_main:
        progress_bar, log, checkpoint_path = False, None, None
    if resume_from is not None:
        vocabulary, model, optimiser, progress, best_model = _resumed_run(resume_from, train_text, device)
        if progress["rng"] is not None:
            _set_random_state(progress["rng"], device)
    else:
        torch.manual_seed(config.seed)
        vocabulary, model, optimiser, progress, best_model = _new_run(train_text, model_config, config, device)
    train_ids, validation_ids = vocabulary.encode(train_text), vocabulary.encode(validation_text)
    if config.validation_chars is not None:
        validation_ids = validation_ids[: config.validation_chars + 1]
    streams(train_ids, config.batch_size * world.size)  # fails early, with a clear message, if the text is too short
    state = None if progress["state"] is None or world.size > 1 else tuple(h.to(device) for h in progress["state"])
    trained_model = distributed.wrap(model, world)  # averages gradients across processes; `model` itself otherwise
    budget_seconds = 60.0 * config.minutes
    seconds_before, stopped = progress["seconds"], "budget"
    session_start = time.perf_counter()
    path = None if checkpoint_path is None else str(checkpoint_path)

    def elapsed() -> float:
        return seconds_before + time.perf_counter() - session_start

    def budget_fraction() -> float:
        fraction = elapsed() / budget_seconds
        if config.max_steps is not None:
            fraction = progress["steps"] / config.max_steps  # a step budget is exact and reproducible
        return distributed.agree_max(fraction, world)  # every process stops at the same step

    def validation_nats() -> float:
        """Process 0 scores the validation text; the others receive its score instead of repeating the work."""
        return distributed.from_main(nats_per_char(model, validation_ids) if world.is_main else math.nan, world)

    def save():
        if path is not None:
            progress["seconds"] = elapsed()
            checkpoints.save(_checkpoint(model, best_model, optimiser, vocabulary, config, progress, state,
                                         rng_after_last_step), path)

    bar = tqdm(total=config.max_steps, initial=progress["steps"], unit="step", disable=not progress_bar,
               desc="train-lm", mininterval=2.0, dynamic_ncols=True)
    if world.size > 1 and world.is_main:
        message = (f"data-parallel training: world size {world.size} ({world.backend}), {config.batch_size} streams "
                   f"per process, {config.batch_size * world.size} in all")
        (log or (lambda line: print(line, file=sys.stderr, flush=True)))(message)
    model.train()
    rng_after_last_step = _random_state(device)  # dropout's random state at a step boundary, for resuming
    window_loss, window_chars, window_start = 0.0, 0, time.perf_counter()
    interrupt = StepBoundaryInterrupt().__enter__()

    def interrupted() -> bool:
        """Whether Ctrl-C reached any process (all of them stop at the same step)."""
        return distributed.agree_max(1.0 if interrupt.requested else 0.0, world) > 0

    try:
        while budget_fraction() < 1.0 and stopped == "budget":
            batches = tbptt_batches(train_ids, config.batch_size, config.bptt, start=progress["batch_in_epoch"],
                                    rank=world.rank, world_size=world.size)
            for inputs, targets in batches:
                inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
                lr = learning_rate(config, progress["steps"], budget_fraction())
                for group in optimiser.param_groups:
                    group["lr"] = lr
                logits, new_state = trained_model(inputs, detach_state(state))
                loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
                not_finite = 0.0 if math.isfinite(loss.item()) else 1.0
                if distributed.agree_max(not_finite, world):  # a NaN on any process stops them all
                    raise TrainingDiverged(
                        f"the training loss became {loss.item()} at step {progress['steps'] + 1} (learning rate "
                        f"{lr:.2g}); lower --lr or --clip-norm"
                        + (f"; the last good checkpoint is {path}" if path and Path(path).exists() else ""))
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
                optimiser.step()
                state = detach_state(new_state)
                rng_after_last_step = _random_state(device)
                progress["steps"] += 1
                progress["batch_in_epoch"] += 1
                progress["characters"] += targets.numel() * world.size
                window_loss += loss.item() * targets.numel()
                window_chars += targets.numel()
                bar.update(1)
                if progress["steps"] % config.eval_every == 0:
                    validation = validation_nats()
                    speed = window_chars * world.size / (time.perf_counter() - window_start)
                    entry = {"step": progress["steps"], "characters": progress["characters"],
                             "seconds": round(elapsed(), 1), "lr": lr, "train_nats": window_loss / window_chars,
                             "validation_nats": validation, "characters_per_second": speed}
                    progress["history"].append(entry)
                    window_loss, window_chars, window_start = 0.0, 0, time.perf_counter()
                    if validation < progress["best_validation_nats"]:
                        progress["best_validation_nats"] = validation
                        progress["evaluations_without_improvement"] = 0
                        best_model = copy.deepcopy(model.state_dict())
                    else:
                        progress["evaluations_without_improvement"] += 1
                    bar.set_postfix(loss=f"{entry['train_nats']:.3f}", val_bpc=f"{validation / LN2:.3f}",
                                    chars_s=f"{speed:,.0f}", refresh=False)
                    if log is not None:
                        log(f"step {entry['step']:>5}  {entry['characters']:>10,} chars  "
                            f"train {entry['train_nats']:.3f}  validation {validation:.3f} nats/char "
                            f"({validation / LN2:.3f} bits)  {speed:,.0f} chars/s")
                    save()
                    if progress["evaluations_without_improvement"] >= config.patience:
                        stopped = "early stopping"
                        break
                if interrupted():  # only here, between two steps: the checkpoint never holds half a step
                    stopped = "interrupted"
                    break
                if budget_fraction() >= 1.0:
                    break
            else:  # the epoch ran out: start the next one from a zero state
                progress["epoch"] += 1
                progress["batch_in_epoch"] = 0
                state = None
    except KeyboardInterrupt:  # raised outside a step (e.g. by a test, or in a thread without the handler)
        stopped = "interrupted"
    except BaseException:  # a diverged loss, say: give Ctrl-C back before the error propagates
        interrupt.__exit__(None, None, None)
        raise
    finally:
        bar.close()
    try:
        if stopped != "interrupted" and (not progress["history"]
                                         or progress["history"][-1]["step"] != progress["steps"]):
            validation = validation_nats()  # the final weights too
            progress["history"].append({"step": progress["steps"], "characters": progress["characters"],
                                        "seconds": round(elapsed(), 1), "validation_nats": validation})
            if validation < progress["best_validation_nats"]:
                progress["best_validation_nats"], best_model = validation, copy.deepcopy(model.state_dict())
        save()  # still under the handler: a Ctrl-C now cannot stop the checkpoint half-way
    finally:
        interrupt.__exit__(None, None, None)
    distributed.leave(joined)
    result = TrainResult(progress["steps"], progress["characters"], elapsed(), progress["best_validation_nats"],
                         stopped, progress["history"], path, world.size)
    model.load_state_dict(best_model)
    model.eval()
    if log is not None and stopped == "interrupted":
        log(f"interrupted at step {progress['steps']}; " + (f"saved {path}" if path else "nothing saved"))
    return model, vocabulary, result


def load_model(path) -> tuple[CharLSTM, Vocabulary, dict]:
    """The best-validation model of a checkpoint, in eval mode, with its vocabulary and the whole checkpoint."""
    saved = checkpoints.load(path)
    model, vocabulary = _model_from(saved, "best_model", path), _vocabulary_from(saved, path)
    model.eval()
    return model, vocabulary, saved


def _model_from(saved: dict, weights: str, path) -> CharLSTM:
    """The model a checkpoint describes, holding its ``weights`` (``"model"`` or ``"best_model"``); one-line errors."""
    try:
        model = build(ModelConfig(**saved["model_config"]))
    except (TypeError, ValueError) as error:
        raise checkpoints.CheckpointError(f"{path}: model_config does not describe a model ({error})") from None
    try:
        model.load_state_dict(saved[weights])
    except RuntimeError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = next((line for line in lines if line.startswith(("size mismatch", "Missing", "Unexpected"))), lines[0])
        raise checkpoints.CheckpointError(f"{path}: its {weights} weights do not fit its model_config "
                                          f"({detail[:200]})") from None
    return model


def _vocabulary_from(saved: dict, path) -> Vocabulary:
    try:
        return Vocabulary.from_list(saved["vocabulary"])
    except (TypeError, ValueError) as error:
        raise checkpoints.CheckpointError(f"{path}: its vocabulary is not usable ({error})") from None
