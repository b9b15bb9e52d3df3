import pytest

from recsys.query import QueryParser, label_genres

NETFLIX_LIKE = ["Comedies", "Romantic Movies", "Horror Movies", "Kids' TV", "Children & Family Movies",
                "Documentaries", "Docuseries", "Music & Musicals", "Sci-Fi & Fantasy", "TV Comedies",
                "Dramas"]  # fmt: skip


@pytest.fixture
def parser():
    return QueryParser(NETFLIX_LIKE, ["movie", "series"])


@pytest.mark.parametrize(
    ("query", "years"),
    [("90s romantic comedy", (1990, 1999)), ("from the 1980s", (1980, 1989)), ("before 1970", (None, 1969)),
     ("movies from 2015", (2015, 2015)), ("after 2010", (2011, None)), ("between 1990 and 1995", (1990, 1995)),
     ("the '60s", (1960, 1969)), ("nineties drama", (1990, 1999)), ("2000s", (2000, 2009)),
     ("1917", None), ("2001 a space odyssey", None), ("blade runner 2049", None)],
)  # fmt: skip
def test_years(parser, query, years):
    assert parser.parse(query).years == years


def test_genres_are_matched_to_the_catalogs_own_labels(parser):
    intents = parser.parse("sci-fi about first contact with aliens")
    assert intents.genres == {"Science Fiction": ["Sci-Fi & Fantasy"]}
    assert "genre: Science Fiction, from 'sci-fi'" in intents.explained
    assert not intents.genre_only
    assert parser.parse("funny movies").genres["Comedy"] == ["Comedies", "TV Comedies"]
    assert parser.parse("western").genres == {}  # the catalog has no western label: nothing to filter on


def test_kind_and_genre_only_queries(parser):
    intents = parser.parse("animated series for kids")
    assert intents.kind == "series"
    assert set(intents.genres) == {"Family"}  # no animation label here: "animated" stays words to search
    assert not intents.genre_only
    with_anime = QueryParser([*NETFLIX_LIKE, "Anime Series"], ["movie", "series"]).parse("animated series for kids")
    assert set(with_anime.genres) == {"Animation", "Family"} and with_anime.genre_only
    assert parser.parse("horror").genre_only
    assert not parser.parse("horror in a lighthouse").genre_only
    assert parser.parse("a documentary").kind is None  # no kind word
    assert QueryParser(NETFLIX_LIKE, ["movie"]).parse("comedy series").kind is None  # one kind only


def test_the_encoder_text_keeps_genres_and_drops_years_and_kind(parser):
    assert parser.parse("90s romantic comedy").text == "romantic comedy"
    assert parser.parse("tv shows").text == "tv shows"  # nothing left: the query is kept whole


def test_label_genres():
    assert label_genres("Action-Adventure") == {"Action", "Adventure"}
    assert label_genres("Stand-Up Comedy & Talk Shows") == {"Comedy"}
    assert label_genres("Kids' TV") == {"Family"}
    assert label_genres("Anime Series") == {"Animation"}
