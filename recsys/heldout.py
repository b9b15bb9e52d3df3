"""Held-out likes: each person's latest likes set aside in time order, and how well a ranking finds them.

Training chooses its settings this way (``recsys.taste``) and ``benchmarks/recommend.py`` measures this way:
the last ``HELD_OUT`` share of each history of at least ``MIN_LIKES`` likes is held out; a ranking of
every title but the history's own is scored by nDCG@10 and Recall@10 against the held-out titles.
"""

from __future__ import annotations

import numpy as np

HELD_OUT = 0.2
MIN_LIKES = 5


def time_split(
    histories: list[np.ndarray], share: float = HELD_OUT, min_likes: int = MIN_LIKES
) -> tuple[list[np.ndarray], dict[int, np.ndarray]]:
    """Each history without its latest ``share`` of likes, and per history number the held-out titles.

    Histories with fewer than ``min_likes`` likes are kept whole; held-out titles already in the kept
    part are not counted.

    >>> kept, held = time_split([np.array([1, 2, 3, 4, 5]), np.array([7, 8])])
    >>> [k.tolist() for k in kept], {u: rows.tolist() for u, rows in held.items()}
    ([[1, 2, 3, 4], [7, 8]], {0: [5]})
    """
    kept, held = [], {}
    for number, history in enumerate(histories):
        if len(history) >= min_likes:
            cut = len(history) - max(1, int(round(share * len(history))))
            kept.append(history[:cut])
            later = np.setdiff1d(history[cut:], history[:cut])
            if len(later):
                held[number] = later
        else:
            kept.append(history)
    return kept, held


def ranking_quality(scores: np.ndarray, history: np.ndarray, relevant: np.ndarray) -> tuple[float, float]:
    """nDCG@10 and Recall@10 of scores ``(N,)`` against relevant rows, the history's rows left out.

    Rows scored ``-inf`` are never ranked (a caller may restrict the candidates this way).

    >>> ranking_quality(np.array([0.1, 0.9, 0.5, 0.7]), np.array([1]), np.array([3]))
    (1.0, 1.0)
    """
    scores = np.asarray(scores, dtype=np.float64).copy()
    scores[history] = -np.inf
    k = min(10, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    top = top[np.isfinite(scores[top])]
    hits = np.isin(top, relevant)
    dcg = float((hits / np.log2(np.arange(2, 2 + len(top)))).sum())
    ideal = float((1 / np.log2(np.arange(2, 2 + min(10, len(relevant))))).sum())
    return dcg / ideal, float(hits.sum() / len(relevant))


def mean_quality(scores: np.ndarray, histories: list[np.ndarray], relevant: list[np.ndarray]) -> float:
    """Mean nDCG@10 of score rows ``(V, N)`` for histories and their held-out rows."""
    return float(np.mean([ranking_quality(s, h, r)[0] for s, h, r in zip(scores, histories, relevant, strict=True)]))
