"""Item-to-item weights and popularity learned from likes: the parts of a recommendation that need no text.

EASE (Steck 2019) learns, in closed form, how much liking title i says about liking title j:
``B = I − P · diag(1 / diag P)`` with ``P = (XᵀX + λI)⁻¹`` over a users × titles like matrix ``X``, and
``diag B = 0``. A history's score for title j is ``Σ_i ρ^a(i) B_ij`` over the titles i it liked, ``a(i)``
likes ago: with ``ρ < 1`` recent likes count more (``ρ`` is chosen on held-out likes). Only each title's
``NEIGHBOURS`` largest weights are kept, so a model stores ``M × NEIGHBOURS`` numbers, not ``M²``.
"""

from __future__ import annotations

import numpy as np
import torch

NEIGHBOURS = 256  # weights kept per liked title
EASE_L2 = (50.0, 200.0, 500.0, 1000.0)  # λ values tried on validation
RECENCY = (1.0, 0.99, 0.97, 0.95, 0.9, 0.8)  # how much less each older like counts, tried on validation
MAX_TITLES = 20_000  # EASE inverts an M × M matrix: only the M most-liked titles get item-to-item weights


class ItemToItem:
    """Sparse item-to-item weights: for each of ``M`` titles, its ``k`` strongest neighbours and their weights.

    Parameters
    ----------
    neighbours : torch.Tensor
        ``(M, k)`` catalog rows of each title's neighbours.
    weights : torch.Tensor
        ``(M, k)`` their weights.
    rows : torch.Tensor
        ``(M,)`` the catalog row of each title that has weights.
    size : int
        Titles in the catalog.
    """

    def __init__(self, neighbours: torch.Tensor, weights: torch.Tensor, rows: torch.Tensor, size: int):
        self.neighbours, self.weights, self.rows, self.size = neighbours, weights, rows, size
        self.position = torch.full((size,), -1, dtype=torch.long)
        self.position[rows] = torch.arange(len(rows))

    def scores(self, history: np.ndarray, recency: float = 1.0) -> np.ndarray:
        """``(N,)`` each title's weight from the liked rows of a history, oldest first.

        A like ``a`` likes before the latest counts ``recency ** a`` times (1: every like counts alike).
        """
        found = self.position[torch.as_tensor(np.asarray(history, dtype=np.int64))]
        ago = torch.arange(len(found) - 1, -1, -1, dtype=torch.float32)
        counts = (recency**ago)[found >= 0]
        found = found[found >= 0]
        total = torch.zeros(self.size)
        weights = self.weights[found].float() * counts[:, None]
        total.index_add_(0, self.neighbours[found].flatten(), weights.flatten())
        return total.numpy()


def ease(histories: list[np.ndarray], size: int, l2: float, neighbours: int = NEIGHBOURS) -> ItemToItem:
    """EASE weights from histories of catalog rows over a catalog of ``size`` titles, sparsified."""
    liked, counts = np.unique(np.concatenate(histories), return_counts=True)
    kept = liked[np.argsort(-counts, kind="stable")[:MAX_TITLES]]
    column = np.full(size, -1, dtype=np.int64)
    column[kept] = np.arange(len(kept))
    matrix = np.zeros((len(histories), len(kept)), dtype=np.float64)  # users × titles
    for user, history in enumerate(histories):
        inside = column[np.asarray(history, dtype=np.int64)]
        matrix[user, inside[inside >= 0]] = 1.0
    gram = torch.from_numpy(matrix.T @ matrix)
    gram.diagonal().add_(l2)
    inverse = torch.linalg.inv(gram)
    weights = -inverse / inverse.diagonal()[None, :]
    weights.diagonal().zero_()
    k = min(neighbours, len(kept))
    strongest = weights.abs().topk(k, dim=1).indices  # (M, k)
    kept_rows = torch.from_numpy(kept)
    return ItemToItem(kept_rows[strongest], weights.gather(1, strongest).float(), kept_rows, size)


def popularity(histories: list[np.ndarray], size: int) -> np.ndarray:
    """``(N,)`` how many histories liked each title."""
    counts = np.zeros(size, dtype=np.float32)
    for history in histories:
        counts[np.unique(history)] += 1
    return counts
