"""The language of a query: English or Spanish, detected offline by ``lingua`` (or given by the user).

A query is read as Spanish when lingua is confident (``SPANISH_CONFIDENCE``, more for a single word:
"terror", "drama" and "anime" are words of both languages), or when lingua leans no less than
``SPANISH_LEANING`` that way and more of the query's words are words of the Spanish lexicon than of the
English one ("western de terror", "dramas sin terror"); a single word must also be rare in English
("comedias", not "terror"). English queries read as they always have.
"""

from __future__ import annotations

from functools import cache

from bm25s.stopwords import STOPWORDS_EN
from lingua import Language, LanguageDetectorBuilder
from wordfreq import zipf_frequency

from recsys.text import strip_accents
from recsys.vocabulary import LEXICONS

LANGUAGES = ("en", "es")  # what query understanding has a lexicon for (recsys.vocabulary.LEXICONS)
SPANISH_CONFIDENCE = 0.7
SINGLE_WORD_CONFIDENCE = 0.9
SPANISH_LEANING = 0.3
SINGLE_WORD_LEANING = 0.5
ENGLISH_WORD = 3.0  # a single word this common in English (wordfreq Zipf) is read as English


@cache
def _detector():
    return LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.SPANISH).build()


def detect(query: str) -> str:
    """The language of a query: "es" when it is confidently Spanish, else "en".

    >>> detect("películas de terror"), detect("haunted house horror"), detect("terror")
    ('es', 'en', 'en')
    """
    confidence = _detector().compute_language_confidence(query, Language.SPANISH)
    words = strip_accents(query.lower()).split()
    needed = SINGLE_WORD_CONFIDENCE if len(words) < 2 else SPANISH_CONFIDENCE
    if confidence >= needed:
        return "es"
    spanish, english = (sum(word in _lexicon_words(language) for word in words) for language in ("es", "en"))
    if len(words) == 1 and zipf_frequency(words[0], "en") >= ENGLISH_WORD:  # "terror", "drama": English too
        return "en"
    leaning = SPANISH_LEANING if len(words) > 1 else SINGLE_WORD_LEANING
    return "es" if confidence >= leaning and spanish > english else "en"


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
