"""The course's pictures, drawn by code: one definition of each, reused wherever a chapter needs it.

Each public function returns a :class:`Diagram`: a PNG for the notebook and the book, whose
plain-text form is its alt text (what the picture shows, in words). The cell is drawn once, by
:func:`lstm_cell`; a chapter passes the parts it is about as ``highlight`` and the rest fades.
Colours come from :mod:`lstm_course.pictures.palette` (one per gate), the gate order and the weight shapes
from :data:`lstm_course.scratch.numpy_lstm.GATES`, the same as the code. Backward paths are dashed purple.

==========================  ==========  ==============================================
function                    chapter     what it shows
==========================  ==========  ==============================================
:func:`unrolled_rnn`        1           an RNN unrolled in time; the product of Jacobians
:func:`lstm_cell`           2 to 5, 9   the cell, one part highlighted; gradient paths (4)
:func:`unrolled_lstm`       6           BPTT: forward, backward, what each step caches
:func:`bidirectional_lstm`  7           two layers, two directions, ``nn.LSTM``'s shapes
:func:`bidirectional_tagger` 11         one label per character from both streams; right context ``k``
:func:`cell_variants`       9           the LSTM beside the GRU; the peephole and coupled-gate cells
:func:`language_model_flow` 10          text → streams → batches → embedding → LSTM → logits
:func:`data_parallelism`    11          processes, shards of the streams, the all-reduce
:func:`encoder_decoder`     12          encoder, fixed-size summary, decoder; attention
:func:`walk_forward`        13          a series split in time; forecast origins rolling forward
:func:`what_each_model_keeps` 14        the LSTM, a Transformer, minGRU/minLSTM: what each keeps of the past
==========================  ==========  ==============================================
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch

from lstm_course.pictures.palette import (
    ATTENTION_COLOUR,
    BACKGROUND,
    CELL_COLOUR,
    GATE_COLOURS,
    GATE_NAMES,
    GRADIENT_COLOUR,
    GRU_GATE_COLOURS,
    HIDDEN_COLOUR,
    tint,
)
from lstm_course.scratch.numpy_lstm import GATES

PIXELS_PER_INCH = 100
"""Display width: as many pixels per inch of figure as the course's plots (``figure.dpi`` 100)."""

RENDER_DPI = 200
"""Pixels per inch in the PNG: twice the display size, sharp on high-density screens."""

FONT_SCALE = 1.2
"""Text sizes are multiplied by this: the book shows a 7.8-inch diagram about 680 pixels wide."""

FADED = 0.22
"""How much colour a part keeps when it is not highlighted."""

LSTM_PARTS = (*GATES, "c", "h")
"""What :func:`lstm_cell` can highlight: a gate, the cell state ``c`` (the carousel), the hidden state ``h``."""


class Diagram:
    """A drawn picture: ``png`` bytes, shown ``width`` pixels wide, described by ``alt``.

    ``labels`` holds every text drawn on it, so that tests can read what the picture says.
    """

    def __init__(self, png: bytes, width: int, alt: str, labels: list[str]):
        self.png, self.width, self.alt, self.labels = png, width, alt, labels

    def _repr_png_(self):
        return self.png, {"width": self.width}

    def __repr__(self) -> str:
        return self.alt


# --- drawing primitives, on axes whose units are equal in x and y ---------------------------------


class _Sketch:
    """Axes to draw on, and the texts drawn (for :attr:`Diagram.labels`)."""

    def __init__(self, ax, labels: list[str], text_scale: float = 1.0):
        self.ax, self.labels, self.points, self.text_scale = ax, labels, [], text_scale

    def text(self, xy, text, colour="black", size=10, **options):
        self.labels.append(text)
        self.ax.text(*xy, text, color=colour, fontsize=size * FONT_SCALE * self.text_scale,
                     ha=options.pop("ha", "center"), va=options.pop("va", "center"), zorder=options.pop("zorder", 6),
                     **options)

    def line(self, points, colour, width=2.0, arrow=True, dashed=False, zorder=2, bridge=False):
        """A polyline through ``points``, with an arrowhead at the last one.

        ``bridge``: a white edge around the line, so that where it crosses a line drawn below it
        (lower ``zorder``) the two visibly do not join.
        """
        style = (0, (4, 2.5)) if dashed else "solid"
        effects = [patheffects.withStroke(linewidth=width + 5, foreground=BACKGROUND)] if bridge else []
        self.points.extend(points)
        xs, ys = zip(*points, strict=True)
        if len(points) > 2 or not arrow:
            self.ax.plot(xs[:-1] if arrow else xs, ys[:-1] if arrow else ys, color=colour, linewidth=width,
                         linestyle=style, solid_capstyle="butt", zorder=zorder, path_effects=effects)
        if arrow:
            annotation = self.ax.annotate("", xy=points[-1], xytext=points[-2], zorder=zorder, annotation_clip=False,
                                          arrowprops=dict(arrowstyle="-|>", color=colour, linewidth=width,
                                                          linestyle=style, shrinkA=0, shrinkB=0,
                                                          mutation_scale=10 + 2 * width))
            annotation.arrow_patch.set_path_effects(effects)

    def box(self, centre, size, text, colour, fill=None, text_colour="black", text_size=10, rounding=0.12,
            line_width=2.0):
        (x, y), (w, h) = centre, size
        self.points.extend([(x - w / 2, y - h / 2), (x + w / 2, y + h / 2)])
        self.ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle=f"round,pad=0,rounding_size={rounding}",
                                         facecolor=fill if fill is not None else tint(colour, 0.3),
                                         edgecolor=colour, linewidth=line_width, zorder=4))
        if text:
            self.text(centre, text, colour=text_colour, size=text_size)

    def node(self, centre, symbol, colour, radius=0.28, text_colour="black"):
        """A pointwise operation: a circle with ``symbol`` (×, +) in it."""
        self.ax.add_patch(Circle(centre, radius, facecolor=BACKGROUND, edgecolor=colour, linewidth=2, zorder=5))
        self.text(centre, symbol, colour=text_colour, size=12)

    def dot(self, centre, colour):
        self.ax.add_patch(Circle(centre, 0.07, facecolor=colour, edgecolor=colour, zorder=5))


def _render(draw, size: tuple[float, float], alt: str, text_scale: float = 1.0) -> Diagram:
    """Run ``draw(sketch)`` on a new figure of ``size`` inches; returns the :class:`Diagram`.

    The drawing is scaled to fit ``size``; the PNG is then cropped to what was drawn.
    """
    figure = Figure(figsize=size, facecolor=BACKGROUND)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_aspect("equal")
    ax.axis("off")
    labels: list[str] = []
    sketch = _Sketch(ax, labels, text_scale)
    draw(sketch)
    xs, ys = zip(*sketch.points, strict=True)
    ax.set_xlim(min(xs) - 0.3, max(xs) + 0.3)
    ax.set_ylim(min(ys) - 0.3, max(ys) + 0.3)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=RENDER_DPI, facecolor=BACKGROUND, bbox_inches="tight", pad_inches=0.08,
                   metadata={"Software": None})
    png = buffer.getvalue()
    pixel_width = int.from_bytes(png[16:20], "big")  # the PNG header's IHDR width
    return Diagram(png, round(pixel_width * PIXELS_PER_INCH / RENDER_DPI), alt, labels)


def _parts(highlight, allowed: Iterable[str]) -> set[str]:
    """The set of parts to draw in full colour; ``None`` means all of them."""
    allowed = tuple(allowed)
    if highlight is None:
        return set(allowed)
    chosen = {highlight} if isinstance(highlight, str) else set(highlight)
    unknown = chosen - set(allowed)
    if unknown or not chosen:
        raise ValueError(f"highlight: expected some of {allowed}, got {highlight!r}")
    return chosen


# --- the LSTM cell ----------------------------------------------------------------------------------

_GATE_X = {"f": 2.4, "i": 4.3, "g": 6.1, "o": 8.4}  # left to right as the data flows; the weights stack i, f, g, o
_GATE_Y, _GATE_SIZE, _CAROUSEL_Y, _BUS_Y = 3.0, (1.5, 1.1), 6.2, 1.0
_ACTIVATION = {"i": "σ", "f": "σ", "g": "tanh", "o": "σ"}


def _draw_lstm(sketch: _Sketch, shown: set[str], peephole=False, coupled=False, gradient_paths=False,
               weight_strip=True, dx=0.0, dy=0.0):
    """The LSTM cell with its lower-left corner at ``(dx, dy)``; parts not in ``shown`` are faded."""

    def colour(part, base):
        return base if part in shown else tint(base, FADED)

    def at(x, y):
        return (x + dx, y + dy)

    cell, hidden = colour("c", CELL_COLOUR), colour("h", HIDDEN_COLOUR)
    grey = HIDDEN_COLOUR
    sketch.ax.add_patch(FancyBboxPatch(at(0, 0), 12.4, 7.2, boxstyle="round,pad=0,rounding_size=0.4",
                                       facecolor="#F4F4F4", edgecolor="#9A9A9A", linewidth=1.2, zorder=1))
    # The carousel: c_{t-1} -> (x f_t) -> (+ i_t g_t) -> c_t, and tanh(c_t) -> (x o_t) -> h_t.
    sketch.line([at(-1.6, _CAROUSEL_Y), at(14.0, _CAROUSEL_Y)], cell, width=4, zorder=3, bridge=True)
    sketch.text(at(-1.7, _CAROUSEL_Y + 0.45), "$c_{t-1}$", colour=cell, size=12, ha="left")
    sketch.text(at(13.9, _CAROUSEL_Y + 0.45), "$c_t$", colour=cell, size=12, ha="right")
    sketch.text(at(0.3, _CAROUSEL_Y + 0.45), "cell state (the carousel)", colour=cell, size=8, ha="left")
    # Inputs: h_{t-1} from the left, x_t from below, joined into one bus to every gate.
    sketch.line([at(-1.6, _BUS_Y), at(8.4, _BUS_Y)], grey, width=2, arrow=False)
    sketch.text(at(-1.7, _BUS_Y + 0.4), "$h_{t-1}$", colour=grey, size=12, ha="left")
    sketch.line([at(0.8, -1.2), at(0.8, _BUS_Y)], grey, width=2, arrow=False)
    sketch.dot(at(0.8, _BUS_Y), grey)
    sketch.text(at(0.8, -1.55), "$x_t$", colour=grey, size=12)
    sketch.text(at(2.2, _BUS_Y - 0.45), "$[h_{t-1},\\ x_t]$", colour=grey, size=9, ha="left")

    gates = [gate for gate in GATES if not (coupled and gate == "i")]
    for gate in gates:
        x = _GATE_X[gate]
        sketch.line([at(x, _BUS_Y), at(x, _GATE_Y - _GATE_SIZE[1] / 2)], tint(grey, 0.8), width=1.5)
        sketch.dot(at(x, _BUS_Y), grey)
        gate_colour = colour(gate, GATE_COLOURS[gate])
        sketch.box(at(x, _GATE_Y), _GATE_SIZE, f"${gate}_t$\n{_ACTIVATION[gate]}", gate_colour,
                   text_colour="black" if gate in shown else "#9A9A9A", text_size=11)

    top = _GATE_Y + _GATE_SIZE[1] / 2
    forget, input_, candidate, output = (colour(gate, GATE_COLOURS[gate]) for gate in ("f", "i", "g", "o"))
    # f_t multiplies c_{t-1}.
    sketch.line([at(_GATE_X["f"], top), at(_GATE_X["f"], _CAROUSEL_Y - 0.28)], forget)
    sketch.node(at(_GATE_X["f"], _CAROUSEL_Y), "×", forget)
    # i_t times g_t is added to the cell.
    write_y = 4.7
    if coupled:
        sketch.line([at(_GATE_X["f"], write_y), at(_GATE_X["i"] - 0.6, write_y)], forget)
        sketch.box(at(_GATE_X["i"], write_y), (1.2, 0.6), "1 − $f_t$", forget, fill=BACKGROUND, text_size=8)
        sketch.line([at(_GATE_X["i"] + 0.6, write_y), at(_GATE_X["g"] - 0.28, write_y)], forget)
        sketch.dot(at(_GATE_X["f"], write_y), forget)
    else:
        sketch.line([at(_GATE_X["i"], top), at(_GATE_X["i"], write_y), at(_GATE_X["g"] - 0.28, write_y)], input_)
    sketch.line([at(_GATE_X["g"], top), at(_GATE_X["g"], write_y - 0.28)], candidate)
    sketch.node(at(_GATE_X["g"], write_y), "×", candidate if "g" in shown else input_)
    sketch.line([at(_GATE_X["g"], write_y + 0.28), at(_GATE_X["g"], _CAROUSEL_Y - 0.28)],
                candidate if {"i", "g"} & shown else tint(CELL_COLOUR, FADED))
    sketch.node(at(_GATE_X["g"], _CAROUSEL_Y), "+", cell)
    # h_t = o_t * tanh(c_t).
    read_x, read_y, tanh_y = 10.2, 4.0, 5.1
    sketch.dot(at(read_x, _CAROUSEL_Y), cell)
    sketch.line([at(read_x, _CAROUSEL_Y), at(read_x, tanh_y + 0.3)], cell)
    sketch.box(at(read_x, tanh_y), (1.0, 0.55), "tanh", cell, fill=BACKGROUND, text_size=9,
               text_colour="black" if "c" in shown or "o" in shown else "#9A9A9A")
    sketch.line([at(read_x, tanh_y - 0.28), at(read_x, read_y + 0.28)], cell)
    sketch.line([at(_GATE_X["o"], top), at(_GATE_X["o"], read_y), at(read_x - 0.28, read_y)], output)
    sketch.node(at(read_x, read_y), "×", output)
    out_y = _BUS_Y - 0.5  # below the h_{t-1} input, so that the two do not read as one wire
    sketch.line([at(read_x, read_y - 0.28), at(read_x, out_y), at(14.0, out_y)], hidden, width=2.5)
    sketch.text(at(13.9, out_y + 0.4), "$h_t$", colour=hidden, size=12, ha="right")
    sketch.dot(at(11.4, out_y), hidden)
    sketch.line([at(11.4, out_y), at(11.4, 8.3)], hidden, width=2.5, zorder=2)
    sketch.text(at(11.6, 8.1), "$h_t$ (output)", colour=hidden, size=10, ha="left")

    if peephole:  # the gates also read the cell state: i and f see c_{t-1}, o sees c_t
        peep = colour("c", CELL_COLOUR)
        for gate, source in (("f", 1.2), ("i", 1.2), ("o", 7.2)):
            sketch.line([at(source, _CAROUSEL_Y - 0.1), at(_GATE_X[gate] - 0.3, top + 0.02)], peep, width=1.3,
                        dashed=True)
        sketch.text(at(0.2, 4.4), "peep-\nholes", colour=peep, size=8, ha="left")
        sketch.text(at(0.75, 5.75), "$c_{t-1}$", colour=peep, size=8)
        sketch.text(at(7.65, 5.75), "$c_t$", colour=peep, size=8)
    if gradient_paths:
        _draw_lstm_gradient_paths(sketch, at)
    if weight_strip:
        _draw_weight_strip(sketch, at, "$W_{ih}$ (4H, D), $W_{hh}$ (4H, H), $b_{ih}$, $b_{hh}$ (4H,):"
                                       " rows stacked i, f, g, o, as torch.nn.LSTM stores them", GATES,
                           {gate: GATE_COLOURS[gate] for gate in GATES}, GATE_NAMES)


def _draw_lstm_gradient_paths(sketch, at):
    """The ways back from c_t to the past: the carousel, and through the gates, W_hh and h_{t-1}.

    The second is drawn twice: from the forget gate's product (``∂c_t/∂f_t = c_{t-1}``, the route that grows
    with the stored value) and from the write ``i_t g_t``; both end below the gates, at ``h_{t-1}``.
    """
    sketch.line([at(13.6, 7.0), at(-1.4, 7.0)], GRADIENT_COLOUR, width=2, dashed=True, zorder=4, bridge=True)
    sketch.text(at(4.9, 7.45), "along the carousel: $\\partial c_t / \\partial c_{t-1} = f_t$"
                               " (no weights, no squashing)", colour=GRADIENT_COLOUR, size=9)
    # From c_t back into the gates that wrote it, below them through W_hh, out to h_{t-1}.
    sketch.line([at(6.45, _CAROUSEL_Y - 0.2), at(7.2, _CAROUSEL_Y - 0.2), at(7.2, 2.05), at(-1.5, 2.05)],
                GRADIENT_COLOUR, width=2, dashed=True, zorder=4, bridge=True)
    # From the forget gate's product down through f_t: its gradient is c_{t-1} times the one reaching c_t.
    forget_x = _GATE_X["f"] + 0.95
    sketch.line([at(_GATE_X["f"] + 0.2, _CAROUSEL_Y - 0.25), at(forget_x, _CAROUSEL_Y - 0.25), at(forget_x, 2.2)],
                GRADIENT_COLOUR, width=2, dashed=True, zorder=4, bridge=True)
    sketch.text(at(0.2, 4.95), "via $f_t$:\n$\\partial c_t / \\partial f_t = c_{t-1}$", colour=GRADIENT_COLOUR,
                size=8.5, ha="left")
    sketch.text(at(-1.6, 3.1), "through the gates,\nσ′, tanh′ and $W_{hh}$\nto $h_{t-1}$ (gone\nwhen $W_{hh} = 0$)",
                colour=GRADIENT_COLOUR, size=8.5, ha="left")


def _multiple(k: int, symbol: str = "H") -> str:
    """``k`` times ``symbol``, as a shape label: 0, H, 2H, ..."""
    return {0: "0", 1: symbol}.get(k, f"{k}{symbol}")


def _draw_weight_strip(sketch, at, title, gates, colours, names):
    """The stacked weight matrix's rows, one block per gate, in the code's order."""
    width = 12.4 / len(gates)
    for k, gate in enumerate(gates):
        bounds = f"rows {_multiple(k)}:{_multiple(k + 1)}"
        sketch.box(at(width * (k + 0.5), -2.55), (width - 0.1, 0.9), f"{gate}: {names[gate]}\n{bounds}", colours[gate],
                   fill=tint(colours[gate], 0.3), text_size=9, rounding=0.05, line_width=1.5)
    sketch.text(at(6.2, -3.4), title, colour="black", size=9)


def lstm_cell(highlight=None, gradient_paths: bool = False, peephole: bool = False, coupled: bool = False) -> Diagram:
    """The LSTM cell: ``x_t``, ``h_{t-1}``, ``c_{t-1}`` in; four gates; ``c_t``, ``h_t`` out.

    ``highlight``: the parts a chapter is about, some of :data:`LSTM_PARTS` (a gate, ``"c"`` for the
    cell state, ``"h"`` for the hidden state); the rest is faded. ``None`` draws all in full colour.
    ``gradient_paths`` adds chapter 4's backward paths (the carousel, and through the gates to ``h_{t-1}``);
    ``peephole`` and ``coupled`` draw those variants (chapter 9).
    """
    shown = _parts(highlight, LSTM_PARTS)
    if coupled and "i" in shown and highlight is not None:
        raise ValueError("highlight: the coupled cell has no input gate (i_t = 1 - f_t)")
    described = ", ".join(GATE_NAMES[gate] if gate in GATE_NAMES else {"c": "cell state", "h": "hidden state"}[gate]
                          for gate in LSTM_PARTS if gate in shown)
    variant = "peephole " if peephole else "coupled-gate " if coupled else ""
    alt = (f"Diagram of the {variant}LSTM cell. The cell state c runs straight across the top from c_{{t-1}} to c_t, "
           "multiplied by the forget gate f_t and added to the input gate i_t times the candidate g_t; "
           "the input x_t and the previous hidden state h_{t-1} join at the bottom and feed the four gates, "
           "drawn left to right as the data flows: f, i, g, o; h_t = o_t times tanh(c_t) leaves at the right "
           "and at the top. Below, the stacked weight rows in the code's order i, f, g, o. "
           f"In full colour: {described}.")
    if peephole:
        alt += " Dashed lines from the cell state into the gates f, i and o are the peephole connections."
    if coupled:
        alt += " The input gate is replaced by 1 − f_t."
    if gradient_paths:
        alt += (" Dashed purple arrows point backwards: along the cell state, where each step multiplies the "
                "gradient by f_t only; and from the cell state down through the gates, the weights W_hh and "
                "h_{t-1}, once from the write i_t g_t and once through the forget gate, whose gradient is the "
                "stored value c_{t-1} times the gradient reaching c_t.")
    height = 8.6 if gradient_paths else 8.2
    return _render(lambda sketch: _draw_lstm(sketch, shown, peephole, coupled, gradient_paths), (7.8, height), alt)


# --- the GRU and the variants -----------------------------------------------------------------------

_GRU_NAMES = {"r": "reset gate", "z": "update gate", "n": "candidate"}


def _draw_gru(sketch: _Sketch, dx=0.0, dy=0.0):
    """The GRU cell, PyTorch's equations (``lstm_course.models.variants.GRU``), lower-left corner at ``(dx, dy)``."""

    def at(x, y):
        return (x + dx, y + dy)

    grey, state_y, bus_y, gate_y = HIDDEN_COLOUR, 6.2, 1.0, 3.0
    gate_x = {"z": 2.2, "r": 4.0, "n": 7.2}
    reset, update, candidate = (GRU_GATE_COLOURS[gate] for gate in ("r", "z", "n"))
    sketch.ax.add_patch(FancyBboxPatch(at(0, 0), 12.4, 7.2, boxstyle="round,pad=0,rounding_size=0.4",
                                       facecolor="#F4F4F4", edgecolor="#9A9A9A", linewidth=1.2, zorder=1))
    sketch.line([at(-1.6, state_y), at(14.0, state_y)], grey, width=4, zorder=3)
    sketch.text(at(-1.7, state_y + 0.45), "$h_{t-1}$", colour=grey, size=12, ha="left")
    sketch.text(at(13.9, state_y + 0.45), "$h_t$", colour=grey, size=12, ha="right")
    sketch.text(at(0.8, state_y + 0.45), "hidden state (the only state)", colour=grey, size=8, ha="left")
    # Two inputs kept apart, because the candidate treats them differently: h_{t-1} (upper line)
    # reaches it only through the reset gate, x_t (lower line) directly.
    h_bus, x_bus = bus_y + 0.6, bus_y - 0.1
    sketch.dot(at(0.4, state_y), grey)
    sketch.line([at(0.4, state_y), at(0.4, h_bus), at(5.6, h_bus)], grey, width=2, arrow=False)
    sketch.text(at(0.55, h_bus + 0.3), "$h_{t-1}$", colour=grey, size=8, ha="left")
    sketch.line([at(1.1, -1.2), at(1.1, x_bus), at(8.2, x_bus)], grey, width=2, arrow=False)
    sketch.text(at(1.1, -1.55), "$x_t$", colour=grey, size=12)
    top = gate_y + 0.55
    for gate, x in gate_x.items():
        if gate == "n":  # x_t only: W_in x_t + b_in
            sketch.line([at(8.2, x_bus), at(8.2, gate_y - 0.8), at(x, gate_y - 0.8), at(x, gate_y - 0.55)],
                        tint(grey, 0.8), width=1.5)
            sketch.text(at(8.35, 1.55), "$W_{in} x_t$", colour=grey, size=8, ha="left")
        else:  # z and r read both inputs
            sketch.line([at(x, x_bus), at(x, gate_y - 0.55)], tint(grey, 0.8), width=1.5)
            sketch.dot(at(x, h_bus), grey)
        sketch.dot(at(8.2 if gate == "n" else x, x_bus), grey)
        sketch.box(at(x, gate_y), (1.5, 1.1), f"${gate}_t$\n{'tanh' if gate == 'n' else 'σ'}", GRU_GATE_COLOURS[gate],
                   text_size=11)
    # r_t scales W_hn h_{t-1} + b_hn before the candidate sees it.
    sketch.line([at(5.6, h_bus), at(5.6, gate_y - 0.28)], tint(grey, 0.8), width=1.5)
    sketch.text(at(5.75, 2.15), "$W_{hn} h_{t-1}$", colour=grey, size=8, ha="left")
    sketch.line([at(gate_x["r"], top), at(gate_x["r"], 4.2), at(5.6, 4.2), at(5.6, gate_y + 0.28)], reset)
    sketch.node(at(5.6, gate_y), "×", reset)
    sketch.line([at(5.88, gate_y), at(gate_x["n"] - 0.75, gate_y)], reset)
    # h_t = z_t * h_{t-1} + (1 - z_t) * n_t
    sketch.line([at(gate_x["z"], top), at(gate_x["z"], state_y - 0.28)], update)
    sketch.node(at(gate_x["z"], state_y), "×", update)
    sketch.dot(at(gate_x["z"], 5.2), update)
    sketch.line([at(gate_x["z"], 5.2), at(5.0, 5.2)], update)
    sketch.box(at(5.6, 5.2), (1.2, 0.6), "1 − $z_t$", update, fill=BACKGROUND, text_size=8)
    sketch.line([at(6.2, 5.2), at(gate_x["n"] - 0.28, 5.2)], update)
    sketch.line([at(gate_x["n"], top), at(gate_x["n"], 5.2 - 0.28)], candidate)
    sketch.node(at(gate_x["n"], 5.2), "×", candidate)
    sketch.line([at(gate_x["n"], 5.48), at(gate_x["n"], state_y - 0.28)], candidate)
    sketch.node(at(gate_x["n"], state_y), "+", grey)
    sketch.line([at(11.4, state_y), at(11.4, 8.3)], grey, width=2.5)
    sketch.dot(at(11.4, state_y), grey)
    sketch.text(at(11.6, 8.1), "$h_t$ (output)", colour=grey, size=10, ha="left")
    _draw_weight_strip(sketch, at, "weight_ih (3H, D), weight_hh (3H, H): rows stacked r, z, n,"
                                    " as torch.nn.GRU stores them", ("r", "z", "n"), GRU_GATE_COLOURS, _GRU_NAMES)


def gru_cell() -> Diagram:
    """The GRU cell alone (chapter 9 draws it beside the LSTM in :func:`cell_variants`)."""
    return _render(_draw_gru, (7.8, 8.2), _GRU_ALT)


_GRU_ALT = ("The GRU cell: one state h runs across the top; the update gate z_t keeps z_t times h_{t-1} and adds "
            "1 − z_t times the candidate n_t. The gates z_t and r_t read both x_t and h_{t-1}; the candidate reads "
            "x_t directly and h_{t-1} only as W_hn h_{t-1} scaled by the reset gate r_t. Below, the weight rows "
            "stacked r, z, n as in torch.nn.GRU.")


CELLS = {
    "lstm": ("the LSTM (this course's)", dict(),
             "the LSTM: the cell state runs across the top, the forget gate f multiplies it, the input gate i times "
             "the candidate g is added, and the output gate o reads tanh(c) out as h"),
    "peephole": ("peephole: the gates see c", dict(peephole=True),
                 "the peephole LSTM: dashed lines from the cell state into the gates, c_{t-1} into f and i, c_t "
                 "into o"),
    "coupled": ("coupled gates (CIFG): i = 1 − f", dict(coupled=True),
                "the coupled-gate LSTM: no input gate; 1 − f_t takes its place"),
    "gru": ("the GRU: two gates, one state", None, None),
}
"""What :func:`cell_variants` can draw: name → (title, options of :func:`lstm_cell`, description)."""


def cell_variants(cells=("lstm", "gru")) -> Diagram:
    """Cells one above the other, each drawn as large as :func:`lstm_cell` draws one: some of :data:`CELLS`.

    Stacked rather than side by side, so that each stays readable at the book's text width.
    """
    if isinstance(cells, str) or not cells or any(cell not in CELLS for cell in cells) or len(set(cells)) != len(cells):
        raise ValueError(f"cells: expected distinct names from {tuple(CELLS)}, got {cells!r}")

    def draw(sketch):
        for k, name in enumerate(cells):
            title, options, _ = CELLS[name]
            dy = -k * 11.5
            if options is None:
                _draw_gru(sketch, dy=dy)
            else:
                _draw_lstm(sketch, set(LSTM_PARTS), weight_strip=False, dy=dy, **options)
            sketch.text((6.2, dy + 9.0), title, size=12, weight="bold")

    descriptions = ["the " + _GRU_ALT[4:].rstrip(".") if CELLS[name][2] is None else CELLS[name][2] for name in cells]
    alt = f"{len(cells)} cells, one above the other. " + " ".join(
        f"{position}, {description}." for position, description in
        zip(("First", "Second", "Third", "Fourth"), descriptions, strict=False))
    return _render(draw, (7.8, 7.2 * len(cells)), alt)


# --- unrolled in time -------------------------------------------------------------------------------


def unrolled_rnn(steps: int = 4) -> Diagram:
    """An RNN unrolled over ``steps`` steps: forward arrows, and the backward path as a product of Jacobians."""
    if not isinstance(steps, int) or not 2 <= steps <= 6:
        raise ValueError(f"steps: expected an integer from 2 to 6, got {steps!r}")
    gap = 3.0

    def draw(sketch):
        grey = HIDDEN_COLOUR
        for t in range(steps + 1):
            x = t * gap
            sketch.box((x, 0), (1.5, 1.0), f"$h_{t}$", grey, fill=tint(grey, 0.12), text_size=13)
            if t:
                sketch.line([(x, -2.0), (x, -0.5)], grey)
                sketch.text((x, -2.35), f"$x_{t}$", size=12)
                sketch.text((x - 0.15, -1.25), "$W_{ih}$", size=8, colour=grey, ha="right")
                sketch.line([(x - gap + 0.75, 0), (x - 0.75, 0)], grey)
                sketch.text((x - gap / 2, -0.35), "$W_{hh}$, tanh", size=8, colour=grey)
                curve_y = 1.25
                sketch.line([(x - 0.5, 0.5), (x - 0.5, curve_y), (x - gap + 0.5, curve_y), (x - gap + 0.5, 0.5)],
                            GRADIENT_COLOUR, width=1.8, dashed=True)
                sketch.text((x - gap / 2, curve_y + 0.4), f"$J_{t} = \\partial h_{t} / \\partial h_{t - 1}$",
                            colour=GRADIENT_COLOUR, size=9)
        last = steps * gap
        sketch.box((last, 3.1), (1.2, 0.8), "$L$", "black", fill=BACKGROUND, text_size=13)
        sketch.line([(last + 0.5, 0.5), (last + 0.5, 2.7)], grey)
        sketch.line([(last, 2.7), (last, 0.5)], GRADIENT_COLOUR, width=1.8, dashed=True)
        product = "\\;".join(f"J_{t}" for t in range(steps, 1, -1))
        sketch.text((steps * gap / 2, 3.1), f"$\\partial h_{steps} / \\partial h_1 = {product}$", size=12,
                    colour=GRADIENT_COLOUR)
        sketch.text((steps * gap / 2, -3.4), "$J_t = \\mathrm{diag}(1 - h_t^2)\\, W_{hh}$: the same $W_{hh}$ at every "
                                             "step,\nso the product tends to shrink or grow geometrically with the lag",
                    size=10, colour=GRADIENT_COLOUR)

    alt = (f"An RNN unrolled over {steps} steps: hidden states h_0 to h_{steps} in a row, each computed from the one "
           "before through W_hh and tanh and from its input x_t through W_ih; the loss L reads the last one. Dashed "
           "purple arrows run backwards, one Jacobian J_t = ∂h_t/∂h_{t-1} = diag(1 − h_t²) W_hh per step, so the "
           f"gradient reaching h_1 is their product.")
    return _render(draw, (7.8, 3.9), alt)


def unrolled_lstm(steps: int = 3) -> Diagram:
    """The LSTM unrolled for BPTT: ``(h, c)`` forward, ``(δh, δc)`` backward, and what each step caches."""
    if not isinstance(steps, int) or not 2 <= steps <= 4:
        raise ValueError(f"steps: expected an integer from 2 to 4, got {steps!r}")
    gap, width, height = 5.2, 3.0, 2.4

    def draw(sketch):
        grey = HIDDEN_COLOUR
        for k in range(steps + 1):
            x = k * gap
            forward_from = x - gap + width / 2 if k else x - gap / 2 - 0.6
            names = ("$c_0$", "$h_0$") if k == 0 else (f"$c_{k}$", f"$h_{k}$")
            if k < steps:
                end = x - width / 2
                start = forward_from
                sketch.line([(start, 1.9), (end, 1.9)], CELL_COLOUR, width=3)
                sketch.line([(start, 0.5), (end, 0.5)], grey, width=2)
                sketch.line([(end, 1.45), (start, 1.45)], GRADIENT_COLOUR, width=1.6, dashed=True)
                sketch.line([(end, 0.95), (start, 0.95)], GRADIENT_COLOUR, width=1.6, dashed=True)
                label_x = (start + end) / 2
                sketch.text((label_x, 2.25), names[0], colour=CELL_COLOUR, size=10)
                sketch.text((label_x, 0.15), names[1], colour=grey, size=10)
                if k:
                    sketch.text((label_x, 1.2), f"$\\delta c_{k}, \\delta h_{k}$", colour=GRADIENT_COLOUR, size=8)
            if k == steps:  # the final state leaves; δh_T and δc_T come in (zero unless the loss reads them)
                start, end = x - gap + width / 2, x - gap + width / 2 + 1.3
                sketch.line([(start, 1.9), (end, 1.9)], CELL_COLOUR, width=3)
                sketch.line([(start, 0.5), (end, 0.5)], grey, width=2)
                sketch.line([(end, 1.45), (start, 1.45)], GRADIENT_COLOUR, width=1.6, dashed=True)
                sketch.line([(end, 0.95), (start, 0.95)], GRADIENT_COLOUR, width=1.6, dashed=True)
                sketch.text((end + 0.1, 1.9), f"$c_{steps}$", colour=CELL_COLOUR, size=10, ha="left")
                sketch.text((end + 0.1, 0.5), f"$h_{steps}$", colour=grey, size=10, ha="left")
                sketch.text((end + 0.1, 1.2), f"$\\delta c_{steps}, \\delta h_{steps}$: 0 unless\nthe loss reads them",
                            colour=GRADIENT_COLOUR, size=7, ha="left")
                continue
            t = k + 1
            sketch.box((x, 1.2), (width, height), "", grey, fill=tint(grey, 0.08), line_width=1.5)
            sketch.text((x, 1.95), f"step {t}", size=10)
            for j, gate in enumerate(GATES):
                sketch.box((x - 0.9 + 0.6 * j, 0.85), (0.5, 0.5), gate, GATE_COLOURS[gate], text_size=9,
                           rounding=0.05, line_width=1.5)
            sketch.line([(x, -1.3), (x, 0.0)], grey)
            sketch.text((x, -1.6), f"$x_{t}$", size=11)
            sketch.box((x, 4.3), (1.2, 0.8), f"$\\ell_{t}$", "black", fill=BACKGROUND, text_size=11)
            sketch.line([(x - 0.3, 2.4), (x - 0.3, 3.9)], grey)
            sketch.line([(x + 0.3, 3.9), (x + 0.3, 2.4)], GRADIENT_COLOUR, width=1.6, dashed=True)
            sketch.text((x + 0.45, 3.15), f"$\\partial \\ell_{t} / \\partial h_{t}$", colour=GRADIENT_COLOUR, size=8,
                        ha="left")
            sketch.box((x, -2.85), (width + 1.0, 1.15), f"cache: $x_{t}$, $h_{t - 1}$, $c_{t - 1}$,\n"
                                                        f"gates i f g o, $c_{t}$, tanh $c_{t}$", "#9A9A9A",
                       fill=BACKGROUND, text_size=8, line_width=1)
        sketch.text(((steps - 1) * gap / 2, 5.35), "forward: left to right, solid; backward: right to left, dashed",
                    size=9)

    alt = (f"The LSTM unrolled over {steps} steps. Solid arrows carry the cell state c (thick, vermilion) and the "
           "hidden state h (grey) from each step to the next; each step box shows its four gates i, f, g, o. Above "
           "each step, a loss term ℓ_t reads h_t, and a dashed arrow brings ∂ℓ_t/∂h_t back down. Dashed purple "
           "arrows carry δc_t and δh_t from each step to the one before; those entering the last step are zero "
           "unless the loss reads the final state. Under each step, what the forward pass "
           "caches for the backward pass: x_t, h_{t-1}, c_{t-1}, the gates, c_t and tanh c_t.")
    return _render(draw, (7.8, 4.6), alt)


# --- layers and directions --------------------------------------------------------------------------


BIDIRECTIONAL_SHAPES = {"output": "(T, B, 2H)", "h_n": "(4, B, H)", "c_n": "(4, B, H)"}
"""What ``nn.LSTM(D, H, num_layers=2, bidirectional=True)`` returns (time-major), as the diagram labels it."""

_FORWARD_COLOUR, _BACKWARD_COLOUR = "#333333", "#8C6D31"


def bidirectional_lstm(steps: int = 3) -> Diagram:
    """A two-layer bidirectional LSTM over ``steps`` steps, labelled with ``nn.LSTM``'s shapes and indices."""
    if not isinstance(steps, int) or not 2 <= steps <= 4:
        raise ValueError(f"steps: expected an integer from 2 to 4, got {steps!r}")
    gap, offset = 3.2, 0.45
    rows = {(0, 0): 1.0, (0, 1): 2.3, (1, 0): 4.6, (1, 1): 5.9}  # (layer, direction) -> y

    def draw(sketch):
        for (layer, direction), y in rows.items():
            colour = _FORWARD_COLOUR if direction == 0 else _BACKWARD_COLOUR
            name = f"layer {layer}, {'forward' if direction == 0 else 'backward'}"
            suffix = "_reverse" if direction else ""
            sketch.text((-2.3, y), f"{name}\n(weight_ih_l{layer}{suffix})", colour=colour, size=8, ha="right")
            for t in range(steps):
                x = t * gap + (offset if direction else -offset)
                sketch.box((x, y), (0.7, 0.6), "→" if direction == 0 else "←", colour, fill=tint(colour, 0.15),
                           text_size=11, line_width=1.5)
                if t:  # the recurrence along the row
                    left, right = x - gap + 0.35, x - 0.35
                    points = [(left, y), (right, y)] if direction == 0 else [(right, y), (left, y)]
                    sketch.line(points, colour, width=1.5, zorder=3, bridge=True)  # over the feeds it crosses
            index = 2 * layer + direction
            end = (steps - 1) * gap - offset + 0.35 if direction == 0 else offset - 0.35
            target = end + (1.7 if direction == 0 else -0.9)
            sketch.line([(end, y), (target, y)], colour, width=1.5, zorder=3, bridge=True)
            sketch.text((target + (0.1 if direction == 0 else -0.1), y), f"$h_n$[{index}]", colour=colour, size=9,
                        ha="left" if direction == 0 else "right")
        for t in range(steps):
            x = t * gap
            # x_t feeds both directions of layer 0; [forward, backward] of layer 0 feeds both of layer 1.
            sketch.text((x, -0.75), f"x[{t}]  (B, D)", size=9)
            for source_y, (layer, first_y) in ((-0.45, (0, rows[0, 0])), (3.45, (1, rows[1, 0]))):
                sketch.line([(x, source_y), (x, source_y + 0.35)], HIDDEN_COLOUR, width=1.2, arrow=False)
                sketch.line([(x, source_y + 0.35), (x - offset, source_y + 0.35), (x - offset, first_y - 0.3)],
                            HIDDEN_COLOUR, width=1.2)
                sketch.line([(x, source_y + 0.35), (x + offset + 0.55, source_y + 0.35),
                             (x + offset + 0.55, rows[layer, 1] - 0.45), (x + offset, rows[layer, 1] - 0.45),
                             (x + offset, rows[layer, 1] - 0.3)], HIDDEN_COLOUR, width=1.2)
            for layer, concat_y in ((0, 3.45), (1, 7.05)):
                sketch.line([(x - offset, rows[layer, 0] + 0.3), (x - offset, concat_y - 0.12)], _FORWARD_COLOUR,
                            width=1.2, arrow=False)
                sketch.line([(x + offset, rows[layer, 1] + 0.3), (x + offset, concat_y - 0.12)], _BACKWARD_COLOUR,
                            width=1.2, arrow=False)
                sketch.box((x, concat_y), (1.8, 0.36), "", HIDDEN_COLOUR, fill=BACKGROUND, line_width=1, rounding=0.05)
                sketch.text((x, concat_y), "concat (B, 2H)", size=7.5)
            sketch.text((x, 7.45), f"output[{t}]", size=9)
        sketch.text(((steps - 1) * gap / 2, 8.45),
                    f"output {BIDIRECTIONAL_SHAPES['output']}: [forward | backward] of the last layer at every step\n"
                    f"$h_n$, $c_n$ {BIDIRECTIONAL_SHAPES['h_n']}: index 2 × layer + direction\n"
                    "(with batch_first=True, output is (B, T, 2H); $h_n$ and $c_n$ do not change)", size=9)

    alt = (f"A two-layer bidirectional LSTM over {steps} steps. Layer 0 has a forward row (left to right) and a "
           "backward row (right to left), both reading x_t; the concatenation of their outputs, width 2H, feeds "
           "both rows of layer 1; the concatenation of layer 1's rows is output[t]. The final states are labelled "
           "h_n[0] (layer 0 forward, after the last step), h_n[1] (layer 0 backward, after the first step), h_n[2] "
           "and h_n[3] for layer 1. output has shape (T, B, 2H); h_n and c_n have shape (4, B, H).")
    return _render(draw, (7.8, 5.0), alt)


TAGGER_LABELS = {True: "U", False: "L", None: "–"}
"""A letter's label in :func:`bidirectional_tagger`: capital, small, or none (not a letter: ignored)."""


def bidirectional_tagger(text: str = "so I say", highlight: int = 3, right_context: int | None = 1) -> Diagram:
    """The bidirectional capitalisation tagger over ``text``: the lower-cased characters in, one label out for each.

    At position ``highlight`` the picture shades what the label sees: through the forward stream
    the characters up to it, through the backward stream those after it. With ``right_context``
    ``k``, the input is cut ``k`` characters to the right of ``highlight``, and what lies beyond
    is faded.
    """
    if not isinstance(text, str) or not 3 <= len(text) <= 9 or "\n" in text:
        raise ValueError(f"text: expected 3 to 9 characters on one line, got {text!r}")
    if not isinstance(highlight, int) or not 0 <= highlight < len(text):
        raise ValueError(f"highlight: expected an integer from 0 to {len(text) - 1}, got {highlight!r}")
    if right_context is not None and (not isinstance(right_context, int)
                                      or not 0 <= right_context < len(text) - highlight):
        raise ValueError(f"right_context: expected None or an integer from 0 to {len(text) - highlight - 1}, "
                         f"got {right_context!r}")
    gap, forward_y, backward_y, concat_y, label_y = 1.55, 1.3, 2.5, 3.75, 5.05
    cut = len(text) - 1 if right_context is None else highlight + right_context  # the input's last character
    shade = tint(CELL_COLOUR, 0.14)

    def band(first, last, y, height):
        """Shade positions ``first`` to ``last`` of the row at ``y``."""
        sketch_patch = FancyBboxPatch(((first - 0.5) * gap + 0.08, y - height / 2), (last - first + 1) * gap - 0.16,
                                      height, boxstyle="round,pad=0,rounding_size=0.1", facecolor=shade,
                                      edgecolor="none", zorder=0)
        return sketch_patch

    def draw(sketch):
        for first, last, y, height in ((0, cut, 0.0, 0.95), (0, highlight, forward_y, 0.8),
                                       (highlight, cut, backward_y, 0.8)):
            sketch.ax.add_patch(band(first, last, y, height))
        for t, character in enumerate(text):
            x = t * gap
            present = t <= cut

            def colour(base, present=present):
                return base if present else tint(base, FADED)

            grey, forward, backward = colour(HIDDEN_COLOUR), colour(_FORWARD_COLOUR), colour(_BACKWARD_COLOUR)
            lower = character.lower()
            sketch.box((x, 0.0), (0.8, 0.7), "␣" if lower == " " else lower, grey, fill=BACKGROUND, text_size=11,
                       line_width=1.2, rounding=0.05, text_colour=colour("black"))
            for y, stream, symbol in ((forward_y, forward, "→"), (backward_y, backward, "←")):
                sketch.box((x, y), (0.7, 0.55), symbol, stream, fill=tint(stream, 0.15), text_size=10, line_width=1.4,
                           text_colour=colour("black"))
                if t:  # the recurrence: forward left to right, backward right to left
                    points = [(x - gap + 0.35, y), (x - 0.35, y)]
                    sketch.line(points if symbol == "→" else points[::-1], stream, width=1.4, zorder=3)
            # x_t feeds both streams; both streams feed the concatenation, which feeds the label.
            sketch.line([(x, 0.35), (x, forward_y - 0.28)], grey, width=1.1)
            sketch.line([(x + 0.5, 0.35), (x + 0.5, backward_y - 0.4), (x + 0.2, backward_y - 0.4),
                         (x + 0.2, backward_y - 0.28)], grey, width=1.1)
            sketch.line([(x - 0.2, forward_y + 0.28), (x - 0.2, concat_y - 0.2)], forward, width=1.1)
            sketch.line([(x + 0.2, backward_y + 0.28), (x + 0.2, concat_y - 0.2)], backward, width=1.1)
            sketch.box((x, concat_y), (1.1, 0.4), "[→|←]", grey, fill=BACKGROUND, text_size=7, line_width=1,
                       rounding=0.05, text_colour=colour("black"))
            sketch.line([(x, concat_y + 0.2), (x, label_y - 0.3)], grey, width=1.1)
            label = TAGGER_LABELS[character.isupper()] if character.isalpha() else TAGGER_LABELS[None]
            chosen = t == highlight
            sketch.box((x, label_y), (0.75, 0.6), label, CELL_COLOUR if chosen else grey,
                       fill=tint(CELL_COLOUR, 0.3) if chosen else BACKGROUND, text_size=11,
                       line_width=2.0 if chosen else 1.2, text_colour=colour("black"))
            sketch.text((x, label_y + 0.6), "␣" if character == " " else character, colour=grey, size=10)
        left = -0.75
        for y, name, colour in ((0.0, "input: lower-cased\ncharacters", HIDDEN_COLOUR),
                                (forward_y, "forward stream\n(left to right)", _FORWARD_COLOUR),
                                (backward_y, "backward stream\n(right to left)", _BACKWARD_COLOUR),
                                (concat_y, "both: (B, 2H)", HIDDEN_COLOUR),
                                (label_y, "label: U capital,\nL small, – none", HIDDEN_COLOUR),
                                (label_y + 0.6, "the original", HIDDEN_COLOUR)):
            sketch.text((left - 0.3, y), name, colour=colour, size=8, ha="right")
        seen = ("the whole line" if right_context is None else
                f"k = {right_context} character{'s' if right_context != 1 else ''} of right context; faded: cut off")
        sketch.text(((len(text) - 1) * gap / 2, -0.95), f"shaded: what the label of character {highlight + 1} "
                    f"sees, {seen}", size=8.5)

    context = ("all the characters after it" if right_context is None else
               f"the next {right_context} character{'s' if right_context != 1 else ''}: the input is cut there, and "
               "what lies beyond is faded")
    alt = (f"A bidirectional LSTM tagger over the {len(text)} characters of '{text}', lower-cased. Each input "
           "character feeds a forward stream (left to right) and a backward stream (right to left); at every "
           "position the two streams' outputs are concatenated, width 2H, and a linear layer gives the label: U for "
           "a capital, L for a small letter, a dash for a character that is not a letter. "
           f"The label of character {highlight + 1} is highlighted; the shading shows that it sees the characters "
           f"up to it through the forward stream and, through the backward stream, {context}. "
           "A unidirectional tagger has only the forward stream.")
    return _render(draw, (7.8, 3.6), alt)


# --- the language model and data parallelism ----------------------------------------------------------


def language_model_flow(num_streams: int = 3, num_batches: int = 4) -> Diagram:
    """Text → ids → contiguous streams → TBPTT batches → embedding → LSTM → logits; state carried, gradient cut."""
    if not isinstance(num_streams, int) or not 2 <= num_streams <= 4:
        raise ValueError(f"num_streams: expected an integer from 2 to 4, got {num_streams!r}")
    if not isinstance(num_batches, int) or not 2 <= num_batches <= 5:
        raise ValueError(f"num_batches: expected an integer from 2 to 5, got {num_batches!r}")

    def draw(sketch):
        grey = HIDDEN_COLOUR
        stages = [("text", "'FIRST WITCH.\\n...'"), ("ids", "one integer\nper character"),
                  ("batch k", "inputs (T, B)\ntargets (T, B)"), ("embedding", "(T, B, E)"), ("LSTM", "(T, B, H)"),
                  ("linear", "logits (T, B, V)"), ("loss", "cross-entropy\nvs the targets")]
        for k, (name, shape) in enumerate(stages):
            x = k * 2.6
            colour = CELL_COLOUR if name == "LSTM" else grey
            sketch.box((x, 7.4), (2.3, 1.3), "", colour, fill=tint(colour, 0.1), line_width=1.5)
            sketch.text((x, 7.75), name, size=9, weight="bold")
            sketch.text((x, 7.15), shape.replace("\\n", "\n"), size=7)
            if k:
                sketch.line([(x - 2.6 + 1.15, 7.4), (x - 1.15, 7.4)], grey, width=1.5)
        # The streams, batch by batch.
        cell_width, left = 2.6, 1.2
        top = 5.2
        for b in range(num_streams):
            y = top - b * 1.2
            sketch.text((left - 0.2, y), f"stream {b}: ids[{_multiple(b, 'N')} : {_multiple(b + 1, 'N')}]",
                        size=8, ha="right")
            for k in range(num_batches):
                x = left + k * cell_width
                filled = k == 1
                sketch.box((x + cell_width / 2, y), (cell_width - 0.9, 0.7), "", grey,
                           fill=tint(CELL_COLOUR, 0.25) if filled else tint(grey, 0.08), line_width=1, rounding=0.05)
                sketch.text((x + cell_width / 2, y), "bptt steps", size=8)
                if k < num_batches - 1:
                    edge = x + cell_width - 0.45
                    sketch.line([(edge, y + 0.15), (edge + 0.9, y + 0.15)], CELL_COLOUR, width=1.6)
                    sketch.line([(edge + 0.9, y - 0.18), (edge, y - 0.18)], GRADIENT_COLOUR, width=1.4, dashed=True)
                    for sign in (1, -1):  # a cross on the backward arrow: the gradient is cut here
                        sketch.line([(edge + 0.3, y - 0.18 - 0.15 * sign), (edge + 0.6, y - 0.18 + 0.15 * sign)],
                                    GRADIENT_COLOUR, width=2, arrow=False)
        sketch.text((left - 0.2, top + 0.75), "B streams: column b\nof the (N, B) array", size=8, ha="right")
        for k in range(num_batches):
            sketch.text((left + (k + 0.5) * cell_width, top + 0.75), f"batch {k}" if k != 1 else "batch k = 1 (shaded)",
                        size=8)
        bottom = top - (num_streams - 1) * 1.2 - 0.95
        sketch.text((left + num_batches * cell_width / 2, bottom),
                    "solid vermilion: the state (h, c) carried into the next batch;\n"
                    "crossed purple: detached, so the gradient stops at the batch boundary", size=9)
        sketch.line([(left + 1.5 * cell_width, top + 1.05), (2 * 2.6, 6.73)], grey, width=1, dashed=True)

    alt = ("The language model's data flow. Top row: text, then ids, then a batch k of inputs and targets (T, B), "
           "then the embedding (T, B, E), the LSTM (T, B, H), a linear layer giving logits (T, B, V), and the "
           f"cross-entropy against the next characters. Below: the ids cut into {num_streams} contiguous streams, "
           f"one per row, each split into {num_batches} batches of bptt steps; batch k is one column. Between "
           "neighbouring batches of a stream, a solid arrow carries the state (h, c) forward, and a crossed dashed "
           "arrow shows that the gradient does not flow back across the boundary (the state is detached).")
    return _render(draw, (7.8, 5.2), alt)


def data_parallelism(world_size: int = 2) -> Diagram:
    """``world_size`` processes: each its shard of the streams, its model copy, its gradients; one all-reduce."""
    if not isinstance(world_size, int) or not 2 <= world_size <= 4:
        raise ValueError(f"world_size: expected an integer from 2 to 4, got {world_size!r}")

    mean = "$\\overline{\\delta\\theta}$"  # the gradients averaged over the processes

    def draw(sketch):
        grey = HIDDEN_COLOUR
        shard_colours = [tint(grey, 0.15 + 0.25 * r) for r in range(world_size)]
        total_height = world_size * 1.9
        sketch.text((-0.9, total_height + 0.2),
                    "the text as $B \\cdot R$ streams ($R$ = world_size processes): one shard of $B$ per process",
                    size=9, ha="left")
        rows = [total_height - 1.0 - r * 1.9 for r in range(world_size)]
        for r in range(world_size):
            y = total_height - 1.0 - r * 1.9
            shard = f"streams\n{_multiple(r, 'B')} … {_multiple(r + 1, 'B')} − 1"
            sketch.box((0.0, y), (1.8, 1.3), shard, grey, fill=shard_colours[r], text_size=7.5, line_width=1,
                       rounding=0.05)
            sketch.line([(0.95, y), (2.0, y)], grey, width=1.5)
            sketch.box((3.6, y), (3.0, 1.3), f"process {r}\ncopy of the model\nforward + backward", grey,
                       fill=tint(CELL_COLOUR, 0.12), text_size=7.5, line_width=1.5)
            sketch.line([(5.15, y), (6.3, y)], GRADIENT_COLOUR, width=1.5, dashed=True)
            sketch.text((5.7, y + 0.3), f"$\\delta\\theta_{r}$", colour=GRADIENT_COLOUR, size=10)
            sketch.line([(8.5, y), (9.6, y)], GRADIENT_COLOUR, width=1.5, dashed=True)
            sketch.text((9.05, y + 0.3), mean, colour=GRADIENT_COLOUR, size=10)
            sketch.box((11.1, y), (2.8, 1.3), f"optimiser step\nwith {mean}: weights\nstay identical", grey,
                       fill=BACKGROUND, text_size=7.5, line_width=1.5)
        sketch.box((7.4, sum(rows) / world_size), (2.1, rows[0] - rows[-1] + 1.3),
                   f"all-reduce\n{mean[:-1]} = \\frac{{1}}{{R}}\\sum_r \\delta\\theta_r$\n(gloo on CPU,\nnccl on GPU)",
                   GRADIENT_COLOUR, fill=tint(GRADIENT_COLOUR, 0.1), text_size=8, line_width=1.5)

    alt = (f"Data parallelism with R = {world_size} processes. The text is cut into B times R streams; process r takes "
           "streams rB to (r+1)B − 1. Each process holds a copy of the model with the same weights, runs forward "
           "and backward on its own shard and gets gradients δθ_r (θ: all the weights). One all-reduce averages "
           "them (gloo on CPUs, nccl on GPUs), and every process takes the same optimiser step, so the copies stay "
           "identical.")
    return _render(draw, (7.8, 0.9 + 0.95 * world_size), alt)


# --- the encoder-decoder ------------------------------------------------------------------------------

ENCODER_DECODER_EXAMPLE = ("lstm", "mtsl")
"""The source and target the encoder-decoder diagram shows: a string and its reverse."""
_EXAMPLE_WEIGHTS = (0.03, 0.88, 0.06, 0.03)
"""Attention weights drawn for the third output ("s" of "mtsl"), illustrative: mostly on the source's second letter
(the trained model of chapter 12 looks one position further on; the chapter says so)."""


def encoder_decoder(attention: bool = False) -> Diagram:
    """The LSTM encoder-decoder reversing "lstm": the decoder starts from the encoder's final state, its fixed-size
    summary; with ``attention=True``, one decoder step also reads every encoder state, weighted."""
    if not isinstance(attention, bool):
        raise ValueError(f"attention: expected True or False, got {attention!r}")
    source, target = ENCODER_DECODER_EXAMPLE
    step_gap, box, attended_step = 1.6, (1.0, 0.8), 2
    encoder_x = [k * step_gap for k in range(len(source))]
    decoder_x = [encoder_x[-1] + 2.6 + k * step_gap for k in range(len(target) + 1)]
    inputs, outputs = ["<start>", *target], [*target, "<end>"]
    box_y, token_y = 2.0, 0.45
    output_y = 6.6 if attention else 4.0

    def draw(sketch):
        grey = HIDDEN_COLOUR
        sketch.text((encoder_x[0] - 0.9, box_y), "encoder", size=10, ha="right", weight="bold")
        sketch.text((decoder_x[-1] + 0.7, box_y), "decoder", size=10, ha="left", weight="bold")
        for k, x in enumerate(encoder_x):
            sketch.text((x, token_y), source[k], size=12, family="monospace")
            sketch.line([(x, token_y + 0.3), (x, box_y - box[1] / 2)], grey, width=1.5)
            sketch.box((x, box_y), box, "LSTM", CELL_COLOUR, fill=tint(CELL_COLOUR, 0.12), text_size=9)
            if k:
                sketch.line([(x - step_gap + box[0] / 2, box_y), (x - box[0] / 2, box_y)], CELL_COLOUR, width=2)
        # The hand-over: the encoder's final (h, c) is the decoder's initial state.
        sketch.line([(encoder_x[-1] + box[0] / 2, box_y), (decoder_x[0] - box[0] / 2, box_y)], CELL_COLOUR, width=4,
                    zorder=3, bridge=True)
        summary = "final (h, c):\nfixed-size\nsummary"
        sketch.text(((encoder_x[-1] + decoder_x[0]) / 2, box_y - 0.95), summary, colour=CELL_COLOUR, size=8)
        for k, x in enumerate(decoder_x):
            sketch.text((x, token_y), inputs[k], size=12 if len(inputs[k]) == 1 else 8, family="monospace")
            sketch.line([(x, token_y + 0.3), (x, box_y - box[1] / 2)], grey, width=1.5)
            sketch.box((x, box_y), box, "LSTM", CELL_COLOUR, fill=tint(CELL_COLOUR, 0.12), text_size=9)
            if k:
                sketch.line([(x - step_gap + box[0] / 2, box_y), (x - box[0] / 2, box_y)], CELL_COLOUR, width=2)
            sketch.text((x, output_y + 0.3), outputs[k], size=12 if len(outputs[k]) == 1 else 8, family="monospace")
            if not (attention and k == attended_step):
                sketch.line([(x, box_y + box[1] / 2), (x, output_y)], grey, width=1.5, zorder=3, bridge=attention)
        sketch.text(((decoder_x[0] + decoder_x[-1]) / 2, token_y - 0.55),
                    "decoder input: the previous letter (in training the true one; in use its own output)", size=8)
        if not attention:
            return
        # One step's attention: every encoder state, weighted, into the context; with h_t into the output.
        colour, x_t = ATTENTION_COLOUR, decoder_x[attended_step]
        mix_x, mix_y, combine_y, mix_width = x_t - 0.75, 4.3, 5.6, 2.2
        for k, (x, weight) in enumerate(zip(encoder_x, _EXAMPLE_WEIGHTS, strict=True)):
            level = mix_y + 0.3 - 0.2 * k  # the first letter's line highest: no two lines cross
            sketch.line([(x, box_y + box[1] / 2), (x, level), (mix_x - mix_width / 2, level)], colour,
                        width=0.8 + 5 * weight, zorder=2)
            sketch.text((x + 0.12, 2.85), f"{weight:.2f}", colour=colour, size=8, ha="left")
        sketch.text((encoder_x[0] - 0.9, 2.9), "$\\alpha_t(s)$\n(illustrative)", colour=colour, size=9, ha="right")
        sketch.box((mix_x, mix_y), (mix_width, 0.9), "$\\mathrm{ctx}_t = \\sum_s \\alpha_t(s)\\,\\bar h_s$",
                   colour, fill=tint(colour, 0.1), text_size=7.5, line_width=1.5)
        sketch.line([(x_t + 0.25, box_y + box[1] / 2), (x_t + 0.25, combine_y - 0.35)], grey, width=1.5)
        sketch.text((x_t + 0.35, 3.0), "$h_t$", colour=grey, size=10, ha="left")
        sketch.line([(x_t - 0.55, mix_y + 0.45), (x_t - 0.55, combine_y - 0.35)], colour, width=1.5)
        sketch.box((x_t, combine_y), (3.0, 0.7), "$\\tilde h_t = \\tanh(W_c [\\mathrm{ctx}_t; h_t])$", grey,
                   fill=BACKGROUND, text_size=8, line_width=1.5)
        sketch.line([(x_t, combine_y + 0.35), (x_t, output_y)], grey, width=1.5)
        weights_label = "weights $\\alpha_t(s) = \\mathrm{softmax}_s(h_t^\\top W_a \\bar h_s)$"
        sketch.text((encoder_x[0] - 0.3, mix_y + 0.75), weights_label, colour=colour, size=8, ha="left")

    alt = (f"The LSTM encoder-decoder reversing '{source}'. Left, the encoder: an LSTM reads the letters "
           f"{', '.join(source)} one per step. Its final state (h, c), a summary of fixed size, is handed to the "
           f"decoder on the right as its initial state. The decoder's inputs are <start>, then the letters of "
           f"'{target}', each one step late; its outputs are {', '.join(outputs)}.")
    if attention:
        alt += (f" With attention: at the third decoder step, lines from all {len(source)} encoder states, as thick as "
                f"their weights (illustrative values, not a trained model's: "
                f"{', '.join(f'{weight:.2f}' for weight in _EXAMPLE_WEIGHTS)}, most on the source's 's'), join in "
                "the context ctx_t, the weighted sum of the encoder states; ctx_t and the decoder's state h_t together "
                "give h~_t = tanh(W_c [ctx_t; h_t]), which gives the output 's'. Every step does the same with its own "
                "weights.")
    else:
        alt += " Everything the decoder knows about the source passes through that one state."
    return _render(draw, (7.8, 4.2 if attention else 3.0), alt)
def _origin(k: int, space: str = " ") -> str:
    return f"t{space}+{space}{k}" if k else "t"


def walk_forward(num_origins: int = 4, horizon: int = 3, refit_every: int = 3) -> Diagram:
    """The series split in time (fit, validation, test), then origins rolling through the test period.

    Each row is one origin: the past that the model may use, the ``horizon`` values it forecasts and
    is scored on, and the future it must not see; a refit every ``refit_every`` origins.
    """
    for name, value, low, high in (("num_origins", num_origins, 2, 6), ("horizon", horizon, 1, 5),
                                   ("refit_every", refit_every, 1, 6)):
        if not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"{name}: expected an integer from {low} to {high}, got {value!r}")
    step, past_start, first_origin = 0.55, 0.0, 8.0
    end = first_origin + (num_origins + horizon + 2) * step
    grey, forecast_colour = HIDDEN_COLOUR, CELL_COLOUR

    def draw(sketch):
        # The split of the series, in time.
        top, validation_start = 6.3 + 0.75 * (num_origins - 4), first_origin - 3.0
        parts = [(past_start, validation_start, "fit (tuning)", tint(grey, 0.25)),
                 (validation_start, first_origin, "validation:\nchoose p, size, window", tint(grey, 0.08)),
                 (first_origin, end, "test: walk forward", tint(forecast_colour, 0.12))]
        for left, right, label, fill in parts:
            sketch.box(((left + right) / 2, top), (right - left, 0.8), label, grey, fill=fill, text_size=8,
                       line_width=1, rounding=0.04)
        sketch.line([(past_start, top + 0.75), (end + 0.4, top + 0.75)], grey, width=1.2)
        sketch.text((end + 0.5, top + 0.75), "time", size=8, ha="left")
        # One row per origin.
        for k in range(num_origins):
            y, origin = top - 1.5 - 0.75 * k, first_origin + k * step
            refit = k % refit_every == 0
            sketch.box(((past_start + origin) / 2, y), (origin - past_start, 0.5), "", grey,
                       fill=tint(grey, 0.35 if refit else 0.15), line_width=1, rounding=0.03)
            fitted_at = k - k % refit_every
            sketch.text(((past_start + origin) / 2, y), f"past y[:{_origin(k, '')}]: "
                        + ("fit on it" if refit else f"model fitted at {_origin(fitted_at)}"), size=7.5)
            right = origin + horizon * step
            sketch.box(((origin + right) / 2, y), (right - origin, 0.5), "", forecast_colour,
                       fill=tint(forecast_colour, 0.35), line_width=1.2, rounding=0.03)
            for j in range(1, horizon):
                sketch.line([(origin + j * step, y - 0.25), (origin + j * step, y + 0.25)], forecast_colour,
                            width=0.8, arrow=False, zorder=5)
            sketch.line([(right, y), (end, y)], grey, width=1, arrow=False, dashed=True)
            sketch.text((past_start - 0.2, y), f"origin {_origin(k)}", size=8, ha="right")
        bottom = top - 1.5 - 0.75 * (num_origins - 1) - 0.75
        sketch.text(((past_start + end) / 2, bottom),
                    f"vermilion: the next {horizon} values, forecast from the past and scored at\n"
                    f"horizons 1 to {horizon}; dashed: the future the forecaster never sees", size=8)

    alt = (f"Walk-forward evaluation. Top: the series along time, split into a stretch for fitting while tuning, a "
           f"validation stretch where the AR order and the LSTM's size and window are chosen, and the test stretch. "
           f"Below, {num_origins} rows, one per forecast origin t, t + 1, and so on, each one step later than the "
           f"row above: a grey bar for the past y[:t] that the model is fitted on (fitted again every {refit_every} "
           f"origins, otherwise the same fit), then {horizon} vermilion cells for the values it forecasts and is "
           "scored on at horizons 1 to "
           f"{horizon}, then a dashed line for the future it never sees.")
    return _render(draw, (7.8, 2.2 + 0.5 * num_origins), alt)


# --- what each model keeps of the past ------------------------------------------------------------------


def what_each_model_keeps(steps: int = 5) -> Diagram:
    """What the LSTM, a Transformer and minGRU/minLSTM keep of the past, reading the same ``steps`` characters.

    The LSTM carries ``(h, c)`` of one size from step to step, its gates reading ``h_{t-1}``; the
    Transformer keeps a key-value cache that grows by one entry a character, and its query reads
    all of it; minGRU/minLSTM carry ``h`` of one size, their gates reading ``x_t`` only (a scan).
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or not 3 <= steps <= 7:
        raise ValueError(f"steps: expected an integer from 3 to 7, got {steps!r}")
    gap = max(1.7, 8.0 / (steps - 1))  # the same width up to 5 steps, so the same scale
    cell, gate_y, cell_y, pitch, cache_y = (1.0, 0.8), 1.1, 2.15, 0.28, 1.55
    xs = [k * gap for k in range(steps)]
    last, middle = xs[-1], xs[-1] / 2
    grey, keep, write = HIDDEN_COLOUR, GATE_COLOURS["f"], GATE_COLOURS["g"]
    cache_top = cache_y + steps * pitch  # the transformer row's tallest stack, at step T
    min_base, transformer_base = 0.0, 3.85
    lstm_base = transformer_base + cache_top + 1.3

    def inputs(sketch, base, top):
        for t, x in enumerate(xs, start=1):
            sketch.text((x, base), f"$x_{t}$", size=9)
            sketch.line([(x, base + 0.25), (x, base + top)], grey, width=1.2)

    def title(sketch, y, name):
        sketch.text((xs[0] - 1.6, y), name, size=9, ha="right", weight="bold")

    def draw(sketch):
        # 1. The LSTM: (h, c) from step to step; h_{t-1} goes into the gates of step t.
        base = lstm_base
        title(sketch, base + cell_y, "LSTM")
        inputs(sketch, base, gate_y - 0.2)
        for t, x in enumerate(xs, start=1):
            for j, gate in enumerate(GATES):
                sketch.box((x - 0.375 + 0.25 * j, base + gate_y), (0.25, 0.4), gate, GATE_COLOURS[gate],
                           text_size=7.5, rounding=0.03, line_width=1)
            sketch.line([(x, base + gate_y + 0.2), (x, base + cell_y - cell[1] / 2)], grey, width=1.2)
            sketch.box((x, base + cell_y), cell, "", CELL_COLOUR, fill=tint(CELL_COLOUR, 0.12), line_width=1.5)
            start = x - gap + cell[0] / 2 if t > 1 else x - 1.3
            sketch.line([(start, base + cell_y + 0.2), (x - cell[0] / 2, base + cell_y + 0.2)], CELL_COLOUR, width=2.5)
            sketch.line([(start, base + cell_y - 0.2), (x - 0.75, base + cell_y - 0.2), (x - 0.75, base + gate_y),
                         (x - 0.5, base + gate_y)], grey, width=1.5)
            sketch.text(((start + x - 0.5) / 2, base + cell_y + 0.45), f"$c_{t - 1}$", colour=CELL_COLOUR, size=8)
            sketch.text((x - 0.83, base + (cell_y - 0.2 + gate_y) / 2), f"$h_{t - 1}$", colour=grey, size=8, ha="right")
        for y, name, colour in ((0.2, "c", CELL_COLOUR), (-0.2, "h", grey)):
            sketch.line([(last + cell[0] / 2, base + cell_y + y), (last + 1.3, base + cell_y + y)], colour,
                        width=2.5 if name == "c" else 1.5)
            sketch.text((last + 1.4, base + cell_y + y), f"${name}_{steps}$", colour=colour, size=8, ha="left")
        sketch.text((middle, base + cell_y + 1.1), "state (h, c): the same size at every step\n"
                    "gates (i f g o) read $x_t$ and $h_{t-1}$: one step after another", size=8.5)

        # 2. The Transformer: no state passed on; a key-value cache that grows by one entry a step.
        base = transformer_base
        title(sketch, base + gate_y, "Transformer")
        inputs(sketch, base, gate_y - 0.3)
        for t, x in enumerate(xs, start=1):
            sketch.box((x, base + gate_y), (1.3, 0.6), f"$q_{t}, k_{t}, v_{t}$", grey, fill=tint(grey, 0.08),
                       text_size=7.5, line_width=1.2)
            for j in range(1, t + 1):  # the cache at step t: positions 1 to t, the newest darkest
                sketch.box((x, base + cache_y + (j - 0.5) * pitch), (0.8, pitch - 0.07), "", ATTENTION_COLOUR,
                           fill=tint(ATTENTION_COLOUR, 0.45 if j == t else 0.12), rounding=0.03, line_width=1)
        query = (last + 1.15, base + gate_y)
        sketch.line([(last + 0.65, base + gate_y), query], ATTENTION_COLOUR, width=1.5, arrow=False)
        sketch.dot(query, ATTENTION_COLOUR)
        for j in range(1, steps + 1):  # causal: the query at step T reads the entries of positions 1 to T
            sketch.line([query, (last + 0.42, base + cache_y + (j - 0.5) * pitch)], ATTENTION_COLOUR, width=1)
        sketch.text((query[0] + 0.15, query[1]), f"query $q_{steps}$\nreads every\nentry", colour=ATTENTION_COLOUR,
                    size=7.5, ha="left")
        sketch.text((middle, base + cache_top + 0.4), "key-value cache: one entry per past character, grows with the "
                    "text (up to the window)", colour=ATTENTION_COLOUR, size=8.5)

        # 3. minGRU / minLSTM: one state h; the gates read x_t only, so they are all computed at once.
        base = min_base
        title(sketch, base + cell_y - 0.5, "minGRU /\nminLSTM")
        inputs(sketch, base, gate_y - 0.2)
        left, right, low, high = xs[0] - 0.65, last + 0.65, base + gate_y - 0.32, base + gate_y + 0.32
        sketch.line([(left, low), (right, low), (right, high), (left, high), (left, low)], grey, width=1,
                    arrow=False, dashed=True)
        sketch.text((left - 0.1, base + gate_y), "all at once", colour=grey, size=7.5, ha="right")
        for t, x in enumerate(xs, start=1):
            for dx, name, colour in ((-0.24, "\\lambda", keep), (0.24, "\\beta", write)):
                sketch.box((x + dx, base + gate_y), (0.44, 0.4), f"${name}_{t}$", colour, text_size=7.5,
                           rounding=0.03, line_width=1)
                sketch.line([(x + dx, base + gate_y + 0.2), (x + dx, base + cell_y - 0.3)], colour, width=1.2)
            sketch.box((x, base + cell_y), (cell[0], 0.6), "", grey, fill=tint(grey, 0.12), line_width=1.5)
            start = x - gap + cell[0] / 2 if t > 1 else x - 1.3
            sketch.line([(start, base + cell_y), (x - cell[0] / 2, base + cell_y)], grey, width=1.5)
            sketch.text(((start + x - 0.5) / 2, base + cell_y + 0.25), f"$h_{t - 1}$", colour=grey, size=8)
        sketch.line([(last + cell[0] / 2, base + cell_y), (last + 1.3, base + cell_y)], grey, width=1.5)
        sketch.text((last + 1.4, base + cell_y), f"$h_{steps}$", colour=grey, size=8, ha="left")
        sketch.text((middle, base + cell_y + 0.9), "state h: the same size; gates read $x_t$ only, so all steps' "
                    "gates are computed at once\nand $h_t = \\lambda_t h_{t-1} + \\beta_t$ runs as a scan", size=8.5)

    alt = (f"Three language models reading the same {steps} characters x_1 to x_{steps}, one row each, and what each "
           "keeps of the past. Top, the LSTM: a row of cells unrolled in time; between neighbouring cells two arrows "
           "carry the cell state c (vermilion) and the hidden state h (grey), the same size at every step, and h_{t-1} "
           "goes into the gates i, f, g, o of step t together with x_t, so the steps run one after another. Middle, "
           "the Transformer: no state passes from step to step; above each position a key-value cache holds one entry "
           f"per character read so far, 1 at the first step and {steps} at the last, so it grows with the text (up to "
           "the window); indigo lines from the query at the last step reach every cached entry, positions 1 to "
           f"{steps}, none later. Bottom, minGRU and minLSTM: a row of cells with one state arrow h (grey), the same "
           "size at every step; the gates below the cells, the keep coefficient λ_t (blue) and the written value β_t "
           "(orange), read x_t only, inside a dashed box marking that all steps' gates are computed at once; "
           "h_t = λ_t h_{t-1} + β_t then runs along the row as a scan.")
    # Scaled so that the drawing with its titles and notes (about T + 6 units wide) fills 7.8 inches.
    drawn_height = lstm_base + cell_y + cell[1] / 2 - 0.25 + 0.6  # what _render fits: the lines and boxes
    return _render(draw, (7.8, round(7.8 * drawn_height / (xs[-1] + 6.0), 1)), alt)
