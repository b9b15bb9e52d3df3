"""Directors, cast, countries, language, maturity, length, date added and studios from the common exports."""

import json

import pandas as pd
import pytest

from recsys import MovieSearch, load_catalog
from recsys.catalog import Catalog


def _catalog(tmp_path, name: str, text: str) -> Catalog:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_catalog(path)


def test_a_streaming_export_gives_people_countries_maturity_length_and_date(tmp_path):
    catalog = _catalog(
        tmp_path,
        "streaming.csv",
        "show_id,type,title,director,cast,country,date_added,release_year,rating,duration,listed_in,description,OTT\n"
        's1,Movie,Alien,Ridley Scott,"Sigourney Weaver, Tom Skerritt",'
        '"United Kingdom, United States",25-Sep-21,1979,R,117 min,Horror,A crew meets a creature.,Netflix\n'
        's2,TV Show,Dark,,Louis Hofmann,Germany,"December 1, 2017",2017,TV-MA,3 Seasons,Dramas,A town\'s secret.,\n'
        "s3,Movie,Odd,,,,someday,2020,74 min,,Dramas,A film whose rating holds its length.,\n",
    )
    alien, dark, odd = (catalog.frame.iloc[row] for row in range(3))
    assert alien["directors"] == ["Ridley Scott"] and alien["cast"] == ["Sigourney Weaver", "Tom Skerritt"]
    assert alien["countries"] == ["United Kingdom", "United States"]
    assert (alien["maturity"], alien["runtime"], alien["date_added"]) == ("R", 117, "2021-09-25")
    assert (dark["maturity"], dark["seasons"], dark["date_added"]) == ("TV-MA", 3, "2017-12-01")
    assert odd["runtime"] == 74 and odd["maturity"] == "" and odd["date_added"] == ""
    assert "row 3, field 'maturity': '74 min' is a runtime; read as the length" in catalog.notes
    assert "row 3, field 'date_added': 'someday' is not a date; left empty" in catalog.notes
    assert catalog.extra(0) == {"OTT": "Netflix"} and catalog.extra(1) == {}  # unknown columns kept, not dropped


def test_imdb_style_stars_and_a_rating_column_of_scores(tmp_path):
    catalog = _catalog(
        tmp_path,
        "imdb.csv",
        "id,Series_Title,Released_Year,Certificate,Runtime,Genre,Rating,Overview,Director,Star1,Star2,Star3,Star4\n"
        "tt1,The Godfather,1972,A,175 min,Crime,9.2,A family saga.,Francis Ford Coppola,Marlon Brando,Al Pacino,"
        "James Caan,Diane Keaton\n",
    )
    row = catalog.frame.iloc[0]
    assert row["title"] == "The Godfather" and row["directors"] == ["Francis Ford Coppola"]
    assert row["cast"] == ["Marlon Brando", "Al Pacino", "James Caan", "Diane Keaton"]  # in billing order
    assert (row["maturity"], row["runtime"]) == ("A", 175)
    assert catalog.extra(0) == {"Rating": "9.2"}  # a review score is not a maturity rating: kept as it is


def test_tmdb_credits_json_gives_the_cast_and_the_directors_from_the_crew(tmp_path):
    cast = json.dumps([{"name": "Keanu Reeves", "character": "Neo"}, {"name": "Carrie-Anne Moss"}])
    crew = json.dumps([{"job": "Director", "name": "Lana Wachowski"}, {"job": "Director", "name": "Lilly Wachowski"},
                       {"job": "Editor", "name": "Zach Staenberg"}])  # fmt: skip
    countries = json.dumps([{"iso_3166_1": "US", "name": "United States of America"}])
    record = {"id": 603, "title": "The Matrix", "overview": "A hacker learns the truth.", "release_date": "1999-03-30",
              "cast": cast, "crew": crew, "production_countries": countries, "original_language": "en",
              "runtime": 136, "production_companies": [{"name": "Village Roadshow"}, {"name": "Silver Pictures"}],
              }  # fmt: skip
    catalog = _catalog(tmp_path, "tmdb.jsonl", json.dumps(record) + "\n")
    row = catalog.frame.iloc[0]
    assert row["cast"] == ["Keanu Reeves", "Carrie-Anne Moss"]
    assert row["directors"] == ["Lana Wachowski", "Lilly Wachowski"]
    assert (row["countries"], row["language"], row["runtime"]) == (["United States of America"], "en", 136)
    assert row["studios"] == ["Village Roadshow", "Silver Pictures"]


def test_unreadable_values_get_a_note_never_a_crash(tmp_path):
    catalog = _catalog(
        tmp_path,
        "bad.csv",
        "id,title,description,cast,duration,rating\n"
        '1,A,x,"[{""name"": ""broken",forever,PG\n'
        "2,B,y,Someone,90 min,PG-13\n",
    )
    assert len(catalog) == 2 and catalog.frame.iloc[0]["cast"] == [] and pd.isna(catalog.frame.iloc[0]["runtime"])
    assert any(note.startswith("row 1, field 'cast':") for note in catalog.notes)
    assert "row 1, field 'length': 'forever' is not a runtime or a number of seasons; left empty" in catalog.notes
    assert catalog.frame.iloc[1]["cast"] == ["Someone"] and catalog.frame.iloc[1]["runtime"] == 90


def test_the_fields_survive_a_model_save_and_load(tmp_path, pretrained):
    catalog = _catalog(
        tmp_path,
        "streaming.csv",
        "show_id,title,director,cast,duration,description,OTT\n"
        's1,Alien,Ridley Scott,"Sigourney Weaver, Tom Skerritt",117 min,A crew meets a creature.,Netflix\n',
    )
    loaded = MovieSearch.load(MovieSearch.build(catalog, encoder=pretrained).save(tmp_path / "model"))
    assert loaded.catalog.fingerprint() == catalog.fingerprint()
    title = loaded.title("s1")
    assert title["directors"] == ["Ridley Scott"] and title["runtime"] == 117
    assert loaded.catalog.extra(0) == {"OTT": "Netflix"}


@pytest.mark.slow
def test_the_streaming_exports_read_every_field(external_data):
    catalog = load_catalog(external_data / "streaming" / "netflix_titles.csv")
    frame = catalog.frame
    assert (frame["directors"].map(len) > 0).mean() > 0.6 and (frame["cast"].map(len) > 0).mean() > 0.85
    assert (frame["maturity"] != "").sum() >= 8800 and frame["runtime"].notna().sum() >= 6128
    assert frame["seasons"].notna().sum() == 2676 and (frame["date_added"] != "").sum() >= 8700
    noted = [note for note in catalog.notes if "field 'maturity'" in note]
    assert noted and all(note.endswith("min' is a runtime; read as the length") for note in noted)
