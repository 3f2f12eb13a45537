"""Characters to integer ids and back, for the language model.

A :class:`Vocabulary` is built from the training text: every distinct character gets an id, in
sorted order, after one reserved id. Id 0, :data:`UNKNOWN`, stands for any character the
training text never contained (a Greek letter in your own corpus, a curly quote in a test text):
encoding maps it to 0 instead of failing, and decoding shows it as ``U+FFFD`` (``�``). The model
learns a probability for "some character I have not seen", which keeps the held-out loss finite
and honest; :meth:`Vocabulary.count_unknown` says how often that happened.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

UNKNOWN = 0
UNKNOWN_SYMBOL = "\ufffd"


class Vocabulary:
    """``symbols[k]`` is the character with id ``k``; ``symbols[0]`` is the unknown marker ``U+FFFD``."""

    def __init__(self, characters: Iterable[str]):
        characters = sorted(set(characters) - {UNKNOWN_SYMBOL})
        bad = [c for c in characters if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"characters: expected single characters, got {bad[:5]!r}")
        if not characters:
            raise ValueError("characters: expected at least one character, got none (empty training text?)")
        self.symbols: list[str] = [UNKNOWN_SYMBOL, *characters]
        self._ids = {symbol: index for index, symbol in enumerate(self.symbols)}
        self._lookup = np.zeros(max(map(ord, characters)) + 1, dtype=np.int64)  # code point -> id, 0 if unseen
        for index, symbol in enumerate(characters, start=1):
            self._lookup[ord(symbol)] = index

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """Every distinct character of ``text`` (the training split), plus the unknown id 0."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected str, got {type(text).__name__}")
        return cls(text)

    def __len__(self) -> int:
        return len(self.symbols)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.symbols == other.symbols

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} ids: unknown + {len(self) - 1} characters)"

    def encode(self, text: str) -> np.ndarray:
        """``(len(text),)`` int64 ids; characters not in the vocabulary become :data:`UNKNOWN` (0)."""
        if not isinstance(text, str):
            raise TypeError(f"text: expected str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        inside = codes < len(self._lookup)
        return np.where(inside, self._lookup[np.where(inside, codes, 0)], UNKNOWN)

    def decode(self, ids) -> str:
        """The text for a sequence of ids; :data:`UNKNOWN` shows as ``U+FFFD``."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids: expected integers in [0, {len(self)}), got range [{ids.min()}, {ids.max()}]")
        return "".join(self.symbols[i] for i in ids.reshape(-1).tolist())

    def count_unknown(self, text: str) -> int:
        """How many characters of ``text`` this vocabulary does not contain."""
        return int((self.encode(text) == UNKNOWN).sum())

    def to_list(self) -> list[str]:
        """The symbols, for a checkpoint (plain strings load with ``weights_only=True``)."""
        return list(self.symbols)

    @classmethod
    def from_list(cls, symbols: list[str]) -> Vocabulary:
        if not symbols or symbols[0] != UNKNOWN_SYMBOL:
            raise ValueError("symbols: expected a list starting with the unknown marker U+FFFD (from to_list)")
        vocabulary = cls(symbols[1:])
        if vocabulary.symbols != list(symbols):
            raise ValueError("symbols: expected sorted, distinct characters after the unknown marker")
        return vocabulary
