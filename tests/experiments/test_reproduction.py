"""The one rule for a live re-run against its results file (lstm_course.experiments.reproduction)."""

import pytest

from lstm_course.experiments.reproduction import assert_within_seeds, seeds_range


def test_the_range_is_widened_by_its_own_width_or_by_a_wider_margin():
    assert seeds_range([0.02, 0.03, 0.025]) == pytest.approx((0.01, 0.04))
    assert seeds_range([0.5, 0.5, 0.5], margin=0.1) == pytest.approx((0.4, 0.6))
    assert seeds_range([1.0, 2.0, 1.5], margin=0.1) == (0.0, 3.0)  # a margin never narrows the range


def test_a_live_value_in_the_widened_range_passes_and_one_outside_fails():
    assert_within_seeds("error", 0.015, [0.02, 0.03, 0.025])
    assert_within_seeds("error", 0.035, [0.02, 0.03, 0.025])
    with pytest.raises(AssertionError, match=r"error: 0.045 here, outside the recorded seeds' range 0.02 to 0.03"):
        assert_within_seeds("error", 0.045, [0.02, 0.03, 0.025])
    with pytest.raises(AssertionError, match="None here"):
        assert_within_seeds("sequences until solved", None, [94_400, 188_800, 137_600])  # a run that never solved


@pytest.mark.parametrize(("recorded", "margin", "message"), [
    ([], 0.0, "recorded: expected a list of at least 3 finite numbers"),
    ([2.6594], 0.0, "recorded: expected a list of at least 3"),  # one seed: no spread (the old quick file)
    ([0.1, 0.2, float("nan")], 0.0, "recorded: expected a list of at least 3 finite numbers"),
    ([0.1, 0.2, 0.3], -1.0, "margin: expected a number >= 0"),
])
def test_bad_input_gets_a_one_line_error(recorded, margin, message):
    with pytest.raises(ValueError, match=message):
        seeds_range(recorded, margin)
