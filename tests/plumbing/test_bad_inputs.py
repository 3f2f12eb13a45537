"""Every public function refuses bad input with one line that names the argument (issue 17).

Table-driven: each function has a valid call in :data:`VALID_CALLS`, and every array argument of
it is spoiled in each of :data:`SPOILERS` (an extra axis, a wrong size, integers, float16, a list).
The call must raise ``ValueError`` with a one-line message of the form ``name: expected ...``.
Scalar arguments have their own table, :data:`BAD_SCALARS`.

:func:`test_every_public_function_is_in_a_table` makes the next function added to these modules
fail until it is listed here (or exempted, with the reason), so it is covered too.
"""

import inspect
import os
import re

import numpy as np
import pytest
import torch

from lstm_course.scratch import clipping, gradcheck, numpy_lstm, numpy_rnn
from lstm_course.tasks import batching
from lstm_course.training import sampling

MODULES = (numpy_lstm, numpy_rnn, gradcheck, clipping, sampling, batching)
ONE_LINE_ERROR = re.compile(r"^[\w\[\]'.]+: expected [^\n]+$")

B, D, H, T = 2, 3, 4, 5
rng = np.random.default_rng(0)


def _floats(*shape):
    return rng.normal(size=shape)


def _lstm_weights():
    return dict(W_ih=_floats(4 * H, D), W_hh=_floats(4 * H, H), b_ih=_floats(4 * H), b_hh=_floats(4 * H))


def _rnn_weights():
    return dict(W_ih=_floats(H, D), W_hh=_floats(H, H), b_ih=_floats(H), b_hh=_floats(H))


def _rnn_backward_call():
    hs, _, cache = numpy_rnn.rnn_forward(_floats(T, B, D), _floats(B, H), **_rnn_weights())
    return dict(d_hs=np.ones_like(hs), cache=cache)


VALID_CALLS = {
    "numpy_lstm.affine": lambda: dict(x_t=_floats(B, D), h_prev=_floats(B, H), W_x=_floats(H, D), W_h=_floats(H, H),
                                      b_x=_floats(H), b_h=_floats(H)),
    "numpy_lstm.gate": lambda: dict(x_t=_floats(B, D), h_prev=_floats(B, H), W_x=_floats(H, D), W_h=_floats(H, H),
                                    b_x=_floats(H), b_h=_floats(H)),
    "numpy_lstm.cell_update": lambda: dict(c_prev=_floats(B, H), forget_gate=_floats(B, H),
                                           input_gate=_floats(B, H), candidate=_floats(B, H)),
    "numpy_lstm.hidden_state": lambda: dict(output_gate=_floats(B, H), cell_state=_floats(B, H)),
    "numpy_lstm.gate_parameters": lambda: dict(gate="f", **_lstm_weights()),
    "numpy_lstm.lstm_step": lambda: dict(x_t=_floats(B, D), h_prev=_floats(B, H), c_prev=_floats(B, H),
                                         **_lstm_weights()),
    "numpy_lstm.lstm_forward": lambda: dict(x=_floats(T, B, D), h0=_floats(B, H), c0=_floats(B, H), **_lstm_weights()),
    "numpy_rnn.rnn_step": lambda: dict(x_t=_floats(B, D), h_prev=_floats(B, H), **_rnn_weights()),
    "numpy_rnn.rnn_forward": lambda: dict(x=_floats(T, B, D), h0=_floats(B, H), **_rnn_weights()),
    "numpy_rnn.rnn_backward": _rnn_backward_call,
    "gradcheck.numerical_gradient": lambda: dict(f=lambda v: float(np.sum(v ** 2)), x=_floats(3)),
    "gradcheck.relative_error": lambda: dict(expected=_floats(3), actual=_floats(3)),
    "clipping.clip_grad_norm": lambda: dict(grads={"W": _floats(H, H)}, max_norm=1.0),
    "clipping.global_norm": lambda: dict(grads={"W": _floats(H, H)}),
}
"""Qualified name → a valid call's keyword arguments (fresh arrays each time)."""

SPOILERS = {
    "extra axis": lambda array: array[None],
    "wrong size": lambda array: array[tuple(slice(0, size - 1) for size in array.shape)],  # every axis one shorter
    "integers": lambda array: array.astype(np.int64),
    "float16": lambda array: array.astype(np.float16),
    "a list": lambda array: array.tolist(),
    "empty": lambda array: array[:0],  # no steps, no sequences, no units
    "NaN": lambda array: np.where(np.arange(array.size).reshape(array.shape) == 0, np.nan, array),
    "infinity": lambda array: np.where(np.arange(array.size).reshape(array.shape) == 0, -np.inf, array),
}

NOT_SPOILED = {
    # relative_error compares any two arrays of one shape (it converts them to float64 itself): only
    # a different shape is an error.
    "gradcheck.relative_error": {"extra axis", "integers", "float16", "a list", "NaN", "infinity"},
    # global_norm sums squares in float64 whatever the shape or float dtype.
    "clipping.global_norm": {"extra axis", "wrong size", "float16", "integers", "a list", "empty", "NaN", "infinity"},
    # Any shapes may be clipped together; a NaN gradient gives NaN, as in torch (tested below).
    "clipping.clip_grad_norm": {"extra axis", "wrong size", "empty", "NaN", "infinity"},
    "gradcheck.numerical_gradient": {"extra axis", "wrong size", "empty"},  # x may have any shape
}

EXEMPT = {
    "numpy_lstm.gate_slice": "takes a gate name and a size, not arrays; tested in test_numpy_lstm.py",
    "numpy_lstm.concatenated_form": "a rearrangement shown in chapter 2: NumPy's concatenate says what does not fit",
    "numpy_lstm.activate_gates": "chapter 3's fast gates, whose only input is (..., 4H); lstm_forward checks its own",
    "numpy_lstm.sigmoid_rows_halved": "a size and a dtype from lstm_forward's checked weights; see test_numpy_lstm.py",
    "numpy_lstm.activate_halved_gates": "inner loop of lstm_forward, whose inputs are checked; one input, (..., 4H)",
    "numpy_lstm.split_gates": "a view of the last axis, used in the inner loop on checked arrays",
    "numpy_lstm.init_params": "sizes and a Generator; checked in test_numpy_lstm.py",
    "numpy_rnn.recurrent_update": "inner loop of rnn_forward and rnn_step, which check its inputs",
    "gradcheck.gradient_errors": "calls numerical_gradient and relative_error, checked here",
    "sampling.sample": "model, vocabulary and strings; checked through the CLI in test_language_model.py",
    "batching.number_of_batches": "arithmetic on sizes that tbptt_batches checks",
}
"""Public functions not in a table, and why."""


def _array_arguments(kwargs):
    names = [name for name, value in kwargs.items() if isinstance(value, np.ndarray)]
    names += [f"{name}[{key!r}]" for name, value in kwargs.items() if isinstance(value, dict)
              and name != "cache" for key in value]
    return names


def _spoilt(kwargs, argument, spoil):
    kwargs = dict(kwargs)
    if "[" in argument:
        name, key = argument.split("[")[0], argument.split("'")[1]
        kwargs[name] = {**kwargs[name], key: spoil(kwargs[name][key])}
    else:
        kwargs[argument] = spoil(kwargs[argument])
    return kwargs


def _function(qualified_name):
    module_name, function_name = qualified_name.split(".")
    return getattr(next(module for module in MODULES if module.__name__.endswith(module_name)), function_name)


ARRAY_CASES = [(name, argument, spoiler) for name, make in VALID_CALLS.items() for argument in _array_arguments(make())
               for spoiler in SPOILERS if spoiler not in NOT_SPOILED.get(name, ())]


@pytest.mark.parametrize("name", VALID_CALLS)
def test_the_valid_calls_work(name):
    _function(name)(**VALID_CALLS[name]())


@pytest.mark.parametrize("name, argument, spoiler", ARRAY_CASES)
def test_a_spoilt_array_is_refused_in_one_line(name, argument, spoiler):
    kwargs = _spoilt(VALID_CALLS[name](), argument, SPOILERS[spoiler])
    with pytest.raises(ValueError) as raised:
        _function(name)(**kwargs)
    assert ONE_LINE_ERROR.match(str(raised.value)), str(raised.value)


def _logits():
    return torch.tensor([0.0, 1.0, 2.0, 3.0])


BAD_SCALARS = [
    ("sampling.next_character_distribution", dict(logits=_logits(), temperature=-1.0), "temperature"),
    ("sampling.next_character_distribution", dict(logits=_logits(), temperature=0.0), "temperature"),
    ("sampling.next_character_distribution", dict(logits=_logits(), temperature=float("nan")), "temperature"),
    ("sampling.next_character_distribution", dict(logits=_logits(), temperature=float("inf")), "temperature"),
    ("sampling.next_character_distribution", dict(logits=_logits(), top_k=0), "top_k"),
    ("sampling.next_character_distribution", dict(logits=_logits(), top_k=2.5), "top_k"),
    ("sampling.next_character_distribution", dict(logits=torch.zeros(2, 4)), "logits"),
    ("sampling.next_character_distribution", dict(logits=torch.zeros(0)), "logits"),
    ("sampling.next_character_distribution", dict(logits=torch.arange(4)), "logits"),
    ("sampling.next_character_distribution", dict(logits=torch.tensor([0.0, float("nan"), 1.0])), "logits"),
    ("sampling.next_character_distribution", dict(logits=[0.0, 1.0]), "logits"),
    ("gradcheck.numerical_gradient", dict(f=lambda v: float(v.sum()), x=np.ones(3), eps=0.0), "eps"),
    ("gradcheck.numerical_gradient", dict(f=lambda v: float(v.sum()), x=np.ones(3, np.float32)), "x"),
    ("clipping.clip_grad_norm", dict(grads={"W": np.ones(3)}, max_norm=0.0), "max_norm"),
    ("clipping.clip_grad_norm", dict(grads={"W": np.ones(3)}, max_norm=float("nan")), "max_norm"),
    ("clipping.clip_grad_norm", dict(grads={"W": np.ones(3)}, max_norm=True), "max_norm"),
    ("batching.streams", dict(ids=np.arange(10), batch_size=0), "batch_size"),
    ("batching.streams", dict(ids=np.arange(10), batch_size=np.int64(-1)), "batch_size"),
    ("batching.streams", dict(ids=np.arange(10), batch_size=2.0), "batch_size"),
    ("batching.streams", dict(ids=np.arange(10), batch_size=True), "batch_size"),
    ("batching.streams", dict(ids=np.arange(3), batch_size=4), "ids"),
    ("batching.streams", dict(ids=np.zeros(10), batch_size=2), "ids"),
    ("batching.streams", dict(ids=np.zeros((2, 5), dtype=int), batch_size=2), "ids"),
    ("batching.shard", dict(array=np.zeros((4, 6)), rank=2, world_size=2), "rank, world_size"),
    ("batching.shard", dict(array=np.zeros((4, 5)), rank=0, world_size=2), "array"),
    ("numpy_lstm.gate_parameters", dict(gate="x", **_lstm_weights()), "gate"),
]


@pytest.mark.parametrize("name, kwargs, argument", BAD_SCALARS,
                         ids=[f"{name}-{argument}-{k}" for k, (name, _, argument) in enumerate(BAD_SCALARS)])
def test_a_bad_scalar_is_refused_in_one_line(name, kwargs, argument):
    with pytest.raises(ValueError) as raised:
        _function(name)(**kwargs)
    message = str(raised.value)
    assert message.startswith(f"{argument}: expected") and "\n" not in message, message


def test_tbptt_batches_refuses_a_bad_bptt():
    with pytest.raises(ValueError, match=r"^bptt: expected a positive integer"):
        next(batching.tbptt_batches(np.arange(20), batch_size=2, bptt=0))


def test_every_public_function_is_in_a_table():
    listed = set(VALID_CALLS) | {name for name, _, _ in BAD_SCALARS} | set(EXEMPT) | {"batching.tbptt_batches"}
    public = {f"{module.__name__.split('.')[-1]}.{name}" for module in MODULES
              for name, value in vars(module).items()
              if inspect.isfunction(value) and not name.startswith("_") and value.__module__ == module.__name__}
    assert public - listed == set(), "add these to a table in test_bad_inputs.py (or to EXEMPT, with the reason)"


# What each of the cases does now (each failed before).

def test_a_tiny_temperature_gives_the_most_likely_character_not_nan():
    probabilities = sampling.next_character_distribution(torch.tensor([0.0, 1.0, 3.0, 2.0]), temperature=1e-310)
    assert probabilities.tolist() == [0.0, 0.0, 1.0, 0.0]


def test_the_callers_logits_are_left_alone():
    logits = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64)
    sampling.next_character_distribution(logits)
    assert logits.tolist() == [0.0, 1.0, 2.0]


def test_clipping_a_nan_gradient_gives_nan_as_torch_does():
    clipped, norm = clipping.clip_grad_norm({"W": np.array([np.nan, 1.0])}, 1.0)
    parameter = torch.nn.Parameter(torch.zeros(2))
    parameter.grad = torch.tensor([float("nan"), 1.0])
    torch_norm = torch.nn.utils.clip_grad_norm_([parameter], 1.0)
    assert np.isnan(norm) and torch.isnan(torch_norm)
    assert np.isnan(clipped["W"]).all() and torch.isnan(parameter.grad).all()


def test_the_torch_lstm_refuses_mismatched_dtypes():
    from lstm_course.models import torch_lstm

    lstm = torch_lstm.LSTM(D, H)
    with pytest.raises(ValueError, match=r"^input: expected dtype torch.float32"):
        lstm(torch.zeros(T, B, D, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^h0: expected dtype torch.float32"):
        lstm(torch.zeros(T, B, D), (torch.zeros(1, B, H, dtype=torch.float64), torch.zeros(1, B, H)))


def test_streams_accept_numpy_integers():
    inputs, _ = batching.streams(np.arange(10), np.int64(3))
    assert inputs.shape == (3, 3)


ADDING_BAD_OPTIONS = [
    (["--batch-size", "0"], "batch_size: expected a positive integer"),
    (["--batch-size", "-1"], "batch_size: expected a positive integer"),
    (["--max-sequences", "0"], "max_sequences: expected a positive integer"),
    (["--clip-norm", "-1"], "clip_norm: expected a positive finite number"),
    (["--lr", "0"], "lr: expected a positive finite number"),
    (["--minutes", "nan"], "max_minutes: expected a positive number"),
    (["--forget-bias", "nan"], "forget_bias: expected a finite number"),
    (["--forget-bias", "inf"], "forget_bias: expected a finite number"),
    (["--length", "1000000000"], "length: expected a positive integer up to 100,000"),
    (["--seed", "100000000000000000000"], "seed: expected an integer from 0 to 2**63 - 1"),
]


@pytest.mark.parametrize("options, message", ADDING_BAD_OPTIONS, ids=[" ".join(o) for o, _ in ADDING_BAD_OPTIONS])
def test_the_adding_command_refuses_bad_options_in_one_line(options, message, capsys):
    from lstm_course.cli import main

    code = main(["adding", "--quiet", *options])
    error = capsys.readouterr().err
    assert code == 2 and error.startswith(f"error: {message}") and error.count("\n") == 1, error


def test_sampling_refuses_a_seed_torch_cannot_take():
    from lstm_course.models.language_model import CharLSTM, ModelConfig
    from lstm_course.tasks.vocabulary import Vocabulary

    vocabulary = Vocabulary.from_text("abc")
    model = CharLSTM(ModelConfig(vocabulary_size=len(vocabulary), hidden_size=4, embedding_size=2, num_layers=1))
    with pytest.raises(ValueError, match=r"^seed: expected an integer from 0 to 2\*\*63 - 1, got 10{20}$"):
        sampling.sample(model, vocabulary, "a", length=3, seed=10**20)


@pytest.mark.parametrize("options, message", [(["--threads", "0"], "threads: expected a positive integer"),
                                              (["--seed", str(2**70)], "seed: expected an integer from 0")])
def test_train_lm_refuses_what_it_used_to_take_silently(options, message, capsys, tmp_path):
    from lstm_course.cli import main

    corpus = tmp_path / "small.txt"
    corpus.write_text("To be, or not to be, that is the question.\n" * 200)
    code = main(["train-lm", "--corpus", str(corpus), "--out", str(tmp_path / "m.pt"), "--max-steps", "2",
                 "--quiet", *options])
    error = capsys.readouterr().err
    assert code == 2 and error.startswith(f"error: {message}") and error.count("\n") == 1, error
    assert not (tmp_path / "m.pt").exists()


def test_files_written_atomically_follow_the_umask(tmp_path):
    from lstm_course.plumbing.atomic import atomic_write

    previous = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "grades.csv", "w") as file:
            file.write("x\n")
    finally:
        os.umask(previous)
    assert (tmp_path / "grades.csv").stat().st_mode & 0o777 == 0o644
    (tmp_path / "grades.csv").chmod(0o640)
    with atomic_write(tmp_path / "grades.csv", "w") as file:  # an existing file keeps its mode
        file.write("y\n")
    assert (tmp_path / "grades.csv").stat().st_mode & 0o777 == 0o640


def test_a_folder_as_corpus_is_called_a_folder(tmp_path):
    from lstm_course.tasks import corpus

    with pytest.raises(IsADirectoryError, match=r"a folder \(expected a UTF-8 text file\)"):
        corpus.load_text(tmp_path)


def test_a_failed_write_names_the_file_and_keeps_the_old_one(tmp_path):
    import errno

    from lstm_course.plumbing.atomic import atomic_write

    target = tmp_path / "model.pt"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match=r"model.pt: not written \(No space left on device\)"):
        with atomic_write(target) as file:
            file.write(b"new")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["model.pt"]
