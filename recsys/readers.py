"""Readers of what a query names in its catalog: spelling, titles, negation, people, places, ratings, lengths.

Each reader takes the query text as plain lowercase words (punctuation gone, accents kept; names, titles
and places are compared folded by ``recsys.text.fold``), records what it understood on an
:class:`~recsys.query.Intents` as a :class:`~recsys.query.Reading` the user can drop (its key is in
``ignore``: the words then stay plain words), and returns the text without the words it read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import NamedTuple

from recsys.references import CatalogNames
from recsys.spelling import Speller
from recsys.text import fold
from recsys.vocabulary import ENGLISH, LEXICONS, Lexicon

MAX_NAME_WORDS = 4
_RATING = re.compile(
    r"\b(?:rated\s+)?(pg[- ]13|nc[- ]17|tv[- ]ma|tv[- ]14|tv[- ]pg|tv[- ]g|tv[- ]y7|tv[- ]y|pg|\d{1,2} plus)"
    r"(?:[- ]rated)?(?![\w-])"
)
_LETTER_RATING = re.compile(r"\b(?:rated\s+(g|r)|(g|r)[- ]rated)(?![\w-])")
SHORT_MINUTES, LONG_MINUTES = 90, 150
# Words that may stand between a negation and what it excludes ("not about war", "sin nada de romance")
NEGATION_FILLERS = ("any", "about", "too", "very", "so", "a", "an", "the", "with", "involving", "de", "nada de",
                    "tanto", "mucho", "muy", "el", "la", "los", "las", "un", "una", "sobre")  # fmt: skip


def read_spelling(words: list[str], speller: Speller, intents, ignore: frozenset[str]) -> list[str]:
    """Correct unknown words; each correction is a reading ("spelling: horror, from 'horor'")."""
    corrected = []
    for word in words:
        fixed = speller.correct(fold(word)) if fold(word) == word else None
        if fixed and f"spelling:{word}" not in ignore:
            intents.add(f"spelling:{word}", f"spelling: {fixed}, from '{word}'")
            intents.corrections[word] = fixed
            word = fixed
        corrected.append(word)
    return corrected


def read_reference(text: str, names: CatalogNames, intents, ignore: frozenset[str], lexicon: Lexicon = ENGLISH) -> str:
    """Titles the query refers to ("like Alien", "similar to Inception"): they join the query, not the results."""
    for phrase in (phrase for phrase in lexicon.reference if _has(text, phrase)):
        for match in re.finditer(rf"(?<![\w-]){phrase} (.+)$", text):
            found = names.title(match.group(1).split())
            if not found:
                continue
            row, size = found
            movie_id, title = names.catalog.records[row][:2]
            if f"like:{movie_id}" in ignore:
                continue
            intents.add(f"like:{movie_id}", f"like: {title}, from '{phrase} {' '.join(match.group(1).split()[:size])}'")
            intents.like.append(row)
            used = f"{phrase} {' '.join(match.group(1).split()[:size])}"
            joined = next((f"{used} {word}" for word in lexicon.joining if _has(text, f"{used} {word}")), used)
            return read_reference(_cut(text, joined), names, intents, ignore, lexicon)
    return text


def read_negation(
    text: str, labels_by_genre: dict[str, list[str]], intents, ignore: frozenset[str], lexicon: Lexicon = ENGLISH
) -> str:
    """Genres the query excludes ("not horror", "without romance", "no anime"): a filter."""
    for negation in (word for word in lexicon.negation if _has(text, word)):
        for genre, words in lexicon.genres.items():
            if genre not in labels_by_genre:
                continue
            for word in words:
                phrases = [f"{negation} {word}", *(f"{negation} {filler} {word}" for filler in NEGATION_FILLERS)]
                phrase = next((p for p in phrases if _has(text, p)), None)
                if phrase and f"not:{genre}" not in ignore:
                    intents.add(f"not:{genre}", f"not: {genre}, from '{phrase}'")
                    intents.excluded[genre] = labels_by_genre[genre]
                    text = _cut(text, phrase)
    return text


def read_excluded_words(
    text: str, names: CatalogNames, intents, ignore: frozenset[str], lexicon: Lexicon = ENGLISH,
    to_english: Callable[[str], str] | None = None,
) -> str:  # fmt: skip
    """Other things the query excludes ("horror without vampires"): titles whose text uses the word are left out.

    Read last, so that "no more than 90 minutes" was a length first; only content words the catalog's texts
    use (rare enough in English to name something) are read. ``to_english`` translates a word of another
    language first ("sin vampiros" leaves out the titles using "vampires").
    """
    words = text.split()
    for position, negation in enumerate(words[:-1]):
        filler = words[position + 1] in NEGATION_FILLERS and position + 2 < len(words)
        phrase = " ".join(words[position : position + 2 + filler])
        word = phrase.split()[-1]
        if negation in lexicon.negation and to_english is not None:
            word = to_english(word)
        if negation not in lexicon.negation or not names.excludable(word) or f"not:{word}" in ignore:
            continue
        intents.add(f"not:{word}", f"not: '{word}', from '{phrase}'")
        intents.filters.append(~names.rows_using(word))
        text = _cut(text, phrase)
    return text


def read_people(text: str, names: CatalogNames, intents, ignore: frozenset[str], lexicon: Lexicon = ENGLISH) -> str:
    """People the query names, with their role when a phrase gives it ("directed by X", "starring Y")."""
    words = text.split()
    start = 0
    while start < len(words):
        role, cue = _role(words[:start], lexicon)
        for size in range(min(MAX_NAME_WORDS, len(words) - start), 0, -1):
            phrase = " ".join(words[start : start + size])
            person = names.person(phrase, role)
            if person is None or f"person:{person.name}" in ignore:
                continue
            rows = person.rows(role)
            if not len(rows):
                continue
            shown = {"director": "director", "cast": "cast"}.get(role, "person")
            intents.add(f"person:{person.name}", f"{shown}: {person.name}, from '{phrase}'")
            intents.people[person.name] = rows
            del words[start - len(cue.split()) if cue else start : start + size]
            start -= len(cue.split()) if cue else 0
            break
        else:
            start += 1
    return " ".join(words)


def _role(before: list[str], lexicon: Lexicon) -> tuple[str | None, str]:
    """The role a phrase just before a name gives it, and that phrase."""
    tail = " ".join(before[-3:])
    for role, phrases in (("director", lexicon.director), ("cast", lexicon.cast)):
        for phrase in phrases:
            if tail == phrase or tail.endswith(f" {phrase}"):
                return role, phrase
    return None, ""


def read_places(text: str, names: CatalogNames, intents, ignore: frozenset[str], lexicon: Lexicon = ENGLISH) -> str:
    """Countries and languages ("Korean drama", "French films", "Bollywood", "from Japan"): a filter."""
    words = sorted(set(lexicon.places) | set(names.countries) | set(names.languages), key=len, reverse=True)
    for word in words:
        if not _has(text, word):
            continue
        country, language = names.place(word, lexicon.places)
        if not (country or language) or f"place:{word}" in ignore:
            continue
        shown = " / ".join(filter(None, [country and f"country: {country}", language and f"language: {language}"]))
        intents.add(f"place:{word}", f"{shown}, from '{word}'")
        intents.filters.append(names.place_rows(country, language))
        if not any(word in words for words in lexicon.genres.values()):  # "anime": the genre reader reads it too
            text = _cut(text, word)
    return text


def read_ratings(text: str, names: CatalogNames, intents, ignore: frozenset[str], lexicon: Lexicon = ENGLISH) -> str:
    """Maturity ratings ("for kids", "family friendly", "R-rated", "PG-13"): a filter, where the catalog has them."""
    if not names.ratings:
        return text
    for phrase, ratings in sorted(lexicon.maturity.items(), key=lambda item: -len(item[0])):
        if _has(text, phrase) and "rating" not in ignore:
            return _rated(text, phrase, ratings & names.ratings, names, intents)
    match = _RATING.search(text) or _LETTER_RATING.search(text)
    if match and "rating" not in ignore:
        code = next(group for group in match.groups() if group).upper().replace(" PLUS", "+").replace(" ", "-")
        return _rated(text, match.group(0), {code} & names.ratings, names, intents)
    return text


def _rated(text: str, phrase: str, ratings: set[str], names: CatalogNames, intents) -> str:
    intents.add("rating", f"rating: {', '.join(sorted(ratings)) or 'none in this catalog'}, from '{phrase}'")
    intents.filters.append(names.rating_rows(ratings))
    return _cut(text, phrase)


def read_lengths(text: str, names: CatalogNames, intents, ignore: frozenset[str], lexicon: Lexicon = ENGLISH) -> str:
    """Runtimes ("under 90 minutes", "over two hours", "short", "like X but shorter") and seasons ("miniseries")."""
    patterns = _length_patterns(lexicon.language)
    if names.has_seasons and "seasons" not in ignore:
        for pattern, bounds, shown in ((patterns.few_seasons, (None, 1), "1 season"),
                                       (patterns.many_seasons, (3, None), "3+ seasons")):  # fmt: skip
            if match := pattern.search(text):
                intents.add("seasons", f"length: {shown}, from '{match.group(0)}'")
                intents.filters.append(names.length_rows("seasons", *bounds))
                kind_words = lexicon.kinds.get("series", ())  # "miniseries" also says the kind: keep it for that
                return text if any(word in match.group(0) for word in kind_words) else _cut(text, match.group(0))
    if not names.has_runtime or "runtime" in ignore:
        return text
    words, plain = lexicon.lengths, _without_idioms(text, lexicon.lengths.idioms)
    match = patterns.relative.search(plain) if intents.like else None  # "like The Irishman but shorter"
    referenced = names.catalog.frame["runtime"].iloc[intents.like].dropna().tolist() if match else []  # series: none
    if match and referenced:
        shorter = match.group(1) is not None
        bounds = (None, min(referenced) - 1) if shorter else (max(referenced) + 1, None)
        shown = f"{'at most' if shorter else 'at least'} {bounds[1] if shorter else bounds[0]} minutes"
    elif match := patterns.bound.search(plain):
        bound, amount, unit, half = match.groups()
        amount = words.numbers.get(amount) or float(amount)
        minutes = (amount + 0.5 * bool(half)) * (60 if unit in words.hours else 1)
        upper = bound in words.under
        bounds = (None, minutes) if upper else (minutes, None)
        shown = f"{'at most' if upper else 'at least'} {minutes:g} minutes"
    elif match := patterns.short.search(plain):
        bounds, shown = (None, SHORT_MINUTES), f"at most {SHORT_MINUTES} minutes"
    elif match := patterns.long.search(plain):
        bounds, shown = (LONG_MINUTES, None), f"at least {LONG_MINUTES} minutes"
    else:
        return text
    intents.add("runtime", f"runtime: {shown}, from '{match.group(0)}'")
    intents.filters.append(names.length_rows("runtime", *bounds) | ~names.length_rows("runtime", None, None))
    return " ".join((text[: match.start()] + text[match.end() :]).split())


class _LengthPatterns(NamedTuple):
    bound: re.Pattern  # groups: the bound phrase, the amount, the unit, "and a half"
    short: re.Pattern
    long: re.Pattern
    relative: re.Pattern  # group 1: shorter; group 2: longer
    few_seasons: re.Pattern
    many_seasons: re.Pattern


@functools.cache
def _length_patterns(language: str) -> _LengthPatterns:
    """One language's length phrases as patterns over the query text the readers take."""
    words = LEXICONS[language].lengths

    def any_of(phrases) -> str:
        return "|".join(map(re.escape, sorted(phrases, key=len, reverse=True)))

    def standing(phrases) -> re.Pattern:
        return re.compile(rf"(?<![\w-])(?:{any_of(phrases)})(?![\w-])")

    amount = rf"{any_of(words.numbers)}|\d+"
    after = rf"(?:\s+(?:{any_of(words.after)}))?" if words.after else ""
    bound = re.compile(
        rf"(?<![\w-])({any_of(words.under + words.over)})\s+({amount})\s*({any_of(words.minutes + words.hours)})"
        rf"(?:\s+({any_of(words.half)}))?{after}(?![\w-])"
    )
    relative = re.compile(rf"(?<![\w-])(?:({any_of(words.shorter)})|({any_of(words.longer)}))(?![\w-])")
    return _LengthPatterns(bound, standing(words.short), standing(words.long), relative,
                           standing(words.few_seasons), standing(words.many_seasons))  # fmt: skip


def _without_idioms(text: str, idioms: tuple[str, ...]) -> str:
    """The text with each idiom's letters blanked ("a lo largo de" is no length), positions kept."""
    for idiom in idioms:
        text = re.sub(rf"(?<![\w-]){re.escape(idiom)}(?![\w-])", lambda found: "_" * len(found.group(0)), text)
    return text


def _has(text: str, phrase: str) -> bool:
    """Whether the phrase stands in the text as whole words (texts here are words separated by single spaces)."""
    return f" {phrase} " in f" {text} "


def _cut(text: str, phrase: str) -> str:
    """The text without the first place the phrase stands as whole words."""
    return " ".join(f" {text} ".replace(f" {phrase} ", " ", 1).split())
