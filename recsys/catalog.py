"""Load, recognise, validate and normalise a catalog of movies and series.

A catalog is CSV, TSV, JSON Lines or Parquet. Columns are recognised by name; ids are kept as given
(as strings); text is normalised (Unicode NFC, zero-width characters removed, whitespace collapsed).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys.errors import CatalogError
from recsys.fields import FIELD_ALIASES, LIST_FIELDS, STAR_COLUMNS, looks_like_maturity, read_fields
from recsys.text import normalise_text
from recsys.vocabulary import KIND_LABELS

FIELDS = ("id", "title", "year", "kind", "genres", "keywords", "description", "directors", "cast", "countries",
          "language", "maturity", "runtime", "seasons", "date_added", "studios", "extra")  # fmt: skip
DOCUMENT_TEMPLATE = "{title}. {description}"

# Recognised column names per field, best first; compared after lowercasing and dropping non-letters.
COLUMN_ALIASES = {
    "id": ("id", "showid", "movieid", "itemid", "tmdbid", "imdbid", "tconst"),
    "title": ("title", "primarytitle", "name", "movietitle", "seriestitle", "originaltitle"),
    "description": ("description", "overview", "plot", "synopsis", "summary", "plotsummary"),
    "genres": ("genres", "genre", "listedin"),
    "year": ("year", "releaseyear", "releasedyear", "startyear", "releasedate", "firstairdate"),
    "kind": ("kind", "type", "mediatype", "titletype"),
    "keywords": ("keywords", "keyword", "tags"),
    **FIELD_ALIASES,
}
YEAR_RANGE = (1870, 2100)
_YEAR_IN_TITLE = re.compile(r"^(?P<title>.*?)\s*\((?P<year>\d{4})(?:[-–]\d{0,4})?\)\s*$")
_MOVED_ARTICLE = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An|La|Le|Les|L'|Il|El|Los|Las|Der|Die|Das)$")
_YEAR_IN_TEXT = re.compile(r"(?<!\d)(\d{4})(?!\d)")


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
    _label_masks: dict[tuple[str, ...], np.ndarray] = field(default_factory=dict, repr=False, compare=False)

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
        countries: Iterable[str] | None = None,
        ratings: Iterable[str] | None = None,
        max_runtime: int | None = None,
        exclude_genres: Iterable[str] | None = None,
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
        countries : iterable of str, optional
            Keep titles made in any of these countries (case-insensitive).
        ratings : iterable of str, optional
            Keep titles with one of these maturity ratings ("PG-13", "TV-MA").
        max_runtime : int, optional
            Keep titles of at most this many minutes (series and titles without a runtime stay).
        exclude_genres : iterable of str, optional
            Leave out titles having any of these genres.
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
        if countries:
            wanted = {c.casefold() for c in countries}
            keep &= np.array([any(c.casefold() in wanted for c in cs) for cs in self.frame["countries"]], dtype=bool)
            active = True
        if ratings:
            keep &= self.frame["maturity"].str.upper().isin({r.upper() for r in ratings}).to_numpy()
            active = True
        if max_runtime is not None:
            runtime = self.frame["runtime"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            keep &= np.isnan(runtime) | (runtime <= max_runtime)
            active = True
        if exclude_genres:
            keep &= ~self.mask(genres=exclude_genres)
            active = True
        return keep if active else None

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Each id's row."""
        return {movie_id: row for row, movie_id in enumerate(self.frame["id"])}

    @cached_property
    def records(self) -> list[tuple[str, str, int | None, tuple[str, ...]]]:
        """(id, title, year, genres) of each row as plain Python values: a search then reads no DataFrame."""
        years = [None if pd.isna(year) else int(year) for year in self.frame["year"]]
        return list(zip(self.frame["id"], self.frame["title"], years, map(tuple, self.frame["genres"]), strict=True))

    def kind_mask(self, kind: str) -> np.ndarray:
        """The titles of one kind, ``(N,)``; cached, as queries name the same kinds again."""
        key = ("kind", kind)
        if key not in self._label_masks:
            self._label_masks[key] = self.mask(kind=kind)
        return self._label_masks[key]

    def labels_mask(self, labels: tuple[str, ...]) -> np.ndarray:
        """The titles having any of these genre labels, ``(N,)``; cached, as queries name the same ones again."""
        if labels not in self._label_masks:
            self._label_masks[labels] = self.mask(genres=labels)
        return self._label_masks[labels]

    def of_rows(self, frame: pd.DataFrame) -> Catalog:
        """A catalog of other rows (after adding or removing titles), with this one's source and columns."""
        return Catalog(frame.reset_index(drop=True), source=self.source, columns=self.columns)

    def fingerprint(self) -> str:
        """A SHA-256 of the normalised content, recorded in every model built from this catalog."""
        digest = hashlib.sha256()
        for row in self.frame[list(FIELDS)].itertuples(index=False):
            digest.update(json.dumps([str(value) for value in row], ensure_ascii=False).encode())
        return digest.hexdigest()

    def save(self, path: str | Path) -> dict:
        """Write the normalised catalog to Parquet; return its config section (source, rows, fingerprint)."""
        self.frame.to_parquet(path, index=False)
        return {"source": self.source, "rows": len(self), "fingerprint": self.fingerprint()}

    @classmethod
    def load(cls, path: str | Path, section: dict | None = None) -> Catalog:
        """Read a catalog written by :meth:`save` (already normalised), with its config section if there is one."""
        frame = pd.read_parquet(path)
        for name in ("genres", "keywords", *LIST_FIELDS):
            frame[name] = [list(values) for values in frame[name]] if name in frame else [[] for _ in frame.index]
        for name in ("language", "maturity", "date_added", "extra"):
            frame[name] = frame.get(name, "")
        for name in ("year", "runtime", "seasons"):
            frame[name] = (frame[name] if name in frame else pd.Series([None] * len(frame))).astype("Int64")
        return cls(frame[list(FIELDS)], source=str((section or {}).get("source", path)))

    def extra(self, row: int) -> dict[str, str]:
        """A row's columns that recsys has no field for, kept as they were: ``{column: text}``."""
        text = self.frame["extra"].iloc[row]
        return json.loads(text) if text else {}

    @classmethod
    def from_frame(cls, raw: pd.DataFrame, source: str = "<catalog>") -> Catalog:
        """Recognise columns by name and normalise every row.

        Raises
        ------
        CatalogError
            When no id, title or text column is found, ids repeat, or no row is usable.
        """
        columns = recognise_columns(raw.columns, source)
        if "maturity" in columns and not looks_like_maturity(raw[columns["maturity"]].head(200).tolist()):
            del columns["maturity"]  # review scores, say: kept among the row's other columns
        stars = [name for name in raw.columns if STAR_COLUMNS.match(re.sub(r"[^a-z0-9]", "", str(name).lower()))]
        others = [column for column in raw.columns if column not in set(columns.values()) | set(stars)]
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
            if stars:
                cells["stars"] = [values[raw.columns.get_loc(column)] for column in stars]
            record, reason = _normalise_row(cells, source, row, notes)
            record["extra"] = _extra(others, raw.columns, values)
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
        for name in ("year", "runtime", "seasons"):
            frame[name] = frame[name].astype("Int64")
        return cls(frame, source=source, skipped=skipped, notes=notes, columns={k: str(v) for k, v in columns.items()})


def recognise_columns(columns: Iterable[str], source: str) -> dict[str, str]:
    """Map each field to the catalog column that holds it.

    >>> recognise_columns(["show_id", "title", "listed_in", "release_year", "description"], "x.csv")
    {'id': 'show_id', 'title': 'title', 'description': 'description', 'genres': 'listed_in', 'year': 'release_year'}
    """
    found = match_columns(columns, COLUMN_ALIASES)
    columns = [str(column) for column in columns]
    for required in ("id", "title"):
        if required not in found:
            expected = ", ".join(COLUMN_ALIASES[required])
            message = f"no {required} column (expected one of: {expected}); columns are: {', '.join(columns)}"
            raise CatalogError(source, message + _delimiter_hint(columns))
    return found


def match_columns(columns: Iterable[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Map each name of ``aliases`` to the first column named by one of its aliases, ignoring case and non-letters.

    >>> match_columns(["userId", "Movie_ID", "rating"], {"user": ("userid",), "item": ("movieid", "id")})
    {'user': 'userId', 'item': 'Movie_ID'}
    """
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(re.sub(r"[^a-z]", "", str(column).lower()), column)
    found = {}
    for name, names in aliases.items():
        match = next((by_key[alias] for alias in names if alias in by_key), None)
        if match is not None:
            found[name] = match
    return found


def _delimiter_hint(columns: list[str]) -> str:
    """A hint when a whole header landed in one column: the file uses another delimiter."""
    if len(columns) != 1:
        return ""
    for delimiter, name in ((";", "semicolons"), ("|", "pipes"), ("\t", "tabs"), (",", "commas")):
        if delimiter in columns[0]:
            return f" (the header seems separated by {name}: save it as CSV with commas, or as TSV with tabs)"
    return ""


def normalise_kind(value: object) -> str:
    """Map a kind label to ``movie`` or ``series`` where it is one of those, else lowercase it.

    >>> normalise_kind("TV Show"), normalise_kind("Movie"), normalise_kind("short")
    ('series', 'movie', 'short')
    """
    text = normalise_text(value).lower()
    return KIND_LABELS.get(re.sub(r"[^a-z]", "", text), text)


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
    match = _YEAR_IN_TEXT.search(normalise_text(value))
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
    record.update(read_fields(cells, row, notes))
    return record, None


def _extra(names: list, columns: pd.Index, values: tuple) -> str:
    """The row's cells in columns recsys has no field for, as a JSON object (empty cells left out)."""
    found = {str(name): text for name in names if (text := normalise_text(values[columns.get_loc(name)]))}
    return json.dumps(found, ensure_ascii=False) if found else ""


def _restore_article(title: str) -> str:
    """MovieLens writes "American President, The"; turn it back into "The American President"."""
    match = _MOVED_ARTICLE.match(title)
    if not match:
        return title
    article = match.group("article")
    space = "" if article.endswith("'") else " "
    return f"{article}{space}{match.group('rest')}"
