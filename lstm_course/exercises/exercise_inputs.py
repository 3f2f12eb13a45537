"""The inputs every implement exercise is tried on: drawn from a seed, made of data only.

The notebook's public check (:mod:`lstm_course.exercises.checks`) draws them from a public seed; the grader
(:mod:`lstm_instructor.grading`) draws them from a secret seed at grading time and hands them to the
sandboxed submission as an ``.npz`` file, so a submission cannot be written for known inputs.

An argument is a NumPy array, a plain ``int``/``float``/``None``, a :class:`Tensor` (an array the
function receives as a ``torch.Tensor``), a :class:`Function` (a smooth function from
:data:`FUNCTIONS`, named, so that it can cross the sandbox as data) or a dict of NumPy arrays (the
:data:`CACHE` of a package's forward pass, computed where the trial is drawn: :attr:`Inputs.forward`).

    trials = exercise_inputs.draw("cell_update", np.random.default_rng(0))
    # [Trial("B=1, H=1", {"c_prev": array (1, 1), ...}), ...]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from lstm_course.scratch import numpy_lstm


@dataclass(frozen=True)
class Trial:
    """One test case: a description for messages and the keyword arguments to call with."""

    description: str
    kwargs: Mapping[str, object]


@dataclass(frozen=True)
class Tensor:
    """An argument the function receives as a ``torch.Tensor`` (float64 or int64, as the array)."""

    array: np.ndarray


@dataclass(frozen=True)
class Function:
    """An argument the function receives as the callable ``FUNCTIONS[name]``.

    The grader varies it with a secret ``scale`` and ``shift`` (arrays of the argument's shape): the
    callable is then ``x -> FUNCTIONS[name](scale * x + shift)``, a function no public table answers.
    """

    name: str
    scale: np.ndarray | None = field(default=None, compare=False)
    shift: np.ndarray | None = field(default=None, compare=False)

    def callable(self) -> Callable[[np.ndarray], object]:
        base = FUNCTIONS[self.name]
        if self.scale is None:
            return base
        scale, shift = np.array(self.scale), np.array(self.shift)
        return lambda x: base(scale * x + shift)


FUNCTIONS: dict[str, Callable[[np.ndarray], object]] = {
    "sum of cubes": lambda x: np.sum(x**3),
    "sum of sin(x) * position": lambda x: np.sum(np.sin(x) * np.arange(1, x.size + 1).reshape(x.shape)),
    "log-sum-exp": lambda x: np.log(np.sum(np.exp(x))),
}
"""Smooth scalar functions of an array, written so that they also take complex arrays."""

GRADIENTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sum of cubes": lambda x: 3 * x**2,
    "sum of sin(x) * position": lambda x: np.cos(x) * np.arange(1, x.size + 1).reshape(x.shape),
    "log-sum-exp": lambda x: np.exp(x) / np.sum(np.exp(x)),
}
"""Each function's gradient, by hand: what the public check compares a gradient with. Public, so the
grader never grades on these functions as they are (:func:`lstm_instructor.grading.secret_functions`)."""

SIZES = [(1, 1, 1), (3, 4, 5), (2, 7, 3), (8, 16, 32)]
"""Batch, input and hidden sizes every shape-generic exercise is tried on."""

SMALL_SIZES = [(1, 1, 1), (3, 4, 5), (2, 3, 4)]
"""Smaller ones, where the public check differentiates numerically a whole sequence or many weights."""


def normal_trial(rng: np.random.Generator, description: str, **shapes) -> Trial:
    """A trial whose every argument is a standard-normal array of the given shape."""
    return Trial(description, {name: rng.normal(size=shape) for name, shape in shapes.items()})


def _rnn_step_jacobian(rng):
    return [normal_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), W_ih=(H, D), W_hh=(H, H),
                         b_ih=(H,), b_hh=(H,)) for B, D, H in SIZES]


def _complex_step_gradient(rng):
    shapes = [(5,), (3, 4), (2, 2, 2)]
    return [Trial(f"f(x) = {name}, x of shape {shape}", dict(f=Function(name), x=rng.normal(size=shape), h=1e-20))
            for name, shape in zip(FUNCTIONS, shapes, strict=True)]


def _forget_gate_backward(rng):
    return [_forget_gate_backward_at(rng, B, D, H) for B, D, H in SIZES]


def _write_backward(rng):
    return [normal_trial(rng, f"B={B}, H={H}", d_write=(B, H), a_i=(B, H), a_g=(B, H)) for B, _, H in SIZES]


def _cell_update_backward(rng):
    return [Trial(f"B={B}, H={H}", dict(d_c=rng.normal(size=(B, H)), c_prev=rng.normal(size=(B, H)),
                                        forget_gate=rng.uniform(size=(B, H)), input_gate=rng.uniform(size=(B, H)),
                                        candidate=rng.uniform(-1, 1, size=(B, H))))
            for B, _, H in SIZES]


def _hidden_state_backward(rng):
    return [Trial(f"B={B}, H={H}", dict(d_h=rng.normal(size=(B, H)), output_gate=rng.uniform(size=(B, H)),
                                        cell_state=2 * rng.normal(size=(B, H))))
            for B, _, H in SIZES]


def _lstm_step(rng):
    return [normal_trial(rng, f"B={B}, D={D}, H={H}", x_t=(B, D), h_prev=(B, H), c_prev=(B, H), W_ih=(4 * H, D),
                         W_hh=(4 * H, H), b_ih=(4 * H,), b_hh=(4 * H,)) for B, D, H in SMALL_SIZES]


def _lstm_step_backward_at(rng, B, D, H):
    return normal_trial(rng, f"B={B}, D={D}, H={H}", d_h=(B, H), d_c=(B, H), x_t=(B, D), h_prev=(B, H),
                        c_prev=(B, H), W_ih=(4 * H, D), W_hh=(4 * H, H), b_ih=(4 * H,), b_hh=(4 * H,))


def _lstm_step_backward(rng):
    return [_lstm_step_backward_at(rng, B, D, H) for B, D, H in SMALL_SIZES]


def _lstm_sequence_at(rng, T, B, D, H, upstream: bool):
    trial = normal_trial(rng, f"T={T}, B={B}, D={D}, H={H}", x=(T, B, D), h0=(B, H), c0=(B, H),
                         W_ih=(4 * H, D), W_hh=(4 * H, H), b_ih=(4 * H,), b_hh=(4 * H,))
    return Trial(trial.description, {"d_hs": rng.normal(size=(T, B, H)), **trial.kwargs}) if upstream else trial


def _lstm_sequence(rng, upstream: bool):
    return [_lstm_sequence_at(rng, T, B, D, H, upstream) for T, (B, D, H) in zip((1, 5, 7), SMALL_SIZES, strict=True)]


def _lstm_forward(rng):
    return _lstm_sequence(rng, upstream=False)


def _lstm_backward(rng):
    return _lstm_sequence(rng, upstream=True)


CACHE = "cache"
"""The argument that carries a package forward pass's cache in a trial (:attr:`Inputs.forward`)."""


def with_package_cache(trial: Trial, forward: Callable, upstream: tuple[str, ...]) -> Trial:
    """``trial`` with :data:`CACHE`: the last result of the package's ``forward`` on its arguments but ``upstream``.

    :func:`draw` and :func:`draw_timed` add it where :attr:`Inputs.forward` is the package's: where
    the trial is drawn (the grader's process, the notebook's check), never in the grader's sandbox,
    whose package may withhold ``forward`` (it would answer another exercise of the chapter:
    ``numpy_lstm.lstm_forward`` is chapter 6's ``lstm_forward``). The trial keeps the forward pass's
    arguments: the public check's reference differentiates them.
    """
    arguments = {name: value for name, value in trial.kwargs.items() if name not in upstream}
    return Trial(trial.description, {**trial.kwargs, CACHE: forward(**arguments)[-1]})


def _keras_gru_to_torch(rng):
    return [normal_trial(rng, f"D={D}, H={H}", kernel=(D, 3 * H), recurrent_kernel=(H, 3 * H), bias=(2, 3 * H))
            for _, D, H in SIZES]


TEMPORAL_ORDER_SYMBOLS = 6
"""One-hot width of the temporal-order task: distractors a, b, c, d (0-3), then X (4) and Y (5)."""


def temporal_order_batch(rng: np.random.Generator, batch_size: int, length: int) -> np.ndarray:
    """``(T, B, 6)`` one-hot sequences of distractors with exactly two relevant symbols, X or Y, each."""
    symbols = rng.integers(0, 4, size=(length, batch_size))
    for sequence in range(batch_size):
        first, second = np.sort(rng.choice(length, size=2, replace=False))
        symbols[[first, second], sequence] = rng.integers(4, 6, size=2)
    return np.eye(TEMPORAL_ORDER_SYMBOLS)[symbols]


def _temporal_order_targets(rng):
    return [Trial(f"B={batch}, T={length}", {"inputs": temporal_order_batch(rng, batch, length)})
            for batch, length in ((1, 2), (8, 10), (64, 100))]


def _gru_step_backward_at(rng, B, D, H):
    return normal_trial(rng, f"B={B}, D={D}, H={H}", d_h=(B, H), x_t=(B, D), h_prev=(B, H), W_ih=(3 * H, D),
                        W_hh=(3 * H, H), b_ih=(3 * H,), b_hh=(3 * H,))


def _gru_step_backward(rng):
    return [_gru_step_backward_at(rng, B, D, H) for B, D, H in SMALL_SIZES]


def _top_p_distribution(rng):
    return [Trial(f"V={size}, temperature={temperature}, top_p={top_p}",
                  {"logits": Tensor(3 * rng.normal(size=size)), "temperature": temperature, "top_p": top_p})
            for size, temperature, top_p in ((5, 1.0, 1.0), (85, 0.5, 0.9), (85, 1.5, 0.5), (85, 0.8, 1e-6))]


def _ddp_buckets(rng):
    trials = []
    for count, cap in ((1, 10), (6, 1000), (12, 5000), (30, 20000)):
        sizes = rng.integers(1, 4000, size=count)
        trials.append(Trial(f"{count} parameters, bucket_cap={cap}", {"sizes": sizes, "bucket_cap": cap}))
    return trials


IGNORED_LABEL = -100
"""A target that no score counts (a character with no case, :data:`lstm_course.tasks.tagging.IGNORE`)."""


def _per_class_f1(rng):
    trials = []
    for shape, num_classes in (((1,), 2), ((40,), 2), ((8, 16), 3), ((3, 5, 7), 5)):
        targets = rng.integers(0, num_classes, size=shape)
        targets[rng.random(shape) < 0.2] = IGNORED_LABEL
        predicted = np.where(rng.random(shape) < 0.7, np.maximum(targets, 0), rng.integers(0, num_classes, size=shape))
        trials.append(Trial(f"shape {shape}, {num_classes} classes",
                            {"predicted": predicted, "targets": targets, "num_classes": num_classes}))
    return trials


def _additive_attention(rng):
    trials = []
    for B, S, H, K, A in ((1, 1, 1, 1, 1), (3, 5, 4, 6, 2), (2, 7, 3, 3, 5), (8, 16, 32, 24, 10)):
        lengths = rng.integers(1, S + 1, size=B)
        lengths[rng.integers(B)] = S  # one source fills the batch; the others end earlier, padded with junk
        trial = normal_trial(rng, f"B={B}, S={S}, H={H}, K={K}, A={A}", query=(B, H), keys=(S, B, K),
                             W_query=(A, H), W_key=(A, K), v=(A,))
        trials.append(Trial(trial.description, {**trial.kwargs, "source_lengths": lengths}))
    trials.append(_large_scores(trials[2], largest=2000.0))
    return trials


def _large_scores(trial: Trial, largest: float) -> Trial:
    """``trial`` with ``v`` rescaled so that its largest score is ``largest``, where a plain ``np.exp`` overflows."""
    kwargs = trial.kwargs
    scores = np.tanh((kwargs["query"] @ kwargs["W_query"].T)[None] + kwargs["keys"] @ kwargs["W_key"].T) @ kwargs["v"]
    real = np.arange(len(scores))[:, None] < kwargs["source_lengths"][None, :]  # (S, B)
    extreme = scores[real][np.abs(scores[real]).argmax()]
    rescaled = {**kwargs, "v": largest / extreme * kwargs["v"]}
    return Trial(f"{trial.description}, v scaled: scores up to {largest:g}", rescaled)


def _mase(rng):
    trials = []
    for origins, horizon, length, season in ((1, 1, 8, 1), (5, 3, 40, 4), (30, 12, 240, 12), (7, 10, 300, 11)):
        training = np.cumsum(rng.normal(size=length)) + 3 * np.sin(2 * np.pi * np.arange(length) / season)
        actuals = rng.normal(size=(origins, horizon))
        trials.append(Trial(f"N={origins}, horizon={horizon}, T={length}, season={season}",
                            {"forecasts": actuals + rng.normal(size=(origins, horizon)), "actuals": actuals,
                             "training": training, "season": season}))
    return trials


def _doubling_scan(rng):
    trials = []
    for steps, shape in ((1, (3,)), (2, (2,)), (3, (4,)), (8, (2, 3)), (13, (5,)), (64, (2, 2))):
        trials.append(Trial(f"T={steps}, a and b of shape {(steps, *shape)}",
                            {"a": rng.uniform(0.01, 1.0, size=(steps, *shape)), "b": rng.normal(size=(steps, *shape))}))
    return trials


@dataclass(frozen=True)
class Inputs:
    """How to draw one exercise's trials, and how closely an answer must match (``np.isclose``)."""

    draw: Callable[[np.random.Generator], list[Trial]]
    atol: float = 1e-8
    rtol: float = 1e-6
    torch: bool = False
    """Whether the exercise takes or returns tensors. Otherwise the grader hides PyTorch (and SymPy)
    from the submission, so that autograd or symbolic differentiation cannot answer a backward pass."""
    compared: int | slice | None = None
    """For a forward pass that returns ``(outputs..., cache)``: the part of its result that is compared
    (the cache is of the student's own design; their backward pass is what judges it)."""
    forward: str | Callable | None = None
    """For a backward pass that takes a forward pass's cache, CS231n's ``backward(upstream..., cache)``:
    the forward pass whose last result is that cache. A name is another function of the same notebook
    (the student's own), called where the backward pass is, on the trial's arguments other than
    ``upstream``. A callable is the package's: :func:`draw` calls it (:func:`with_package_cache`)
    and the trial carries its cache as the argument :data:`CACHE`, so that the grader's sandbox never
    needs it and may withhold it."""
    upstream: tuple[str, ...] = ()
    """The trial's arguments that go to the backward pass, before the cache: the upstream gradients."""


ANALYTIC = {"atol": 1e-12, "rtol": 1e-10}
"""How closely a derivative must match the reference: exact float64 answers agree to about 1e-15, central
differences (the package's ``gradcheck``, errors of about 1e-9) do not get this close. It separates exact
derivatives from finite differences, not hand work from numerical work: a complex-step derivative
(chapter 1), exact to rounding for an analytic function, meets it too."""

EXERCISES: dict[str, Inputs] = {
    "rnn_step_jacobian": Inputs(_rnn_step_jacobian, **ANALYTIC),
    "complex_step_gradient": Inputs(_complex_step_gradient, atol=1e-12, rtol=1e-12),
    "forget_gate_backward": Inputs(_forget_gate_backward, **ANALYTIC),
    "write_backward": Inputs(_write_backward, **ANALYTIC),
    "cell_update_backward": Inputs(_cell_update_backward, **ANALYTIC),
    "hidden_state_backward": Inputs(_hidden_state_backward, **ANALYTIC),
    "lstm_step_forward": Inputs(_lstm_step, compared=slice(0, 2), **ANALYTIC),
    "lstm_step_backward": Inputs(_lstm_step_backward, forward="lstm_step_forward", upstream=("d_h", "d_c"),
                                 **ANALYTIC),
    "lstm_forward": Inputs(_lstm_forward, compared=0, **ANALYTIC),
    "lstm_backward": Inputs(_lstm_backward, forward="lstm_forward", upstream=("d_hs",), **ANALYTIC),
    "lstm_backward_fast": Inputs(_lstm_backward, forward=numpy_lstm.lstm_forward, upstream=("d_hs",), **ANALYTIC),
    "keras_gru_to_torch": Inputs(_keras_gru_to_torch, atol=0, rtol=0),
    "temporal_order_targets": Inputs(_temporal_order_targets, atol=0, rtol=0),
    "gru_step_backward": Inputs(_gru_step_backward, **ANALYTIC),
    "top_p_distribution": Inputs(_top_p_distribution, atol=1e-10, torch=True),
    "ddp_buckets": Inputs(_ddp_buckets, atol=0, rtol=0),
    "per_class_f1": Inputs(_per_class_f1, atol=1e-12, rtol=1e-12),
    "additive_attention": Inputs(_additive_attention, atol=1e-10, rtol=1e-8),
    "mase": Inputs(_mase, atol=1e-12, rtol=1e-10),
    "doubling_scan": Inputs(_doubling_scan, atol=1e-12, rtol=1e-10),
}
"""Exercise name (the function the student writes) -> its inputs and tolerance."""


def _parameters(trial: Trial, upstream: tuple[str, ...]) -> int:
    """How many numbers a gradient of ``trial`` has: every array argument but the upstream gradients."""
    return sum(np.size(value) for name, value in trial.kwargs.items() if name not in upstream)


def _timed(trial: Trial, upstream: tuple[str, ...]) -> Trial:
    """``trial`` with its count of differentiated numbers in its description, for the timed test's feedback."""
    return Trial(f"{trial.description}, {_parameters(trial, upstream):,} parameters and inputs", trial.kwargs)


def _timed_forget_gate_backward(rng):
    """B=16, D=256, H=256: 139,776 numbers to differentiate, each a forward pass of 4 MFLOP for a finite difference."""
    return _timed(_forget_gate_backward_at(rng, 16, 256, 256), ("d_f",))


def _forget_gate_backward_at(rng, B, D, H):
    return normal_trial(rng, f"B={B}, D={D}, H={H}", d_f=(B, H), x_t=(B, D), h_prev=(B, H), W_if=(H, D),
                        W_hf=(H, H), b_if=(H,), b_hf=(H,))


def _timed_lstm_step_backward(rng):
    """B=16, D=256, H=256: 538,624 numbers, each a forward pass of 17 MFLOP for a finite difference."""
    return _timed(_lstm_step_backward_at(rng, 16, 256, 256), ("d_h", "d_c"))


def _timed_lstm_backward(rng):
    """T=50, B=32, D=32, H=64: 80,384 numbers, each a forward pass through 50 steps (79 MFLOP)."""
    return _timed(_lstm_sequence_at(rng, 50, 32, 32, 64, upstream=True), ("d_hs",))


def _timed_gru_step_backward(rng):
    """B=16, D=256, H=256: 402,944 numbers, each a forward pass of 13 MFLOP for a finite difference."""
    return _timed(_gru_step_backward_at(rng, 16, 256, 256), ("d_h",))


TIMED: dict[str, Callable[[np.random.Generator], Trial]] = {
    "forget_gate_backward": _timed_forget_gate_backward,
    "lstm_step_backward": _timed_lstm_step_backward,
    "lstm_backward": _timed_lstm_backward,
    "lstm_backward_fast": _timed_lstm_backward,
    "gru_step_backward": _timed_gru_step_backward,
}
"""Exercise -> its timed trial (:mod:`lstm_instructor.grading`'s timed test), for the backward passes whose
gradient by finite differences or the complex step costs a forward pass per parameter and input.

At these sizes (tens to hundreds of thousands of numbers to differentiate) a numerical gradient
takes minutes to hours, even with every perturbation batched into one vectorised forward pass,
while the reference answer takes milliseconds; the grader's limit is a multiple of the reference's
time on the same trial. The other exercises that differentiate are not timed (:data:`UNTIMED`)."""

UNTIMED: dict[str, str] = {
    "write_backward": "element-wise: its Jacobian is diagonal, so one vectorised finite difference (every input "
                      "perturbed at once) gives every entry, as fast as the derivative by hand",
    "cell_update_backward": "element-wise, as write_backward: one vectorised finite difference answers it",
    "hidden_state_backward": "element-wise, as write_backward: one vectorised finite difference answers it",
    "rnn_step_jacobian": "H forward passes of one step give the Jacobian, no slower than the analytic answer",
    "complex_step_gradient": "the numerical method is the exercise",
}
"""Exercise -> why it has no timed trial: no time limit tells a hand derivation from a numerical one there."""


def draw(exercise: str, rng: np.random.Generator) -> list[Trial]:
    """The trials of ``exercise`` drawn from ``rng``, each with its package forward pass's :data:`CACHE` if any."""
    if exercise not in EXERCISES:
        raise KeyError(f"unknown exercise {exercise!r}; expected one of {sorted(EXERCISES)}")
    return _with_package_caches(exercise, EXERCISES[exercise].draw(rng))


def draw_timed(exercise: str, rng: np.random.Generator) -> Trial:
    """``exercise``'s timed trial (:data:`TIMED`) drawn from ``rng``, with its :data:`CACHE` as :func:`draw`'s."""
    return _with_package_caches(exercise, [TIMED[exercise](rng)])[0]


def _with_package_caches(exercise: str, trials: list[Trial]) -> list[Trial]:
    spec = EXERCISES[exercise]
    return [with_package_cache(trial, spec.forward, spec.upstream) for trial in trials] if callable(spec.forward) \
        else trials


def companions(exercise: str) -> tuple[str, ...]:
    """The other functions of the notebook that ``exercise``'s function is called through (its forward pass)."""
    forward = EXERCISES[exercise].forward
    return (forward,) if isinstance(forward, str) else ()


def call(exercise: str, functions: Mapping[str, Callable], kwargs: Mapping[str, object]):
    """What ``exercise`` is scored on: ``functions[exercise]`` called on one trial's (materialised) ``kwargs``.

    ``functions`` maps names to a notebook's functions (the student's, or the instructor's reference
    answers). A backward pass that takes a cache gets the one its forward pass returns on the same
    inputs (:attr:`Inputs.forward`): the notebook's own forward pass, called here, or the package's,
    whose cache the trial carries (:data:`CACHE`); a forward pass that returns a cache is scored on
    its outputs only (:attr:`Inputs.compared`).
    """
    spec = EXERCISES[exercise]
    function = functions[exercise]
    if spec.forward is None:
        result = function(**kwargs)
    else:
        if isinstance(spec.forward, str):
            cache = functions[spec.forward](**{name: value for name, value in kwargs.items()
                                               if name not in spec.upstream})[-1]
        else:  # the package's forward pass: its cache was computed where the trial was drawn
            cache = kwargs[CACHE]
        result = function(*(kwargs[name] for name in spec.upstream), cache)
    if spec.compared is not None:
        result = result[spec.compared]
    return result


def materialise(kwargs: Mapping[str, object]) -> dict[str, object]:
    """The arguments as the function receives them: tensors as ``torch.Tensor``, functions as callables.

    Every call gets fresh copies, so a function that changes its inputs cannot change another call's.
    """
    arguments = {}
    for name, value in kwargs.items():
        if isinstance(value, Tensor):
            import torch

            arguments[name] = torch.from_numpy(np.array(value.array))
        elif isinstance(value, Function):
            arguments[name] = value.callable()
        elif isinstance(value, np.ndarray):
            arguments[name] = np.array(value)
        elif isinstance(value, Mapping):  # a cache of arrays
            arguments[name] = {key: np.array(item) for key, item in value.items()}
        else:
            arguments[name] = value
    return arguments
