import numpy as np
import pytest

from recsys.errors import ModelError
from recsys.index import KeyStore


@pytest.fixture
def data():
    rng = np.random.default_rng(42)
    keys = rng.normal(size=(3000, 24)).astype(np.float32)
    queries = rng.normal(size=(20, 24)).astype(np.float32)
    return keys, queries


def _brute_force(keys, queries, k, allowed=None):
    scores = queries @ keys.T
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return [row[np.isfinite(s[row])] for row, s in zip(order, scores, strict=True)]


def test_search_returns_exactly_the_brute_force_top_k(data):
    keys, queries = data
    found = KeyStore.build(keys).search(queries, 10)
    for rows, expected in zip(found.rows, _brute_force(keys, queries, 10), strict=True):
        np.testing.assert_array_equal(rows, expected)


def test_filters_go_through_the_id_selector_and_match_brute_force(data):
    keys, queries = data
    allowed = np.random.default_rng(0).random(len(keys)) < 0.05
    found = KeyStore.build(keys).search(queries, 10, allowed)
    for rows, expected in zip(found.rows, _brute_force(keys, queries, 10, allowed), strict=True):
        np.testing.assert_array_equal(rows, expected)
        assert allowed[rows].all()


def test_a_filter_leaving_fewer_than_k_rows_returns_only_those(data):
    keys, queries = data
    allowed = np.zeros(len(keys), dtype=bool)
    allowed[[7, 1234]] = True
    found = KeyStore.build(keys).search(queries[:1], 10, allowed)
    assert sorted(found.rows[0].tolist()) == [7, 1234]
    assert len(found.scores[0]) == 2


def test_save_and_load_give_the_same_results(data, tmp_path):
    keys, queries = data
    store = KeyStore.build(keys)
    store.save(tmp_path / "keys.faiss")
    loaded = KeyStore.load(tmp_path / "keys.faiss")
    for a, b in zip(store.search(queries, 5).rows, loaded.search(queries, 5).rows, strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_inputs_are_refused_clearly(data, tmp_path):
    keys, queries = data
    store = KeyStore.build(keys)
    with pytest.raises(ValueError, match="width"):
        store.search(queries[:, :5], 3)
    with pytest.raises(TypeError, match="2-D"):
        store.search(queries[0], 3)
    (tmp_path / "bad.faiss").write_bytes(b"not an index")
    with pytest.raises(ModelError, match="bad.faiss"):
        KeyStore.load(tmp_path / "bad.faiss")


def _clustered(rows: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    """Unit keys drawn around 200 centres, like embeddings of a catalog."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((200, dim)).astype(np.float32)
    keys = centres[rng.integers(0, 200, rows)] + 0.35 * rng.standard_normal((rows, dim)).astype(np.float32)
    return keys / np.linalg.norm(keys, axis=1, keepdims=True)


def test_auto_picks_flat_for_small_stores_and_hnsw_can_be_asked_for(tmp_path):
    from recsys.index import choose_kind

    assert KeyStore.build(_clustered(1000)).kind == "flat"
    assert choose_kind(200_000) == "flat" and choose_kind(200_001) == "hnsw-sq8"
    store = KeyStore.build(_clustered(5_000), kind="hnsw-sq8")
    assert store.describe() == {"type": "hnsw-sq8-inner-product", "rows": 5_000, "links": 32, "depth": 256}
    assert KeyStore(store.index, depth=None).depth == 256  # chosen by size again when not recorded
    store.save(tmp_path / "keys.faiss")
    assert KeyStore.load(tmp_path / "keys.faiss", depth=64).describe()["depth"] == 64
    with pytest.raises(ValueError, match="unknown index kind"):
        KeyStore.build(_clustered(10), kind="ivf")


def test_hnsw_recall_against_exact_search_and_filters():
    keys = _clustered(20_000)
    queries = _clustered(200, seed=1)
    exact = KeyStore.build(keys, kind="flat").search(queries, 10)
    store = KeyStore.build(keys, kind="hnsw-sq8")
    approximate = store.search(queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approximate.rows, exact.rows, strict=True)])
    assert recall >= 0.9  # a regression guard on hard random clusters; the 0.95 target is on catalog-like keys
    allowed = np.zeros(20_000, dtype=bool)
    allowed[::7] = True
    filtered = store.search(queries[:20], 10, allowed)
    assert all(len(rows) == 10 and allowed[rows].all() for rows in filtered.rows)


def test_an_extended_store_equals_one_built_whole_and_leaves_the_original_alone():
    keys = _clustered(3_000)
    queries = _clustered(20, seed=1)
    first = KeyStore.build(keys[:2_000], kind="flat")
    grown = first.extended(keys[2_000:])
    whole = KeyStore.build(keys, kind="flat")
    assert len(first) == 2_000 and len(grown) == 3_000
    found, expected = grown.search(queries, 10), whole.search(queries, 10)
    assert all(np.array_equal(a, b) for a, b in zip(found.rows, expected.rows, strict=True))
    graph = KeyStore.build(keys[:2_000], kind="hnsw-sq8").extended(keys[2_000:])
    assert graph.kind == "hnsw-sq8" and len(graph) == 3_000
    near = graph.search(queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(near.rows, expected.rows, strict=True)])
    assert recall >= 0.9
