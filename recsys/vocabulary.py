"""The words recsys knows before it sees a catalog: genres and their synonyms, kinds, stop words.

One place for every fixed word list, each under a name that says what it is for. Query understanding
(``recsys.query``), training (``recsys.pseudoqueries``), catalog loading (``recsys.catalog``) and
explanations (``recsys.words``) read them from here.
"""

from __future__ import annotations

from bm25s.stopwords import STOPWORDS_EN

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
    "movie": ("movie", "movies", "film", "films", "feature"),
}
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
