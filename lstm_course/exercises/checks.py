"""The public checks a student runs in the notebook, one per implement exercise.

Each ``check_NAME`` calls the reader's ``NAME`` on the inputs :mod:`lstm_course.exercises.exercise_inputs`
draws from a public seed and compares the result with what is expected, computed without any
answer: central differences of the forward pass (:func:`gradients_of`), gradients worked out by
hand, or cases worked out by hand. It prints a clear pass or exactly what is wrong (shape, which
entries, by how much) and returns a :class:`CheckResult`. A function that still raises
``NotImplementedError`` is reported as not implemented yet, never as a crash. Marks come from the
grader (:mod:`lstm_instructor.grading`), not from these checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_course.exercises import exercise_inputs
from lstm_course.scratch import gradcheck, numpy_lstm, numpy_rnn, plain_lstm
from lstm_course.scratch.activations import sigmoid


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one exercise check: ``score`` out of ``max_score`` and the message printed."""

    exercise: str
    passed: bool
    score: float
    max_score: float
    message: str

    def __repr__(self) -> str:
        return f"{self.exercise}: score {self.score:g}/{self.max_score:g}"


def describe_difference(name: str, expected, actual, atol: float, rtol: float) -> str | None:
    """``None`` if ``actual`` matches ``expected``, else one sentence saying how it differs."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{name}: expected a dict with keys {sorted(expected)}, got {type(actual).__name__}"
        if set(actual) != set(expected):
            return f"{name}: expected keys {sorted(expected)}, got {sorted(actual)}"
        for key in expected:
            problem = describe_difference(f"{name}[{key!r}]", expected[key], actual[key], atol, rtol)
            if problem:
                return problem
        return None
    if isinstance(expected, tuple):
        if not isinstance(actual, tuple | list) or len(actual) != len(expected):
            return f"{name}: expected a tuple of {len(expected)} values, got {_describe_type(actual)}"
        for position, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problem = describe_difference(f"{name}[{position}]", want, got, atol, rtol)
            if problem:
                return problem
        return None
    expected = np.asarray(expected)
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name}: expected numbers of shape {expected.shape}, got {_describe_type(actual)}"
    if actual.shape != expected.shape:
        return f"{name}: expected shape {expected.shape}, got {actual.shape}"
    if not np.all(np.isfinite(actual)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(actual))[0])
        return f"{name}: non-finite value {actual[index]} at index {index}"
    wrong = ~np.isclose(actual, expected, atol=atol, rtol=rtol)
    if not wrong.any():
        return None
    difference = np.abs(actual - expected)
    worst = np.unravel_index(np.argmax(difference), difference.shape)
    worst_text = f" at index {tuple(int(i) for i in worst)}" if expected.ndim else ""
    return (
        f"{name}: {int(wrong.sum())} of {wrong.size} entries differ; the largest difference is "
        f"{difference[worst]:.4g}{worst_text} (expected {expected[worst]:.6g}, got {actual[worst]:.6g})"
    )


def _describe_type(value) -> str:
    shape = getattr(value, "shape", None)
    return f"{type(value).__name__} of shape {shape}" if shape is not None else type(value).__name__


def run_check(
    exercise: str,
    candidate: Callable,
    reference: Callable,
    trials: Sequence[exercise_inputs.Trial],
    atol: float = 1e-8,
    rtol: float = 1e-6,
    points: float = 1.0,
    verbose: bool = True,
    note: str = "",
) -> CheckResult:
    """Compare ``candidate`` with ``reference`` on every trial; full ``points`` only if all agree.

    Each call gets its own copy of the arguments (:func:`exercise_inputs.materialise`), so a candidate
    that modifies its inputs cannot change what the reference sees.
    """
    message = None
    for number, trial in enumerate(trials, start=1):
        expected = reference(**exercise_inputs.materialise(trial.kwargs))
        try:
            actual = candidate(**exercise_inputs.materialise(trial.kwargs))
        except NotImplementedError:
            message = f"{exercise}: not implemented yet (the function still raises NotImplementedError)"
            break
        except Exception as error:  # the reader's code may fail in any way; report it, don't crash
            message = f"{exercise}: test {number} ({trial.description}) raised {type(error).__name__}: {error}"
            break
        problem = describe_difference("result", expected, actual, atol, rtol)
        if problem:
            message = f"{exercise}: test {number} ({trial.description}) failed: {problem}"
            break
    passed = message is None
    if passed:
        message = f"{exercise}: passed all {len(trials)} tests{note}"
    result = CheckResult(exercise, passed, points if passed else 0.0, points, message)
    if verbose:
        print(("PASS  " if passed else "FAIL  ") + message)
    return result


def gradients_of(forward: Callable, upstream: str | tuple[str, ...]) -> Callable:
    """A function of ``forward``'s arguments and the upstream gradient(s) that returns numerical gradients.

    For ``L = sum(upstream * forward(...))`` (one upstream array per output when ``forward`` returns a
    tuple) it returns ``{name: dL/d(name)}`` for every other argument, by central differences
    (:func:`lstm_course.scratch.gradcheck.numerical_gradient`, chapter 1), not with any answer.
    """
    names = (upstream,) if isinstance(upstream, str) else upstream

    def gradients(**kwargs):
        weights = [np.asarray(kwargs.pop(name), dtype=np.float64) for name in names]
        arrays = {name: np.asarray(value, dtype=np.float64) for name, value in kwargs.items()}

        def loss(name):
            def value_at(value):
                outputs = forward(**{**arrays, name: value})
                outputs = outputs if isinstance(outputs, tuple) else (outputs,)
                return float(sum(np.sum(weight * output) for weight, output in zip(weights, outputs, strict=True)))
            return value_at

        return {name: gradcheck.numerical_gradient(loss(name), value.copy(), eps=1e-6)
                for name, value in arrays.items()}

    return gradients


def _check(exercise: str, candidate: Callable, reference: Callable, seed: int, verbose: bool, trials=None,
           companions: Mapping[str, Callable] | None = None, **tolerance):
    """Run ``exercise``'s trials; a candidate that takes or returns a cache is called as the grader calls it
    (:func:`exercise_inputs.call`), through ``companions``, the reader's forward pass."""
    trials = trials if trials is not None else exercise_inputs.draw(exercise, np.random.default_rng(seed))
    inputs = exercise_inputs.EXERCISES[exercise]
    options = {"atol": inputs.atol, "rtol": inputs.rtol, **tolerance}
    functions = {**(companions or {}), exercise: candidate}

    def called(**kwargs):
        return exercise_inputs.call(exercise, functions, kwargs)

    def expected(**kwargs):  # a package forward pass's cache is the candidate's input, not the reference's
        kwargs.pop(exercise_inputs.CACHE, None)
        return reference(**kwargs)

    return run_check(exercise, called, expected, trials, verbose=verbose, **options)


NUMERICAL = {"atol": 1e-6, "rtol": 1e-5,
             "note": " (against central differences; the grader wants the exact gradient, to 1e-10)"}
"""How closely an answer must match central differences (their own error is about 1e-9 here). The
grader compares with the reference answer to :data:`exercise_inputs.ANALYTIC` instead, which central
differences cannot meet (a derivative worked out exactly can, and so can chapter 1's complex step,
exact to rounding for an analytic function); the message says so."""


def check_rnn_step_jacobian(rnn_step_jacobian: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``rnn_step_jacobian(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> (B, H, H)``, entry ``[b, i, j]``
    ``= dh_t[b, i] / dh_prev[b, j]``, against central differences of ``numpy_rnn.rnn_step``."""

    def numerical_jacobian(x_t, h_prev, **weights):
        eps, jacobian = 1e-6, np.empty((*h_prev.shape, h_prev.shape[1]))
        for column in range(h_prev.shape[1]):  # the batch's rows are independent: nudge them together
            step = np.zeros_like(h_prev)
            step[:, column] = eps
            jacobian[:, :, column] = (numpy_rnn.rnn_step(x_t, h_prev + step, **weights)
                                      - numpy_rnn.rnn_step(x_t, h_prev - step, **weights)) / (2 * eps)
        return jacobian

    return _check("rnn_step_jacobian", rnn_step_jacobian, numerical_jacobian, seed, verbose, **NUMERICAL)


def check_complex_step_gradient(complex_step_gradient: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``complex_step_gradient(f, x, h) -> gradient`` against each test function's gradient by hand.

    The tolerance (1e-12) is one that central differences cannot meet.
    """

    def by_hand(f, x, h):
        name = next(name for name, function in exercise_inputs.FUNCTIONS.items() if function is f)
        return exercise_inputs.GRADIENTS[name](x)

    return _check("complex_step_gradient", complex_step_gradient, by_hand, seed, verbose)


def check_forget_gate_backward(forget_gate_backward: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``forget_gate_backward(d_f, x_t, h_prev, W_if, W_hf, b_if, b_hf) -> dict`` of the six gradients."""

    def forget_gate(x_t, h_prev, W_if, W_hf, b_if, b_hf):
        return numpy_lstm.gate(x_t, h_prev, W_if, W_hf, b_if, b_hf, activation=sigmoid)

    return _check("forget_gate_backward", forget_gate_backward, gradients_of(forget_gate, "d_f"), seed, verbose,
                  **NUMERICAL)


def check_write_backward(write_backward: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``write_backward(d_write, a_i, a_g) -> {"a_i": ..., "a_g": ...}`` for ``sigmoid(a_i) * tanh(a_g)``."""
    return _check("write_backward", write_backward,
                  gradients_of(lambda a_i, a_g: sigmoid(a_i) * np.tanh(a_g), "d_write"), seed, verbose, **NUMERICAL)


def check_cell_update_backward(cell_update_backward: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``cell_update_backward(d_c, c_prev, forget_gate, input_gate, candidate) -> dict`` of gradients.

    The expected gradients are central differences of ``numpy_lstm.cell_update``.
    """
    return _check("cell_update_backward", cell_update_backward, gradients_of(numpy_lstm.cell_update, "d_c"), seed,
                  verbose, **NUMERICAL)


def check_hidden_state_backward(hidden_state_backward: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``hidden_state_backward(d_h, output_gate, cell_state) -> dict`` against central differences."""
    return _check("hidden_state_backward", hidden_state_backward, gradients_of(numpy_lstm.hidden_state, "d_h"),
                  seed, verbose, **NUMERICAL)


def plain_lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh) -> np.ndarray:
    """Every hidden state ``(T, B, H)``: chapter 5's ``plain_lstm.lstm_step`` in a loop (what the checks expect)."""
    h, c, hs = h0, c0, []
    for x_t in x:
        h, c = plain_lstm.lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
        hs.append(h)
    return np.stack(hs)


def check_lstm_step_forward(lstm_step_forward: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``lstm_step_forward(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh) -> (h_t, c_t, cache)``: its
    ``h_t`` and ``c_t`` against ``plain_lstm.lstm_step``. The cache is the reader's; ``lstm_step_backward`` uses it."""
    return _check("lstm_step_forward", lstm_step_forward, plain_lstm.lstm_step, seed, verbose)


def check_lstm_step_backward(lstm_step_backward: Callable, lstm_step_forward: Callable, seed: int = 0,
                             verbose: bool = True) -> CheckResult:
    """Check ``lstm_step_backward(d_h, d_c, cache) -> dict``, ``cache`` from the reader's ``lstm_step_forward``:
    the seven gradients of ``sum(d_h * h_t) + sum(d_c * c_t)``, keyed by the step's inputs, against
    central differences of ``plain_lstm.lstm_step``."""
    return _check("lstm_step_backward", lstm_step_backward, gradients_of(plain_lstm.lstm_step, ("d_h", "d_c")),
                  seed, verbose, companions={"lstm_step_forward": lstm_step_forward}, **NUMERICAL)


def check_lstm_forward(lstm_forward: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``lstm_forward(x, h0, c0, W_ih, W_hh, b_ih, b_hh) -> (hs, cache)``: its ``hs`` ``(T, B, H)`` against
    ``plain_lstm.lstm_step`` in a loop. The cache is the reader's; ``lstm_backward`` uses it."""
    return _check("lstm_forward", lstm_forward, plain_lstm_forward, seed, verbose)


def check_lstm_backward(lstm_backward: Callable, lstm_forward: Callable, seed: int = 0,
                        verbose: bool = True) -> CheckResult:
    """Check ``lstm_backward(d_hs, cache) -> dict``, ``cache`` from the reader's ``lstm_forward``: the seven
    gradients of ``sum(d_hs * hs)`` keyed ``x, h0, c0, W_ih, W_hh, b_ih, b_hh``, against central differences."""
    return _check("lstm_backward", lstm_backward, gradients_of(plain_lstm_forward, "d_hs"), seed, verbose,
                  companions={"lstm_forward": lstm_forward}, **NUMERICAL)


def check_lstm_backward_fast(lstm_backward_fast: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``lstm_backward_fast(d_hs, cache) -> dict``, ``cache`` from the package's ``numpy_lstm.lstm_forward``:
    the same seven gradients as ``lstm_backward``, against central differences."""
    return _check("lstm_backward_fast", lstm_backward_fast, gradients_of(plain_lstm_forward, "d_hs"), seed, verbose,
                  **NUMERICAL)


def keras_gru_step(kernel, recurrent_kernel, bias, x_t, h_prev):
    """One step of Keras's GRU (``reset_after=True``, gates ``z, r, h``), from its own three arrays."""
    hidden_size = recurrent_kernel.shape[0]
    from_input = x_t @ kernel + bias[0]
    from_hidden = h_prev @ recurrent_kernel + bias[1]
    z, r = (sigmoid(from_input[:, k * hidden_size:(k + 1) * hidden_size]
                    + from_hidden[:, k * hidden_size:(k + 1) * hidden_size]) for k in (0, 1))
    candidate = np.tanh(from_input[:, 2 * hidden_size:] + r * from_hidden[:, 2 * hidden_size:])
    return z * h_prev + (1 - z) * candidate


def check_keras_gru_to_torch(keras_gru_to_torch: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``keras_gru_to_torch(kernel, recurrent_kernel, bias) -> dict`` of ``nn.GRU`` layer-0 weights by
    behaviour (``nn.GRU`` with the converted weights must compute what Keras's GRU computes) and by
    form (each array a rearrangement of its Keras array, so that the answer is unique)."""
    import torch

    def inputs_for(kernel, recurrent_kernel):  # the same x_t (3, D) and h_prev (3, H) for both sides
        rng = np.random.default_rng([seed, *kernel.shape, *recurrent_kernel.shape])
        return rng.normal(size=(3, kernel.shape[0])), rng.normal(size=(3, recurrent_kernel.shape[0]))

    def through_torch(kernel, recurrent_kernel, bias):
        x_t, h_prev = inputs_for(kernel, recurrent_kernel)
        weights = keras_gru_to_torch(kernel, recurrent_kernel, bias)
        sources = {"weight_ih_l0": kernel, "weight_hh_l0": recurrent_kernel, "bias_ih_l0": bias[0],
                   "bias_hh_l0": bias[1]}
        for name, source in sources.items():  # only a rearrangement makes the answer unique
            if name in weights and not np.array_equal(np.sort(np.ravel(weights[name])), np.sort(np.ravel(source))):
                raise ValueError(f"{name} is not a rearrangement of Keras's array (expected no arithmetic on weights)")
        gru = torch.nn.GRU(kernel.shape[0], recurrent_kernel.shape[0], dtype=torch.float64)
        gru.load_state_dict({name: torch.as_tensor(np.asarray(value, dtype=np.float64))
                             for name, value in weights.items()})
        with torch.no_grad():
            return gru(torch.from_numpy(x_t)[None], torch.from_numpy(h_prev)[None])[1][0].numpy()

    def through_keras(kernel, recurrent_kernel, bias):
        return keras_gru_step(kernel, recurrent_kernel, bias, *inputs_for(kernel, recurrent_kernel))

    return _check("keras_gru_to_torch", through_torch, through_keras, seed, verbose, atol=1e-10, rtol=1e-8)


def check_temporal_order_targets(temporal_order_targets: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``temporal_order_targets(inputs (T, B, 6)) -> (B,)`` on test sequences whose classes are known."""
    sequences = {  # symbols (a-d = 0-3, X = 4, Y = 5) -> class: XX 0, XY 1, YX 2, YY 3
        (4, 4): 0, (0, 4, 1, 5): 1, (5, 2, 2, 4, 3): 2, (1, 5, 5): 3, (3, 2, 5, 0, 1, 4, 2): 2}
    trials = []
    for length in sorted({len(symbols) for symbols in sequences}):
        batch = [symbols for symbols in sequences if len(symbols) == length]
        one_hot = np.eye(exercise_inputs.TEMPORAL_ORDER_SYMBOLS)[np.array(batch).T]
        trials.append(exercise_inputs.Trial(f"T={length}, sequences {batch}", {"inputs": one_hot}))
    classes = {len(symbols): [] for symbols in sequences}
    for symbols, label in sequences.items():
        classes[len(symbols)].append(label)
    return _check("temporal_order_targets", temporal_order_targets,
                  lambda inputs: np.array(classes[inputs.shape[0]]), seed, verbose, trials=trials)


def check_gru_step_backward(gru_step_backward: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``gru_step_backward(d_h, x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> dict`` of the six gradients,
    against central differences of ``torch.nn.GRUCell`` (gates ``r, z, n``)."""
    return _check("gru_step_backward", gru_step_backward, gradients_of(gru_step_reference, "d_h"), seed, verbose,
                  **NUMERICAL)


def gru_step_reference(x_t, h_prev, W_ih, W_hh, b_ih, b_hh) -> np.ndarray:
    """One GRU step computed by ``torch.nn.GRUCell`` in float64 with the given weights (gates ``r, z, n``)."""
    import torch

    cell = torch.nn.GRUCell(W_ih.shape[1], W_hh.shape[1], dtype=torch.float64)
    with torch.no_grad():
        for name, value in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(cell, name).copy_(torch.from_numpy(np.asarray(value, dtype=np.float64)))
        return cell(torch.from_numpy(np.asarray(x_t, dtype=np.float64)),
                    torch.from_numpy(np.asarray(h_prev, dtype=np.float64))).numpy()


def check_top_p_distribution(top_p_distribution: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``top_p_distribution(logits (V,), temperature, top_p) -> (V,)`` on cases worked out by hand.

    Id 0 (the unknown character) has weight 5 but is never kept; ids 1-4 have probabilities 0.1-0.4.
    """
    import torch

    logits = torch.log(torch.tensor([5.0, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    cases = [(1.0, 1.0, [0, 0.1, 0.2, 0.3, 0.4]), (1.0, 0.95, [0, 0.1, 0.2, 0.3, 0.4]),
             (1.0, 0.5, [0, 0, 0, 3 / 7, 4 / 7]), (1.0, 0.3, [0, 0, 0, 0, 1]),
             (0.5, 1.0, [0, 1 / 30, 4 / 30, 9 / 30, 16 / 30]), (0.5, 0.6, [0, 0, 0, 9 / 25, 16 / 25])]
    trials = [exercise_inputs.Trial(f"temperature={temperature}, top_p={top_p}",
                                    {"logits": exercise_inputs.Tensor(logits.numpy()), "temperature": temperature,
                                     "top_p": top_p}) for temperature, top_p, _ in cases]
    expected = {(temperature, top_p): np.array(probabilities) for temperature, top_p, probabilities in cases}
    return _check("top_p_distribution", top_p_distribution,
                  lambda logits, temperature, top_p: expected[temperature, top_p], seed, verbose, trials=trials)


def check_ddp_buckets(ddp_buckets: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``ddp_buckets(sizes (P,), bucket_cap) -> (P,)`` bucket numbers on cases worked out by hand."""
    cases = [([4, 4, 4], 8, [1, 0, 0]), ([10, 3], 5, [1, 0]), ([2, 2, 2, 2, 2], 100, [0, 0, 0, 0, 0]),
             ([7], 1, [0]), ([5, 1, 1, 5, 2], 6, [2, 2, 1, 1, 0])]
    trials = [exercise_inputs.Trial(f"sizes {sizes}, bucket_cap={cap}", {"sizes": np.array(sizes), "bucket_cap": cap})
              for sizes, cap, _ in cases]
    expected = {(tuple(sizes), cap): np.array(buckets) for sizes, cap, buckets in cases}
    return _check("ddp_buckets", ddp_buckets, lambda sizes, bucket_cap: expected[tuple(sizes.tolist()), bucket_cap],
                  seed, verbose, trials=trials)


def check_per_class_f1(per_class_f1: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``per_class_f1(predicted, targets, num_classes) -> (num_classes,)`` on cases worked out by hand.

    Targets equal to -100 are not counted; a class with no true positive scores 0. A prediction
    outside ``0 .. num_classes - 1`` (e.g. -100) at a counted position is wrong: a false negative of
    its target's class, a false positive of none.
    """
    ignored = exercise_inputs.IGNORED_LABEL
    cases = [  # predicted, targets, num_classes, expected F1 per class
        ([1, 0, 1, 1], [1, 0, 0, 1], 2, [2 / 3, 4 / 5]),
        ([1, 1, 0, 0, 1], [1, ignored, 0, ignored, 0], 2, [2 / 3, 2 / 3]),
        ([0, 0, 0], [0, 1, 0], 2, [4 / 5, 0]),
        ([[0, 1], [2, 2]], [[0, 2], [2, ignored]], 3, [1, 0, 2 / 3]),
        ([0, 0], [0, 0], 2, [1, 0]),
        ([1, 0, 1], [ignored, ignored, ignored], 2, [0, 0]),
        ([ignored, 1, 0, 0], [1, 1, 0, ignored], 2, [1, 2 / 3]),  # a prediction that is no class: wrong
    ]
    trials = [exercise_inputs.Trial(f"predicted {predicted}, targets {targets}, num_classes={classes}",
                                    {"predicted": np.array(predicted), "targets": np.array(targets),
                                     "num_classes": classes}) for predicted, targets, classes, _ in cases]
    expected = {(str(predicted), str(targets)): np.array(f1) for predicted, targets, _, f1 in cases}
    return _check("per_class_f1", per_class_f1,
                  lambda predicted, targets, num_classes: expected[str(predicted.tolist()), str(targets.tolist())],
                  seed, verbose, trials=trials)


def check_additive_attention(additive_attention: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``additive_attention(query (B, H), keys (S, B, K), source_lengths (B,), W_query (A, H), W_key (A, K),
    v (A,)) -> (weights (B, S), context (B, K))`` on cases whose answers are known without the formula.

    With ``W_key = 0`` every source position scores the same, so each gets ``1 / length`` and the context is
    the mean of the real keys (padding holds junk that must not count). With one score far above the
    others, that position takes all the weight. Two cases have scores near +760 and -760, two of them equal:
    a plain ``np.exp`` overflows (inf / inf) or underflows (0 / 0) there, and the weights must still be 1/2
    and 1/2. Two more cases are test vectors, worked out once.
    """
    cases, expected = [], {}  # expected: (weights, context) by the bytes of query and keys

    def case(description, answer, **arrays):
        arrays = {name: np.array(value, dtype=np.int64 if name == "source_lengths" else np.float64)
                  for name, value in arrays.items()}
        cases.append(exercise_inputs.Trial(description, arrays))
        expected[arrays["query"].tobytes() + arrays["keys"].tobytes()] = tuple(np.array(part) for part in answer)

    rng = np.random.default_rng(seed)
    for lengths in ([3], [4, 2, 1]):
        keys = rng.normal(size=(max(lengths), len(lengths), 2))
        weights = np.array([[1 / length if s < length else 0.0 for s in range(max(lengths))] for length in lengths])
        case(f"W_key = 0, lengths {lengths}: equal weights", (weights, np.einsum("bs,sbk->bk", weights, keys)),
             query=rng.normal(size=(len(lengths), 3)), keys=keys, source_lengths=lengths,
             W_query=rng.normal(size=(2, 3)), W_key=np.zeros((2, 2)), v=rng.normal(size=2))
    case("one score far above the others: position 1 takes all the weight", ([[0.0, 1.0, 0.0]], [[1.0]]),
         query=[[0.0]], keys=[[[-1.0]], [[1.0]], [[-1.0]]], source_lengths=[3], W_query=[[0.0]], W_key=[[1.0]],
         v=[50.0])
    case("scores near +760, two of them equal: a plain exponential overflows", ([[0.5, 0.5, 0.0]], [[1.0]]),
         query=[[0.0]], keys=[[[1.0]], [[1.0]], [[-1.0]]], source_lengths=[3], W_query=[[0.0]], W_key=[[1.0]],
         v=[1000.0])
    case("scores near -760, the third position padding: a plain exponential underflows to 0 / 0",
         ([[0.5, 0.5, 0.0]], [[1.0]]), query=[[0.0]], keys=[[[1.0]], [[1.0]], [[7.0]]], source_lengths=[2],
         W_query=[[0.0]], W_key=[[1.0]], v=[-1000.0])
    case("test vector: B=2, S=3, H=K=A=2, the second source 2 long",
         ([[0.38101855820181285, 0.04052993787692383, 0.5784515039212633],
           [0.9581721373606327, 0.041827862639367205, 0.0]],
          [[0.5053664652436668, -0.35277875218709986], [0.041827862639367205, -0.9163442747212655]]),
         query=[[0.5, -1.0], [1.5, 0.25]], keys=[[[1.0, 0.0], [0.0, -1.0]], [[-0.5, 2.0], [1.0, 1.0]],
                                                 [[0.25, -0.75], [9.0, 9.0]]],
         source_lengths=[3, 2], W_query=[[1.0, 0.5], [-0.5, 2.0]], W_key=[[0.75, -1.0], [1.0, 0.5]], v=[1.5, -2.0])
    case("test vector: B=1, S=4, H=3, K=2, A=1",
         ([[0.9437405057770706, 0.046076948173948515, 0.004854492240832224, 0.005328053808148802]],
          [[0.9570699953823804, -0.8998633780248178]]),
         query=[[2.0, -1.0, 0.5]], keys=[[[1.0, -1.0]], [[0.5, 0.5]], [[-2.0, 1.0]], [[0.0, 3.0]]],
         source_lengths=[4], W_query=[[0.5, 1.0, -1.0]], W_key=[[1.0, -0.5]], v=[3.0])

    def known(query, keys, **_):
        return expected[query.tobytes() + keys.tobytes()]

    return _check("additive_attention", additive_attention, known, seed, verbose, trials=cases, atol=1e-10, rtol=1e-8)


def check_mase(mase: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``mase(forecasts (N, h), actuals (N, h), training (T,), season) -> (h,)`` on cases worked out by hand.

    The scale is the in-sample MAE of the seasonal naive forecast one step ahead on ``training``;
    the second case has a scale of 2 with ``season=2`` and of 3.2 with a season of 1.
    """
    cases = [([[1, 2], [3, 4]], [[2, 2], [3, 6]], [1, 2, 3, 4, 5], 1, [0.5, 1.0]),
             ([[1, 1, 1]], [[2, 3, 5]], [0, 4, 2, 6, 4, 8], 2, [0.5, 1.0, 2.0]),
             ([[10], [10], [13]], [[12], [10], [10]], [5, 1, 2, 3, 8, 4, 5, 6], 4, [5 / 9]),
             ([[0, 0, 0, 0]], [[-1, 1, -2, 2]], [0, 0, 0, 1, 1, 1, 2, 2, 2], 3, [1.0, 1.0, 2.0, 2.0])]
    trials = [exercise_inputs.Trial(f"season={season}, training {training}",
                                    {"forecasts": np.array(forecasts, dtype=float),
                                     "actuals": np.array(actuals, dtype=float),
                                     "training": np.array(training, dtype=float), "season": season})
              for forecasts, actuals, training, season, _ in cases]
    expected = {(tuple(training), season): np.array(answer) for _, _, training, season, answer in cases}
    return _check("mase", mase, lambda forecasts, actuals, training, season: expected[tuple(training), season],
                  seed, verbose, trials=trials)


def check_doubling_scan(doubling_scan: Callable, seed: int = 0, verbose: bool = True) -> CheckResult:
    """Check ``doubling_scan(a (T, ...), b (T, ...)) -> ((A_0, B_0), (A_1, B_1), ...)``, ``ceil(log2 T) + 1`` rounds.

    After round ``r`` position ``t`` holds the composition of the maps ``h -> a_k h + b_k`` for the
    ``2^r`` steps ``k`` ending at ``t`` (fewer at the start): ``A_r[t]`` the product of their ``a_k``,
    ``B_r[t]`` the sum over them of ``b_k`` times the ``a_j`` after it. Computed here from that
    definition, window by window.
    """

    def by_definition(a, b):
        windows = [2**r for r in range(int(np.ceil(np.log2(len(a)))) + 1)]  # 1, 2, 4, ... steps ending at t
        expected = []
        for window in windows:
            products, sums = np.empty_like(a), np.empty_like(b)
            for t in range(len(a)):
                first = max(0, t - window + 1)
                products[t] = np.prod(a[first:t + 1], axis=0)
                sums[t] = sum(np.prod(a[k + 1:t + 1], axis=0) * b[k] for k in range(first, t + 1))
            expected.append((products, sums))
        return tuple(expected)

    return _check("doubling_scan", doubling_scan, by_definition, seed, verbose)
