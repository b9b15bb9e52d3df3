"""Load, recognise, validate and normalise a catalog of movies and series.

A catalog is CSV, TSV, JSON Lines or Parquet. Columns are recognised by name; ids are kept as given
(as strings); text is normalised (Unicode NFC, zero-width characters removed, whitespace collapsed).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.errors import CatalogError

FIELDS = ("id", "title", "year", "kind", "genres", "keywords", "description")
DOCUMENT_TEMPLATE = "{title}. {description}"

# Recognised column names per field, best first; compared after lowercasing and dropping non-letters.
COLUMN_ALIASES = {
    "id": ("id", "showid", "movieid", "itemid", "tmdbid", "imdbid", "tconst"),
    "title": ("title", "primarytitle", "name", "movietitle", "originaltitle"),
    "description": ("description", "overview", "plot", "synopsis", "summary", "plotsummary"),
    "genres": ("genres", "genre", "listedin"),
    "year": ("year", "releaseyear", "startyear", "releasedate", "firstairdate"),
    "kind": ("kind", "type", "mediatype", "titletype"),
    "keywords": ("keywords", "keyword", "tags"),
}
KINDS = {
    "movie": "movie",
    "film": "movie",
    "feature": "movie",
    "tvmovie": "movie",
    "series": "series",
    "tvshow": "series",
    "tvseries": "series",
    "show": "series",
    "tv": "series",
    "tvminiseries": "series",
    "miniseries": "series",
}
YEAR_RANGE = (1870, 2100)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_YEAR_IN_TITLE = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[-–]\d{0,4})?\)\s*$")
_MOVED_ARTICLE = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An|La|Le|Les|L'|Il|El|Los|Las|Der|Die|Das)$")
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


class SkippedRow(NamedTuple):
    """A row left out of the catalog, and why (``row`` is 1-based, the header not counted)."""

    row: int
    reason: str


@dataclass
class Catalog:
    """A normalised catalog.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per title with columns ``id, title, year, kind, genres, keywords, description``;
        ``genres`` and ``keywords`` hold lists of strings, ``year`` is a nullable integer.
    source : str
        Where the catalog came from (a file name), used in messages.
    skipped : list of SkippedRow
        Rows that were left out, with the reason.
    notes : list of str
        Other things a user should know (columns not found, values that were dropped).
    columns : dict of str to str
        Which column of the file each field was read from (``{"genres": "listed_in", ...}``).
    """

    frame: pd.DataFrame
    source: str = "<catalog>"
    skipped: list[SkippedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def ids(self) -> list[str]:
        """The movie ids, in row order."""
        return self.frame["id"].tolist()

    def documents(self, template: str = DOCUMENT_TEMPLATE, rows: Sequence[int] | None = None) -> list[str]:
        """Return each title's document text (or only those of ``rows``), ``"{title}. {description}"`` by default."""
        frame = self.frame if rows is None else self.frame.iloc[list(rows)]
        pairs = frame[["title", "description"]].itertuples(index=False)
        return [template.format(title=title, description=description) for title, description in pairs]

    def genres(self) -> list[str]:
        """The catalog's genre vocabulary, sorted."""
        return sorted({genre for genres in self.frame["genres"] for genre in genres})

    def mask(
        self,
        genres: Iterable[str] | None = None,
        years: tuple[int | None, int | None] | None = None,
        kind: str | None = None,
    ) -> np.ndarray | None:
        """Return a boolean mask of the rows that pass the filters, or None when there are none.

        Parameters
        ----------
        genres : iterable of str, optional
            Keep titles having any of these genres (case-insensitive).
        years : (int or None, int or None), optional
            Inclusive year range; titles without a year are left out when it is given.
        kind : str, optional
            ``"movie"`` or ``"series"`` (synonyms such as "TV Show" are understood).
        """
        keep = np.ones(len(self), dtype=bool)
        active = False
        if genres:
            wanted = {g.casefold() for g in genres}
            keep &= np.array([any(g.casefold() in wanted for g in gs) for gs in self.frame["genres"]], dtype=bool)
            active = True
        if years and (years[0] is not None or years[1] is not None):
            year = self.frame["year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            low, high = years
            keep &= ~np.isnan(year)
            keep &= (year >= (low if low is not None else -np.inf)) & (year <= (high if high is not None else np.inf))
            active = True
        if kind:
            keep &= (self.frame["kind"] == normalise_kind(kind)).to_numpy()
            active = True
        return keep if active else None

    def fingerprint(self) -> str:
        """A SHA-256 of the normalised content, recorded in every model built from this catalog."""
        digest = hashlib.sha256()
        for row in self.frame[list(FIELDS)].itertuples(index=False):
            digest.update(json.dumps([str(value) for value in row], ensure_ascii=False).encode())
        return digest.hexdigest()

    def to_parquet(self, path: str | Path) -> None:
        """Write the normalised catalog to Parquet."""
        self.frame.to_parquet(path, index=False)

    @classmethod
    def from_parquet(cls, path: str | Path) -> Catalog:
        """Read a catalog written by :meth:`to_parquet` (already normalised)."""
        frame = pd.read_parquet(path)
        for name in ("genres", "keywords"):
            frame[name] = [list(values) for values in frame[name]]
        frame["year"] = frame["year"].astype("Int64")
        return cls(frame, source=str(path))

    @classmethod
    def from_frame(cls, raw: pd.DataFrame, source: str = "<catalog>") -> Catalog:
        """Recognise columns by name and normalise every row.

        Raises
        ------
        CatalogError
            When no id, title or text column is found, ids repeat, or no row is usable.
        """
        columns = recognise_columns(raw.columns, source)
        notes = [
            f"{name}: no column found"
            for name in ("year", "kind", "genres", "keywords", "description")
            if name not in columns
        ]
        records, skipped = [], []
        seen: dict[str, int] = {}
        for position, values in enumerate(raw.itertuples(index=False)):
            row = position + 1
            cells = {name: values[raw.columns.get_loc(column)] for name, column in columns.items()}
            record, reason = _normalise_row(cells, source, row, notes)
            if reason:
                skipped.append(SkippedRow(row, reason))
                continue
            if record["id"] in seen:
                raise CatalogError(
                    source,
                    f"duplicate id {record['id']!r} (first seen in row {seen[record['id']]})",
                    row=row,
                    field=columns["id"],
                )
            seen[record["id"]] = row
            records.append(record)
        if not records:
            raise CatalogError(source, "no usable rows" + (f" ({len(skipped)} skipped)" if skipped else ""))
        frame = pd.DataFrame.from_records(records, columns=list(FIELDS))
        frame["year"] = frame["year"].astype("Int64")
        return cls(frame, source=source, skipped=skipped, notes=notes, columns={k: str(v) for k, v in columns.items()})


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
    raw = _read_table(path, source)
    catalog = Catalog.from_frame(raw, source=source)
    tags = path.with_name("tags.csv")
    if path.name == "movies.csv" and tags.is_file():
        _attach_movielens_tags(catalog, _read_table(tags, tags.name))
    return catalog


def recognise_columns(columns: Iterable[str], source: str) -> dict[str, str]:
    """Map each field to the catalog column that holds it.

    >>> recognise_columns(["show_id", "title", "listed_in", "release_year", "description"], "x.csv")
    {'id': 'show_id', 'title': 'title', 'description': 'description', 'genres': 'listed_in', 'year': 'release_year'}
    """
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(re.sub(r"[^a-z]", "", str(column).lower()), column)
    found = {}
    for name, aliases in COLUMN_ALIASES.items():
        match = next((by_key[alias] for alias in aliases if alias in by_key), None)
        if match is not None:
            found[name] = match
    columns = [str(column) for column in columns]
    for required in ("id", "title"):
        if required not in found:
            expected = ", ".join(COLUMN_ALIASES[required])
            message = f"no {required} column (expected one of: {expected}); columns are: {', '.join(columns)}"
            raise CatalogError(source, message + _delimiter_hint(columns))
    return found


def _delimiter_hint(columns: list[str]) -> str:
    """A hint when a whole header landed in one column: the file uses another delimiter."""
    if len(columns) != 1:
        return ""
    for delimiter, name in ((";", "semicolons"), ("|", "pipes"), ("\t", "tabs"), (",", "commas")):
        if delimiter in columns[0]:
            return f" (the header seems separated by {name}: save it as CSV with commas, or as TSV with tabs)"
    return ""


def normalise_text(value: object) -> str:
    r"""Unicode NFC, no zero-width or control characters, single spaces, stripped.

    >>> normalise_text("  Ame\u0301lie\u200b  in\n Paris ")
    'Amélie in Paris'
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", text))
    return " ".join(text.split())


def normalise_kind(value: object) -> str:
    """Map a kind label to ``movie`` or ``series`` where it is one of those, else lowercase it.

    >>> normalise_kind("TV Show"), normalise_kind("Movie"), normalise_kind("short")
    ('series', 'movie', 'short')
    """
    text = normalise_text(value).lower()
    return KINDS.get(re.sub(r"[^a-z]", "", text), text)


def parse_labels(value: object) -> list[str]:
    """Split a genre or keyword cell: JSON (TMDB style), pipe- or comma-separated.

    >>> parse_labels('[{"id": 18, "name": "Drama"}, {"id": 80, "name": "Crime"}]')
    ['Drama', 'Crime']
    >>> parse_labels("Adventure|Animation"), parse_labels("Dramas, International Movies")
    (['Adventure', 'Animation'], ['Dramas', 'International Movies'])

    Raises
    ------
    ValueError
        For a cell that starts like JSON but is not valid JSON.
    """
    text = normalise_text(value)
    if not text or text == "(no genres listed)":
        return []
    if text.startswith("["):
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError("expected a JSON list")
        labels = [item.get("name", "") if isinstance(item, dict) else item for item in items]
    else:
        labels = text.split("|" if "|" in text else ",")
    unique = dict.fromkeys(normalise_text(label) for label in labels)
    return [label for label in unique if label]


def parse_year(value: object) -> int | None:
    """Read a year from a number, a date (``2021-09-25``, ``25-Sep-21`` is not a year) or text.

    >>> parse_year("1995"), parse_year(1995.0), parse_year("2008-03-14"), parse_year("")
    (1995, 1995, 2008, None)
    """
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float):
        return None if np.isnan(value) or value != int(value) else int(value)
    match = _YEAR.search(normalise_text(value))
    return int(match.group(1)) if match else None


def _normalise_row(cells: dict, source: str, row: int, notes: list[str]) -> tuple[dict, str | None]:
    for name in ("id", "title", "description", "year", "kind"):
        if isinstance(cells.get(name), list | dict):
            return {}, f"field '{name}' holds a JSON {type(cells[name]).__name__}, not text"
    record = {"id": normalise_text(cells["id"]), "title": normalise_text(cells["title"])}
    if record["id"] == "" or (isinstance(cells["id"], float) and np.isnan(cells["id"])):
        return record, "empty id"
    if isinstance(cells["id"], float) and cells["id"] == int(cells["id"]):
        record["id"] = str(int(cells["id"]))  # JSON numbers: keep "42", not "42.0"
    record["description"] = normalise_text(cells.get("description", ""))
    year = parse_year(cells["year"]) if "year" in cells else None
    if year is None and normalise_text(cells.get("year", "")) not in ("", "nan", "<NA>"):
        notes.append(f"row {row}, field 'year': {normalise_text(cells['year'])[:40]!r} is not a year; left empty")
    title_year = _YEAR_IN_TITLE.match(record["title"])
    if title_year and record["title"] != title_year.group("year"):
        record["title"] = _restore_article(title_year.group("title"))
        year = year if year is not None else int(title_year.group("year"))
    if year is not None and not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        notes.append(f"row {row}, field 'year': {year} is not a plausible year; left empty")
        year = None
    record["year"] = year
    if not record["title"] and not record["description"]:
        return record, "no title and no description"
    record["kind"] = normalise_kind(cells.get("kind", ""))
    for name in ("genres", "keywords"):
        try:
            record[name] = parse_labels(cells.get(name, ""))
        except ValueError as err:
            notes.append(f"row {row}, field '{name}': not valid JSON ({err}); left empty")
            record[name] = []
    return record, None


def _restore_article(title: str) -> str:
    """MovieLens writes "American President, The"; turn it back into "The American President"."""
    match = _MOVED_ARTICLE.match(title)
    if not match:
        return title
    article = match.group("article")
    space = "" if article.endswith("'") else " "
    return f"{article}{space}{match.group('rest')}"


SUFFIXES = (".csv", ".txt", ".tsv", ".tab", ".jsonl", ".ndjson", ".json", ".parquet", ".pq")


def _read_table(path: Path, source: str) -> pd.DataFrame:
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
