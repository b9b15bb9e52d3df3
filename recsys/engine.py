"""MovieSearch: the facade over a catalog, its encoder, the scorer and the title store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from recsys import modeldir
from recsys.catalog import DOCUMENT_TEMPLATE, Catalog
from recsys.encoding import TextEncoder, TokenStates
from recsys.errors import CatalogError, ModelError, QueryError, UnknownTitle
from recsys.explain import Explanation, explain_text, explain_titles, on_typed_words
from recsys.head import AttentionHead, HeadConfig
from recsys.language import query_language
from recsys.progress import Progress
from recsys.query import Intents, QueryParser
from recsys.recommend import recommend
from recsys.references import CatalogNames
from recsys.scoring import Scorer, SearchSettings
from recsys.spelling import Speller, preferred_words, spelling_vocabulary
from recsys.store import TitleStore
from recsys.taste import Taste
from recsys.tokenizer import Tokenizer
from recsys.transformer import Encoder, EncoderConfig
from recsys.translate import align, shared_translator
from recsys.words import word_vectors

YearRange = tuple[int | None, int | None]
MAX_QUERY_CHARS = 2000  # longer queries (a pasted page) are cut here: bounded time, same results


class Hit(NamedTuple):
    """One search result: ``score`` is the title's score, ``weight`` its attention weight over the results."""

    id: str
    title: str
    year: int | None
    genres: list[str]
    score: float
    weight: float


class Recommendation(NamedTuple):
    """A title recommended from liked ones, and the liked title whose part of its score is largest."""

    id: str
    title: str
    year: int | None
    genres: list[str]
    score: float
    weight: float
    because_id: str
    because: str
    drawn_by: tuple = ()  # (id, title, weight) of the past likes that drew it most: the attention's weights
    parts: tuple = ()  # (name, weighted value) of each part of the score, for a model trained with likes

    def reason(self, least_weight: float = 0.0) -> str:
        """The liked titles that drew it, as "Alien (0.41), Blade Runner (0.22)".

        Weights below ``least_weight`` are left out; without weights, the one title ``because`` names.
        """
        drawn = ", ".join(f"{title} ({weight:.2f})" for _, title, weight in self.drawn_by if weight >= least_weight)
        return drawn or self.because


@dataclass(frozen=True, eq=False)
class MovieSearch:
    """Search a catalog by attention: the query is Q, the movies are the keys K and carry values V.

    Build one with :meth:`build` or :meth:`load`. Updates (:meth:`add`, :meth:`remove`) return a new model.

    Attributes
    ----------
    catalog : Catalog
        The titles.
    encoder : TextEncoder
        Embeds queries (and, when titles are added, their descriptions).
    scorer : Scorer
        The attention head and the score formula (``recsys.scoring``).
    store : TitleStore
        Every title's embedding, key, BM25 entry and word vectors (``recsys.store``).
    metrics : dict
        What training measured (empty for an untrained model).
    """

    catalog: Catalog
    encoder: TextEncoder
    scorer: Scorer
    store: TitleStore
    metrics: dict = field(default_factory=dict)
    taste: Taste | None = None

    @classmethod
    def build(
        cls, catalog: Catalog, encoder: str | TextEncoder = "minilm", base: MovieSearch | None = None,
        progress: Progress = False, index: str = "auto", precision: str | None = None,
        word_store: bool | None = None,
    ) -> MovieSearch:  # fmt: skip
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
            Reuse this model's encoder, head, settings and document template (a trained model, say).
        progress : bool or callable
            Show progress bars on standard error, or report progress to a callback (see ``recsys.progress``).
        index : {"auto", "flat", "hnsw-sq8"}
            The key store: "auto" is flat up to 200,000 titles, HNSW-SQ8 beyond (see ``recsys.index``).
        precision : {"auto", "float32", "bfloat16"}, optional
            Arithmetic for encoding the descriptions (see ``recsys.encoding``); by default the encoder's,
            which is "auto" for a new one: bfloat16 where the CPU computes it natively.
        word_store : bool, optional
            Keep every title's word vectors, so explaining a result encodes no description (about 16 KB
            a title). By default kept up to 200,000 titles; without it, explanations encode the ten or so
            descriptions they show, in the same precision.
        """
        if base is not None:
            text_encoder, template = base.encoder, base.store.template
            scorer = Scorer(base.scorer.head, replace(base.scorer.settings))
        else:
            text_encoder, template = _new_text_encoder(encoder, catalog), DOCUMENT_TEMPLATE
            scorer = Scorer(AttentionHead(HeadConfig(dim=text_encoder.dim)), SearchSettings())
        if precision is not None:
            text_encoder = text_encoder.with_precision(precision)
        store = TitleStore.build(catalog, text_encoder, scorer.head, template, progress, index, word_store)
        return cls(catalog, text_encoder, scorer, store)

    def with_scorer(self, scorer: Scorer, metrics: dict | None = None) -> MovieSearch:
        """The same titles scored by another head and settings; keys are recomputed, nothing is encoded."""
        metrics = self.metrics if metrics is None else metrics
        return replace(self, scorer=scorer, store=self.store.with_head(scorer.head), metrics=metrics)

    def add(self, titles: Catalog, progress: Progress = False) -> MovieSearch:
        """Return the model with more titles; only they are encoded.

        The result ranks as a model built from the whole catalog with the same encoder and head would.

        Raises
        ------
        CatalogError
            If a title's id is already in the catalog.
        """
        for row, movie_id in enumerate(titles.ids, start=1):
            if movie_id in self:
                raise CatalogError(titles.source, f"id {movie_id!r} is already in the model", row=row, field="id")
        catalog = self.catalog.of_rows(pd.concat([self.catalog.frame, titles.frame], ignore_index=True))
        store = self.store.added(titles, catalog, self.encoder, self.scorer.head, progress)
        return replace(self, catalog=catalog, store=store)

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
        catalog = self.catalog.of_rows(self.catalog.frame.iloc[keep])
        return replace(self, catalog=catalog, store=self.store.selected(keep, catalog, self.scorer.head, progress))

    def search(
        self, query: str, k: int = 10, genres: Iterable[str] | None = None, years: YearRange | None = None,
        kind: str | None = None, ignore: Iterable[str] = (), language: str | None = None, **filters,
    ) -> list[Hit]:  # fmt: skip
        """Rank the catalog for a query.

        Parameters
        ----------
        query : str
            Free text ("sci-fi about first contact with aliens").
        k : int
            Number of results.
        genres, years, kind, **filters
            Filters, applied inside the key store: ``countries``, ``ratings``, ``max_runtime`` and
            ``exclude_genres`` too (see :meth:`Catalog.mask`).
        ignore : iterable of str
            Keys of readings of the query to drop (:attr:`Intents.readings`): their words stay plain words.
        language : {"en", "es"}, optional
            The query's language; detected when not given (see :meth:`understand`).

        Raises
        ------
        QueryError
            For an empty query or a ``k`` below 1.
        """
        return self.search_many(
            [query], k, genres=genres, years=years, kind=kind, ignore=ignore, language=language, **filters
        )[0]

    def search_many(
        self, queries: Sequence[str], k: int = 10, genres: Iterable[str] | None = None,
        years: YearRange | None = None, kind: str | None = None, ignore: Iterable[str] = (),
        language: str | None = None, **filters,
    ) -> list[list[Hit]]:  # fmt: skip
        """Rank the catalog for many queries at once (one batched encoder pass)."""
        _check_k(k)
        for query in queries:
            _check_query(query)
        user_mask = self.catalog.mask(genres=genres, years=years, kind=kind, **filters)
        intents = [self.understand(query, ignore, language) for query in queries]
        embeddings, vectors = self._encoded([intent.text for intent in intents])
        ranked = [
            self._ranked(intent, embedding, vector, k, user_mask)
            for intent, embedding, vector in zip(intents, embeddings, vectors, strict=True)
        ]
        return [[Hit(*hit) for hit in self._results(scores, rows)] for scores, rows in ranked]

    def recommend(
        self, liked_ids: Sequence[str], k: int = 10, disliked_ids: Sequence[str] = ()
    ) -> list[Recommendation]:
        """Recommend titles from a history of liked ones, oldest first; liked and disliked ones are left out.

        A model trained with likes (``recsys train --interactions``) scores with its taste (``recsys.taste``):
        attention over the history, item-to-item weights, popularity and the descriptions; otherwise each
        liked title's value vector attends over the catalog (``recsys.recommend``). ``disliked_ids`` move
        results away from those titles' descriptions.

        Raises
        ------
        QueryError
            If nothing is liked, an id is not in the catalog, or ``k`` is below 1.
        """
        _check_k(k)
        liked = [self._row(movie_id) for movie_id in dict.fromkeys(liked_ids)]
        disliked = [self._row(movie_id) for movie_id in dict.fromkeys(disliked_ids) if movie_id not in liked_ids]
        if not liked:
            raise QueryError("like at least one title to get recommendations")
        if self.taste is not None:
            return self._recommend_by_taste(liked, disliked, k)
        scores, rows, drawn_by = recommend(self.scorer, self.store, liked, k, disliked)
        results = self._results(scores, rows)
        because = [self.catalog.records[row][:2] for row in drawn_by]
        return [Recommendation(*hit, *liked) for hit, liked in zip(results, because, strict=True)]

    def _recommend_by_taste(self, liked: list[int], disliked: list[int], k: int) -> list[Recommendation]:
        bound = self.taste.bound(self.catalog, self.store, self.scorer)
        scores, rows, parts, weights = bound.recommend(
            self.scorer, self.store, np.array(liked), np.array(disliked, int), k
        )  # weights (k, L): the attention's, over the latest likes
        recent = liked[-weights.shape[1] :] if weights.size else []
        found = []
        for hit, row_weights, row_parts in zip(self._results(scores, rows), weights, parts, strict=True):
            order = np.argsort(-row_weights, kind="stable")[:3]
            drawn_by = tuple((*self.catalog.records[recent[i]][:2], round(float(row_weights[i]), 4)) for i in order)
            found.append(Recommendation(*hit, *drawn_by[0][:2], drawn_by, row_parts))
        return found

    def understand(self, query: str, ignore: Iterable[str] = (), language: str | None = None) -> Intents:
        """What the query was read as (``recsys.query``), if this model understands queries.

        Readings whose key is in ``ignore`` are not made. ``language`` is "en", "es", or None to detect
        it (``recsys.language``); a Spanish query's remaining words are translated for the encoder. Only
        the first ``MAX_QUERY_CHARS`` characters of a query are read (the encoder reads 256 tokens).

        Raises
        ------
        QueryError
            For a language recsys cannot read.
        """
        query = query[:MAX_QUERY_CHARS]
        if not self.scorer.settings.understand_queries:
            return Intents(text=" ".join(query.split()))
        try:  # people's names say nothing of the query's language ("movies by Guillermo del Toro")
            language = query_language(self._parser.without_names(query), language)
        except ValueError as err:
            raise QueryError(str(err)) from None
        return self._parser.parse(query, ignore, language)

    def _encoded(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The embeddings ``(Q, C)`` and query vectors ``(Q, D)`` of query texts (one encoder pass).

        Both are zero for an empty text (a query that only refers to a title).
        """
        embeddings = np.zeros((len(texts), self.encoder.dim), dtype=np.float32)
        vectors = np.zeros((len(texts), self.scorer.head.config.dim), dtype=np.float32)
        written = [n for n, text in enumerate(texts) if text]
        if written:
            embeddings[written] = self.encoder.embed([texts[n] for n in written])
            vectors[written] = self.scorer.query_vectors(embeddings[written])
        return embeddings, vectors

    def _ranked(
        self, intent: Intents, embedding: np.ndarray, vector: np.ndarray, k: int, user_mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` (scores, rows) for one encoded query, with the genres its meaning suggests.

        On a flat store q·k of every title is computed once, for the attention spread and the ranking.
        """
        dense = self.scorer.full_dense(vector, self.store) if intent.text else None
        intent = self.scorer.with_suggested(intent, embedding, vector, self.store, dense)
        return self.scorer.rank(intent, vector, k, self.catalog, self.store, user_mask, dense)

    def _suggesting(self, intent: Intents, states: TokenStates) -> Intents:
        """The intent with the genres its meaning suggests, its embedding pooled from its token states."""
        if not self.scorer.settings.genre_affinity:
            return intent
        embedding = states.embedding()
        return self.scorer.with_suggested(intent, embedding, self.scorer.query_vectors(embedding[None])[0], self.store)

    def explain(
        self, query: str, movie_id: str | None = None, text: str | None = None, ignore: Iterable[str] = (),
        language: str | None = None,
    ) -> Explanation:  # fmt: skip
        """Split a title's score for a query over its parts: query words, description words, BM25 terms, boosts.

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
            return self.explain_many(query, [movie_id], ignore, language)[0]
        _check_query(query)
        intent = self.understand(query, ignore, language)
        query_states, movie_states = self.encoder.token_states([intent.text, " ".join(text.split())])
        intent = self._suggesting(intent, query_states)
        query_words, movie_words = word_vectors(query_states), word_vectors(movie_states)
        return self._on_typed_words(intent, [explain_text(intent, query_words, movie_words, self.scorer)])[0]

    def explain_many(
        self, query: str, movie_ids: Sequence[str], ignore: Iterable[str] = (), language: str | None = None
    ) -> list[Explanation]:
        """Explain several titles' scores for one query (a search's results): the query is encoded once."""
        _check_query(query)
        intent = self.understand(query, ignore, language)
        rows = np.array([self._row(movie_id) for movie_id in movie_ids], dtype=np.int64)
        query_words = None
        if intent.text:
            states = self.encoder.token_states([intent.text])[0]
            query_words = word_vectors(states)
            intent = self._suggesting(intent, states)
        titles = self.store.word_vectors(self.catalog, rows.tolist(), self.encoder)
        explanations = explain_titles(intent, query_words, titles, rows, self.scorer, self.catalog, self.store)
        return self._on_typed_words(intent, explanations)

    def _on_typed_words(self, intent: Intents, explanations: list[Explanation]) -> list[Explanation]:
        """For a translated query, each explanation's shares on the words the user typed (``source_words``)."""
        translator = shared_translator()
        if not intent.source_text or translator is None:  # source_text is set only by a translation
            return explanations
        alignment = align(intent.source_text, intent.text, translator.translate)
        return [on_typed_words(explanation, intent.source_text, alignment) for explanation in explanations]

    def __contains__(self, movie_id: object) -> bool:
        return movie_id in self.catalog.row_of

    def title(self, movie_id: str) -> dict:
        """A catalog title as a dict: id, title, year, kind, genres, keywords, description."""
        return self.catalog.frame.iloc[self._row(movie_id)].to_dict()

    def _row(self, movie_id: str) -> int:
        if movie_id not in self:
            raise UnknownTitle(f"no title with id {movie_id!r} in this model's catalog")
        return self.catalog.row_of[movie_id]

    @cached_property
    def _parser(self) -> QueryParser:
        frequency = self.store.lexical.document_frequency()
        names = CatalogNames(self.catalog, frequency, self.store.lexical.rows_with)
        labels, kinds = self.catalog.genres(), set(self.catalog.frame["kind"])
        speller = Speller(spelling_vocabulary(frequency, names), preferred_words(labels))
        return QueryParser(labels, kinds, self.scorer.head.config.genres, names, speller, shared_translator)

    def _results(self, scores: np.ndarray, rows: np.ndarray) -> list[tuple]:
        """(id, title, year, genres, score, weight) of ranked rows."""
        weights = self.scorer.attention_weights(scores)  # (k,)
        found = []
        for score, row, weight in zip(scores, rows, weights, strict=True):
            movie_id, title, year, genres = self.catalog.records[row]
            found.append((movie_id, title, year, list(genres), float(score), float(weight)))
        return found

    def save(self, directory: str | Path) -> Path:
        """Write the model directory atomically (layout in ``recsys.modeldir``); return its path.

        Nothing in it is a pickle. Word-store segments this model was loaded with are linked, not rewritten.
        """
        with modeldir.atomic_directory(directory) as staging:
            sections, linked = _write_components(self, staging)
            checksums = modeldir.write_config(staging, sections, linked)
        self.store.stored_in(Path(directory), checksums)
        return Path(directory)

    @classmethod
    def load(cls, directory: str | Path) -> MovieSearch:
        """Load a model directory written by :meth:`save` (JSON, safetensors, FAISS, Parquet; no pickle).

        Raises
        ------
        ModelError
            If the directory is missing, incomplete, changed since it was written, or of another format.
        """
        directory = Path(directory)
        config = modeldir.read_config(directory)
        try:
            model = _read_components(directory, config)
        except (KeyError, TypeError, ValueError, RuntimeError, OSError) as err:
            raise ModelError(f"{directory}: cannot be loaded ({err})") from None
        store, catalog = model.store, model.catalog
        sizes = {len(catalog), len(store.keys), len(store), store.lexical.size, len(store.words or catalog)}
        if len(sizes) > 1:
            raise ModelError(f"{directory}: catalog, keys, embeddings, word store and lexical index disagree in size")
        return model


def _write_components(model: MovieSearch, staging: Path) -> tuple[dict, dict[str, str]]:
    """Each component writes its files; return the config sections and the checksums of files linked."""
    modeldir.write_json(modeldir.location(staging, "metrics"), model.metrics)
    sections = {
        "catalog": model.catalog.save(modeldir.location(staging, "catalog")),
        "encoder": model.encoder.save(modeldir.location(staging, "encoder")),
        "head": model.scorer.head.save(modeldir.location(staging, "head")),
        "scoring": asdict(model.scorer.settings),
    }
    if model.taste is not None:
        sections["taste"] = model.taste.save(modeldir.location(staging, "taste"))
    sections["store"], linked = model.store.save(staging)
    return sections, linked


def _read_components(directory: Path, config: dict) -> MovieSearch:
    """Each component reads its files and its config section."""
    encoder = TextEncoder.load(modeldir.location(directory, "encoder"), config["encoder"])
    head = AttentionHead.load(modeldir.location(directory, "head"), config["head"])
    catalog = Catalog.load(modeldir.location(directory, "catalog"), config["catalog"])
    store = TitleStore.load(directory, config["store"], config["files"])
    metrics = modeldir.read_json(modeldir.location(directory, "metrics"))
    taste = Taste.load(modeldir.location(directory, "taste"), config["taste"]) if "taste" in config else None
    return MovieSearch(catalog, encoder, Scorer(head, SearchSettings(**config["scoring"])), store, metrics, taste)


def _new_text_encoder(name: str | TextEncoder, catalog: Catalog) -> TextEncoder:
    if isinstance(name, TextEncoder):
        return name
    if name == "minilm":
        return TextEncoder.pretrained()
    if name == "tiny":
        tokenizer = Tokenizer.train(catalog.documents())
        return TextEncoder(tokenizer, Encoder(EncoderConfig.tiny(tokenizer.vocab_size)))
    raise ValueError(f"unknown encoder {name!r}; choose 'minilm' or 'tiny'")


def _check_k(k: int) -> None:
    if k < 1:
        raise QueryError(f"k must be at least 1, got {k}")


def _check_query(query: object) -> None:
    if not isinstance(query, str) or not query.strip():
        raise QueryError("the query is empty: type a few words, a genre or a title")
    if not any(char.isalnum() for char in query[:MAX_QUERY_CHARS]):
        raise QueryError("the query has nothing to search for (no letters or digits): type a few words")
