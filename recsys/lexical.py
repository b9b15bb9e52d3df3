"""The lexical term: BM25 (bm25s) over the document texts, for names and rare words.

Scores are divided by the query's ceiling: the sum over its terms of the best score each term gets in any
document, the most a document could score. A title that matches every word of a query as well as any title
does gets 1; one that matches a single common word of a long query gets a small part, not the whole
lexical weight. The ceiling is a constant per query, so the term stays in [0, 1] and remains a sum over
query terms that an explanation can split. Each document's token ids are
kept (``corpus.safetensors``), so adding or removing titles tokenises only the new ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np
import torch
from bm25s.tokenization import Tokenized
from safetensors.torch import load_file, save_file

from recsys.errors import ModelError

CORPUS_FILE = "corpus.safetensors"


class LexicalIndex:
    """BM25 over a catalog's documents (English stop words removed, no stemming).

    Parameters
    ----------
    retriever : bm25s.BM25
        An indexed retriever.
    corpus : list of list of int, optional
        Each document's token ids in the retriever's vocabulary (indexes from before they were kept
        have none, and are rebuilt whole on updates).
    """

    def __init__(self, retriever: bm25s.BM25, corpus: list[list[int]] | None = None):
        self.retriever = retriever
        self.vocabulary = retriever.vocab_dict
        self.corpus = corpus
        self.term_ceilings = _term_ceilings(retriever.scores, len(self.vocabulary))  # (V,) best score per term

    @classmethod
    def build(cls, documents: Sequence[str]) -> LexicalIndex:
        """Index documents; row ``i`` is ``documents[i]``."""
        tokenized = bm25s.tokenize(list(documents), show_progress=False)
        return cls._indexed(tokenized.ids, tokenized.vocab)

    @classmethod
    def _indexed(cls, corpus: list[list[int]], vocabulary: dict[str, int]) -> LexicalIndex:
        retriever = bm25s.BM25()
        retriever.index(Tokenized(ids=corpus, vocab=vocabulary), show_progress=False)
        return cls(retriever, corpus)

    def added(self, documents: Sequence[str], everything: Callable[[], Sequence[str]]) -> LexicalIndex:
        """The index with ``documents`` appended; only they are tokenised.

        ``everything()`` (all documents, new ones last) is called only by an index without kept token ids.
        """
        if self.corpus is None:
            return LexicalIndex.build(everything())
        vocabulary = dict(self.vocabulary)
        tokens = bm25s.tokenize(list(documents), return_ids=False, show_progress=False)
        new = [[vocabulary.setdefault(token, len(vocabulary)) for token in document] for document in tokens]
        return LexicalIndex._indexed(self.corpus + new, vocabulary)

    def selected(self, rows: Sequence[int], everything: Callable[[], Sequence[str]]) -> LexicalIndex:
        """The index of some rows only, in the order given (for removing titles); nothing is tokenised.

        ``everything()`` (the documents of those rows) is called only by an index without kept token ids.
        """
        if self.corpus is None:
            return LexicalIndex.build(everything())
        corpus = [self.corpus[row] for row in rows]
        used = sorted({token for document in corpus for token in document})
        renumber = {token: n for n, token in enumerate(used)}
        names = {number: name for name, number in self.vocabulary.items()}
        vocabulary = {names[token]: renumber[token] for token in used}
        return LexicalIndex._indexed([[renumber[t] for t in document] for document in corpus], vocabulary)

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
        ceiling = self.ceiling(terms)
        if ceiling <= 0:
            return np.zeros(self.size, dtype=np.float32)
        return self.retriever.get_scores(terms).astype(np.float32) / ceiling  # (N,)

    def ceiling(self, terms: list[str]) -> float:
        """The most a document could score for these terms (repeats counted): each one's best score, summed.

        >>> index = LexicalIndex.build(["Farm aliens", "Aliens attack the space station", "A quiet farm"])
        >>> [round(float(score), 2) for score in index.scores("aliens on a farm")]
        [1.0, 0.36, 0.5]
        """
        return float(sum(self.term_ceilings[self.vocabulary[term]] for term in terms))

    def term_scores(self, query: str, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Each query term's part of the normalised score of the given rows; the parts sum to the score."""
        terms = self.terms(query)
        if not terms:
            return {}
        ceiling = self.ceiling(terms)
        if ceiling <= 0:
            return {}
        return {
            term: self.retriever.get_scores([term])[rows] * terms.count(term) / ceiling for term in dict.fromkeys(terms)
        }

    def document_frequency(self) -> dict[str, int]:
        """How many documents use each indexed word."""
        counts = np.diff(np.asarray(self.retriever.scores["indptr"]))
        return {word: int(counts[number]) for word, number in self.vocabulary.items() if number < len(counts)}

    def rows_with(self, word: str) -> np.ndarray:
        """The rows whose documents use an indexed word (none for a word not indexed)."""
        number = self.vocabulary.get(word)
        if number is None:
            return np.empty(0, np.int64)
        indptr = self.retriever.scores["indptr"]
        return np.asarray(self.retriever.scores["indices"][indptr[number] : indptr[number + 1]], dtype=np.int64)

    @property
    def size(self) -> int:
        """Number of indexed documents."""
        return int(self.retriever.scores["num_docs"])

    def save(self, directory: str | Path) -> None:
        """Write the index as NumPy arrays and JSON, and the token ids as safetensors (no pickle)."""
        self.retriever.save(str(directory), allow_pickle=False, show_progress=False)
        if self.corpus is not None:
            lengths = torch.tensor([0] + [len(document) for document in self.corpus], dtype=torch.int64)
            ids = torch.tensor([token for document in self.corpus for token in document], dtype=torch.int32)
            save_file({"ids": ids, "offsets": torch.cumsum(lengths, 0)}, Path(directory) / CORPUS_FILE)

    @classmethod
    def load(cls, directory: str | Path) -> LexicalIndex:
        """Read an index written by :meth:`save`."""
        try:
            retriever = bm25s.BM25.load(str(directory), allow_pickle=False, show_progress=False, verbosity=0)
            corpus = None
            if (Path(directory) / CORPUS_FILE).is_file():
                stored = load_file(Path(directory) / CORPUS_FILE)
                ids, offsets = stored["ids"].tolist(), stored["offsets"].tolist()
                corpus = [ids[start:end] for start, end in zip(offsets[:-1], offsets[1:], strict=True)]
        except (OSError, ValueError, KeyError, RuntimeError) as err:
            raise ModelError(f"{directory}: not a readable lexical index ({err})") from None
        return cls(retriever, corpus)


def _term_ceilings(scores: dict, size: int) -> np.ndarray:
    """``(size,)`` each term's highest BM25 score in any document (0 for none), from bm25s's per-term lists."""
    data, indptr = np.asarray(scores["data"], dtype=np.float32), np.asarray(scores["indptr"])
    ceilings = np.zeros(max(size, len(indptr) - 1), dtype=np.float32)
    used = np.flatnonzero(np.diff(indptr) > 0)  # terms with postings; a segment runs to the next one's start
    if len(used):
        ceilings[used] = np.maximum.reduceat(data, indptr[used])
    return ceilings
