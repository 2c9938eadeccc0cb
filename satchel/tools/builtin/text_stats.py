"""``text_stats``: counts, reading time and a language guess for a text, computed locally.

The language guess scores each profile in ``_languages.py`` by the share of the text's words that are that
language's function words, plus a small bonus per tell-tale letter; "und" (undetermined, BCP 47) when the text is
too short or matches nothing well.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, TypedDict

from satchel.tools.builtin._languages import FUNCTION_WORDS, LETTERS
from satchel.tools.builtin._text import sentences, words
from satchel.tools.schema import Constraint
from satchel.tools.tool import tool

MIN_WORDS_FOR_GUESS = 3
LETTER_WEIGHT = 0.02


class LanguageGuess(TypedDict):
    """The most likely language.

    Attributes:
        code: ISO 639-1 code, or "und" when undetermined.
        confidence: Between 0 and 1: how far the best profile leads the runner-up.
        scores: Score of every profile (share of function words plus letter evidence).
    """

    code: str
    confidence: float
    scores: dict[str, float]


class TextStats(TypedDict):
    """Statistics of a text.

    Attributes:
        characters: All characters, spaces included.
        characters_no_spaces: Characters other than whitespace.
        words: Words (letters/digits runs; one per character in unspaced scripts).
        unique_words: Distinct words, case-insensitively.
        sentences: Sentences.
        paragraphs: Blocks separated by blank lines.
        average_word_length: Mean characters per word.
        average_sentence_length: Mean words per sentence.
        reading_time_seconds: Words divided by the reading speed.
        language: The language guess.
    """

    characters: int
    characters_no_spaces: int
    words: int
    unique_words: int
    sentences: int
    paragraphs: int
    average_word_length: float
    average_sentence_length: float
    reading_time_seconds: int
    language: LanguageGuess


def guess_language(text: str, tokens: list[str]) -> LanguageGuess:
    folded = [token.casefold() for token in tokens]
    lowered = text.casefold()
    scores: dict[str, float] = {}
    for code, vocabulary in FUNCTION_WORDS.items():
        share = sum(token in vocabulary for token in folded) / len(folded) if folded else 0.0
        letters = sum(lowered.count(letter) for letter in LETTERS[code])
        scores[code] = round(share + LETTER_WEIGHT * math.log1p(letters), 4)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    (best, top), (_, second) = ranked[0], ranked[1]
    if len(folded) < MIN_WORDS_FOR_GUESS or top < 0.05:
        return {"code": "und", "confidence": 0.0, "scores": scores}
    confidence = round((top - second) / top, 3) if top else 0.0
    return {"code": best, "confidence": confidence, "scores": scores}


@tool(title="Text statistics")
def text_stats(
    text: str,
    words_per_minute: Annotated[int, Constraint(minimum=50, maximum=1000)] = 238,
) -> TextStats:
    """Count characters, words, sentences and paragraphs, estimate reading time and guess the language
    (en, de, fr, es, it, nl, pt).

    Args:
        text: The text to measure.
        words_per_minute: Reading speed for the reading-time estimate (238 is an average adult reading silently).
    """
    tokens = words(text)
    sentence_count = len(sentences(text))
    paragraphs = [block for block in re.split(r"\n\s*\n", text) if block.strip()]
    return {
        "characters": len(text),
        "characters_no_spaces": sum(not char.isspace() for char in text),
        "words": len(tokens),
        "unique_words": len({token.casefold() for token in tokens}),
        "sentences": sentence_count,
        "paragraphs": len(paragraphs),
        "average_word_length": round(sum(map(len, tokens)) / len(tokens), 2) if tokens else 0.0,
        "average_sentence_length": round(len(tokens) / sentence_count, 2) if sentence_count else 0.0,
        "reading_time_seconds": math.ceil(len(tokens) * 60 / words_per_minute),
        "language": guess_language(text, tokens),
    }
