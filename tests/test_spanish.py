"""Spanish queries: the language is detected, genres, years, kinds, people and negation are read from Spanish
words, and what is left reaches the English-trained encoder through Apertium (or as typed, with a note)."""

import pytest

from recsys import MovieSearch
from recsys.language import detect, query_language
from recsys.query import Intents
from recsys.scoring import Scorer, SearchSettings
from recsys.spanish import read_spanish_years
from recsys.translate import shared_translator
from tests.test_understanding import CATALOG

needs_apertium = pytest.mark.skipif(shared_translator() is None, reason="Apertium's apertium-en-es is not installed")


@pytest.fixture(scope="module")
def model(tmp_path_factory, pretrained) -> MovieSearch:
    from recsys import load_catalog

    path = tmp_path_factory.mktemp("spanish") / "catalog.csv"
    path.write_text(CATALOG)
    built = MovieSearch.build(load_catalog(path), encoder=pretrained)
    return built.with_scorer(Scorer(built.scorer.head, SearchSettings(understand_queries=True, genre_boost=0.1)))


@pytest.mark.parametrize(
    ("query", "language"),
    [("películas de terror", "es"), ("peliculas de miedo", "es"), ("ciencia ficción sobre extraterrestres", "es"),
     ("haunted house horror", "en"), ("90s romantic comedy", "en"), ("terror", "en"), ("drama", "en"),
     ("films by Akira Kurosawa", "en"), ("dirigida por Akira Kurosawa", "es")],
)  # fmt: skip
def test_the_language_is_detected_and_english_stays_english_when_unsure(query, language):
    assert detect(query) == language


def test_the_language_can_be_given_and_unknown_ones_are_refused(model):
    assert query_language("terror", "es") == "es" and query_language("películas de terror", "en") == "en"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        query_language("films d'horreur", "fr")
    assert model.understand("terror", language="es").genres == {"Horror": ["Horror"]}


@pytest.mark.parametrize(
    ("query", "years"),
    [("comedia de los años 90", (1990, 1999)), ("de los ochenta", (1980, 1989)), ("antes de 1970", (None, 1969)),
     ("entre 1990 y 1995", (1990, 1995)), ("la década de los 60", (1960, 1969)), ("desde 2010", (2010, None)),
     ("terror ochentero", (1980, 1989)), ("estrenada en 1999", (1999, 1999)), ("años 2000", (2000, 2009))],
)  # fmt: skip
def test_spanish_years_and_decades(query, years):
    intents = Intents()
    read_spanish_years(query, intents, frozenset())
    assert intents.years == years


def test_genres_kinds_people_places_and_negation_are_read_from_spanish(model):
    intents = model.understand("comedia romántica")
    assert set(intents.genres) == {"Comedy", "Romance"} and intents.genre_only and intents.language == "es"
    assert model.understand("series de terror coreanas").kind == "series"
    assert list(model.understand("películas dirigidas por Agnès Varda").people) == ["Agnès Varda"]
    assert list(model.understand("pelis protagonizadas por Tom Hanks").people) == ["Tom Hanks"]
    korean = model.search("dramas coreanos", k=13)
    assert {hit.id for hit in korean} == {"a7", "a8", "a11"}
    assert all("Horror" not in hit.genres for hit in model.search("dramas sin terror", k=13))
    like = model.understand("como Alien pero divertida")
    assert like.like == [0] and set(like.genres) == {"Comedy"}


@needs_apertium
def test_the_rest_of_a_spanish_query_is_translated_for_the_encoder(model):
    intents = model.understand("una nave espacial atacada por una criatura")
    assert intents.source_text == "una nave espacial atacada por una criatura"
    assert "creature" in intents.text.lower() and intents.readings[-1].key == "translation"
    hits = model.search("una nave espacial atacada por una criatura", k=2)
    assert hits[0].id in {"a1", "a2"}  # Alien, Aliens
    genre_only = model.understand("películas de terror")
    assert genre_only.text == "horror"  # written as the English query is
    dropped = model.understand("una nave espacial atacada por una criatura", ignore=["translation"])
    assert dropped.text == "una nave espacial atacada por una criatura"


def test_without_apertium_the_words_are_searched_as_typed_with_a_note(model, monkeypatch):
    monkeypatch.setattr(model._parser, "translator", lambda: None)
    intents = model.understand("una nave espacial atacada por una criatura")
    assert intents.text == "una nave espacial atacada por una criatura"
    assert intents.notes and "apertium-en-es" in intents.notes[0]
    assert model.search("una nave espacial atacada por una criatura", k=3)


def test_english_queries_read_exactly_as_before(model):
    for query in ["90s romantic comedy", "films by agnes varda", "horror without aliens", "like Alien but funny"]:
        assert model.understand(query).readings == model.understand(query, language="en").readings
        assert model.understand(query).language == "en"
