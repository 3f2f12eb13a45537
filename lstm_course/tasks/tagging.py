"""Sequence labelling: restore the capital letters of lower-cased text, one label per character.

The task (chapter 11): the input is a text lower-cased character by character, the target at
every position is whether that character was a capital letter. Characters that are not letters
(spaces, punctuation, newlines) carry no label (:data:`IGNORE`), so the loss and the accuracy count
letters only::

    text    "FIRST WITCH.\\nWhen shall we three meet again?"
    input   "first witch.\\nwhen shall we three meet again?"
    labels   11111-11111--1000-00000-00-00000-0000-000000-      (- : IGNORE)

The model is embedding → LSTM (``bidirectional`` and ``num_layers`` as in ``nn.LSTM``) → linear,
one pair of logits per position. Shapes are time-major: ``ids`` ``(T, B)`` → embeddings
``(T, B, E)`` → LSTM outputs ``(T, B, num_directions * H)`` → logits ``(T, B, 2)``.

:func:`right_context_batch` cuts, around each labelled position, ``left`` characters before it and
exactly ``right`` after it, so that a model can be scored with a known amount of right context
(:func:`accuracy_by_right_context`): a unidirectional model's output at a position cannot depend
on what follows it, a bidirectional one's can.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstm_course.models.torch_lstm import LSTM
from lstm_course.plumbing.validation import positive_int
from lstm_course.tasks.vocabulary import Vocabulary

IGNORE = -100
"""The label of a character that is not a letter: ``cross_entropy(..., ignore_index=IGNORE)`` skips it."""

LOWER, UPPER = 0, 1
IMPLEMENTATIONS = ("ours", "torch")


def lower_case(text: str) -> str:
    """``text`` lower-cased, one character for one character (so that positions and labels line up)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # e.g. "İ" lower-cases to two characters
        bad = next(c for c in text if len(c.lower()) != 1)
        raise ValueError(f"text: expected characters that lower-case to one character each, got {bad!r}")
    return lowered


def case_labels(text: str) -> np.ndarray:
    """``(len(text),)`` int64: :data:`UPPER` for a capital, :data:`LOWER` for a small letter, else :data:`IGNORE`."""
    label_of = {character: UPPER if character.isupper() else LOWER if character.islower() else IGNORE
                for character in set(text)}
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    table = np.full(int(codes.max(initial=0)) + 1, IGNORE, dtype=np.int64)
    for character, label in label_of.items():
        table[ord(character)] = label
    return table[codes]


@dataclass
class CaseData:
    """One split for the tagger: ``ids`` of the lower-cased text and the ``labels`` of the original, both ``(N,)``."""

    ids: np.ndarray
    labels: np.ndarray

    @classmethod
    def from_text(cls, text: str, vocabulary: Vocabulary) -> CaseData:
        return cls(vocabulary.encode(lower_case(text)), case_labels(text))


def case_restoration_data(splits: dict[str, str]) -> tuple[Vocabulary, dict[str, CaseData]]:
    """The vocabulary of the lower-cased training text, and every split as :class:`CaseData`."""
    vocabulary = Vocabulary.from_text(lower_case(splits["train"]))
    return vocabulary, {name: CaseData.from_text(text, vocabulary) for name, text in splits.items()}


def random_windows(data: CaseData, window: int, batch_size: int,
                   rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` windows of ``window`` characters at random places: ids and labels, each ``(T, B)`` int64."""
    positive_int("window", window, maximum=len(data.ids))
    positive_int("batch_size", batch_size)
    starts = rng.integers(0, len(data.ids) - window + 1, size=batch_size)
    index = starts[None, :] + np.arange(window)[:, None]  # (T, B)
    return torch.from_numpy(data.ids[index]), torch.from_numpy(data.labels[index])


def letter_positions(data: CaseData, count: int, margin: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct positions of letters, drawn at random, sorted, at least ``margin`` from either end."""
    candidates = np.flatnonzero(data.labels[margin:len(data.labels) - margin] != IGNORE) + margin
    positive_int("count", count, maximum=len(candidates))
    return np.sort(rng.choice(candidates, size=count, replace=False))


def right_context_batch(data: CaseData, positions: np.ndarray, left: int,
                        right: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Around each position ``p``, the ids ``data.ids[p - left : p + right + 1]``: ``(left + 1 + right, N)``.

    Returns them with the labels at the positions, ``(N,)``. The labelled character sits at row
    ``left`` of every column, with exactly ``left`` characters before it and ``right`` after it: a
    model sees nothing further to the right.
    """
    positions = np.asarray(positions)
    if positions.min() < left or positions.max() + right >= len(data.ids):
        raise ValueError(f"positions: expected positions from {left} to {len(data.ids) - right - 1} "
                         f"(left={left}, right={right}), got range [{positions.min()}, {positions.max()}]")
    index = positions[None, :] + np.arange(-left, right + 1)[:, None]
    return torch.from_numpy(data.ids[index]), torch.from_numpy(data.labels[positions])


@dataclass
class TaggerConfig:
    """Sizes of :class:`CaseTagger`. ``vocabulary_size`` includes the unknown id 0."""

    vocabulary_size: int
    embedding_size: int = 16
    hidden_size: int = 64
    num_layers: int = 1
    bidirectional: bool = False
    implementation: str = "ours"

    def __post_init__(self):
        for name in ("vocabulary_size", "embedding_size", "hidden_size", "num_layers"):
            positive_int(name, getattr(self, name))
        if not isinstance(self.bidirectional, bool):
            raise ValueError(f"bidirectional: expected True or False, got {self.bidirectional!r}")
        if self.implementation not in IMPLEMENTATIONS:
            raise ValueError(f"implementation: expected one of {IMPLEMENTATIONS}, got {self.implementation!r}")

    @property
    def name(self) -> str:
        """``"uni, 1 layer"``, ``"bi, 2 layers"``, …"""
        return f"{'bi' if self.bidirectional else 'uni'}, {self.num_layers} layer{'s' if self.num_layers > 1 else ''}"


class CaseTagger(nn.Module):
    """Embedding → LSTM → linear: ``forward(ids (T, B)) -> logits (T, B, 2)``, one pair per character.

    ``implementation="ours"`` runs :class:`lstm_course.models.torch_lstm.LSTM`, ``"torch"`` ``nn.LSTM``;
    both take ``num_layers`` and ``bidirectional``, and a bidirectional layer's output at step
    ``t`` is ``[forward h_t | backward h_t]``, width ``2H``.
    """

    def __init__(self, config: TaggerConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocabulary_size, config.embedding_size)
        recurrent = LSTM if config.implementation == "ours" else nn.LSTM
        self.lstm = recurrent(config.embedding_size, config.hidden_size, num_layers=config.num_layers,
                              bidirectional=config.bidirectional)
        directions = 2 if config.bidirectional else 1
        self.output = nn.Linear(directions * config.hidden_size, 2)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        if ids.dim() != 2 or ids.dtype != torch.int64:
            raise ValueError(f"ids: expected a (T, B) int64 tensor, got shape {tuple(ids.shape)} and dtype {ids.dtype}")
        outputs, _ = self.lstm(self.embedding(ids))
        return self.output(outputs)


def tagging_loss(model: CaseTagger, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over the letters of a ``(ids (T, B), labels (T, B))`` batch."""
    ids, labels = batch
    logits = model(ids)
    return nn.functional.cross_entropy(logits.reshape(-1, 2), labels.reshape(-1), ignore_index=IGNORE)


@torch.no_grad()
def predict(model: CaseTagger, ids: torch.Tensor) -> np.ndarray:
    """The predicted label at every position of ``ids`` ``(T, B)``: ``(T, B)`` int64, computed in eval mode."""
    was_training = model.training
    model.eval()
    predicted = model(ids).argmax(dim=-1).numpy()
    model.train(was_training)
    return predicted


def predict_at(model: CaseTagger, ids: torch.Tensor, row: int, batch_size: int = 1024) -> np.ndarray:
    """The predicted label at row ``row`` of every column of ``ids`` ``(T, N)``: ``(N,)`` int64."""
    return np.concatenate([predict(model, ids[:, start:start + batch_size])[row]
                           for start in range(0, ids.shape[1], batch_size)])


def accuracy_by_right_context(model: CaseTagger, data: CaseData, positions: np.ndarray, left: int,
                              rights) -> dict[int, float]:
    """``{k: fraction of the letters at positions labelled right}`` when the model sees ``k`` characters after each."""
    scores = {}
    for right in rights:
        ids, labels = right_context_batch(data, positions, left, right)
        scores[int(right)] = float(np.mean(predict_at(model, ids, left) == labels.numpy()))
    return scores


def predict_in_windows(model: CaseTagger, data: CaseData, context: int = 64, batch_size: int = 256) -> np.ndarray:
    """``(N,)`` int64: the label predicted at each position of ``data``, seen with ``context`` characters on both sides.

    The text is read in overlapping windows of ``3 * context`` characters, ``context`` apart; each
    window labels its middle third. The first ``context`` characters, and the last ``context`` to
    ``2 * context - 1``, are in no middle third: they get :data:`IGNORE`.
    """
    positive_int("context", context)
    window, middle = 3 * context, slice(context, 2 * context)
    starts = np.arange(0, len(data.ids) - window + 1, context)
    predicted = np.full(len(data.ids), IGNORE, dtype=np.int64)
    for first in range(0, len(starts), batch_size):
        index = starts[None, first:first + batch_size] + np.arange(window)[:, None]  # (3 * context, windows)
        predicted[index[middle]] = predict(model, torch.from_numpy(data.ids[index]))[middle]
    return predicted


def letter_error_rate(model: CaseTagger, data: CaseData, context: int = 64, batch_size: int = 256) -> float:
    """Fraction of the letters of ``data`` labelled wrong, each seen with ``context`` characters on both sides.

    The letters are those :func:`predict_in_windows` labels: all but a few at the two ends.
    """
    predicted = predict_in_windows(model, data, context, batch_size)
    scored = (predicted != IGNORE) & (data.labels != IGNORE)
    return float(np.mean(predicted[scored] != data.labels[scored]))


def rule_predictions(text: str, look_ahead: bool = True) -> np.ndarray:
    """A rule that needs no training: capitalise the first letter of a line and of a sentence, and the word "i".

    ``text`` is lower-cased text; returns ``(len(text),)`` labels, :data:`IGNORE` at non-letters.
    A sentence starts after ``.``, ``!`` or ``?``. The word "i" is an "i" with no letter on either
    side, and to see that no letter follows it the rule looks one character to the right of the
    letter it labels: it uses one character of right context.

    With ``look_ahead=False`` the rule is causal, as a left-to-right tagger is: each label depends
    only on the letter and the text before it. It cannot tell the word "i" from the first letter
    of "in", "is", "it", and leaves an "i" that starts a word in lower case unless it starts a
    sentence or a line: in the training plays, about a third of those "i"s are capitals.
    """
    predictions = np.full(len(text), IGNORE, dtype=np.int64)
    starts_sentence = True
    for position, character in enumerate(text):
        if character.isalpha():
            word_i = False
            if look_ahead and character == "i":  # one character to the right: is it a word of its own?
                word_i = not (position > 0 and text[position - 1].isalpha()) and \
                    not (position + 1 < len(text) and text[position + 1].isalpha())
            predictions[position] = UPPER if starts_sentence or word_i else LOWER
            starts_sentence = False
        elif character in ".!?\n":
            starts_sentence = True
    return predictions


def lines_of(text: str):
    """Each line of ``text`` as ``(start, line, follows_blank_line)``: its first index, its characters
    without the newline, and whether the line before it was blank (true for the first line)."""
    start, follows_blank_line = 0, True
    for line in text.split("\n"):
        yield start, line, follows_blank_line
        follows_blank_line = not line.strip()
        start += len(line) + 1


PUNCTUATION = ".,;:!?"
"""The marks that end the capitals of a line after a blank line, in :func:`strong_causal_predictions`."""

WORD = re.compile(r"[^\W\d_]+")
"""A word, for the lexicon: a run of letters (an apostrophe or a hyphen splits it)."""


def strong_causal_predictions(text: str) -> np.ndarray:
    """The causal rule, plus: a line that follows a blank line is in capitals up to its first punctuation mark.

    ``text`` is lower-cased text; returns ``(len(text),)`` labels, :data:`IGNORE` at non-letters.
    After a blank line (or at the start of ``text``) comes a speaker's name (``FIRST WITCH.``), a
    heading (``ACT I.``) or a stage direction: every letter of that line is a capital until the
    first of :data:`PUNCTUATION`, then :func:`rule_predictions` with ``look_ahead=False`` labels
    the rest. Each label depends only on the letter and the text before it: no right context.
    """
    predictions = rule_predictions(text, look_ahead=False)
    for line_start, line, after_blank_line in lines_of(text):
        if after_blank_line:
            for offset, character in enumerate(line):
                if character in PUNCTUATION:
                    break
                if character.isalpha():
                    predictions[line_start + offset] = UPPER
    return predictions


def word_casing_lexicon(train_text: str) -> dict[str, str]:
    """Each word of the *training* text, lower-cased, mapped to its most frequent casing there.

    The standard truecasing baseline (Lita et al., 2003): ``{"macbeth": "Macbeth", "the": "the", ...}``.
    Words are runs of letters (:data:`WORD`); a tie goes to the casing seen first.
    """
    counts = defaultdict(Counter)
    for match in WORD.finditer(train_text):
        counts[match.group().lower()][match.group()] += 1
    return {word: casings.most_common(1)[0][0] for word, casings in counts.items()}


HEADING_LINE = re.compile(r"[^\W\d_][^\n.!?,;:]{0,40}\.")
"""A short line that starts with a letter and ends with its only punctuation mark, a ``.``: ``first witch.``"""


def lexicon_predictions(text: str, lexicon: dict[str, str]) -> np.ndarray:
    """The look-ahead rule, plus the words' casings in ``lexicon``, plus the short lines after a blank line.

    ``text`` is lower-cased text; returns ``(len(text),)`` labels, :data:`IGNORE` at non-letters.
    A letter is a capital if :func:`rule_predictions` (one character of right context) says so, or
    if it is one in its word's casing in ``lexicon`` (:func:`word_casing_lexicon` of the training
    plays; a word not in it stays lower case), or if its line follows a blank line (or starts
    ``text``) and is a :data:`HEADING_LINE`, a speaker's name such as ``first witch.``. Right
    context: the lexicon reads to the end of the letter's word, the heading test to the end of its
    line (at most 42 characters).
    """
    predictions = rule_predictions(text, look_ahead=True)
    for match in WORD.finditer(text):
        cased = lexicon.get(match.group(), match.group())
        capitals = np.array([character.isupper() for character in cased])
        span = predictions[match.start():match.end()]
        span[capitals] = UPPER
    for line_start, line, after_blank_line in lines_of(text):
        if after_blank_line and HEADING_LINE.fullmatch(line):
            letters = [line_start + offset for offset, character in enumerate(line) if character.isalpha()]
            predictions[letters] = UPPER
    return predictions


CATEGORIES = ("the word I", "all-capital line", "first letter of a line", "first letter of a word", "inside a word")
"""Where a letter stands, for counting a tagger's errors by kind (:func:`letter_categories`)."""


def letter_categories(text: str) -> np.ndarray:
    """``(len(text),)`` int64: the index in :data:`CATEGORIES` of each letter of the *original* ``text``, -1 elsewhere.

    In this order of precedence: a letter of a line whose letters are all capitals, at least two
    (a speaker's name such as ``FIRST WITCH.``, ``ACT I.``); the word "I" (an "i" with no letter on
    either side, in any case); the first letter of a line; the first letter of a word; any other
    letter.
    """
    categories = np.full(len(text), -1, dtype=np.int64)
    for line_start, line, _ in lines_of(text):
        letters = [character for character in line if character.isalpha()]
        all_capitals = len(letters) >= 2 and all(character.isupper() for character in letters)
        first_letter = True
        for offset, character in enumerate(line):
            if not character.isalpha():
                continue
            before = line[offset - 1] if offset else " "
            after = line[offset + 1] if offset + 1 < len(line) else " "
            if all_capitals:
                category = 1
            elif character in "iI" and not before.isalpha() and not after.isalpha():
                category = 0
            elif first_letter:
                category = 2
            elif not before.isalpha():
                category = 3
            else:
                category = 4
            categories[line_start + offset] = category
            first_letter = False
    return categories


def parameter_count(model: nn.Module) -> int:
    return sum(parameter.numel() for parameter in model.parameters())
