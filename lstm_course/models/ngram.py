"""Baselines for the language model, scored on the same split: uniform, unigram, interpolated Kneser–Ney.

All three give ``P(x_t | x_<t)`` for every position of a text of vocabulary ids, so their losses
are directly comparable with the LSTM's (same vocabulary, same characters, nats per character).

* **Uniform**: ``1/V`` everywhere, a loss of ``log V``.
* **Unigram**: character frequencies of the training text, add-one smoothed so that every id of
  the vocabulary has a probability.
* **Interpolated Kneser–Ney** of order ``n`` (Chen & Goodman 1999, interpolated form, one absolute
  discount per order, ``D = n1 / (n1 + 2 n2)``)::

      P_n(w | h) = max(c(h w) - D, 0) / c(h)  +  D N1+(h •) / c(h) * P_{n-1}(w | h')

  ``h'`` drops the oldest character of ``h``; when ``c(h) = 0`` the model backs off to
  ``P_{n-1}`` entirely. The highest order counts occurrences; lower orders count *continuations*
  ``N1+(• h w)`` (in how many distinct contexts a string occurs), which is the Kneser–Ney idea. The
  lowest order interpolates with the uniform distribution, so unseen characters keep a probability.

The implementation is vectorised with NumPy: an n-gram of ids is packed into one int64 (base
``V``, newest character in the lowest digit), counts come from ``np.unique`` and lookups from
``np.searchsorted``. With ``V = 85`` that allows orders up to 9.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def _check_ids(ids, vocabulary_size: int, name: str = "ids") -> np.ndarray:
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name}: expected a 1-D integer array, got shape {ids.shape} and dtype {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise ValueError(f"{name}: expected ids in [0, {vocabulary_size}), got range [{ids.min()}, {ids.max()}]")
    return ids.astype(np.int64)


def max_order(vocabulary_size: int) -> int:
    """The highest order whose n-grams fit in an int64 at this vocabulary size."""
    return int(math.floor(63 * math.log(2) / math.log(vocabulary_size)))


def gram_codes(ids: np.ndarray, length: int, vocabulary_size: int) -> np.ndarray:
    """Code of the ``length``-gram ending at each position ``t >= length - 1``: ``sum_j ids[t-j] V^j``.

    Returns ``(len(ids) - length + 1,)`` int64; entry ``k`` belongs to position ``t = k + length - 1``.
    """
    codes = np.zeros(len(ids) - length + 1, dtype=np.int64)
    for back in range(length - 1, -1, -1):  # oldest character first, so it ends in the highest digit
        codes = codes * vocabulary_size + ids[length - 1 - back : len(ids) - back]
    return codes


@dataclass
class _Level:
    """Order ``m`` of the model: counts of ``m``-grams (``keys``, ``counts``) and of their contexts."""

    keys: np.ndarray  # sorted m-gram codes
    counts: np.ndarray  # c(h w) at the top order, N1+(• h w) below
    context_keys: np.ndarray  # sorted (m-1)-gram codes of contexts h
    context_totals: np.ndarray  # sum over w of counts(h w)
    context_types: np.ndarray  # N1+(h •): distinct w seen after h
    discount: float


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """``values[k]`` where ``sorted_keys[k] == query``, else 0."""
    if len(sorted_keys) == 0:
        return np.zeros(len(queries), dtype=values.dtype)
    index = np.minimum(np.searchsorted(sorted_keys, queries), len(sorted_keys) - 1)
    return np.where(sorted_keys[index] == queries, values[index], 0)


def _discount(counts: np.ndarray) -> float:
    n1, n2 = np.count_nonzero(counts == 1), np.count_nonzero(counts == 2)
    return float(n1 / (n1 + 2 * n2)) if n1 + n2 else 0.5


class KneserNey:
    """Interpolated Kneser–Ney character model of order ``order`` over ``vocabulary_size`` ids."""

    def __init__(self, train_ids, vocabulary_size: int, order: int):
        if not isinstance(order, int) or not 1 <= order <= max_order(vocabulary_size):
            raise ValueError(f"order: expected an integer in [1, {max_order(vocabulary_size)}] "
                             f"for a vocabulary of {vocabulary_size}, got {order!r}")
        train_ids = _check_ids(train_ids, vocabulary_size, "train_ids")
        if len(train_ids) < order:
            raise ValueError(f"train_ids: expected at least order = {order} ids, got {len(train_ids)}")
        self.order, self.vocabulary_size = order, vocabulary_size
        self.levels: list[_Level] = []
        top_keys, top_counts = np.unique(gram_codes(train_ids, order, vocabulary_size), return_counts=True)
        keys, counts = top_keys, top_counts
        for length in range(order, 0, -1):
            contexts = keys // vocabulary_size
            context_keys, start = np.unique(contexts, return_index=True)  # keys are sorted, so contexts are too
            totals = np.add.reduceat(counts, start)
            types = np.diff(np.append(start, len(keys)))
            self.levels.append(_Level(keys, counts, context_keys, totals, types, _discount(counts)))
            if length > 1:  # continuation counts of the (length-1)-grams: distinct left extensions
                suffixes = keys % vocabulary_size ** (length - 1)
                keys, counts = np.unique(suffixes, return_counts=True)
        self.levels.reverse()  # levels[m - 1] is order m

    def probabilities(self, ids) -> np.ndarray:
        """``P(ids[t] | ids[:t])`` for every ``t`` (the history is cut at the start of ``ids``)."""
        ids = _check_ids(ids, self.vocabulary_size)
        probability = np.full(len(ids), 1.0 / self.vocabulary_size)
        for length, level in enumerate(self.levels, start=1):
            if len(ids) < length:
                break
            codes = gram_codes(ids, length, self.vocabulary_size)
            count = _lookup(level.keys, level.counts, codes).astype(np.float64)
            contexts = codes // self.vocabulary_size
            total = _lookup(level.context_keys, level.context_totals, contexts).astype(np.float64)
            types = _lookup(level.context_keys, level.context_types, contexts).astype(np.float64)
            seen = total > 0
            safe_total = np.where(seen, total, 1.0)
            lower_order = probability[length - 1:]
            interpolated = (np.maximum(count - level.discount, 0.0) + level.discount * types * lower_order) / safe_total
            probability[length - 1:] = np.where(seen, interpolated, lower_order)
        return probability

    def nats_per_char(self, ids) -> float:
        return float(-np.log(self.probabilities(ids)).mean())


def uniform_nats_per_char(vocabulary_size: int) -> float:
    """``log V``: the loss of guessing every id equally."""
    return math.log(vocabulary_size)


def unigram_probabilities(train_ids, vocabulary_size: int) -> np.ndarray:
    """``(V,)`` add-one-smoothed character frequencies of the training ids."""
    train_ids = _check_ids(train_ids, vocabulary_size, "train_ids")
    counts = np.bincount(train_ids, minlength=vocabulary_size) + 1.0
    return counts / counts.sum()


def unigram_nats_per_char(train_ids, ids, vocabulary_size: int) -> float:
    probabilities = unigram_probabilities(train_ids, vocabulary_size)
    return float(-np.log(probabilities[_check_ids(ids, vocabulary_size)]).mean())


def choose_order(train_ids, validation_ids, vocabulary_size: int, orders=None,
                 progress=None) -> tuple[KneserNey, dict[int, float]]:
    """Fit every order in ``orders`` (default 1 .. :func:`max_order`), keep the best on validation.

    Returns the chosen model and ``{order: validation nats/char}``. ``progress``: optional
    ``callable(order, nats)`` called after each fit.
    """
    orders = list(orders or range(1, max_order(vocabulary_size) + 1))
    scores, best = {}, None
    for order in orders:
        model = KneserNey(train_ids, vocabulary_size, order)
        scores[order] = model.nats_per_char(validation_ids)
        if progress is not None:
            progress(order, scores[order])
        if best is None or scores[order] < scores[best.order]:
            best = model
    return best, scores
