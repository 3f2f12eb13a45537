"""String reversal, a sequence-to-sequence task whose difficulty grows with the input's length.

A source is a random string of lowercase letters, its target the same string reversed:
``"lstm" -> "mtsl"``. Every letter of the source is needed, so a decoder that sees the source only
through a fixed-size summary must squeeze more into it the longer the string; one with attention
can look back at each source position. Strings are drawn uniformly: a length, then letters.

Tokens: the encoder-decoder's reserved ids (:data:`lstm_course.models.seq2seq.PAD` for padding,
``START`` for the decoder's first input, ``END`` for the last target, so that the decoder can say
where its output stops), then the letters. Batches are time-major: ``(S, B)`` sources, ``(T, B)``
decoder inputs and targets.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
import torch

from lstm_course.models.seq2seq import END, PAD, START
from lstm_course.plumbing.validation import positive_int

LETTERS = string.ascii_lowercase
SPECIAL_TOKENS = ("<pad>", "<start>", "<end>")
VOCABULARY_SIZE = len(SPECIAL_TOKENS) + len(LETTERS)
_LETTER_IDS = {letter: k + len(SPECIAL_TOKENS) for k, letter in enumerate(LETTERS)}


def reverse(text: str) -> str:
    """The task: ``text`` backwards."""
    return text[::-1]


def encode(texts: list[str], end: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``(ids (L, B), lengths (B,))``: each text's letter ids in a column, then :data:`END` if ``end``, then padding."""
    if isinstance(texts, str) or not texts:
        raise ValueError(f"texts: expected a non-empty list of strings, got {texts!r}")
    for text in texts:
        if not isinstance(text, str) or not text or set(text) - set(LETTERS):
            raise ValueError(f"texts: expected non-empty strings of the letters a-z, got {text!r}")
    lengths = torch.tensor([len(text) + end for text in texts])
    ids = torch.full((int(lengths.max()), len(texts)), PAD, dtype=torch.int64)
    for column, text in enumerate(texts):
        ids[: len(text), column] = torch.tensor([_LETTER_IDS[letter] for letter in text])
        if end:
            ids[len(text), column] = END
    return ids, lengths


def decode(ids) -> str | None:
    """The letters of one column of ids, up to its first :data:`END` (padding and :data:`START` skipped);
    ``None`` if the column has no :data:`END`, an unfinished output (which ``score`` counts wrong too)."""
    letters = []
    for token in np.asarray(ids).tolist():
        if token == END:
            return "".join(letters)
        if token >= len(SPECIAL_TOKENS):
            letters.append(LETTERS[token - len(SPECIAL_TOKENS)])
    return None


def random_strings(rng: np.random.Generator, count: int, min_length: int, max_length: int) -> list[str]:
    """``count`` strings, each of a length uniform in ``[min_length, max_length]`` and of uniform letters."""
    positive_int("count", count)
    positive_int("min_length", min_length)
    positive_int("max_length", max_length)
    if max_length < min_length:
        raise ValueError(f"max_length: expected at least min_length = {min_length}, got {max_length}")
    lengths = rng.integers(min_length, max_length + 1, size=count)
    return ["".join(LETTERS[k] for k in rng.integers(0, len(LETTERS), size=length)) for length in lengths]


@dataclass
class Batch:
    """One batch, time-major. ``source`` ``(S, B)`` and ``source_lengths`` ``(B,)``; ``decoder_inputs``
    and ``targets`` ``(T, B)``, where ``T`` is one more than the longest target string.

    ``decoder_inputs`` is :data:`START` followed by the target string: what teacher forcing feeds the
    decoder, one step behind ``targets``, which is the target string followed by :data:`END`.
    """

    source: torch.Tensor
    source_lengths: torch.Tensor
    decoder_inputs: torch.Tensor
    targets: torch.Tensor
    texts: list[str]


def make_batch(texts: list[str]) -> Batch:
    """The batch that teaches the model to reverse each of ``texts``."""
    source, source_lengths = encode(texts)
    targets, _ = encode([reverse(text) for text in texts], end=True)
    decoder_inputs = torch.cat([torch.full((1, len(texts)), START), targets[:-1]])
    decoder_inputs[decoder_inputs == END] = PAD  # a string's END is a target, never an input
    return Batch(source, source_lengths, decoder_inputs, targets, list(texts))


def draw_batch(rng: np.random.Generator, batch_size: int, min_length: int, max_length: int) -> Batch:
    """A batch of ``batch_size`` fresh random strings (:func:`random_strings`)."""
    return make_batch(random_strings(rng, batch_size, min_length, max_length))
