"""An interactive figure that needs no kernel: the forget-gate bias against memory and gradient.

:func:`forget_bias_explorer` returns HTML with an SVG and a few lines of plain JavaScript (no
library, nothing fetched): a slider picks the forget-gate bias ``b``, and two panels redraw

* how long a stored value survives, ``c_t = σ(b)^t`` (input gate closed, chapter 2's experiment);
* how much gradient reaches back ``lag`` steps in a freshly initialised LSTM, measured by the
  caller for every bias on the slider, beside ``σ(b)^lag``.

The data are computed in Python and written into the page, so the figure works in the static book,
offline, and in Jupyter once the notebook is trusted. The SVG is drawn for the starting bias in
Python too, so a reader without JavaScript still sees one setting. The background is opaque white,
legible in the book's dark mode. The vertical scale runs from 1e-12 to 100: a gradient can grow with the lag.
"""

from __future__ import annotations

import html
import json
import math

import numpy as np

from lstm_course.pictures.palette import GATE_COLOURS, HIDDEN_COLOUR
from lstm_course.scratch.activations import sigmoid

ELEMENT_ID = "forget-bias-explorer"
"""The ``id`` of the figure's outer element (one explorer per page)."""

FLOOR, CEILING = 1e-12, 1e2
"""The plots' log scale: values outside are drawn at the edges (a gradient can grow with the lag)."""

_PANEL_WIDTH, _PANEL_HEIGHT, _MARGIN = 330, 220, 48


def _significant(values: np.ndarray) -> list[float]:
    """Three significant digits, and 0 below :data:`FLOOR` (drawn at the bottom edge anyway).

    The page is an output that nbval compares: the last bits of a value differ between CPUs, and
    so may the leading digits of a value far below what the figure can show.
    """
    return [float(f"{value:.3g}") if value >= FLOOR else 0.0 for value in values]


def _points(values: list[float], panel: int) -> str:
    """SVG polyline points for ``values`` against their index, on a log scale from :data:`FLOOR` to :data:`CEILING`."""
    left = _MARGIN + panel * (_PANEL_WIDTH + _MARGIN)
    span = max(len(values) - 1, 1)
    top, decades = math.log10(CEILING), math.log10(CEILING / FLOOR)
    coordinates = []
    for k, value in enumerate(values):
        depth = top - math.log10(min(max(value, FLOOR), CEILING))
        coordinates.append(f"{left + k / span * _PANEL_WIDTH:.1f},{10 + depth / decades * _PANEL_HEIGHT:.1f}")
    return " ".join(coordinates)


def _fraction(value: float) -> str:
    """Two significant digits, written as the page's JavaScript writes them (``1.2e-5``, not ``1.2e-05``)."""
    if not value:
        return f"less than {FLOOR:.0e}"
    return f"{value:.1e}".replace("e-0", "e-") if value < 1e-4 else f"{value:.2g}"


def _readout(bias: float, survival: list[float], gradient: list[float], lag: int) -> str:
    forget = sigmoid(bias)
    return (f"f = σ(b) = {forget:.3f}: after {lag} steps, {_fraction(survival[lag])} of a stored value is left, "
            f"and {_fraction(gradient[lag])} of the gradient reaches back {lag} steps.")


class ForgetBiasExplorer:
    """The figure; shown as HTML in Jupyter and the book, as its starting readout in plain text."""

    def __init__(self, biases, survival, gradient, start: int, lag: int):
        self.biases, self.survival, self.gradient, self.start, self.lag = biases, survival, gradient, start, lag

    def __repr__(self) -> str:
        return (f"Forget-bias explorer: {len(self.biases)} biases from {self.biases[0]:g} to {self.biases[-1]:g}. "
                f"At b = {self.biases[self.start]:g}: "
                + _readout(self.biases[self.start], self.survival[self.start], self.gradient[self.start], self.lag))

    def _repr_html_(self) -> str:
        start, lag = self.start, self.lag
        forget = GATE_COLOURS["f"]
        width = 2 * _PANEL_WIDTH + 3 * _MARGIN
        height = _PANEL_HEIGHT + 80
        axes = []
        for panel, (title, xlabel) in enumerate((("a stored value, c_t (input gate closed)", "step t"),
                                                  ("gradient reaching back: ‖∂L/∂x‖ by lag, over lag 0", "lag"))):
            left = _MARGIN + panel * (_PANEL_WIDTH + _MARGIN)
            axes.append(f'<rect x="{left}" y="10" width="{_PANEL_WIDTH}" height="{_PANEL_HEIGHT}" fill="none" '
                        f'stroke="#999"/>')
            top, decades = math.log10(CEILING), math.log10(CEILING / FLOOR)
            for exponent in (2, 0, -3, -6, -9, -12):
                y = 10 + (top - exponent) / decades * _PANEL_HEIGHT
                tick = {0: "1", 2: "100"}.get(exponent, f"1e{exponent}")
                axes.append(f'<line x1="{left}" x2="{left + _PANEL_WIDTH}" y1="{y:.1f}" y2="{y:.1f}" '
                            f'stroke="{"#999" if exponent == 0 else "#e3e3e3"}"/>'
                            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="12">{tick}</text>')
            steps = len(self.survival[0]) - 1
            axes.append(f'<text x="{left}" y="{_PANEL_HEIGHT + 24}" font-size="12">0</text>'
                        f'<text x="{left + _PANEL_WIDTH}" y="{_PANEL_HEIGHT + 24}" font-size="12" text-anchor="end">'
                        f'{steps}</text>'
                        f'<text x="{left + _PANEL_WIDTH / 2}" y="{_PANEL_HEIGHT + 24}" font-size="13" '
                        f'text-anchor="middle">{xlabel}</text>'
                        f'<text x="{left + _PANEL_WIDTH / 2}" y="{_PANEL_HEIGHT + 44}" font-size="14" '
                        f'text-anchor="middle" font-weight="bold">{title}</text>')
        curves = (f'<polyline data-curve="survival" points="{_points(self.survival[start], 0)}" fill="none" '
                  f'stroke="{forget}" stroke-width="2.5"/>'
                  f'<polyline data-curve="reference" points="{_points(self.survival[start], 1)}" fill="none" '
                  f'stroke="{HIDDEN_COLOUR}" stroke-width="1.5" stroke-dasharray="5 4"/>'
                  f'<polyline data-curve="gradient" points="{_points(self.gradient[start], 1)}" fill="none" '
                  f'stroke="{forget}" stroke-width="2.5"/>')
        legend = (f'<text x="{2 * _MARGIN + 1.5 * _PANEL_WIDTH}" y="{_PANEL_HEIGHT + 64}" font-size="12" '
                  f'text-anchor="middle" fill="{HIDDEN_COLOUR}">solid: measured on a freshly initialised LSTM; '
                  f'dashed: σ(b)^lag</text>')
        data = json.dumps({"biases": self.biases, "survival": self.survival, "gradient": self.gradient, "lag": lag,
                           "floor": FLOOR, "ceiling": CEILING, "panel": [_PANEL_WIDTH, _PANEL_HEIGHT, _MARGIN]},
                          separators=(",", ":"))
        description = html.escape(repr(self), quote=True)
        return f"""<div id="{ELEMENT_ID}" style="background:#fff;color:#222;border:1px solid #ccc;border-radius:6px;\
padding:10px 12px;max-width:{width + 24}px;font-family:sans-serif;font-size:15px;color-scheme:light">
<label style="display:block">forget-gate bias b = <output>{self.biases[start]:g}</output><br>
<input type="range" min="0" max="{len(self.biases) - 1}" step="1" value="{start}" style="width:100%" \
aria-label="forget-gate bias"></label>
<p data-readout style="margin:6px 0">{html.escape(_readout(self.biases[start], self.survival[start],
                                                           self.gradient[start], lag))}</p>
<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{description}" \
style="background:#fff;color:#222" fill="#222">{''.join(axes)}{curves}{legend}</svg>
<script type="application/json">{data}</script>
</div>
<script>
(function () {{
  var root = document.getElementById("{ELEMENT_ID}");
  if (!root) return;
  var data = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  var slider = root.querySelector("input"), shown = root.querySelector("output");
  var readout = root.querySelector("[data-readout]");
  var W = data.panel[0], H = data.panel[1], M = data.panel[2];
  var top = Math.log10(data.ceiling), decades = Math.log10(data.ceiling / data.floor);
  function points(values, panel) {{
    var left = M + panel * (W + M), span = Math.max(values.length - 1, 1);
    return values.map(function (v, k) {{
      var depth = top - Math.log10(Math.min(Math.max(v, data.floor), data.ceiling));
      return (left + k / span * W).toFixed(1) + "," + (10 + depth / decades * H).toFixed(1);
    }}).join(" ");
  }}
  function fmt(v) {{
    if (!v) return "less than " + data.floor.toExponential(0);
    return v < 1e-4 ? v.toExponential(1) : Number(v.toPrecision(2)).toString();
  }}
  function draw() {{
    var k = Number(slider.value), b = data.biases[k], f = 1 / (1 + Math.exp(-b));
    var s = data.survival[k], g = data.gradient[k], lag = data.lag;
    shown.textContent = String(b);
    root.querySelector('[data-curve="survival"]').setAttribute("points", points(s, 0));
    root.querySelector('[data-curve="reference"]').setAttribute("points", points(s, 1));
    root.querySelector('[data-curve="gradient"]').setAttribute("points", points(g, 1));
    readout.textContent = "f = σ(b) = " + f.toFixed(3) + ": after " + lag + " steps, " + fmt(s[lag]) +
      " of a stored value is left, and " + fmt(g[lag]) + " of the gradient reaches back " + lag + " steps.";
  }}
  slider.addEventListener("input", draw);
}})();
</script>"""


def forget_bias_explorer(biases, gradient_by_lag, start_bias: float = 1.0, lag: int = 50) -> ForgetBiasExplorer:
    """The explorer for ``biases`` (a 1-D sequence, increasing).

    ``gradient_by_lag``: ``(len(biases), L)``, row ``k`` the gradient norm reaching back each lag
    ``0 .. L-1`` for bias ``biases[k]``, relative to lag 0 (e.g. from
    :func:`lstm_course.scratch.gradient_flow.lstm_gradient_norms_by_lag`). The survival panel uses the same
    ``L`` steps. ``start_bias`` must be one of ``biases``; ``lag`` is the step the readout reports.
    """
    biases = np.asarray(biases, dtype=float)
    gradient_by_lag = np.asarray(gradient_by_lag, dtype=float)
    if biases.ndim != 1 or len(biases) < 2 or np.any(np.diff(biases) <= 0) or not np.all(np.isfinite(biases)):
        raise ValueError(f"biases: expected an increasing 1-D sequence of at least 2 finite numbers, got {biases!r}")
    if gradient_by_lag.ndim != 2 or gradient_by_lag.shape[0] != len(biases) or gradient_by_lag.shape[1] < 2:
        raise ValueError(f"gradient_by_lag: expected shape ({len(biases)}, L) with L >= 2, got {gradient_by_lag.shape}")
    if not np.all(np.isfinite(gradient_by_lag)) or np.any(gradient_by_lag < 0):
        raise ValueError("gradient_by_lag: expected finite, non-negative norms")
    matches = np.flatnonzero(np.isclose(biases, start_bias))
    if len(matches) != 1:
        raise ValueError(f"start_bias: expected one of the biases {biases.tolist()}, got {start_bias!r}")
    steps = gradient_by_lag.shape[1]
    if not isinstance(lag, int) or not 0 <= lag < steps:
        raise ValueError(f"lag: expected an integer in [0, {steps}), got {lag!r}")
    survival = sigmoid(biases)[:, None] ** np.arange(steps)[None, :]
    return ForgetBiasExplorer([float(f"{bias:g}") for bias in biases], [_significant(row) for row in survival],
                              [_significant(row) for row in gradient_by_lag], int(matches[0]), lag)
