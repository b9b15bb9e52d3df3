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
