"""Retraining on a catalog: pseudo-queries from the catalog itself, contrastive training of the head.

Supervision needs no hand labels: genre queries (with synonyms and combinations) → titles of those
genres; keyword and tag queries → tagged titles; a span of a description → its title; a title → itself.
The head is trained with a multi-positive InfoNCE loss on cached encoder embeddings, validated on
held-out titles, stopped early, and kept only if it beats both the untrained head and the starting head.
"""

from __future__ import annotations

import copy
import math
import random
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import NamedTuple

import numpy as np
import torch
from scipy import sparse

from recsys.catalog import Catalog
from recsys.encoding import TextEncoder
from recsys.engine import MovieSearch, SearchSettings, embed_documents
from recsys.evaluate import score_runs
from recsys.head import AttentionHead, HeadConfig
from recsys.progress import Progress, progress_bar
from recsys.query import GENRE_ADJECTIVES, GENRE_SYNONYMS, QueryParser, genre_pair_phrase, label_genres

LEXICAL_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3)  # λ values tried on validation
PREDICTED_GENRE_BOOSTS = (0.0, 0.2, 0.4, 0.8, 1.5, 3.0, 10.0)  # β values tried on validation for predicted genres
GENRE_BOOST = 0.1  # β for queries that name genres among other words (not tuned per catalog)


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
    fine_tune_layers: int = 0  # also fine-tune this many top encoder layers (minutes; off by default)
    fine_tune_epochs: int = 1
    fine_tune_learning_rate: float = 2e-5
    seed: int = 0


class PseudoQueries(NamedTuple):
    """Queries made from a catalog: their texts, the rows relevant to each, and what made them."""

    texts: list[str]
    positives: list[np.ndarray]
    sources: list[str]

    def __len__(self) -> int:
        return len(self.texts)


def make_pseudo_queries(catalog: Catalog, rows: np.ndarray, rng: random.Random) -> PseudoQueries:
    """Build pseudo-queries whose relevant titles are among ``rows``.

    Parameters
    ----------
    catalog : Catalog
        The catalog; its genre labels, keywords, descriptions and titles supply the queries.
    rows : np.ndarray
        The rows queries may point to (the training or the validation split).
    rng : random.Random
        Chooses description spans.
    """
    frame = catalog.frame.iloc[rows]
    parser = QueryParser(catalog.genres(), set(catalog.frame["kind"]))
    queries: dict[str, tuple[set[int], str]] = {}

    def add(text: str, members: set[int], source: str) -> None:
        if members and text and text not in queries:
            queries[text] = (members, source)

    by_label, by_genre = group_by_genre(frame["genres"], rows)
    for label, members in sorted(by_label.items()):
        if len(members) >= 2:
            add(_label_text(label), members, "genre")
    for genre, members in sorted(by_genre.items()):
        for word in GENRE_SYNONYMS[genre][:3]:
            add(word, members, "genre")
        add(f"{GENRE_ADJECTIVES.get(genre, GENRE_SYNONYMS[genre][0])} movies", members, "genre")
    for first, second in _pairs(sorted(by_genre)):
        both = by_genre[first] & by_genre[second]
        if len(both) >= 5:
            add(genre_pair_phrase(first, second), both, "genre combination")
    by_keyword: dict[str, set[int]] = {}
    for row, keywords in zip(rows, frame["keywords"], strict=True):
        for keyword in keywords:
            by_keyword.setdefault(keyword.lower(), set()).add(int(row))
    for keyword, members in sorted(by_keyword.items()):
        if 2 <= len(members) <= max(2, len(rows) // 5):
            add(keyword, members, "keyword")
    for row, title, description in zip(rows, frame["title"], frame["description"], strict=True):
        add(_span(description, rng), {int(row)}, "description span")
        add(title, {int(row)}, "title")

    texts, positives, sources = [], [], []
    for text, (members, source) in queries.items():
        intents = parser.parse(text)
        allowed = catalog.mask(years=intents.years, kind=intents.kind)
        members = [m for m in members if allowed is None or allowed[m]]
        if members:
            texts.append(intents.text)
            positives.append(np.array(sorted(members), dtype=np.int64))
            sources.append(source)
    return PseudoQueries(texts, positives, sources)


def group_by_genre(labels: Iterable[list[str]], rows: Iterable[int]) -> tuple[dict, dict]:
    """The rows having each genre label, and each canonical genre (through :func:`label_genres`).

    >>> group_by_genre([["Sci-Fi & Fantasy"], ["Dramas", "Sci-Fi & Fantasy"]], [4, 7])
    ({'Sci-Fi & Fantasy': {4, 7}, 'Dramas': {7}}, {'Fantasy': {4, 7}, 'Science Fiction': {4, 7}, 'Drama': {7}})
    """
    by_label: dict[str, set[int]] = {}
    for row, row_labels in zip(rows, labels, strict=True):
        for label in row_labels:
            by_label.setdefault(label, set()).add(int(row))
    by_genre: dict[str, set[int]] = {}
    for label, members in by_label.items():
        for genre in sorted(label_genres(label)):
            by_genre.setdefault(genre, set()).update(members)
    return by_label, by_genre


def train_catalog(
    catalog: Catalog,
    config: TrainConfig | None = None,
    init: MovieSearch | None = None,
    progress: Progress = False,
    index: str = "auto",
    precision: str | None = None,
    word_store: bool | None = None,
) -> MovieSearch:
    """Index a catalog and train a head on it: what ``recsys train`` does.

    ``init`` (a trained model) lends its encoder and starting head; ``index``, ``precision`` and
    ``word_store`` are as in :meth:`MovieSearch.build`.
    """
    model = MovieSearch.build(
        catalog, base=init, progress=progress, index=index, precision=precision, word_store=word_store
    )
    return train(model, config, progress=progress, init=init)


def train(
    model: MovieSearch, config: TrainConfig | None = None, progress: Progress = False, init: MovieSearch | None = None
) -> MovieSearch:
    """Train the model's head on pseudo-queries from its own catalog; return the model to serve.

    The head that serves is the best on held-out titles of: the untrained head (plain cosine), the
    model's starting head, and the trained one; ``metrics`` records all three and the choice. A genre
    readout on the value vectors is then fitted on the training titles' labels and, if given, the
    ``init`` model's labelled catalog, so that genres can be predicted for catalogs without labels.
    """
    config = config or TrainConfig()
    started = time.perf_counter()
    rng = random.Random(config.seed)
    torch.manual_seed(config.seed)
    train_rows, val_rows = _split(len(model.catalog), config, rng)
    train_queries = make_pseudo_queries(model.catalog, train_rows, rng)
    val_queries = make_pseudo_queries(model.catalog, val_rows, rng)
    encode = model.text_encoder.embed
    train_vectors = torch.from_numpy(encode(train_queries.texts, progress=progress, desc="encoding queries"))
    val_vectors = torch.from_numpy(encode(val_queries.texts))
    documents = torch.from_numpy(model.embeddings)  # (N, C)

    def validate(head: AttentionHead) -> float:
        return _validation_score(head, val_vectors, val_queries, documents, val_rows)

    untrained = AttentionHead(HeadConfig(dim=model.head.config.dim, num_heads=model.head.config.num_heads))
    start = copy.deepcopy(model.head)
    candidates = {"untrained": (untrained, validate(untrained)), "start": (start, validate(start))}
    trained, history = _fit(start, train_vectors, train_queries, documents, train_rows, config, validate, progress)
    candidates["trained"] = (trained, max(h["validation"] for h in history) if history else -1.0)
    chosen = max(candidates, key=lambda name: candidates[name][1])
    head = candidates[chosen][0]
    sources = [(model.embeddings[train_rows], model.catalog.frame["genres"].iloc[train_rows])]
    if init is not None:
        sources.append((init.embeddings, init.catalog.frame["genres"]))
    head = _fit_genre_readout(head, sources, config.seed)
    dense = _dense_scores(head, val_vectors, documents, val_rows)  # (Q, V)
    lexical = np.stack([model.lexical.scores(text)[val_rows] for text in val_queries.texts])  # (Q, V)
    lexical_weight, lexical_scores = _choose_lexical_weight(dense, lexical, val_queries, val_rows)
    only_boost, predicted_boost, predicted_scores = _choose_predicted_boost(
        model, head, val_queries, val_rows, dense + lexical_weight * lexical
    )
    metrics = {
        "validation_measure": "mean over query sources of nDCG@10 among held-out titles",
        "validation": {name: round(score, 4) for name, (_, score) in candidates.items()},
        "chosen": chosen,
        "lexical_weight_validation": lexical_scores,
        "predicted_genre_boost_validation": predicted_scores,
        "readout_genres": list(head.config.genres),
        "history": history,
        "pseudo_queries": {
            "train": dict(Counter(train_queries.sources)),
            "validation": dict(Counter(val_queries.sources)),
        },
        "titles": {"train": len(train_rows), "validation": len(val_rows)},
        "config": asdict(config),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if config.fine_tune_layers > 0:
        tuned = _fine_tune(model, head, train_queries, train_rows, val_queries, val_rows, config, progress)
        metrics["fine_tune"] = tuned.metrics
        if tuned.metrics["validation_after"] > tuned.metrics["validation_before"]:
            model = tuned
    settings = SearchSettings(
        understand_queries=True, lexical_weight=lexical_weight, genre_boost=GENRE_BOOST,
        predicted_genre_boost=predicted_boost, predicted_genre_only_boost=only_boost,
    )  # fmt: skip
    return model.with_head(head.eval(), settings, metrics)


def _fit(start, vectors, queries, documents, rows, config, validate, progress):
    head = copy.deepcopy(start).train()
    anchors = {name: p.detach().clone() for name, p in head.named_parameters() if name.endswith("weight")}
    params = [head.query.weight, head.key.weight, head.head_weights, head.log_temperature]
    optimiser = torch.optim.Adam(params, lr=config.learning_rate)
    membership = _membership(queries.positives, len(documents))
    self_supervised = np.isin(queries.sources, ["description span", "title"])
    genre_like, spans = np.flatnonzero(~self_supervised), np.flatnonzero(self_supervised)
    generator = np.random.default_rng(config.seed)
    per_epoch = min(len(spans), config.self_supervised_per_epoch)
    epoch_size = len(genre_like) * config.genre_repeats + per_epoch
    best, best_state, history, waited = -math.inf, None, [], 0
    steps = config.epochs * math.ceil(epoch_size / config.batch_size)
    with progress_bar(progress, steps, "training head", "step") as bar:
        for epoch in range(1, config.epochs + 1):
            drawn = generator.choice(spans, size=per_epoch, replace=False)
            order = np.concatenate([np.tile(genre_like, config.genre_repeats), drawn])
            generator.shuffle(order)
            losses = []
            for start_at in range(0, len(order), config.batch_size):
                batch = order[start_at : start_at + config.batch_size]
                loss = _batch_loss(head, vectors[batch], batch, queries, membership, documents, rows, config, generator)
                drift = sum(((head.get_parameter(n) - a) ** 2).sum() for n, a in anchors.items())
                optimiser.zero_grad()
                (loss + config.anchor * drift / len(anchors)).backward()
                optimiser.step()
                losses.append(loss.item())
                bar.update(1)
            score = validate(head.eval())
            head.train()
            history.append({"epoch": epoch, "loss": round(float(np.mean(losses)), 4), "validation": round(score, 4)})
            bar.set_postfix(validation=f"{score:.4f}")
            if score > best:
                best, best_state, waited = score, copy.deepcopy(head.state_dict()), 0
            else:
                waited += 1
                if waited >= config.patience:
                    break
    if best_state is not None:
        head.load_state_dict(best_state)
    return head.eval(), history


def _fine_tune(model, head, queries, rows, val_queries, val_rows, config, progress) -> MovieSearch:
    """Fine-tune the top encoder layers with the head fixed; return the model re-embedded with them.

    Queries and each query's designated positive pass through the encoder with gradients; the sampled
    negatives are the cached embeddings (a little stale as the encoder moves, as usual for this trick).
    """
    encoder = copy.deepcopy(model.text_encoder.encoder)
    encoder.pretrained_name = None  # the weights now differ from the pretrained ones: save them
    encoder.requires_grad_(False)
    tuned_blocks = encoder.blocks[-config.fine_tune_layers :]
    tuned_blocks.requires_grad_(True)
    text_encoder = TextEncoder(
        model.text_encoder.tokenizer, encoder, model.text_encoder.batch_size, model.text_encoder.precision
    )
    optimiser = torch.optim.Adam(tuned_blocks.parameters(), lr=config.fine_tune_learning_rate)
    documents, texts = torch.from_numpy(model.embeddings), model.catalog.documents(model.template)
    membership = _membership(queries.positives, len(documents))
    generator = np.random.default_rng(config.seed)
    batch_size = 32  # encoder passes with gradients are costly: smaller batches
    head = head.eval()

    def validation_of(encoder_model: TextEncoder, embeddings: np.ndarray) -> float:
        vectors = torch.from_numpy(encoder_model.embed(val_queries.texts))
        return _validation_score(head, vectors, val_queries, torch.from_numpy(embeddings), val_rows)

    before = validation_of(model.text_encoder, model.embeddings)
    order = np.arange(len(queries))
    steps = config.fine_tune_epochs * math.ceil(len(order) / batch_size)
    with progress_bar(progress, steps, "fine-tuning encoder", "step") as bar:
        for _ in range(config.fine_tune_epochs):
            generator.shuffle(order)
            for start_at in range(0, len(order), batch_size):
                batch = order[start_at : start_at + batch_size]
                designated, sampled = _draw(batch, queries, rows, config, generator)
                sampled = np.setdiff1d(sampled, designated)
                query_vectors = text_encoder.embed_with_grad([queries.texts[i] for i in batch])  # (B, C)
                positives = text_encoder.embed_with_grad([texts[r] for r in designated])  # (B, C)
                columns = np.concatenate([designated, sampled])
                document_vectors = torch.cat([positives, documents[sampled]])  # (S, C)
                positive = torch.from_numpy(membership[batch][:, columns].toarray())  # (B, S)
                loss = _info_nce(head, query_vectors, document_vectors, positive)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                bar.update(1)
    encoder.requires_grad_(False)
    embeddings, store = embed_documents(text_encoder, texts, model.words is not None, progress, "re-embedding")
    after = validation_of(text_encoder, embeddings)
    metrics = {"layers": config.fine_tune_layers, "validation_before": round(before, 4),
               "validation_after": round(after, 4)}  # fmt: skip
    return model.with_head(head, model.settings, metrics, text_encoder=text_encoder, embeddings=embeddings, words=store)


def _draw(batch, queries, rows, config, generator) -> tuple[np.ndarray, np.ndarray]:
    """One positive per query of the batch, and a sample of titles to serve as negatives."""
    designated = np.array([generator.choice(queries.positives[i]) for i in batch])
    sampled = generator.choice(rows, size=min(config.negatives, len(rows)), replace=False)
    return designated, sampled


def _batch_loss(head, query_vectors, batch, queries, membership, documents, rows, config, generator):
    """Multi-positive InfoNCE: each query against its positives and sampled titles."""
    designated, sampled = _draw(batch, queries, rows, config, generator)
    columns = np.unique(np.concatenate([designated, sampled]))
    positive = torch.from_numpy(membership[batch][:, columns].toarray())  # (B, S)
    return _info_nce(head, query_vectors, documents[columns], positive)


def _info_nce(head, query_vectors, document_vectors, positive) -> torch.Tensor:
    """Mean over queries of -log(Σ_positives exp(s/τ) / Σ_all exp(s/τ)), with s = q·k."""
    logits = head.queries(query_vectors) @ head.keys(document_vectors).T / head.temperature  # (B, S)
    positive_logits = logits.masked_fill(~positive, -torch.inf)
    return (torch.logsumexp(logits, dim=1) - torch.logsumexp(positive_logits, dim=1)).mean()


def _validation_score(head, vectors, queries, documents, rows) -> float:
    """Mean over query sources of nDCG@10, ranking the held-out titles only."""
    return _ndcg_by_source(_dense_scores(head, vectors, documents, rows), queries, rows)


def _dense_scores(head, vectors, documents, rows) -> np.ndarray:
    """q·k of each query against the given rows' documents, ``(Q, V)``."""
    with torch.inference_mode():
        return (head.queries(vectors) @ head.keys(documents[rows]).T).numpy()


def _ndcg_by_source(scores: np.ndarray, queries: PseudoQueries, rows: np.ndarray) -> float:
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    by_source: dict[str, tuple[dict, dict]] = {}
    for i, source in enumerate(queries.sources):
        relevant, ranked = by_source.setdefault(source, ({}, {}))
        relevant[str(i)] = [str(r) for r in queries.positives[i]]
        ranked[str(i)] = [str(r) for r in rows[top[i]]]
    return float(np.mean([score_runs(rel, ran)["ndcg@10"] for rel, ran in by_source.values()]))


def _choose_lexical_weight(dense, lexical, queries, rows):
    """Choose λ on validation: the grid value with the best score, the smallest on ties."""
    return _best_on_validation(dense, lexical, LEXICAL_WEIGHTS, queries, rows)


def _best_on_validation(base, term, grid, queries, rows):
    """The weight of ``grid`` for which ``base + weight · term`` scores best (smallest on ties), and all scores."""
    results = {str(w): round(_ndcg_by_source(base + w * term, queries, rows), 4) for w in grid}
    return max(grid, key=lambda w: (results[str(w)], -w)), results


def _fit_genre_readout(head: AttentionHead, sources: list, seed: int, steps: int = 300) -> AttentionHead:
    """Fit a multi-label logistic readout from value vectors to canonical genres (masked by vocabulary).

    A catalog's titles count as negatives for a genre only if that catalog labels the genre at all.
    """
    rows, targets, known = [], [], []
    present = set().union(*(label_genres(label) for _, labels in sources for ls in labels for label in ls))
    genres = [genre for genre in GENRE_SYNONYMS if genre in present]
    if not genres:
        return head
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
    target, mask = torch.cat(targets), torch.cat(known)  # (N, G)
    scale = 10.0  # unit-length inputs need large weights: learn them in units of 10 for a faster fit
    weight = torch.zeros(values.shape[1], len(genres), requires_grad=True)
    bias = torch.zeros(len(genres), requires_grad=True)
    optimiser = torch.optim.Adam([weight, bias], lr=0.05)
    for _ in range(steps):
        logits = values @ weight * scale + bias  # (N, G)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
        loss = (loss * mask).sum() / mask.sum() + 1e-4 * (weight**2).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    fitted = AttentionHead(replace(head.config, genres=tuple(genres)))
    state = {k: v for k, v in head.state_dict().items() if not k.startswith("genre_")}
    fitted.load_state_dict({**state, "genre_weight": (weight * scale).detach().T, "genre_bias": bias.detach()})
    return fitted.eval()


def _choose_predicted_boost(model, head, queries, rows, scores):
    """Choose β for predicted genres on validation, as if the held-out titles had no labels.

    Queries that are only genres ("horror") and queries with other words get a β each: for the first,
    the predicted genre plays the part a label filter plays in a labelled catalog. ``scores`` are the
    validation scores so far (q·k plus the weighted lexical term).
    """
    parser = QueryParser([], set(model.catalog.frame["kind"]), head.config.genres)
    with torch.inference_mode():
        profile = head.genre_profile(head.values(torch.from_numpy(model.embeddings[rows]))).numpy()  # (V, G)
    only, mixed = np.zeros_like(scores), np.zeros_like(scores)
    for i, text in enumerate(queries.texts):
        intents = parser.parse(text)
        if intents.predicted:
            target = only if intents.genre_only else mixed
            target[i] = profile[:, [head.config.genres.index(g) for g in intents.predicted]].mean(1)
    only_boost, only_grid = _best_on_validation(scores, only, PREDICTED_GENRE_BOOSTS, queries, rows)
    mixed_boost, mixed_grid = _best_on_validation(
        scores + only_boost * only, mixed, PREDICTED_GENRE_BOOSTS, queries, rows
    )
    return only_boost, mixed_boost, {"genre only": only_grid, "with other words": mixed_grid}


def _membership(positives: list[np.ndarray], columns: int) -> sparse.csr_matrix:
    indptr = np.cumsum([0] + [len(p) for p in positives])
    data = np.ones(indptr[-1], dtype=bool)
    return sparse.csr_matrix((data, np.concatenate(positives), indptr), shape=(len(positives), columns))


def _split(size: int, config: TrainConfig, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    rows = list(range(size))
    rng.shuffle(rows)
    held = max(1, int(round(size * config.validation_fraction)))
    return np.array(sorted(rows[held:]), dtype=np.int64), np.array(sorted(rows[:held]), dtype=np.int64)


def _span(description: str, rng: random.Random) -> str:
    """A sentence or a phrase of 5–12 words from a description."""
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", description) if len(s.split()) >= 4]
    if sentences and rng.random() < 0.5:
        return rng.choice(sentences)
    words = description.split()
    length = min(len(words), rng.randint(5, 12))
    begin = rng.randint(0, max(0, len(words) - length))
    return " ".join(words[begin : begin + length])


def _label_text(label: str) -> str:
    return " ".join(re.sub(r"[&/,]", " ", label).lower().split())


def _pairs(items: list[str]):
    return [(a, b) for i, a in enumerate(items) for b in items[i + 1 :]]
