"""Answers as JSON-ready documents: one shape for the CLI's ``--json``, the HTTP API and anyone else.

Each function asks :class:`~recsys.engine.MovieSearch` once and turns what it returns into plain dicts,
lists, strings and numbers, so every way of asking gets the same ranking in the same shape.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from recsys.engine import MovieSearch

FILTERS = ("genres", "years", "kind", "countries", "ratings", "max_runtime", "exclude_genres", "ignore", "language")


def search_document(
    model: MovieSearch, query: str, k: int = 10, offset: int = 0, explain: bool = False, **options
) -> dict:  # fmt: skip
    """A query's results ``offset + 1 … offset + k`` with what the query was read as (``options``: :data:`FILTERS`).

    Pages are stable: the ranking is computed to ``offset + k`` and cut, so page 2 starts where page 1 ended.
    With ``explain``, each result carries its explanation (word shares, as :func:`explain_document`).
    """
    hits = model.search(query, k=offset + k, **options)[offset:]
    understood = model.understand(query, options.get("ignore", ()), options.get("language"))
    results = [jsonable(hit._asdict()) for hit in hits]
    if explain and hits:
        explanations = model.explain_many(query, [hit.id for hit in hits], options.get("ignore", ()),
                                          options.get("language"))  # fmt: skip
        for result, explanation in zip(results, explanations, strict=True):
            result["explanation"] = jsonable(explanation.to_dict())
    return {
        "query": query, "language": understood.language, "offset": offset,
        "understood": [jsonable(reading._asdict()) for reading in understood.readings],
        "notes": list(understood.notes), "results": results,
    }  # fmt: skip


def batch_documents(model: MovieSearch, qids: Sequence, queries: Sequence[str], k: int, **options) -> list[dict]:
    """``{"qid", "ranked", "scores"}`` per query, ranked in one batch (``options``: :data:`FILTERS`)."""
    results = model.search_many(queries, k=k, **options)
    return [{"qid": jsonable(qid), "ranked": [hit.id for hit in hits], "scores": [float(hit.score) for hit in hits]}
            for qid, hits in zip(qids, results, strict=True)]  # fmt: skip


def recommend_document(model: MovieSearch, liked: Sequence[str], disliked: Sequence[str] = (), k: int = 10) -> dict:
    """Recommendations from liked ids (oldest first), away from disliked ones, with what drew each one."""
    found = model.recommend(liked, k=k, disliked_ids=disliked)
    results = []
    for item in found:
        drawn_by = [{"id": movie_id, "title": title, "weight": float(w)} for movie_id, title, w in item.drawn_by]
        parts = {name: float(value) for name, value in item.parts}
        results.append({**jsonable(item._asdict()), "drawn_by": drawn_by, "parts": parts})
    return {"liked": list(liked), "disliked": list(disliked), "results": results}


def explain_document(model: MovieSearch, query: str, movie_id: str, **options) -> dict:
    """A title's score for a query split over its parts and words (``options``: ``ignore``, ``language``)."""
    return jsonable(model.explain(query, movie_id=movie_id, **options).to_dict())


def understand_document(model: MovieSearch, query: str, **options) -> dict:
    """What a query is read as (``options``: ``ignore``, ``language``)."""
    understood = model.understand(query, options.get("ignore", ()), options.get("language"))
    return {
        "query": query, "language": understood.language, "searched text": understood.text,
        "understood": [jsonable(reading._asdict()) for reading in understood.readings], "notes": list(understood.notes),
    }  # fmt: skip


def title_document(model: MovieSearch, movie_id: str) -> dict:
    """One catalog title, every field."""
    return jsonable(model.title(movie_id))


def jsonable(value):
    """A value with NumPy scalars and arrays, tuples and NaN turned into what JSON holds.

    >>> jsonable({"year": np.int64(1999), "genres": ("Drama",), "runtime": float("nan")})
    {'year': 1999, 'genres': ['Drama'], 'runtime': None}
    """
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is not None and not isinstance(value, (str, int, float, bool)):
        return str(value)  # a timestamp, say
    return value
