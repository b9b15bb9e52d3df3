"""The language of a query: English or Spanish, detected offline by ``lingua`` (or given by the user).

A query is read as Spanish when lingua leans that way (``SPANISH_LEANING``; more for a single word, which
must also be rare in English: "comedias", not "terror") and more of its words are clearly Spanish than
clearly English by ``wordfreq``'s frequencies in each language; on a tie, more of them must be words of the
Spanish lexicon than of the English one ("western de terror"). Misspelt English ("hrror movies") and
English queries read as they always have.
"""

from __future__ import annotations

import re
from functools import cache

from bm25s.stopwords import STOPWORDS_EN
from lingua import Language, LanguageDetectorBuilder
from wordfreq import zipf_frequency

from recsys.text import strip_accents
from recsys.vocabulary import LEXICONS

LANGUAGES = ("en", "es")  # what query understanding has a lexicon for (recsys.vocabulary.LEXICONS)
SPANISH_LEANING = 0.3
WORD_MARGIN = 1.0  # a word is clearly of one language when wordfreq's Zipf frequency there is higher by this
SINGLE_WORD_LEANING = 0.5
ENGLISH_WORD = 3.0  # a single word this common in English (wordfreq Zipf) is read as English


@cache
def _detector():
    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH).build()


def detect(query: str) -> str:
    """The language of a query: "es" when it is Spanish, else "en".

    >>> detect("películas de terror"), detect("haunted house horror"), detect("terror"), detect("hrror movies")
    ('es', 'en', 'en', 'en')
    """
    words = re.findall(r"[\w'-]+", strip_accents(query.lower()))
    typed = re.findall(r"[\w'-]+", query.lower())
    if not words or len(words) == 1 and zipf_frequency(words[0], "en") >= ENGLISH_WORD:  # "terror", "drama"
        return "en"
    confidence = _detector().compute_language_confidence(query, Language.SPANISH)
    if confidence < (SPANISH_LEANING if len(words) > 1 else SINGLE_WORD_LEANING):
        return "en"
    spanish = sum(zipf_frequency(word, "es") > zipf_frequency(word, "en") + WORD_MARGIN for word in typed)
    english = sum(zipf_frequency(word, "en") > zipf_frequency(word, "es") + WORD_MARGIN for word in typed)
    if spanish == english:  # "western de terror": the words of each lexicon decide
        spanish, english = (sum(word in _lexicon_words(language) for word in words) for language in ("es", "en"))
    return "es" if spanish > english else "en"


@cache
def _lexicon_words(language: str) -> frozenset[str]:
    """Every word of a lexicon's phrases (and, for English, its common stop words), without accents."""
    lexicon = LEXICONS[language]
    phrases = [*lexicon.stop_words, *lexicon.negation, *lexicon.reference, *lexicon.joining, *lexicon.director,
               *lexicon.cast, *lexicon.places, *lexicon.maturity, *lexicon.decades]  # fmt: skip
    phrases += [phrase for words in (*lexicon.genres.values(), *lexicon.kinds.values()) for phrase in words]
    words = {word for phrase in phrases for word in strip_accents(phrase).replace("-", " ").split()}
    return frozenset(words | (set(STOPWORDS_EN) if language == "en" else set()))


def query_language(query: str, language: str | None) -> str:
    """The language to read a query in: the one given ("en", "es"), or the detected one for None or "auto".

    Raises
    ------
    ValueError
        For a language there is no lexicon for.
    """
    if language in (None, "auto"):
        return detect(query)
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; choose one of {', '.join(LANGUAGES)} or 'auto'")
    return language
