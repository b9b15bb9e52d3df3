"""The engine on a real catalog it never saw: Netflix titles (from ../shared/data)."""

import numpy as np
import pytest

from benchmarks.common import flat_index, netflix_queries
from recsys import MovieSearch, load_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def netflix(shared_data, pretrained):
    catalog = load_catalog(shared_data / "streaming" / "netflix_titles.csv")
    return MovieSearch.build(catalog, encoder=pretrained)


def test_untrained_engine_ranks_exactly_as_sentence_transformers_with_faiss(netflix, sentence_transformer):
    documents = netflix.catalog.documents()
    reference = flat_index(sentence_transformer.encode(documents, batch_size=64, normalize_embeddings=True))
    queries = netflix_queries(documents, 200)
    _, expected = reference.search(sentence_transformer.encode(queries, normalize_embeddings=True), 10)
    ours = netflix.search_many(queries, k=10)
    ids = np.array(netflix.catalog.ids)
    overlaps = [len(set(ids[want]) & {h.id for h in got}) / 10 for want, got in zip(expected, ours, strict=True)]
    assert np.mean(overlaps) >= 0.99, f"mean top-10 overlap {np.mean(overlaps):.4f}"


def test_space_adventure_with_aliens_finds_science_fiction(netflix):
    hits = netflix.search("space adventure with aliens", k=10)
    sci_fi = [h for h in hits if any("Sci-Fi" in g for g in h.genres)]
    base_rate = np.mean([any("Sci-Fi" in g for g in gs) for gs in netflix.catalog.frame["genres"]])
    assert base_rate < 0.05
    assert len(sci_fi) >= 3  # at least 6x the catalog's base rate in the top 10
    text = " ".join(netflix.catalog.frame.set_index("id").loc[[h.id for h in hits[:5]], "description"]).lower()
    assert text.count("alien") + text.count("space") + text.count("planet") >= 5
