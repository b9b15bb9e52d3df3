"""Encoding speed and quality by precision, against sentence-transformers, on the external catalogs.

    python -m benchmarks.encoding [--repeats 3] [--json results.json]

For each external catalog (indexed from title + description only; its genre labels are the ground truth,
as in ``benchmarks.quality``):
- throughput, texts per second, of encoding every description: sentence-transformers (float32, as it
  ships, batch 64) and recsys in float32 and in bfloat16 (``TextEncoder.embed(..., documents=True)``),
  and of a whole ``MovieSearch.build`` (encoding, word vectors for explanations, keys, BM25) in each
  precision. Runs alternate between the systems so machine noise falls on all alike; medians reported.
  sentence-transformers under bfloat16 autocast is timed too, as a reference a user could switch on.
- quality: nDCG@10 of recsys with float32 and with bfloat16 document encoding, both with the untrained
  head and with the default model's trained head, and the cosine between the two precisions' embeddings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from functools import partial

import numpy as np
import torch

from benchmarks.common import EXTERNAL_DATA, machine, sentence_transformer
from benchmarks.quality import CATALOGS, engine_ranker, evaluate_systems, query_sets, without_labels
from recsys import MovieSearch, load_catalog
from recsys.default import default_model
from recsys.encoding import TextEncoder, native_bfloat16

SHARED_CATALOGS = {**CATALOGS, "MovieLens (titles only)": EXTERNAL_DATA / "movielens-small" / "movies.csv"}
PRECISIONS = ("float32", "bfloat16")


def throughput(systems: dict, texts: list[str], repeats: int) -> dict[str, float]:
    """Median texts per second of each system over ``repeats`` alternating runs (after one warm-up each)."""
    rates: dict[str, list[float]] = {name: [] for name in systems}
    for run in systems.values():
        run(texts[:64])
    for _ in range(repeats):
        for name, run in systems.items():
            started = time.perf_counter()
            run(texts)
            rates[name].append(len(texts) / (time.perf_counter() - started))
    return {name: round(statistics.median(values), 1) for name, values in rates.items()}


def encoders(st, encoder: TextEncoder, catalog) -> dict:
    """What is timed: plain encoding by each system, and a full recsys build in each precision."""

    def st_bfloat16(texts):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return st.encode(texts, batch_size=64, normalize_embeddings=True)

    def st_float32(texts):
        return st.encode(texts, batch_size=64, normalize_embeddings=True)

    systems = {"sentence-transformers float32": st_float32, "sentence-transformers bfloat16 autocast": st_bfloat16}
    for precision in PRECISIONS:
        systems[f"recsys encode {precision}"] = partial(encoder.with_precision(precision).embed, documents=True)
    for precision in PRECISIONS:
        systems[f"recsys build {precision}"] = _builder(catalog, encoder.with_precision(precision))
    return systems


def _builder(catalog, encoder: TextEncoder):
    def build(texts):  # texts are the catalog's first documents (the warm-up) or all of them
        subset = catalog.frame.iloc[: len(texts)].reset_index(drop=True)
        return MovieSearch.build(type(catalog)(subset, source=catalog.source), encoder=encoder)

    return build


def quality(catalog, labelled, encoder: TextEncoder, trained: MovieSearch) -> dict:
    """nDCG@10 (and the other metrics) by precision and head, plus the embeddings' agreement."""
    sets = query_sets(labelled)
    models = {}
    for precision in PRECISIONS:
        models[f"untrained {precision}"] = MovieSearch.build(catalog, encoder=encoder, precision=precision)
        models[f"trained {precision}"] = MovieSearch.build(catalog, base=trained, precision=precision)
    results = evaluate_systems({name: engine_ranker(model) for name, model in models.items()}, sets)
    cosines = (models["untrained float32"].store.embeddings * models["untrained bfloat16"].store.embeddings).sum(1)
    report = {
        "queries": sum(len(queries) for queries in sets.values()),
        "results": results,
        "embedding_cosine": {"mean": round(float(cosines.mean()), 6), "min": round(float(cosines.min()), 6)},
    }
    for head in ("untrained", "trained"):
        full = results[f"{head} float32"]["all"]["ndcg@10"]
        half = results[f"{head} bfloat16"]["all"]["ndcg@10"]
        report[f"{head}_ndcg@10_change"] = round((half - full) / full, 4)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per system and catalog (median)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if not native_bfloat16():
        print("note: this CPU has no native bfloat16; recsys 'auto' precision is float32 here")
    st, encoder = sentence_transformer(), TextEncoder.pretrained()
    trained = MovieSearch.load(default_model(progress=True))
    report = {"machine": {**machine(), "native_bfloat16": native_bfloat16()}, "catalogs": {}}
    for name, path in SHARED_CATALOGS.items():
        labelled = load_catalog(path)
        catalog = without_labels(labelled)
        texts = catalog.documents()
        rates = throughput(encoders(st, encoder, catalog), texts, args.repeats)
        baseline = rates["sentence-transformers float32"]
        found = {
            "texts": len(texts),
            "median_tokens": int(np.median([len(e.ids) for e in encoder.tokenizer.encodings(texts)])),
            "texts_per_s": rates,
            "over_sentence_transformers": {system: round(rate / baseline, 2) for system, rate in rates.items()},
            **quality(catalog, labelled, encoder, trained),
        }
        report["catalogs"][name] = found
        print(json.dumps({name: {k: v for k, v in found.items() if k != "results"}}, indent=1), flush=True)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
