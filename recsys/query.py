"""Query understanding: genres (and their synonyms), decades and years, and kind, read from a query.

What is understood is matched against the catalog's own vocabulary (its genre labels, its kinds) and
returned as :class:`Intents`: year ranges and kinds become filters, genres become filters when the query
names nothing else, and boosts otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from recsys.vocabulary import (
    AMBIGUOUS_GENRE_WORDS,
    GENRE_ADJECTIVES,
    GENRE_SYNONYMS,
    KIND_QUERY_WORDS,
    QUERY_STOP_WORDS,
)

_DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960,
                 "seventies": 1970, "eighties": 1980, "nineties": 1990}  # fmt: skip
_FULL_DECADE = re.compile(r"(?<![\w'])(1[89]\d0|20[0-2]0)'?s\b")
_SHORT_DECADE = re.compile(r"(?<![\w])'?(\d)0'?s\b")
_RANGE = re.compile(r"\b(?:between|from)?\s*(1[89]\d\d|20\d\d)\s*(?:-|–|to|and)\s*(1[89]\d\d|20\d\d)\b")
_BOUND = re.compile(r"\b(before|until|pre|after|since|post)[\s-]+(1[89]\d\d|20\d\d)\b")
_YEAR_PHRASE = re.compile(r"\b(?:(in|from|of|year)\s+)?(1[89]\d\d|20[0-2]\d)\b")


@dataclass
class Intents:
    """What was understood in a query.

    Attributes
    ----------
    genres : dict
        Canonical genre → the catalog labels it matches (only genres the catalog has).
    years : (int or None, int or None) or None
        Inclusive year range.
    kind : str or None
        ``"movie"`` or ``"series"``.
    explained : list of str
        Human-readable lines, such as ``"genre: Science Fiction, from 'sci-fi'"``.
    text : str
        The query with year and kind phrases removed: what the encoder reads.
    predicted : list of str
        Canonical genres the query names that the catalog has no labels for but the model can predict
        from descriptions (its genre readout): they boost titles by predicted probability.
    genre_only : bool
        True when the query names genres and nothing else to search for ("horror", "90s romantic comedy").
    """

    genres: dict[str, list[str]] = field(default_factory=dict)
    years: tuple[int | None, int | None] | None = None
    kind: str | None = None
    explained: list[str] = field(default_factory=list)
    text: str = ""
    predicted: list[str] = field(default_factory=list)
    genre_only: bool = False


def genre_pair_phrase(first: str, second: str) -> str:
    """How people name two genres together, adjective first.

    >>> genre_pair_phrase("Comedy", "Romance"), genre_pair_phrase("Crime", "Drama")
    ('romantic comedy', 'crime drama')
    """
    if second in GENRE_ADJECTIVES and first not in GENRE_ADJECTIVES:
        first, second = second, first
    return f"{GENRE_ADJECTIVES.get(first, first.lower())} {second.lower()}"


@lru_cache(maxsize=4096)
def label_genres(label: str) -> frozenset[str]:
    """The canonical genres a catalog's genre label names.

    >>> sorted(label_genres("Sci-Fi & Fantasy")), sorted(label_genres("Children & Family Movies"))
    (['Fantasy', 'Science Fiction'], ['Family'])
    >>> sorted(label_genres("Romantic Comedy")), sorted(label_genres("International Movies"))
    (['Comedy', 'Romance'], [])
    """
    text = _plain(label)
    return frozenset(genre for genre, words in GENRE_SYNONYMS.items() if any(_has_phrase(text, w) for w in words))


class QueryParser:
    """Reads intents from queries against one catalog's vocabulary.

    Parameters
    ----------
    labels : iterable of str
        The catalog's genre labels.
    kinds : iterable of str
        The kinds present in the catalog; a kind filter is only offered when there are several.
    predictable : iterable of str
        Canonical genres the model can predict for titles without labels.
    """

    def __init__(self, labels: Iterable[str], kinds: Iterable[str] = (), predictable: Iterable[str] = ()):
        self.labels_by_genre: dict[str, list[str]] = {}
        for label in sorted(set(labels)):
            for genre in label_genres(label):
                self.labels_by_genre.setdefault(genre, []).append(label)
        self.kinds = {k for k in kinds if k in KIND_QUERY_WORDS}
        self.predictable = set(predictable)

    def parse(self, query: str) -> Intents:
        """Understand a query.

        >>> parser = QueryParser(["Comedy", "Romance", "Horror", "Animation"], ["movie", "series"])
        >>> intents = parser.parse("90s romantic comedy")
        >>> intents.years, sorted(intents.genres), intents.genre_only
        ((1990, 1999), ['Comedy', 'Romance'], True)
        >>> parser.parse("animated series about a lost dog").kind
        'series'
        """
        intents = Intents()
        text = _plain(query)
        text = self._read_years(text, intents)
        text = self._read_kind(text, intents)
        remaining = text
        for genre, found in _genre_words(text).items():
            if genre in self.labels_by_genre:
                intents.genres[genre] = self.labels_by_genre[genre]
                intents.explained.append(f"genre: {genre}, from '{found}'")
                remaining = _remove_phrase(remaining, found)
            elif genre in self.predictable:
                intents.predicted.append(genre)
                intents.explained.append(f"genre: {genre} (predicted from descriptions), from '{found}'")
                remaining = _remove_phrase(remaining, found)
        content = [w for w in remaining.split() if w not in QUERY_STOP_WORDS]
        intents.genre_only = bool(intents.genres or intents.predicted) and not content
        has_words = any(w not in QUERY_STOP_WORDS for w in text.split())
        intents.text = " ".join(text.split()) if has_words else " ".join(query.split())
        return intents

    def _read_years(self, text: str, intents: Intents) -> str:
        for word, start in _DECADE_WORDS.items():
            if _has_phrase(text, word):
                intents.years = (start, start + 9)
                intents.explained.append(f"years: {start}s, from '{word}'")
                return _remove_phrase(text, word)
        if match := _RANGE.search(text):
            low, high = sorted((int(match.group(1)), int(match.group(2))))
            intents.years = (low, high)
        elif match := _BOUND.search(text):
            year = int(match.group(2))
            before = match.group(1) in ("before", "until", "pre")
            intents.years = (None, year - 1) if before else (year + (match.group(1) == "after"), None)
        elif match := _FULL_DECADE.search(text):
            intents.years = (int(match.group(1)), int(match.group(1)) + 9)
        elif match := _SHORT_DECADE.search(text):
            digit = int(match.group(1))  # '00s and '10s are this century; '20s is read as the 1920s
            decade = 2000 + 10 * digit if digit < 2 else 1900 + 10 * digit
            intents.years = (decade, decade + 9)
        elif (match := _YEAR_PHRASE.search(text)) and match.group(1):
            intents.years = (int(match.group(2)), int(match.group(2)))
        else:
            return text
        low, high = intents.years
        if low is not None and high is not None and (high - low == 9 and low % 10 == 0 or high == low):
            shown = f"{low}s" if high != low else str(low)
        else:
            shown = f"{low if low is not None else '…'}–{high if high is not None else '…'}"
        intents.explained.append(f"years: {shown}, from '{match.group(0).strip()}'")
        return text.replace(match.group(0), " ")

    def _read_kind(self, text: str, intents: Intents) -> str:
        if len(self.kinds) < 2:
            return text
        for kind, words in KIND_QUERY_WORDS.items():
            found = next((w for w in sorted(words, key=len, reverse=True) if _has_phrase(text, w)), None)
            if found:
                intents.kind = kind
                intents.explained.append(f"kind: {kind}, from '{found}'")
                return _remove_phrase(text, found)
        return text


def _plain(text: str) -> str:
    text = text.lower().replace("’", "'").replace("&", " ")
    return " ".join(re.sub(r"[^\w\s'-]", " ", text).replace("'s ", "s ").split())


def _has_phrase(text: str, phrase: str) -> bool:
    # "sci-fi" is one phrase, but "action-adventure" names two genres: try the text with hyphens as spaces too.
    pattern = rf"(?<![\w-]){re.escape(phrase)}(?![\w-])"
    return re.search(pattern, text) is not None or re.search(pattern, text.replace("-", " ")) is not None


def _genre_words(text: str) -> dict[str, str]:
    """Canonical genre → the word naming it in the text; ambiguous words count only when nothing else does."""
    found = {genre: next((w for w in words if _has_phrase(text, w)), None) for genre, words in GENRE_SYNONYMS.items()}
    found = {genre: word for genre, word in found.items() if word}
    others = text
    for word in found.values():
        if word not in AMBIGUOUS_GENRE_WORDS:
            others = _remove_phrase(others, word)
    if any(w not in QUERY_STOP_WORDS and w not in AMBIGUOUS_GENRE_WORDS for w in others.split()):
        found = {genre: word for genre, word in found.items() if word not in AMBIGUOUS_GENRE_WORDS}
    return found


def _remove_phrase(text: str, phrase: str) -> str:
    return " ".join(re.sub(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", " ", text).split())
