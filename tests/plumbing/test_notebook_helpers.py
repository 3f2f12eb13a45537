"""The helpers every chapter uses to print and glue numbers that hold on any CPU."""

import numpy as np
import pytest

from lstm_course.plumbing import notebook


@pytest.mark.parametrize("value, printed", [(4.16e-17, "< 1e-12"), (0.0, "< 1e-12"), (-3e-13, "< 1e-12"),
                                            (0.178, "1.78e-01"), (2e-12, "2.00e-12")])
def test_error_bound_hides_rounding_noise(value, printed):
    assert notebook.error_bound(value) == printed


def test_glue_rounds_floats_to_the_digits_that_hold(monkeypatch):
    stored = {}
    myst_nb = pytest.importorskip("myst_nb")
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: stored.update({name: value}))
    notebook.glue("a", 0.42957551931021715)
    notebook.glue("b", np.float64(220217.08388818635))
    notebook.glue("c", 132800)
    assert stored == {"a": 0.429576, "b": 220217.0, "c": 132800}
