import json

import pytest

from recsys import MovieSearch, QueryError
from recsys.cli import main
from recsys.engine import shipped_model_dir

QUERIES = ["sci-fi about first contact with aliens", "horror", "90s romantic comedy", "a boxer's last fight",
           "animated series for kids", "heist on a casino", "love story in paris", "Amélie 🎬 café"]  # fmt: skip


@pytest.fixture(scope="module")
def shipped():
    return MovieSearch.load(shipped_model_dir())


@pytest.mark.parametrize("model_name", ["small_model", "shipped"])
def test_shares_add_up_to_the_reported_score(model_name, request, assert_exact_explanation):
    model = request.getfixturevalue(model_name)
    for query in QUERIES:
        for hit in model.search(query, k=5):
            assert_exact_explanation(model, query, hit)


def test_any_text_can_be_explained_and_words_come_from_it(small_model):
    explanation = small_model.explain("aliens in space", text="A crew meets an alien   creature in deep space.")
    words = {w for w, _ in explanation.movie_words}
    assert {"alien", "creature", "space"} <= words
    assert explanation.lexical == [] and explanation.boosts == []
    with pytest.raises(QueryError, match="either a movie id or a text"):
        small_model.explain("aliens")
    with pytest.raises(QueryError, match="no title with id 'zzz'"):
        small_model.explain("aliens", movie_id="zzz")


def test_cli_explain_json(small_model, tmp_path, capsys):
    directory = small_model.save(tmp_path / "model")
    assert main(["explain", "--model", str(directory), "alien creature on a ship", "--id", "m1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"score", "query_words", "movie_words", "pairs", "intents", "lexical", "boosts"} <= set(result)
    assert result["query_words"][0][0] in {"alien", "creature", "ship", "on", "a"}
