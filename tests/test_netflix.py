"""The engine on a real catalog it never saw: Netflix titles (from ../shared/data)."""

import numpy as np
import pytest

from benchmarks.common import netflix_queries
from benchmarks.parity import top10_overlaps
from recsys import MovieSearch, load_catalog

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def netflix(shared_data, pretrained):
    catalog = load_catalog(shared_data / "streaming" / "netflix_titles.csv")
    return MovieSearch.build(catalog, encoder=pretrained)


def test_untrained_engine_ranks_exactly_as_sentence_transformers_with_faiss(netflix, sentence_transformer):
    overlaps = top10_overlaps(netflix, sentence_transformer, netflix_queries(netflix.catalog.documents(), 200))
    assert overlaps.mean() >= 0.99, f"mean top-10 overlap {overlaps.mean():.4f}"


def test_space_adventure_with_aliens_finds_science_fiction(netflix):
    hits = netflix.search("space adventure with aliens", k=10)
    sci_fi = [h for h in hits if any("Sci-Fi" in g for g in h.genres)]
    base_rate = np.mean([any("Sci-Fi" in g for g in gs) for gs in netflix.catalog.frame["genres"]])
    assert base_rate < 0.05
    assert len(sci_fi) >= 3  # at least 6x the catalog's base rate in the top 10
    text = " ".join(netflix.catalog.frame.set_index("id").loc[[h.id for h in hits[:5]], "description"]).lower()
    assert text.count("alien") + text.count("space") + text.count("planet") >= 5
