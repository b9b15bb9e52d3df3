"""The engine on a real catalog it never saw: Netflix titles (from RECSYS_DATA)."""

from dataclasses import replace

import numpy as np
import pytest

from benchmarks.common import netflix_queries
from recsys import MovieSearch, load_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def netflix(external_data, pretrained):
    catalog = load_catalog(external_data / "streaming" / "netflix_titles.csv")
    return MovieSearch.build(catalog, encoder=pretrained)


def test_space_adventure_with_aliens_finds_science_fiction(netflix):
    hits = netflix.search("space adventure with aliens", k=10)
    sci_fi = [h for h in hits if any("Sci-Fi" in g for g in h.genres)]
    base_rate = np.mean([any("Sci-Fi" in g for g in gs) for gs in netflix.catalog.frame["genres"]])
    assert base_rate < 0.05
    assert len(sci_fi) >= 3  # at least 6x the catalog's base rate in the top 10
    text = " ".join(netflix.catalog.frame.set_index("id").loc[[h.id for h in hits[:5]], "description"]).lower()
    assert text.count("alien") + text.count("space") + text.count("planet") >= 5


def _perturbed_head(head):
    """A head as training leaves it: projections moved away from the identity, heads weighted unevenly."""
    import copy

    import torch

    generator = torch.Generator().manual_seed(0)
    trained = copy.deepcopy(head)
    with torch.no_grad():
        for layer in (trained.query, trained.key):
            layer.weight.add_(0.05 * torch.randn(layer.weight.shape, generator=generator))
        trained.head_weights.mul_(torch.linspace(0.5, 1.5, len(trained.head_weights)))
    return trained


@pytest.mark.parametrize("head", ["untrained", "trained"])
def test_explanations_are_exact_on_500_pairs(netflix, head, assert_exact_explanation):
    moved = replace(netflix.scorer, head=_perturbed_head(netflix.scorer.head))
    model = netflix if head == "untrained" else netflix.with_scorer(moved)
    queries = netflix_queries(model.catalog.documents(), 100, seed=1)
    checked = 0
    for query, hits in zip(queries, model.search_many(queries, k=5), strict=True):
        for hit in hits:
            assert_exact_explanation(model, query, hit, absolute=1e-6)
            checked += 1
    assert checked == 500


@pytest.mark.parametrize("side", ["movie", "query"])
def test_deleting_the_top_share_words_lowers_the_score_more_than_random_words(netflix, side):
    from benchmarks.explain import faithfulness_rate, long_queries

    documents = netflix.catalog.documents()
    queries = netflix_queries(documents, 400) if side == "movie" else long_queries(documents, 400)
    found = faithfulness_rate(netflix, queries, side, pairs=300)
    assert found["pairs"] == 300
    assert found["rate"] >= 0.9, found
