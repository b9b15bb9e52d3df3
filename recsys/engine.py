"""MovieSearch: the catalog, the encoder, the attention head and the key store, tied together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file

from recsys import artifacts
from recsys.catalog import DOCUMENT_TEMPLATE, Catalog
from recsys.encoding import TextEncoder, TokenStates
from recsys.errors import CatalogError, ModelError, QueryError
from recsys.explain import WORDS_VERSION, Explanation, current_words_file, explain_words, word_vectors
from recsys.head import AttentionHead, HeadConfig
from recsys.index import KeyStore
from recsys.lexical import LexicalIndex
from recsys.pretrained import PRETRAINED_NAME, PRETRAINED_PACKAGE, pretrained_dir
from recsys.progress import Progress
from recsys.query import Intents, QueryParser
from recsys.tokenizer import Tokenizer
from recsys.transformer import Encoder, EncoderConfig
from recsys.wordstore import WordStore

YearRange = tuple[int | None, int | None]


WORDS_FILE = "words"  # the word store's folder
WORD_STORE_LIMIT = 200_000  # larger catalogs keep no word store by default (about 16 KB a title)
CANDIDATES = 1000  # titles an approximate key store proposes for exact rescoring with BM25 and boosts
FILTERED_SCAN = 50_000  # with an approximate store, filters leaving at most this many titles scan them all
MAX_QUERY_CHARS = 2000  # longer queries (a pasted page) are cut here: bounded time, same results


class Hit(NamedTuple):
    """One search result: ``score`` is the attention score q·k, ``weight`` its softmax over the results."""

    id: str
    title: str
    year: int | None
    genres: list[str]
    score: float
    weight: float


# A title recommended from liked ones: Hit's fields, then the liked title whose attention drew it most.
Recommendation = NamedTuple("Recommendation", [*Hit.__annotations__.items(), ("because_id", str), ("because", str)])


@dataclass
class SearchSettings:
    """How queries are scored beyond q·k; saved with each model. Training chooses them on validation."""

    understand_queries: bool = False  # read genres, years and kind from the query (recsys.query)
    lexical_weight: float = 0.0  # λ: weight of the normalised BM25 term in the score
    genre_boost: float = 0.0  # β: added to the score times the share of the query's genres a title has
    predicted_genre_boost: float = 0.0  # the same for genres predicted from descriptions (unlabelled catalogs)
    predicted_genre_only_boost: float = 0.0  # ... when the query is only genres ("horror"), in place of a filter


class MovieSearch:
    """Search a catalog by attention: the query is Q, the movies are the keys K and carry values V.

    Build one with :meth:`build` or :meth:`load`; do not call the constructor directly.
    """

    def __init__(
        self,
        catalog: Catalog,
        text_encoder: TextEncoder,
        head: AttentionHead,
        keys: KeyStore,
        embeddings: np.ndarray,
        lexical: LexicalIndex,
        settings: SearchSettings | None = None,
        template: str = DOCUMENT_TEMPLATE,
        metrics: dict | None = None,
        words: WordStore | None = None,
    ):
        self.catalog = catalog
        self.text_encoder = text_encoder
        self.head = head.eval()
        self.keys = keys
        self.embeddings = embeddings  # (N, C) normalised encoder embeddings, cached for retraining
        self.lexical = lexical
        self.settings = settings or SearchSettings()
        self.template = template
        self._label_masks: dict[tuple[str, ...], np.ndarray] = {}  # titles having any of these labels
        self.metrics = metrics or {}
        self.words = words  # every title's word vectors, for explanations; None re-encodes descriptions

    # -- building -------------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        encoder: str | TextEncoder = "minilm",
        base: MovieSearch | None = None,
        progress: Progress = False,
        index: str = "auto",
        precision: str | None = None,
        word_store: bool | None = None,
    ) -> MovieSearch:
        """Embed and index a catalog.

        Parameters
        ----------
        catalog : Catalog
            The titles to index.
        encoder : {"minilm", "tiny"} or TextEncoder
            Without ``base``: the pretrained all-MiniLM-L6-v2 encoder, a random ``tiny`` one whose
            WordPiece vocabulary is learned from the catalog, or an encoder already loaded.
            The head starts untrained (plain cosine similarity).
        base : MovieSearch, optional
            Reuse this model's encoder and head (for example a trained model) on the new catalog.
        progress : bool or callable
            Show progress bars on standard error, or report progress to a callback (see ``recsys.progress``).
        index : {"auto", "flat", "hnsw-sq8"}
            The key store: "auto" is flat up to 200,000 titles, HNSW-SQ8 beyond (see ``recsys.index``).
        precision : {"auto", "float32", "bfloat16"}, optional
            Arithmetic for encoding the descriptions (see ``recsys.encoding``); by default the encoder's,
            which is "auto" for a new one: bfloat16 where the CPU computes it natively.
        word_store : bool, optional
            Keep every title's word vectors, so explaining a result encodes no description (about 16 KB
            a title on disk and in memory). By default kept up to ``WORD_STORE_LIMIT`` titles; without
            it, explanations encode the ten or so descriptions they show, in the same precision.
        """
        if base is not None:
            text_encoder, head, template, settings = base.text_encoder, base.head, base.template, base.settings
        else:
            text_encoder, template = _new_text_encoder(encoder, catalog), DOCUMENT_TEMPLATE
            head, settings = AttentionHead(HeadConfig(dim=text_encoder.dim)), SearchSettings()
        if precision is not None:
            text_encoder = text_encoder.with_precision(precision)
        documents = catalog.documents(template)
        keep_words = len(catalog) <= WORD_STORE_LIMIT if word_store is None else word_store
        embeddings, store = embed_documents(text_encoder, documents, keep_words, progress, "embedding")
        keys = _index_keys(head, embeddings, progress, index)
        lexical = LexicalIndex.build(documents)
        return cls(catalog, text_encoder, head, keys, embeddings, lexical, replace(settings), template, words=store)

    def with_head(
        self,
        head: AttentionHead,
        settings: SearchSettings,
        metrics: dict | None = None,
        text_encoder: TextEncoder | None = None,
        embeddings: np.ndarray | None = None,
        words: WordStore | None = None,
    ) -> MovieSearch:
        """The same catalog with another head and settings; keys are recomputed from the embeddings.

        Without ``text_encoder`` and ``embeddings`` (a fine-tuned encoder and the catalog embedded by it,
        with ``words``, its word store, or None), the encoder and its cached embeddings and word store are
        kept: nothing is re-encoded.
        """
        if text_encoder is not None and embeddings is None:
            raise ValueError("a new text encoder needs the catalog's embeddings (and word store) from it")
        embeddings = self.embeddings if embeddings is None else embeddings
        keys = _index_keys(head, embeddings, progress=False, kind=self.keys.kind)
        return MovieSearch(
            self.catalog,
            text_encoder or self.text_encoder,
            head,
            keys,
            embeddings,
            self.lexical,
            settings,
            self.template,
            metrics if metrics is not None else self.metrics,
            words if text_encoder is not None else self.words,
        )

    # -- live updates ---------------------------------------------------------------------------------

    def add(self, titles: Catalog, progress: Progress = False) -> MovieSearch:
        """Return the model with more titles: only they are encoded; keys and the BM25 index are rebuilt.

        The result ranks as a model built from the whole catalog with the same encoder and head would.

        Raises
        ------
        CatalogError
            If a title's id is already in the catalog.
        """
        taken = set(self.catalog.ids)
        for row, movie_id in enumerate(titles.ids, start=1):
            if movie_id in taken:
                raise CatalogError(titles.source, f"id {movie_id!r} is already in the model", row=row, field="id")
        documents = titles.documents(self.template)
        embeddings, words = embed_documents(
            self.text_encoder, documents, self.words is not None, progress, "embedding new titles"
        )
        catalog = self._catalog_of(pd.concat([self.catalog.frame, titles.frame], ignore_index=True))
        store = self.words.joined(words) if self.words is not None else None
        keys = self.keys.extended(_key_vectors(self.head, embeddings))
        lexical = self.lexical.added(documents, lambda: catalog.documents(self.template))
        return self._updated(catalog, np.concatenate([self.embeddings, embeddings]), store, keys, lexical)

    def remove(self, movie_ids: Iterable[str], progress: Progress = False) -> MovieSearch:
        """Return the model without some titles; nothing is encoded.

        Raises
        ------
        QueryError
            If an id is not in the catalog, or nothing would be left.
        """
        gone = {self._row(movie_id) for movie_id in movie_ids}
        keep = np.array([row for row in range(len(self.catalog)) if row not in gone], dtype=np.int64)
        if not len(keep):
            raise QueryError("removing these would leave no title")
        catalog = self._catalog_of(self.catalog.frame.iloc[keep].reset_index(drop=True))
        store = self.words.select(torch.from_numpy(keep)) if self.words is not None else None
        embeddings = self.embeddings[keep]
        keys = _index_keys(self.head, embeddings, progress, kind=self.keys.kind)
        lexical = self.lexical.selected(keep.tolist(), lambda: catalog.documents(self.template))
        return self._updated(catalog, embeddings, store, keys, lexical)

    def _catalog_of(self, frame: pd.DataFrame) -> Catalog:
        """A catalog of other rows, with this catalog's source and recognised columns."""
        return Catalog(frame, source=self.catalog.source, columns=self.catalog.columns)

    def _updated(
        self, catalog: Catalog, embeddings: np.ndarray, words, keys: KeyStore, lexical: LexicalIndex
    ) -> MovieSearch:
        return MovieSearch(catalog, self.text_encoder, self.head, keys, embeddings, lexical, self.settings,
                           self.template, self.metrics, words)  # fmt: skip

    # -- searching ------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        genres: Iterable[str] | None = None,
        years: YearRange | None = None,
        kind: str | None = None,
    ) -> list[Hit]:
        """Rank the catalog for a query.

        Parameters
        ----------
        query : str
            Free text ("sci-fi about first contact with aliens").
        k : int
            Number of results.
        genres, years, kind
            Filters, applied inside the key store (see :meth:`Catalog.mask`).

        Raises
        ------
        QueryError
            For an empty query or a ``k`` below 1.
        """
        return self.search_many([query], k, genres=genres, years=years, kind=kind)[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        genres: Iterable[str] | None = None,
        years: YearRange | None = None,
        kind: str | None = None,
    ) -> list[list[Hit]]:
        """Rank the catalog for many queries at once (one batched encoder pass)."""
        if k < 1:
            raise QueryError(f"k must be at least 1, got {k}")
        for query in queries:
            _check_query(query)
        user_mask = self.catalog.mask(genres=genres, years=years, kind=kind)
        intents = [self.understand(query) for query in queries]
        vectors = self.query_vectors([intent.text for intent in intents])  # (Q, D)
        return [self._rank(intent, vector, k, user_mask) for intent, vector in zip(intents, vectors, strict=True)]

    def recommend(self, liked_ids: Sequence[str], k: int = 10) -> list[Recommendation]:
        """Rank the catalog by attention from liked titles; the liked ones are left out.

        Each liked title's value vector is read as a query, ``q_l = W_q v_l``; a title's score is the mean
        of ``q_l · k`` over the liked titles, so it splits exactly into one part per liked title, and the
        largest part names the liked title that drew it.

        Raises
        ------
        QueryError
            If nothing is liked, an id is not in the catalog, or ``k`` is below 1.
        """
        if k < 1:
            raise QueryError(f"k must be at least 1, got {k}")
        liked = [self._row(movie_id) for movie_id in dict.fromkeys(liked_ids)]
        if not liked:
            raise QueryError("like at least one title to get recommendations")
        with torch.inference_mode():
            embeddings = torch.from_numpy(self.embeddings[liked])
            queries = self.head.queries(self.head.values(embeddings)).numpy()  # (L, D)
        # (N, L): each liked title's part of each score
        parts = self.keys.matrix() @ queries.T if self.keys.exact else self._dense_scores(queries)
        scores = parts.mean(1)  # (N,)
        top = _top_rows(scores, np.setdiff1d(np.arange(len(scores)), liked), k)
        hits = self._hits(scores[top].astype(np.float32), top)
        drawn_by = [liked[column] for column in parts[top].argmax(1)]
        return [Recommendation(*hit, *self._records[row][:2]) for hit, row in zip(hits, drawn_by, strict=True)]

    def understand(self, query: str) -> Intents:
        """What the query was read as (genres, years, kind), if this model understands queries.

        Only the first ``MAX_QUERY_CHARS`` characters of a query are read (the encoder reads 256 tokens).
        """
        query = query[:MAX_QUERY_CHARS]
        if not self.settings.understand_queries:
            return Intents(text=" ".join(query.split()))
        return self._parser.parse(query)

    def query_vectors(self, queries: Sequence[str]) -> np.ndarray:
        """Flat query vectors ``(Q, D)`` whose inner products with the keys are the dense scores."""
        embeddings = torch.from_numpy(self.text_encoder.embed(queries))  # (Q, C)
        with torch.inference_mode():
            return self.head.queries(embeddings).numpy()  # (Q, D)

    def _boosts(self, intent: Intents, share: np.ndarray | None) -> list[tuple[str, float, np.ndarray]]:
        """The genre terms added to the score: (what, β, per-title value); ``share`` from :meth:`_genre_share`."""
        boosts = []
        beta = self.settings.predicted_genre_only_boost if intent.genre_only else self.settings.predicted_genre_boost
        if intent.predicted and beta:
            columns = [self.head.config.genres.index(genre) for genre in intent.predicted]
            name = "predicted genre: " + ", ".join(intent.predicted)
            boosts.append((name, beta, self._predicted_genres[:, columns].mean(1)))
        if share is not None and not intent.genre_only and self.settings.genre_boost:
            boosts.append(("genre: " + ", ".join(intent.genres), self.settings.genre_boost, share))
        return boosts

    def _rank(self, intent: Intents, vector: np.ndarray, k: int, user_mask: np.ndarray | None) -> list[Hit]:
        allowed = _both(user_mask, self.catalog.mask(years=intent.years, kind=intent.kind))
        share = self._genre_share(intent)
        boosts = [(beta, values) for _, beta, values in self._boosts(intent, share)]
        if share is None or not intent.genre_only:  # "sci-fi about aliens": titles of the genres get a boost
            return self._hits(*self._scored(intent, vector, k, allowed, boosts))
        # "horror", "90s romantic comedy": titles with all the named genres, then those with some.
        scores, rows = self._scored(intent, vector, k, _both(allowed, share == 1.0), boosts)
        if len(rows) < k:
            partial = _both(allowed, (share > 0) & (share < 1))
            more_scores, more_rows = self._scored(intent, vector, k - len(rows), partial, boosts)
            scores, rows = np.concatenate([scores, more_scores]), np.concatenate([rows, more_rows])
        return self._hits(scores, rows)

    def _scored(
        self, intent: Intents, vector: np.ndarray, k: int, allowed: np.ndarray | None, boosts: list
    ) -> tuple[np.ndarray, np.ndarray]:
        """The top ``k`` (scores, rows) among the allowed rows: q·k, plus λ·BM25 and each β·boost if set."""
        weight = self.settings.lexical_weight
        if self.keys.exact and not boosts and weight == 0.0:  # the score is q·k alone: FAISS's answer is exact
            found = self.keys.search(vector[None], k, allowed)
            return found.scores[0], found.rows[0]
        if self.keys.exact:
            scores = self.keys.matrix() @ vector  # (N,) every title, exactly: a flat scan, as FAISS does
            candidates = self._allowed_rows(allowed)
        else:  # a large catalog: the graph proposes candidates, each rescored exactly from its embedding
            candidates = self._candidates(vector, k, allowed)
            scores = np.zeros(len(self.catalog), dtype=np.float32)
            scores[candidates] = self._dense_scores(vector[None], candidates)[:, 0]
        if weight:
            scores = scores + weight * self.lexical.scores(intent.text)
        for beta, boost in boosts:
            scores = scores + beta * boost
        top = _top_rows(scores, candidates, k)
        return scores[top].astype(np.float32), top

    def _candidates(self, vector: np.ndarray, k: int, allowed: np.ndarray | None) -> np.ndarray:
        """Sorted rows to score exactly, with an approximate key store.

        The graph's best ``CANDIDATES``; or every allowed row when a filter leaves at most
        ``FILTERED_SCAN`` (a graph search under a selective filter misses titles, and such a scan is
        cheap), or when the graph found fewer than ``k`` of them.
        """
        count = len(self.catalog) if allowed is None else int(np.count_nonzero(allowed))
        if allowed is not None and count <= FILTERED_SCAN:
            return np.flatnonzero(allowed)
        found = np.sort(self.keys.search(vector[None], max(CANDIDATES, k), allowed).rows[0])
        return self._allowed_rows(allowed) if len(found) < min(k, count) else found

    def _allowed_rows(self, allowed: np.ndarray | None) -> np.ndarray:
        """The rows a mask allows, in order (every row without one)."""
        return np.arange(len(self.catalog)) if allowed is None else np.flatnonzero(allowed)

    def _dense_scores(self, queries: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Exact ``q·k`` ``(R, Q)`` of some titles (all without ``rows``) for query vectors ``(Q, D)``.

        Computed from the cached embeddings as ``e · (W_kᵀ q)``: one projection per query, none per title.
        """
        with torch.inference_mode():
            carried = self.head.queries_on_embeddings(torch.from_numpy(queries)).numpy()  # (Q, C)
        return (self.embeddings if rows is None else self.embeddings[rows]) @ carried.T  # (R, Q)

    def _genre_share(self, intent: Intents) -> np.ndarray | None:
        # Per title, the share of the query's genres it has (a genre counts if any of its labels match).
        if not intent.genres:
            return None
        masks = [self._labels_mask(tuple(labels)) for labels in intent.genres.values()]
        return np.mean(masks, axis=0)  # (N,)

    def _labels_mask(self, labels: tuple[str, ...]) -> np.ndarray:
        # Cached: a catalog has few genre labels, and queries name the same ones again and again.
        if labels not in self._label_masks:
            self._label_masks[labels] = self.catalog.mask(genres=labels)
        return self._label_masks[labels]

    def explain(self, query: str, movie_id: str | None = None, text: str | None = None) -> Explanation:
        """Split a title's score for a query over query words, description words, BM25 terms and boosts.

        Parameters
        ----------
        query : str
            The query, as given to :meth:`search`.
        movie_id : str, optional
            A title of the catalog; its score is the one :meth:`search` reports.
        text : str, optional
            Any description instead (only the attention part applies: no BM25 term, no genre boost).
        """
        if (movie_id is None) == (text is None):
            raise QueryError("explain needs either a movie id or a text, not both")
        if movie_id is not None:
            return self.explain_many(query, [movie_id])[0]
        _check_query(query)
        intent = self.understand(query)
        query_words, movie_words = (
            word_vectors(t) for t in self.text_encoder.token_states([intent.text, " ".join(text.split())])
        )
        with torch.inference_mode():
            explanation = explain_words(query_words, movie_words, self.head.bilinear())
        explanation.intents = list(intent.explained)
        return explanation

    def explain_many(self, query: str, movie_ids: Sequence[str]) -> list[Explanation]:
        """Explain several titles' scores for one query (a search's results): the query is encoded once.

        Titles' word vectors come from the model's word store, so no description is encoded again
        (models built before the store existed encode them, in one batch).
        """
        _check_query(query)
        intent = self.understand(query)
        rows = [self._row(movie_id) for movie_id in movie_ids]
        documents = self.catalog.documents(self.template, rows)
        query_words = word_vectors(self.text_encoder.token_states([intent.text])[0])
        if self.words is not None:
            movies = [self.words.get(row, doc, self.embeddings[row]) for row, doc in zip(rows, documents, strict=True)]
        else:
            movies = [word_vectors(t) for t in self.text_encoder.token_states(documents, documents=True)]
        with torch.inference_mode():
            bilinear = self.head.bilinear()  # (D, D), once for every title
        share = self._genre_share(intent)
        boosts = self._boosts(intent, share)
        weight = self.settings.lexical_weight
        terms = self.lexical.term_scores(intent.text, np.array(rows, dtype=np.int64)) if weight else {}
        explanations = []
        for n, (row, movie) in enumerate(zip(rows, movies, strict=True)):
            with torch.inference_mode():
                explanation = explain_words(query_words, movie, bilinear)
            explanation.intents = list(intent.explained)
            explanation.lexical = [(term, round(weight * float(v[n]), 6)) for term, v in terms.items() if v[n]]
            explanation.boosts = [
                (name, round(beta * float(values[row]), 6)) for name, beta, values in boosts if values[row]
            ]
            explanation.score = explanation.dense + sum(v for _, v in explanation.lexical + explanation.boosts)
            explanations.append(explanation)
        return explanations

    def attention_maps(self, text: str) -> TokenStates:
        """The encoder's own self-attention for a text: ``attention`` ``(layers, heads, T, T)`` and ``tokens``."""
        if not isinstance(text, str) or not text.strip():
            raise QueryError("there is no text to show the attention of")
        return self.text_encoder.token_states([text], attention=True)[0]

    def __contains__(self, movie_id: object) -> bool:
        return movie_id in self._row_of

    def title(self, movie_id: str) -> dict:
        """A catalog title as a dict: id, title, year, kind, genres, keywords, description."""
        return self.catalog.frame.iloc[self._row(movie_id)].to_dict()

    def _row(self, movie_id: str) -> int:
        if movie_id not in self._row_of:
            raise QueryError(f"no title with id {movie_id!r} in this model's catalog")
        return self._row_of[movie_id]

    @cached_property
    def _row_of(self) -> dict[str, int]:
        return {movie: row for row, movie in enumerate(self.catalog.ids)}

    @cached_property
    def _predicted_genres(self) -> np.ndarray:
        # (N, G) probability of each of the head's genres per title, read from its value vector.
        with torch.inference_mode():
            return self.head.genre_profile(self.head.values(torch.from_numpy(self.embeddings))).numpy()

    @cached_property
    def _parser(self) -> QueryParser:
        return QueryParser(self.catalog.genres(), set(self.catalog.frame["kind"]), self.head.config.genres)

    def _hits(self, scores: np.ndarray, rows: np.ndarray) -> list[Hit]:
        with torch.inference_mode():
            weights = self.head.attend(torch.from_numpy(scores)).numpy()  # (k,)
        records = self._records
        hits = []
        for score, row, weight in zip(scores, rows, weights, strict=True):
            movie_id, title, year, genres = records[row]
            hits.append(Hit(movie_id, title, year, list(genres), float(score), float(weight)))
        return hits

    @cached_property
    def _records(self) -> list[tuple[str, str, int | None, tuple[str, ...]]]:
        # (id, title, year, genres) per row, as plain Python values: a search then reads no DataFrame.
        frame = self.catalog.frame
        years = [None if pd.isna(year) else int(year) for year in frame["year"]]
        return list(zip(frame["id"], frame["title"], years, map(tuple, frame["genres"]), strict=True))

    # -- saving and loading -----------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the model directory atomically; return its path.

        The directory holds ``config.json``, ``head.safetensors``, the encoder (weights, or a checksummed
        reference to the pretrained ones), ``tokenizer.json``, ``keys.faiss``, ``embeddings.safetensors``,
        ``catalog.parquet``, ``metrics.json`` and the word store (``words/``). Nothing in it is a pickle.
        Word-store segments this model was loaded with are linked into the new directory, not rewritten.
        """
        known: dict[str, str] = {}
        with artifacts.atomic_directory(directory) as staging:
            save_file(self.head.state_dict(), staging / "head.safetensors")
            save_file({"embeddings": torch.from_numpy(self.embeddings)}, staging / "embeddings.safetensors")
            encoder_config = self._save_encoder(staging)
            self.text_encoder.tokenizer.save(staging / "tokenizer.json")
            self.keys.save(staging / "keys.faiss")
            self.lexical.save(staging / "lexical")
            self.catalog.to_parquet(staging / "catalog.parquet")
            if self.words is not None:
                known = self.words.save(staging / WORDS_FILE)
            artifacts.write_json(staging / "metrics.json", self.metrics)
            checksums = artifacts.write_config(
                staging,
                {
                    "encoder": encoder_config,
                    "head": self.head.config.to_dict(),
                    "search": asdict(self.settings),
                    "max_length": self.text_encoder.tokenizer.max_length,
                    "document_template": self.template,
                    "catalog": {
                        "source": self.catalog.source,
                        "rows": len(self.catalog),
                        "fingerprint": self.catalog.fingerprint(),
                    },
                    "index": self.keys.describe(),
                    "encoding": {
                        "precision": self.text_encoder.precision,
                        "documents": self.text_encoder.document_precision,
                    },
                    "explanations": {"words": WORDS_FILE if self.words is not None else None, "version": WORDS_VERSION},
                },
                known,
            )
        if self.words is not None:
            self.words.stored_in(Path(directory) / WORDS_FILE, checksums)
        return Path(directory)

    def _save_encoder(self, directory: Path) -> dict:
        encoder = self.text_encoder.encoder
        config = encoder.config.to_dict()
        if encoder.pretrained_name == PRETRAINED_NAME:
            weights = pretrained_dir() / "model.safetensors"
            config["weights"] = {
                "pretrained": PRETRAINED_NAME,
                "package": PRETRAINED_PACKAGE,
                "sha256": artifacts.sha256(weights),
            }
        else:
            save_file(encoder.state_dict(), directory / "encoder.safetensors")
            config["weights"] = "encoder.safetensors"
        return config

    @classmethod
    def load(cls, directory: str | Path) -> MovieSearch:
        """Load a model directory written by :meth:`save` (JSON, safetensors, FAISS, Parquet; no pickle).

        Raises
        ------
        ModelError
            If the directory is missing, incomplete, changed since it was written, or from a newer recsys.
        """
        directory = Path(directory)
        config = artifacts.read_config(directory)
        try:
            head = AttentionHead(HeadConfig.from_dict(config["head"]))
            head.load_state_dict(load_file(directory / "head.safetensors"))
            tokenizer = Tokenizer.from_file(directory / "tokenizer.json", config["max_length"])
            encoder = _load_encoder(directory, dict(config["encoder"]))
            embeddings = load_file(directory / "embeddings.safetensors")["embeddings"].numpy()
            catalog = Catalog.from_parquet(directory / "catalog.parquet")
            catalog.source = str(config["catalog"].get("source", catalog.source))
            metrics = artifacts.read_json(directory / "metrics.json")
            settings = SearchSettings(**config.get("search", {}))
            words_file = current_words_file(config)  # None: explanations encode the descriptions
            words = WordStore.load(directory / words_file, config["files"]) if words_file else None
            # Models from before "encoding" was recorded encoded their documents in float32.
            text_encoder = TextEncoder(
                tokenizer, encoder, precision=config.get("encoding", {}).get("precision", "float32")
            )
        except (KeyError, TypeError, ValueError, RuntimeError, OSError) as err:
            raise ModelError(f"{directory}: cannot be loaded ({err})") from None
        keys = KeyStore.load(directory / "keys.faiss", depth=config.get("index", {}).get("depth"))
        lexical = LexicalIndex.load(directory / "lexical")
        if not len(catalog) == len(keys) == len(embeddings) == lexical.size == len(words or catalog):
            raise ModelError(f"{directory}: catalog, keys, embeddings, word store and lexical index disagree in size")
        return cls(
            catalog,
            text_encoder,
            head,
            keys,
            embeddings,
            lexical,
            settings,
            template=config["document_template"],
            metrics=metrics,
            words=words,
        )


def _new_text_encoder(name: str | TextEncoder, catalog: Catalog) -> TextEncoder:
    if isinstance(name, TextEncoder):
        return name
    if name == "minilm":
        return TextEncoder.pretrained()
    if name == "tiny":
        tokenizer = Tokenizer.train(catalog.documents())
        return TextEncoder(tokenizer, Encoder(EncoderConfig.tiny(tokenizer.vocab_size)))
    raise ValueError(f"unknown encoder {name!r}; choose 'minilm' or 'tiny'")


def embed_documents(
    text_encoder: TextEncoder, documents: list[str], keep_words: bool, progress: Progress, desc: str
) -> tuple[np.ndarray, WordStore | None]:
    """Documents' embeddings and, if ``keep_words``, their word store, from one encoder pass."""
    if not keep_words:
        return text_encoder.embed(documents, progress=progress, desc=desc, documents=True), None
    embeddings, words = text_encoder.embed(
        documents, progress=progress, desc=desc, per_text=word_vectors, documents=True
    )
    return embeddings, WordStore.from_words(words)


def _key_vectors(head: AttentionHead, embeddings: np.ndarray) -> np.ndarray:
    """The head's keys ``(N, D)`` of embeddings ``(N, C)``."""
    with torch.inference_mode():
        return head.keys(torch.from_numpy(embeddings)).numpy()


def _index_keys(head: AttentionHead, embeddings: np.ndarray, progress: Progress, kind: str = "auto") -> KeyStore:
    return KeyStore.build(_key_vectors(head, embeddings), progress=progress, kind=kind)


def _check_query(query: object) -> None:
    if not isinstance(query, str) or not query.strip():
        raise QueryError("the query is empty: type a few words, a genre or a title")
    if not any(char.isalnum() for char in query[:MAX_QUERY_CHARS]):
        raise QueryError("the query has nothing to search for (no letters or digits): type a few words")


def _top_rows(scores: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """The (at most) ``k`` candidate rows with the highest scores, best first; ties keep row order."""
    k = min(k, len(candidates))
    top = candidates[np.argpartition(-scores[candidates], k - 1)[:k]] if k else candidates[:0]
    return top[np.argsort(-scores[top], kind="stable")]


def _both(first: np.ndarray | None, second: np.ndarray | None) -> np.ndarray | None:
    """Combine two optional row masks (None means no filter)."""
    if first is None:
        return second
    return first if second is None else first & second


def _load_encoder(directory: Path, config: dict) -> Encoder:
    weights = config.pop("weights")
    if isinstance(weights, dict):
        path = pretrained_dir() / "model.safetensors"
        if artifacts.sha256(path) != weights.get("sha256"):
            raise ModelError(
                f"{directory}: built with other {weights.get('pretrained')} weights than "
                f"the installed {PRETRAINED_PACKAGE} ships; rebuild the model"
            )
        return Encoder.pretrained()
    encoder = Encoder(EncoderConfig(**config))
    encoder.load_state_dict(load_file(directory / weights))
    return encoder.eval()
