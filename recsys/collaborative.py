"""Item-to-item weights and popularity learned from likes: the parts of a recommendation that need no text.

SLIST (Choi et al. 2021) learns, in closed form, how much liking title i says about liking title j next::

    B = (α XᵀX + (1 − α) SᵀS + λI)⁻¹ (α XᵀX + (1 − α) SᵀT)

``X`` is the users × titles like matrix (which titles go together, as EASE, Steck 2019, reads it); each
row of ``S`` is the likes before one like, the older ones counting less (``exp(−a / TRANSITION_DECAY)``
for a like ``a`` likes earlier), and the same row of ``T`` is the like that followed them (which titles
follow which). ``α`` and ``λ`` are chosen on held-out likes. A history's score for title j is
``Σ_i ρ^a(i) B_ij`` over the titles i it liked, ``a(i)`` likes ago: with ``ρ < 1`` recent likes count
more (``ρ`` is chosen too). Only each title's ``NEIGHBOURS`` largest weights are kept, so a model stores
``M × NEIGHBOURS`` numbers, not ``M²``. EASE itself (``B = I − P · diag(1 / diag P)``, ``P = (XᵀX + λI)⁻¹``)
is here as the baseline the benchmark compares against.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sparse
import torch

NEIGHBOURS = 256  # weights kept per liked title
EASE_L2 = (50.0, 200.0, 500.0, 1000.0)  # λ values tried on validation
SLIST_MIX = (0.25, 0.5, 0.75, 1.0)  # α values tried on validation: the share of XᵀX, the rest transitions
TRANSITION_DECAY = 10.0  # in a row of S, a like a likes before the one that follows counts exp(−a / 10)
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

    def per_like(self, history: np.ndarray, recency: float = 1.0) -> np.ndarray:
        """``(L, N)`` each like's weight on every title, counted as in :meth:`scores` (which is their sum)."""
        found = self.position[torch.as_tensor(np.asarray(history, dtype=np.int64))]
        ago = torch.arange(len(found) - 1, -1, -1, dtype=torch.float32)
        inside = torch.nonzero(found >= 0).flatten()
        weights = self.weights[found[inside]].float() * (recency ** ago[inside])[:, None]
        each = torch.zeros(len(found), self.size)
        each[inside[:, None], self.neighbours[found[inside]]] = weights
        return each.numpy()


def slist(
    histories: list[np.ndarray], size: int, l2: float, mix: float, neighbours: int = NEIGHBOURS
) -> ItemToItem:  # fmt: skip
    """SLIST weights from time-ordered histories of catalog rows over a catalog of ``size`` titles, sparsified.

    ``mix`` is ``α``: 1 learns only which titles go together, 0 only which follow which.
    """
    kept, column = _most_liked(histories)
    together = _like_matrix(histories, column).astype(np.float32)
    past, following = _transitions(histories, column)
    gram = mix * (together.T @ together) + (1 - mix) * (past.T @ past)
    target = mix * (together.T @ together) + (1 - mix) * (past.T @ following)
    gram = torch.from_numpy(gram.toarray().astype(np.float32))
    gram.diagonal().add_(l2)
    weights = torch.linalg.solve(gram, torch.from_numpy(target.toarray().astype(np.float32)))
    weights.diagonal().zero_()  # a title's weight on itself: it is never recommended to who liked it
    return _strongest(weights, kept, size, neighbours)


def ease(histories: list[np.ndarray], size: int, l2: float, neighbours: int = NEIGHBOURS) -> ItemToItem:
    """EASE weights from histories of catalog rows over a catalog of ``size`` titles, sparsified."""
    kept, column = _most_liked(histories)
    matrix = _like_matrix(histories, column)
    gram = torch.from_numpy((matrix.T @ matrix).toarray())
    gram.diagonal().add_(l2)
    inverse = torch.linalg.inv(gram)
    weights = -inverse / inverse.diagonal()[None, :]
    weights.diagonal().zero_()
    return _strongest(weights, kept, size, neighbours)


def _most_liked(histories: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The ``MAX_TITLES`` most-liked rows ``(M,)``, and each catalog row's column among them (−1: none)."""
    liked, counts = np.unique(np.concatenate(histories), return_counts=True)
    kept = liked[np.argsort(-counts, kind="stable")[:MAX_TITLES]]
    column = np.full(int(liked.max()) + 1, -1, dtype=np.int64)
    column[kept] = np.arange(len(kept))
    return kept, column


def _like_matrix(histories: list[np.ndarray], column: np.ndarray) -> sparse.csr_matrix:
    """Users × kept titles, 1 where the user liked the title."""
    found = [column[np.asarray(history, dtype=np.int64)] for history in histories]
    users = np.repeat(np.arange(len(found)), [len(f) for f in found])
    titles = np.concatenate(found)
    inside = titles >= 0
    shape = (len(found), int(column.max()) + 1)
    matrix = sparse.csr_matrix((np.ones(int(inside.sum())), (users[inside], titles[inside])), shape=shape)
    matrix.data[:] = 1.0  # a title liked twice is liked
    return matrix


def _transitions(histories: list[np.ndarray], column: np.ndarray) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """SLIST's ``S`` and ``T``: for each like after a history's first, the likes before it and the like itself.

    In a row of ``S``, a like ``a`` likes before the one that follows counts ``exp(−a / TRANSITION_DECAY)``;
    only the ``8 · TRANSITION_DECAY`` latest count (the older ones would count less than 0.0004).
    """
    reach = int(8 * TRANSITION_DECAY)
    past_rows, past_titles, past_weights, following = [], [], [], []
    for history in histories:
        found = column[np.asarray(history, dtype=np.int64)]
        for end in range(1, len(found)):
            if found[end] < 0:
                continue
            before = found[max(0, end - reach) : end]
            ago = np.arange(len(before) - 1, -1, -1)
            inside = before >= 0
            past_rows.append(np.full(int(inside.sum()), len(following)))
            past_titles.append(before[inside])
            past_weights.append(np.exp(-ago[inside] / TRANSITION_DECAY))
            following.append(found[end])
    shape = (len(following), int(column.max()) + 1)
    rows = np.concatenate(past_rows) if past_rows else np.empty(0, np.int64)
    past = sparse.csr_matrix(
        (np.concatenate(past_weights) if past_weights else np.empty(0),
         (rows, np.concatenate(past_titles) if past_titles else np.empty(0, np.int64))), shape=shape,
    )  # fmt: skip
    following = sparse.csr_matrix((np.ones(len(following)), (np.arange(len(following)), following)), shape=shape)
    return past.astype(np.float32), following.astype(np.float32)


def _strongest(weights: torch.Tensor, kept: np.ndarray, size: int, neighbours: int) -> ItemToItem:
    """Sparse item-to-item weights: each kept title's ``neighbours`` largest weights ``(M, M)`` by magnitude."""
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
