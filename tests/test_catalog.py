import json

import pandas as pd
import pytest

from recsys.catalog import Catalog
from recsys.errors import CatalogError
from recsys.files import load_catalog


def test_netflix_loads_with_every_row(external_data):
    catalog = load_catalog(external_data / "streaming" / "netflix_titles.csv")
    assert len(catalog) == 8807 and not catalog.skipped
    first = catalog.frame.iloc[0]
    assert (first["id"], first["title"], first["year"], first["kind"]) == ("s1", "Dick Johnson Is Dead", 2020, "movie")
    assert first["genres"] == ["Documentaries"]
    assert set(catalog.frame["kind"]) == {"movie", "series"}
    assert (catalog.frame["kind"] == "series").sum() == 2676
    assert "Sci-Fi & Fantasy" in catalog.genres()


def test_disney_loads_with_crlf_and_its_own_genre_names(external_data):
    catalog = load_catalog(external_data / "streaming" / "disney_plus_titles.csv")
    assert len(catalog) == 1450
    assert not any(text.endswith("\r") for text in catalog.frame["description"])
    assert "Action-Adventure" in catalog.genres()
    assert (catalog.frame["kind"] == "movie").sum() == 1052


def test_movielens_year_in_title_pipe_genres_and_tags(external_data):
    catalog = load_catalog(external_data / "movielens-small" / "movies.csv")
    assert len(catalog) == 9742
    toy_story = catalog.frame.set_index("id").loc["1"]
    assert (toy_story["title"], toy_story["year"]) == ("Toy Story", 1995)
    assert toy_story["genres"] == ["Adventure", "Animation", "Children", "Comedy", "Fantasy"]
    assert "pixar" in toy_story["keywords"]  # from tags.csv beside movies.csv
    titles = set(catalog.frame["title"])
    assert "The American President" in titles and "American President, The" not in titles
    assert catalog.frame["year"].notna().sum() > 9700


ROWS = [
    {"id": "1", "title": "Alpha", "year": "1999", "genres": "Drama|Comedy", "description": "First film."},
    {"id": "002", "title": "Beta", "year": "2004", "genres": "Horror", "description": "Second film."},
]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_every_format_gives_the_same_catalog(tmp_path, suffix):
    frame = pd.DataFrame(ROWS)
    path = tmp_path / f"catalog{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(row) for row in ROWS) + "\n")
    else:
        frame.to_parquet(path)
    catalog = load_catalog(path)
    assert catalog.ids == ["1", "002"]  # ids kept exactly, as strings
    assert catalog.frame["genres"].tolist() == [["Drama", "Comedy"], ["Horror"]]
    assert catalog.frame["year"].tolist() == [1999, 2004]


def test_tmdb_style_json_genres_and_keywords(tmp_path):
    path = tmp_path / "tmdb.csv"
    pd.DataFrame(
        [
            {
                "id": 550,
                "title": "Fight Club",
                "release_date": "1999-10-15",
                "overview": "An insomniac meets a soap maker.",
                "genres": json.dumps([{"id": 18, "name": "Drama"}]),
                "keywords": json.dumps([{"id": 1, "name": "support group"}, {"id": 2, "name": "dual identity"}]),
            }
        ]
    ).to_csv(path, index=False)
    row = load_catalog(path).frame.iloc[0]
    assert (row["id"], row["year"], row["genres"], row["keywords"]) == (
        "550",
        1999,
        ["Drama"],
        ["support group", "dual identity"],
    )
    assert row["description"] == "An insomniac meets a soap maker."


def test_text_is_normalised(tmp_path):
    path = tmp_path / "messy.csv"
    path.write_text(
        '\ufeffid,title,description\r\nx1,"  Ame\u0301lie\u200b ","Line one\r\nline  two\t "\r\n', encoding="utf-8"
    )
    row = load_catalog(path).frame.iloc[0]
    assert row["title"] == "Amélie"
    assert row["description"] == "Line one line two"


def test_duplicate_ids_are_refused_naming_file_row_and_field(tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text("id,title\na,One\nb,Two\na,Three\n")
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert str(error.value) == "dupes.csv, row 3, field 'id': duplicate id 'a' (first seen in row 1)"


def test_missing_id_column_is_refused(tmp_path):
    path = tmp_path / "noid.csv"
    path.write_text("title,description\nOne,A film.\n")
    with pytest.raises(CatalogError, match=r"noid.csv: no id column \(expected one of: id, showid"):
        load_catalog(path)


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,title\n1,Fine\n2,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(CatalogError, match="latin1.csv: line 3 is not UTF-8"):
        load_catalog(path)


def test_unusable_rows_are_skipped_and_reported(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text(
        "id,title,description,genres,year\n1,Good,Fine.,Drama,1990\n,No id,x,,\n2,,,,\n"
        '3,Bad json,x,"[{""name"": ",3021\n'
    )
    catalog = load_catalog(path)
    assert catalog.ids == ["1", "3"]
    assert [(s.row, s.reason) for s in catalog.skipped] == [(2, "empty id"), (3, "no title and no description")]
    assert any("row 4, field 'genres'" in note for note in catalog.notes)
    assert any("row 4, field 'year': 3021" in note for note in catalog.notes)


def test_parquet_round_trip_keeps_everything(external_data, tmp_path):
    catalog = load_catalog(external_data / "streaming" / "disney_plus_titles.csv")
    section = catalog.save(tmp_path / "c.parquet")
    again = Catalog.load(tmp_path / "c.parquet", section)
    assert again.fingerprint() == catalog.fingerprint() and again.source == catalog.source == section["source"]
    assert section["rows"] == 1450


def test_filters_mask(small_catalog_path):
    catalog = load_catalog(small_catalog_path)
    assert catalog.mask() is None
    sci_fi = catalog.mask(genres=["science fiction"])
    assert sorted(catalog.frame["id"][sci_fi]) == ["m1", "m14", "m6"]
    eighties = catalog.mask(years=(1980, 1989))
    assert sorted(catalog.frame["id"][eighties]) == ["m10", "m4"]
    series = catalog.mask(kind="TV Show")
    assert sorted(catalog.frame["id"][series]) == ["m11", "m8"]
