"""Check that the untrained engine ranks exactly as sentence-transformers + FAISS flat (same weights, texts).

    python -m benchmarks.parity [CATALOG] [--queries 200] [--precision auto|float32|bfloat16]

Prints the mean top-10 id-set overlap over the queries (1.0 = identical sets for every query).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from benchmarks.common import NETFLIX, flat_index, netflix_queries, sentence_transformer
from recsys import MovieSearch, load_catalog
from recsys.encoding import PRECISIONS


def top10_overlaps(model: MovieSearch, st, queries: list[str]) -> np.ndarray:
    """Per query, the share of the engine's top-10 ids that sentence-transformers + FAISS also returns."""
    reference = flat_index(st.encode(model.catalog.documents(), batch_size=64, normalize_embeddings=True))
    _, expected = reference.search(st.encode(queries, normalize_embeddings=True), 10)
    ids = np.array(model.catalog.ids)
    ours = model.search_many(queries, k=10)
    return np.array([len(set(ids[want]) & {h.id for h in got}) / 10 for want, got in zip(expected, ours, strict=True)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalog", nargs="?", default=str(NETFLIX))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--precision", choices=PRECISIONS, default="auto", help="document encoding precision")
    args = parser.parse_args()
    model = MovieSearch.build(load_catalog(args.catalog), precision=args.precision)
    queries = netflix_queries(model.catalog.documents(), args.queries)
    overlaps = top10_overlaps(model, sentence_transformer(), queries)
    print(
        json.dumps(
            {
                "catalog": args.catalog,
                "precision": model.encoder.document_precision,
                "queries": len(queries),
                "mean_top10_overlap": float(overlaps.mean()),
                "queries_not_identical": int((overlaps < 1).sum()),
            }
        )
    )


if __name__ == "__main__":
    main()
