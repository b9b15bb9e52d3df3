"""Calibration after head training: the genre readout, the lexical weight λ, the genre boosts β and δ.

The readout is a multi-label logistic map from value vectors to canonical genres, fitted on the labels a
catalog has (and the starting model's), so genres can be predicted for titles that have none. λ and the β
of predicted genres are chosen on the held-out titles from a fixed grid: the smallest weight within
``CHOICE_TOLERANCE`` of the best score, so that noise in the last digits (bfloat16 encodings that depend on
the batch, on some CPUs) does not change the choice. δ, the weight of the genres a query's meaning suggests
(``recsys.scoring``), is not chosen from a grid: the training catalog's held-out queries have too few kinds of
film asked for in words the query reader does not know for that (their scores hardly move with δ), so a
fixed δ is kept unless it costs more than noise there, the held-out genre queries also put as if in such words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np
import torch

from recsys.head import AttentionHead
from recsys.pseudoqueries import PseudoQueries
from recsys.query import QueryParser, label_genres
from recsys.scoring import attention_spread, suggested_share
from recsys.vocabulary import GENRE_SYNONYMS

LEXICAL_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3)  # λ values tried on validation
PREDICTED_GENRE_BOOSTS = (0.0, 0.2, 0.4, 0.8, 1.5, 3.0, 10.0)  # β values tried on validation for predicted genres
GENRE_BOOST = 0.1  # β for queries that name genres among other words (not tuned per catalog)
READOUT_STEPS = 300
GENRE_AFFINITY = 0.4  # δ, kept unless it costs more than noise on validation (not tuned per catalog)
UNREAD_GENRES = "genre in other words"  # the validation source of genre queries whose genres are not read
CHOICE_TOLERANCE = 0.003  # validation nDCG differences below this are noise, not a reason for a larger weight


def fit_genre_readout(
    head: AttentionHead, sources: Sequence[tuple[np.ndarray, Iterable[list[str]]]], seed: int
) -> AttentionHead:
    """A copy of the head with a genre readout fitted on (embeddings ``(N, C)``, genre labels) sources.

    A source's titles count as negatives for a genre only if that source labels the genre at all.
    """
    present = set().union(*(label_genres(label) for _, labels in sources for ls in labels for label in ls))
    genres = [genre for genre in GENRE_SYNONYMS if genre in present]
    if not genres:
        return head
    rows, targets, known = [], [], []
    for embeddings, labels in sources:
        target = np.array(
            [[g in set().union(*map(label_genres, ls)) if ls else False for g in genres] for ls in labels]
        )
        rows.append(torch.from_numpy(np.asarray(embeddings)))
        targets.append(torch.from_numpy(target.astype(np.float32)))
        known.append(torch.from_numpy(np.tile(target.any(0), (len(target), 1)).astype(np.float32)))
    torch.manual_seed(seed)
    with torch.no_grad():
        values = head.values(torch.cat(rows))  # (N, D)
    weight, bias = _logistic(values, torch.cat(targets), torch.cat(known))
    fitted = AttentionHead(replace(head.config, genres=tuple(genres)))
    state = {k: v for k, v in head.state_dict().items() if not k.startswith("genre_")}
    fitted.load_state_dict({**state, "genre_weight": weight.T, "genre_bias": bias})
    return fitted.eval()


def _logistic(values: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights ``(D, G)`` and biases ``(G,)`` of a masked multi-label logistic regression on ``values``."""
    scale = 10.0  # unit-length inputs need large weights: learn them in units of 10 for a faster fit
    weight = torch.zeros(values.shape[1], target.shape[1], requires_grad=True)
    bias = torch.zeros(target.shape[1], requires_grad=True)
    optimiser = torch.optim.Adam([weight, bias], lr=0.05)
    for _ in range(READOUT_STEPS):
        logits = values @ weight * scale + bias  # (N, G)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        loss = (loss * mask).sum() / mask.sum() + 1e-4 * (weight**2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return (weight * scale).detach(), bias.detach()


def best_on_validation(
    base: np.ndarray, term: np.ndarray, grid: Sequence[float], queries: PseudoQueries, rows: np.ndarray
) -> tuple[float, dict[str, float]]:
    """The weight to keep for ``base + weight · term``, and every weight's validation score.

    The smallest weight of ``grid`` that scores within ``CHOICE_TOLERANCE`` of the best.
    """
    results = {str(w): round(queries.ndcg(base + w * term, rows), 4) for w in sorted(grid)}
    return float(simplest_within_noise(results)), results


def simplest_within_noise(scores: dict[str, float]) -> str:
    """The first key (the simplest choice, as they are listed) that scores within ``CHOICE_TOLERANCE`` of the best.

    >>> simplest_within_noise({"0.0": 0.6149, "0.1": 0.648, "0.2": 0.6588, "0.3": 0.6601})
    '0.2'
    """
    best = max(scores.values())
    return next(key for key, score in scores.items() if score >= best - CHOICE_TOLERANCE)


def choose_predicted_boosts(
    head: AttentionHead, embeddings: np.ndarray, kinds: Iterable[str], queries: PseudoQueries, rows: np.ndarray,
    scores: np.ndarray,
) -> tuple[float, float, dict]:  # fmt: skip
    """Choose the β of predicted genres on validation, as if the held-out titles had no labels.

    Queries that are only genres ("horror") and queries with other words get a β each: for the first,
    the predicted genre plays the part a label filter plays in a labelled catalog. ``embeddings`` are the
    held-out titles' ``(V, C)``; ``scores`` ``(Q, V)`` the validation scores so far (q·k plus λ·BM25).
    Returns the β for genre-only queries, the β for the others, every grid's scores, and the scores
    ``(Q, V)`` with both boosts added.
    """
    parser = QueryParser([], set(kinds), head.config.genres)
    with torch.inference_mode():
        profile = head.genre_profile(head.values(torch.from_numpy(embeddings))).numpy()  # (V, G)
    only, mixed = np.zeros_like(scores), np.zeros_like(scores)
    for i, text in enumerate(queries.texts):
        intents = parser.parse(text)
        if intents.predicted:
            target = only if intents.genre_only else mixed
            target[i] = profile[:, [head.config.genres.index(g) for g in intents.predicted]].mean(1)
    only_boost, only_grid = best_on_validation(scores, only, PREDICTED_GENRE_BOOSTS, queries, rows)
    mixed_boost, mixed_grid = best_on_validation(
        scores + only_boost * only, mixed, PREDICTED_GENRE_BOOSTS, queries, rows
    )
    grids = {"genre only": only_grid, "with other words": mixed_grid}
    return only_boost, mixed_boost, grids, scores + only_boost * only + mixed_boost * mixed


def choose_genre_affinity(
    head: AttentionHead, embeddings: np.ndarray, vectors: np.ndarray, kinds: Iterable[str], queries: PseudoQueries,
    rows: np.ndarray, dense: np.ndarray, scores: np.ndarray, lexical: np.ndarray,
) -> tuple[float, dict]:  # fmt: skip
    """``GENRE_AFFINITY`` unless it costs more than noise on validation (then 0), and both scores.

    Computed as if the held-out titles had no labels. ``embeddings`` ``(V, C)`` are the held-out titles',
    ``vectors`` ``(Q, C)`` the queries' encoder embeddings, ``dense`` ``(Q, V)`` their q·k, ``scores``
    ``(Q, V)`` the validation scores so far and ``lexical`` ``(Q, V)`` the λ-weighted BM25 part. Queries in
    which no genre is read get the suggested genres, as in search; each query naming genres the readout
    knows is also scored a second time without its genres read, from q·k and BM25 only, as the source
    ``UNREAD_GENRES``.
    """
    if not head.config.genres:
        return 0.0, {}
    parser = QueryParser([], set(kinds), head.config.genres)
    temperature = float(head.temperature.detach())
    with torch.inference_mode():
        profile = head.genre_profile(head.values(torch.from_numpy(embeddings))).numpy()  # (V, G)
        suggested = head.genre_profile(head.values(torch.from_numpy(vectors))).numpy()  # (Q, G)

    def term(i: int) -> np.ndarray:
        spread = attention_spread(dense[i], temperature)
        return spread * suggested_share(profile, suggested[i])

    added, unread = np.zeros_like(scores), []
    for i, text in enumerate(queries.texts):
        intents = parser.parse(text)
        if intents.predicted:  # asks for genres the readout knows: also put in words that are not read
            unread.append(i)
        elif intents.text and not intents.genres:
            added[i] = term(i)
    extended = PseudoQueries(
        queries.texts + [queries.texts[i] for i in unread],
        queries.positives + [queries.positives[i] for i in unread],
        queries.sources + [UNREAD_GENRES] * len(unread),
    )
    base = np.concatenate([scores, dense[unread] + lexical[unread]])
    extra = np.concatenate([added, np.array([term(i) for i in unread]).reshape(len(unread), scores.shape[1])])
    results = {str(w): round(extended.ndcg(base + w * extra, rows), 4) for w in (0.0, GENRE_AFFINITY)}
    kept = results[str(GENRE_AFFINITY)] >= results["0.0"] - CHOICE_TOLERANCE
    return (GENRE_AFFINITY if kept else 0.0), results
