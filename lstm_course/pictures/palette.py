"""One colour per gate, the same in every diagram, plot and heat map of the course.

The colours are Okabe and Ito's palette for colour-blind readers. Gates are keyed by the names of
:data:`lstm_course.scratch.numpy_lstm.GATES` (``i, f, g, o``). The GRU's update gate ``z`` decides how much
of the old state to keep, as the forget gate does, so it shares the forget gate's colour; its
candidate ``n`` shares the LSTM candidate's. Signed quantities (cell states, what a step writes)
use one diverging map, :data:`SIGNED_COLORMAP`; attention weights their own colour,
:data:`ATTENTION_COLOUR`.

Every figure is drawn on an opaque white background, so it stays legible when the book is in dark
mode.
"""

from __future__ import annotations

from matplotlib.colors import LinearSegmentedColormap, to_hex, to_rgb

from lstm_course.scratch.numpy_lstm import GATES

GATE_COLOURS = {"i": "#009E73", "f": "#0072B2", "g": "#E69F00", "o": "#CC79A7"}
"""Gate name → colour: input green, forget blue, candidate orange, output pink."""

GATE_NAMES = {"i": "input gate", "f": "forget gate", "g": "candidate", "o": "output gate"}

GRU_GATE_COLOURS = {"r": "#999933", "z": GATE_COLOURS["f"], "n": GATE_COLOURS["g"]}
"""The GRU's reset gate (olive), update gate (as forget) and candidate (as the LSTM's)."""

CELL_COLOUR = "#D55E00"
"""The cell state c_t and its carousel (vermilion)."""

HIDDEN_COLOUR = "#4D4D4D"
"""The hidden state h_t, inputs and other data (dark grey)."""

GRADIENT_COLOUR = "#6A3D9A"
"""Backward paths: gradients (deep purple, drawn dashed)."""

ATTENTION_COLOUR = "#332288"
"""Attention: its weights and what it reads (indigo, from Paul Tol's colour-blind-safe palette), for the
encoder-decoder of chapter 12."""

SIGNED_COLORMAP = "RdBu_r"
"""Diverging map for signed values such as cell states: blue negative, red positive."""

BACKGROUND = "white"
"""Every figure's background: opaque, so that dark mode does not swallow black lines."""

assert set(GATE_COLOURS) == set(GATES), "one colour per gate of numpy_lstm.GATES"


def gate_colour(gate: str) -> str:
    """The colour of an LSTM gate (``"i", "f", "g", "o"``) or a GRU gate (``"r", "z", "n"``)."""
    colours = {**GATE_COLOURS, **GRU_GATE_COLOURS}
    if gate not in colours:
        raise ValueError(f"gate: expected one of {tuple(colours)}, got {gate!r}")
    return colours[gate]


def tint(colour: str, amount: float) -> str:
    """``colour`` mixed with white: ``amount`` 1 keeps it, 0 gives white."""
    if not 0 <= amount <= 1:
        raise ValueError(f"amount: expected a number in [0, 1], got {amount!r}")
    return to_hex(tuple(amount * channel + (1 - amount) for channel in to_rgb(colour)))


def gate_colormap(gate: str) -> LinearSegmentedColormap:
    """A sequential map from white (gate value 0, closed) to the gate's colour (1, open)."""
    return LinearSegmentedColormap.from_list(f"gate_{gate}", [BACKGROUND, gate_colour(gate)])


def attention_colormap() -> LinearSegmentedColormap:
    """A sequential map from white (attention weight 0) to :data:`ATTENTION_COLOUR` (weight 1)."""
    return LinearSegmentedColormap.from_list("attention", [BACKGROUND, ATTENTION_COLOUR])


def shades(gate: str, count: int) -> list[str]:
    """``count`` shades of a gate's colour, lightest first: one per curve of a family (e.g. biases)."""
    if not isinstance(count, int) or count < 1:
        raise ValueError(f"count: expected a positive integer, got {count!r}")
    return [tint(gate_colour(gate), 0.35 + 0.65 * k / max(count - 1, 1)) for k in range(count)]
