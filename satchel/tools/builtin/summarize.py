"""``summarize_extractive``: pick the most central sentences of a text, offline and without a model.

TextRank: sentences are nodes, edges weigh the cosine similarity of their TF-IDF word vectors, and PageRank by power
iteration scores each sentence. IDF is computed over the text's own sentences, so words that occur everywhere
("the", "der", "la") weigh almost nothing in any language, with no stopword list. Ties break towards the earlier
sentence, so the same input always gives the same summary; the chosen sentences keep their original order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Generator
from typing import Annotated, TypedDict

from satchel.tools.builtin._text import sentences, words
from satchel.tools.schema import Constraint
from satchel.tools.tool import Progress, ToolError, tool

DAMPING = 0.85
MAX_ITERATIONS = 100
TOLERANCE = 1e-6
MAX_SENTENCES = 2000
"""The similarity graph grows with the square of the sentence count; beyond this, ask for smaller pieces."""
DEFAULT_SENTENCES = 3


class RankedSentence(TypedDict):
    """A sentence chosen for the summary.

    Attributes:
        index: Position of the sentence in the text (0-based).
        start: Offset of the sentence in the text.
        end: Offset just past the sentence.
        score: Its TextRank score (scores of all sentences sum to 1).
        text: The sentence.
    """

    index: int
    start: int
    end: int
    score: float
    text: str


class SummaryResult(TypedDict):
    """An extractive summary.

    Attributes:
        summary: The chosen sentences joined in their original order.
        sentences: The chosen sentences with positions and scores, in original order.
        total_sentences: How many sentences the text has.
        iterations: Power-iteration rounds run.
        converged: Whether the scores settled within tolerance before the iteration limit.
    """

    summary: str
    sentences: list[RankedSentence]
    total_sentences: int
    iterations: int
    converged: bool


def _vectors(token_lists: list[list[str]]) -> list[dict[str, float]]:
    """L2-normalised TF-IDF vectors; IDF = log(1 + N/df) keeps weights positive even for ubiquitous words."""
    count = len(token_lists)
    document_frequency: Counter[str] = Counter()
    for tokens in token_lists:
        document_frequency.update(set(tokens))
    vectors = []
    for tokens in token_lists:
        weights = {
            term: (1 + math.log(frequency)) * math.log(1 + count / document_frequency[term])
            for term, frequency in Counter(tokens).items()
        }
        norm = math.sqrt(sum(weight * weight for weight in weights.values()))
        vectors.append({term: weight / norm for term, weight in weights.items()} if norm else {})
    return vectors


def similarity_graph(token_lists: list[list[str]]) -> Generator[Progress, None, list[dict[int, float]]]:
    """Weighted adjacency lists: cosine similarity between every pair of sentences that share a word."""
    vectors = _vectors(token_lists)
    postings: dict[str, list[int]] = {}
    for index, vector in enumerate(vectors):
        for term in vector:
            postings.setdefault(term, []).append(index)
    graph: list[dict[int, float]] = [{} for _ in vectors]
    for index, vector in enumerate(vectors):
        scores: dict[int, float] = {}
        for term, weight in vector.items():
            for other in postings[term]:
                if other > index:
                    scores[other] = scores.get(other, 0.0) + weight * vectors[other][term]
        for other, score in scores.items():
            if score > 0:
                graph[index][other] = score
                graph[other][index] = score
        if index % 50 == 49:
            yield Progress(index + 1, len(vectors), "building the similarity graph")
    return graph


def textrank(graph: list[dict[int, float]]) -> Generator[Progress, None, tuple[list[float], int, bool]]:
    """PageRank over the weighted graph; sentences with no edges spread their score evenly (dangling nodes)."""
    count = len(graph)
    scores = [1.0 / count] * count
    out_weight = [sum(edges.values()) for edges in graph]
    for iteration in range(1, MAX_ITERATIONS + 1):
        dangling = sum(score for score, weight in zip(scores, out_weight, strict=True) if weight == 0)
        base = (1 - DAMPING) / count + DAMPING * dangling / count
        updated = [base] * count
        for source, edges in enumerate(graph):
            if out_weight[source]:
                share = DAMPING * scores[source] / out_weight[source]
                for target, weight in edges.items():
                    updated[target] += share * weight
        change = sum(abs(new - old) for new, old in zip(updated, scores, strict=True))
        scores = updated
        yield Progress(iteration, MAX_ITERATIONS, f"ranking sentences (change {change:.2e})")
        if change < TOLERANCE:
            return scores, iteration, True
    return scores, MAX_ITERATIONS, False


@tool(title="Summarise text (extractive)")
def summarize_extractive(
    text: str,
    sentence_count: Annotated[int, Constraint(minimum=1, maximum=200)] | None = None,
    ratio: Annotated[float, Constraint(exclusive_minimum=0, maximum=1)] | None = None,
) -> Generator[Progress, None, SummaryResult]:
    """Summarise a text by choosing its most central sentences (TextRank); works for any language and keeps
    the sentences' original order. Give either a sentence count or a ratio (default: 3 sentences).

    Args:
        text: The text to summarise.
        sentence_count: How many sentences to keep.
        ratio: The share of sentences to keep, e.g. 0.2 for a fifth (at least one).
    """
    if sentence_count is not None and ratio is not None:
        raise ToolError("give either sentence_count or ratio, not both")
    found = sentences(text)
    if not found:
        raise ToolError("the text has no sentences to summarise")
    if len(found) > MAX_SENTENCES:
        raise ToolError(
            f"the text has {len(found)} sentences; summarise at most {MAX_SENTENCES} at a time "
            "(split it into sections and summarise each)"
        )
    if ratio is not None:
        budget = max(1, round(len(found) * ratio))
    else:
        budget = sentence_count if sentence_count is not None else DEFAULT_SENTENCES
    token_lists = [[word.casefold() for word in words(sentence.text)] for sentence in found]
    graph = yield from similarity_graph(token_lists)
    scores, iterations, converged = yield from textrank(graph)
    ranked = sorted(range(len(found)), key=lambda index: (-scores[index], index))
    chosen = sorted(ranked[:budget])
    picked: list[RankedSentence] = [
        {
            "index": index,
            "start": found[index].start,
            "end": found[index].end,
            "score": round(scores[index], 6),
            "text": found[index].text,
        }
        for index in chosen
    ]
    return {
        "summary": " ".join(item["text"] for item in picked),
        "sentences": picked,
        "total_sentences": len(found),
        "iterations": iterations,
        "converged": converged,
    }
