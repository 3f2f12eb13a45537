"""A synthetic text that measures how far back a language model can look: recall a letter after a delay.

Each episode is one line: a key, one of :data:`KEYS`, then ``delay`` characters of noise drawn
uniformly from :data:`NOISE`, then ``?``, then the key again::

    C nlpkgoanpmik ? C

(without the spaces). Everything but the key after ``?`` is unpredictable or trivial, so a model's
accuracy on that one character, against chance 1/8, says whether it carried the key across
``delay`` characters. Trained on delays drawn from ``1 .. max_delay``, a model can be tested at
any delay, longer ones included. The text goes through the language models' own loop
(:func:`lstm_course.training.lm_training.train`) like Shakespeare does.
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_course.plumbing.validation import positive_int

KEYS = "ABCDEFGH"
NOISE = "abcdefghijklmnop"
QUERY = "?"


def episodes(num_episodes: int, delays, rng: np.random.Generator) -> tuple[str, np.ndarray]:
    """``num_episodes`` lines and their ``(num_episodes,)`` delays; ``delays``: an int, or ``(low, high)`` inclusive."""
    positive_int("num_episodes", num_episodes)
    low, high = (delays, delays) if isinstance(delays, int | np.integer) else delays
    positive_int("delay", low)
    positive_int("delay", high)
    lengths = rng.integers(low, high + 1, size=num_episodes)
    keys = rng.integers(0, len(KEYS), size=num_episodes)
    noise = rng.integers(0, len(NOISE), size=int(lengths.sum()))
    lines, used = [], 0
    for key, length in zip(keys, lengths, strict=True):
        filler = "".join(NOISE[index] for index in noise[used:used + length])
        used += length
        lines.append(f"{KEYS[key]}{filler}{QUERY}{KEYS[key]}\n")
    return "".join(lines), lengths


def text_of_size(num_characters: int, max_delay: int, seed: int) -> str:
    """About ``num_characters`` of episodes with delays uniform in ``1 .. max_delay``, reproducible from ``seed``."""
    mean_episode = (max_delay + 1) / 2 + 4
    text, _ = episodes(max(1, int(num_characters / mean_episode)), (1, max_delay), np.random.default_rng(seed))
    return text


@torch.no_grad()
def recall_accuracy(model, vocabulary, delay: int, num_episodes: int = 256, seed: int = 0, chunk: int = 1) -> float:
    """The share of ``num_episodes`` fresh episodes with this ``delay`` whose key the model ranks first after ``?``.

    Every episode follows one warm-up episode (so the model reads it as it read training text),
    and the text is fed ``chunk`` characters at a time with the state carried: with ``chunk = 1``,
    as in generation, a Transformer sees exactly its last ``context_size`` positions.
    """
    rng = np.random.default_rng(seed)
    warm_up, _ = episodes(num_episodes, 8, rng)
    tested, _ = episodes(num_episodes, delay, rng)
    warm_lines, tested_lines = warm_up.splitlines(keepends=True), tested.splitlines(keepends=True)
    streams = np.stack([vocabulary.encode(warm + line) for warm, line in zip(warm_lines, tested_lines, strict=True)],
                       axis=1)  # (T, B): every stream has the same length
    ids = torch.from_numpy(streams[:-2])  # up to and including "?"
    model.eval()
    state, logits = None, None
    for start in range(0, ids.shape[0], chunk):
        logits, state = model(ids[start:start + chunk], state)
    key_ids = torch.tensor([vocabulary.encode(key)[0] for key in KEYS])
    predicted = key_ids[logits[-1][:, key_ids].argmax(dim=1)]  # the likeliest key
    return float((predicted == torch.from_numpy(streams[-2])).float().mean())
