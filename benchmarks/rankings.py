"""Rankings of two checkouts compared: whether a change kept every top-10 and explanation as it was.

    python -m benchmarks.rankings --out after.json            # write this checkout's rankings
    python -m benchmarks.rankings --compare before.json after.json

Writes, for the quality benchmark's queries in both directions (``benchmarks.quality``), the top-10 ids and
scores of the default model and of a model trained on the other catalog, the top-3 explanations of ten
queries, the training figures, and the default model on its own catalog with the hand-written queries.
Run it on two checkouts (with an empty ``RECSYS_HOME`` each, so the default model is built by that code)
and compare.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from benchmarks.common import HAND_WRITTEN
from benchmarks.quality import CATALOGS, query_sets, without_labels
from recsys import MovieSearch, load_catalog
from recsys.default import default_model
from recsys.train import TrainConfig, train

TRAINING_FIGURES = ("validation", "chosen", "lexical_weight_validation", "predicted_genre_boost_validation")


def top10s(model: MovieSearch, queries: list[str]) -> dict[str, list]:
    """Each query's top-10 (id, score rounded to 1e-5)."""
    found = model.search_many(queries, k=10)
    return {query: [(hit.id, round(hit.score, 5)) for hit in hits] for query, hits in zip(queries, found, strict=True)}


def explained(model: MovieSearch, queries: list[str]) -> dict[str, list]:
    """The explanations of each query's top 3: score, and the three largest query and description words."""
    found = {}
    for query in queries:
        ids = [hit.id for hit in model.search(query, k=3)]
        found[query] = [(round(e.score, 5), [w.word for w in e.query_words[:3]], [w.word for w in e.movie_words[:3]])
                        for e in model.explain_many(query, ids)]  # fmt: skip
    return found


def rankings() -> dict:
    """Everything this checkout ranks, keyed by what it is."""
    shipped = MovieSearch.load(default_model(progress=True))
    report = {"default on its own catalog": top10s(shipped, HAND_WRITTEN)}
    for train_name, eval_name in [("Netflix", "Disney+"), ("Disney+", "Netflix")]:
        labelled = load_catalog(CATALOGS[eval_name])
        queries = list(dict.fromkeys(query for found in query_sets(labelled).values() for query, _ in found))
        catalog = without_labels(labelled)
        trained = train(
            MovieSearch.build(load_catalog(CATALOGS[train_name]), base=shipped), TrainConfig(), init=shipped
        )
        report[f"trained on {train_name}"] = {
            **{name: trained.metrics[name] for name in TRAINING_FIGURES},
            "settings": asdict(trained.scorer.settings),
        }
        for name, base in [("default", shipped), ("trained", trained)]:
            model = MovieSearch.build(catalog, base=base)
            report[f"{name} {train_name} → {eval_name}"] = top10s(model, queries)
            report[f"{name} {train_name} → {eval_name}, explanations"] = explained(model, queries[:10])
    return report


def compare(before: dict, after: dict) -> None:
    """Print, per part of the report, how many rankings and explanations are identical."""
    same = total = 0
    for key, old in before.items():
        new = after.get(key)
        if key.startswith("trained on"):
            print(f"{key}: training figures {'identical' if old == new else 'DIFFERENT'}")
            continue
        identical = sum(1 for query, found in old.items() if new is not None and new.get(query) == found)
        print(f"{key}: {identical}/{len(old)} identical")
        if not key.endswith("explanations"):
            same, total = same + identical, total + len(old)
    print(f"top-10s identical, ids and scores: {same}/{total}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="write this checkout's rankings here")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="compare two written rankings")
    args = parser.parse_args()
    if args.compare:
        before, after = (json.loads(Path(path).read_text(encoding="utf-8")) for path in args.compare)
        compare(before, after)
    elif args.out:
        Path(args.out).write_text(json.dumps(rankings(), ensure_ascii=False, indent=0), encoding="utf-8")
    else:
        parser.error("give --out FILE or --compare BEFORE AFTER")


if __name__ == "__main__":
    main()
