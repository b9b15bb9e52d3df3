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
