"""Queries as people type them: people, typos, genres, "like X", "not Y", and the latency of it all.

    python -m benchmarks.queries [--json results.json] [--people 60] [--catalogs Netflix Disney+]

On each catalog with director and cast columns (the Netflix and Disney+ exports), in one run:
- person: people with at least two titles in a role, asked for as people type ("films directed by X",
  "X movies", "starring Y", "movies with Y", a bare name); relevant are their titles in that role (any role
  for a bare name). recsys against BM25 and sentence-transformers + FAISS indexed over
  "title. genres. Directed by X. Starring Y. description".
- genre: each genre label with at least 10 titles, as its own words, labels kept in the catalog.
- typo: the genre and keyword queries with one word misspelt by one or two edits (seeded); nDCG@10 of the
  misspelt against the correctly spelt; and over every correctly spelt query (these, the person queries and
  the hand-written free-text queries of the other benchmarks), how many words were changed.
- like: "movies like X" / "similar to X" / "something like X" for sampled titles: overlap of the top 10 with
  ``recommend([X])``'s and whether X appears; "like X but G": the share of the top 10 labelled G.
- negation: "G1 but not G2", "not G2", "without G2": titles labelled G2 in the top 100.
- latency: median search time of recsys (query understanding included) and sentence-transformers + FAISS.
recsys is the shipped model's encoder, head and settings over each catalog (``MovieSearch.build(base=...)``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time

import numpy as np

from benchmarks.common import EXTERNAL_DATA, HAND_WRITTEN, Baselines, machine
from benchmarks.quality import KEYWORD_QUERIES, SKIP_LABELS
from recsys import MovieSearch, load_catalog
from recsys.catalog import Catalog
from recsys.default import default_model
from recsys.evaluate import score_runs
from recsys.query import label_genres
from recsys.text import fold

CATALOGS = {"Netflix": EXTERNAL_DATA / "streaming" / "netflix_titles.csv",
            "Disney+": EXTERNAL_DATA / "streaming" / "disney_plus_titles.csv"}  # fmt: skip
DIRECTOR_PHRASES = ("films directed by {}", "{} movies", "movies by {}", "directed by {}")
CAST_PHRASES = ("movies with {}", "starring {}", "{} films", "{}")
LIKE_PHRASES = ("movies like {}", "similar to {}", "something like {}")
NEGATIONS = ("{} but not {}", "not {1}", "without {1}")
DEPTH = 100


def metadata_text(catalog: Catalog) -> list[str]:
    """What the baselines index: "title. genres. Directed by X. Starring Y. description"."""
    frame = catalog.frame
    texts = []
    for title, genres, directors, cast, description in zip(
        frame["title"], frame["genres"], frame["directors"], frame["cast"], frame["description"], strict=True
    ):
        parts = [title, ", ".join(genres)]
        parts += [f"Directed by {', '.join(directors)}"] if directors else []
        parts += [f"Starring {', '.join(cast)}"] if cast else []
        texts.append(". ".join([*parts, description]))
    return texts


def person_queries(catalog: Catalog, n: int, seed: int) -> list[tuple[str, list[str]]]:
    """(query, relevant ids) for sampled directors and cast members with at least two titles."""
    rng = random.Random(seed)
    ids = catalog.ids
    queries = []
    for field, phrases in (("directors", DIRECTOR_PHRASES), ("cast", CAST_PHRASES)):
        titles: dict[str, list[str]] = {}
        for movie_id, names in zip(ids, catalog.frame[field], strict=True):
            for name in names:
                titles.setdefault(name, []).append(movie_id)
        everyone = sorted(name for name, found in titles.items() if len(found) >= 2)
        for number, name in enumerate(rng.sample(everyone, min(n, len(everyone)))):
            phrase = phrases[number % len(phrases)]
            relevant = titles[name] if phrase != "{}" else _any_role(catalog, name)
            queries.append((phrase.format(name), relevant))
    return queries


def _any_role(catalog: Catalog, name: str) -> list[str]:
    frame = catalog.frame
    return [i for i, d, c in zip(frame["id"], frame["directors"], frame["cast"], strict=True) if name in d or name in c]


def genre_queries(catalog: Catalog) -> list[tuple[str, list[str]]]:
    """Each genre label with at least 10 titles, in its own words, and its titles."""
    by_label: dict[str, list[str]] = {}
    for movie_id, labels in zip(catalog.ids, catalog.frame["genres"], strict=True):
        for label in labels:
            by_label.setdefault(label, []).append(movie_id)
    return [
        (" ".join(re.sub(r"[-&/,]", " ", label).lower().split()), found)
        for label, found in sorted(by_label.items())
        if len(found) >= 10 and label.lower() not in SKIP_LABELS
    ]


def keyword_queries(catalog: Catalog) -> list[tuple[str, list[str]]]:
    """The quality benchmark's everyday-word queries, relevant titles by canonical genre."""
    found = []
    for query, genre in KEYWORD_QUERIES.items():
        relevant = [i for i, labels in zip(catalog.ids, catalog.frame["genres"], strict=True)
                    if any(genre in label_genres(label) for label in labels)]  # fmt: skip
        if len(relevant) >= 10:
            found.append((query, relevant))
    return found


def misspell(query: str, rng: random.Random) -> str | None:
    """The query with its longest word misspelt by one or two edits (two for words of 7+ letters)."""
    words = query.split()
    longest = max(range(len(words)), key=lambda n: len(words[n]))
    word = words[longest]
    if len(word) < 5 or not word.isalpha():
        return None
    for _ in range(1 + (len(word) >= 7 and rng.random() < 0.5)):
        spot = rng.randrange(1, len(word) - 1)
        edit = rng.choice(("delete", "swap", "replace", "insert"))
        letter = rng.choice("abcdefghijklmnopqrstuvwxyz")
        if edit == "delete":
            word = word[:spot] + word[spot + 1 :]
        elif edit == "swap":
            word = word[: spot - 1] + word[spot] + word[spot - 1] + word[spot + 1 :]
        elif edit == "replace":
            word = word[:spot] + letter + word[spot + 1 :]
        else:
            word = word[:spot] + letter + word[spot:]
    return " ".join([*words[:longest], word, *words[longest + 1 :]]) if word != words[longest] else None


def ranked(model: MovieSearch, queries: list[str]) -> list[list[str]]:
    return [[hit.id for hit in hits] for hits in model.search_many(queries, k=DEPTH)]


def measure(queries: list[tuple[str, list[str]]], runs: list[list[str]]) -> float:
    relevant = {str(n): found for n, (_, found) in enumerate(queries)}
    return score_runs(relevant, {str(n): run for n, run in enumerate(runs)})["ndcg@10"]


def person_section(model, baselines, catalog, n, seed) -> dict:
    queries = person_queries(catalog, n, seed)
    texts = [query for query, _ in queries]
    return {
        "queries": len(queries),
        "examples": texts[:3] + texts[n : n + 3],
        "recsys": measure(queries, ranked(model, texts)),
        "BM25": measure(queries, [baselines.bm25_search(q) for q in texts]),
        "sentence-transformers + FAISS": measure(queries, [baselines.dense_search(q) for q in texts]),
    }


def typo_section(model, catalog, correct: list[tuple[str, list[str]]], seed: int) -> dict:
    rng = random.Random(seed)
    pairs = [(query, relevant, misspell(query, rng)) for query, relevant in correct]
    pairs = [(query, relevant, wrong) for query, relevant, wrong in pairs if wrong]
    spelt = measure([(q, r) for q, r, _ in pairs], ranked(model, [q for q, _, _ in pairs]))
    misspelt = measure([(w, r) for _, r, w in pairs], ranked(model, [w for _, _, w in pairs]))
    return {"queries": len(pairs), "examples": [w for _, _, w in pairs[:6]], "correct": spelt,
            "misspelt": misspelt, "ratio": round(misspelt / spelt, 4) if spelt else None}  # fmt: skip


def changed_words(model, queries: list[str]) -> dict:
    changed = {query: model.understand(query).corrections for query in queries}
    changed = {query: found for query, found in changed.items() if found}
    return {"queries": len(queries), "changed": len(changed), "examples": dict(list(changed.items())[:10])}


def like_section(model, catalog: Catalog, n: int, seed: int) -> dict:
    rng = random.Random(seed)
    rows = rng.sample(range(len(catalog)), n)
    overlaps, contains = [], 0
    for number, row in enumerate(rows):
        movie_id, title = catalog.records[row][:2]
        query = LIKE_PHRASES[number % len(LIKE_PHRASES)].format(title)
        found = [hit.id for hit in model.search(query, k=10)]
        expected = {hit.id for hit in model.recommend([movie_id], k=10)}
        overlaps.append(len(expected & set(found)) / 10)
        contains += movie_id in found
    genres = [g for g, c in _genre_counts(catalog).items() if c >= 10]
    shares = []
    for row in rows[: n // 2]:
        genre = rng.choice(genres)
        query = f"like {catalog.records[row][1]} but {fold(genre)}"
        found = model.search(query, k=10)
        shares.append(np.mean([genre in hit.genres for hit in found]) if found else 0.0)
    return {"titles": n, "overlap@10": round(float(np.mean(overlaps)), 4),
            "worst overlap@10": round(float(np.min(overlaps)), 4), "referenced title in top 10": contains,
            "like X but G: share of G in top 10": round(float(np.mean(shares)), 4),
            "like X but G: worst share": round(float(np.min(shares)), 4)}  # fmt: skip


def _genre_counts(catalog: Catalog) -> dict[str, int]:
    counts: dict[str, int] = {}
    for labels in catalog.frame["genres"]:
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
    return counts


def negation_section(model, catalog: Catalog) -> dict:
    results = {}
    labels = catalog.frame["genres"]
    for first, second in (("Comedy", "Romance"), ("Drama", "Horror"), ("Action", "Animation"), ("Family", "Comedy")):
        for phrase in NEGATIONS:
            query = phrase.format(first.lower(), second.lower())
            intent = model.understand(query)
            if second not in intent.excluded:
                continue
            excluded = set(intent.excluded[second])
            found = model.search(query, k=DEPTH)
            results[query] = sum(bool(excluded & set(labels.iloc[model.catalog.row_of[hit.id]])) for hit in found)
    return {"queries": len(results), "excluded titles in top 100": results}


def latency_section(model, baselines, queries: list[str]) -> dict:
    def median_ms(search) -> float:
        times = []
        for query in queries:
            start = time.perf_counter()
            search(query)
            times.append(time.perf_counter() - start)
        return round(1000 * statistics.median(times), 2)

    for query in queries[:5]:  # warm both
        model.search(query, k=10)
        baselines.dense_search(query)
    recsys_ms = median_ms(lambda q: model.search(q, k=10))
    dense_ms = median_ms(baselines.dense_search)
    return {"queries": len(queries), "recsys median ms": recsys_ms, "sentence-transformers + FAISS median ms": dense_ms,
            "ratio": round(recsys_ms / dense_ms, 3)}  # fmt: skip


def exactness(model, queries: list[str]) -> float:
    """The largest gap between an explanation's parts and the score search reported."""
    worst = 0.0
    for query in queries:
        hits = model.search(query, k=5)
        for hit, explanation in zip(hits, model.explain_many(query, [hit.id for hit in hits]), strict=True):
            worst = max(worst, abs(hit.score - explanation.score))
    return worst


def run_catalog(name: str, base: MovieSearch, people: int, seed: int) -> dict:
    catalog = load_catalog(CATALOGS[name])
    model = MovieSearch.build(catalog, base=base)
    baselines = Baselines(catalog.ids, metadata_text(catalog), stopwords="en", depth=DEPTH)
    genre, keyword = genre_queries(catalog), keyword_queries(catalog)
    person = person_section(model, baselines, catalog, people, seed)
    spelt = [q for q, _ in genre + keyword] + [q for q, _ in person_queries(catalog, people, seed)] + HAND_WRITTEN
    samples = [q for q, _ in genre[:10]] + person["examples"] + ["like " + catalog.records[0][1], "not horror"]
    return {
        "titles": len(catalog),
        "person": person,
        "genre": {"queries": len(genre), "recsys": measure(genre, ranked(model, [q for q, _ in genre]))},
        "typo": typo_section(model, catalog, genre + keyword, seed),
        "words changed in correctly spelt queries": changed_words(model, spelt),
        "like": like_section(model, catalog, 40, seed),
        "negation": negation_section(model, catalog),
        "latency": latency_section(model, baselines, spelt[:200]),
        "explanations: largest |score - sum of parts|": exactness(model, samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--people", type=int, default=60, help="directors and cast members sampled per catalog")
    parser.add_argument("--catalogs", nargs="+", default=list(CATALOGS), choices=list(CATALOGS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    base = MovieSearch.load(default_model())
    results = {"machine": machine()}
    for name in args.catalogs:
        results[name] = run_catalog(name, base, args.people, args.seed)
        print(json.dumps({name: results[name]}, indent=2, ensure_ascii=False), flush=True)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2, ensure_ascii=False)


if __name__ == "__main__":
    main()
