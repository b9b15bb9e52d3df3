"""Retraining on a catalog: what ``recsys train`` does, from pseudo-queries to the model that serves.

Pseudo-queries come from the catalog itself (``recsys.pseudoqueries``); the head trains on them
(``recsys.fitting``) and is kept only if it beats both the untrained head and the starting head on held-out
titles by more than noise (``recsys.calibration.CHOICE_TOLERANCE``; the simpler head wins a near tie); the
genre readout, λ and β are then chosen (``recsys.calibration``); optionally the top encoder layers are fine-
tuned, kept only if the held-out score improves.
"""

from __future__ import annotations

import copy
import random
import time
from collections import Counter
from dataclasses import asdict, replace

import numpy as np
import torch

from recsys.calibration import (
    GENRE_BOOST,
    LEXICAL_WEIGHTS,
    best_on_validation,
    choose_genre_affinity,
    choose_predicted_boosts,
    fit_genre_readout,
    simplest_within_noise,
)
from recsys.catalog import Catalog
from recsys.engine import MovieSearch
from recsys.fitting import TrainConfig, TrainingSet, averaged_heads, fine_tune_encoder, fit_head, head_scores
from recsys.head import AttentionHead, HeadConfig
from recsys.interactions import Interactions
from recsys.progress import Progress
from recsys.pseudoqueries import make_pseudo_queries, split_rows
from recsys.scoring import Scorer, SearchSettings
from recsys.store import embed_documents
from recsys.taste import train_taste

__all__ = ["TrainConfig", "train", "train_catalog", "with_taste"]


def train_catalog(
    catalog: Catalog, config: TrainConfig | None = None, init: MovieSearch | None = None, progress: Progress = False,
    index: str = "auto", precision: str | None = None, word_store: bool | None = None,
    interactions: Interactions | None = None,
) -> MovieSearch:  # fmt: skip
    """Index a catalog and train a head on it: what ``recsys train`` does.

    ``init`` (a trained model) lends its encoder and starting head; ``index``, ``precision`` and
    ``word_store`` are as in :meth:`MovieSearch.build`. With ``interactions`` (read against this catalog),
    recommendations learn from the likes too (``recsys.taste``).
    """
    model = MovieSearch.build(
        catalog, base=init, progress=progress, index=index, precision=precision, word_store=word_store
    )
    model = train(model, config, progress=progress, init=init)
    return model if interactions is None else with_taste(model, interactions, progress)


def with_taste(model: MovieSearch, interactions: Interactions, progress: Progress = False) -> MovieSearch:
    """The model with recommendations learned from likes (``recsys.taste``); its metrics get the taste's."""
    taste = train_taste(model.catalog, model.store, model.scorer, interactions, progress=progress)
    return replace(model, taste=taste, metrics={**model.metrics, "taste": taste.metrics})


def train(
    model: MovieSearch, config: TrainConfig | None = None, progress: Progress = False, init: MovieSearch | None = None
) -> MovieSearch:
    """Train the model's head on pseudo-queries from its own catalog; return the model to serve.

    The head that serves is the best on held-out titles of: the untrained head (plain cosine), the
    model's starting head, and the trained one (``config.ensemble`` heads from successive seeds,
    averaged); ``metrics`` records all three and the choice. A genre readout on the value vectors is then
    fitted on the training titles' labels and, if given, the ``init`` model's labelled catalog, so that
    genres can be predicted for catalogs without labels.
    """
    config = config or TrainConfig()
    started = time.perf_counter()
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    train_rows, val_rows = split_rows(len(model.catalog), config.validation_fraction, rng)
    train_queries = make_pseudo_queries(model.catalog, train_rows, rng)
    val_queries = make_pseudo_queries(model.catalog, val_rows, rng)
    train_vectors = model.encoder.embed(train_queries.texts, progress=progress, desc="encoding queries")  # (Q, C)
    val_vectors = model.encoder.embed(val_queries.texts)  # (V, C)
    documents = torch.from_numpy(model.store.embeddings)  # (N, C)
    training = TrainingSet(train_queries, torch.from_numpy(train_vectors), documents, train_rows)
    validation = TrainingSet(val_queries, torch.from_numpy(val_vectors), documents, val_rows)

    def validate(head: AttentionHead) -> float:
        return _validation_score(head, validation)

    start_head = model.scorer.head
    untrained = AttentionHead(HeadConfig(dim=start_head.config.dim, num_heads=start_head.config.num_heads))
    start = copy.deepcopy(start_head)
    candidates = {"untrained": (untrained, validate(untrained)), "start": (start, validate(start))}
    members, history = [], []
    for member in range(config.ensemble):
        member_config = replace(config, seed=config.seed + member)
        head, member_history = fit_head(start, training, member_config, validate, progress, member + 1)
        members.append(head)
        history += [{"head": member + 1, **epoch} for epoch in member_history]
    trained = averaged_heads(members)
    candidates["trained"] = (trained, validate(trained))
    chosen = simplest_within_noise({name: score for name, (_, score) in candidates.items()})  # untrained first
    sources = [(model.store.embeddings[train_rows], model.catalog.frame["genres"].iloc[train_rows])]
    if init is not None:
        sources.append((init.store.embeddings, init.catalog.frame["genres"]))
    head = fit_genre_readout(candidates[chosen][0], sources, config.seed)
    settings, calibration = _calibrate(model, head, validation)
    metrics = {
        "validation_measure": "mean over query sources of nDCG@10 among held-out titles",
        "validation": {name: round(score, 4) for name, (_, score) in candidates.items()},
        "chosen": chosen,
        **calibration,
        "readout_genres": list(head.config.genres),
        "history": history,
        "pseudo_queries": {
            "train": dict(Counter(train_queries.sources)),
            "validation": dict(Counter(val_queries.sources)),
        },
        "titles": {"train": len(train_rows), "validation": len(val_rows)},
        "config": asdict(config),
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip
    if config.fine_tune_layers > 0:
        model, metrics["fine_tune"] = _fine_tuned(model, head, training, validation, config, progress)
    return model.with_scorer(Scorer(head.eval(), settings), metrics)


def _calibrate(model: MovieSearch, head: AttentionHead, validation: TrainingSet) -> tuple[SearchSettings, dict]:
    """Choose λ and the predicted-genre β on the held-out titles; return the settings and the grids' scores."""
    rows, queries = validation.rows, validation.queries
    dense = head_scores(head, validation.vectors, validation.documents, rows)  # (Q, V)
    lexical = np.stack([model.store.lexical.scores(text)[rows] for text in queries.texts])  # (Q, V)
    lexical_weight, lexical_scores = best_on_validation(dense, lexical, LEXICAL_WEIGHTS, queries, rows)
    embeddings, kinds = model.store.embeddings[rows], model.catalog.frame["kind"]
    only_boost, predicted_boost, predicted_scores, boosted = choose_predicted_boosts(
        head, embeddings, kinds, queries, rows, dense + lexical_weight * lexical
    )
    affinity, affinity_scores = choose_genre_affinity(
        head, embeddings, validation.vectors.numpy(), kinds, queries, rows, dense, boosted, lexical_weight * lexical
    )
    settings = SearchSettings(
        understand_queries=True, lexical_weight=lexical_weight, genre_boost=GENRE_BOOST,
        predicted_genre_boost=predicted_boost, predicted_genre_only_boost=only_boost, genre_affinity=affinity,
    )  # fmt: skip
    return settings, {"lexical_weight_validation": lexical_scores, "predicted_genre_boost_validation": predicted_scores,
                      "genre_affinity_validation": affinity_scores}  # fmt: skip


def _fine_tuned(
    model: MovieSearch, head: AttentionHead, training: TrainingSet, validation: TrainingSet, config: TrainConfig,
    progress: Progress,
) -> tuple[MovieSearch, dict]:  # fmt: skip
    """The model with its top encoder layers fine-tuned if that improves the held-out score, and the figures."""
    texts = model.store.documents(model.catalog)
    encoder = fine_tune_encoder(model.encoder, head, training, texts, config, progress)
    keep_words = model.store.words is not None
    embeddings, words = embed_documents(encoder, texts, keep_words, progress, "re-embedding")
    before = _validation_score(head, validation)
    tuned_validation = TrainingSet(validation.queries, torch.from_numpy(encoder.embed(validation.queries.texts)),
                                   torch.from_numpy(embeddings), validation.rows)  # fmt: skip
    after = _validation_score(head, tuned_validation)
    figures = {"layers": config.fine_tune_layers, "validation_before": round(before, 4),
               "validation_after": round(after, 4)}  # fmt: skip
    if after <= before:
        return model, figures
    store = model.store.with_encoding(embeddings, words, head)
    return MovieSearch(model.catalog, encoder, model.scorer, store, model.metrics), figures


def _validation_score(head: AttentionHead, validation: TrainingSet) -> float:
    """Mean over query sources of nDCG@10, ranking the held-out titles only."""
    scores = head_scores(head, validation.vectors, validation.documents, validation.rows)
    return validation.queries.ndcg(scores, validation.rows)
