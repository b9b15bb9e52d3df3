"""Retrieval quality across catalogs: BM25, sentence-transformers + FAISS, recsys untrained and trained.

    python -m benchmarks.quality [--json results.json] [--epochs 20]

For each direction (train on Netflix, evaluate on Disney+; and the reverse) the evaluation catalog is
indexed from title + description only: its genre labels are removed before indexing and serve as the
ground truth. Query sets, made from the evaluation catalog's labels:
- genre: each genre label with at least 10 titles, as its own words ("Action-Adventure" → "action adventure");
- genre combination: two canonical genres both present in at least 10 titles ("romantic comedy");
- keyword: everyday words for a genre, fixed below, never used in training ("spaceships" → Science Fiction).
recsys trained is `recsys train` on the training catalog, starting from the shipped model.
"""

from __future__ import annotations

import argparse
import json
import re
import time

import bm25s
import numpy as np

from benchmarks.common import EXTERNAL_DATA, flat_index, machine, sentence_transformer
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


def without_labels(catalog: Catalog) -> Catalog:
    """The catalog as the systems index it: title and description, no genre labels or keywords."""
    frame = catalog.frame.copy()
    frame["genres"] = [[] for _ in range(len(frame))]
    frame["keywords"] = [[] for _ in range(len(frame))]
    return Catalog(frame, source=catalog.source)


def evaluate_systems(systems: dict, sets: dict) -> dict:
    """nDCG@10, Recall@100, MRR@10 per system, per query set and over all queries."""
    results = {}
    for name, rank in systems.items():
        results[name] = {}
        everything_relevant, everything_ranked = {}, {}
        for set_name, queries in sets.items():
            ranked = rank([q for q, _ in queries])
            relevant = {f"{set_name}:{i}": rel for i, (_, rel) in enumerate(queries)}
            run = {f"{set_name}:{i}": r for i, r in enumerate(ranked)}
            results[name][set_name] = score_runs(relevant, run)
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
    args = parser.parse_args()
    st, encoder = sentence_transformer(), TextEncoder.pretrained()
    shipped = MovieSearch.load(default_model(progress=True))
    report = {"machine": machine(), "directions": {}}
    for train_name, eval_name in [("Netflix", "Disney+"), ("Disney+", "Netflix")]:
        started = time.perf_counter()
        trained = train(MovieSearch.build(load_catalog(CATALOGS[train_name]), base=shipped),
                        TrainConfig(epochs=args.epochs), init=shipped)  # fmt: skip
        train_seconds = time.perf_counter() - started
        labelled = load_catalog(CATALOGS[eval_name])
        sets = query_sets(labelled)
        catalog = without_labels(labelled)
        documents, ids = catalog.documents(), np.array(catalog.ids)
        untrained = MovieSearch.build(catalog, encoder=encoder)
        retrained = MovieSearch.build(catalog, base=trained)

        systems = {"BM25 (bm25s)": bm25_ranker(documents, ids),
                   "sentence-transformers + FAISS": st_ranker(st, documents, ids),
                   "recsys untrained": engine_ranker(untrained),
                   "recsys trained": engine_ranker(retrained)}  # fmt: skip
        results = evaluate_systems(systems, sets)
        best_baseline = max(results[b]["all"]["ndcg@10"] for b in list(systems)[:2])
        report["directions"][f"{train_name} → {eval_name}"] = {
            "queries": {name: len(queries) for name, queries in sets.items()},
            "results": results,
            "trained_over_best_baseline_ndcg@10": round(results["recsys trained"]["all"]["ndcg@10"] / best_baseline, 3),
            "train_seconds": round(train_seconds, 1),
            "training": {k: v for k, v in trained.metrics.items() if k in ("validation", "chosen", "seconds")},
        }  # fmt: skip
        print(json.dumps(report["directions"][f"{train_name} → {eval_name}"], indent=1), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
