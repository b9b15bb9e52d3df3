"""Measure whether the word shares are faithful, and what explaining a search costs.

    python -m benchmarks.explain [CATALOG] [--pairs 300] [--runs 5]

Faithfulness (DESIGN.md's second check): delete a text's 3 highest-share words and, separately, 3 words
drawn at random; the explanation is faithful on a pair when the first deletion lowers the attention score
more. Two draws are reported: 3 random words of the text (stop words included, bare punctuation not), as
the check is worded, and the stricter 3 random content words (the words the explanation ranks).
Description side: the search's top results for a mixed query set. Query side: queries of 6–12 words cut
from other titles' descriptions, with their top results.

Cost: median time of explaining a search's top 10 (one call of ``explain_many``) against the median time
of the search itself, the two alternating, over ``--runs`` rounds of 40 queries.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

import torch

from benchmarks.common import NETFLIX, machine, netflix_queries
from recsys import MovieSearch, load_catalog
from recsys.explain import Explanation
from recsys.tokenizer import is_punctuation, word_spans


def dense_score(model: MovieSearch, query_text: str, document: str) -> float:
    """The attention score q·k of a query text (as the encoder reads it) and any description."""
    embeddings = torch.from_numpy(model.encoder.embed([query_text, document]))
    with torch.inference_mode():
        head = model.scorer.head
        return float(head.queries(embeddings[:1]) @ head.keys(embeddings[1:]).T)


def without(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with the given character spans cut out."""
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + text[end:]
    return " ".join(text.split())


def text_words(model: MovieSearch, text: str) -> list[tuple[int, int]]:
    """The character spans of a text's words as a reader counts them (bare punctuation is not a word)."""
    batch = model.encoder.tokenizer.encode([text])
    spans = word_spans(batch.word_ids[0], batch.offsets[0]).values()
    return [(start, end) for start, end in spans if not is_punctuation(text[start:end])]


def faithful(
    model: MovieSearch, explanation: Explanation, side: str, rng: random.Random, content_only: bool
) -> bool | None:
    """Whether deleting the 3 top-share words of one side lowers the score more than 3 random ones.

    None when that side has fewer than 6 content words (the two deletions would overlap too much).
    """
    words = explanation.query_words if side == "query" else explanation.movie_words
    if len(words) < 6:
        return None
    top = [(w.start, w.end) for w in words[:3]]
    text = explanation.query_text if side == "query" else explanation.movie_text
    pool = [(w.start, w.end) for w in words] if content_only else text_words(model, text)
    drawn = rng.sample(pool, 3)

    def drop(spans: list[tuple[int, int]]) -> float:
        query, movie = explanation.query_text, explanation.movie_text
        if side == "query":
            return explanation.dense - dense_score(model, without(query, spans), movie)
        return explanation.dense - dense_score(model, query, without(movie, spans))

    return drop(top) > drop(drawn)


def long_queries(documents: list[str], n: int, seed: int = 1) -> list[str]:
    """Phrases of 6–12 words cut from random descriptions (seeded)."""
    rng = random.Random(seed)
    queries = []
    while len(queries) < n:
        words = rng.choice(documents).split(". ", 1)[-1].split()
        length = rng.randint(6, 12)
        if len(words) >= length:
            start = rng.randint(0, len(words) - length)
            queries.append(" ".join(words[start : start + length]).strip(" .,;:!?"))
    return queries


def faithfulness_rate(model: MovieSearch, queries: list[str], side: str, pairs: int, per_query: int = 3) -> dict:
    """Shares of (query, result) pairs on which the explanation is faithful, over ``pairs`` pairs.

    Returns ``{"pairs", "rate", "rate_against_content_words"}``.
    """
    rng, strict_rng = random.Random(0), random.Random(1)
    wins = strict_wins = counted = 0
    for query in queries:
        hits = model.search(query, k=per_query)
        for explanation in model.explain_many(query, [hit.id for hit in hits]):
            verdict = faithful(model, explanation, side, rng, content_only=False)
            if verdict is None or counted == pairs:
                continue
            strict = faithful(model, explanation, side, strict_rng, content_only=True)
            wins, strict_wins, counted = wins + verdict, strict_wins + strict, counted + 1
        if counted == pairs:
            break
    return {"pairs": counted, "rate": round(wins / max(counted, 1), 4),
            "rate_against_content_words": round(strict_wins / max(counted, 1), 4)}  # fmt: skip


def explanation_cost(model: MovieSearch, queries: list[str], runs: int) -> dict:
    """Median times of a top-10 search and of explaining its 10 results, measured alternately."""
    search_times, explain_times = [], []
    for _ in range(runs):
        for query in queries:
            started = time.perf_counter()
            hits = model.search(query, k=10)
            searched = time.perf_counter()
            model.explain_many(query, [hit.id for hit in hits])
            explain_times.append(time.perf_counter() - searched)
            search_times.append(searched - started)
    search, explain = statistics.median(search_times), statistics.median(explain_times)
    return {"search_ms": round(1000 * search, 2), "explain_top10_ms": round(1000 * explain, 2),
            "ratio": round(explain / search, 3)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalog", nargs="?", default=str(NETFLIX))
    parser.add_argument("--model", help="a model directory instead of indexing CATALOG (untrained head)")
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    model = MovieSearch.load(args.model) if args.model else MovieSearch.build(load_catalog(args.catalog))
    documents = model.catalog.documents()
    mixed = netflix_queries(documents, 400)
    report = {
        "catalog": str(model.catalog.source),
        "description_side": faithfulness_rate(model, mixed, "movie", args.pairs),
        "query_side": faithfulness_rate(model, long_queries(documents, 400), "query", args.pairs),
        "cost": explanation_cost(model, mixed[:40], args.runs),
        "machine": machine(),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
