"""Queries as people type them: people, title references, negation, places, ratings, lengths and typos."""
# ruff: noqa: E501  (the catalog below is a CSV export, one title a line)

import numpy as np
import pytest

from recsys import MovieSearch
from recsys.catalog import Catalog
from recsys.files import load_catalog
from recsys.query import QueryParser
from recsys.references import CatalogNames
from recsys.scoring import Scorer, SearchSettings
from recsys.spelling import Speller

CATALOG = """id,type,title,director,cast,country,rating,duration,listed_in,release_year,description
a1,Movie,Alien,Ridley Scott,"Sigourney Weaver, Tom Skerritt",United States,R,117 min,"Horror, Sci-Fi",1979,"The crew of a space freighter is hunted by a deadly creature that boards their ship."
a2,Movie,Aliens,James Cameron,"Sigourney Weaver, Michael Biehn",United States,R,137 min,"Action, Sci-Fi",1986,"Marines return to the colony where the creature was found and fight a hive of monsters."
a3,Movie,Galaxy Quest,Dean Parisot,"Tim Allen, Sigourney Weaver",United States,PG,102 min,"Comedy, Sci-Fi",1999,"Actors from an old space television show are taken for real heroes by aliens in need."
a4,Movie,Spaceballs,Mel Brooks,"Bill Pullman, John Candy",United States,PG,96 min,"Comedy, Sci-Fi",1987,"A parody of space adventures in which a mercenary rescues a princess from an evil empire."
a5,Movie,Cleo from 5 to 7,Agnès Varda,"Corinne Marchand, Antoine Bourseiller",France,NR,90 min,Drama,1962,"A singer wanders Paris for two hours while she waits for the results of a medical test."
a6,Movie,Vagabond,Agnès Varda,"Sandrine Bonnaire, Macha Méril",France,NR,105 min,Drama,1985,"The last weeks of a young drifter who walks the roads of southern France in winter."
a7,Movie,The Host,Bong Joon-ho,"Song Kang-ho, Byun Hee-bong",South Korea,R,120 min,"Horror, Drama",2006,"A monster rises from a river in Seoul and carries off a girl; her family sets out to find her."
a8,Movie,Memories of Murder,Bong Joon-ho,"Song Kang-ho, Kim Sang-kyung",South Korea,R,132 min,"Crime, Drama",2003,"Two detectives hunt a serial killer in a small farming town in the 1980s."
a9,Movie,Toy Story,John Lasseter,"Tom Hanks, Tim Allen",United States,G,81 min,"Animation, Comedy, Family",1995,"A cowboy doll feels threatened when a new space toy becomes the favourite of their boy."
a10,Movie,Big,Penny Marshall,"Tom Hanks, Elizabeth Perkins",United States,PG,104 min,"Comedy, Romance",1988,"A boy wishes to be big and wakes up as a grown man in New York."
a11,TV Show,Kingdom,Kim Seong-hun,"Ju Ji-hoon, Bae Doona",South Korea,TV-MA,2 Seasons,"Horror, Drama",2019,"A crown prince fights a plague that raises the dead across a medieval kingdom."
a12,TV Show,The Office,Greg Daniels,"Steve Carell, Rainn Wilson",United States,TV-14,9 Seasons,Comedy,2005,"The everyday lives of office workers at a paper company, filmed as a documentary."
a13,Movie,Sleepless in Seattle,Nora Ephron,"Tom Hanks, Meg Ryan",United States,PG,105 min,"Comedy, Romance",1993,"A widower's son calls a radio show, and a woman across the country falls for his father's voice."
"""


@pytest.fixture(scope="module")
def catalog(tmp_path_factory) -> Catalog:
    path = tmp_path_factory.mktemp("understanding") / "catalog.csv"
    path.write_text(CATALOG)
    return load_catalog(path)


@pytest.fixture(scope="module")
def model(catalog, pretrained) -> MovieSearch:
    built = MovieSearch.build(catalog, encoder=pretrained)
    return built.with_scorer(Scorer(built.scorer.head, SearchSettings(understand_queries=True, genre_boost=0.1)))


@pytest.fixture(scope="module")
def parser(model) -> QueryParser:
    return model._parser


def test_the_speller_corrects_only_unknown_words():
    speller = Speller({"horror": 40, "honor": 3, "comedy": 50, "documentary": 9}, ["horror", "comedy"])
    assert speller.correct("horor") == "horror"
    assert speller.correct("comdy") == "comedy"
    assert speller.correct("documentery") == "documentary"
    for known in ("horror", "extraterrestrials", "nolan", "honour", "sci"):  # in the vocabulary, or English
        assert speller.correct(known) is None
    assert speller.correct("xqzvbnm") is None  # nothing close


def test_people_are_read_with_their_role(parser):
    intents = parser.parse("films directed by Agnes Varda")
    assert list(intents.people) == ["Agnès Varda"]
    assert "director: Agnès Varda, from 'agnes varda'" in intents.explained
    assert sorted(intents.people["Agnès Varda"]) == [4, 5]
    assert list(parser.parse("starring Tom Hanks").people) == ["Tom Hanks"]
    assert list(parser.parse("varda").people) == ["Agnès Varda"]  # one name part, one person
    assert parser.parse("a big space adventure").people == {}  # everyday words are not names


def test_a_name_part_names_a_person_only_when_rare_and_unshared(catalog):
    names = CatalogNames(catalog)
    assert names.person("hanks").name == "Tom Hanks"
    assert names.person("weaver").name == "Sigourney Weaver"
    assert names.person("allen") is None  # a common English word: never a name on its own
    assert names.person("kang ho") is None  # two words must be a whole name
    assert names.person("song kang ho").name == "Song Kang-ho"
    assert names.person("kang-ho song").name == "Song Kang-ho"  # given name first, as some exports write it


def test_a_one_word_name_that_is_an_everyday_word_needs_a_role(tmp_path):
    path = tmp_path / "catalog.csv"
    extra = 'b1,Movie,Harbour,Ann Lee,"Solo, Zaqarin",Chile,PG,90 min,Drama,2001,"A fisherman and a stranger."'
    path.write_text(CATALOG + extra + "\n")
    names = CatalogNames(load_catalog(path))
    assert names.person("solo") is None  # "a solo climb": an everyday word, though a cast list has it as a name
    assert names.person("solo", role="cast").name == "Solo"  # "starring Solo"
    assert names.person("zaqarin").name == "Zaqarin"  # a rare one-word name is a name


def test_a_kind_word_used_as_a_verb_is_not_a_kind(parser):
    assert parser.parse("a magician who must show the world his powers").kind is None
    assert parser.parse("she films her family").kind is None
    assert parser.parse("a cooking show").kind == "series"
    assert parser.parse("that show about paper company workers").kind == "series"


def test_title_references_join_the_query_and_leave_the_results(model, parser):
    intents = parser.parse("a movie like Alien but funny")
    assert intents.like == [0]
    assert set(intents.genres) == {"Comedy"} and intents.genre_only
    hits = model.search("a movie like Alien but funny", k=3)
    assert "a1" not in [hit.id for hit in hits]
    assert all("Comedy" in hit.genres for hit in hits)
    alone = [hit.id for hit in model.search("something like Alien", k=5)]
    assert alone == [item.id for item in model.recommend(["a1"], k=5)]


def test_negation_excludes_a_genre(model):
    assert model.understand("comedy but not romance").excluded == {"Romance": ["Romance"]}
    for query in ("not horror", "without horror", "drama but not horror"):
        hits = model.search(query, k=13)
        assert hits and all("Horror" not in hit.genres for hit in hits)


def test_other_excluded_words_leave_out_the_titles_using_them(model):
    intents = model.understand("comedy without aliens")
    assert "not: 'aliens', from 'without aliens'" in intents.explained and intents.text == "comedy"
    hits = model.search("comedy without aliens", k=13)
    assert hits and "a3" not in [hit.id for hit in hits]  # Galaxy Quest: "taken for real heroes by aliens"
    assert model.understand("no more than two hours").readings[0].key == "runtime"  # a length, not a word


def test_places_ratings_and_lengths_filter(model):
    assert {hit.id for hit in model.search("korean drama", k=13)} == {"a7", "a8", "a11"}
    assert {hit.id for hit in model.search("french films", k=13)} == {"a5", "a6"}
    kids = model.search("something for kids", k=13)
    assert kids and all(model.title(hit.id)["maturity"] in {"G", "PG"} for hit in kids)
    short = model.search("comedy under 100 minutes", k=13)
    assert short and all(
        model.title(hit.id)["runtime"] <= 100 for hit in short if model.title(hit.id)["kind"] == "movie"
    )
    assert [hit.id for hit in model.search("r-rated horror", k=13)] and all(
        model.title(hit.id)["maturity"] == "R" for hit in model.search("r-rated horror", k=13)
    )
    assert {hit.id for hit in model.search("miniseries or long series", k=13)} <= {"a11", "a12"}


def test_a_described_plot_is_searched_with_its_places_and_years_not_filtered_by_them(model):
    described = "two detectives in korea hunt a serial killer in the 1980s in a small farming town"
    intents = model.understand(described)
    assert not intents.filters and intents.years is None and "korea" in intents.text and "1980s" in intents.text
    assert any(note.startswith("read as a description") for note in intents.notes)
    assert model.search(described, k=1)[0].id == "a8"  # Memories of Murder: made in 2003, set in the 1980s
    short = model.understand("korean films from the 1980s")  # asks for films made there and then: filters
    assert short.years == (1980, 1989) and short.filters and not short.notes
    with_person = model.understand("a film with tom hanks where a boy wishes to be big and wakes up a grown man")
    assert "Tom Hanks" in with_person.people  # a full name stays read in a described plot


def test_people_rank_their_titles_first_and_explanations_name_them(model, assert_exact_explanation):
    hits = model.search("movies with tom hanks", k=5)
    assert {hit.id for hit in hits[:3]} == {"a9", "a10", "a13"}
    explanation = model.explain("movies with tom hanks", movie_id=hits[0].id)
    assert any(label == "cast: Tom Hanks" for label, _ in explanation.boosts)
    for query in ("movies with tom hanks", "like Alien but funny", "something like Alien"):
        for hit in model.search(query, k=3):
            assert_exact_explanation(model, query, hit)


def test_titles_with_every_person_named_come_first(model):
    hits = model.search("tom hanks and meg ryan", k=4)
    assert hits[0].id == "a13"  # the one title with both
    assert {hit.id for hit in hits[1:3]} == {"a9", "a10"}  # then the titles with one of them


def test_shorter_and_longer_are_read_against_the_referenced_title(model):
    def runtimes(query):  # series have no runtime and pass a runtime filter
        return [model.title(hit.id)["runtime"] for hit in model.search(query, k=13) if model.title(hit.id)["runtime"]]

    assert runtimes("like Aliens but shorter") and max(runtimes("like Aliens but shorter")) < 137
    assert model.search("like Kingdom but shorter", k=3)  # a series has no runtime: "shorter" stays a word
    assert runtimes("something like Alien but longer") and min(runtimes("something like Alien but longer")) > 117


def test_a_misspelt_genre_is_corrected_and_shown(model):
    intents = model.understand("horor")
    assert intents.corrections == {"horor": "horror"}
    assert "spelling: horror, from 'horor'" in intents.explained
    assert [h.id for h in model.search("horor", k=3)] == [h.id for h in model.search("horror", k=3)]
    assert model.understand("the space freighter crew").corrections == {}


def test_a_dropped_reading_is_not_made(model):
    intents = model.understand("horor", ignore=["spelling:horor"])
    assert intents.corrections == {} and not intents.genres
    kept = model.understand("drama but not horror", ignore=["not:Horror"])
    assert kept.excluded == {}
    hits = model.search("movies with tom hanks", k=13, ignore=["person:Tom Hanks"])
    kinds = [model.title(hit.id)["kind"] for hit in hits]  # no person tier; "movies" ranks the 11 movies first
    assert kinds == ["movie"] * 11 + ["series"] * 2


def test_catalog_filters_for_the_new_fields(model):
    mask = model.catalog.mask(countries=["france"], ratings=["nr"], max_runtime=100, exclude_genres=["Comedy"])
    assert np.flatnonzero(mask).tolist() == [4]


def test_cli_prints_what_was_understood(model, tmp_path, capsys):
    from recsys.cli import main

    model.save(tmp_path / "model")
    assert main(["search", "horor", "--model", str(tmp_path / "model"), "--json"]) == 0
    printed = capsys.readouterr().out
    assert '"key": "spelling:horor"' in printed and '"understood"' in printed
    assert main(["search", "comedy", "--model", str(tmp_path / "model"), "--exclude-genre", "Romance"]) == 0
    assert "Big" not in capsys.readouterr().out


def test_spanish_lengths_read_as_the_english_ones(model):
    def runtime_reading(query):
        return next((r.shown for r in model.understand(query, language="es").readings if r.key == "runtime"), None)

    assert runtime_reading("comedias de menos de 100 minutos").startswith("runtime: at most 100 minutes")
    assert runtime_reading("drama de menos de una hora y media").startswith("runtime: at most 90 minutes")
    assert runtime_reading("terror de más de dos horas de duración").startswith("runtime: at least 120 minutes")
    assert runtime_reading("una película corta").startswith("runtime: at most 90 minutes")
    assert runtime_reading("un viaje a lo largo de la costa") is None  # "a lo largo de": along, no length
    short = model.search("comedia de menos de 100 minutos", k=13)
    assert short and all(model.title(hit.id)["runtime"] <= 100 for hit in short if model.title(hit.id)["runtime"])
    assert {hit.id for hit in model.search("miniserie o serie larga", k=13)} <= {"a11", "a12"}
    assert max(model.title(hit.id)["runtime"] for hit in model.search("como Aliens pero más corta", k=13)
               if model.title(hit.id)["runtime"]) < 137  # fmt: skip
