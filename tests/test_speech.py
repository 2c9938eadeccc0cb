"""The word error rate used to score transcripts (tests/support/speech.py)."""

from __future__ import annotations

import pytest

from tests.support.speech import word_error_rate


def test_word_error_rate_counts_substitutions_insertions_and_deletions() -> None:
    assert word_error_rate("the cat sat", "the cat sat.") == 0
    assert word_error_rate("the cat sat", "the dog sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "cat sat down here") == pytest.approx(3 / 3)
    assert word_error_rate("at three o'clock", "At 3 o'clock.") == 0
