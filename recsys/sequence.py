"""Attention over a viewing history: which titles a person is likely to like next, and which past likes say so.

Each title is a vector ``x_i = A v_i + G g_i + c_i``: its value vector ``v_i`` from the description encoder
and head, its catalog genres and span of release years ``g_i`` (multi-hot), and a learned collaborative
embedding ``c_i`` that only titles liked in training have: a title nobody has liked yet is carried by its
description, genres and years. Each like of a history, oldest to newest, becomes a state ``z_t`` from its
own title vector and position (a feed-forward layer; no like's state depends on another's). Each candidate
title then attends over the history (target attention, as in DIN, Zhou et al. 2018)::

    s_t(j) = (W_q x_j)·(W_k z_t) / √d                   how much like t speaks for title j
    a_t(j) = softmax_t( s_t(j) + r_(n−t) )              r: a learned bias per recency
    score(j) = log Σ_t exp( s_t(j) + r_(n−t) )

The weights over the history sum to 1 for every result, and the score is the log of their normaliser, so
taking like ``u``'s term out lowers it by exactly ``−log(1 − a_u(j))``: the larger a like's weight, the
more the result owes it. (Deleting the like from the history also moves the older likes one place nearer;
``benchmarks/recommend.py`` measures that whole effect. A self-attention block between the likes, as in
SASRec, Kang & McAuley 2018, makes every state depend on every like: its weights named the like whose
deletion costs a result most in only about half of the cases.)

Trained on random prefixes of every history to predict the next like, against titles drawn by popularity,
with a softmax corrected for how often each title is drawn. A share of titles is seen without its
collaborative embedding at each step (as DropoutNet, Volkovs et al. 2017), so the description, genres and
years learn to carry titles nobody has liked yet.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from recsys.fitting import BestEpoch
from recsys.progress import Progress, progress_bar


@dataclass
class SequenceConfig:
    """Settings of the history model; saved with it."""

    dim: int = 64
    max_length: int = 50  # the most recent likes a history is read as
    dropout: float = 0.2
    genres: tuple[str, ...] = ()  # the catalog genre labels g_i has a column for
    year_edges: tuple[int, ...] = tuple(range(1930, 2030, 5))  # g_i also has a column per span of release years
    content_dim: int = 384  # width of the value vectors v_i

    def to_dict(self) -> dict:
        """The config as a JSON-ready dict."""
        return {**asdict(self), "genres": list(self.genres), "year_edges": list(self.year_edges)}

    @classmethod
    def from_dict(cls, config: dict) -> SequenceConfig:
        """Rebuild a config written by :meth:`to_dict`."""
        return cls(**{**config, "genres": tuple(config["genres"]), "year_edges": tuple(config["year_edges"])})

    @property
    def facets(self) -> int:
        """Columns of ``g_i``: one per genre label, one per span of years (before, between and after the edges)."""
        return len(self.genres) + len(self.year_edges) + 1


@dataclass
class SequenceTraining:
    """Settings of a history model's training run."""

    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 2e-3
    prefixes: int = 10  # prefixes of each history a step learns from, drawn at random
    future: int = 1  # each prefix learns to predict this many of the likes that follow it
    negatives: int = 512  # titles sampled per batch (by popularity, corrected: Yi et al. 2019) as negatives
    weight_decay: float = 1e-5
    patience: int = 8  # epochs without a better validation score before stopping
    seed: int = 0
    hidden: float = 0.3  # share of titles seen without their collaborative numbers, so content alone learns


class HistoryAttention(nn.Module):
    """The history model: title vectors, each like's state, and each candidate's attention over the likes.

    Parameters
    ----------
    config : SequenceConfig
        Its sizes and genre columns.
    collaborative_titles : int
        How many titles have a collaborative embedding (the titles liked in training).
    """

    def __init__(self, config: SequenceConfig, collaborative_titles: int):
        super().__init__()
        self.config = config
        dim = config.dim
        self.content = nn.Linear(config.content_dim, dim, bias=False)  # A
        self.genre = nn.Linear(config.facets, dim, bias=False)  # G
        self.collaborative = nn.Embedding(collaborative_titles + 1, dim, padding_idx=0)  # c; row 0: none
        nn.init.normal_(self.collaborative.weight, std=0.01)
        with torch.no_grad():
            self.collaborative.weight[0].zero_()
        self.position = nn.Embedding(config.max_length, dim)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.feed_forward = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
        self.dropout = nn.Dropout(config.dropout)
        self.query, self.key = nn.Linear(dim, dim, bias=False), nn.Linear(dim, dim, bias=False)
        self.recency = nn.Parameter(torch.zeros(config.max_length))  # r: bias by how many likes ago

    def titles(self, content: torch.Tensor, genres: torch.Tensor, collaborative: torch.Tensor) -> torch.Tensor:
        """Title vectors ``x`` ``(..., dim)`` from value vectors, genre and year multi-hots, collaborative numbers."""
        return self.content(content) + self.genre(genres) + self.collaborative(collaborative)

    def states(self, history: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """States ``z`` ``(B, T, dim)`` of right-aligned histories ``(B, T, dim)`` with padding ``(B, T)``.

        Each like's state is its own title vector at its position, through a feed-forward layer: no like's
        state depends on another's, so deleting a like removes its part and changes no other.
        """
        length = history.shape[1]
        hidden = self.norm1(self.dropout(history + self.position.weight[-length:]))
        return self.norm2(hidden + self.dropout(self.feed_forward(hidden)))

    def readout(self, states: torch.Tensor, padding: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """Logits of the weights over the history ``(B, C, T)``, −inf where padded.

        ``candidates`` ``(B, C, dim)`` or ``(C, dim)`` title vectors; the weights are the logits' softmax
        and the score their log-sum-exp.
        """
        recency = self.recency[: states.shape[1]].flip(0)  # the last position is 0 likes ago
        return self.logits(self.similarity(states, candidates), recency, ~padding[:, None, :])

    def similarity(self, states: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """``s_t(j)`` ``(B, C, T)`` of history states ``(B, T, d)`` and candidates' title vectors ``([B,] C, d)``."""
        return torch.einsum("...cd,btd->bct", self.query(candidates), self.key(states)) / math.sqrt(self.config.dim)

    def logits(self, similarity: torch.Tensor, recency: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        """``s + r`` over visible history positions, −inf elsewhere (shapes broadcast)."""
        return (similarity + recency).masked_fill(~visible, -torch.inf)


@dataclass
class TitleFeatures:
    """What the history model knows of every catalog title: value vectors, genres, collaborative numbers."""

    content: torch.Tensor  # (N, content_dim)
    genres: torch.Tensor  # (N, G)
    collaborative: torch.Tensor  # (N,) 1 + index into the collaborative embeddings, 0 for none

    def vectors(self, model: HistoryAttention, rows: torch.Tensor | None = None, hidden: float = 0.0) -> torch.Tensor:
        """Title vectors ``x`` of some rows (every row without ``rows``).

        ``hidden``: the share of rows whose collaborative numbers are left out, at random (training only).
        """
        if rows is None:
            return model.titles(self.content, self.genres, self.collaborative)
        collaborative = self.collaborative[rows]
        if hidden:
            collaborative = collaborative.masked_fill(torch.rand(collaborative.shape) < hidden, 0)
        return model.titles(self.content[rows], self.genres[rows], collaborative)


def right_aligned(histories: list[np.ndarray], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Histories as a ``(B, length)`` row tensor, the latest likes last, and its padding mask.

    >>> rows, padding = right_aligned([np.array([5, 6, 7]), np.array([9])], 2)
    >>> rows.tolist(), padding.tolist()
    ([[6, 7], [0, 9]], [[False, False], [True, False]])
    """
    rows = torch.zeros(len(histories), length, dtype=torch.long)
    padding = torch.ones(len(histories), length, dtype=torch.bool)
    for i, history in enumerate(histories):
        recent = torch.as_tensor(np.asarray(history[-length:], dtype=np.int64))
        if len(recent):
            rows[i, -len(recent) :] = recent
            padding[i, -len(recent) :] = False
    return rows, padding


def history_logits(
    model: HistoryAttention, features: TitleFeatures, histories: list[np.ndarray], vectors: torch.Tensor | None = None
) -> torch.Tensor:  # fmt: skip
    """``s_t(j) + r_(n−t)`` of every title for each history ``(B, N, T)``, −inf where a history is padded.

    Their softmax over the last axis is the weights over the history and their log-sum-exp the score.
    ``vectors`` are :meth:`TitleFeatures.vectors` of every row, when the caller has them.
    """
    vectors = features.vectors(model) if vectors is None else vectors
    rows, padding = right_aligned(histories, model.config.max_length)
    states = model.states(vectors[rows], padding)
    return model.readout(states, padding, vectors)


def fit_history_model(
    model: HistoryAttention, features: TitleFeatures, histories: list[np.ndarray], settings: SequenceTraining,
    validate: Callable[[HistoryAttention], float] | None, progress: Progress = False,
) -> tuple[HistoryAttention, list[dict]]:  # fmt: skip
    """Train the model on prefixes of the histories; return its best epoch on ``validate`` and each epoch's figures.

    Without ``validate``, every epoch runs and the last is returned.
    """
    torch.manual_seed(settings.seed)
    generator = np.random.default_rng(settings.seed)
    usable = [h for h in histories if len(h) >= 2]
    optimiser = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    liked, counts = np.unique(np.concatenate(usable), return_counts=True)
    chance = counts / counts.sum()  # negatives are drawn as often as titles are liked ...
    log_chance = torch.zeros(len(features.content))
    log_chance[torch.from_numpy(liked)] = torch.from_numpy(np.log(chance)).float()  # ... and corrected for it
    steps = settings.epochs * math.ceil(len(usable) / settings.batch_size)
    best, history = BestEpoch(settings.patience), []
    with progress_bar(progress, steps, "training the history model", "step") as bar:
        for epoch in range(1, settings.epochs + 1):
            model.train()
            order = generator.permutation(len(usable))
            losses = []
            for start in range(0, len(order), settings.batch_size):
                batch = [usable[i] for i in order[start : start + settings.batch_size]]
                negatives = torch.from_numpy(generator.choice(liked, settings.negatives, p=chance))
                loss = _prefix_loss(model, features, batch, negatives, log_chance, settings)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                losses.append(loss.item())
                bar.update(1)
            model.eval()
            if validate is None:  # a set number of epochs: the last one is kept
                history.append({"epoch": epoch, "loss": round(float(np.mean(losses)), 4)})
                continue
            score = validate(model)
            history.append({"epoch": epoch, "loss": round(float(np.mean(losses)), 4), "validation": round(score, 4)})
            bar.set_postfix(validation=f"{score:.4f}")
            if best.record(score, model):
                break
    best.restore(model)
    return model.eval(), history


def _prefix_loss(
    model: HistoryAttention, features: TitleFeatures, batch: list[np.ndarray], negatives: torch.Tensor,
    log_chance: torch.Tensor, settings: SequenceTraining,
) -> torch.Tensor:  # fmt: skip
    """Sampled-softmax loss of predicting the next ``settings.future`` likes from the likes before them.

    For ``settings.prefixes`` prefixes of each history, drawn at random (every prefix, over the epochs), each of the
    likes that follow is a positive against the sampled titles (Pancha et al. 2022 predict a window of
    future actions the same way: a person's next likes, not only the next one). Each title's logit is lowered by the
    log of its chance to be drawn (``log_chance`` ``(N,)``), so the loss estimates the full softmax over
    the catalog (Bengio & Senécal 2008; Yi et al. 2019).
    """
    length, prefixes, future, hidden = model.config.max_length, settings.prefixes, settings.future, settings.hidden
    inputs, padding = right_aligned([h[:-1] for h in batch], length)
    targets, _ = right_aligned([h[1:] for h in batch], length)
    states = model.states(features.vectors(model, inputs, hidden), padding)  # (B, T, d)
    counts = (~padding).sum(1, keepdim=True)  # (B, 1) likes before the last
    ends = length - 1 - (torch.rand(len(batch), prefixes) * counts).long()  # (B, K) where each prefix ends
    ahead = ends[:, :, None] + torch.arange(future)  # (B, K, W) positions of the likes after each prefix
    coming = ahead <= length - 1
    wanted = targets.gather(1, ahead.clamp(max=length - 1).flatten(1))  # (B, K·W)
    candidates = torch.cat([wanted, negatives[None].expand(len(batch), -1)], dim=1)  # (B, K·W + S)
    vectors = features.vectors(model, candidates, hidden)  # (B, C, d)
    similarity = model.similarity(states, vectors)  # (B, C, T)
    distance = ends[:, :, None] - torch.arange(length)[None, None, :]  # (B, K, T): likes before each prefix's end
    visible = (distance >= 0) & ~padding[:, None, :]
    recency = model.recency[distance.clamp(0, length - 1)]  # (B, K, T)
    logits = model.logits(similarity[:, None], recency[:, :, None, :], visible[:, :, None, :])  # (B, K, C, T)
    scores = torch.logsumexp(logits, -1) - log_chance[candidates][:, None, :]  # (B, K, C)
    spread = prefixes * future
    positive = scores[:, :, :spread].reshape(len(batch), prefixes, prefixes, future)
    positive = positive[:, torch.arange(prefixes), torch.arange(prefixes)]  # (B, K, W): prefix k's own likes
    negative = scores[:, :, spread:]  # (B, K, S)
    drawn = (negatives[None, None, None, :] == wanted.view(len(batch), prefixes, future)[..., None]).any(2)
    negative = negative.masked_fill(drawn, -torch.inf)  # a title drawn that the prefix likes next is no negative
    negatives_total = torch.logsumexp(negative, dim=-1, keepdim=True)  # (B, K, 1)
    loss = torch.logaddexp(positive, negatives_total) - positive  # (B, K, W)
    return loss[coming].mean()
