"""The FAISS key store: inner-product search over movie keys, with metadata filters.

Up to ``FLAT_LIMIT`` keys the index is flat (exact); beyond, an HNSW graph over keys stored with 8-bit
scalar quantisation (HNSW-SQ8: about 0.6 KB per 384-wide key with its links, a millisecond per query at a
million keys). The choice is automatic, can be overridden, and is recorded in the model's config.
An inverted file (IVF-SQ8) was measured too and needed a third of its lists probed for recall@10 ≥ 0.95 on
text queries, too slow at a million keys (``benchmarks/scale.py``).
"""

from __future__ import annotations

import math
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


FLAT_LIMIT = 200_000  # above this many keys, "auto" picks HNSW-SQ8
INDEX_TYPES = ("auto", "flat", "hnsw-sq8")
HNSW_LINKS = 32  # graph neighbours per key (M)
HNSW_BUILD_DEPTH = 128  # efConstruction: at 1M keys, 64 needed search depth 2048 (~5 ms) for recall 0.95


def default_depth(rows: int) -> int:
    """HNSW search depth (efSearch) for ``rows`` keys: about rows / 1000, a power of two in 256–1024.

    Measured with ``benchmarks/scale.py`` (catalog-like keys, text queries, 2 cores): depth 256 gives
    recall@10 0.97 at 100k keys; at 1M keys depth 768 gives 0.956 and 1024 gives 0.963 in 2.3 ms.

    >>> default_depth(100_000), default_depth(500_000), default_depth(1_000_000), default_depth(5_000_000)
    (256, 512, 1024, 1024)
    """
    return int(min(1024, max(256, 2 ** math.ceil(math.log2(max(rows, 1) / 1000)))))


def choose_kind(rows: int) -> str:
    """The index for a key store of ``rows`` keys: flat while exact search is fast enough, else HNSW-SQ8.

    >>> choose_kind(8_807), choose_kind(1_000_000)
    ('flat', 'hnsw-sq8')
    """
    return "flat" if rows <= FLAT_LIMIT else "hnsw-sq8"


class KeyStore:
    """An inner-product FAISS index whose ids are catalog row numbers.

    Parameters
    ----------
    index : faiss.Index
        An ``IndexIDMap2`` around a flat or an HNSW-SQ8 index, so ids are catalog rows.
    depth : int, optional
        HNSW search depth (efSearch); ignored for a flat index.
    """

    def __init__(self, index: faiss.Index, depth: int | None = None):
        self.index = index
        inner = faiss.downcast_index(index.index if hasattr(index, "id_map") else index)
        self.kind = "hnsw-sq8" if isinstance(inner, faiss.IndexHNSW) else "flat"
        self.depth = (depth or default_depth(index.ntotal)) if self.kind == "hnsw-sq8" else None

    @property
    def exact(self) -> bool:
        """Whether search is exhaustive (flat): then :meth:`matrix` is available."""
        return self.kind == "flat"

    def describe(self) -> dict:
        """What the config records and the CLI shows: type, rows, and for HNSW its links and depth."""
        if self.exact:
            return {"type": "flat-inner-product", "rows": len(self)}
        return {"type": "hnsw-sq8-inner-product", "rows": len(self), "links": HNSW_LINKS, "depth": self.depth}

    @classmethod
    def build(
        cls, keys: np.ndarray, progress: Progress = False, kind: str = "auto", chunk: int = 16384, seed: int = 0
    ) -> KeyStore:
        """Index keys ``(N, D)``; row ``i`` gets id ``i``. ``kind`` is one of :data:`INDEX_TYPES`."""
        keys = _as_matrix(keys, "keys")
        if kind not in INDEX_TYPES:
            raise ValueError(f"unknown index kind {kind!r}; choose one of {', '.join(INDEX_TYPES)}")
        kind = choose_kind(len(keys)) if kind == "auto" else kind
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(keys.shape[1]) if kind == "flat" else _hnsw(keys, seed))
        with progress_bar(progress, len(keys), "indexing", "key") as bar:
            for start in range(0, len(keys), chunk):
                block = keys[start : start + chunk]
                index.add_with_ids(block, np.arange(start, start + len(block), dtype=np.int64))
                bar.update(len(block))
        return cls(index, depth=None)

    def extended(self, keys: np.ndarray) -> KeyStore:
        """A copy with more keys, their ids continuing the rows (for adding titles); this store is unchanged.

        A flat store then equals one built from all the keys; a graph gets the new keys linked in.
        """
        keys = _as_matrix(keys, "keys")
        index = faiss.clone_index(self.index)
        index.add_with_ids(keys, np.arange(len(self), len(self) + len(keys), dtype=np.int64))
        return KeyStore(index)

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
        selector = None
        if allowed is not None:
            bits = np.packbits(np.asarray(allowed, dtype=bool), bitorder="little")
            # The selector points into `bits`; both locals stay referenced until the search returns.
            selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
        if self.exact:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        else:
            params = faiss.SearchParametersHNSW(efSearch=max(self.depth, k))
            if selector is not None:
                params.sel = selector
        scores, rows = self.index.search(queries, k, params=params)
        found = rows >= 0  # FAISS pads with -1 when the filter leaves fewer than k rows
        return Neighbours(
            [s[m] for s, m in zip(scores, found, strict=True)], [r[m] for r, m in zip(rows, found, strict=True)]
        )

    def matrix(self) -> np.ndarray:
        """All keys ``(N, D)`` in row order, as a read-only view of the flat index's storage (no copy)."""
        if not self.exact:
            raise TypeError("an HNSW-SQ8 key store keeps no exact key matrix; rescore candidates instead")
        flat = faiss.downcast_index(self.index.index)
        view = faiss.rev_swig_ptr(flat.get_xb(), len(self) * self.dim).reshape(len(self), self.dim)
        view.flags.writeable = False
        return view

    def save(self, path: str | Path) -> None:
        """Write the index with FAISS's own format."""
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: str | Path, depth: int | None = None) -> KeyStore:
        """Read an index written by :meth:`save`."""
        try:
            return cls(faiss.read_index(str(path)), depth)
        except RuntimeError as err:
            raise ModelError(f"{path}: not a readable FAISS index ({str(err).splitlines()[0]})") from err


def _hnsw(keys: np.ndarray, seed: int) -> faiss.Index:
    """An HNSW graph over 8-bit scalar-quantised keys, the quantiser trained on a seeded sample."""
    index = faiss.IndexHNSWSQ(keys.shape[1], faiss.ScalarQuantizer.QT_8bit, HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_BUILD_DEPTH
    rng = np.random.default_rng(seed)
    index.train(keys[np.sort(rng.choice(len(keys), min(len(keys), 100_000), replace=False))])
    return index


def _as_matrix(array: np.ndarray, name: str) -> np.ndarray:
    array = np.ascontiguousarray(array, dtype=np.float32)
    if array.ndim != 2:
        raise TypeError(f"{name} must be a 2-D array, got shape {array.shape}")
    return array
