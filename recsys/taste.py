"""Recommendations that learn from what people liked: the history model, item-to-item weights and popularity.

A model trained with interactions (``recsys train --interactions``) keeps a :class:`Taste`; a history's
score for a title is a sum of named parts, each standardised over the catalog for that history and
weighted by what held-out likes chose::

    score = w_h · history attention  +  w_i · item-to-item (EASE)  +  w_p · popularity  +  w_d · description
            −  w_d · description of the disliked titles

The history part is ``recsys.sequence``'s attention over the history (its weights say which past likes
drew a result), item-to-item is ``recsys.collaborative``'s EASE, popularity is ``log(1 + likes)``, and the
description part is the catalog-only recommender (``recsys.recommend``). Everything is kept by title id,
so titles added or removed later are handled: an added title has its description and genres, nothing else.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from recsys.catalog import Catalog
from recsys.collaborative import EASE_L2, RECENCY, ItemToItem, ease, popularity
from recsys.errors import CatalogError
from recsys.heldout import mean_quality, time_split
from recsys.interactions import Interactions
from recsys.progress import Progress
from recsys.recommend import description_parts
from recsys.scoring import Scorer, top_positions
from recsys.sequence import (
    HistoryAttention,
    SequenceConfig,
    SequenceTraining,
    TitleFeatures,
    fit_history_model,
    history_scores,
)
from recsys.store import TitleStore

PARTS = ("history", "item-to-item", "popularity", "description")
WEIGHT_GRID = (0.0, 0.25, 0.5, 1.0, 2.0)
MAX_GENRES = 256  # the most frequent genre labels get a column in the title vectors


@dataclass(eq=False)
class Taste:
    """What a model learned from likes, kept by title id.

    Attributes
    ----------
    sequence : HistoryAttention
        The history model; its collaborative embedding ``n + 1`` belongs to ``collaborative_ids[n]``.
    collaborative_ids : list of str
    item_to_item : dict
        ``{"ids": [...], "neighbours": (M, k) positions into ids, "weights": (M, k)}``.
    popular : dict of str to float
        Likes per title id.
    weights : dict of str to float
        Each part's weight.
    recency : float
        How much less each older like counts in the item-to-item part (``recsys.collaborative``).
    metrics : dict
        Training figures.
    """

    sequence: HistoryAttention
    collaborative_ids: list[str]
    item_to_item: dict
    popular: dict[str, float]
    weights: dict[str, float]
    recency: float = 1.0
    metrics: dict = field(default_factory=dict)
    _bound: WeakKeyDictionary = field(default_factory=WeakKeyDictionary, init=False, repr=False)

    def bound(self, catalog: Catalog, store: TitleStore, scorer: Scorer) -> BoundTaste:
        """The taste over a catalog's rows (cached per store)."""
        if store not in self._bound:
            self._bound[store] = BoundTaste.of(self, catalog, store, scorer)
        return self._bound[store]

    def save(self, folder: Path) -> dict:
        """Write the weights as safetensors and return the config section (ids and weights as JSON)."""
        folder.mkdir(parents=True, exist_ok=True)
        save_file(self.sequence.state_dict(), folder / "sequence.safetensors")
        tensors = {"neighbours": self.item_to_item["neighbours"], "weights": self.item_to_item["weights"]}
        save_file({k: v.contiguous() for k, v in tensors.items()}, folder / "item_to_item.safetensors")
        index = {"collaborative_ids": self.collaborative_ids, "item_to_item_ids": self.item_to_item["ids"],
                 "popular": self.popular}  # fmt: skip
        (folder / "ids.json").write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
        return {"sequence": self.sequence.config.to_dict(), "weights": self.weights, "recency": self.recency}

    @classmethod
    def load(cls, folder: Path, section: dict, metrics: dict | None = None) -> Taste:
        """Read a taste written by :meth:`save`."""
        index = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        sequence = HistoryAttention(SequenceConfig.from_dict(section["sequence"]), len(index["collaborative_ids"]))
        sequence.load_state_dict(load_file(folder / "sequence.safetensors"))
        tensors = load_file(folder / "item_to_item.safetensors")
        item_to_item = {"ids": index["item_to_item_ids"], **tensors}
        return cls(sequence.eval(), index["collaborative_ids"], item_to_item, index["popular"], section["weights"],
                   section["recency"], metrics or {})  # fmt: skip


@dataclass
class BoundTaste:
    """A :class:`Taste` over one catalog's rows: title features, item-to-item weights and popularity by row."""

    taste: Taste
    features: TitleFeatures
    vectors: torch.Tensor  # (N, d) the history model's title vectors
    item_to_item: ItemToItem
    popularity: np.ndarray  # (N,) log(1 + likes)

    @classmethod
    def of(cls, taste: Taste, catalog: Catalog, store: TitleStore, scorer: Scorer) -> BoundTaste:
        """Bind a taste to a catalog's rows."""
        row_of = catalog.row_of
        collaborative = torch.zeros(len(catalog), dtype=torch.long)
        for number, movie_id in enumerate(taste.collaborative_ids, start=1):
            if movie_id in row_of:
                collaborative[row_of[movie_id]] = number
        features = title_features(catalog, store, scorer, taste.sequence.config, collaborative)
        with torch.inference_mode():
            vectors = features.vectors(taste.sequence)
        ids = taste.item_to_item["ids"]
        rows = torch.tensor([row_of.get(movie_id, -1) for movie_id in ids], dtype=torch.long)
        neighbours = rows[taste.item_to_item["neighbours"]]
        weights = taste.item_to_item["weights"].masked_fill(neighbours < 0, 0.0)
        present = rows >= 0
        item_to_item = ItemToItem(neighbours[present].clamp_min(0), weights[present], rows[present], len(catalog))
        popular = np.zeros(len(catalog), dtype=np.float32)
        for movie_id, count in taste.popular.items():
            if movie_id in row_of:
                popular[row_of[movie_id]] = count
        return cls(taste, features, vectors, item_to_item, np.log1p(popular))

    def parts(self, scorer: Scorer, store: TitleStore, history: np.ndarray, disliked: np.ndarray) -> dict:
        """Each part's raw values ``(N,)`` for a history of rows (oldest first), and the disliked titles'."""
        return self._parts(scorer, store, history, disliked)[0]

    def scores(self, scorer: Scorer, store: TitleStore, history: np.ndarray, disliked: np.ndarray) -> np.ndarray:
        """Every title's score ``(N,)`` for a history of rows (oldest first) and disliked rows."""
        return combined(self.parts(scorer, store, history, disliked), self.taste.weights)

    def _parts(
        self, scorer: Scorer, store: TitleStore, history: np.ndarray, disliked: np.ndarray
    ) -> tuple[dict, np.ndarray]:  # fmt: skip
        """:meth:`parts`, and the history model's weights over the latest likes ``(N, L)``."""
        with torch.inference_mode():
            sequence, weights, _ = history_scores(self.taste.sequence, self.features, [history], self.vectors)
        length = min(len(history), self.taste.sequence.config.max_length)
        found = {
            "history": sequence[0].numpy(),
            "item-to-item": self.item_to_item.scores(history, self.taste.recency),
            "popularity": self.popularity,
            "description": description_parts(scorer, store, list(history)).mean(1),
        }
        if len(disliked):
            found["less like"] = description_parts(scorer, store, list(disliked)).mean(1)
        return found, weights[0, :, -length:].numpy()

    def recommend(
        self, scorer: Scorer, store: TitleStore, history: np.ndarray, disliked: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, list[tuple], np.ndarray]:  # fmt: skip
        """The best ``k`` (scores, rows) for a history, liked and disliked rows left out.

        Also returns each one's weighted parts, and the history model's weights over the latest likes ``(k, L)``.
        """
        raw, history_weights = self._parts(scorer, store, history, disliked)
        parts = {name: standardised(values) for name, values in raw.items()}
        total = weighed(parts, self.taste.weights)
        candidates = np.setdiff1d(np.arange(len(total)), np.concatenate([history, disliked]))
        rows = candidates[top_positions(total[candidates], k)]
        named = {name: weight * parts[name][rows] for name, weight in part_weights(parts, self.taste.weights).items()}
        found = [tuple((name, round(float(values[i]), 4)) for name, values in named.items()) for i in range(len(rows))]
        return total[rows].astype(np.float32), rows, found, history_weights[rows]

    def history_weights(self, history: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The history model's weights over the history ``(R, L)`` for some result rows, and their score parts."""
        with torch.inference_mode():
            _, weights, parts = history_scores(self.taste.sequence, self.features, [history], self.vectors)
        length = min(len(history), self.taste.sequence.config.max_length)
        return weights[0, rows, -length:].numpy(), parts[0, rows, -length:].numpy()


def standardised(values: np.ndarray) -> np.ndarray:
    """Values shifted to mean 0 and scaled to standard deviation 1 over the catalog (unchanged if constant).

    >>> standardised(np.array([1.0, 2.0, 3.0])).round(3).tolist()
    [-1.225, 0.0, 1.225]
    """
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else values - values.mean()


def combined(parts: dict, weights: dict[str, float]) -> np.ndarray:
    """The score ``(N,)``: each part standardised and weighted; the disliked titles' description subtracted."""
    return weighed({name: standardised(values) for name, values in parts.items()}, weights)


def weighed(parts: dict, weights: dict[str, float]) -> np.ndarray:
    """The sum of standardised parts (arrays of one shape) times :func:`part_weights`."""
    total = np.zeros_like(next(iter(parts.values())), dtype=np.result_type(np.float32, *parts.values()))
    for name, weight in part_weights(parts, weights).items():
        total += weight * parts[name]
    return total


def part_weights(parts: dict, weights: dict[str, float]) -> dict[str, float]:
    """The weight of each part present that counts: its own, and minus the description's for "less like".

    >>> part_weights({"history": 0, "popularity": 0, "less like": 0}, {"history": 0.5, "popularity": 0.0})
    {'history': 0.5, 'less like': -1.0}
    """
    found = {name: weights[name] for name in parts if name != "less like" and weights.get(name)}
    if "less like" in parts:
        found["less like"] = -weights.get("description", 1.0)
    return found


def title_features(
    catalog: Catalog, store: TitleStore, scorer: Scorer, config: SequenceConfig, collaborative: torch.Tensor
) -> TitleFeatures:
    """The history model's view of every title: value vectors, genre and year multi-hots, collaborative numbers."""
    with torch.inference_mode():
        content = scorer.head.values(torch.from_numpy(store.embeddings)).float()
    column = {genre: i for i, genre in enumerate(config.genres)}
    multi_hot = torch.zeros(len(catalog), config.facets)
    for row, labels in enumerate(catalog.frame["genres"]):
        for label in labels:
            if label in column:
                multi_hot[row, column[label]] = 1.0
    years = catalog.frame["year"].to_numpy(dtype=float, na_value=np.nan)
    known = np.flatnonzero(~np.isnan(years))
    spans = len(config.genres) + np.digitize(years[known], config.year_edges)
    multi_hot[torch.from_numpy(known), torch.from_numpy(spans)] = 1.0
    return TitleFeatures(content, multi_hot, collaborative)


def train_taste(
    catalog: Catalog, store: TitleStore, scorer: Scorer, interactions: Interactions,
    settings: SequenceTraining | None = None, progress: Progress = False,
) -> Taste:  # fmt: skip
    """Learn a taste from likes: the history model, EASE's λ and recency, and the parts' weights.

    Settings are chosen on the latest 20% of each history (``recsys.heldout``; the last like of each,
    when no history has 5); then the history model is trained again on every like for as many epochs as
    did best, and EASE and popularity are refitted.

    Raises
    ------
    CatalogError
        If nobody liked two titles or more.
    """
    settings = settings or SequenceTraining()
    started = time.perf_counter()
    histories = [h for h in interactions.histories() if len(h)]
    training, held = time_split(histories)
    if not held:  # short histories only: hold out each one's last like
        training, held = time_split(histories, min_likes=2)
    if not held:
        source = interactions.report.get("file", "the interactions")
        raise CatalogError(source, "too few likes to learn from: nobody liked two titles or more")
    validation = Validation([training[u] for u in held], list(held.values()))
    size, ids = len(catalog), catalog.ids
    config = SequenceConfig(genres=_frequent_labels(catalog), content_dim=store.embeddings.shape[1])

    def fitted(histories: list[np.ndarray], epochs: SequenceTraining, validate=None):
        liked = np.unique(np.concatenate(histories))
        collaborative = torch.zeros(size, dtype=torch.long)
        collaborative[torch.from_numpy(liked)] = torch.arange(1, len(liked) + 1)
        features = title_features(catalog, store, scorer, config, collaborative)
        model = HistoryAttention(config, len(liked))
        check = None if validate is None else (lambda m: validate(m, features))
        model, figures = fit_history_model(model, features, histories, epochs, check, progress)
        return model, [ids[r] for r in liked], figures

    def validate(model: HistoryAttention, features: TitleFeatures) -> float:
        with torch.inference_mode():
            vectors = features.vectors(model)
            scores = np.concatenate([
                history_scores(model, features, validation.histories[start : start + 32], vectors)[0].numpy()
                for start in range(0, len(validation.histories), 32)
            ])  # fmt: skip
        return mean_quality(scores, validation.histories, validation.relevant)

    sequence, collaborative_ids, figures = fitted(training, settings, validate)  # its best epoch
    best_epoch = max(figures, key=lambda epoch: epoch["validation"])["epoch"] if figures else 1
    item_to_item = {l2: ease(training, size, l2) for l2 in EASE_L2}
    l2_scores = {l2: validation.quality(weights) for l2, weights in item_to_item.items()}
    l2 = max(l2_scores, key=l2_scores.get)
    recency_scores = {rho: validation.quality(item_to_item[l2], rho) for rho in RECENCY}
    recency = max(recency_scores, key=recency_scores.get)
    partial = Taste(sequence, collaborative_ids, _item_to_item_by_id(item_to_item[l2], ids),
                    _popular_by_id(popularity(training, size), ids), {}, recency)  # fmt: skip
    weights, weight_scores = choose_weights(partial.bound(catalog, store, scorer), scorer, store, validation)
    sequence, collaborative_ids, _ = fitted(histories, replace(settings, epochs=best_epoch))
    metrics = {
        "likes": len(interactions), "users": len(histories), "validation users": len(held),
        "history model": figures, "epochs": best_epoch,
        "ease l2": {str(k): round(v, 4) for k, v in l2_scores.items()},
        "recency": {str(k): round(v, 4) for k, v in recency_scores.items()},
        "weights": weights, "weights validation": weight_scores, "report": interactions.report,
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    return Taste(sequence, collaborative_ids, _item_to_item_by_id(ease(histories, size, l2), ids),
                 _popular_by_id(popularity(histories, size), ids), weights, recency, metrics)  # fmt: skip


@dataclass
class Validation:
    """Histories with their latest likes held out, and those likes."""

    histories: list[np.ndarray]
    relevant: list[np.ndarray]

    def quality(self, item_to_item: ItemToItem, recency: float = 1.0) -> float:
        """Mean nDCG@10 of the item-to-item part alone."""
        scores = np.stack([item_to_item.scores(history, recency) for history in self.histories])
        return mean_quality(scores, self.histories, self.relevant)


def choose_weights(
    bound: BoundTaste, scorer: Scorer, store: TitleStore, validation: Validation
) -> tuple[dict[str, float], dict]:  # fmt: skip
    """Each part's weight, by coordinate ascent over ``WEIGHT_GRID`` on the held-out likes."""
    nothing = np.empty(0, np.int64)
    parts = [{k: standardised(v) for k, v in bound.parts(scorer, store, h, nothing).items()}
             for h in validation.histories]  # fmt: skip
    stacked = {name: np.stack([p[name] for p in parts]) for name in PARTS}

    def score(weights: dict[str, float]) -> float:
        return mean_quality(weighed(stacked, weights), validation.histories, validation.relevant)

    weights = {"history": 1.0, "item-to-item": 1.0, "popularity": 0.0, "description": 0.0}
    tried = {}
    for _ in range(2):
        for name in PARTS:
            for value in WEIGHT_GRID:
                candidate = {**weights, name: value}
                if any(candidate.values()):
                    tried[json.dumps(candidate)] = score(candidate)
            weights = json.loads(max(tried, key=tried.get))
    return weights, {"best": round(max(tried.values()), 4), "tried": len(tried)}


def _item_to_item_by_id(item_to_item: ItemToItem, ids: list[str]) -> dict:
    positions = torch.full((item_to_item.size,), -1, dtype=torch.long)
    positions[item_to_item.rows] = torch.arange(len(item_to_item.rows))
    neighbours = positions[item_to_item.neighbours]  # (M, k) positions into the ids
    weights = item_to_item.weights.masked_fill(neighbours < 0, 0.0)
    return {"ids": [ids[r] for r in item_to_item.rows.tolist()], "neighbours": neighbours.clamp_min(0),
            "weights": weights.half()}  # fmt: skip


def _popular_by_id(counts: np.ndarray, ids: list[str]) -> dict[str, float]:
    return {ids[row]: float(counts[row]) for row in np.flatnonzero(counts)}


def _frequent_labels(catalog: Catalog) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for labels in catalog.frame["genres"]:
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
    return tuple(sorted(counts, key=lambda label: (-counts[label], label))[:MAX_GENRES])
