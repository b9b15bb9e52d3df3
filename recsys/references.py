"""What a query can name in one catalog: its people, titles, countries, languages, ratings and lengths.

:class:`CatalogNames` is built once per catalog and answers lookups from query text folded to plain
lowercase ASCII (``recsys.text.fold``): which people a phrase names (full names, or a single name when one person
holds it), which title a reference points at, and which rows have a country, a language, a maturity
rating or a runtime. Nothing here knows one catalog from another: every list comes from the catalog.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from functools import cached_property

import numpy as np
from rapidfuzz import fuzz, process
from wordfreq import zipf_frequency

from recsys.catalog import Catalog
from recsys.text import fold
from recsys.vocabulary import COUNTRY_ALIASES, LEXICONS, PLACE_WORDS

COMMON_WORD = 4.0  # a name part at least this frequent in English ("will", "young") never names a person alone
TITLE_MATCH = 90  # rapidfuzz ratio a misspelt title reference must reach
MAX_TITLE_WORDS = 10


class Person:
    """A person of the catalog and the rows they directed or appear in."""

    def __init__(self, name: str):
        self.name = name
        self.directed: list[int] = []
        self.cast: list[int] = []

    def rows(self, role: str | None = None) -> np.ndarray:
        """The person's rows as director (``"director"``), as cast (``"cast"``) or either (None)."""
        rows = self.directed if role == "director" else self.cast if role == "cast" else self.directed + self.cast
        return np.unique(np.array(rows, dtype=np.int64))

    @property
    def count(self) -> int:
        """How many titles the person is in."""
        return len(set(self.directed) | set(self.cast))


class CatalogNames:
    """Lookups from folded query text into one catalog.

    Parameters
    ----------
    catalog : Catalog
        The titles, with their people, countries, languages, ratings and lengths where the catalog has them.
    document_frequency : mapping of str to int, optional
        How many titles' texts use each word; a single name must be used more as a name than in texts.
    rows_with : callable, optional
        The rows whose texts use a word (the lexical index's); without it no word can be excluded.
    """

    def __init__(
        self, catalog: Catalog, document_frequency: dict[str, int] | None = None,
        rows_with: Callable[[str], np.ndarray] | None = None,
    ):  # fmt: skip
        self.catalog = catalog
        self.document_frequency = document_frequency or {}
        self.rows_with = rows_with
        self.people: dict[str, Person] = {}
        for row, (directors, cast) in enumerate(zip(catalog.frame["directors"], catalog.frame["cast"], strict=True)):
            for name in directors:
                self._person(name).directed.append(row)
            for name in cast:
                self._person(name).cast.append(row)
        self.in_any_order = {_unordered(key): person for key, person in self.people.items()}  # "Sang-ho Yeon"
        self.by_part: dict[str, list[Person]] = defaultdict(list)
        for key, person in self.people.items():
            for part in set(key.split()):
                if len(part) >= 3:
                    self.by_part[part].append(person)

    def _person(self, name: str) -> Person:
        key = fold(name)
        if key not in self.people:
            self.people[key] = Person(name)
        return self.people[key]

    def person(self, phrase: str, role: str | None = None) -> Person | None:
        """The person a phrase names: a full name, or one name part one person holds (or dominates).

        A one-word name ("Solo", "Game" in a cast list) is read as a name only where a single word can
        name a person (:meth:`_name_like`), or after a role ("starring Solo").
        """
        typed, phrase = phrase.lower(), fold(phrase)
        if phrase in self.people and (" " in phrase or role is not None):
            return self.people[phrase]
        if " " in phrase:
            return self.in_any_order.get(_unordered(phrase))
        if not self._name_like(phrase, (typed,)):
            return None
        if phrase in self.people:
            return self.people[phrase]
        holders = [p for p in self.by_part.get(phrase, []) if role is None or len(p.rows(role))]
        holders.sort(key=lambda p: p.count, reverse=True)
        if len(holders) == 1 or len(holders) > 1 and holders[0].count >= 3 * holders[1].count:
            return holders[0]
        return None

    def _name_like(self, part: str, typed: tuple[str, ...] = ()) -> bool:
        """Whether a single word can name a person: rare in English and Spanish, used more in names than in texts."""
        if part not in self.by_part or part in _QUERY_WORDS:
            return False
        typed = (part, *typed)
        if max(zipf_frequency(form, language) for form in typed for language in ("en", "es")) >= COMMON_WORD:
            return False  # "toda", "ver", "fantasía": everyday words of either language
        named = sum(p.count for p in self.by_part[part])
        return named >= self.document_frequency.get(part, 0) / 2

    def excludable(self, word: str) -> bool:
        """Whether "without <word>" can leave out the titles using it: a content word the catalog's texts use."""
        if self.rows_with is None or len(word) < 3 or not word.isalpha() or word in _QUERY_WORDS:
            return False
        return zipf_frequency(word, "en") < COMMON_WORD + 1 and any(
            self.document_frequency.get(w) for w in _forms(word)
        )

    def rows_using(self, word: str) -> np.ndarray:
        """``(N,)`` the titles whose texts use the word, or its singular or plural."""
        rows = np.zeros(len(self.catalog), dtype=bool)
        for form in _forms(word):
            if self.document_frequency.get(form):
                rows[self.rows_with(form)] = True
        return rows

    def name_parts(self) -> Counter:
        """Every word of every person's name, with how many people have it."""
        return Counter(part for key in self.people for part in key.split())

    @cached_property
    def titles(self) -> dict[str, list[int]]:
        """Folded title → its rows (remakes share a title)."""
        found: dict[str, list[int]] = defaultdict(list)
        for row, title in enumerate(self.catalog.frame["title"]):
            found[fold(title)].append(row)
        return dict(found)

    def title(self, words: list[str]) -> tuple[int, int] | None:
        """(row, words used) of the title the longest prefix of ``words`` names, exactly or nearly.

        With several titles of one name the latest is taken.
        """
        for size in range(min(len(words), MAX_TITLE_WORDS), 0, -1):
            phrase = fold(" ".join(words[:size]))
            rows = self.titles.get(phrase) or self.titles.get(f"the {phrase}")
            if rows:
                return self._latest(rows), size
        for size in range(min(len(words), MAX_TITLE_WORDS), 0, -1):
            phrase = fold(" ".join(words[:size]))
            if len(phrase) < 6:
                break
            hit = process.extractOne(phrase, self.titles.keys(), scorer=fuzz.ratio, score_cutoff=TITLE_MATCH)
            if hit:
                return self._latest(self.titles[hit[0]]), size
        return None

    def _latest(self, rows: list[int]) -> int:
        years = [self.catalog.records[row][2] or 0 for row in rows]
        return rows[int(np.argmax(years))]

    @cached_property
    def countries(self) -> dict[str, str]:
        """Folded name (and alias) → the country as the catalog writes it, for the catalog's countries."""
        written = {country for countries in self.catalog.frame["countries"] for country in countries}
        found = {fold(country): country for country in written}
        for country, aliases in COUNTRY_ALIASES.items():
            match = next((found[fold(a)] for a in (country, *aliases) if fold(a) in found), None)
            for alias in aliases if match else ():
                found.setdefault(fold(alias), match)
        return found

    @cached_property
    def languages(self) -> dict[str, str]:
        """Folded language → the language as the catalog writes it."""
        return {fold(language): language for language in set(self.catalog.frame["language"]) if language}

    def place(self, word: str, places: dict[str, tuple[str, str]] = PLACE_WORDS) -> tuple[str | None, str | None]:
        """(country, language) a place word names ("korean", "bollywood", "japan"), as the catalog writes them."""
        country, language = places.get(word, (None, None))
        word = fold(word)
        if country is None and word in self.countries:
            return self.countries[word], None
        if country is None and word in self.languages:
            return None, self.languages[word]
        return self.countries.get(fold(country or "")), self.languages.get(fold(language or ""))

    def place_rows(self, country: str | None, language: str | None) -> np.ndarray:
        """``(N,)`` titles made in the country or spoken in the language."""
        rows = np.zeros(len(self.catalog), dtype=bool)
        if country:
            rows |= np.array([country in countries for countries in self.catalog.frame["countries"]], dtype=bool)
        if language:
            rows |= (self.catalog.frame["language"] == language).to_numpy()
        return rows

    @cached_property
    def ratings(self) -> set[str]:
        """The maturity ratings the catalog uses."""
        return {rating for rating in self.catalog.frame["maturity"] if rating}

    def rating_rows(self, ratings: Iterable[str]) -> np.ndarray:
        """``(N,)`` titles rated one of these."""
        return self.catalog.frame["maturity"].isin(set(ratings)).to_numpy()

    @cached_property
    def has_runtime(self) -> bool:
        """Whether any title has a runtime."""
        return bool(self.catalog.frame["runtime"].notna().any())

    @cached_property
    def has_seasons(self) -> bool:
        """Whether any title has a number of seasons."""
        return bool(self.catalog.frame["seasons"].notna().any())

    def length_rows(self, field: str, low: float | None, high: float | None) -> np.ndarray:
        """``(N,)`` titles whose runtime (minutes) or seasons lie in [low, high]; titles without one are out."""
        values = self.catalog.frame[field].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        low = -np.inf if low is None else low
        high = np.inf if high is None else high
        return ~np.isnan(values) & (values >= low) & (values <= high)


# Words of genres and kinds, in every language read (folded): never a person's name on their own.
_QUERY_WORDS = frozenset(
    word
    for lexicon in LEXICONS.values()
    for words in (*lexicon.genres.values(), *lexicon.kinds.values())
    for phrase in words
    for word in fold(phrase).split()
)


def _unordered(name: str) -> str:
    """A folded name with its parts sorted: family name first or last reads the same."""
    return " ".join(sorted(name.split()))


def _forms(word: str) -> set[str]:
    """A word with its plural or singular ("vampire", "vampires")."""
    return {word, word[:-1] if word.endswith("s") else f"{word}s"}
