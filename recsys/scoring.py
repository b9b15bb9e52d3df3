"""A title's score for a query, as named parts: one formula that ranking sums and explanations split.

    score = q·k  +  q_like·k  +  λ · BM25  +  β_genre · genre share  +  β_predicted · predicted genre probability
            +  β_person · share of the people named  +  δ · spread · suggested genre probability

``q·k`` is the attention score of the head (``recsys.head``); ``q_like·k`` is the recommend path's score
(``recsys.recommend``) of the titles the query refers to ("like Alien"); BM25 is divided by the most a
title could score for the query (``recsys.lexical``); the genre share is the part of the query's genres a
title is labelled with; the predicted genre probability is read from the title's value vector when the
catalog has no label for a genre the query names; a title with the people the query names gets
``β_person`` times the share of them it has.
:meth:`Scorer.parts` returns the parts for some rows; :meth:`Scorer.rank` sums them and keeps the best;
``recsys.explain`` splits the attention part over word pairs and the BM25 part over query terms, and lists
every other part as it is, so a part added here shows in both. What filtered is the :class:`Selection`: the
user's filters; the years, kind, places, ratings and lengths read from the query; the genres it excludes and
the titles it refers to; then titles with a person it names before the rest, or for a query of genres only,
titles with every named genre before titles with some.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import NamedTuple
from weakref import WeakKeyDictionary

import numpy as np
import torch

from recsys.catalog import Catalog
from recsys.head import AttentionHead
from recsys.query import Intents
from recsys.store import TitleStore

DENSE = "attention"  # the name of the q·k part
LIKE = "like"  # the name of the q_like·k part
LEXICAL = "BM25"
SUGGESTED = "suggested genre"  # the name of the δ part
SPREAD_TITLES = 50  # the attention spread is read over a query's best titles by q·k


@dataclass
class SearchSettings:
    """How queries are scored beyond q·k; saved with each model. Training chooses them on validation."""

    understand_queries: bool = False  # read genres, years and kind from the query (recsys.query)
    lexical_weight: float = 0.0  # λ: weight of the normalised BM25 term in the score
    genre_boost: float = 0.0  # β: added to the score times the share of the query's genres a title has
    predicted_genre_boost: float = 0.0  # the same for genres predicted from descriptions (unlabelled catalogs)
    predicted_genre_only_boost: float = 0.0  # ... when the query is only genres ("horror"), in place of a filter
    person_boost: float = 0.5  # added to the score of a title with a person the query names (they rank first)
    genre_affinity: float = 0.0  # δ: weight of the genres a query naming none suggests by its meaning


class Part(NamedTuple):
    """One named part of the score: ``weight · values`` is what it adds for each row scored."""

    name: str  # which part: DENSE, LIKE, LEXICAL, "genre", "predicted genre", "person"
    label: str  # what it is for this query, as shown ("genre: Science Fiction")
    weight: float  # 1 for the attention score, λ or β for the others
    values: np.ndarray  # (R,) per row scored, before the weight


class ScoreParts(NamedTuple):
    """The parts of the scores of some rows, in the order they are added."""

    rows: np.ndarray  # (R,)
    parts: list[Part]

    def total(self) -> np.ndarray:
        """The scores ``(R,)``: the attention score, plus each other part times its weight, in order."""
        total = self.parts[0].values
        for part in self.parts[1:]:
            total = total + part.weight * part.values
        return total


class Selection(NamedTuple):
    """What filtered: the rows a query may return, in tiers ranked one after the other (None: every row)."""

    tiers: list[np.ndarray | None]
    genre_share: np.ndarray | None  # (N,) the share of the query's genres each title has, if it names any


@dataclass(frozen=True, eq=False)
class Scorer:
    """The score formula: the attention head and the weights of the other parts.

    Parameters
    ----------
    head : AttentionHead
        Gives ``q·k``, the attention weights over results, and each title's predicted genres.
    settings : SearchSettings
        λ, the β of each boost, and whether queries are understood.
    """

    head: AttentionHead
    settings: SearchSettings
    _profiles: WeakKeyDictionary = field(default_factory=WeakKeyDictionary, init=False, repr=False)

    def query_vectors(self, embeddings: np.ndarray) -> np.ndarray:
        """Flat query vectors ``(Q, D)`` of query embeddings ``(Q, C)``; their inner products with keys are q·k."""
        with torch.inference_mode():
            return self.head.queries(torch.from_numpy(embeddings)).numpy()

    def with_suggested(
        self, intent: Intents, embedding: np.ndarray, vector: np.ndarray, store: TitleStore,
        dense: np.ndarray | None = None,
    ) -> Intents:  # fmt: skip
        """The intent with the genres its meaning suggests and its attention spread, if δ applies to it.

        ``embedding`` ``(C,)`` is the query's encoder embedding, ``vector`` ``(D,)`` its query vector, and
        ``dense`` ``(N,)`` its q·k over a flat store if the caller has it (see :meth:`full_dense`). Only a
        query with words to search and no genre, person or title read from it gets them.
        """
        genres = self.head.config.genres
        if not (self.settings.genre_affinity and genres and intent.text):
            return intent
        if intent.genres or intent.predicted or intent.people or intent.like:  # it asks for those instead
            return intent
        if dense is None:
            dense = self.full_dense(vector, store)
        best = store.keys.search(vector[None], SPREAD_TITLES).scores[0] if dense is None else dense
        with torch.inference_mode():
            suggested = self.head.genre_profile(self.head.values(torch.from_numpy(embedding[None])))[0].numpy()
            temperature = float(self.head.temperature)
        return replace(intent, suggested=suggested, spread=attention_spread(best, temperature))

    def full_dense(self, vector: np.ndarray, store: TitleStore) -> np.ndarray | None:
        """q·k ``(N,)`` of every title for a query vector ``(D,)`` on a flat store (one product), else None.

        Computed once per query, it serves both the attention spread and the ranking.
        """
        return product(store.keys.matrix(), vector) if store.keys.exact else None

    def select(self, intent: Intents, catalog: Catalog, user_mask: np.ndarray | None) -> Selection:
        """The rows a query may return: the user's filters and what the query asks for or excludes.

        A query naming people gets tiers: titles with all of them, then with some, then the rest. A query
        of genres only ("horror", "90s romantic comedy") gets two tiers: titles with every named genre, then
        titles with some. A kind read from the query ("horror movies") puts its titles first, and the other
        kind's only after all of them, where they fill a short list.
        """
        allowed = _both(user_mask, catalog.mask(years=intent.years))
        for mask in intent.filters:
            allowed = _both(allowed, mask)
        if intent.excluded or intent.like:
            kept = np.ones(len(catalog), dtype=bool)
            for labels in intent.excluded.values():
                kept &= ~catalog.labels_mask(tuple(labels))
            kept[intent.like] = False
            allowed = _both(allowed, kept)
        share = genre_share(intent, catalog)
        if intent.people:  # titles with every person named, then with some, then the rest
            named = people_count(intent, len(catalog))
            tiers = [named == len(intent.people), (named > 0) & (named < len(intent.people)), named == 0]
            tiers = [_both(allowed, tier) for tier in tiers if tier.any()]
        elif share is None or not intent.genre_only:
            tiers = [allowed]
        else:
            tiers = [_both(allowed, share == 1.0), _both(allowed, (share > 0) & (share < 1))]
        if intent.kind:  # the kind read from the query ranks its titles first; the other kind only fills a short list
            kind = catalog.kind_mask(intent.kind)
            tiers = [_both(tier, kind) for tier in tiers] + [_both(tier, ~kind) for tier in tiers]
        return Selection(tiers, share)

    def parts(
        self, intent: Intents, dense: np.ndarray, rows: np.ndarray, catalog: Catalog, store: TitleStore,
        share: np.ndarray | None = None,
    ) -> ScoreParts:  # fmt: skip
        """The score's parts for some rows, given their attention scores ``dense`` ``(R,)``.

        ``share`` is :attr:`Selection.genre_share` when the caller has it (else it is computed).
        """
        found = [Part(DENSE, DENSE, 1.0, dense)]
        if intent.like:
            found.append(
                Part(
                    LIKE,
                    _like_label(intent, catalog),
                    1.0,
                    self.dense(self.like_vector(intent, store), store, rows)[:, 0],
                )
            )
        if self.settings.lexical_weight and intent.text:
            lexical = store.lexical.scores(intent.text)[rows]
            found.append(Part(LEXICAL, LEXICAL, self.settings.lexical_weight, lexical))
        share = genre_share(intent, catalog) if share is None else share
        found += [part._replace(values=part.values[rows]) for part in self._boosts(intent, share, store)]
        return ScoreParts(rows, found)

    def rank(
        self, intent: Intents, vector: np.ndarray, k: int, catalog: Catalog, store: TitleStore,
        user_mask: np.ndarray | None = None, dense: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """The best ``k`` (scores, rows) for a query vector ``(D,)``, tier after tier of its selection.

        ``dense`` is :meth:`full_dense` of the vector when the caller has it.
        """
        selection = self.select(intent, catalog, user_mask)
        if dense is not None or store.keys.exact and not self._dense_only(intent, selection, store):
            dense = self.full_dense(vector, store) if dense is None else dense
            return self._best_by_tier(intent, dense, k, catalog, store, selection)
        scores, rows = np.empty(0, np.float32), np.empty(0, np.int64)
        for tier in selection.tiers:
            if len(rows) >= k:
                break
            more_scores, more_rows = self._best(intent, vector, k - len(rows), tier, catalog, store, selection)
            scores, rows = np.concatenate([scores, more_scores]), np.concatenate([rows, more_rows])
        return scores, rows

    def _best_by_tier(self, intent, dense, k, catalog, store, selection) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` (scores, rows) of a flat store given q·k of every title, tier after tier.

        Every allowed title is scored once, as FAISS's flat search does; a title's parts do not depend on its tier.
        """
        masks = [np.ones(len(catalog), dtype=bool) if tier is None else tier for tier in selection.tiers]
        rows = np.flatnonzero(np.logical_or.reduce(masks))
        total = self.parts(intent, dense[rows], rows, catalog, store, selection.genre_share).total()
        chosen = []
        for mask in masks:
            if len(chosen) >= k:
                break
            inside = np.flatnonzero(mask[rows])
            chosen += inside[top_positions(total[inside], k - len(chosen))].tolist()
        chosen = np.array(chosen, dtype=np.int64)
        return total[chosen].astype(np.float32), rows[chosen]

    def _best(self, intent, vector, k, allowed, catalog, store, selection) -> tuple[np.ndarray, np.ndarray]:
        """The best ``k`` (scores, rows) among the allowed rows."""
        if store.keys.exact and self._dense_only(intent, selection, store):  # FAISS's answer is the score
            found = store.keys.search(vector[None], k, allowed)
            return found.scores[0], found.rows[0]
        rows = store.candidates(vector + self.like_vector(intent, store)[0] if intent.like else vector, k, allowed)
        dense = self.dense(vector[None], store, rows)[:, 0]  # each candidate rescored exactly from its embedding
        total = self.parts(intent, dense, rows, catalog, store, selection.genre_share).total()
        best = top_positions(total, k)
        return total[best].astype(np.float32), rows[best]

    def _dense_only(self, intent: Intents, selection: Selection, store: TitleStore) -> bool:
        if intent.like or intent.people or self.settings.lexical_weight and intent.text:
            return False
        return not self._boosts(intent, selection.genre_share, store)

    def like_vector(self, intent: Intents, store: TitleStore) -> np.ndarray:
        """``(1, D)`` the mean query vector of the titles referred to: each one's value vector read as a query."""
        with torch.inference_mode():
            values = self.head.values(torch.from_numpy(store.embeddings[intent.like]))
            return self.head.queries(values).numpy().mean(0, keepdims=True)

    def dense(self, vectors: np.ndarray, store: TitleStore, rows: np.ndarray | None = None) -> np.ndarray:
        """Exact q·k ``(R, Q)`` of some titles (every title without ``rows``) for query vectors ``(Q, D)``.

        From the flat store's keys, or from the embeddings as ``e · (W_kᵀ q)``: one projection per query.
        """
        if store.keys.exact:
            scores = product(store.keys.matrix(), vectors.T)  # (N, Q)
            return scores if rows is None else scores[rows]
        with torch.inference_mode():
            carried = self.head.queries_on_embeddings(torch.from_numpy(vectors)).numpy()  # (Q, C)
        return product(store.embeddings if rows is None else store.embeddings[rows], carried.T)  # (R, Q)

    def attention_weights(self, scores: np.ndarray) -> np.ndarray:
        """The softmax of scores ``(k,)`` over the results, at the head's temperature."""
        with torch.inference_mode():
            return self.head.attention_weights(torch.from_numpy(scores)).numpy()

    def _boosts(self, intent: Intents, share: np.ndarray | None, store: TitleStore) -> list[Part]:
        """The genre parts, with values for every title ``(N,)``."""
        boosts = []
        settings = self.settings
        beta = settings.predicted_genre_only_boost if intent.genre_only else settings.predicted_genre_boost
        if intent.predicted and beta:
            columns = [self.head.config.genres.index(genre) for genre in intent.predicted]
            label = "predicted genre: " + ", ".join(intent.predicted)
            boosts.append(Part("predicted genre", label, beta, self.genre_profile(store)[:, columns].mean(1)))
        if share is not None and not intent.genre_only and settings.genre_boost:
            boosts.append(Part("genre", "genre: " + ", ".join(intent.genres), settings.genre_boost, share))
        if intent.suggested is not None and settings.genre_affinity:
            genres = self.head.config.genres
            top = np.argsort(-intent.suggested, kind="stable")[:2]
            label = "suggested genre: " + ", ".join(f"{genres[g]} {intent.suggested[g]:.0%}" for g in top)
            values = intent.spread * suggested_share(self.genre_profile(store), intent.suggested)
            boosts.append(Part(SUGGESTED, label, settings.genre_affinity, values))
        if intent.people and settings.person_boost:
            label = "; ".join(r.shown.split(", from")[0] for r in intent.readings if r.key.startswith("person:"))
            named = people_count(intent, len(store)) / len(intent.people)  # the share of the people named
            boosts.append(Part("person", label, settings.person_boost, named.astype(np.float32)))
        return boosts

    def genre_profile(self, store: TitleStore) -> np.ndarray:
        """``(N, G)`` probability of each of the head's genres per title, read from its value vector (cached)."""
        if store not in self._profiles:
            with torch.inference_mode():
                values = self.head.values(torch.from_numpy(store.embeddings))  # (N, D)
                self._profiles[store] = self.head.genre_profile(values).numpy()
        return self._profiles[store]


def suggested_share(profile: np.ndarray, suggested: np.ndarray) -> np.ndarray:
    """``(N,)`` titles' predicted genre probabilities ``(N, G)`` averaged with a query's suggested ones ``(G,)``.

    >>> suggested_share(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.75, 0.25]))
    array([0.75, 0.25], dtype=float32)
    """
    return (profile @ suggested / max(float(suggested.sum()), 1e-6)).astype(np.float32)


def attention_spread(scores: np.ndarray, temperature: float) -> float:
    """1 minus the largest softmax weight at a temperature over the best ``SPREAD_TITLES`` of some scores.

    How far a query's attention spreads over its best titles.

    >>> round(attention_spread(np.array([1.0, 1.0, 1.0, 1.0]), 0.05), 2)
    0.75
    """
    if not len(scores):
        return 0.0
    if len(scores) > SPREAD_TITLES:
        scores = np.partition(scores, -SPREAD_TITLES)[-SPREAD_TITLES:]
    weights = np.exp((scores - scores.max()) / temperature)
    return float(1.0 - 1.0 / weights.sum())


def genre_share(intent: Intents, catalog: Catalog) -> np.ndarray | None:
    """Per title ``(N,)``, the share of the query's genres it has (a genre counts if any of its labels match)."""
    if not intent.genres:
        return None
    return np.mean([catalog.labels_mask(tuple(labels)) for labels in intent.genres.values()], axis=0)


def product(matrix: np.ndarray, other: np.ndarray) -> np.ndarray:
    """``matrix @ other``, on torch's threads as the encoder runs.

    NumPy's BLAS threads, left spinning after a product, slow the next query's encoding several times over
    on a small machine. The arrays are only read (the key store's may be read-only memory).
    """
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return (torch.from_numpy(matrix) @ torch.from_numpy(np.ascontiguousarray(other))).numpy()


def people_count(intent: Intents, size: int) -> np.ndarray:
    """``(N,)`` how many of the people the query names each title has."""
    count = np.zeros(size, dtype=np.int64)
    for rows in intent.people.values():
        count[rows] += 1
    return count


def _like_label(intent: Intents, catalog: Catalog) -> str:
    return "like: " + ", ".join(catalog.records[row][1] for row in intent.like)


def top_positions(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the (at most) ``k`` highest scores, best first.

    >>> top_positions(np.array([0.1, 0.5, 0.3, 0.4]), 3)
    array([1, 3, 2])
    """
    k = min(k, len(scores))
    if not k:
        return np.empty(0, np.int64)
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best], kind="stable")]


def _both(first: np.ndarray | None, second: np.ndarray | None) -> np.ndarray | None:
    """Combine two optional row masks (None means no filter)."""
    if first is None:
        return second
    return first if second is None else first & second
