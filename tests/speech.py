"""Scoring speech recognition in tests: the word error rate every suite that checks a transcript reports."""

from __future__ import annotations

NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
NUMBER_WORDS = {word: str(value) for value, word in enumerate(NUMBERS)}


def normalised_words(text: str) -> list[str]:
    """Lower case, no punctuation, small numbers as digits (as whisper writes them)."""
    cleaned = "".join(c.lower() if c.isalnum() or c.isspace() or c == "'" else " " for c in text)
    return [NUMBER_WORDS.get(word, word) for word in cleaned.split()]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Word-level Levenshtein distance over the reference length, after `normalised_words`."""
    ref, hyp = normalised_words(reference), normalised_words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1] / max(len(ref), 1)
