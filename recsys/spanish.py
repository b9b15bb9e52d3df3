"""Years and decades as Spanish queries write them: "años 90", "de los ochenta", "antes de 1970", "entre 1990 y 1995".

The other Spanish words (genres, kinds, negation, people, places, ratings) are in the Spanish lexicon
(``recsys.vocabulary.SPANISH``) and read by the same readers as English ones.
"""

from __future__ import annotations

import re

from recsys.vocabulary import SPANISH

_YEAR = r"(1[89]\d\d|20\d\d)"
_DECADE_WORDS = "|".join(sorted(map(re.escape, SPANISH.decades), key=len, reverse=True))
_DECADE_PREFIX = r"(?:(?:de )?la década de (?:los )?|década de (?:los )?|(?:de )?los años |(?:de )?los |años )"
_WORD_DECADE = re.compile(rf"(?<![\w-]){_DECADE_PREFIX}?({_DECADE_WORDS})(?![\w-])")
_SHORT_DECADE = re.compile(rf"(?<![\w-]){_DECADE_PREFIX}'?(\d)0s?(?![\w-])")
_FULL_DECADE = re.compile(rf"(?<![\w-]){_DECADE_PREFIX}(1[89]\d0|20[0-2]0)s?(?![\w-])")
_RANGE = re.compile(
    rf"(?<![\w-])(?:entre(?: el| los años)?|de|desde(?: el)?) {_YEAR} (?:y|a|al|hasta)(?: el)? {_YEAR}\b"
)
_BOUNDS = (
    (re.compile(rf"(?<![\w-])(?:antes del?|anteriores a|anterior a|previas a|previos a|previa a|previo a) {_YEAR}\b"),
     lambda year: (None, year - 1)),
    (re.compile(rf"(?<![\w-])(?:despu[eé]s del?|posteriores a|posterior a|tras(?: el)?) {_YEAR}\b"),
     lambda year: (year + 1, None)),
    (re.compile(rf"(?<![\w-])(?:desde(?: el)?|a partir del?) {_YEAR}\b"), lambda year: (year, None)),
    (re.compile(rf"(?<![\w-])hasta(?: el)? {_YEAR}\b"), lambda year: (None, year)),
)  # fmt: skip
_IN_YEAR = re.compile(rf"(?<![\w-])(?:en(?: el)?|del|de|año) {_YEAR}\b")


def read_spanish_years(text: str, intents, ignore: frozenset[str]) -> str:
    """Read a year range from a Spanish query into ``intents.years``; return the text without its phrase.

    >>> from recsys.query import Intents
    >>> for query in ["comedia de los años 90", "terror ochentero", "antes de 1970", "entre 1990 y 1995"]:
    ...     intents = Intents()
    ...     _ = read_spanish_years(query, intents, frozenset())
    ...     print(intents.years)
    (1990, 1999)
    (1980, 1989)
    (None, 1969)
    (1990, 1995)
    """
    if "years" in ignore:
        return text
    if match := _RANGE.search(text):
        years = tuple(sorted((int(match.group(1)), int(match.group(2)))))
    elif bound := next(((match, span) for pattern, span in _BOUNDS if (match := pattern.search(text))), None):
        match, span = bound
        years = span(int(match.group(1)))
    elif match := _WORD_DECADE.search(text):
        start = SPANISH.decades[match.group(1)]
        years = (start, start + 9)
    elif match := _FULL_DECADE.search(text):
        years = (int(match.group(1)), int(match.group(1)) + 9)
    elif match := _SHORT_DECADE.search(text):
        digit = int(match.group(1))  # los 00 y los 10 son de este siglo; "años 20" son los de 1920
        start = 2000 + 10 * digit if digit < 2 else 1900 + 10 * digit
        years = (start, start + 9)
    elif match := _IN_YEAR.search(text):
        years = (int(match.group(1)), int(match.group(1)))
    else:
        return text
    intents.add_years(years, match.group(0))
    return " ".join(text.replace(match.group(0), " ", 1).split())
