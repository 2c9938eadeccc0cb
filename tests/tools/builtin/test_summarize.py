"""summarize_extractive: central sentences win, order is kept, budgets hold, any language, bad input is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from satchel.tools.builtin.summarize import similarity_graph, summarize_extractive, textrank

Structured = Callable[..., dict[str, Any]]

ARTICLE = (
    "The city council approved the new solar farm on the northern hills on Monday. "
    "The solar farm will supply power to about twenty thousand homes in the city. "
    "My neighbour bought a red bicycle on Tuesday. "
    "Construction of the solar farm starts in the spring and takes two years. "
    "The bakery on the corner closes early on Sundays. "
    "Critics of the solar farm say the panels will spoil the view of the hills. "
    "The council says the farm will cut the city's carbon emissions by a fifth. "
    "It rained all afternoon."
)
OFF_TOPIC = {2, 4, 7}


def test_picks_the_sentences_that_share_the_most_with_the_rest(structured: Structured) -> None:
    result = structured("summarize_extractive", text=ARTICLE, sentence_count=3)
    chosen = {item["index"] for item in result["sentences"]}
    assert len(chosen) == 3 and not chosen & OFF_TOPIC
    assert result["total_sentences"] == 8
    assert result["converged"] is True


def test_keeps_original_order_and_exact_spans(structured: Structured) -> None:
    result = structured("summarize_extractive", text=ARTICLE, sentence_count=3)
    indexes = [item["index"] for item in result["sentences"]]
    assert indexes == sorted(indexes)
    for item in result["sentences"]:
        assert ARTICLE[item["start"] : item["end"]] == item["text"]
    assert result["summary"] == " ".join(item["text"] for item in result["sentences"])


def test_ratio_budget_rounds_and_keeps_at_least_one(structured: Structured) -> None:
    assert len(structured("summarize_extractive", text=ARTICLE, ratio=0.5)["sentences"]) == 4
    assert len(structured("summarize_extractive", text=ARTICLE, ratio=0.01)["sentences"]) == 1


def test_budget_larger_than_text_returns_every_sentence(structured: Structured) -> None:
    result = structured("summarize_extractive", text="One idea here. Another idea there.", sentence_count=10)
    assert result["summary"] == "One idea here. Another idea there."


def test_works_without_spaces_between_words(structured: Structured) -> None:
    text = "東京は日本の首都です。東京の人口はとても多いです。猫が好きです。日本の首都東京は大きい都市です。"
    result = structured("summarize_extractive", text=text, sentence_count=1)
    assert "東京" in result["summary"]
    assert result["total_sentences"] == 4


def test_german_text_without_stopword_lists(structured: Structured) -> None:
    text = (
        "Die Bahn erhöht die Preise für Fernzüge im Dezember. "
        "Der Hund schläft. "
        "Die neuen Preise für Fernzüge gelten ab Dezember auf allen Strecken der Bahn. "
        "Kunden mit Bahncard zahlen für Fernzüge weniger."
    )
    result = structured("summarize_extractive", text=text, sentence_count=2)
    assert "Der Hund schläft." not in result["summary"]


def test_same_input_same_summary() -> None:
    first = summarize_extractive.run({"text": ARTICLE * 3, "sentence_count": 4})
    assert all(
        summarize_extractive.run({"text": ARTICLE * 3, "sentence_count": 4}) == first for _ in range(3)
    )


def test_identical_sentences_tie_break_to_the_earliest() -> None:
    graph = yield_free(similarity_graph([["a", "b"], ["a", "b"], ["a", "b"]]))
    scores, _, converged = yield_free(textrank(graph))
    assert converged and abs(sum(scores) - 1) < 1e-9 and max(scores) - min(scores) < 1e-9
    result = summarize_extractive.run(
        {"text": "Same words here. Same words here. Same words here.", "sentence_count": 1}
    )
    assert isinstance(result, dict) and result["sentences"][0]["index"] == 0


def yield_free(steps: Any) -> Any:
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def test_both_budgets_at_once_is_a_tool_error(tool_error: Callable[..., str]) -> None:
    assert "not both" in tool_error("summarize_extractive", text=ARTICLE, sentence_count=2, ratio=0.5)


def test_text_without_sentences_is_a_tool_error(tool_error: Callable[..., str]) -> None:
    assert "no sentences" in tool_error("summarize_extractive", text=" ... !!! \n\n ")


def test_out_of_range_budget_is_an_argument_error(tool_error: Callable[..., str]) -> None:
    assert "ratio" in tool_error("summarize_extractive", text=ARTICLE, ratio=1.5)
    assert "sentence_count" in tool_error("summarize_extractive", text=ARTICLE, sentence_count=0)


def test_too_many_sentences_is_refused_with_advice(tool_error: Callable[..., str]) -> None:
    text = " ".join(f"Sentence number {index} stands alone." for index in range(2100))
    assert "split it" in tool_error("summarize_extractive", text=text)
