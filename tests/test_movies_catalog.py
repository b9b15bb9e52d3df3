"""The project's own catalog, recsys/data/movies.csv: schema, vocabulary, counts, lengths, uniqueness, originality."""

import csv
import importlib.util
import re
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

from recsys import load_catalog

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("catalog_card", ROOT / "scripts" / "catalog_card.py")
card = importlib.util.module_from_spec(spec)
spec.loader.exec_module(card)


@pytest.fixture(scope="module")
def rows():
    with open(card.CATALOG, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["id", "title", "year", "kind", "genres", "keywords", "description", "directors",
                                     "cast", "countries", "language"]  # fmt: skip
        return list(reader)


def test_size_kinds_and_decades(rows):
    assert len(rows) >= 1000
    kinds = Counter(row["kind"] for row in rows)
    assert set(kinds) == {"movie", "series"} and kinds["movie"] > kinds["series"] >= 30
    decades = Counter(int(row["year"]) // 10 * 10 for row in rows)
    assert all(decades[decade] >= 20 for decade in range(1920, 2030, 10)), decades


def test_genres_come_from_the_vocabulary_and_each_has_30_titles(rows):
    counts = Counter()
    for row in rows:
        genres = row["genres"].split("|")
        assert 1 <= len(genres) <= 4 and len(set(genres)) == len(genres), row["id"]
        assert set(genres) <= set(card.GENRES), (row["id"], genres)
        counts.update(genres)
    assert min(counts[genre] for genre in card.GENRES) >= 30, counts


def test_keywords_are_3_to_8_lowercase_phrases(rows):
    for row in rows:
        keywords = row["keywords"].split("|")
        assert 3 <= len(keywords) <= 8, row["id"]
        assert all(k == k.lower().strip() and k for k in keywords), row["id"]


def test_descriptions_are_20_to_60_words_and_distinct(rows):
    for row in rows:
        assert 20 <= len(row["description"].split()) <= 60, row["id"]
    trigrams = []
    for row in rows:
        words = re.findall(r"[a-z0-9']+", row["description"].lower())
        trigrams.append({tuple(words[i : i + 3]) for i in range(len(words) - 2)})
    alike = [
        (rows[a]["id"], rows[b]["id"])
        for a, b in combinations(range(len(rows)), 2)
        if len(trigrams[a] & trigrams[b]) / len(trigrams[a] | trigrams[b]) > 0.2
    ]
    assert not alike


def test_ids_and_titles_are_unique_and_years_plausible(rows):
    assert len({row["id"] for row in rows}) == len(rows)
    assert all(re.fullmatch(r"[a-z0-9-]{3,40}", row["id"]) for row in rows)
    assert len({(row["title"].casefold(), row["year"]) for row in rows}) == len(rows)
    assert all(1920 <= int(row["year"]) <= 2026 for row in rows)


def test_it_loads_cleanly_and_the_data_card_counts_are_current():
    catalog = load_catalog(card.CATALOG)
    assert not catalog.skipped and not catalog.notes
    text = card.CARD.read_text(encoding="utf-8")
    assert card.replace_section(text, "counts", card.counts_markdown(catalog.frame)) == text


def test_years_and_genres_agree_with_movielens(external_data):
    catalog = load_catalog(card.CATALOG)
    check = card.crosscheck(catalog.frame, external_data / "movielens-small" / "movies.csv")
    assert check["matched"] >= 500
    assert check["year_exact"] / check["matched"] >= 0.98
    assert check["genres_overlap"] / check["matched"] >= 0.98


def test_every_title_names_its_people_country_and_language(rows):
    for row in rows:
        for field in ("directors", "cast", "countries"):
            names = row[field].split("|") if row[field] else []
            assert all(name == name.strip() and name for name in names), (row["id"], field)
            assert len(set(names)) == len(names), (row["id"], field)
        assert len(row["cast"].split("|")) <= 4, row["id"]
    assert sum(bool(row["directors"]) for row in rows) >= 0.99 * len(rows)
    assert sum(bool(row["cast"]) for row in rows) >= 0.95 * len(rows)
    assert all(row["countries"] for row in rows)
    assert sum(bool(row["language"]) for row in rows) >= 0.99 * len(rows)


def test_people_and_countries_agree_with_the_streaming_exports(external_data):
    catalog = load_catalog(card.CATALOG)
    exports = sorted((external_data / "streaming").glob("*.csv"))
    check = card.crosscheck_people(catalog.frame, exports)
    assert check["matched"] >= 100
    assert check["directors agree"] / check["directors compared"] >= 0.95
    assert check["countries agree"] / check["countries compared"] >= 0.95
    assert check["cast names agree"] / check["cast names compared"] >= 0.9  # exports spell some names otherwise
