"""Recommendations that learn from likes: reading interactions, the taste model, saving it, the CLI."""

import json
import random
from dataclasses import replace

import numpy as np
import pytest

from recsys import MovieSearch, load_catalog
from recsys.cli import main
from recsys.errors import CatalogError
from recsys.interactions import Interactions, read_interactions
from recsys.sequence import SequenceTraining
from recsys.taste import attend, train_taste

# Made-up viewing habits over the small catalog: whoever likes m1 (space) next likes m6, then m9.
PATTERNS = [["m1", "m6", "m9"], ["m4", "m12"], ["m2", "m3", "m7"]]


def _ratings(path, users: int = 60, seed: int = 0) -> None:
    """Ratings following PATTERNS (4-5 stars), plus low ratings and an item not in the catalog."""
    rng = random.Random(seed)
    lines = ["userId,movieId,rating,timestamp"]
    for user in range(users):
        pattern = PATTERNS[user % len(PATTERNS)]
        for step, item in enumerate(pattern):
            lines.append(f"u{user},{item},{rng.choice([4.0, 4.5, 5.0])},{1000 * user + step}")
        lines.append(f"u{user},m13,1.0,{1000 * user + 9}")
        lines.append(f"u{user},not-in-catalog,5.0,{1000 * user + 10}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def ratings_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("likes") / "ratings.csv"
    _ratings(path)
    return path


@pytest.fixture(scope="module")
def tasteful(small_model, ratings_path):
    likes = read_interactions(ratings_path, small_model.catalog)
    taste = train_taste(small_model.catalog, small_model.store, small_model.scorer, likes, SequenceTraining(epochs=8))
    return replace(small_model, taste=taste)


def test_interactions_are_likes_in_time_order_and_unknown_items_are_counted(small_model, ratings_path):
    likes = read_interactions(ratings_path, small_model.catalog)
    report = likes.report
    assert report["users"] == 60 and report["likes"] == 20 * (3 + 2 + 3)
    assert report["not likes"] == 60  # the 1-star ratings of m13
    assert report["items not in the catalog"] == 1 and report["rows of items not in the catalog"] == 60
    ids = small_model.catalog.ids
    first = [ids[row] for row in likes.histories()[likes.user_ids.index("u0")]]
    assert first == ["m1", "m6", "m9"]


def test_interactions_columns_by_name_tsv_and_threshold(small_model, tmp_path):
    path = tmp_path / "watches.tsv"
    path.write_text("item_id\tuser_id\tstars\n m2 \ta\t3\nm3\ta\t2\nm2\tb\t5\n", encoding="utf-8")
    likes = read_interactions(path, small_model.catalog, like_threshold=3)
    assert likes.report["columns"] == {"user": "user_id", "item": "item_id", "rating": "stars"}
    assert likes.report["likes"] == 2 and likes.user_ids == ["a", "b"]


def test_interactions_match_through_movielens_links(small_model, tmp_path):
    frame = small_model.catalog.frame.copy()
    frame["id"] = [str(1000 + i) for i in range(len(frame))]  # a catalog named by TMDB ids
    catalog = type(small_model.catalog).from_frame(frame.drop(columns=["extra"]), source="tmdb.csv")
    (tmp_path / "links.csv").write_text("movieId,imdbId,tmdbId\n1,0000001,1000\n2,0000002,1003\n", encoding="utf-8")
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating\n7,1,5\n7,2,4.5\n7,3,5\n", encoding="utf-8")
    likes = read_interactions(tmp_path / "ratings.csv", catalog)
    assert likes.report["matched by"] == "links.csv tmdbId"
    assert [catalog.ids[row] for row in likes.rows] == ["1000", "1003"]
    assert likes.report["items not in the catalog"] == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("person,film\n1,m1\n", "no user column"),
        ("userId,movieId,rating\n1,m1,great\n", "row 1, field 'rating'"),
        ("userId,movieId\n1,zz\n", "no item is in the catalog"),
        ("userId,movieId,rating\n1,m1,2\n", "at or above the like threshold"),
        ("userId,movieId,timestamp\n1,m1,yesterday-ish\n", "field 'timestamp'"),
    ],
)
def test_interactions_errors_name_the_file_and_field(small_model, tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        read_interactions(path, small_model.catalog)
    assert "bad.csv" in str(caught.value) and message in str(caught.value)


def test_taste_learns_what_follows_and_explains_it(tasteful):
    found = tasteful.recommend(["m1"], k=3)
    assert {r.id for r in found[:2]} == {"m6", "m9"}  # every m1 was followed by m6, then m9
    assert found[0].drawn_by[0][:2] == ("m1", "Star Harbor")
    assert found[0].drawn_by[0][2] == pytest.approx(1.0)  # one like: all the weight
    names = [name for name, _ in found[0].parts]
    parts = {"history", "item-to-item", "popularity", "description", "agreement", "content (nobody liked it yet)"}
    assert names and set(names) <= parts
    assert sum(value for _, value in found[0].parts) == pytest.approx(found[0].score, abs=1e-3)  # exact parts
    found = tasteful.recommend(["m1", "m6"], k=3)
    assert found[0].id == "m9"
    assert sum(weight for *_, weight in found[0].drawn_by) == pytest.approx(1.0, abs=1e-4)


def test_weights_over_the_history_sum_to_one(tasteful):
    bound = tasteful.taste.bound(tasteful.catalog, tasteful.store, tasteful.scorer)
    history = np.array([0, 5, 8, 3])
    weights = bound.like_weights(tasteful.scorer, tasteful.store, history, np.arange(len(tasteful.catalog)))
    assert weights.shape == (len(tasteful.catalog), 4)
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-5)


def test_the_top_weighted_like_is_the_one_a_result_owes_most():
    evidence = {name: np.random.default_rng(7).normal(size=(6, 40)) for name in ("history", "item-to-item")}
    weights = {"history": 1.0, "item-to-item": 0.5}
    for temperature in (0.1, 1.0):
        scored = attend(evidence, weights, temperature)
        np.testing.assert_allclose(sum(scored.named.values()), scored.total, atol=1e-9)  # the parts are the score
        for title in range(40):
            without = [attend({k: np.delete(v, t, 0) for k, v in evidence.items()}, weights, temperature).total[title]
                       for t in range(6)]  # fmt: skip
            costs = scored.total[title] - np.array(without)
            assert np.argmax(costs) == np.argmax(scored.weights[:, title])


def test_taste_is_saved_without_pickle_and_loads_the_same(tasteful, tmp_path):
    directory = tasteful.save(tmp_path / "model")
    files = json.loads((directory / "config.json").read_text())["files"]
    assert {"taste/sequence.safetensors", "taste/item_to_item.safetensors", "taste/ids.json"} <= set(files)
    loaded = MovieSearch.load(directory)
    assert [r.id for r in loaded.recommend(["m4", "m2"], k=5)] == [r.id for r in tasteful.recommend(["m4", "m2"], k=5)]


def test_titles_added_later_are_recommended_from_their_description(tasteful, small_catalog_path, tmp_path):
    extra = tmp_path / "more.csv"
    extra.write_text(
        "id,title,year,kind,genres,description\n"
        "n1,Harbor Lights Beyond,1981,movie,Science Fiction|Adventure,"
        '"A cargo crew in deep space answers a distress call and meets an alien creature."\n',
        encoding="utf-8",
    )
    grown = tasteful.add(load_catalog(extra))
    ids = [r.id for r in grown.recommend(["m1"], k=len(grown.catalog) - 1)]
    assert "n1" in ids  # nobody liked it, and it is still scored
    assert all(np.isfinite(r.score) for r in grown.recommend(["n1"], k=3))


def test_disliked_titles_move_results_away(small_model):
    before = [r.id for r in small_model.recommend(["m1"], k=13)]
    after = [r.id for r in small_model.recommend(["m1"], k=12, disliked_ids=[before[0]])]
    assert before[0] not in after
    disliked_like = before[1]  # the title most like the disliked one among the rest moves down or stays
    assert after.index(disliked_like) >= before.index(disliked_like) - 1


def test_cli_trains_with_interactions_and_explains_recommendations(small_catalog_path, ratings_path, tmp_path, capsys):
    out = tmp_path / "m"
    args = ["train", str(small_catalog_path), "--out", str(out), "--init", "none", "--epochs", "1", "--quiet"]
    assert main([*args, "--interactions", str(ratings_path)]) == 0
    printed = capsys.readouterr().out
    assert "likes: 160 from 60 users" in printed and "60 rows name 1 item not in the catalog" in printed
    assert main(["recommend", "m1", "--model", str(out), "-k", "2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["results"][0]["drawn_by"][0]["id"] == "m1"
    assert main(["recommend", "m1", "m6", "--model", str(out), "--disliked", "m9"]) == 0
    assert "because you liked" in capsys.readouterr().out


def test_cli_reports_a_bad_interactions_file_in_one_line(small_catalog_path, tmp_path, capsys):
    bad = tmp_path / "likes.csv"
    bad.write_text("who,what\n1,m1\n", encoding="utf-8")
    args = ["train", str(small_catalog_path), "--out", str(tmp_path / "m"), "--init", "none", "--quiet"]
    assert main([*args, "--interactions", str(bad)]) == 1
    error = capsys.readouterr().err
    assert "likes.csv" in error and "no user column" in error and "Traceback" not in error


def test_movielens_ratings_are_read(external_data):
    catalog = load_catalog(external_data / "movielens-small" / "movies.csv")
    likes = read_interactions(external_data / "movielens-small" / "ratings.csv", catalog)
    assert likes.report["rows"] == 100_836 and likes.report["items not in the catalog"] == 0
    stars = np.loadtxt(external_data / "movielens-small" / "ratings.csv", delimiter=",", skiprows=1, usecols=2)
    assert likes.report["likes"] == int((stars >= 4).sum())
    histories = likes.histories()
    assert len(histories) == likes.report["users"] and isinstance(likes, Interactions)
