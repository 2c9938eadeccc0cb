"""text_stats: counts on known text, reading time, and the language guess for the seven profiled languages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Structured = Callable[..., dict[str, Any]]

SAMPLES = {
    "en": "The committee has not yet decided whether the new library will be built in the centre of the town.",
    "de": "Der Ausschuss hat noch nicht entschieden, ob die neue Bibliothek im Zentrum der Stadt gebaut wird.",
    "fr": "Le comité n'a pas encore décidé si la nouvelle bibliothèque sera construite dans le centre de la ville.",
    "es": "El comité todavía no ha decidido si la nueva biblioteca se construirá en el centro de la ciudad.",
    "it": "Il comitato non ha ancora deciso se la nuova biblioteca sarà costruita nel centro della città.",
    "nl": "Het comité heeft nog niet besloten of de nieuwe bibliotheek in het centrum van de stad wordt gebouwd.",
    "pt": "O comitê ainda não decidiu se a nova biblioteca será construída no centro da cidade.",
}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_guesses_each_profiled_language(structured: Structured, code: str) -> None:
    language = structured("text_stats", text=SAMPLES[code])["language"]
    assert language["code"] == code, language
    assert 0 < language["confidence"] <= 1


def test_counts_words_sentences_paragraphs(structured: Structured) -> None:
    text = "Hello world. Don't panic!\n\nSecond paragraph here?"
    stats = structured("text_stats", text=text)
    assert stats["words"] == 7
    assert stats["unique_words"] == 7
    assert stats["sentences"] == 3
    assert stats["paragraphs"] == 2
    assert stats["characters"] == len(text)
    assert stats["characters_no_spaces"] == len(text.replace(" ", "").replace("\n", ""))


def test_reading_time_follows_the_speed(structured: Structured) -> None:
    text = "word " * 476
    assert structured("text_stats", text=text)["reading_time_seconds"] == 120
    assert structured("text_stats", text=text, words_per_minute=476)["reading_time_seconds"] == 60


def test_short_or_foreign_text_is_undetermined(structured: Structured) -> None:
    assert structured("text_stats", text="Hi")["language"]["code"] == "und"
    russian = "Привет, как дела у тебя сегодня вечером?"  # noqa: RUF001
    assert structured("text_stats", text=russian)["language"]["code"] == "und"


def test_empty_text_has_zero_counts(structured: Structured) -> None:
    stats = structured("text_stats", text="")
    assert (stats["words"], stats["sentences"], stats["average_word_length"]) == (0, 0, 0.0)
