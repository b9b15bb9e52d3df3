"""Recommendations that learn from what people liked: one attention over a history, and popularity.

A model trained with interactions (``recsys train --interactions``) keeps a :class:`Taste`. For a history
of likes, oldest first, each of the latest ``L`` likes ``t`` gives every title ``j`` evidence from three
parts, each in units of the typical spread over the catalog of a history's summed evidence (``σ``, fixed
when the model is trained) and weighted::

    e_t(j) = w_h · history_t(j)/σ_h  +  w_i · item-to-item_t(j)/σ_i  +  w_d · description_t(j)/σ_d

``history_t`` is ``recsys.sequence``'s logit of like t for title j, ``item-to-item_t`` is like t's
``recsys.collaborative`` (SLIST) weight to j, ``description_t`` is like t's value vector read as a query
against j's key (``recsys.recommend``). One attention over the likes weighs them and scores::

    a_t(j) = softmax_t( e_t(j) / T )
    score(j) = L · T · log( mean_t exp(e_t(j) / T) )  +  w_p · popularity(j)  −  w_max · less like(j)

The weights ``a_t(j)`` sum to 1 and are what "because you liked Alien (0.41), …" shows; deleting like ``u``
changes the first term by an amount that grows with ``a_u(j)`` and nothing else of ``u`` (the others'
evidence is unchanged but for how long ago they were liked), so the top-weighted like is the one the result
owes most. As ``T`` grows the first term becomes the plain sum of the evidence; ``T``, the weights, SLIST's
settings and the history model's epochs are chosen on each history's latest 20% of likes. The score splits
exactly into named parts: each part's ``L · Σ_t a_t · w · part_t/σ``, "agreement" (``L · T · (H(a) − log L)``,
0 when every like counts alike, below 0 when few likes carry the result), popularity and "less like".
Everything is kept by title id, so titles added or removed later are handled: an added title has its
description and genres, nothing else.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from recsys.calibration import simplest_within_noise
from recsys.catalog import Catalog
from recsys.collaborative import EASE_L2, RECENCY, SLIST_MIX, ItemToItem, popularity, slist
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
    history_logits,
)
from recsys.store import TitleStore

LIKE_PARTS = ("history", "item-to-item", "description")  # evidence from each like, inside the attention
PARTS = (*LIKE_PARTS, "popularity")
WEIGHT_GRID = (0.0, 0.25, 0.5, 1.0, 2.0)
TEMPERATURES = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)  # T tried, sharpest first: the first within noise
CONTENT_PARTS = ("history", "description")  # the parts that can tell apart titles nobody has liked
UNLIKED_TIE = 1e-3  # the content attention's share of the score of titles nobody liked: it orders them
MAX_GENRES = 256  # the most frequent genre labels get a column in the title vectors


@dataclass
class Mixing:
    """How the parts of a recommendation combine; chosen on held-out likes (:func:`choose_mixing`)."""

    weights: dict[str, float]  # each part's weight
    temperature: float  # T of the attention over the likes
    scales: dict[str, float]  # each part's unit: the typical spread over the catalog of a history's summed evidence
    unliked_weights: dict[str, float] = field(default_factory=dict)  # the content attention for titles nobody liked
    unliked_temperature: float = 1.0  # its T


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
    mixing : Mixing
        How the parts combine: weights, temperatures, scales.
    recency : float
        How much less each older like counts in the item-to-item part (``recsys.collaborative``).
    metrics : dict
        Training figures.
    """

    sequence: HistoryAttention
    collaborative_ids: list[str]
    item_to_item: dict
    popular: dict[str, float]
    mixing: Mixing
    recency: float = 1.0
    metrics: dict = field(default_factory=dict)
    _bound: WeakKeyDictionary = field(default_factory=WeakKeyDictionary, init=False, repr=False)

    @property
    def weights(self) -> dict[str, float]:
        """Each part's weight."""
        return self.mixing.weights

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
        return {"sequence": self.sequence.config.to_dict(), "mixing": asdict(self.mixing), "recency": self.recency}

    @classmethod
    def load(cls, folder: Path, section: dict, metrics: dict | None = None) -> Taste:
        """Read a taste written by :meth:`save`."""
        index = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        sequence = HistoryAttention(SequenceConfig.from_dict(section["sequence"]), len(index["collaborative_ids"]))
        sequence.load_state_dict(load_file(folder / "sequence.safetensors"))
        tensors = load_file(folder / "item_to_item.safetensors")
        item_to_item = {"ids": index["item_to_item_ids"], **tensors}
        return cls(sequence.eval(), index["collaborative_ids"], item_to_item, index["popular"],
                   Mixing(**section["mixing"]), section["recency"], metrics or {})  # fmt: skip


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

    def evidence(
        self, scorer: Scorer, store: TitleStore, history: np.ndarray, parts: tuple[str, ...] = LIKE_PARTS
    ) -> dict[str, np.ndarray]:  # fmt: skip
        """Some parts' evidence from each of the latest ``L`` likes for every title ``(L, N)``, unscaled."""
        recent = np.asarray(history[-self.taste.sequence.config.max_length :], dtype=np.int64)
        found = {}
        if "history" in parts:
            with torch.inference_mode():
                logits = history_logits(self.taste.sequence, self.features, [recent], self.vectors)
            found["history"] = logits[0, :, -len(recent) :].T.numpy()
        if "item-to-item" in parts:
            found["item-to-item"] = self.item_to_item.per_like(recent, self.taste.recency)
        if "description" in parts:
            found["description"] = description_parts(scorer, store, list(recent)).T
        return found

    def scores(self, scorer: Scorer, store: TitleStore, history: np.ndarray, disliked: np.ndarray) -> np.ndarray:
        """Every title's score ``(N,)`` for a history of rows (oldest first) and disliked rows."""
        return self._scored(scorer, store, history, disliked).total

    def recommend(
        self, scorer: Scorer, store: TitleStore, history: np.ndarray, disliked: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray, list[tuple], np.ndarray]:  # fmt: skip
        """The best ``k`` (scores, rows) for a history, liked and disliked rows left out.

        Also returns each one's named parts (those that are not 0), and the weights over the latest likes ``(k, L)``.
        """
        scored = self._scored(scorer, store, history, disliked)
        candidates = np.setdiff1d(np.arange(len(scored.total)), np.concatenate([history, disliked]))
        rows = candidates[top_positions(scored.total[candidates], k)]
        named = scored.parts(rows)
        found = [tuple((name, round(float(values[i]), 4)) for name, values in named.items() if values[i])
                 for i in range(len(rows))]  # fmt: skip
        return scored.total[rows].astype(np.float32), rows, found, scored.weights[:, rows].T

    def like_weights(self, scorer: Scorer, store: TitleStore, history: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The weights over the latest likes ``(R, L)`` for some result rows."""
        return self._scored(scorer, store, history, np.empty(0, np.int64)).weights[:, rows].T

    def _scored(self, scorer: Scorer, store: TitleStore, history: np.ndarray, disliked: np.ndarray) -> Scored:
        mixing = self.taste.mixing
        weighted = [name for name in LIKE_PARTS if mixing.weights.get(name) or mixing.unliked_weights.get(name)]
        needed = tuple(weighted) or ("description",)  # a part without weight is not computed; the likes need one
        evidence = scaled(self.evidence(scorer, store, history, needed), mixing.scales)
        scored = attend(evidence, mixing.weights, mixing.temperature)
        if mixing.unliked_weights:
            unliked = attend(evidence, mixing.unliked_weights, mixing.unliked_temperature)
            scored = scored.with_unliked(unliked, self.popularity == 0)
        outside = {"popularity": standardised(self.popularity)}
        if len(disliked):
            outside["less like"] = standardised(description_parts(scorer, store, list(disliked)).mean(1))
        return scored.with_parts(outside, part_weights(outside, mixing.weights))


@dataclass
class Scored:
    """The attention over a history's likes for every title, and the score's named parts."""

    total: np.ndarray  # (N,) the score
    weights: np.ndarray  # (L, N) a_t(j)
    named: dict[str, np.ndarray] = field(default_factory=dict)  # each part's share of the score (N,)

    def parts(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Each named part at some rows, the parts without weight left out."""
        return {name: values[rows] for name, values in self.named.items()}

    def with_unliked(self, unliked: Scored, rows: np.ndarray) -> Scored:
        """For titles nobody liked in training (mask ``rows``), the content attention ``unliked`` added.

        Its share (``UNLIKED_TIE``) is too small to move them past a title people liked; it orders them
        among themselves, where the likes cannot, and its weights over the history are theirs.
        """
        content = np.where(rows, UNLIKED_TIE * unliked.total, 0.0)
        weights = np.where(rows[None, :], unliked.weights, self.weights)
        return Scored(self.total + content, weights, {**self.named, "content (nobody liked it yet)": content})

    def with_parts(self, outside: dict[str, np.ndarray], weights: dict[str, float]) -> Scored:
        """The score with parts from outside the attention added (popularity, "less like"), weighted."""
        total, named = self.total.copy(), dict(self.named)
        for name, weight in weights.items():
            named[name] = weight * outside[name]
            total += named[name]
        return Scored(total, self.weights, named)


def scaled(evidence: dict[str, np.ndarray], scales: dict[str, float]) -> dict[str, np.ndarray]:
    """Each part's evidence ``(L, N)`` in units of its typical spread (``scales``; a part without one: 0)."""
    return {name: each / scales[name] if scales.get(name) else np.zeros_like(each) for name, each in evidence.items()}


def attend(evidence: dict[str, np.ndarray], weights: dict[str, float], temperature: float) -> Scored:
    """The attention over the likes of scaled evidence ``(L, N)`` per part: its score, weights and parts.

    >>> one = {"history": np.array([[1.0, 0.0], [0.0, 0.0]])}
    >>> scored = attend(one, {"history": 1.0}, 1.0)
    >>> scored.weights.sum(0).round(6).tolist(), scored.total.round(4).tolist()
    ([1.0, 1.0], [1.2402, 0.0])
    >>> np.allclose(sum(scored.named.values()), scored.total)
    True
    """
    used = {name: weights[name] for name in LIKE_PARTS if weights.get(name) and name in evidence}
    first = next(iter(evidence.values()))  # (L, N)
    length = len(first)
    combined = sum((weight * evidence[name] for name, weight in used.items()), np.zeros_like(first))
    logits = torch.from_numpy(combined / temperature)
    attention = torch.softmax(logits, 0).numpy()
    total = length * temperature * (torch.logsumexp(logits, 0).numpy() - np.log(length))
    named = {name: length * (attention * weight * evidence[name]).sum(0) for name, weight in used.items()}
    entropy = -(attention * np.log(np.clip(attention, 1e-30, None))).sum(0)
    named["agreement"] = length * temperature * (entropy - np.log(length))
    return Scored(total, attention, named)


def standardised(values: np.ndarray) -> np.ndarray:
    """Values shifted to mean 0 and scaled to standard deviation 1 over the catalog (unchanged if constant).

    >>> standardised(np.array([1.0, 2.0, 3.0])).round(3).tolist()
    [-1.225, 0.0, 1.225]
    """
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else values - values.mean()


def part_weights(parts: dict, weights: dict[str, float]) -> dict[str, float]:
    """The weight of each part present that counts: its own, and for "less like" minus the largest.

    A title marked "less like this" is a person's own word, so its part counts as much as the strongest
    part, even where the held-out likes gave the description no weight.

    >>> part_weights({"popularity": 0, "less like": 0}, {"history": 0.5, "popularity": 0.0})
    {'less like': -0.5}
    """
    found = {name: weights[name] for name in parts if name != "less like" and weights.get(name)}
    if "less like" in parts:
        found["less like"] = -max(weights.values(), default=1.0) or -1.0
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
    """Learn a taste from likes: the history model, the item-to-item weights, and the parts' weights.

    Settings are chosen on the latest 20% of each history (``recsys.heldout``; the last like of each,
    when no history has 5); then the history model is trained again on every like for as many epochs as
    did best, and the item-to-item weights and popularity are refitted.

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
                history_logits(model, features, validation.histories[start : start + 32], vectors).logsumexp(-1).numpy()
                for start in range(0, len(validation.histories), 32)
            ])  # fmt: skip
        return validation.score(scores)

    sequence, collaborative_ids, figures = fitted(training, settings, validate)  # its best epoch
    best_epoch = max(figures, key=lambda epoch: epoch["validation"])["epoch"] if figures else 1
    (l2, mix, recency), item_scores = choose_item_to_item(training, size, validation)
    partial = Taste(sequence, collaborative_ids, _item_to_item_by_id(slist(training, size, l2, mix), ids),
                    _popular_by_id(popularity(training, size), ids), Mixing({}, 1.0, {}), recency)  # fmt: skip
    mixing, mixing_scores = choose_mixing(partial.bound(catalog, store, scorer), scorer, store, validation)
    sequence, collaborative_ids, _ = fitted(histories, replace(settings, epochs=best_epoch))
    metrics = {
        "likes": len(interactions), "users": len(histories), "validation users": len(held),
        "history model": figures, "epochs": best_epoch,
        "item-to-item": {"l2": l2, "mix": mix, "recency": recency, "validation": item_scores},
        "mixing": asdict(mixing), "mixing validation": mixing_scores,
        "report": interactions.report,
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    item_to_item, popular = slist(histories, size, l2, mix), popularity(histories, size)
    return Taste(sequence, collaborative_ids, _item_to_item_by_id(item_to_item, ids), _popular_by_id(popular, ids),
                 mixing, recency, metrics)  # fmt: skip


def choose_item_to_item(
    histories: list[np.ndarray], size: int, validation: Validation
) -> tuple[tuple[float, float, float], dict[str, float]]:  # fmt: skip
    """SLIST's ``λ`` and ``α`` and the recency ``ρ``, chosen on the held-out likes; the scores at that ``ρ``.

    ``λ`` is tried at ``α = 0.5``, then ``α`` at the best ``λ``; each fit is read at every ``ρ``.
    """
    scores: dict[tuple[float, float, float], float] = {}

    def tried(l2: float, mix: float) -> float:
        if (l2, mix, RECENCY[0]) not in scores:
            item_to_item = slist(histories, size, l2, mix)
            scores.update({(l2, mix, rho): validation.quality(item_to_item, rho) for rho in RECENCY})
        return max(scores[(l2, mix, rho)] for rho in RECENCY)

    l2 = max(EASE_L2, key=lambda l2: tried(l2, 0.5))
    for mix in SLIST_MIX:
        tried(l2, mix)
    best = max(scores, key=scores.get)
    return best, {f"λ={k[0]:g} α={k[1]:g} ρ={k[2]:g}": round(v, 4) for k, v in scores.items() if k[2] == best[2]}


@dataclass
class Validation:
    """Histories with their latest likes held out, and those likes."""

    histories: list[np.ndarray]
    relevant: list[np.ndarray]
    kept: np.ndarray | None = None  # for a part of another validation (:meth:`only`): its positions there

    def score(self, scores: np.ndarray) -> float:
        """Mean nDCG@10 of score rows ``(V, N)``, one per history."""
        return mean_quality(scores, self.histories, self.relevant)

    def quality(self, item_to_item: ItemToItem, recency: float = 1.0) -> float:
        """Mean nDCG@10 of the item-to-item part alone."""
        return self.score(np.stack([item_to_item.scores(history, recency) for history in self.histories]))

    def only(self, titles: np.ndarray) -> Validation:
        """The held-out likes of some titles (mask ``(N,)``) only, and the histories that have one."""
        kept = np.array([i for i, relevant in enumerate(self.relevant) if titles[relevant].any()], dtype=np.int64)
        return Validation([self.histories[i] for i in kept], [self.relevant[i][titles[self.relevant[i]]] for i in kept],
                          kept)  # fmt: skip


def choose_mixing(
    bound: BoundTaste, scorer: Scorer, store: TitleStore, validation: Validation
) -> tuple[Mixing, dict]:  # fmt: skip
    """How the parts combine, chosen on the held-out likes; and the validation figures.

    A part's scale is the median over histories of the spread of its summed evidence over the catalog, so
    the summed evidence of a typical history has a spread of 1. The weights are chosen first, by
    coordinate ascent over ``WEIGHT_GRID`` with the evidence summed (the score ``T`` tends to as it grows),
    and the content weights for titles nobody liked likewise, on held-out likes of such titles ranked among
    themselves; then each attention's ``T``: the sharpest of ``TEMPERATURES`` within noise of the best.
    """
    summed, scales = _summed_evidence(bound, scorer, store, validation.histories)
    unliked = bound.popularity == 0
    popular = standardised(bound.popularity)
    summed["popularity"] = np.broadcast_to(popular, (len(validation.histories), len(popular)))
    weights, tried = _coordinate_ascent(summed, validation)
    unliked_validation = validation.only(unliked)
    unliked_weights, unliked_tried = _content_weights(summed, unliked, unliked_validation)
    totals = {t: [] for t in TEMPERATURES}
    unliked_totals = {t: [] for t in TEMPERATURES}
    has_unliked = set(unliked_validation.kept.tolist()) if unliked_weights else set()
    for number, history in enumerate(validation.histories):
        evidence = scaled(bound.evidence(scorer, store, history), scales)
        for t in TEMPERATURES:
            totals[t].append(attend(evidence, weights, t).total + weights["popularity"] * popular)
            if number in has_unliked:
                unliked_totals[t].append(np.where(unliked, attend(evidence, unliked_weights, t).total, -np.inf))
    main = {str(t): round(validation.score(np.stack(found)), 4) for t, found in totals.items()}
    content = {str(t): round(unliked_validation.score(np.stack(found)), 4)
               for t, found in unliked_totals.items() if found}  # fmt: skip
    mixing = Mixing(weights, float(simplest_within_noise(main)), scales, unliked_weights,
                    float(simplest_within_noise(content)) if content else 1.0)  # fmt: skip
    figures = {"weights best": round(max(tried.values()), 4), "weights tried": len(tried), "T": main,
               "unliked weights best": unliked_tried, "unliked T": content}  # fmt: skip
    return mixing, figures


def _summed_evidence(
    bound: BoundTaste, scorer: Scorer, store: TitleStore, histories: list[np.ndarray]
) -> tuple[dict[str, np.ndarray], dict[str, float]]:  # fmt: skip
    """Each part's evidence summed over each history's likes ``(V, N)``, in units of its scale; the scales."""
    summed, spreads = {name: [] for name in LIKE_PARTS}, {name: [] for name in LIKE_PARTS}
    for history in histories:
        for name, each in bound.evidence(scorer, store, history).items():
            summed[name].append(each.sum(0))
            spreads[name].append(summed[name][-1].std())
    scales = {name: float(np.median(found)) for name, found in spreads.items()}
    return {name: np.stack(values) / (scales[name] or np.inf) for name, values in summed.items()}, scales


def _coordinate_ascent(summed: dict[str, np.ndarray], validation: Validation) -> tuple[dict[str, float], dict]:
    """Each part's weight by coordinate ascent over ``WEIGHT_GRID`` (two rounds), and each candidate's score."""
    weights = {"history": 1.0, "item-to-item": 1.0, "popularity": 0.0, "description": 0.0}
    tried = {}
    for _ in range(2):
        for name in PARTS:
            for value in WEIGHT_GRID:
                candidate = {**weights, name: value}
                if any(candidate.values()):
                    tried[json.dumps(candidate)] = validation.score(sum(w * summed[n] for n, w in candidate.items()))
            weights = json.loads(max(tried, key=tried.get))
    return weights, tried


def _content_weights(
    summed: dict[str, np.ndarray], unliked: np.ndarray, validation: Validation
) -> tuple[dict[str, float], dict[str, float]]:  # fmt: skip
    """The content parts' weights that best order the titles nobody liked (mask ``unliked``); the best five tried.

    ``validation`` holds the held-out likes of such titles only (:meth:`Validation.only`).
    """
    if not validation.histories:
        return {}, {}
    tried = {}
    for history_weight in WEIGHT_GRID:
        for description_weight in WEIGHT_GRID:
            candidate = dict(zip(CONTENT_PARTS, (history_weight, description_weight), strict=True))
            if any(candidate.values()):
                scores = sum(w * summed[n][validation.kept] for n, w in candidate.items())
                tried[json.dumps(candidate)] = validation.score(np.where(unliked, scores, -np.inf))
    best = sorted(tried.items(), key=lambda item: -item[1])[:5]
    return json.loads(best[0][0]), {key: round(value, 4) for key, value in best}


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
