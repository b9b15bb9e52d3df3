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
    "movie": ("movie", "movies", "film", "films", "feature", "features"),
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
