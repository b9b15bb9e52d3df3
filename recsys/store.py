"""The title store: a catalog's titles as a model reads them.

For each title: its document text's encoder embedding, its key in the key store (``W_k e``), its entry in
the BM25 index and, for explanations, its word vectors. Built with one encoder pass; added to and removed
from without encoding the titles already there; saved as the model directory's ``embeddings``, ``keys``,
``lexical`` and ``words`` (``recsys.modeldir``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from recsys import modeldir
from recsys.catalog import DOCUMENT_TEMPLATE, Catalog
from recsys.encoding import TextEncoder
from recsys.head import AttentionHead
from recsys.index import KeyStore
from recsys.lexical import LexicalIndex
from recsys.progress import Progress
from recsys.words import WORDS_VERSION, WordVectors, aligned, word_vectors
from recsys.wordstore import WordStore

WORD_STORE_LIMIT = 200_000  # larger catalogs keep no word store by default (about 16 KB a title)
CANDIDATES = 1000  # titles an approximate key store proposes for exact rescoring
FILTERED_SCAN = 50_000  # with an approximate store, filters leaving at most this many titles scan them all


@dataclass(frozen=True, eq=False)
class TitleStore:
    """Every title's embedding, key, BM25 entry and word vectors, in catalog row order.

    Attributes
    ----------
    template : str
        How a catalog row becomes the text the encoder reads, ``"{title}. {description}"`` by default.
    embeddings : np.ndarray
        ``(N, C)`` normalised encoder embeddings of the documents.
    keys : KeyStore
        The head's keys of the embeddings, searched by inner product.
    lexical : LexicalIndex
        BM25 over the documents.
    words : WordStore or None
        Each title's word vectors for explanations; None re-encodes the descriptions an explanation shows.
    """

    template: str
    embeddings: np.ndarray
    keys: KeyStore
    lexical: LexicalIndex
    words: WordStore | None

    @classmethod
    def build(
        cls, catalog: Catalog, encoder: TextEncoder, head: AttentionHead, template: str = DOCUMENT_TEMPLATE,
        progress: Progress = False, index: str = "auto", word_store: bool | None = None,
    ) -> TitleStore:  # fmt: skip
        """Encode and index a catalog's titles (``index`` and ``word_store`` as in ``MovieSearch.build``)."""
        documents = catalog.documents(template)
        keep_words = len(catalog) <= WORD_STORE_LIMIT if word_store is None else word_store
        embeddings, words = embed_documents(encoder, documents, keep_words, progress, "embedding")
        keys = KeyStore.build(key_vectors(head, embeddings), progress=progress, kind=index)
        return cls(template, embeddings, keys, LexicalIndex.build(documents), words)

    def __len__(self) -> int:
        return len(self.embeddings)

    def documents(self, catalog: Catalog, rows: list[int] | None = None) -> list[str]:
        """The document texts of a catalog's titles (or of some rows)."""
        return catalog.documents(self.template, rows)

    def added(
        self, titles: Catalog, catalog: Catalog, encoder: TextEncoder, head: AttentionHead, progress: Progress
    ) -> TitleStore:
        """The store with ``titles`` appended (``catalog`` is the whole catalog after); only they are encoded."""
        documents = titles.documents(self.template)
        keep_words = self.words is not None
        embeddings, words = embed_documents(encoder, documents, keep_words, progress, "embedding new titles")
        return TitleStore(
            self.template,
            np.concatenate([self.embeddings, embeddings]),
            self.keys.extended(key_vectors(head, embeddings)),
            self.lexical.added(documents, lambda: self.documents(catalog)),
            self.words.joined(words) if self.words is not None else None,
        )

    def selected(self, keep: np.ndarray, catalog: Catalog, head: AttentionHead, progress: Progress) -> TitleStore:
        """The store of the rows ``keep`` only (``catalog`` is the catalog of those rows); nothing is encoded."""
        embeddings = self.embeddings[keep]
        return TitleStore(
            self.template,
            embeddings,
            KeyStore.build(key_vectors(head, embeddings), progress=progress, kind=self.keys.kind),
            self.lexical.selected(keep.tolist(), lambda: self.documents(catalog)),
            self.words.select(torch.from_numpy(keep)) if self.words is not None else None,
        )

    def with_head(self, head: AttentionHead) -> TitleStore:
        """The same titles with the keys of another head; nothing is encoded."""
        keys = KeyStore.build(key_vectors(head, self.embeddings), kind=self.keys.kind)
        return TitleStore(self.template, self.embeddings, keys, self.lexical, self.words)

    def with_encoding(self, embeddings: np.ndarray, words: WordStore | None, head: AttentionHead) -> TitleStore:
        """The same titles encoded by another encoder (after fine-tuning): its embeddings and word store."""
        keys = KeyStore.build(key_vectors(head, embeddings), kind=self.keys.kind)
        return TitleStore(self.template, embeddings, keys, self.lexical, words)

    def candidates(self, vector: np.ndarray, k: int, allowed: np.ndarray | None) -> np.ndarray:
        """Sorted rows to score exactly for a query vector ``(D,)``: every allowed row of a flat store.

        With an approximate store, the graph's best ``CANDIDATES``; or every allowed row when a filter
        leaves at most ``FILTERED_SCAN`` (a graph search under a selective filter misses titles, and such a
        scan is cheap), or when the graph found fewer than ``k`` of them.
        """
        every = np.arange(len(self)) if allowed is None else np.flatnonzero(allowed)
        if self.keys.exact or len(every) <= FILTERED_SCAN and allowed is not None:
            return every
        found = np.sort(self.keys.search(vector[None], max(CANDIDATES, k), allowed).rows[0])
        return every if len(found) < min(k, len(every)) else found

    def word_vectors(self, catalog: Catalog, rows: list[int], encoder: TextEncoder) -> list[WordVectors]:
        """The word vectors of some titles: from the word store, or encoded again without one."""
        documents = self.documents(catalog, rows)
        if self.words is None:  # aligned: bfloat16 encoding in another batch may move the sum by about 1e-4
            encoded = encoder.token_states(documents, documents=True)
            return [
                aligned(word_vectors(states), self.embeddings[row]) for row, states in zip(rows, encoded, strict=True)
            ]
        return [self.words.get(row, text, self.embeddings[row]) for row, text in zip(rows, documents, strict=True)]

    def save(self, directory: Path) -> tuple[dict, dict[str, str]]:
        """Write the store's files; return its config section and the checksums of word segments linked."""
        embeddings = torch.from_numpy(self.embeddings)
        save_file({"embeddings": embeddings}, modeldir.location(directory, "embeddings"))
        self.keys.save(modeldir.location(directory, "keys"))
        self.lexical.save(modeldir.location(directory, "lexical"))
        linked = self.words.save(modeldir.location(directory, "words")) if self.words is not None else {}
        words = {"version": WORDS_VERSION} if self.words is not None else None
        return {"document_template": self.template, "index": self.keys.describe(), "words": words}, linked

    def stored_in(self, directory: Path, checksums: dict[str, str]) -> None:
        """Remember where the word store's segments now are (after a save), so the next save links them."""
        if self.words is not None:
            self.words.stored_in(modeldir.location(directory, "words"), checksums)

    @classmethod
    def load(cls, directory: Path, section: dict, checksums: dict[str, str]) -> TitleStore:
        """Read a store written by :meth:`save`; a word store of another version is not used."""
        embeddings = load_file(modeldir.location(directory, "embeddings"))["embeddings"].numpy()
        keys = KeyStore.load(modeldir.location(directory, "keys"), depth=section["index"].get("depth"))
        lexical = LexicalIndex.load(modeldir.location(directory, "lexical"))
        current = (section.get("words") or {}).get("version") == WORDS_VERSION
        words = WordStore.load(modeldir.location(directory, "words"), checksums) if current else None
        return cls(section["document_template"], embeddings, keys, lexical, words)


def embed_documents(
    encoder: TextEncoder, documents: list[str], keep_words: bool, progress: Progress, desc: str
) -> tuple[np.ndarray, WordStore | None]:
    """Documents' embeddings and, if ``keep_words``, their word store, from one encoder pass."""
    if not keep_words:
        return encoder.embed(documents, progress=progress, desc=desc, documents=True), None
    embeddings, words = encoder.embed(documents, progress=progress, desc=desc, per_text=word_vectors, documents=True)
    return embeddings, WordStore.from_words(words)


def key_vectors(head: AttentionHead, embeddings: np.ndarray) -> np.ndarray:
    """The head's keys ``(N, D)`` of embeddings ``(N, C)``."""
    with torch.inference_mode():
        return head.keys(torch.from_numpy(embeddings)).numpy()
