"""What people liked: an interactions file read into time-ordered histories of catalog rows.

A file of ratings, watches or likes (CSV, TSV, JSON Lines or Parquet) with a user column, an item column
and, optionally, a rating and a time; columns are recognised by name as a catalog's are (``userId``,
``movieId``/``item_id``/``id``, ``rating``, ``timestamp``). Items are matched to the catalog by its ids;
when a MovieLens ``links.csv`` lies beside the file, also through the IMDb and TMDB ids it lists. A rating
at or above the threshold is a like; without a rating column every row is one. Items that are not in the
catalog are counted and reported, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recsys.catalog import Catalog, match_columns
from recsys.errors import CatalogError
from recsys.files import read_table

LIKE_THRESHOLD = 4.0  # a rating at or above this is a like (MovieLens stars run 0.5–5)
USER_ALIASES = ("userid", "user", "customerid", "accountid", "profileid", "viewerid")
ITEM_ALIASES = ("movieid", "itemid", "id", "showid", "titleid", "tmdbid", "imdbid", "tconst")
RATING_ALIASES = ("rating", "score", "stars")
TIME_ALIASES = ("timestamp", "time", "datetime", "date", "watchedat", "ratedat", "createdat")
LINKED_IDS = ("imdbId", "tmdbId")  # links.csv columns that name a title in other catalogs


@dataclass
class Interactions:
    """Likes as catalog rows, each user's in time order.

    Attributes
    ----------
    users : np.ndarray
        ``(E,)`` the user number of each like.
    rows : np.ndarray
        ``(E,)`` the catalog row liked.
    times : np.ndarray
        ``(E,)`` when (the file's order where it has no time column); likes are sorted by user, then time.
    user_ids : list of str
        The users' ids as the file names them, by user number.
    report : dict
        What was read: rows, likes, users, items not in the catalog and how they were matched.
    """

    users: np.ndarray
    rows: np.ndarray
    times: np.ndarray
    user_ids: list[str]
    report: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def histories(self) -> list[np.ndarray]:
        """Each user's liked rows, oldest first, by user number."""
        bounds = np.searchsorted(self.users, np.arange(len(self.user_ids) + 1))
        return [self.rows[bounds[u] : bounds[u + 1]] for u in range(len(self.user_ids))]

    @classmethod
    def from_histories(cls, histories: list[np.ndarray], user_ids: list[str] | None = None) -> Interactions:
        """Likes from per-user row histories, oldest first."""
        users = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
        rows = np.concatenate(histories).astype(np.int64) if histories else np.empty(0, np.int64)
        times = np.concatenate([np.arange(len(h), dtype=np.float64) for h in histories]) if histories else rows
        ids = user_ids or [str(u) for u in range(len(histories))]
        return cls(users.astype(np.int64), rows, times.astype(np.float64), ids)


def read_interactions(path: str | Path, catalog: Catalog, like_threshold: float = LIKE_THRESHOLD) -> Interactions:
    """Read an interactions file and keep the likes of titles in the catalog.

    Raises
    ------
    CatalogError
        Naming the file, and the row or column at fault: no user or item column, a rating or time that
        is not one, or no like of any title in the catalog.
    """
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise CatalogError(str(path), "no such file")
    frame = read_table(path, source)
    columns = _columns(frame, source)
    rows, matched_by = _catalog_rows(frame[columns["item"]].astype(str).str.strip(), catalog, path)
    liked = _likes(frame, columns.get("rating"), like_threshold, source)
    times = _times(frame, columns.get("time"), source)
    known = rows >= 0
    keep = liked & known
    if not keep.any():
        raise CatalogError(source, _nothing_liked(known, liked, like_threshold), field=columns["item"])
    users = frame[columns["user"]].astype(str).str.strip().to_numpy()[keep]
    user_ids, user_numbers = np.unique(users, return_inverse=True)
    order = np.lexsort((np.arange(keep.sum()), times[keep], user_numbers))
    unknown_items = frame[columns["item"]].astype(str)[~known].nunique()
    report = {
        "file": source, "rows": len(frame), "likes": int(keep.sum()), "users": len(user_ids),
        "titles liked": int(len(np.unique(rows[keep]))),
        "like threshold": like_threshold if "rating" in columns else None,
        "not likes": int((known & ~liked).sum()), "items not in the catalog": int(unknown_items),
        "rows of items not in the catalog": int((~known).sum()), "matched by": matched_by,
        "columns": columns,
    }  # fmt: skip
    return Interactions(
        user_numbers[order].astype(np.int64), rows[keep][order], times[keep][order], user_ids.tolist(), report
    )


def _columns(frame: pd.DataFrame, source: str) -> dict[str, str]:
    """The file's user, item, rating and time columns (rating and time optional)."""
    aliases = {"user": USER_ALIASES, "item": ITEM_ALIASES, "rating": RATING_ALIASES, "time": TIME_ALIASES}
    found = match_columns(frame.columns, aliases)
    for needed, examples in (("user", "userId or user_id"), ("item", "movieId, item_id or id")):
        if needed not in found:
            names = ", ".join(map(str, frame.columns))
            raise CatalogError(source, f"no {needed} column (such as {examples}); the columns are: {names}")
    return found


def _catalog_rows(items: pd.Series, catalog: Catalog, path: Path) -> tuple[np.ndarray, str]:
    """Each interaction's catalog row (-1: not in the catalog), matched the way that finds the most."""
    ways = {"catalog ids": items.map(catalog.row_of)}
    links = path.with_name("links.csv")
    if links.is_file() and ways["catalog ids"].isna().any():  # links can only match more where ids miss some
        for name, mapping in _linked_ids(links, catalog).items():
            ways[f"links.csv {name}"] = items.map(mapping)
    best = max(ways, key=lambda way: ways[way].notna().sum())
    return ways[best].fillna(-1).astype(np.int64).to_numpy(), best


def _linked_ids(links: Path, catalog: Catalog) -> dict[str, dict[str, int]]:
    """Per linked id kind, MovieLens movieId → catalog row, for titles the catalog names by that id."""
    table = read_table(links, links.name)
    if "movieId" not in table.columns:
        return {}
    by_key: dict[str, int] = {}
    for row, movie_id in enumerate(catalog.ids):  # a title is named by its id or by linked ids among its extras
        for value in (movie_id, *catalog.extra(row).values()):
            by_key.setdefault(_plain_id(str(value)), row)
    mappings = {}
    for name in LINKED_IDS:
        if name in table.columns:
            pairs = zip(table["movieId"].astype(str).str.strip(), table[name].astype(str), strict=True)
            mappings[name] = {movie: by_key[_plain_id(v)] for movie, v in pairs if _plain_id(v) in by_key}
    return mappings


def _plain_id(value: str) -> str:
    """An id without IMDb's "tt" and leading zeros, so "tt0114709", "0114709" and "114709" agree.

    >>> _plain_id("tt0114709"), _plain_id("0114709"), _plain_id("862")
    ('114709', '114709', '862')
    """
    value = value.strip().lower()
    value = value[2:] if value.startswith("tt") and value[2:].isdigit() else value
    return value.lstrip("0") or value


def _likes(frame: pd.DataFrame, column: str | None, threshold: float, source: str) -> np.ndarray:
    """Whether each row is a like: its rating at or above the threshold (every row, without ratings)."""
    if column is None:
        return np.ones(len(frame), dtype=bool)
    ratings = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
    bad = ratings.isna() & frame[column].astype(str).str.strip().ne("") & frame[column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 1
        raise CatalogError(source, f"the rating {frame[column].iloc[row - 1]!r} is not a number", row=row, field=column)
    return (ratings >= threshold).fillna(False).to_numpy()


def _times(frame: pd.DataFrame, column: str | None, source: str) -> np.ndarray:
    """Each row's time as a number (seconds, or the row's position without a time column)."""
    if column is None:
        return np.arange(len(frame), dtype=np.float64)
    values = frame[column]
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(dtype=np.float64)
    dates = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0]) + 1
        raise CatalogError(source, f"{values.iloc[row - 1]!r} is not a time or date", row=row, field=column)
    return (dates.astype("int64") / 1e9).to_numpy(dtype=np.float64)


def _nothing_liked(known: np.ndarray, liked: np.ndarray, threshold: float) -> str:
    if not known.any():
        return "no item is in the catalog (compare the item ids with the catalog's ids)"
    return f"no rating of a title in the catalog is at or above the like threshold {threshold}"
