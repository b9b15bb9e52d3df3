"""Recommendations from liked titles: each liked title's value vector, read as a query, attends over the catalog.

A liked title's query is ``q_l = W_q v_l`` with ``v_l = W_v e_l`` its value vector; a title's score is the
mean of ``q_l · k`` over the liked titles, so it splits exactly into one part per liked title, and the
largest part names the liked title that drew it; the mean over disliked titles is subtracted. This is the
recommender of a catalog without interactions; ``recsys.taste`` is the one of a model trained with likes.
"""

from __future__ import annotations

import numpy as np
import torch

from recsys.scoring import Scorer, top_positions
from recsys.store import TitleStore


def recommend(
    scorer: Scorer, store: TitleStore, liked: list[int], k: int, disliked: list[int] = ()
) -> tuple[np.ndarray, np.ndarray, list]:
    """The best ``k`` titles for liked rows, the liked and disliked ones left out.

    Disliked rows' mean part is subtracted from every score ("less like this").

    Returns
    -------
    scores : np.ndarray
        ``(k,)`` float32 scores, best first.
    rows : np.ndarray
        ``(k,)`` the recommended rows.
    drawn_by : list of int
        For each recommended row, the liked row whose part of its score is largest.
    """
    parts = description_parts(scorer, store, liked)  # (N, L)
    scores = parts.mean(1)  # (N,)
    if len(disliked):
        scores = scores - description_parts(scorer, store, list(disliked)).mean(1)
    candidates = np.setdiff1d(np.arange(len(scores)), [*liked, *disliked])
    rows = candidates[top_positions(scores[candidates], k)]
    drawn_by = [liked[column] for column in parts[rows].argmax(1)]
    return scores[rows].astype(np.float32), rows, drawn_by


def description_parts(scorer: Scorer, store: TitleStore, liked: list[int]) -> np.ndarray:
    """``(N, L)`` each liked title's part of every title's score: its value vector read as a query, ``q_l · k``."""
    head = scorer.head
    with torch.inference_mode():
        queries = head.queries(head.values(torch.from_numpy(store.embeddings[liked]))).numpy()  # (L, D)
    return scorer.dense(queries, store)
