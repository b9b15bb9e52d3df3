"""Key stores of 10k, 100k and 1M keys: recall against exact search, search time, memory, build time.

    python -m benchmarks.scale [--sizes 10000 100000 1000000] [--queries 200] [--depth 512 1024]

Keys are synthetic but realistic: each is a real Netflix title's MiniLM embedding (the untrained head's
key) moved by Gaussian noise (cosine to its parent about 0.85), renormalised. Queries are real query
embeddings (benchmarks.common.netflix_queries). Exact search (flat inner product) is the reference for
recall@10. HNSW runs at the search depth the key store picks for its size (``default_depth``), then at
any ``--depth`` given. Search time is the median over single-query searches with the query vector given. Memory is
the size of the key store's FAISS structures (serialised size) and the process's resident-memory growth
while it is built. Every configuration runs in this one process, one after another.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import faiss
import numpy as np

from benchmarks.common import NETFLIX, machine, netflix_queries
from recsys import load_catalog
from recsys.encoding import TextEncoder
from recsys.index import KeyStore, choose_kind

CACHE = Path("/tmp/recsys-scale-netflix.npz")


def real_embeddings() -> tuple[np.ndarray, np.ndarray]:
    """Netflix title embeddings and query embeddings (cached in /tmp between runs)."""
    if CACHE.is_file():
        found = np.load(CACHE)
        return found["titles"], found["queries"]
    documents = load_catalog(NETFLIX).documents()
    encoder = TextEncoder.pretrained()
    titles = encoder.embed(documents, progress=True)
    queries = encoder.embed(netflix_queries(documents, 1000, seed=3))
    np.savez(CACHE, titles=titles, queries=queries)
    return titles, queries


def synthetic_keys(titles: np.ndarray, rows: int, seed: int = 0, noise: float = 0.6) -> np.ndarray:
    """``rows`` unit keys, each a random real title's embedding moved by noise of norm about ``noise``."""
    rng = np.random.default_rng(seed)
    out = np.empty((rows, titles.shape[1]), dtype=np.float32)
    for start in range(0, rows, 100_000):
        n = min(100_000, rows - start)
        block = titles[rng.integers(0, len(titles), n)]
        block = block + rng.standard_normal(block.shape).astype(np.float32) * (noise / np.sqrt(titles.shape[1]))
        out[start : start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def exact_top10(keys: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """The true top 10 rows per query, by brute force in blocks."""
    best = np.zeros((len(queries), 0), dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    for start in range(0, len(keys), 200_000):
        scores = queries @ keys[start : start + 200_000].T
        rows = np.argpartition(-scores, 10, axis=1)[:, :10]
        best = np.concatenate([best, rows + start], axis=1)
        best_scores = np.concatenate([best_scores, np.take_along_axis(scores, rows, 1)], axis=1)
        keep = np.argsort(-best_scores, axis=1)[:, :10]
        best, best_scores = np.take_along_axis(best, keep, 1), np.take_along_axis(best_scores, keep, 1)
    return best


def resident_mb() -> float:
    """The process's resident memory, from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(keys: np.ndarray, queries: np.ndarray, truth: np.ndarray, kind: str, depths: list[int]) -> list[dict]:
    """Build one key store and search it: one result row per HNSW search depth (one for flat)."""
    before = resident_mb()
    started = time.perf_counter()
    store = KeyStore.build(keys, kind=kind)
    build = time.perf_counter() - started
    grown = resident_mb() - before
    size = faiss.serialize_index(store.index).nbytes / 2**20
    results = []
    chosen = store.depth
    for depth in [None] if store.exact else [chosen, *(d for d in depths if d != chosen)]:
        store.depth = depth
        times, found = [], []
        for query in queries:
            started = time.perf_counter()
            hit = store.search(query[None], 10)
            times.append(time.perf_counter() - started)
            found.append(hit.rows[0])
        recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
        results.append({"keys": len(keys), "index": store.kind, "depth": depth, "recall@10": round(float(recall), 4),
                        "median_search_ms": round(1000 * statistics.median(times), 3),
                        "index_mb": round(size, 1), "rss_growth_mb": round(grown, 1),
                        "build_s": round(build, 1)})  # fmt: skip
        print(json.dumps(results[-1]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--depth", type=int, nargs="*", default=[], help="search depths besides the default")
    args = parser.parse_args()
    titles, query_vectors = real_embeddings()
    queries = query_vectors[: args.queries]
    report = {"machine": machine(), "threads": faiss.omp_get_max_threads(), "results": []}
    for size in args.sizes:
        keys = synthetic_keys(titles, size)
        truth = exact_top10(keys, queries)
        for kind in ["flat", "hnsw-sq8"]:
            report["results"] += measure(keys, queries, truth, kind, args.depth)
        report.setdefault("auto", {})[size] = choose_kind(size)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
