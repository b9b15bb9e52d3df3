"""Retrieval quality across catalogs: BM25, sentence-transformers + FAISS, recsys untrained and trained.

    python -m benchmarks.quality [--json results.json] [--epochs 20] [--seeds 0 1 2]

For each direction (train on Netflix, evaluate on Disney+; and the reverse) the evaluation catalog is
indexed from title + description only: its genre labels are removed before indexing and serve as the
ground truth. Query sets, made from the evaluation catalog's labels:
- genre: each genre label with at least 10 titles, as its own words ("Action-Adventure" → "action adventure");
- genre combination: two canonical genres both present in at least 10 titles ("romantic comedy");
- keyword: everyday words for a genre, fixed below, never used in training ("spaceships" → Science Fiction);
- descriptive, reported apart (not in "all"), MRR@10, each query relevant to one title: "descriptive,
  paraphrased", 150 tip-of-the-tongue queries of 6–20 words written by hand as paraphrases of the evaluation
  catalog's descriptions (benchmarks/queries_descriptive.json says how), and "descriptive, cut", 200 spans
  of 6–20 words cut verbatim from its descriptions.
recsys trained is `recsys train` on the training catalog, starting from the shipped model, once per seed;
each query family's nDCG@10 over the better baseline's is reported per seed, with mean, spread and worst.
The first seed's model also takes the deletion test per family (genre, keyword, paraphrased descriptive):
on ``--pairs`` (query, result) pairs each, whether deleting a description's 3 top-share words lowers the
attention score more than deleting 3 random content words (``benchmarks.explain``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import time
from dataclasses import asdict
from pathlib import Path

import bm25s
import numpy as np

from benchmarks.common import EXTERNAL_DATA, flat_index, machine, sentence_transformer
from benchmarks.explain import faithfulness_rate
from recsys import MovieSearch, load_catalog
from recsys.catalog import Catalog
from recsys.default import default_model
from recsys.encoding import TextEncoder
from recsys.evaluate import score_runs
from recsys.pseudoqueries import group_by_genre
from recsys.query import genre_pair_phrase
from recsys.train import TrainConfig, train

CATALOGS = {"Netflix": EXTERNAL_DATA / "streaming" / "netflix_titles.csv",
            "Disney+": EXTERNAL_DATA / "streaming" / "disney_plus_titles.csv"}  # fmt: skip
KEYWORD_QUERIES = {
    "spaceships and other planets": "Science Fiction", "gunslingers": "Western", "soldiers in battle": "War",
    "something to make me laugh": "Comedy", "gives me nightmares": "Horror", "cartoons": "Animation",
    "for the whole family": "Family", "falling in love": "Romance", "real people and real events": "Documentary",
    "songs and dancing": "Music", "solve the case": "Mystery", "edge of your seat": "Thriller",
    "magic and dragons": "Fantasy", "fights and chases": "Action", "heists and gangsters": "Crime",
    "epic journeys": "Adventure", "long ago in the past": "History", "athletes and competitions": "Sport",
}  # fmt: skip
SKIP_LABELS = {"movies", "tv shows", "series"}
BASELINES = ("BM25 (bm25s)", "sentence-transformers + FAISS")
DESCRIPTIVE_QUERIES = 200
PARAPHRASED = Path(__file__).with_name("queries_descriptive.json")
DESCRIPTIVE = ("descriptive, paraphrased", "descriptive, cut")


def query_sets(catalog: Catalog) -> dict[str, list[tuple[str, list[str]]]]:
    """The three query sets of a catalog, each a list of (query, relevant ids)."""
    ids = np.array(catalog.ids)
    by_label, by_genre = group_by_genre(catalog.frame["genres"], range(len(catalog)))
    sets = {"genre": [], "genre combination": [], "keyword": []}
    for label, rows in sorted(by_label.items()):
        if len(rows) >= 10 and label.lower() not in SKIP_LABELS:
            sets["genre"].append((" ".join(re.sub(r"[-&/,]", " ", label).lower().split()), ids[sorted(rows)].tolist()))
    names = sorted(by_genre)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            both = by_genre[first] & by_genre[second]
            if len(both) >= 10:
                query = genre_pair_phrase(first, second)
                sets["genre combination"].append((query, ids[sorted(both)].tolist()))
    for query, genre in KEYWORD_QUERIES.items():
        if len(by_genre.get(genre, ())) >= 10:
            sets["keyword"].append((query, ids[sorted(by_genre[genre])].tolist()))
    return sets


def descriptive_queries(catalog: Catalog, count: int = DESCRIPTIVE_QUERIES, seed: int = 0) -> list:
    """Long descriptive queries: spans of 6–20 words cut from the descriptions of ``count`` titles (seeded).

    Each query's one relevant title is the one it was cut from, as when someone remembers a plot.
    """
    rng = random.Random(seed)
    found = []
    for row in rng.sample(range(len(catalog)), min(count, len(catalog))):
        words = catalog.frame["description"].iloc[row].split()
        if len(words) >= 6:
            length = rng.randint(6, min(20, len(words)))
            start = rng.randint(0, len(words) - length)
            found.append((" ".join(words[start : start + length]), [catalog.ids[row]]))
    return found


def paraphrased_queries(catalog_name: str) -> list:
    """The hand-written paraphrases of a catalog's descriptions, each relevant to the title it paraphrases."""
    written = json.loads(PARAPHRASED.read_text(encoding="utf-8"))
    return [(entry["query"], [entry["id"]]) for entry in written[catalog_name]]


def without_labels(catalog: Catalog) -> Catalog:
    """The catalog as the systems index it: title and description, no genre labels or keywords."""
    frame = catalog.frame.copy()
    frame["genres"] = [[] for _ in range(len(frame))]
    frame["keywords"] = [[] for _ in range(len(frame))]
    return Catalog(frame, source=catalog.source)


def evaluate_systems(systems: dict, sets: dict, apart: dict | None = None) -> dict:
    """nDCG@10, Recall@100, MRR@10 per system, per query set and over all queries; ``apart`` sets not in "all"."""
    results = {}
    for name, rank in systems.items():
        results[name] = {}
        everything_relevant, everything_ranked = {}, {}
        for set_name, queries in {**sets, **(apart or {})}.items():
            ranked = rank([q for q, _ in queries])
            relevant = {f"{set_name}:{i}": rel for i, (_, rel) in enumerate(queries)}
            run = {f"{set_name}:{i}": r for i, r in enumerate(ranked)}
            results[name][set_name] = score_runs(relevant, run)
            if set_name in sets:
                everything_relevant.update(relevant)
                everything_ranked.update(run)
        results[name]["all"] = score_runs(everything_relevant, everything_ranked)
    return results


def st_ranker(st, documents: list[str], ids: np.ndarray):
    """sentence-transformers + FAISS flat: queries → top-100 ids."""
    index = flat_index(st.encode(documents, batch_size=64, normalize_embeddings=True))

    def rank(queries: list[str]) -> list[list[str]]:
        _, rows = index.search(st.encode(queries, normalize_embeddings=True), 100)
        return [ids[r[r >= 0]].tolist() for r in rows]

    return rank


def bm25_ranker(documents: list[str], ids: np.ndarray):
    """BM25 (bm25s, English stop words): queries → top-100 ids."""
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(documents, show_progress=False), show_progress=False)

    def rank(queries: list[str]) -> list[list[str]]:
        rows, _ = bm25.retrieve(bm25s.tokenize(queries, show_progress=False), k=100, show_progress=False)
        return [ids[r].tolist() for r in rows]

    return rank


def engine_ranker(model: MovieSearch):
    """The recsys Python API: queries → top-100 ids."""
    return lambda queries: [[hit.id for hit in hits] for hits in model.search_many(queries, k=100)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="training seeds (each trains once)")
    parser.add_argument("--pairs", type=int, default=300, help="deletion-test pairs per query family (0: none)")
    args = parser.parse_args()
    st, encoder = sentence_transformer(), TextEncoder.pretrained()
    shipped = MovieSearch.load(default_model(progress=True))
    report = {"machine": machine(), "seeds": args.seeds, "directions": {}}
    for train_name, eval_name in [("Netflix", "Disney+"), ("Disney+", "Netflix")]:
        labelled = load_catalog(CATALOGS[eval_name])
        sets = query_sets(labelled)
        catalog = without_labels(labelled)
        documents, ids = catalog.documents(), np.array(catalog.ids)
        systems = {"BM25 (bm25s)": bm25_ranker(documents, ids),
                   "sentence-transformers + FAISS": st_ranker(st, documents, ids),
                   "recsys untrained": engine_ranker(MovieSearch.build(catalog, encoder=encoder))}  # fmt: skip
        apart = dict(zip(DESCRIPTIVE, (paraphrased_queries(eval_name), descriptive_queries(labelled)), strict=True))
        results = evaluate_systems(systems, sets, apart)
        per_seed = {}
        for seed in args.seeds:
            started = time.perf_counter()
            trained = train(MovieSearch.build(load_catalog(CATALOGS[train_name]), base=shipped),
                            TrainConfig(epochs=args.epochs, seed=seed), init=shipped)  # fmt: skip
            train_seconds = time.perf_counter() - started
            evaluated = MovieSearch.build(catalog, base=trained)
            scores = evaluate_systems({"x": engine_ranker(evaluated)}, sets, apart)["x"]
            results[f"recsys trained, seed {seed}"] = scores
            per_seed[seed] = {"train_seconds": round(train_seconds, 1),
                              "training": {k: v for k, v in trained.metrics.items() if k in ("chosen", "seconds")},
                              "settings": asdict(trained.scorer.settings)}  # fmt: skip
            if seed == args.seeds[0] and args.pairs:
                families = {"genre": sets["genre"], "keyword": sets["keyword"], DESCRIPTIVE[0]: apart[DESCRIPTIVE[0]]}
                per_seed[seed]["deletion test"] = deletion_tests(evaluated, families, args.pairs)
        direction = f"{train_name} → {eval_name}"
        report["directions"][direction] = {
            "queries": {name: len(queries) for name, queries in {**sets, **apart}.items()},
            "results": results,
            "trained over best baseline, nDCG@10": seed_ratios(results, [*sets, "all"], args.seeds),
            "trained over best baseline, MRR@10 of descriptive queries": seed_ratios(
                results, list(DESCRIPTIVE), args.seeds, "mrr@10"
            ),
            "seeds": per_seed,
        }
        print(json.dumps(report["directions"][direction], indent=1), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, ensure_ascii=False)


def deletion_tests(model: MovieSearch, families: dict, pairs: int) -> dict:
    """Per query family, the description-side deletion test on ``pairs`` (query, result) pairs.

    Each query contributes its top results, as many as the family needs to reach ``pairs`` twice over
    (pairs whose description has fewer than 6 content words are skipped).
    """
    found = {}
    for family, queries in families.items():
        per_query = max(3, math.ceil(2 * pairs / len(queries)))
        found[family] = faithfulness_rate(model, [query for query, _ in queries], "movie", pairs, per_query)
    return found


def seed_ratios(results: dict, families: list[str], seeds: list[int], metric: str = "ndcg@10") -> dict:
    """Per query family, each seed's score over the better baseline's, and their mean, spread and worst."""
    found = {}
    for family in families:
        best = max(results[name][family][metric] for name in BASELINES)
        ratios = [round(results[f"recsys trained, seed {seed}"][family][metric] / best, 3) for seed in seeds]
        found[family] = {"per seed": ratios, "mean": round(float(np.mean(ratios)), 3),
                         "spread": round(max(ratios) - min(ratios), 3), "worst": min(ratios)}  # fmt: skip
    return found


if __name__ == "__main__":
    main()
