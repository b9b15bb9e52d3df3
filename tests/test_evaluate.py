import math

import pytest

from recsys.errors import QueryError
from recsys.evaluate import read_queries, score_runs


def test_metrics_match_hand_computed_values():
    relevant = {"q1": ["a", "b"], "q2": ["z"]}
    ranked = {"q1": ["x", "a", "y", "b"], "q2": ["z"]}
    ideal = 1 + 1 / math.log2(3)
    expected_ndcg_q1 = (1 / math.log2(3) + 1 / math.log2(5)) / ideal
    scores = score_runs(relevant, ranked)
    assert scores["ndcg@10"] == pytest.approx((expected_ndcg_q1 + 1.0) / 2, abs=1e-4)
    assert scores["mrr@10"] == pytest.approx((1 / 2 + 1) / 2, abs=1e-4)
    assert scores["recall@100"] == 1.0


def test_a_query_with_nothing_ranked_counts_as_zero():
    assert score_runs({"q1": ["a"], "q2": ["b"]}, {"q1": ["a"], "q2": []})["mrr@10"] == 0.5


def test_read_queries_names_the_bad_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"qid": 1, "query": "x", "relevant": ["a"]}\n{"qid": 2, "query": "y"}\n')
    with pytest.raises(QueryError, match=r"q.jsonl, line 2: expected"):
        read_queries(path)
    path.write_text('{"qid": 1, "query": "x", "relevant": [3]}\n')
    assert read_queries(path)[0].relevant == ["3"]


def test_the_dense_baseline_is_named_for_what_ran(small_model, monkeypatch):
    import sys

    from recsys.evaluate import ENCODER_COSINE, SENTENCE_TRANSFORMERS, LabelledQuery, compare_systems

    queries = [LabelledQuery("q1", "an alien on a ship", ["m1"]), LabelledQuery("q2", "a haunted farmhouse", ["m4"])]
    found = compare_systems(small_model, queries)
    assert list(found) == ["recsys", "BM25", SENTENCE_TRANSFORMERS]
    # The untrained small model ranks as sentence-transformers + FAISS does (same weights, float32 or bfloat16).
    assert found[SENTENCE_TRANSFORMERS]["mrr@10"] == pytest.approx(found["recsys"]["mrr@10"], abs=0.01)
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # as if the dev extra were not installed
    found = compare_systems(small_model, queries)
    assert list(found) == ["recsys", "BM25", ENCODER_COSINE]
    assert found[ENCODER_COSINE] == found["recsys"]  # an untrained head: the same cosine ranking
