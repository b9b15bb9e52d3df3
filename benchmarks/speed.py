"""Speed against sentence-transformers + FAISS flat on the Netflix catalog, measured in one run.

    python -m benchmarks.speed [--repeats 3] [--queries 200] [--model DIR] [--json results.json]

Indexing throughput (descriptions per second, embedding + index) and single-query latency
(encode + search, top 10) for both systems; runs alternate between the systems so machine noise
falls on both alike. Reports medians, their ratios, and the machine. Latency is the untrained model's, or
with ``--model`` a trained model of the same catalog's (``recsys train``: queries read, BM25 and the
genre parts added), as users search it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from benchmarks.common import NETFLIX, flat_index, machine, netflix_queries, sentence_transformer
from recsys import MovieSearch, load_catalog
from recsys.encoding import TextEncoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="indexing runs per system (median reported)")
    parser.add_argument("--queries", type=int, default=200, help="queries for the latency median")
    parser.add_argument("--model", help="time searches on this model directory (a trained one of Netflix)")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    catalog = load_catalog(NETFLIX)
    documents = catalog.documents()
    queries = netflix_queries(documents, args.queries)
    st, encoder = sentence_transformer(), TextEncoder.pretrained()

    st_rates, our_rates, st_index, model = [], [], None, None
    for _ in range(args.repeats):
        started = time.perf_counter()
        st_index = flat_index(st.encode(documents, batch_size=64, normalize_embeddings=True))
        st_rates.append(len(documents) / (time.perf_counter() - started))
        started = time.perf_counter()
        model = MovieSearch.build(catalog, encoder=encoder)
        our_rates.append(len(documents) / (time.perf_counter() - started))

    if args.model:
        model = MovieSearch.load(args.model)
    st_latency, our_latency = [], []
    for query in queries:  # alternate per query, after one warm-up each
        started = time.perf_counter()
        st_index.search(st.encode([query], normalize_embeddings=True), 10)
        st_latency.append(time.perf_counter() - started)
        started = time.perf_counter()
        model.search(query, k=10)
        our_latency.append(time.perf_counter() - started)

    result = {
        "machine": machine(),
        "catalog": str(NETFLIX.name),
        "documents": len(documents),
        "queries": len(queries),
        "latency_model": args.model or "untrained, built from the catalog",
        "index_docs_per_s": {
            "sentence_transformers_faiss": statistics.median(st_rates),
            "recsys": statistics.median(our_rates),
        },
        "query_latency_ms": {
            "sentence_transformers_faiss": 1000 * statistics.median(st_latency[1:]),
            "recsys": 1000 * statistics.median(our_latency[1:]),
        },
    }
    result["throughput_ratio"] = (
        result["index_docs_per_s"]["recsys"] / result["index_docs_per_s"]["sentence_transformers_faiss"]
    )
    result["latency_ratio"] = (
        result["query_latency_ms"]["recsys"] / result["query_latency_ms"]["sentence_transformers_faiss"]
    )
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)


if __name__ == "__main__":
    main()
