"""Recommendations from real viewing histories: recsys trained with likes against popularity, item-kNN and EASE.

    python -m benchmarks.recommend [--json results.json] [--epochs 60]

MovieLens ml-latest-small ($RECSYS_DATA/movielens-small): titles with their genres and user tags; ratings
of 4 stars or more are likes. Each user's likes are ordered by time and the last 20% held out (users with
at least 5 likes; the others' likes all train). Every system learns from the same training likes:
- popularity: titles by how many users liked them;
- item-kNN: cosine similarity of titles' like columns, a history's score the sum over its likes;
- EASE (Steck 2019), dense, λ chosen on the latest 20% of each training history, as recsys chooses its own;
- description only: recsys without likes (each liked title's value vector attends over the catalog);
- recsys: ``recsys train --interactions`` (``recsys.taste``), recommending through ``MovieSearch.recommend``.
nDCG@10 and Recall@10 over test users, each ranking every title but their training likes. Cold start:
held-out likes of titles nobody liked in training, each system ranking only such titles. Also: training
time, recommendation latency (median), and whether the weights over the history name the likes that
drew a result (delete the top-weighted like or a random one, 300 results).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import asdict

import numpy as np
import torch

from benchmarks.common import EXTERNAL_DATA, machine
from recsys import MovieSearch, load_catalog
from recsys.collaborative import EASE_L2, ease, popularity
from recsys.default import default_model
from recsys.heldout import ranking_quality, time_split
from recsys.interactions import Interactions, read_interactions
from recsys.recommend import description_parts
from recsys.sequence import SequenceTraining
from recsys.taste import Validation, train_taste

MOVIELENS = EXTERNAL_DATA / "movielens-small"
DELETION_PAIRS = 300


def evaluate(score_user, training: list[np.ndarray], test: dict, allowed: np.ndarray | None = None) -> dict:
    """Mean nDCG@10 and Recall@10 of a system ``score_user(user) → (N,)`` over test users."""
    found = []
    for user, relevant in test.items():
        if allowed is not None:
            relevant = relevant[allowed[relevant]]
            if not len(relevant):
                continue
        scores = score_user(user)
        if allowed is not None:
            scores = np.where(allowed, scores, -np.inf)
        found.append(ranking_quality(scores, training[user], relevant))
    ndcg, recall = np.mean(found, axis=0) if found else (0.0, 0.0)
    return {"users": len(found), "ndcg@10": round(float(ndcg), 4), "recall@10": round(float(recall), 4)}


def item_knn(training: list[np.ndarray], size: int):
    """Cosine item-kNN over like columns: a history's score is the sum of its likes' similarities."""
    matrix = torch.zeros(len(training), size)
    for user, history in enumerate(training):
        matrix[user, torch.from_numpy(history)] = 1.0
    counts = matrix.sum(0)
    similarity = (matrix.T @ matrix) / (counts.sqrt()[:, None] * counts.sqrt()[None, :]).clamp_min(1e-9)
    similarity.fill_diagonal_(0.0)
    return lambda history: similarity[torch.from_numpy(history)].sum(0).numpy()


def dense_ease(training: list[np.ndarray], size: int):
    """EASE with every weight kept, λ chosen like recsys's on the latest 20% of each training history."""
    inner, held = time_split(training)
    validation = Validation([inner[u] for u in held], list(held.values()))
    found = {l2: validation.quality(ease(inner, size, l2, neighbours=size)) for l2 in EASE_L2}
    chosen = max(found, key=found.get)
    return ease(training, size, chosen, neighbours=size).scores, chosen


def deletion_test(model: MovieSearch, histories: list[np.ndarray], rng: random.Random) -> dict:
    """Whether deleting a result's top-weighted like lowers its score more than deleting a random like.

    The like is deleted from the history: the likes after it keep their places, the older ones move one
    place nearer, as they would for a person who had not liked that title.
    """
    taste, largest_error, ids = model.taste, 0.0, model.catalog.ids
    bound = taste.bound(model.catalog, model.store, model.scorer)
    nothing = np.empty(0, np.int64)
    wins = pairs = 0
    for history in rng.sample([h for h in histories if len(h) >= 5], min(150, len(histories))):
        history = history[-taste.sequence.config.max_length :]
        results = model.recommend([ids[r] for r in history], k=2)
        rows = np.array([model.catalog.row_of[r.id] for r in results])
        weights = bound.like_weights(model.scorer, model.store, history, rows)
        largest_error = max(largest_error, float(np.abs(weights.sum(1) - 1).max()))
        full = bound.scores(model.scorer, model.store, history, nothing)
        for i, row in enumerate(rows):
            top = int(np.argmax(weights[i]))
            other = rng.choice([j for j in range(len(history)) if j != top])
            after = [bound.scores(model.scorer, model.store, np.delete(history, j), nothing)[row] for j in (top, other)]
            wins += bool(full[row] - after[0] > full[row] - after[1])
            pairs += 1
            if pairs == DELETION_PAIRS:
                break
        if pairs == DELETION_PAIRS:
            break
    return {"pairs": pairs, "top-weighted deletion costs more": round(wins / max(1, pairs), 4),
            "largest |Σ weights − 1|": largest_error}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--epochs", type=int, default=SequenceTraining.epochs)
    args = parser.parse_args()
    catalog = load_catalog(MOVIELENS / "movies.csv")
    likes = read_interactions(MOVIELENS / "ratings.csv", catalog)
    histories = likes.histories()
    training, test = time_split(histories)
    size = len(catalog)
    model = MovieSearch.build(catalog, base=MovieSearch.load(default_model(progress=True)), progress=True)
    started = time.perf_counter()
    taste = train_taste(model.catalog, model.store, model.scorer, Interactions.from_histories(training),
                        SequenceTraining(epochs=args.epochs), progress=True)  # fmt: skip
    train_seconds = time.perf_counter() - started
    trained = MovieSearch(model.catalog, model.encoder, model.scorer, model.store, model.metrics, taste)
    bound = taste.bound(model.catalog, model.store, model.scorer)
    counts = popularity(training, size)
    knn = item_knn(training, size)
    ease_scores, l2 = dense_ease(training, size)
    ids = catalog.ids
    systems = {
        "popularity": lambda user: counts,
        "item-kNN (cosine)": lambda user: knn(training[user]),
        f"EASE (λ={l2:g})": lambda user: ease_scores(training[user]),
        "description only": lambda user: description_parts(model.scorer, model.store, list(training[user])).mean(1),
        "recsys": lambda user: bound.scores(model.scorer, model.store, training[user], np.empty(0, np.int64)),
    }
    cold = counts == 0
    results = {name: {"all": evaluate(score, training, test), "cold start": evaluate(score, training, test, cold)}
               for name, score in systems.items()}  # fmt: skip
    latency = _latency(trained, [training[u] for u in list(test)[:200]], ids)
    best = max(results[name]["all"]["ndcg@10"] for name in list(systems)[:3])
    best_recall = max(results[name]["all"]["recall@10"] for name in list(systems)[:3])
    report = {
        "machine": machine(),
        "data": {
            "likes": len(likes),
            "users": len(histories),
            "test users": len(test),
            "held-out likes": int(sum(len(r) for r in test.values())),
            "cold held-out likes": int(sum(cold[r].sum() for r in test.values())),
        },  # fmt: skip
        "results": results,
        "recsys over the best of popularity, item-kNN and EASE": {
            "ndcg@10": round(results["recsys"]["all"]["ndcg@10"] / best, 3),
            "recall@10": round(results["recsys"]["all"]["recall@10"] / best_recall, 3),
        },
        "cold start recall@10, recsys over description only": round(
            results["recsys"]["cold start"]["recall@10"]
            / max(1e-9, results["description only"]["cold start"]["recall@10"]),
            3,
        ),  # fmt: skip
        "train seconds": round(train_seconds, 1),
        "recommend ms (median)": latency,
        "mixing chosen": {k: v for k, v in asdict(taste.mixing).items() if k != "scales"},
        "item-to-item chosen": {k: v for k, v in taste.metrics["item-to-item"].items() if k != "validation"},
        "history weights": deletion_test(trained, training, random.Random(0)),
    }
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, ensure_ascii=False)


def _latency(model: MovieSearch, histories: list[np.ndarray], ids: list[str]) -> float:
    times = []
    for history in histories:
        started = time.perf_counter()
        model.recommend([ids[r] for r in history], k=10)
        times.append(time.perf_counter() - started)
    return round(1000 * statistics.median(times), 2)


if __name__ == "__main__":
    main()
