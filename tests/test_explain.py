import json
from dataclasses import replace

import pytest
import torch

from recsys import QueryError
from recsys.cli import main
from recsys.explain import explain_words
from recsys.words import WordVectors, is_carrier

QUERIES = ["sci-fi about first contact with aliens", "horror", "90s romantic comedy", "a boxer's last fight",
           "animated series for kids", "heist on a casino", "love story in paris", "Amélie 🎬 café"]  # fmt: skip


@pytest.mark.parametrize("model_name", ["small_model", "default_model"])
def test_shares_add_up_to_the_reported_score(model_name, request, assert_exact_explanation):
    model = request.getfixturevalue(model_name)
    for query in QUERIES:
        for hit in model.search(query, k=5):
            assert_exact_explanation(model, query, hit)


def _words(letters: str, generator: torch.Generator, offset: float = 0.0) -> WordVectors:
    """One-letter words with random vectors (``offset`` gives the text a main direction)."""
    vectors = torch.randn(len(letters), 8, generator=generator, dtype=torch.float64) + offset
    spans = [(2 * n, 2 * n + 1) for n in range(len(letters))]
    return WordVectors(" ".join(letters), spans, vectors, torch.zeros(8, dtype=torch.float64))


def test_a_word_share_is_an_even_part_plus_what_weakening_the_word_costs():
    generator = torch.Generator().manual_seed(0)
    query = _words("abc", generator)
    movie = _words("vwxyz", generator, offset=1.0)  # the description has a main direction: masses differ
    bilinear = torch.randn(8, 8, generator=generator, dtype=torch.float64)
    found = explain_words(query, movie, bilinear)

    def score(query_vectors: torch.Tensor, movie_vectors: torch.Tensor) -> float:
        pooled_query, pooled_movie = query_vectors.sum(0), movie_vectors.sum(0)
        return float(pooled_query @ bilinear @ pooled_movie / (pooled_query.norm() * pooled_movie.norm()))

    assert found.dense == pytest.approx(score(query.vectors, movie.vectors), abs=1e-12)
    step = 1e-6
    for side, words, shares in [("query", query, found.query_words), ("movie", movie, found.movie_words)]:
        share_at = {word.start: word.share for word in shares}
        for j, (start, _) in enumerate(words.spans):
            weakened = words.vectors.clone()
            weakened[j] *= 1 - step
            after = score(weakened, movie.vectors) if side == "query" else score(query.vectors, weakened)
            cost = (found.dense - after) / step
            assert share_at[start] - found.dense / len(words.spans) == pytest.approx(cost, abs=1e-4)
    grid = torch.tensor(found.grid)
    by_query = {w.word: w.share for w in found.query_words}
    by_movie = {w.word: w.share for w in found.movie_words}
    assert grid.sum(1).tolist() == pytest.approx([by_query[word] for word in found.grid_query], abs=1e-5)
    assert grid.sum(0).tolist() == pytest.approx([by_movie[word] for word in found.grid_movie], abs=1e-5)


def test_content_words_drive_a_science_fiction_match_not_stop_words_or_punctuation(default_model):
    explanation = default_model.explain("space adventure with aliens", movie_id="alien-1979")
    query_words = [word.word for word in explanation.query_words]
    movie_words = [word.word for word in explanation.movie_words]
    assert query_words[0] in {"aliens", "space"} and "with" not in query_words
    assert "Alien" in movie_words[:3]
    assert not any(is_carrier(word) for word in movie_words[:10])
    assert explanation.carried_movie > 0  # what punctuation and stop words held was passed on, not dropped


def test_explaining_a_search_reuses_stored_word_vectors(default_model, monkeypatch):
    query = "a heist in paris"
    hits = default_model.search(query, k=10)
    encoded = []
    original = default_model.encoder.token_states

    def counting(texts, **options):
        encoded.extend(texts)
        return original(texts, **options)

    monkeypatch.setattr(default_model.encoder, "token_states", counting)
    many = default_model.explain_many(query, [hit.id for hit in hits])
    assert encoded == [default_model.understand(query).text]  # the query only: no description is encoded again
    assert [round(e.score, 4) for e in many] == [round(hit.score, 4) for hit in hits]


def test_stored_word_vectors_give_the_shares_of_encoding_again(small_model):
    query, movie_id = "alien creature on a ship", "m1"
    stored = small_model.explain(query, movie_id=movie_id)
    fresh = replace(small_model, store=replace(small_model.store, words=None)).explain(query, movie_id=movie_id)
    assert stored.score == pytest.approx(fresh.score, abs=1e-6)  # both add up to the stored embedding's score
    shares = {(w.start, w.word): w.share for w in stored.movie_words}
    assert shares == pytest.approx({(w.start, w.word): w.share for w in fresh.movie_words}, abs=2e-4)


def test_any_text_can_be_explained_and_words_come_from_it(small_model):
    explanation = small_model.explain("aliens in space", text="A crew meets an alien   creature in deep space.")
    words = {word.word for word in explanation.movie_words}
    assert {"alien", "creature", "space"} <= words
    first = explanation.movie_words[0]
    assert explanation.movie_text[first.start : first.end] == first.word
    assert explanation.lexical == [] and explanation.boosts == []
    with pytest.raises(QueryError, match="either a movie id or a text"):
        small_model.explain("aliens")
    with pytest.raises(QueryError, match="no title with id 'zzz'"):
        small_model.explain("aliens", movie_id="zzz")


def test_a_query_of_stop_words_only_still_splits_exactly(small_model):
    explanation = small_model.explain("the of and", text="A crew meets an alien.")
    assert [w.word for w in sorted(explanation.query_words, key=lambda w: w.start)] == ["the", "of", "and"]
    assert sum(w.share for w in explanation.query_words) == pytest.approx(explanation.dense, abs=1e-6)


def test_encoder_self_attention_maps_are_there_for_every_layer_and_head(small_model):
    maps = small_model.encoder.self_attention_maps("A crew meets an alien.")
    config = small_model.encoder.encoder.config
    assert maps.self_attention.shape == (config.num_layers, config.num_heads, len(maps.tokens), len(maps.tokens))
    ones = torch.ones(config.num_layers, config.num_heads, len(maps.tokens))
    torch.testing.assert_close(maps.self_attention.sum(-1), ones)
    assert maps.tokens[0] == "[CLS]" and "alien" in maps.tokens
    with pytest.raises(QueryError):
        small_model.encoder.self_attention_maps("  ")


def test_cli_explain_json_and_ranked_list(small_model, tmp_path, capsys):
    directory = small_model.save(tmp_path / "model")
    assert main(["explain", "--model", str(directory), "alien creature on a ship", "--id", "m1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert {"score", "query_words", "movie_words", "pairs", "intents", "lexical", "boosts"} <= set(result)
    assert set(result["query_words"][0]) == {"word", "share", "start", "end"}
    assert result["query_words"][0]["word"] in {"alien", "creature", "ship"}
    assert main(["explain", "--model", str(directory), "alien creature on a ship", "--id", "m1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("score ") and any(line.strip().startswith("1. ") for line in lines)
