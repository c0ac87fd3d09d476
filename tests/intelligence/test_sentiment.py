"""The rule that turns an OverallSentimentScore into the VoiceCall's -5..5 score."""

from __future__ import annotations

import pytest

from callbridge.intelligence.sentiment import Scale, call_score


@pytest.mark.parametrize("value", [0.0, 0.8, -1.6, 5.0, -5.0])
def test_values_within_five_are_taken_as_they_are(value: float) -> None:
    """Contact Lens' raw scores (-5..5, the VoiceCall's own scale) are kept unchanged."""
    assert call_score(value) == (call_score(value).__class__(value, Scale.native))


@pytest.mark.parametrize(("value", "expected"), [(1000.0, 5.0), (-1000.0, -5.0), (400.0, 2.0), (5.5, 0.0275)])
def test_values_beyond_five_are_mapped_linearly(value: float, expected: float) -> None:
    """Beyond ±5 the value is on the documented -1000..1000 scale, divided by 200."""
    mapped = call_score(value)
    assert (mapped.score, mapped.scale) == (expected, Scale.documented)
