"""Catalog files: CSV, TSV, JSON Lines (or a JSON array) and Parquet read into a :class:`Catalog`.

A file that cannot be read is refused with a :class:`CatalogError` naming the file and, where one is at
fault, the line, row or field. A MovieLens ``movies.csv`` with ``tags.csv`` beside it gets the tags as keywords.
"""

from __future__ import annotations

import csv
import json
import re
import warnings
from pathlib import Path

import pandas as pd

from recsys.catalog import Catalog
from recsys.errors import CatalogError
from recsys.text import normalise_text

SUFFIXES = (".csv", ".txt", ".tsv", ".tab", ".jsonl", ".ndjson", ".json", ".parquet", ".pq")


def load_catalog(path: str | Path) -> Catalog:
    """Read a catalog file: CSV, TSV, JSON Lines (or a JSON array) or Parquet.

    MovieLens ``movies.csv`` is understood (year inside the title, pipe-separated genres), and a
    ``tags.csv`` beside it supplies keywords.

    Raises
    ------
    CatalogError
        Naming the file, and the row and field where one is at fault.
    """
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise CatalogError(str(path), "no such file")
    raw = read_table(path, source)
    catalog = Catalog.from_frame(raw, source=source)
    tags = path.with_name("tags.csv")
    if path.name == "movies.csv" and tags.is_file():
        _attach_movielens_tags(catalog, read_table(tags, tags.name))
    links = path.with_name("links.csv")
    if path.name == "movies.csv" and links.is_file():
        _attach_movielens_links(catalog, read_table(links, links.name))
    return catalog


def safe_file_name(name: str) -> str:
    """A name an uploaded file can be written under: no directories, no odd characters, its type kept.

    >>> safe_file_name("../../etc/passwd.csv"), safe_file_name("My Films (2024).TSV"), safe_file_name("..")
    ('passwd.csv', 'My-Films-2024.tsv', 'catalog')
    """
    stem, _, suffix = Path(name.replace("\\", "/")).name.rpartition(".")
    if not stem:
        stem, suffix = suffix, ""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "catalog"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()
    return f"{stem[:60]}.{suffix}" if suffix else stem[:60]


def read_table(path: Path, source: str) -> pd.DataFrame:
    """Read a CSV, TSV, JSON Lines, JSON or Parquet table as text cells; errors name ``source``."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise CatalogError(source, f"unsupported file type {suffix or '(none)'!r}; use {', '.join(SUFFIXES)}")
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".jsonl", ".ndjson", ".json"):
            return _read_json(path, source)
        sep = "\t" if suffix in (".tsv", ".tab") else ","
        width = _check_header(path, sep, source)
        with warnings.catch_warnings():  # a row with more cells than the header: refused, never cut or shifted
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                                   index_col=False)  # fmt: skip
            except pd.errors.ParserWarning:
                _refuse_wide_row(path, sep, width, source)
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise CatalogError(
            source, f"line {line} is not UTF-8 text (byte {err.start}); save the file as UTF-8"
        ) from None
    except pd.errors.EmptyDataError:
        raise CatalogError(source, "the file is empty") from None
    except pd.errors.ParserError as err:
        raise CatalogError(source, f"not a valid {suffix.lstrip('.').upper() or 'CSV'} table: {err}") from None
    except (OSError, ValueError) as err:
        raise CatalogError(source, f"cannot be read as a catalog: {str(err).splitlines()[0]}") from None


def _check_header(path: Path, sep: str, source: str) -> int:
    """Refuse a header naming one column twice (pandas would quietly rename the second); return its width."""
    with path.open(encoding="utf-8-sig", newline="") as lines:
        header = next(csv.reader(lines, delimiter=sep), [])
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise CatalogError(source, f"the header names column {name!r} twice", field=name)
        seen.add(name)
    return len(header)


def _refuse_wide_row(path: Path, sep: str, width: int, source: str) -> None:
    with path.open(encoding="utf-8-sig", newline="") as lines:
        for row, cells in enumerate(csv.reader(lines, delimiter=sep)):
            if len(cells) > width:
                raise CatalogError(source, f"{len(cells)} cells where the header names {width} columns", row=row)
    raise CatalogError(source, f"a row has more cells than the header's {width} columns")


def _read_json(path: Path, source: str) -> pd.DataFrame:
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith("["):
        records = json.loads(text)
    else:
        records = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as err:
                    raise CatalogError(source, f"line {number} is not valid JSON ({err.msg})") from None
    if not all(isinstance(record, dict) for record in records):
        raise CatalogError(source, "each JSON record must be an object with named fields")
    return pd.DataFrame.from_records(records)


def _attach_movielens_links(catalog: Catalog, links: pd.DataFrame) -> None:
    """Keep each title's IMDb and TMDB ids from MovieLens ``links.csv`` among its other columns."""
    if "movieId" not in links.columns:
        catalog.notes.append("links.csv: no movieId column; ignored")
        return
    named = [name for name in ("imdbId", "tmdbId") if name in links.columns]
    by_movie = {row["movieId"]: {name: row[name] for name in named if row[name]} for row in links.to_dict("records")}
    frame = catalog.frame
    extra = [json.loads(text) if text else {} for text in frame["extra"]]
    frame["extra"] = [
        json.dumps({**found, **by_movie.get(movie_id, {})}, ensure_ascii=False)
        if found or by_movie.get(movie_id)
        else ""
        for movie_id, found in zip(frame["id"], extra, strict=True)
    ]
    catalog.notes.append(f"links.csv: IMDb and TMDB ids of {len(by_movie)} titles")


def _attach_movielens_tags(catalog: Catalog, tags: pd.DataFrame) -> None:
    """Use MovieLens user tags as keywords, most frequent first."""
    if not {"movieId", "tag"} <= set(tags.columns):
        catalog.notes.append("tags.csv: no movieId/tag columns; ignored")
        return
    tags = tags.assign(tag=tags["tag"].map(normalise_text).str.lower())
    tags = tags[tags["tag"] != ""]
    counts = tags.groupby(["movieId", "tag"]).size().reset_index(name="n")
    counts = counts.sort_values(["movieId", "n", "tag"], ascending=[True, False, True])
    by_movie = counts.groupby("movieId")["tag"].apply(list).to_dict()
    frame = catalog.frame
    frame["keywords"] = [
        list(dict.fromkeys(keywords + by_movie.get(movie_id, [])))
        for movie_id, keywords in zip(frame["id"], frame["keywords"], strict=True)
    ]
    catalog.notes = [note for note in catalog.notes if not note.startswith("keywords:")]
    catalog.notes.append(f"tags.csv: keywords from {len(tags)} tags on {len(by_movie)} titles")
