"""Typo correction of query words against a catalog's own vocabulary.

A word is corrected only when it is unknown: not in the catalog's vocabulary (its titles, descriptions,
keywords, genres and people's names) and not an English word ``wordfreq`` lists at a Zipf frequency of 1.5
or more (misspellings common on the web are listed below that; 2 for a word one edit from a genre). It is
corrected to the closest vocabulary word by optimal string alignment (an adjacent swap is one edit) as
``rapidfuzz`` computes it: within one edit for words of up to five letters, two up to nine and three for
longer ones. The words of genres, kinds, places and the catalog's labels count as one edit closer than they
are when they are at most two away (a query names a genre more often than anything else). Then the word more
titles use wins. Known words, titles and names are never changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rapidfuzz import process
from rapidfuzz.distance import OSA
from wordfreq import zipf_frequency

from recsys.references import CatalogNames
from recsys.text import fold
from recsys.vocabulary import GENRE_SYNONYMS, KIND_QUERY_WORDS, PLACE_WORDS

MIN_LENGTH = 4  # shorter words are left alone: too many real words lie one edit away
ENGLISH_WORD = 1.5  # Zipf frequency from which wordfreq's words count as known
ENGLISH_WORD_NEAR_GENRE = 2.0  # ... for a word one edit from a genre, kind, place or label word


class Speller:
    """Corrects unknown query words to the closest word of a vocabulary.

    Parameters
    ----------
    counts : mapping of str to int
        The catalog's words and how many titles use each (lowercase).
    preferred : iterable of str
        Words that win ties (the genre vocabulary).
    language : str
        The ``wordfreq`` language whose listed words count as known.
    """

    def __init__(self, counts: Mapping[str, int], preferred: Iterable[str] = (), language: str = "en"):
        self.counts = dict(counts)
        self.preferred = {word for word in preferred if " " not in word}
        self.choices = sorted(set(self.counts) | self.preferred)
        self.language = language

    def known(self, word: str) -> bool:
        """Whether a word is in the vocabulary or is an English word (then it is never corrected).

        A word one edit from a preferred word must be more common to count as English: "crie" is "crime".
        """
        if word in self.counts or word in self.preferred:
            return True
        near = process.extractOne(word, self.preferred, scorer=OSA.distance, score_cutoff=1) is not None
        return zipf_frequency(word, self.language) >= (ENGLISH_WORD_NEAR_GENRE if near else ENGLISH_WORD)

    def correct(self, word: str) -> str | None:
        """The correction of an unknown word, or None when it is known or nothing is close enough.

        >>> Speller({"horror": 40, "honor": 3, "comedy": 50}, ["horror"]).correct("horor")
        'horror'
        """
        if len(word) < MIN_LENGTH or not word.isalpha() or self.known(word):
            return None
        edits = 1 if len(word) <= 5 else 2 if len(word) <= 9 else 3
        found = process.extract(word, self.choices, scorer=OSA.distance, score_cutoff=edits + 1, limit=50)
        found = [(choice, distance - (choice in self.preferred and distance <= 2)) for choice, distance, _ in found]
        found = [(choice, distance) for choice, distance in found if distance <= edits]
        if not found:
            return None
        return min(found, key=lambda hit: (hit[1], hit[0] not in self.preferred, -self.counts.get(hit[0], 0)))[0]


def spelling_vocabulary(document_frequency: Mapping[str, int], names: CatalogNames) -> dict[str, int]:
    """The words a catalog knows, folded, with how many titles use each: its texts' words and people's names."""
    counts: dict[str, int] = {}
    for word, count in document_frequency.items():
        for part in fold(word).split():
            counts[part] = counts.get(part, 0) + count
    for part, count in names.name_parts().items():
        counts[part] = counts.get(part, 0) + count
    return counts


def preferred_words(labels: Iterable[str] = ()) -> set[str]:
    """The words of genres, kinds, places and the catalog's genre labels: what queries name most."""
    phrases = [*PLACE_WORDS, *(w for words in (*GENRE_SYNONYMS.values(), *KIND_QUERY_WORDS.values()) for w in words)]
    phrases += list(labels)
    return {word for phrase in phrases for word in fold(phrase).split()}
