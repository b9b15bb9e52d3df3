"""Typo correction of query words against a catalog's own vocabulary.

A word is corrected only when it is unknown: not in the catalog's vocabulary (its titles, descriptions,
keywords, genres and people's names) and not an English word listed by ``wordfreq``. It is corrected to
the closest vocabulary word within one edit (words of four or five letters) or two (longer words), by
optimal string alignment (an adjacent swap is one edit) as ``rapidfuzz`` computes it; among equally close
words the genre vocabulary wins, then the word more titles use. Known words, titles and names are never
changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rapidfuzz import process
from rapidfuzz.distance import OSA
from wordfreq import zipf_frequency

from recsys.references import CatalogNames, fold
from recsys.vocabulary import GENRE_SYNONYMS, KIND_QUERY_WORDS, PLACE_WORDS

MIN_LENGTH = 4  # shorter words are left alone: too many real words lie one edit away


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
        """Whether a word is in the vocabulary or is an English word (then it is never corrected)."""
        return word in self.counts or word in self.preferred or zipf_frequency(word, self.language) > 0

    def correct(self, word: str) -> str | None:
        """The correction of an unknown word, or None when it is known or nothing is close enough.

        >>> Speller({"horror": 40, "honor": 3, "comedy": 50}, ["horror"]).correct("horor")
        'horror'
        """
        if len(word) < MIN_LENGTH or not word.isalpha() or self.known(word):
            return None
        edits = 1 if len(word) <= 5 else 2
        found = process.extract(word, self.choices, scorer=OSA.distance, score_cutoff=edits, limit=20)
        if not found:
            return None
        best = min(found, key=lambda hit: (hit[1], hit[0] not in self.preferred, -self.counts.get(hit[0], 0)))
        return best[0]


def spelling_vocabulary(document_frequency: Mapping[str, int], names: CatalogNames) -> dict[str, int]:
    """The words a catalog knows, folded, with how many titles use each: its texts' words and people's names."""
    counts: dict[str, int] = {}
    for word, count in document_frequency.items():
        for part in fold(word).split():
            counts[part] = counts.get(part, 0) + count
    for part, count in names.name_parts().items():
        counts[part] = counts.get(part, 0) + count
    return counts


def preferred_words() -> set[str]:
    """The words of genres, kinds and places: a query's words are these more often than not."""
    phrases = [*PLACE_WORDS, *(w for words in (*GENRE_SYNONYMS.values(), *KIND_QUERY_WORDS.values()) for w in words)]
    return {word for phrase in phrases for word in fold(phrase).split()}
