"""The FAISS key store: exact inner-product search over movie keys, with metadata filters."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import faiss
import numpy as np

from recsys.errors import ModelError
from recsys.progress import Progress, progress_bar


class Neighbours(NamedTuple):
    """Search results for a batch of queries; rows with fewer matches than ``k`` are cut short."""

    scores: list[np.ndarray]
    rows: list[np.ndarray]


class KeyStore:
    """An inner-product FAISS index whose ids are catalog row numbers.

    Parameters
    ----------
    index : faiss.Index
        An ``IndexIDMap2`` around the actual index, so rows keep their ids when others are removed.
    """

    def __init__(self, index: faiss.Index):
        self.index = index

    @classmethod
    def build(cls, keys: np.ndarray, progress: Progress = False, chunk: int = 16384) -> KeyStore:
        """Index keys ``(N, D)``; row ``i`` gets id ``i``."""
        keys = _as_matrix(keys, "keys")
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(keys.shape[1]))
        with progress_bar(progress, len(keys), "indexing", "key") as bar:
            for start in range(0, len(keys), chunk):
                block = keys[start : start + chunk]
                index.add_with_ids(block, np.arange(start, start + len(block), dtype=np.int64))
                bar.update(len(block))
        return cls(index)

    @property
    def dim(self) -> int:
        """Width of the keys."""
        return self.index.d

    def __len__(self) -> int:
        return self.index.ntotal

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> Neighbours:
        """Return the ``k`` highest inner products for each query.

        Parameters
        ----------
        queries : np.ndarray
            ``(Q, D)`` float32 query vectors.
        k : int
            Number of neighbours wanted.
        allowed : np.ndarray of bool, optional
            Mask over rows; only rows marked True are searched (through a FAISS ID selector).
        """
        queries = _as_matrix(queries, "queries")
        if queries.shape[1] != self.dim:
            raise ValueError(f"queries have width {queries.shape[1]}, keys have {self.dim}")
        k = min(int(k), len(self))
        if k <= 0:
            empty = [np.empty(0, np.float32)] * len(queries)
            return Neighbours(empty, [np.empty(0, np.int64)] * len(queries))
        params = None
        if allowed is not None:
            bits = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
            # The selector points into `bits`; both locals stay referenced until the search returns.
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
            params = faiss.SearchParameters(sel=selector)
        scores, rows = self.index.search(queries, k, params=params)
        found = rows >= 0  # FAISS pads with -1 when the filter leaves fewer than k rows
        return Neighbours(
            [s[m] for s, m in zip(scores, found, strict=True)], [r[m] for r, m in zip(rows, found, strict=True)]
        )

    def matrix(self) -> np.ndarray:
        """All keys ``(N, D)`` in row order, as a read-only view of the flat index's storage (no copy)."""
        flat = faiss.downcast_index(self.index.index)
        view = faiss.rev_swig_ptr(flat.get_xb(), len(self) * self.dim).reshape(len(self), self.dim)
        view.flags.writeable = False
        return view

    def save(self, path: str | Path) -> None:
        """Write the index with FAISS's own format."""
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: str | Path) -> KeyStore:
        """Read an index written by :meth:`save`."""
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as err:
            raise ModelError(f"{path}: not a readable FAISS index ({str(err).splitlines()[0]})") from err


def _as_matrix(array: np.ndarray, name: str) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float32)
    if array.ndim != 2:
        raise TypeError(f"{name} must be a 2-D array, got shape {array.shape}")
    return array
