"""Spanish queries against their English originals, and against BM25 and sentence-transformers + FAISS.

    python -m benchmarks.spanish [--json results.json]

The Spanish queries are in ``benchmarks/queries_es.json``, written by Spanish speakers for the project:
- genre and genre-pair queries as a Spanish speaker searches them ("películas de miedo", "comedia
  romántica"), on the Netflix and Disney+ exports with their genre labels kept; the English queries are the
  genre's name and ``genre_pair_phrase`` ("horror", "romantic comedy"); relevant are the titles whose labels
  name every genre of the query (at least 10);
- 50 free-text queries: phrases of 6–14 words cut from the default catalog's descriptions and translated by
  hand; relevant is the title the phrase came from (nDCG@10 and MRR@10), on the default model, against BM25
  and sentence-transformers + FAISS over the same "{title}. {description}" texts, given the Spanish query.
English queries must rank as before: every English query of this benchmark gets the same top 10 with the
language detected as with ``language="en"``. Latency: median search time of the Spanish queries against
their English originals, same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from benchmarks.common import Baselines, machine
from benchmarks.queries import CATALOGS
from recsys import MovieSearch, load_catalog
from recsys.catalog import Catalog
from recsys.default import default_model
from recsys.evaluate import score_runs
from recsys.query import genre_pair_phrase, label_genres
from recsys.translate import shared_translator

QUERIES = json.loads((Path(__file__).parent / "queries_es.json").read_text(encoding="utf-8"))
DEPTH = 100
DENSE_BASELINE = "sentence-transformers + FAISS, Spanish"


def genre_query_pairs(catalog: Catalog) -> list[tuple[str, str, list[str]]]:
    """(English, Spanish, relevant ids) for each genre and genre pair with at least 10 titles in the catalog."""
    genres_of = [
        set().union(*map(label_genres, labels)) if len(labels) else set() for labels in catalog.frame["genres"]
    ]
    found = []
    named = [([genre], genre.lower(), spanish) for genre, spanish in QUERIES["genres"].items()]
    named += [(pair.split("|"), genre_pair_phrase(*pair.split("|")), spanish)
              for pair, spanish in QUERIES["genre_pairs"].items()]  # fmt: skip
    for genres, english, spanish in named:
        relevant = [movie_id for movie_id, has in zip(catalog.ids, genres_of, strict=True) if set(genres) <= has]
        if len(relevant) >= 10:
            found.append((english, spanish, relevant))
    return found


def ranked(model: MovieSearch, queries: list[str], language: str | None = None) -> list[list[str]]:
    return [[hit.id for hit in hits] for hits in model.search_many(queries, k=DEPTH, language=language)]


def scores(queries: list[tuple[str, list[str]]], runs: list[list[str]]) -> dict[str, float]:
    relevant = {str(n): found for n, (_, found) in enumerate(queries)}
    return score_runs(relevant, {str(n): run for n, run in enumerate(runs)})


def genre_section(base: MovieSearch) -> dict:
    results = {}
    for name, path in CATALOGS.items():
        model = MovieSearch.build(load_catalog(path), base=base)
        pairs = genre_query_pairs(model.catalog)
        english = scores([(e, r) for e, _, r in pairs], ranked(model, [e for e, _, _ in pairs]))["ndcg@10"]
        spanish = scores([(s, r) for _, s, r in pairs], ranked(model, [s for _, s, _ in pairs]))["ndcg@10"]
        read_as = [model.understand(s).language for _, s, _ in pairs]
        results[name] = {"queries": len(pairs), "English nDCG@10": english, "Spanish nDCG@10": spanish,
                         "ratio": round(spanish / english, 4), "read as Spanish": read_as.count("es"),
                         "unchanged English top 10s": unchanged(model, [e for e, _, _ in pairs])}  # fmt: skip
    return results


def free_text_section(model: MovieSearch) -> dict:
    snippets = QUERIES["snippets"]
    english = [(item["english"], [item["id"]]) for item in snippets]
    spanish = [(item["spanish"], [item["id"]]) for item in snippets]
    baselines = Baselines(model.catalog.ids, model.catalog.documents(), depth=DEPTH)  # title + description
    results = {"queries": len(snippets),
               "recsys, English": scores(english, ranked(model, [q for q, _ in english])),
               "recsys, Spanish": scores(spanish, ranked(model, [q for q, _ in spanish])),
               "BM25, Spanish": scores(spanish, [baselines.bm25_search(q) for q, _ in spanish]),
               DENSE_BASELINE: scores(spanish, [baselines.dense_search(q) for q, _ in spanish]),
               "read as Spanish": [model.understand(q).language for q, _ in spanish].count("es")}  # fmt: skip
    english_ndcg = results["recsys, English"]["ndcg@10"]
    results["Spanish / English"] = round(results["recsys, Spanish"]["ndcg@10"] / english_ndcg, 4)
    best = max(results["BM25, Spanish"]["ndcg@10"], results[DENSE_BASELINE]["ndcg@10"])
    results["Spanish / best baseline"] = round(results["recsys, Spanish"]["ndcg@10"] / best, 4) if best else None
    return results


def unchanged(model: MovieSearch, queries: list[str]) -> str:
    """How many English queries get the same top 10 with the language detected as with it given."""
    same = sum(a == b for a, b in zip(ranked(model, queries), ranked(model, queries, "en"), strict=True))
    return f"{same} of {len(queries)}"


def latency_section(model: MovieSearch) -> dict:
    pairs = [(item["english"], item["spanish"]) for item in QUERIES["snippets"] + QUERIES["hand_written"]]

    def median_ms(queries: list[str]) -> float:
        times = []
        for query in queries:
            start = time.perf_counter()
            model.search(query, k=10)
            times.append(time.perf_counter() - start)
        return round(1000 * statistics.median(times), 2)

    for item in QUERIES["keyword"][:5]:  # warm both paths (the translator starts on first use); other queries,
        model.search(item["english"], k=10)  # as the translator keeps its last translations
        model.search(item["spanish"], k=10)
    shared_translator().forget()  # the free-text section translated these queries: time them as new ones
    english_ms, spanish_ms = median_ms([e for e, _ in pairs]), median_ms([s for _, s in pairs])
    return {"queries": len(pairs), "English median ms": english_ms, "Spanish median ms": spanish_ms,
            "ratio": round(spanish_ms / english_ms, 3)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    base = MovieSearch.load(default_model())
    english = [item["english"] for item in QUERIES["snippets"] + QUERIES["hand_written"] + QUERIES["keyword"]]
    results = {
        "machine": machine(),
        "genre": genre_section(base),
        "free text": free_text_section(base),
        "unchanged English top 10s, default model": unchanged(base, english),
        "latency": latency_section(base),
    }
    print(json.dumps(results, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
