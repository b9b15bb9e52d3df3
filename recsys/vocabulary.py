"""The words recsys knows before it sees a catalog: genres and their synonyms, kinds, stop words.

One place for every fixed word list, each under a name that says what it is for. Query understanding
(``recsys.query``), training (``recsys.pseudoqueries``), catalog loading (``recsys.catalog``) and
explanations (``recsys.words``) read them from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bm25s.stopwords import STOPWORDS_EN

from recsys.text import strip_accents

# Canonical genres and the words that name them in queries and in catalogs' genre labels.
GENRE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "Action": ("action",),
    "Adventure": ("adventure", "adventures"),
    "Animation": ("animation", "animated", "cartoon", "cartoons", "anime"),
    "Comedy": ("comedy", "comedies", "comedic", "funny", "humor", "humour", "sitcom", "sitcoms", "stand-up", "rom-com"),
    "Crime": ("crime", "crimes", "gangster", "gangsters", "police", "cop"),
    "Documentary": ("documentary", "documentaries", "docuseries", "docudrama"),
    "Drama": ("drama", "dramas", "dramatic"),
    "Family": ("family", "kids", "kid", "children", "childrens", "child"),
    "Fantasy": ("fantasy", "fantasies"),
    "History": ("history", "historical", "period"),
    "Horror": ("horror", "scary"),
    "Music": ("music", "musical", "musicals", "concert"),
    "Mystery": ("mystery", "mysteries", "whodunit", "whodunnit"),
    "Romance": ("romance", "romantic", "romances", "love story", "rom-com"),
    "Science Fiction": ("sci-fi", "scifi", "sci fi", "science fiction", "science-fiction"),
    "Thriller": ("thriller", "thrillers", "suspense"),
    "War": ("war", "wartime"),
    "Western": ("western", "westerns", "cowboy", "cowboys"),
    "Sport": ("sport", "sports"),
    "Reality": ("reality",),
}
# How a genre reads as an adjective in a generated query ("romantic comedy", "animated series").
GENRE_ADJECTIVES = {"Romance": "romantic", "Animation": "animated", "Science Fiction": "sci-fi"}
# Genre words that are also everyday nouns ("a mafia family saga", "a period of grief"): read as genres only
# when the query names nothing else.
AMBIGUOUS_GENRE_WORDS = frozenset({"family", "period"})

# The words a query names a kind with ("animated series", "a film about ...").
KIND_QUERY_WORDS = {
    "series": ("series", "tv series", "tv show", "tv shows", "show", "shows", "miniseries", "tv"),
    "movie": ("movie", "movies", "film", "films", "feature", "features"),
}
# Words after which an English kind word is a verb ("she films her family", "who must show the world").
VERB_CUES = frozenset({"to", "must", "can", "could", "will", "would", "should", "might", "may", "he", "she",
                       "it", "they", "we", "i", "you", "who", "also", "never", "finally"})  # fmt: skip
# The labels catalogs give kinds (compared lowercased, letters only), and the kind each one is.
KIND_LABELS = {
    "movie": "movie",
    "film": "movie",
    "feature": "movie",
    "tvmovie": "movie",
    "series": "series",
    "tvshow": "series",
    "tvseries": "series",
    "show": "series",
    "tv": "series",
    "tvminiseries": "series",
    "miniseries": "series",
}

# Words that carry no request in a query ("I want something like ..."): a query of only these and genres
# is a genre-only query.
QUERY_STOP_WORDS = frozenset(
    "a an the of about for with and or in on from to at by some any me i want watch like".split()  # noqa: SIM905
    + "good best great top new old something that this".split()  # noqa: SIM905
)
# Words whose final encoder states mostly gather a sentence's context (Lucene's 33 English stop words, as
# bm25s ships them; NLTK's 179 measured less faithful on Netflix). Explanations pass their shares on.
CARRIER_STOP_WORDS = frozenset(STOPWORDS_EN)

# How queries name a country's or a language's titles ("Korean drama", "French films", "Bollywood"):
# word → (country as catalogs write it, original language). A reading is offered only for the countries
# and languages a catalog has.
PLACE_WORDS: dict[str, tuple[str, str]] = {
    "american": ("United States", "English"), "hollywood": ("United States", "English"),
    "british": ("United Kingdom", "English"), "english": ("United Kingdom", "English"),
    "irish": ("Ireland", "English"), "scottish": ("United Kingdom", "English"),
    "canadian": ("Canada", "English"), "australian": ("Australia", "English"),
    "french": ("France", "French"), "german": ("Germany", "German"), "italian": ("Italy", "Italian"),
    "spanish": ("Spain", "Spanish"), "mexican": ("Mexico", "Spanish"), "argentinian": ("Argentina", "Spanish"),
    "argentine": ("Argentina", "Spanish"), "colombian": ("Colombia", "Spanish"), "chilean": ("Chile", "Spanish"),
    "brazilian": ("Brazil", "Portuguese"), "portuguese": ("Portugal", "Portuguese"),
    "japanese": ("Japan", "Japanese"), "korean": ("South Korea", "Korean"), "k-drama": ("South Korea", "Korean"),
    "kdrama": ("South Korea", "Korean"), "chinese": ("China", "Mandarin"), "taiwanese": ("Taiwan", "Mandarin"),
    "hong kong": ("Hong Kong", "Cantonese"), "indian": ("India", "Hindi"), "bollywood": ("India", "Hindi"),
    "hindi": ("India", "Hindi"), "tamil": ("India", "Tamil"), "telugu": ("India", "Telugu"),
    "anime": ("Japan", "Japanese"),
    "pakistani": ("Pakistan", "Urdu"), "thai": ("Thailand", "Thai"), "indonesian": ("Indonesia", "Indonesian"),
    "filipino": ("Philippines", "Filipino"), "vietnamese": ("Vietnam", "Vietnamese"),
    "turkish": ("Turkey", "Turkish"), "egyptian": ("Egypt", "Arabic"), "arabic": ("Saudi Arabia", "Arabic"),
    "iranian": ("Iran", "Persian"), "persian": ("Iran", "Persian"), "israeli": ("Israel", "Hebrew"),
    "nigerian": ("Nigeria", "English"), "nollywood": ("Nigeria", "English"),
    "south african": ("South Africa", "English"), "russian": ("Russia", "Russian"),
    "soviet": ("Soviet Union", "Russian"),
    "polish": ("Poland", "Polish"), "swedish": ("Sweden", "Swedish"), "danish": ("Denmark", "Danish"),
    "norwegian": ("Norway", "Norwegian"), "finnish": ("Finland", "Finnish"), "icelandic": ("Iceland", "Icelandic"),
    "dutch": ("Netherlands", "Dutch"), "belgian": ("Belgium", "French"), "greek": ("Greece", "Greek"),
    "hungarian": ("Hungary", "Hungarian"), "czech": ("Czech Republic", "Czech"), "romanian": ("Romania", "Romanian"),
}  # fmt: skip
# Other names catalogs give the same country ("USA", "South Korea" / "Korea, Republic of").
COUNTRY_ALIASES = {
    "United States": ("united states", "usa", "us", "united states of america", "u.s."),
    "United Kingdom": ("united kingdom", "uk", "great britain", "england", "scotland", "wales"),
    "South Korea": ("south korea", "korea", "republic of korea", "korea, republic of"),
    "Soviet Union": ("soviet union", "ussr"),
    "Czech Republic": ("czech republic", "czechia", "czechoslovakia"),
    "Germany": ("germany", "west germany", "east germany"),
}
# Phrases that ask for titles fit for an audience, and the maturity ratings that fit it.
KIDS_RATINGS = frozenset({"G", "PG", "TV-Y", "TV-Y7", "TV-Y7-FV", "TV-G", "TV-PG", "ALL", "U", "7+", "0+", "6+"})
MATURITY_PHRASES: dict[str, frozenset[str]] = {
    "for kids": KIDS_RATINGS, "for children": KIDS_RATINGS, "kids": KIDS_RATINGS, "children's": KIDS_RATINGS,
    "family friendly": KIDS_RATINGS, "family-friendly": KIDS_RATINGS, "for the whole family": KIDS_RATINGS,
    "for the family": KIDS_RATINGS, "suitable for children": KIDS_RATINGS,
    "for adults": frozenset({"R", "NC-17", "TV-MA", "18+", "A", "16+"}),
    "adults only": frozenset({"NC-17", "TV-MA", "18+", "A"}),
    "for teens": frozenset({"PG-13", "TV-14", "13+", "12+", "16+"}),
}  # fmt: skip
# Words that exclude what follows them ("not horror", "without romance", "no anime", "but not animated").
NEGATION_WORDS = ("but not", "and not", "not", "no", "without", "except", "excluding", "minus", "non", "nothing")
# Phrases that refer to another title ("like Alien", "similar to Inception", "more like The Office").
REFERENCE_PHRASES = ("similar to", "in the style of", "reminiscent of", "along the lines of", "same as",
                     "more like", "movies like", "films like", "shows like", "series like", "something like",
                     "like")  # fmt: skip
# Phrases naming a person's role before the name ("directed by X", "starring Y", "with Z").
DIRECTOR_PHRASES = ("directed by", "director", "a film by", "films by", "movies by", "made by", "from director", "by")
CAST_PHRASES = ("starring", "featuring", "with actor", "with actress", "actor", "actress", "played by", "with")


@dataclass(frozen=True)
class LengthWords:
    """How one language asks for a runtime or a number of seasons ("under two hours", "miniseries").

    Phrases are lowercase; the Spanish ones are also read without their accents.
    """

    under: tuple[str, ...]  # before an amount: at most ("under 90 minutes")
    over: tuple[str, ...]  # before an amount: at least ("over two hours")
    numbers: dict[str, float]  # amounts written as words ("two" → 2, "half an" → 0.5)
    minutes: tuple[str, ...]
    hours: tuple[str, ...]
    half: tuple[str, ...]  # after the unit, half of it more ("dos horas y media")
    after: tuple[str, ...]  # may follow the unit ("two hours long")
    short: tuple[str, ...]  # at most SHORT_MINUTES ("short")
    long: tuple[str, ...]  # at least LONG_MINUTES ("long")
    shorter: tuple[str, ...]  # "like X but shorter"
    longer: tuple[str, ...]
    idioms: tuple[str, ...]  # phrases whose length words are no length ("a lo largo de": throughout)
    few_seasons: tuple[str, ...]  # a season at most ("miniseries")
    many_seasons: tuple[str, ...]  # three seasons or more


ENGLISH_LENGTHS = LengthWords(
    under=("under", "less than", "shorter than", "below", "at most", "no more than", "up to", "within"),
    over=("over", "more than", "longer than", "at least", "above"),
    numbers={"one": 1, "two": 2, "three": 3, "four": 4, "an": 1, "a": 1, "half an": 0.5},
    minutes=("minutes", "minute", "mins", "min"), hours=("hours", "hour", "hrs", "hr", "h"),
    half=("and a half",), after=("long",), short=("short", "quick"), long=("long", "epic length"),
    shorter=("shorter",), longer=("longer",), idioms=("long ago", "long time", "all day long", "life long"),
    few_seasons=("miniseries", "mini series", "limited series", "one season"),
    many_seasons=("long series", "long running", "many seasons", "several seasons"),
)  # fmt: skip


@dataclass(frozen=True)
class Lexicon:
    """The words of one language that query understanding reads (``recsys.query``, ``recsys.readers``).

    Every phrase is lowercase; genres and places map to the canonical genres and the English place words
    above, so a Spanish query reads into the same intents as an English one.
    """

    language: str  # ISO 639-1 code: "en", "es"
    genres: dict[str, tuple[str, ...]]  # canonical genre → the words naming it in queries
    ambiguous_genre_words: frozenset[str]
    kinds: dict[str, tuple[str, ...]]  # "series" / "movie" → the words naming it
    stop_words: frozenset[str]
    negation: tuple[str, ...]
    reference: tuple[str, ...]
    joining: tuple[str, ...]
    director: tuple[str, ...]
    cast: tuple[str, ...]
    places: dict[str, tuple[str, str]]  # place word → (country, language), as PLACE_WORDS
    maturity: dict[str, frozenset[str]]  # phrase → the ratings that fit it
    decades: dict[str, int]  # "eighties" / "ochenta" → 1980
    lengths: LengthWords


ENGLISH = Lexicon(
    "en", GENRE_SYNONYMS, AMBIGUOUS_GENRE_WORDS, KIND_QUERY_WORDS, QUERY_STOP_WORDS, NEGATION_WORDS,
    REFERENCE_PHRASES, ("but", "and", "only", "though", "yet"), DIRECTOR_PHRASES, CAST_PHRASES, PLACE_WORDS,
    MATURITY_PHRASES,
    {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960, "seventies": 1970,
     "eighties": 1980, "nineties": 1990},
    ENGLISH_LENGTHS,
)  # fmt: skip
_AUDIENCES = {"kids": KIDS_RATINGS, "teens": MATURITY_PHRASES["for teens"], "adults": MATURITY_PHRASES["for adults"]}


def _unaccented_too(phrases) -> tuple[str, ...]:
    """Each phrase, then its form without accents ("acción", "accion")."""
    return tuple(dict.fromkeys(form for phrase in phrases for form in (phrase, strip_accents(phrase))))


def _longest_first(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """The phrases, longest first (so "sin nada de" is tried before "sin")."""
    return tuple(sorted(phrases, key=len, reverse=True))


def _keys_unaccented_too(mapping: dict) -> dict:
    """The mapping with each key also without its accents."""
    return {form: value for key, value in mapping.items() for form in (key, strip_accents(key))}


def _spanish() -> Lexicon:
    """The Spanish lexicon, from ``recsys/data/lexicon-es.json`` (written for the project by Spanish speakers).

    Every phrase is also read without its accents: people often type "pelicula", "accion".
    """
    data = json.loads((Path(__file__).parent / "data" / "lexicon-es.json").read_text(encoding="utf-8"))
    return Lexicon(
        "es",
        {genre: _longest_first(_unaccented_too(words)) for genre, words in data["genres"].items()},
        frozenset(_unaccented_too(data["ambiguous_genre_words"])),
        {kind: _unaccented_too(words) for kind, words in data["kinds"].items()},
        frozenset(_unaccented_too(data["stop_words"])),
        _longest_first(_unaccented_too(data["negation"])),
        _longest_first(_unaccented_too(data["reference"])),
        _unaccented_too(data["joining"]),
        _unaccented_too(data["director_phrases"]),
        _unaccented_too(data["cast_phrases"]),
        _keys_unaccented_too({word: PLACE_WORDS[key] for word, key in data["places"].items()}),
        _keys_unaccented_too({phrase: _AUDIENCES[audience] for phrase, audience in data["maturity"].items()}),
        _keys_unaccented_too({word: int(year) for word, year in data["decade_words"].items()}),
        _length_words(data["lengths"]),
    )


def _length_words(data: dict) -> LengthWords:
    """The lexicon's ``lengths`` section, each phrase also without its accents."""
    phrases = {name: _unaccented_too(data.get(name, ())) for name in LengthWords.__annotations__ if name != "numbers"}
    return LengthWords(**phrases, numbers={word: float(n) for word, n in _keys_unaccented_too(data["numbers"]).items()})


SPANISH = _spanish()
LEXICONS = {lexicon.language: lexicon for lexicon in (ENGLISH, SPANISH)}
