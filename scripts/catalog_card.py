"""Regenerate the figures in recsys/data/README.md (the data card of the project's own catalog).

    python scripts/catalog_card.py            # rewrite the generated sections of recsys/data/README.md
    python scripts/catalog_card.py --check    # exit 1 if the counts in recsys/data/README.md are stale
    python scripts/catalog_card.py --crosscheck $RECSYS_DATA/movielens-small/movies.csv
    python scripts/catalog_card.py --crosscheck-people $RECSYS_DATA/streaming/*.csv

The counts section is derived from recsys/data/movies.csv alone; the queries section searches with the default
model; the cross-checks compare years and genres with MovieLens, and directors, cast and countries with the
streaming exports.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "recsys" / "data" / "movies.csv"
CARD = ROOT / "recsys" / "data" / "README.md"
GENRES = (
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family", "Fantasy", "History",
    "Horror", "Music", "Mystery", "Romance", "Science Fiction", "Thriller", "War", "Western",
)  # fmt: skip
QUERIES = [
    "sci-fi about first contact with aliens", "horror", "documentary about music", "samurai",
    "world war ii soldiers", "mafia family saga", "time travel", "a heist on a casino",
    "giant monster attacks a city", "haunted house", "serial killer detective", "dystopian future",
    "lonely robot", "a boxer gets one last shot at the title", "silent film comedy", "korean thriller",
    "animated fantasy with spirits", "outlaws and gunslingers in the desert", "teenagers at summer camp",
    "a love story in paris",
]  # fmt: skip
_MLMAP = {"Sci-Fi": "Science Fiction", "Children": "Family", "Musical": "Music", "Film-Noir": "Crime"}


def counts_markdown(frame) -> str:
    """The counts section: titles, kinds, genres, decades, keyword vocabulary, description lengths."""
    genres = Counter(g for gs in frame["genres"] for g in gs)
    decades = Counter(f"{int(y) // 10 * 10}s" for y in frame["year"])
    keywords = Counter(k for ks in frame["keywords"] for k in ks)
    words = frame["description"].str.split().str.len()
    kinds = Counter(frame["kind"])
    lines = [
        f"- **{len(frame)} titles**: {kinds['movie']} movies and {kinds['series']} series.",
        f"- Descriptions: {words.min()}–{words.max()} words (median {int(words.median())}).",
        f"- Keywords: {len(keywords)} distinct, {sum(keywords.values())} in all.",
        "",
        "| genre | titles |",
        "|---|---|",
        *(f"| {genre} | {genres[genre]} |" for genre in GENRES),
        "",
        "| decade | titles |",
        "|---|---|",
        *(f"| {decade} | {n} |" for decade, n in sorted(decades.items())),
        "",
        "Most frequent keywords: " + ", ".join(f"{k} ({n})" for k, n in keywords.most_common(60)) + ".",
    ]
    return "\n".join(lines)


def queries_markdown(catalog) -> str:
    """The queries section: each query's top 5 with the default model, as a new user gets them."""
    from recsys import MovieSearch
    from recsys.default import default_model

    model = MovieSearch.load(default_model(progress=True))
    if model.catalog.fingerprint() != catalog.fingerprint():
        raise SystemExit("the default model was built from another version of recsys/data/movies.csv: rebuild it first")
    lines = []
    for query in QUERIES:
        hits = model.search(query, k=5)
        lines.append(f"- **{query}** → " + "; ".join(f"{h.title} ({h.year}, {', '.join(h.genres)})" for h in hits))
    return "\n".join(lines)


def crosscheck(frame, movielens: Path) -> dict:
    """Compare years and genres with MovieLens titles of the same name (movies only)."""
    from recsys import load_catalog

    reference = load_catalog(movielens).frame.dropna(subset=["year"])
    by_title: dict[str, list[tuple[int, set[str]]]] = {}
    for title, year, genres in zip(reference["title"], reference["year"], reference["genres"], strict=True):
        entry = (int(year), {_MLMAP.get(g, g) for g in genres} - {"IMAX"})
        for name in [title, *re.findall(r"\((.*?)\)", title), re.sub(r"\s*\(.*?\)", "", title)]:
            by_title.setdefault(_key(name), []).append(entry)
    same_film = exact = agree = 0
    jaccard = []
    for title, year, kind, genres in zip(frame["title"], frame["year"], frame["kind"], frame["genres"], strict=True):
        candidates = [c for c in by_title.get(_key(title), []) if abs(c[0] - year) <= 1] if kind == "movie" else []
        if not candidates:  # not in MovieLens, or a different film of the same name (a remake)
            continue
        same_film += 1
        match = min(candidates, key=lambda c: abs(c[0] - year))
        exact += int(match[0] == year)
        ours = set(genres)
        agree += bool(ours & match[1])
        jaccard.append(len(ours & match[1]) / len(ours | match[1]))
    return {"matched": same_film, "year_exact": exact, "genres_overlap": agree,
            "genres_mean_jaccard": sum(jaccard) / max(1, len(jaccard))}  # fmt: skip


def crosscheck_people(frame, exports: list[Path]) -> dict:
    """Compare directors, cast and countries with export titles of the same name, kind and year (±1).

    A title's directors agree when they share a name (folded: accents, case and punctuation ignored); each of
    its cast names agrees when the export lists it; its country agrees when its first country is one of
    the export's.
    """
    from recsys import load_catalog
    from recsys.text import fold

    by_title: dict[str, list] = {}
    for export in exports:
        for row in load_catalog(export).frame.dropna(subset=["year"]).itertuples(index=False):
            by_title.setdefault(_key(row.title), []).append(row)
    figures = Counter()
    for row in frame.itertuples(index=False):
        found = [c for c in by_title.get(_key(row.title), []) if c.kind == row.kind and abs(c.year - row.year) <= 1]
        if not found:
            continue
        match = min(found, key=lambda c: abs(c.year - row.year))
        figures["matched"] += 1
        if len(match.directors) and len(row.directors) and row.kind == "movie":
            figures["directors compared"] += 1
            figures["directors agree"] += bool({fold(n) for n in row.directors} & {fold(n) for n in match.directors})
        theirs = {fold(n) for n in match.cast}
        if theirs:
            figures["cast names compared"] += len(row.cast)
            figures["cast names agree"] += sum(fold(n) in theirs for n in row.cast)
        if len(match.countries) and len(row.countries):
            figures["countries compared"] += 1
            figures["countries agree"] += row.countries[0] in set(match.countries)
    return dict(figures)


def replace_section(text: str, name: str, body: str) -> str:
    """Replace what stands between the ``<!-- name:start -->`` and ``<!-- name:end -->`` markers."""
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{CARD}: no <!-- {name}:start --> ... <!-- {name}:end --> markers")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def _key(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", title.lower())


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from recsys import load_catalog

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the counts are current")
    parser.add_argument("--crosscheck", type=Path, metavar="MOVIELENS_MOVIES_CSV")
    parser.add_argument("--crosscheck-people", type=Path, nargs="+", metavar="EXPORT_CSV")
    args = parser.parse_args()
    catalog = load_catalog(CATALOG)
    card = CARD.read_text(encoding="utf-8")
    if args.crosscheck:
        print(crosscheck(catalog.frame, args.crosscheck))
        return 0
    if args.crosscheck_people:
        print(crosscheck_people(catalog.frame, args.crosscheck_people))
        return 0
    if args.check:
        stale = replace_section(card, "counts", counts_markdown(catalog.frame)) != card
        print(f"{CARD}: counts are {'stale; run scripts/catalog_card.py' if stale else 'current'}")
        return int(stale)
    card = replace_section(card, "counts", counts_markdown(catalog.frame))
    card = replace_section(card, "queries", queries_markdown(catalog))
    CARD.write_text(card, encoding="utf-8")
    print(f"wrote {CARD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
