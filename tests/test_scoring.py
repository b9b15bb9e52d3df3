"""One scoring path: ranking sums the score's named parts, explanations split the same parts."""

from dataclasses import replace

import numpy as np
import pytest

from recsys.scoring import DENSE, LEXICAL, Part, Scorer, SearchSettings

QUERIES = ["sci-fi about a crew and an alien", "a romantic comedy wedding", "horror", "heist in a casino"]


@pytest.fixture(scope="module")
def understanding(small_model):
    """The small model reading queries, with a BM25 weight and a genre boost, as training leaves a model."""
    settings = SearchSettings(understand_queries=True, lexical_weight=0.3, genre_boost=0.1)
    return small_model.with_scorer(Scorer(small_model.scorer.head, settings))


def test_the_ranked_scores_are_the_sums_of_the_parts(understanding):
    model = understanding
    for query in QUERIES:
        hits = model.search(query, k=5)
        intent = model.understand(query)
        rows = np.array([model.catalog.row_of[hit.id] for hit in hits])
        vector = model.scorer.query_vectors(model.encoder.embed([intent.text]))  # (1, D)
        dense = model.scorer.dense(vector, model.store, rows)[:, 0]
        scored = model.scorer.parts(intent, dense, rows, model.catalog, model.store)
        assert [part.name for part in scored.parts][:2] == [DENSE, LEXICAL]
        assert scored.total() == pytest.approx([hit.score for hit in hits], abs=1e-5)


def test_a_genre_query_among_other_words_gets_the_genre_part(understanding):
    explanation = understanding.explain("sci-fi about a crew and an alien", movie_id="m1")
    assert ("genre: Science Fiction", 0.1) in explanation.boosts  # m1 is science fiction: the whole share
    assert explanation.lexical and all(value > 0 for _, value in explanation.lexical)


def test_a_new_part_shows_in_the_ranking_and_in_the_explanations(understanding, monkeypatch):
    before = {query: understanding.search(query, k=14) for query in QUERIES}
    boosts = Scorer._boosts

    def with_a_new_part(self, intent, share, store):
        bonus = np.where(np.arange(len(store)) % 2 == 0, 1.0, 0.0)  # every other title
        return [*boosts(self, intent, share, store), Part("bonus", "bonus: even rows", 0.5, bonus)]

    monkeypatch.setattr(Scorer, "_boosts", with_a_new_part)
    model = replace(understanding, scorer=Scorer(understanding.scorer.head, understanding.scorer.settings))
    for query in QUERIES:
        old = {hit.id: hit.score for hit in before[query]}
        hits = model.search(query, k=14)
        for hit, explanation in zip(hits, model.explain_many(query, [hit.id for hit in hits]), strict=True):
            even = model.catalog.row_of[hit.id] % 2 == 0
            assert hit.score == pytest.approx(old[hit.id] + (0.5 if even else 0.0), abs=1e-5)
            assert (("bonus: even rows", 0.5) in explanation.boosts) == even
            assert explanation.score == pytest.approx(hit.score, rel=1e-4, abs=1e-5)


@pytest.fixture(scope="module")
def suggesting(default_model):
    """The shipped model weighing the genres a query's meaning suggests (δ = 0.5)."""
    settings = replace(default_model.scorer.settings, genre_affinity=0.5)
    return default_model.with_scorer(Scorer(default_model.scorer.head, settings))


def test_a_query_naming_no_genre_gets_the_genres_its_meaning_suggests(suggesting, assert_exact_explanation):
    query = "gives me nightmares"
    hits = suggesting.search(query, k=10)
    explanations = suggesting.explain_many(query, [hit.id for hit in hits])
    labels = [label for explanation in explanations for label, _ in explanation.boosts]
    assert labels and all(label.startswith("suggested genre: Horror") for label in labels)
    for hit in hits[:3]:
        assert_exact_explanation(suggesting, query, hit)
    horror = suggesting.catalog.labels_mask(("Horror",))

    def horror_films(affinity: float) -> int:
        settings = replace(suggesting.scorer.settings, genre_affinity=affinity)
        model = suggesting.with_scorer(Scorer(suggesting.scorer.head, settings))
        return int(horror[[model.catalog.row_of[hit.id] for hit in model.search(query, k=10)]].sum())

    assert horror_films(100.0) > horror_films(0.0)  # weighed strongly, the suggestion brings horror films up


def _suggested(model, query: str):
    """The query's intent with the genres its meaning suggests, as search gives it."""
    intent = model.understand(query)
    embeddings, vectors = model._encoded([intent.text])
    return model.scorer.with_suggested(intent, embeddings[0], vectors[0], model.store)


def test_a_query_naming_a_genre_or_one_title_gets_no_or_little_suggestion(suggesting):
    assert _suggested(suggesting, "horror movies").suggested is None  # its genre is read: the genre parts apply
    person = suggesting.catalog.frame["directors"].explode().dropna().iloc[0]
    by_person = _suggested(suggesting, f"films directed by {person}")
    assert by_person.people and by_person.suggested is None  # it asks for a person's titles
    known = _suggested(suggesting, suggesting.catalog.frame["description"].iloc[0])
    vague = _suggested(suggesting, "something fun")
    assert 0.0 <= known.spread < vague.spread <= 1.0
