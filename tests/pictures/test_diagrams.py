"""The course's pictures: drawn from one definition, in the code's gate order and shapes, shown by every chapter.

The browser test (``tests/book/test_browser.py``) checks them in the built book, in light and dark mode.
"""

import base64
import io
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex
from PIL import Image

from lstm_course.pictures import diagrams, explorer, palette
from lstm_course.scratch.numpy_lstm import GATES
from lstm_course.tasks import tagging

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

CHAPTER_DIAGRAMS = {
    "01_why_rnns_forget": ["unrolled_rnn("],
    "02_forget_gate": ['lstm_cell(highlight=("f", "c"))'],
    "03_input_gate_and_candidate": ['lstm_cell(highlight=("i", "g", "c"))'],
    "04_cell_state_update": ['lstm_cell(highlight=("f", "i", "g", "c"), gradient_paths=True)'],
    "05_output_gate": ['lstm_cell(highlight=("o", "c", "h"))'],
    "06_lstm_from_scratch": ["lstm_cell()", "unrolled_lstm("],
    "07_lstm_in_pytorch": ["bidirectional_lstm("],
    "09_variants": ['cell_variants(("lstm", "gru"))', 'cell_variants(("peephole", "coupled"))'],
    "10_language_model": ["language_model_flow("],
    "15_scaling_up": ["data_parallelism("],
    "11_sequence_labelling": ["bidirectional_tagger("],
    "12_sequence_to_sequence": ["encoder_decoder(attention=False)", "encoder_decoder(attention=True)"],
    "13_forecasting": ["walk_forward("],
    "14_lstm_and_transformers": ["what_each_model_keeps("],
}
"""Chapter → the diagram calls it must show (issue 16)."""

ALL_DIAGRAMS = {
    "lstm_cell": lambda: diagrams.lstm_cell(),
    "lstm_cell_highlighted": lambda: diagrams.lstm_cell(highlight="f"),
    "lstm_cell_gradient_paths": lambda: diagrams.lstm_cell(highlight=("c",), gradient_paths=True),
    "gru_cell": diagrams.gru_cell,
    "lstm_and_gru": diagrams.cell_variants,
    "lstm_variants": lambda: diagrams.cell_variants(("peephole", "coupled")),
    "unrolled_rnn": diagrams.unrolled_rnn,
    "unrolled_lstm": diagrams.unrolled_lstm,
    "bidirectional_lstm": diagrams.bidirectional_lstm,
    "language_model_flow": diagrams.language_model_flow,
    "data_parallelism": diagrams.data_parallelism,
    "bidirectional_tagger": diagrams.bidirectional_tagger,
    "bidirectional_tagger_whole_line": lambda: diagrams.bidirectional_tagger("First", highlight=1, right_context=None),
    "encoder_decoder": diagrams.encoder_decoder,
    "encoder_decoder_attention": lambda: diagrams.encoder_decoder(attention=True),
    "walk_forward": diagrams.walk_forward,
    "what_each_model_keeps": diagrams.what_each_model_keeps,
    "what_each_model_keeps_3": lambda: diagrams.what_each_model_keeps(3),
    "what_each_model_keeps_7": lambda: diagrams.what_each_model_keeps(steps=7),
}


@pytest.mark.parametrize("name", ALL_DIAGRAMS)
def test_each_diagram_is_an_opaque_png_with_alt_text(name):
    diagram = ALL_DIAGRAMS[name]()
    assert diagram.png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(diagram.png))
    assert image.getpixel((0, 0))[:4] == (255, 255, 255, 255)  # opaque white: legible in dark mode
    assert 500 <= diagram.width <= 1300
    assert repr(diagram) == diagram.alt and len(diagram.alt) > 100
    png, metadata = diagram._repr_png_()
    assert png == diagram.png and metadata == {"width": diagram.width}


def test_the_cell_shows_the_codes_gate_order_and_weight_shapes():
    labels = diagrams.lstm_cell().labels
    strip = [label for label in labels if re.match(r"^[ifgo]: ", label)]
    assert [label[0] for label in strip] == list(GATES)
    assert [label.split("\n")[1] for label in strip] == ["rows 0:H", "rows H:2H", "rows 2H:3H", "rows 3H:4H"]
    assert any("(4H, D)" in label and "i, f, g, o" in label for label in labels)


def test_highlighting_fades_the_other_gates():
    full, forget = diagrams.lstm_cell(), diagrams.lstm_cell(highlight="f")
    assert full.png != forget.png
    assert "In full colour: forget gate." in forget.alt
    with pytest.raises(ValueError, match="highlight: expected some of"):
        diagrams.lstm_cell(highlight="x")
    with pytest.raises(ValueError, match="no input gate"):
        diagrams.lstm_cell(highlight="i", coupled=True)


@pytest.mark.parametrize("call", [lambda: diagrams.unrolled_rnn(steps=1), lambda: diagrams.unrolled_lstm(steps="3"),
                                  lambda: diagrams.bidirectional_lstm(steps=9), lambda: diagrams.data_parallelism(1),
                                  lambda: diagrams.language_model_flow(num_streams=0),
                                  lambda: diagrams.walk_forward(num_origins=1),
                                  lambda: diagrams.walk_forward(horizon=0),
                                  lambda: diagrams.what_each_model_keeps(steps=2),
                                  lambda: diagrams.what_each_model_keeps(steps="4"),
                                  lambda: diagrams.what_each_model_keeps(steps=8)])
def test_bad_sizes_are_refused(call):
    with pytest.raises(ValueError, match="expected an integer"):
        call()


@pytest.mark.parametrize("cells", ["gru", (), ("gru", "gru"), ("lstm", "transformer")])
def test_bad_cell_lists_are_refused(cells):
    with pytest.raises(ValueError, match="cells: expected distinct names"):
        diagrams.cell_variants(cells)


def test_the_encoder_decoder_shows_the_summary_and_with_attention_the_weights():
    plain, attending = diagrams.encoder_decoder(), diagrams.encoder_decoder(attention=True)
    source, target = diagrams.ENCODER_DECODER_EXAMPLE
    assert target == source[::-1] and set(source) <= set(plain.labels) and "<end>" in plain.labels
    assert not any("alpha_t" in label for label in plain.labels) and "summary of fixed size" in plain.alt
    # The context is ctx_t and the weights alpha_t(s): c_t is only ever a cell state, a_t a pre-activation.
    assert any("\\mathrm{ctx}_t = \\sum_s \\alpha_t(s)" in label for label in attending.labels)
    assert not any(re.search(r"\b[ac]_t\b", label) for label in attending.labels) and "c_t" not in attending.alt
    weights = [float(label) for label in attending.labels if label.startswith("0.")]
    assert abs(sum(weights) - 1) < 1e-9 and max(weights) == weights[source.index(target[2])]  # "s" reads "s"
    with pytest.raises(ValueError, match="attention: expected True or False"):
        diagrams.encoder_decoder(attention="yes")


@pytest.mark.parametrize("steps", [3, 5, 7])
def test_what_each_model_keeps_labels_the_three_rows(steps):
    diagram = diagrams.what_each_model_keeps(steps)
    labels = diagram.labels
    assert {"LSTM", "Transformer", "minGRU /\nminLSTM"} <= set(labels)
    assert labels.count("$x_1$") == 3 and labels.count(f"$x_{steps}$") == 3  # the same characters in each row
    assert f"$c_{steps}$" in labels and labels.count(f"$h_{steps}$") == 2  # the LSTM's (h, c), minGRU's h
    assert f"$q_{steps}, k_{steps}, v_{steps}$" in labels and f"$\\lambda_{steps}$" in labels
    assert f"$\\beta_{steps}$" in labels
    assert any(label.startswith("key-value cache: one entry per past character") for label in labels)
    assert any("$h_{t-1}$" in label and "one step after another" in label for label in labels)
    assert any("gates read $x_t$ only" in label and "scan" in label for label in labels)
    assert f"{steps} at the last" in diagram.alt and "h_t = λ_t h_{t-1} + β_t" in diagram.alt
    with pytest.raises(ValueError, match=r"^steps: expected an integer from 3 to 7, got True$"):
        diagrams.what_each_model_keeps(True)


def test_bidirectional_diagram_labels_the_shapes_nn_lstm_returns():
    steps, batch, hidden = 5, 2, 4
    lstm = torch.nn.LSTM(3, hidden, num_layers=2, bidirectional=True)
    output, (h_n, c_n) = lstm(torch.zeros(steps, batch, 3))
    values = {"T": steps, "B": batch, "H": hidden}

    def evaluate(label):  # "(T, B, 2H)" -> (5, 2, 8)
        return tuple(int(part[:-1] or 1) * values[part[-1]] if part[-1] in values else int(part)
                     for part in label.strip("()").split(", "))

    shapes = diagrams.BIDIRECTIONAL_SHAPES
    assert evaluate(shapes["output"]) == tuple(output.shape)
    assert evaluate(shapes["h_n"]) == tuple(h_n.shape) and evaluate(shapes["c_n"]) == tuple(c_n.shape)
    labels = diagrams.bidirectional_lstm().labels
    assert any(shapes["output"] in label for label in labels)
    assert {f"$h_n$[{k}]" for k in range(4)} <= set(labels)


def test_the_tagger_diagram_labels_each_character_as_the_task_does():
    diagram = diagrams.bidirectional_tagger("so I say", highlight=3, right_context=1)
    labels = [label for label in diagram.labels if label in diagrams.TAGGER_LABELS.values()]
    expected = tagging.case_labels("so I say")
    assert labels == [{tagging.UPPER: "U", tagging.LOWER: "L", tagging.IGNORE: "–"}[int(k)] for k in expected]
    assert "the next 1 character" in diagram.alt and "shaded: what the label of character 4 sees" in " ".join(
        diagram.labels)
    for arguments, message in ((dict(text="ab"), "text: expected 3 to 9 characters"),
                               (dict(highlight=8), "highlight: expected an integer from 0 to 7"),
                               (dict(highlight=3, right_context=5), "right_context: expected None or an integer")):
        with pytest.raises(ValueError, match=message):
            diagrams.bidirectional_tagger(**arguments)


def test_one_colour_per_gate():
    colours = [palette.gate_colour(gate) for gate in GATES]
    assert len(set(colours)) == 4 and palette.CELL_COLOUR not in colours
    assert palette.gate_colour("z") == palette.gate_colour("f") and palette.gate_colour("n") == palette.gate_colour("g")
    colour_map = palette.gate_colormap("o")
    assert to_hex(colour_map(0.0)) == "#ffffff" and to_hex(colour_map(1.0)) == palette.gate_colour("o").lower()
    shades = palette.shades("f", 3)
    assert shades[-1] == palette.gate_colour("f").lower() and len(set(shades)) == 3
    with pytest.raises(ValueError, match="gate: expected one of"):
        palette.gate_colour("q")


def _notebook(name):
    return nbformat.read(ROOT / "chapters" / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("chapter", CHAPTER_DIAGRAMS)
def test_each_chapter_shows_its_diagrams(chapter):
    cells = [cell for cell in _notebook(chapter).cells if cell.cell_type == "code" and "diagrams." in cell.source]
    for call in CHAPTER_DIAGRAMS[chapter]:
        matching = [cell for cell in cells if f"diagrams.{call}" in cell.source]
        assert len(matching) == 1, f"{chapter}: expected one cell calling diagrams.{call}"
        cell = matching[0]
        (output,) = [output for output in cell.outputs if "image/png" in output.get("data", {})]
        options = cell.metadata["mystnb"]
        assert options["image"]["classes"] == "diagram"
        assert options["image"]["alt"] == output["data"]["text/plain"], "re-execute: tools/execute_notebooks.py"
        assert len(options["figure"]["caption"]) > 80 and options["figure"]["name"].startswith("fig-")


NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_figure_has_an_opaque_background(path):
    """A transparent figure's black lines and text vanish on the book's dark background."""
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                image = Image.open(io.BytesIO(base64.b64decode(output["data"]["image/png"]))).convert("RGBA")
                corners = [image.getpixel(xy) for xy in ((0, 0), (image.width - 1, image.height - 1))]
                assert all(pixel[3] == 255 for pixel in corners), f"{path.name}, cell {number}: transparent"


def test_explorer_holds_every_bias_and_starts_at_the_chosen_one():
    biases = np.arange(0.0, 2.01, 0.5)
    lags = np.arange(20)
    gradient = np.stack([0.9 ** lags * (1 + bias) / (1 + bias) for bias in biases])
    figure = explorer.forget_bias_explorer(biases, gradient, start_bias=1.0, lag=10)
    page = figure._repr_html_()
    assert 'type="range"' in page and 'max="4"' in page and 'value="2"' in page
    assert page.count("<polyline") == 3 and "http" not in page  # nothing fetched
    assert "At b = 1:" in repr(figure) and f"{0.9 ** 10:.2g} of the gradient" in repr(figure)
    assert figure._repr_html_() == page  # deterministic: nbval compares it


@pytest.mark.parametrize("arguments, message", [
    (dict(biases=[1.0, 0.0], gradient_by_lag=np.ones((2, 5))), "biases: expected an increasing"),
    (dict(biases=[0.0, 1.0], gradient_by_lag=np.ones((3, 5))), "gradient_by_lag: expected shape"),
    (dict(biases=[0.0, 1.0], gradient_by_lag=-np.ones((2, 5))), "finite, non-negative"),
    (dict(biases=[0.0, 1.0], gradient_by_lag=np.ones((2, 5)), start_bias=0.5), "start_bias: expected one of"),
    (dict(biases=[0.0, 1.0], gradient_by_lag=np.ones((2, 5)), start_bias=0.0, lag=5), "lag: expected an integer"),
])
def test_explorer_refuses_bad_input(arguments, message):
    with pytest.raises(ValueError, match=message):
        explorer.forget_bias_explorer(**arguments)


def test_the_notation_page_lists_the_palettes_colours():
    page = (ROOT / "course" / "notation.md").read_text()
    parts = "input gate|forget gate|candidate|output gate|the GRU's reset gate|cell state|hidden state|gradients"
    rows = dict(re.findall(rf"^\| ({parts})[^|]*\|[^|]*\| `(#[0-9A-F]{{6}})` \|$", page, flags=re.MULTILINE))
    expected = {"input gate": palette.GATE_COLOURS["i"], "forget gate": palette.GATE_COLOURS["f"],
                "candidate": palette.GATE_COLOURS["g"], "output gate": palette.GATE_COLOURS["o"],
                "the GRU's reset gate": palette.GRU_GATE_COLOURS["r"], "cell state": palette.CELL_COLOUR,
                "hidden state": palette.HIDDEN_COLOUR, "gradients": palette.GRADIENT_COLOUR}
    assert rows == expected


def test_the_gradient_paths_include_the_forget_gates_route():
    # The route through f_t (its gradient is c_{t-1} times the one at c_t) is one of the paths through h_{t-1};
    # chapter 4's exercise measures how much each gate's route carries.
    paths, plain = diagrams.lstm_cell(gradient_paths=True), diagrams.lstm_cell()
    assert any("partial f_t = c_{t-1}" in label for label in paths.labels)
    assert not any("partial f_t" in label for label in plain.labels)
    assert "through the forget gate" in paths.alt


def test_data_parallelism_writes_gradients_as_delta_theta():
    # g is the LSTM's candidate and W a weight matrix: the gradients are δθ_r, the processes R.
    labels = diagrams.data_parallelism(3).labels
    gradients = [label for label in labels if label.startswith("$\\delta\\theta_")]
    assert gradients == [f"$\\delta\\theta_{r}$" for r in range(3)]
    assert not any(re.search(r"\bg\b|\\bar g|\$W\$", label) for label in labels)
