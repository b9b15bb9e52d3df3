"""Training the attention head, and optionally the top encoder layers, on pseudo-queries.

The loss is a multi-positive InfoNCE: each query against its positives and a sample of the catalog's
titles, ``-log(Σ_positives exp(s/τ) / Σ_all exp(s/τ))`` with ``s = q·k``. The head trains on cached
encoder embeddings (seconds to a minute on a CPU), pulled toward its starting point so training refines
rather than forgets; it stops when the held-out score stops improving and keeps its best epoch. Several
heads are trained from different seeds and their scores averaged (:func:`averaged_heads`): one head whose
bilinear form is the mean of theirs, so that a retrain's quality hinges less on its seed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy import sparse

from recsys.encoding import TextEncoder
from recsys.head import AttentionHead
from recsys.progress import Progress, progress_bar
from recsys.pseudoqueries import SELF_SUPERVISED, PseudoQueries

FINE_TUNE_BATCH = 32  # encoder passes with gradients are costly: smaller batches


@dataclass
class TrainConfig:
    """Settings of a training run; saved in the model's metrics."""

    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 3e-3
    negatives: int = 2048  # catalog titles sampled as negatives per batch, besides the batch's positives
    anchor: float = 0.03  # pull of the projections toward the starting head, so training refines, not forgets
    validation_fraction: float = 0.1
    patience: int = 3  # epochs without a better validation score before stopping
    genre_repeats: int = 40  # genre and keyword queries are few and matter most: shown this often per epoch
    self_supervised_per_epoch: int = 4096  # description spans and titles drawn afresh for each epoch
    ensemble: int = 3  # heads trained from seeds seed, seed + 1, …, whose scores are averaged
    fine_tune_layers: int = 0  # also fine-tune this many top encoder layers (minutes; off by default)
    fine_tune_epochs: int = 1
    fine_tune_learning_rate: float = 2e-5
    seed: int = 0


@dataclass
class TrainingSet:
    """Pseudo-queries with their embeddings, and the catalog's title embeddings they point into.

    Attributes
    ----------
    queries : PseudoQueries
        The queries and their positive rows.
    vectors : torch.Tensor
        ``(Q, C)`` the queries' encoder embeddings.
    documents : torch.Tensor
        ``(N, C)`` every title's encoder embedding.
    rows : np.ndarray
        The rows the queries may point to, and negatives are drawn from.
    """

    queries: PseudoQueries
    vectors: torch.Tensor
    documents: torch.Tensor
    rows: np.ndarray

    def __post_init__(self) -> None:
        positives = self.queries.positives
        indptr = np.cumsum([0] + [len(p) for p in positives])
        data = np.ones(indptr[-1], dtype=bool)
        shape = (len(positives), len(self.documents))
        self.membership = sparse.csr_matrix((data, np.concatenate(positives), indptr), shape=shape)  # (Q, N)

    def one_positive_each(self, queries: np.ndarray, generator: np.random.Generator) -> np.ndarray:
        """``(B,)`` one of each query's positive rows, drawn uniformly (from the rows of ``membership``)."""
        starts, counts = self.membership.indptr[queries], np.diff(self.membership.indptr)[queries]
        return self.membership.indices[starts + (generator.random(len(queries)) * counts).astype(np.int64)]

    def positive_mask(self, queries: np.ndarray, columns: np.ndarray) -> torch.Tensor:
        """``(B, S)`` whether each title of ``columns`` is a positive of each query."""
        return torch.from_numpy(self.membership[queries][:, columns].toarray())


class BestEpoch:
    """Early stopping: keeps the state of the epoch with the best validation score so far.

    Parameters
    ----------
    patience : int
        Epochs without a better score before :meth:`record` says to stop.
    """

    def __init__(self, patience: int):
        self.patience, self.best, self.state, self.waited = patience, -math.inf, None, 0

    def record(self, score: float, module: torch.nn.Module) -> bool:
        """Note an epoch's score (keeping the module's state if it is the best); return whether to stop."""
        if score > self.best:
            self.best, self.state, self.waited = score, copy.deepcopy(module.state_dict()), 0
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore(self, module: torch.nn.Module) -> None:
        """Load the best epoch's state into the module (nothing if no epoch was recorded)."""
        if self.state is not None:
            module.load_state_dict(self.state)


@dataclass
class Batch:
    """The queries of one step, one designated positive each, and titles sampled as negatives."""

    queries: np.ndarray  # (B,) query numbers
    designated: np.ndarray  # (B,) rows
    sampled: np.ndarray  # (S,) rows


def draw_batch(queries: np.ndarray, data: TrainingSet, config: TrainConfig, generator: np.random.Generator) -> Batch:
    """One positive per query of the batch, and a sample of titles to serve as negatives."""
    designated = data.one_positive_each(queries, generator)
    sampled = generator.choice(data.rows, size=min(config.negatives, len(data.rows)), replace=False)
    return Batch(queries, designated, sampled)


def info_nce(
    head: AttentionHead, query_vectors: torch.Tensor, document_vectors: torch.Tensor, positive: torch.Tensor
) -> torch.Tensor:
    """Mean over queries of -log(Σ_positives exp(s/τ) / Σ_all exp(s/τ)), with s = q·k.

    The queries are carried back through the key map (``W_kᵀ q``) instead of mapping every sampled title to
    its key: the same scores, for a (B × C × C) product in place of an (S × C × C) one.
    """
    carried = head.queries_on_embeddings(head.queries(query_vectors))  # (B, C)
    logits = carried @ document_vectors.T / head.temperature  # (B, S)
    positive_logits = logits.masked_fill(~positive, -torch.inf)
    return (torch.logsumexp(logits, dim=1) - torch.logsumexp(positive_logits, dim=1)).mean()


def head_scores(head: AttentionHead, vectors: torch.Tensor, documents: torch.Tensor, rows: np.ndarray) -> np.ndarray:
    """q·k of each query embedding against the given rows' title embeddings, ``(Q, R)``."""
    with torch.inference_mode():
        return (head.queries(vectors) @ head.keys(documents[rows]).T).numpy()


def fit_head(
    start: AttentionHead, data: TrainingSet, config: TrainConfig, validate: Callable[[AttentionHead], float],
    progress: Progress = False, member: int = 1,
) -> tuple[AttentionHead, list[dict]]:  # fmt: skip
    """Train a copy of ``start``; return the head of its best epoch on ``validate`` and each epoch's figures.

    ``member`` numbers the head among those trained to be averaged; progress reports carry it as ``head``.
    """
    head = copy.deepcopy(start).train()
    anchors = {name: p.detach().clone() for name, p in head.named_parameters() if name.endswith("weight")}
    params = [head.query.weight, head.key.weight, head.head_weights, head.log_temperature]
    optimiser = torch.optim.Adam(params, lr=config.learning_rate)
    self_supervised = np.isin(data.queries.sources, SELF_SUPERVISED)
    genre_like, spans = np.flatnonzero(~self_supervised), np.flatnonzero(self_supervised)
    generator = np.random.default_rng(config.seed)
    per_epoch = min(len(spans), config.self_supervised_per_epoch)
    steps = config.epochs * math.ceil((len(genre_like) * config.genre_repeats + per_epoch) / config.batch_size)
    best, history = BestEpoch(config.patience), []
    with progress_bar(progress, steps, "training head", "step") as bar:
        for epoch in range(1, config.epochs + 1):
            drawn = generator.choice(spans, size=per_epoch, replace=False)
            order = np.concatenate([np.tile(genre_like, config.genre_repeats), drawn])
            generator.shuffle(order)
            losses = []
            for start_at in range(0, len(order), config.batch_size):
                batch = draw_batch(order[start_at : start_at + config.batch_size], data, config, generator)
                loss = _head_loss(head, data, batch)
                drift = sum(((head.get_parameter(n) - a) ** 2).sum() for n, a in anchors.items())
                optimiser.zero_grad()
                (loss + config.anchor * drift / len(anchors)).backward()
                optimiser.step()
                losses.append(loss.item())
                bar.update(1)
            score = validate(head.eval())
            head.train()
            history.append({"epoch": epoch, "loss": round(float(np.mean(losses)), 4), "validation": round(score, 4)})
            bar.set_postfix(validation=f"{score:.4f}", head=member)
            if best.record(score, head):
                break
    best.restore(head)
    return head.eval(), history


def averaged_heads(heads: list[AttentionHead]) -> AttentionHead:
    """One head scoring the mean of the heads' scores: ``M = mean_h M_h``, as ``q = Mᵀe`` and ``k = e``.

    The value map and the genre readout are the first head's; the temperature is the geometric mean.
    """
    if len(heads) == 1:
        return heads[0]
    averaged = copy.deepcopy(heads[0])
    with torch.no_grad():
        bilinear = torch.stack([head.bilinear() for head in heads]).mean(0)  # (C, C)
        averaged.query.weight.copy_(bilinear.T)
        averaged.key.weight.copy_(torch.eye(bilinear.shape[0]))
        averaged.head_weights.fill_(math.sqrt(averaged.config.head_size))  # each head's scale α_h/√d_k is 1
        averaged.log_temperature.copy_(torch.stack([head.log_temperature for head in heads]).mean())
    return averaged.eval()


def _head_loss(head: AttentionHead, data: TrainingSet, batch: Batch) -> torch.Tensor:
    """InfoNCE of a batch against its designated positives and sampled titles, on cached embeddings."""
    columns = np.unique(np.concatenate([batch.designated, batch.sampled]))
    positive = data.positive_mask(batch.queries, columns)  # (B, S)
    return info_nce(head, data.vectors[batch.queries], data.documents[columns], positive)


def fine_tune_encoder(
    text_encoder: TextEncoder, head: AttentionHead, data: TrainingSet, texts: list[str], config: TrainConfig,
    progress: Progress = False,
) -> TextEncoder:  # fmt: skip
    """A copy of the encoder whose top ``config.fine_tune_layers`` layers are trained with the head fixed.

    Queries and each query's designated positive (``texts`` are the titles' documents) pass through the
    encoder with gradients; the sampled negatives are the cached embeddings (a little stale as the encoder
    moves, as usual for this trick).
    """
    encoder = copy.deepcopy(text_encoder.encoder)
    encoder.pretrained_name = None  # the weights now differ from the pretrained ones: save them
    encoder.requires_grad_(False)
    tuned_blocks = encoder.blocks[-config.fine_tune_layers :]
    tuned_blocks.requires_grad_(True)
    tuned = TextEncoder(text_encoder.tokenizer, encoder, text_encoder.batch_size, text_encoder.precision)
    optimiser = torch.optim.Adam(tuned_blocks.parameters(), lr=config.fine_tune_learning_rate)
    generator = np.random.default_rng(config.seed)
    head = head.eval()
    order = np.arange(len(data.queries))
    steps = config.fine_tune_epochs * math.ceil(len(order) / FINE_TUNE_BATCH)
    with progress_bar(progress, steps, "fine-tuning encoder", "step") as bar:
        for _ in range(config.fine_tune_epochs):
            generator.shuffle(order)
            for start_at in range(0, len(order), FINE_TUNE_BATCH):
                batch = draw_batch(order[start_at : start_at + FINE_TUNE_BATCH], data, config, generator)
                sampled = np.setdiff1d(batch.sampled, batch.designated)
                query_vectors = tuned.embed_with_grad([data.queries.texts[i] for i in batch.queries])  # (B, C)
                positives = tuned.embed_with_grad([texts[r] for r in batch.designated])  # (B, C)
                document_vectors = torch.cat([positives, data.documents[sampled]])  # (S, C)
                positive = data.positive_mask(batch.queries, np.concatenate([batch.designated, sampled]))
                loss = info_nce(head, query_vectors, document_vectors, positive)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                bar.update(1)
    encoder.requires_grad_(False)
    return tuned
