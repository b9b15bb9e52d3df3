"""Live updates against a full rebuild: add and remove 1,000 titles in a 101,000-title model.

    python -m benchmarks.updates [--titles 101000] [--changed 1000] [--repeats 3]

The catalog cycles Netflix's titles under new ids until it has ``--titles`` rows (timing needs the size,
not new text). One full build of it (embedding, keys, BM25, word store, saved) is the reference. Then
``--changed`` titles are removed from that model and saved (`MovieSearch.remove`), and added back and
saved (`MovieSearch.add`), ``--repeats`` times (medians reported); the result must rank as the full
build does on 40 queries.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.common import NETFLIX, machine, netflix_queries
from recsys import MovieSearch, load_catalog
from recsys.catalog import Catalog


def cycled(titles: int) -> Catalog:
    """Netflix's rows repeated under new ids until there are ``titles``."""
    base = load_catalog(NETFLIX).frame
    copies = []
    for copy in range(-(-titles // len(base))):
        frame = base.copy()
        frame["id"] = frame["id"] + f"-{copy}"
        copies.append(frame)
    return Catalog(pd.concat(copies, ignore_index=True).iloc[:titles].reset_index(drop=True), source="cycled")


def timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--titles", type=int, default=101_000)
    parser.add_argument("--changed", type=int, default=1_000)
    parser.add_argument("--repeats", type=int, default=3, help="remove/add cycles (medians reported)")
    args = parser.parse_args()
    catalog = cycled(args.titles)
    changed = catalog.frame.iloc[-args.changed :].reset_index(drop=True)
    folder = Path(tempfile.mkdtemp(prefix="recsys-updates-"))
    full, build_s = timed(lambda: MovieSearch.build(catalog, progress=True).save(folder / "full"))
    full = MovieSearch.load(full)
    removes, adds = [], []
    for _ in range(args.repeats):
        smaller, remove_s = timed(lambda: full.remove(changed["id"]).save(folder / "model"))
        grown, add_s = timed(lambda saved=smaller: MovieSearch.load(saved).add(Catalog(changed)).save(folder / "model"))
        removes.append(remove_s)
        adds.append(add_s)
    remove_s, add_s = statistics.median(removes), statistics.median(adds)
    grown = MovieSearch.load(grown)
    queries = netflix_queries(catalog.documents()[:8807], 40)
    same = sum(
        [h.id for h in a] == [h.id for h in b]
        for a, b in zip(grown.search_many(queries, k=10), full.search_many(queries, k=10), strict=True)
    )
    print(json.dumps({
        "titles": args.titles, "changed": args.changed, "full_build_s": round(build_s, 1),
        "remove_s": round(remove_s, 1), "add_s": round(add_s, 1),
        "remove_runs_s": [round(t, 1) for t in removes], "add_runs_s": [round(t, 1) for t in adds],
        "remove_ratio": round(remove_s / build_s, 4), "add_ratio": round(add_s / build_s, 4),
        "queries_with_identical_top10": f"{same}/{len(queries)}", "machine": machine(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
