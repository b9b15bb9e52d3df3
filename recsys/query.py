"""Query understanding: what a query asks for beyond its words, read against the catalog's own vocabulary.

Genres (and their synonyms), decades and years, and kind are read here; with the catalog's names
(``recsys.references``) the readers of ``recsys.readers`` also correct misspelt words, and read title
references ("like Alien"), excluded genres ("not horror"), people, countries and languages, maturity
ratings and lengths. Everything understood is returned as :class:`Intents`, each reading under a key the
user can pass back in ``ignore`` to drop it. Year ranges, kinds, places, ratings, lengths and excluded
genres become filters; people rank their titles first; genres become filters when the query names nothing
else, and boosts otherwise; referenced titles join the query as the recommend path reads liked titles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from recsys import readers
from recsys.references import CatalogNames
from recsys.spanish import read_spanish_years
from recsys.spelling import Speller
from recsys.text import fold, strip_accents
from recsys.translate import INSTALL_HINT
from recsys.vocabulary import (
    ENGLISH,
    GENRE_ADJECTIVES,
    GENRE_SYNONYMS,
    KIND_QUERY_WORDS,
    LEXICONS,
    VERB_CUES,
    Lexicon,
)

DESCRIPTION_WORDS = 6  # content words left after the readings from which a query is read as a plot described
DESCRIPTION_NOTE = "read as a description: the places and years in it are searched as words, not as filters"
_SETTINGS = frozenset({"years", "rating", "runtime", "seasons"})  # readings that can set a story

_FULL_DECADE = re.compile(r"(?<![\w'])(1[89]\d0|20[0-2]0)'?s\b")
_SHORT_DECADE = re.compile(r"(?<![\w])'?(\d)0'?s\b")
_RANGE = re.compile(r"\b(?:between|from)?\s*(1[89]\d\d|20\d\d)\s*(?:-|–|to|and)\s*(1[89]\d\d|20\d\d)\b")
_BOUND = re.compile(r"\b(before|until|pre|after|since|post)[\s-]+(1[89]\d\d|20\d\d)\b")
_YEAR_PHRASE = re.compile(r"\b(?:(in|from|of|year)\s+)?(1[89]\d\d|20[0-2]\d)\b")


class Reading(NamedTuple):
    """One thing a query was understood as: ``key`` names it for ``ignore``, ``shown`` says it to the user."""

    key: str  # "genre:Horror", "person:Tom Hanks", "like:alien-1979", "spelling:horor", "years", ...
    shown: str  # "genre: Horror, from 'horror'"


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
    readings : list of Reading
        Everything understood, in reading order; ``explained`` gives the lines shown.
    text : str
        The query with what was read removed (corrected where misspelt): what the encoder reads. Empty
        when only a referenced title is left to search with.
    predicted : list of str
        Canonical genres the query names that the catalog has no labels for but the model can predict
        from descriptions (its genre readout): they boost titles by predicted probability.
    genre_only : bool
        True when the query names genres and nothing else to search for ("horror", "90s romantic comedy").
    people : dict
        Each person named → their rows (in the role named, if any); their titles rank first.
    like : list of int
        Rows of the titles referred to ("like Alien"): they join the query and are not results.
    excluded : dict
        Canonical genre → the catalog labels it matches, for genres the query excludes ("not horror").
    filters : list of np.ndarray
        ``(N,)`` masks every result must pass: places, ratings, lengths.
    corrections : dict
        Misspelt word → the word it was read as.
    language : str
        The language the query was read in: "en" or "es".
    source_text : str
        For a translated query, the words of the query the translation is of (``text`` is the translation).
    notes : list of str
        What the user should know about how the query was read ("no translation: ...").
    suggested : np.ndarray or None
        ``(G,)`` for a query that names no genre, the probability of each of the model's readout genres
        read from the query's meaning (its value vector); set by the engine after encoding.
    spread : float
        With ``suggested``: 1 minus the largest attention weight over the catalog's titles, near 0 when
        one title stands out (a known item) and near 1 when many match alike (a kind of film).
    """

    genres: dict[str, list[str]] = field(default_factory=dict)
    years: tuple[int | None, int | None] | None = None
    kind: str | None = None
    readings: list[Reading] = field(default_factory=list)
    text: str = ""
    predicted: list[str] = field(default_factory=list)
    genre_only: bool = False
    people: dict[str, np.ndarray] = field(default_factory=dict)
    like: list[int] = field(default_factory=list)
    excluded: dict[str, list[str]] = field(default_factory=dict)
    filters: list[np.ndarray] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)
    language: str = "en"
    source_text: str = ""
    notes: list[str] = field(default_factory=list)
    suggested: np.ndarray | None = None
    spread: float = 0.0

    def add(self, key: str, shown: str) -> None:
        """Record a reading."""
        self.readings.append(Reading(key, shown))

    def add_years(self, years: tuple[int | None, int | None], phrase: str) -> None:
        """Record the year range read from a phrase ("years: 1990s, from '90s'")."""
        self.years = low, high = years
        if low is not None and high is not None and (high - low == 9 and low % 10 == 0 or high == low):
            shown = f"{low}s" if high != low else str(low)
        else:
            shown = f"{low if low is not None else '…'}–{high if high is not None else '…'}"
        self.add("years", f"years: {shown}, from '{phrase.strip()}'")

    @property
    def explained(self) -> list[str]:
        """What was understood, one line per reading (``"genre: Science Fiction, from 'sci-fi'"``)."""
        return [reading.shown for reading in self.readings]


def _as_typed(text: str, query: str) -> str:
    """The words of ``text`` (read from ``query``, lowercased) as the query wrote them, for the translator.

    The whole query when nothing was read out of it (its punctuation and capitals help the translation:
    "Tokio", sentence ends); otherwise each word in its typed case ("chicago" → "Chicago").
    """
    if text == _plain(query):
        return " ".join(query.split())
    typed = {word.lower(): word for word in re.findall(r"[\w'-]+", query)}
    return " ".join(typed.get(word, word) for word in text.split())


def english_genre_query(genres: list[str]) -> str:
    """How an English query names one genre or two ("horror", "romantic comedy"); the kind is a filter.

    >>> english_genre_query(["Horror"]), english_genre_query(["Comedy", "Romance"])
    ('horror', 'romantic comedy')
    """
    return genre_pair_phrase(*genres[:2]) if len(genres) > 1 else genres[0].lower()


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
    names : CatalogNames, optional
        The catalog's people, titles, places, ratings and lengths; without it only genres, years and kind
        are read.
    speller : Speller, optional
        Corrects misspelt words against the catalog's vocabulary.
    translator : callable, optional
        Returns the English of a Spanish text (``recsys.translate``); what is left of a Spanish query after
        its readings goes to the encoder through it.
    """

    def __init__(
        self, labels: Iterable[str], kinds: Iterable[str] = (), predictable: Iterable[str] = (),
        names: CatalogNames | None = None, speller: Speller | None = None,
        translator: Callable[[], object] | None = None,
    ):  # fmt: skip
        self.labels_by_genre: dict[str, list[str]] = {}
        labels = sorted(set(labels))
        for label in labels:
            for genre in label_genres(label):
                self.labels_by_genre.setdefault(genre, []).append(label)
        self.kinds = {k for k in kinds if k in KIND_QUERY_WORDS}
        self.predictable = set(predictable)
        self.names = names
        self.speller = speller
        self.translator = translator
        stemmed = [(label, _label_stems(label)) for label in labels]
        self.labels_read = sorted(stemmed, key=lambda item: -len(item[1]))

    def parse(self, query: str, ignore: Iterable[str] = (), language: str = "en") -> Intents:
        """Understand a query; readings whose key is in ``ignore`` are not made (their words stay words).

        ``language`` chooses the lexicon (``recsys.vocabulary.LEXICONS``): "en" or "es". A query that
        describes a plot (``DESCRIPTION_WORDS`` content words or more besides what was read) tells where and
        when its story happens: its places, years, ratings, lengths, excluded words and one-word names are
        then searched as words, not read as filters ("a cop in 80s hong kong who ..."); a kind stays read.

        >>> parser = QueryParser(["Comedy", "Romance", "Horror", "Animation"], ["movie", "series"])
        >>> intents = parser.parse("90s romantic comedy")
        >>> intents.years, sorted(intents.genres), intents.genre_only
        ((1990, 1999), ['Comedy', 'Romance'], True)
        >>> parser.parse("animated series about a lost dog").kind
        'series'
        >>> parser.parse("series about a detective in 80s tokyo who hunts a thief across the city").years
        """
        intents = self._parse(query, frozenset(ignore), language)
        settings = [reading.key for reading in intents.readings if _is_setting(reading)]
        if settings and _content_words(intents.text, LEXICONS[language]) >= DESCRIPTION_WORDS:
            intents = self._parse(query, frozenset(ignore) | set(settings), language)
            intents.notes.append(DESCRIPTION_NOTE)
        return intents

    def _parse(self, query: str, ignore: frozenset[str], language: str) -> Intents:
        intents, lexicon = Intents(), LEXICONS[language]
        words = _plain(query).split()  # accents kept for BM25; names, titles and labels are matched folded
        if self.speller and lexicon is ENGLISH:  # the speller knows English words only
            words = readers.read_spelling(words, self.speller, intents, ignore)
        text = " ".join(words)
        if self.names:  # "like Alien but dramas": the title first, then "dramas" can be a label on its own
            text = readers.read_reference(text, self.names, intents, ignore, lexicon)
        text = self._read_labels(text, intents, ignore, lexicon)
        if self.names:
            text = self._read_names(text, intents, ignore, lexicon)
        text = (
            self._read_years(text, intents, ignore) if lexicon is ENGLISH else read_spanish_years(text, intents, ignore)
        )
        text = self._read_kind(text, intents, ignore, lexicon)
        remaining = text
        for genre, found in _genre_words(text, lexicon).items():
            if f"genre:{genre}" in ignore:
                continue
            if genre in self.labels_by_genre:
                intents.genres[genre] = self.labels_by_genre[genre]
                intents.add(f"genre:{genre}", f"genre: {genre}, from '{found}'")
                remaining = _remove_phrase(remaining, found)
            elif genre in self.predictable:
                intents.predicted.append(genre)
                intents.add(f"genre:{genre}", f"genre: {genre} (predicted from descriptions), from '{found}'")
                remaining = _remove_phrase(remaining, found)
        kind_words = {word for words in lexicon.kinds.values() for word in words}
        generic = kind_words if intents.people or intents.like else set()  # "movies like Alien"
        content = [w for w in remaining.split() if w not in lexicon.stop_words and w not in generic]
        intents.genre_only = bool(intents.genres or intents.predicted) and not content
        if generic:  # "Tom Hanks movies": the kind word is not something to search for either
            text = " ".join(word for word in text.split() if word not in generic)
        text = _without_dangling_joins(text, lexicon)  # "war but" once "not about vietnam" was read
        has_words = any(w not in lexicon.stop_words for w in text.split())
        if has_words:
            intents.text = " ".join(text.split())
        elif not intents.like:
            intents.text = " ".join(intents.corrections.get(w.lower(), w) for w in query.split())
        intents.language = lexicon.language
        if lexicon is not ENGLISH and intents.text:
            self._translate(intents, ignore, query)
        return intents

    def _translate(self, intents: Intents, ignore: frozenset[str], query: str) -> None:
        """Put the English of the query's remaining words in ``intents.text``, for the English-trained encoder.

        A query of genres only is written as an English one would be ("películas de terror" → "horror"),
        so it ranks as the English query does.
        """
        if "translation" in ignore:
            return
        if intents.genre_only and not intents.predicted:
            english = english_genre_query(list(intents.genres))
            intents.add("translation", f"translated: '{english}', from '{intents.text}'")
            intents.source_text, intents.text = intents.text, english
            return
        translator = self.translator() if self.translator else None  # started only when it is needed
        if translator is None:
            intents.notes.append(f"no translation ({INSTALL_HINT}): the encoder reads the words as typed")
            return
        try:
            english = translator.translate(_as_typed(intents.text, query))
        except OSError as err:
            intents.notes.append(f"no translation ({err}): the encoder reads the words as typed")
            return
        if english:
            intents.add("translation", f"translated: '{english}', from '{intents.text}'")
            intents.source_text, intents.text = intents.text, english

    def without_names(self, query: str) -> str:
        """The query without the whole names of the catalog's people in it (to tell its language by)."""
        if self.names is None:
            return query
        words = _plain(query).split()
        kept, start = [], 0
        while start < len(words):
            size = next((n for n in range(min(readers.MAX_NAME_WORDS, len(words) - start), 1, -1)
                         if fold(" ".join(words[start : start + n])) in self.names.people), 0)  # fmt: skip
            kept += [] if size else [words[start]]
            start += size or 1
        return " ".join(kept) or query

    def _read_labels(self, text: str, intents: Intents, ignore: frozenset[str], lexicon: Lexicon) -> str:
        """The catalog's own genre labels, read as they are named.

        A label is read when the query names it word for word ("stand-up comedy", "dramas"), or when it says
        more than a genre and a kind and all its words are in the query ("british tv shows about spies").
        """
        stems = {_stem(strip_accents(word)): word for word in _padded(text).replace("-", " ").split()}
        for label, words in self.labels_read:
            if f"genre:{label}" in ignore or not all(word in stems for word in words):
                continue
            if not _says_more(words) and set(words) != {w for w in stems if w not in lexicon.stop_words}:
                continue
            found = [stems[word] for word in words]
            intents.genres[label] = [label]
            intents.add(f"genre:{label}", f"genre: {label}, from '{' '.join(found)}'")
            text = " ".join(text.replace("-", " ").split())
            for word in found:
                text = _remove_phrase(text, word)
            stems = {_stem(strip_accents(word)): word for word in _padded(text).split()}
        return text

    def _read_names(self, text: str, intents: Intents, ignore: frozenset[str], lexicon: Lexicon) -> str:
        """Excluded genres, people, ratings, lengths, places and excluded words."""
        text = readers.read_negation(text, self.labels_by_genre, intents, ignore, lexicon)
        text = readers.read_people(text, self.names, intents, ignore, lexicon)
        text = readers.read_ratings(text, self.names, intents, ignore, lexicon)
        text = readers.read_lengths(text, self.names, intents, ignore, lexicon)
        text = readers.read_places(text, self.names, intents, ignore, lexicon)
        to_english = None if lexicon is ENGLISH else self._english_word
        return readers.read_excluded_words(text, self.names, intents, ignore, lexicon, to_english)

    def _english_word(self, word: str) -> str:
        """A word's English translation (lowercase, one word), or the word itself without a translator."""
        translator = self.translator() if self.translator else None
        try:
            english = translator.translate(word).lower().split() if translator else []
        except OSError:
            english = []
        return english[-1] if english else word

    def _read_years(self, text: str, intents: Intents, ignore: frozenset[str]) -> str:
        if "years" in ignore:
            return text
        for word, start in ENGLISH.decades.items():
            if _has_phrase(text, word):
                intents.add_years((start, start + 9), word)
                return _remove_phrase(text, word)
        if match := _RANGE.search(text):
            years = tuple(sorted((int(match.group(1)), int(match.group(2)))))
        elif match := _BOUND.search(text):
            year = int(match.group(2))
            before = match.group(1) in ("before", "until", "pre")
            years = (None, year - 1) if before else (year + (match.group(1) == "after"), None)
        elif match := _FULL_DECADE.search(text):
            years = (int(match.group(1)), int(match.group(1)) + 9)
        elif match := _SHORT_DECADE.search(text):
            digit = int(match.group(1))  # '00s and '10s are this century; '20s is read as the 1920s
            decade = 2000 + 10 * digit if digit < 2 else 1900 + 10 * digit
            years = (decade, decade + 9)
        elif (match := _YEAR_PHRASE.search(text)) and match.group(1):
            years = (int(match.group(2)), int(match.group(2)))
        else:
            return text
        intents.add_years(years, match.group(0))
        return text.replace(match.group(0), " ")

    def _read_kind(self, text: str, intents: Intents, ignore: frozenset[str], lexicon: Lexicon = ENGLISH) -> str:
        # "Tom Hanks movies", "movies like Alien": with a person or a title named, "movies" means titles
        if len(self.kinds) < 2 or "kind" in ignore or intents.people or intents.like:
            return text
        for kind, words in lexicon.kinds.items():
            found = next(
                (w for w in sorted(words, key=len, reverse=True) if _has_phrase(text, w) and not _as_verb(text, w)),
                None,
            )
            if found:
                intents.kind = kind
                intents.add("kind", f"kind: {kind}, from '{found}'")
                return _remove_phrase(text, found)
        return text


def _is_setting(reading: Reading) -> bool:
    """Whether a reading can be where or when a described story happens, or a word of it, not a filter asked for."""
    if reading.key.startswith("person:"):  # one word that is also a name ("havana"); full names stay read
        return " " not in reading.shown.rsplit(", from '", 1)[-1].strip("'")
    return reading.key in _SETTINGS or reading.key.startswith("place:") or reading.key.startswith("not:'")


def _content_words(text: str, lexicon: Lexicon) -> int:
    """How many words of a text are not stop words."""
    return sum(word not in lexicon.stop_words for word in text.split())


def _plain(text: str) -> str:
    text = text.lower().replace("’", "'").replace("&", " ")
    return " ".join(re.sub(r"[^\w\s'-]", " ", text).replace("'s ", "s ").split())


def _without_dangling_joins(text: str, lexicon: Lexicon = ENGLISH) -> str:
    """The text without joining words left at its ends when what they joined was read.

    >>> _without_dangling_joins("war but"), _without_dangling_joins("and vampires")
    ('war', 'vampires')
    """
    words = text.split()
    joins = _JOINS | set(lexicon.joining)
    while words and words[-1] in joins:
        words.pop()
    while words and words[0] in joins:
        words.pop(0)
    return " ".join(words)


_JOINS = frozenset({"but", "and", "or", "yet", "though"})


def _stem(word: str) -> str:
    """A word without its plural ending, to compare label and query words ("comedies" → "comedy").

    >>> _stem("comedies"), _stem("shows"), _stem("series"), _stem("kids'")
    ('comedy', 'show', 'sery', 'kid')
    """
    word = word.strip("'")
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


_KIND_WORDS = frozenset(word for words in KIND_QUERY_WORDS.values() for word in words)
_GENERAL_PHRASES = [w for words in (*GENRE_SYNONYMS.values(), *KIND_QUERY_WORDS.values()) for w in words]
_GENERAL_WORDS = frozenset(_stem(part) for phrase in _GENERAL_PHRASES for part in phrase.replace("-", " ").split())


def _label_stems(label: str) -> tuple[str, ...]:
    """The stems of a label's words, "and" left out ("Stand-Up Comedy & Talk Shows" → stand, up, comedy, ...)."""
    words = _padded(_plain(strip_accents(label))).replace("-", " ").split()
    return tuple(dict.fromkeys(_stem(word) for word in words if word != "and"))


def _says_more(stems: tuple[str, ...]) -> bool:
    """Whether a label says more than genres and a kind ("british tv shows", not "horror movies")."""
    return any(stem not in _GENERAL_WORDS for stem in stems)


def _padded(text: str) -> str:
    """The text between spaces, a closing apostrophe dropped ("kids' tv": it is not part of the word)."""
    return f" {text} ".replace("' ", " ")


def _has_phrase(text: str, phrase: str) -> bool:
    # "sci-fi" is one phrase, but "action-adventure" names two genres: try the text with hyphens as spaces too.
    padded = _padded(text)
    return f" {phrase} " in padded or f" {phrase} " in padded.replace("-", " ")


def _genre_words(text: str, lexicon: Lexicon = ENGLISH) -> dict[str, str]:
    """Canonical genre → the word naming it in the text; ambiguous words count only when nothing else does."""
    found = {genre: next((w for w in words if _has_phrase(text, w)), None) for genre, words in lexicon.genres.items()}
    found = {genre: word for genre, word in found.items() if word}
    others = text
    for word in found.values():
        if word not in lexicon.ambiguous_genre_words:
            others = _remove_phrase(others, word)
    if any(w not in lexicon.stop_words and w not in lexicon.ambiguous_genre_words for w in others.split()):
        found = {genre: word for genre, word in found.items() if word not in lexicon.ambiguous_genre_words}
    return found


def _as_verb(text: str, phrase: str) -> bool:
    """Whether each use of a kind word follows a subject, a modal or "to": a verb ("who must show them").

    >>> _as_verb("a magician who must show the world", "show"), _as_verb("a cooking show to watch", "show")
    (True, False)
    """
    words = _padded(text).split()
    size = len(phrase.split())
    uses = [n for n in range(len(words) - size + 1) if " ".join(words[n : n + size]) == phrase]
    return bool(uses) and all(n > 0 and words[n - 1] in VERB_CUES for n in uses)


def _remove_phrase(text: str, phrase: str) -> str:
    return " ".join(_padded(text).replace(f" {phrase} ", " ").split())
