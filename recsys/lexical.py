"""The lexical term: BM25 (bm25s) over the document texts, for names and rare words.

Scores are divided by the query's best score over the catalog, a constant per query, so the term stays
in [0, 1] and remains a sum over query terms that an explanation can split.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from recsys.errors import ModelError


class LexicalIndex:
    """BM25 over a catalog's documents (English stop words removed, no stemming).

    Parameters
    ----------
    retriever : bm25s.BM25
        An indexed retriever.
    """

    def __init__(self, retriever: bm25s.BM25):
        self.retriever = retriever
        self.vocabulary = retriever.vocab_dict

    @classmethod
    def build(cls, documents: Sequence[str]) -> LexicalIndex:
        """Index documents; row ``i`` is ``documents[i]``."""
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(list(documents), show_progress=False), show_progress=False)
        return cls(retriever)

    def terms(self, query: str) -> list[str]:
        """The query's terms that occur in the index, in query order (repeats kept, as BM25 counts them).

        >>> LexicalIndex.build(["Aliens attack the space station", "A quiet farm"]).terms("Space aliens, again!")
        ['space', 'aliens']
        """
        tokens = bm25s.tokenize([query], return_ids=False, show_progress=False)[0]
        return [token for token in tokens if token in self.vocabulary]

    def scores(self, query: str) -> np.ndarray:
        """Normalised BM25 scores ``(N,)`` of every document (0 where the query shares no term)."""
        terms = self.terms(query)
        if not terms:
            return np.zeros(self.size, dtype=np.float32)
        raw = self.retriever.get_scores(terms).astype(np.float32)  # (N,)
        best = raw.max()
        return raw / best if best > 0 else raw

    def term_scores(self, query: str, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Each query term's part of the normalised score of the given rows; the parts sum to the score."""
        terms = self.terms(query)
        if not terms:
            return {}
        best = self.retriever.get_scores(terms).max()
        if best <= 0:
            return {}
        return {
            term: self.retriever.get_scores([term])[rows] * terms.count(term) / best for term in dict.fromkeys(terms)
        }

    @property
    def size(self) -> int:
        """Number of indexed documents."""
        return int(self.retriever.scores["num_docs"])

    def save(self, directory: str | Path) -> None:
        """Write the index as NumPy arrays and JSON (no pickle)."""
        self.retriever.save(str(directory), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, directory: str | Path) -> LexicalIndex:
        """Read an index written by :meth:`save`."""
        try:
            return cls(bm25s.BM25.load(str(directory), allow_pickle=False, show_progress=False, verbosity=0))
        except (OSError, ValueError, KeyError) as err:
            raise ModelError(f"{directory}: not a readable lexical index ({err})") from None
