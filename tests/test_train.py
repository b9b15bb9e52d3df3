import random
import re

import numpy as np
import pytest
import torch

from recsys import MovieSearch, load_catalog
from recsys.catalog import Catalog
from recsys.default import DEFAULT_CATALOG
from recsys.fitting import TrainingSet, info_nce
from recsys.head import AttentionHead, HeadConfig
from recsys.pseudoqueries import PseudoQueries, make_pseudo_queries
from recsys.train import TrainConfig, train


def test_pseudo_queries_come_from_genres_keywords_spans_and_titles(small_model):
    catalog = small_model.catalog
    queries = make_pseudo_queries(catalog, np.arange(len(catalog)), random.Random(0))
    assert set(queries.sources) == {"genre", "description span", "title"}  # each keyword here tags one title only
    by_text = dict(zip(queries.texts, queries.positives, strict=True))
    ids = np.array(catalog.ids)
    assert set(ids[by_text["horror"]]) == {"m4"}
    assert set(ids[by_text["sci-fi"]]) == {"m1", "m6", "m14"}
    assert set(ids[by_text["star harbor"]]) == {"m1"}
    for text, positives, source in zip(*queries, strict=True):
        if source == "description span":
            words = set(re.findall(r"[\w'-]+", catalog.frame["description"].iloc[positives[0]].lower()))
            assert set(text.split()) <= words


def test_keyword_and_combination_queries_on_the_default_catalog():
    catalog = load_catalog(DEFAULT_CATALOG)
    queries = make_pseudo_queries(catalog, np.arange(len(catalog)), random.Random(0))
    by_text = dict(zip(queries.texts, queries.positives, strict=True))
    assert {"keyword", "genre combination"} <= set(queries.sources)
    assert all("Western" in catalog.frame["genres"].iloc[row] for row in by_text["cowboy"])
    romantic_comedies = by_text["romantic comedy"]
    assert all({"Romance", "Comedy"} <= set(catalog.frame["genres"].iloc[row]) for row in romantic_comedies)
    assert all("time travel" in catalog.frame["keywords"].iloc[row] for row in by_text["time travel"])


def test_pseudo_queries_respect_the_rows_they_may_point_to(small_model):
    rows = np.array([0, 3, 5])
    queries = make_pseudo_queries(small_model.catalog, rows, random.Random(0))
    assert all(set(p) <= set(rows) for p in queries.positives)


def test_training_keeps_the_best_head_and_records_it(small_model):
    model = train(small_model, TrainConfig(epochs=3, validation_fraction=0.3))
    scores = model.metrics["validation"]
    best = max(scores.values())  # the simplest head within noise of the best serves
    assert model.metrics["chosen"] == next(name for name, score in scores.items() if score >= best - 0.003)
    assert scores[model.metrics["chosen"]] >= scores["untrained"]
    assert model.scorer.settings.understand_queries
    assert model.metrics["lexical_weight_validation"][str(model.scorer.settings.lexical_weight)] == max(
        model.metrics["lexical_weight_validation"].values())  # fmt: skip
    again = train(small_model, TrainConfig(epochs=3, validation_fraction=0.3))
    assert again.metrics["validation"] == scores  # seeded: the same run twice gives the same result


def test_trained_model_saves_and_loads(small_model, tmp_path):
    model = train(small_model, TrainConfig(epochs=2, validation_fraction=0.3))
    loaded = MovieSearch.load(model.save(tmp_path / "trained"))
    assert loaded.scorer.settings == model.scorer.settings
    assert loaded.metrics["chosen"] == model.metrics["chosen"]
    for query in ["a haunted farmhouse", "90s romantic comedy", "animated family film about a robot"]:
        assert loaded.search(query, k=5) == model.search(query, k=5)


@pytest.mark.slow
def test_a_catalog_without_labels_never_ends_below_the_untrained_model(pretrained):
    labelled = load_catalog(DEFAULT_CATALOG)
    frame = labelled.frame.assign(
        genres=[[] for _ in range(len(labelled))], keywords=[[] for _ in range(len(labelled))]
    )
    model = MovieSearch.build(Catalog(frame, source="unlabelled"), encoder=pretrained)
    trained = train(model, TrainConfig(epochs=5))
    scores = trained.metrics["validation"]
    assert set(trained.metrics["pseudo_queries"]["train"]) == {"description span", "title"}
    assert scores[trained.metrics["chosen"]] >= scores["untrained"]


def test_fine_tuning_top_encoder_layers_is_kept_only_when_it_helps(small_model, tmp_path):
    config = TrainConfig(epochs=2, validation_fraction=0.3, fine_tune_layers=1, fine_tune_epochs=1)
    model = train(small_model, config)
    tuned = model.metrics["fine_tune"]
    assert tuned["layers"] == 1
    changed = model.encoder.encoder is not small_model.encoder.encoder
    assert changed == (tuned["validation_after"] > tuned["validation_before"])
    assert small_model.encoder.encoder.pretrained_name == "all-MiniLM-L6-v2"  # the original is untouched
    directory = model.save(tmp_path / "tuned")
    assert (directory / "encoder" / "weights.safetensors").is_file() == changed
    loaded = MovieSearch.load(directory)
    assert loaded.search("a haunted farmhouse", k=3) == model.search("a haunted farmhouse", k=3)


def test_each_query_draws_one_of_its_own_positives_and_all_of_them_in_time():
    positives = [np.array([4]), np.array([0, 2, 7]), np.array([1, 5])]
    queries = PseudoQueries(["a", "b", "c"], positives, ["genre"] * 3)
    data = TrainingSet(queries, torch.zeros(3, 2), torch.zeros(8, 2), np.arange(8))
    generator = np.random.default_rng(0)
    drawn = np.stack([data.one_positive_each(np.array([2, 1, 0, 1]), generator) for _ in range(300)])  # (300, 4)
    for column, query in enumerate([2, 1, 0, 1]):
        assert set(drawn[:, column]) == set(positives[query].tolist())


def test_the_training_loss_scores_titles_as_the_head_does():
    torch.manual_seed(0)
    head = AttentionHead(HeadConfig(dim=8, num_heads=2))
    with torch.no_grad():
        for weight in (head.query.weight, head.key.weight):
            weight.add_(0.3 * torch.randn(8, 8))
        head.head_weights.mul_(torch.tensor([0.5, 2.0]))
    queries, documents = torch.randn(3, 8), torch.randn(5, 8)
    positive = torch.tensor([[1, 0, 0, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 0, 1]], dtype=torch.bool)
    logits = head.queries(queries) @ head.keys(documents).T / head.temperature  # the scores search ranks by
    expected = (torch.logsumexp(logits, 1) - torch.logsumexp(logits.masked_fill(~positive, -torch.inf), 1)).mean()
    assert info_nce(head, queries, documents, positive).item() == pytest.approx(expected.item(), rel=1e-5)
