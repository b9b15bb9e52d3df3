"""Which words drove a match: a title's score split exactly over its parts, words and word pairs.

The score is the sum of the parts ``recsys.scoring`` returns. With mean pooling and linear maps the
attention part is a sum over word pairs (docs/design.md)::

    q·k = Σ_i Σ_j c_ij,   c_ij = w_iᵀ M w'_j / (‖Σ w‖·‖Σ w'‖),   M = Σ_h α_h Wq_hᵀ Wk_h / √d_k

over the query's word vectors ``w_i`` and the description's ``w'_j`` (``recsys.words``). The pairs are
split again (:func:`by_pull`) so that each word's share, its pairs summed, is an even part of the score
plus what deleting the word costs to first order. The BM25 part is a sum over query terms; every other
part is listed as it is. How much of the word products came through punctuation, stop words and
[CLS]/[SEP] is reported as ``carried_query`` and ``carried_movie``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import numpy as np
import torch

from recsys.catalog import Catalog
from recsys.query import Intents
from recsys.scoring import LEXICAL, Scorer
from recsys.store import TitleStore
from recsys.translate import words_of
from recsys.words import WordVectors


class WordShare(NamedTuple):
    """One word of a text, where it is in the text, and its share of the dense score."""

    word: str
    share: float
    start: int
    end: int


@dataclass
class Explanation:
    """Why a title scored what it did for a query; every part below adds up to ``score``.

    Attributes
    ----------
    score : float
        The full score: ``dense + Σ lexical + Σ boosts``.
    dense : float
        The attention score q·k, split over ``query_words`` (and over ``movie_words``) exactly.
    query_words, movie_words : list of WordShare
        Each word's share of ``dense``, largest first, with its character span in ``query_text`` and
        ``movie_text`` (the texts the encoder read): an even part of ``dense`` plus what deleting the word
        costs to first order (:func:`by_pull`).
    pairs : list of (str, str, float)
        The query-word × description-word pairs with the largest shares.
    carried_query, carried_movie : float
        How much of the word products ``c_ij`` reached words through punctuation, stop words and [CLS]/[SEP].
    lexical : list of (str, float)
        Each query term's part of the BM25 part (already weighted by λ).
    boosts : list of (str, float)
        Every other part that was added, by label (already weighted by its β): genre boosts.
    intents : list of str
        What the query was understood as.
    source_text : str
        For a translated query, the words the user typed that were translated ("" otherwise).
    source_words : list of WordShare
        For a translated query, the shares of ``query_words`` on the words the user typed: each English
        word's share goes to the typed word it translates; one that translates none (an article the
        translation added) is listed as "(of)" with no span. They add up to ``dense``.
    grid, grid_query, grid_movie : list
        The whole word-pair matrix (query words × description words, both in text order) and its words.
    """

    score: float
    dense: float
    query_words: list[WordShare]
    movie_words: list[WordShare]
    pairs: list[tuple[str, str, float]]
    query_text: str = ""
    movie_text: str = ""
    carried_query: float = 0.0
    carried_movie: float = 0.0
    lexical: list[tuple[str, float]] = field(default_factory=list)
    boosts: list[tuple[str, float]] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    grid: list[list[float]] = field(default_factory=list)
    grid_query: list[str] = field(default_factory=list)
    grid_movie: list[str] = field(default_factory=list)
    source_text: str = ""
    source_words: list[WordShare] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready dict; each word is ``{"word", "share", "start", "end"}``."""
        found = asdict(self)
        for side in ("query_words", "movie_words", "source_words"):
            found[side] = [word._asdict() for word in getattr(self, side)]
        return found


def explain_words(query: WordVectors, movie: WordVectors, bilinear: torch.Tensor, top_pairs: int = 10) -> Explanation:
    """Split the dense score ``ê_qᵀ M ê_m`` of two texts over their words and word pairs.

    >>> query = WordVectors("space aliens", [(0, 5), (6, 12)], torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.zeros(2))
    >>> movie = WordVectors("aliens", [(0, 6)], torch.tensor([[1.0, 1.0]]), torch.zeros(2))
    >>> found = explain_words(query, movie, torch.eye(2))
    >>> round(found.dense, 4), [(w.word, round(w.share, 4)) for w in found.query_words]  # cosine of (1, 0), (1, 1)
    (0.7071, [('space', 0.3536), ('aliens', 0.3536)])
    """
    total_query, total_movie = query.vectors.sum(0), movie.vectors.sum(0)  # (C,), (C,)
    scale = total_query.norm() * total_movie.norm()
    matrix = by_pull(query.vectors @ bilinear @ movie.vectors.T / scale, mass(query), mass(movie))  # (Wq, Wm)
    query_words = _ranked(query, matrix.sum(1))
    movie_words = _ranked(movie, matrix.sum(0))
    names_query, names_movie = query.words(), movie.words()
    flat = matrix.flatten()
    best = torch.argsort(flat, descending=True)[:top_pairs].tolist()
    pairs = [
        (names_query[i // matrix.shape[1]], names_movie[i % matrix.shape[1]], round(float(flat[i]), 6)) for i in best
    ]
    dense = float(matrix.sum())
    return Explanation(
        dense,
        dense,
        query_words,
        movie_words,
        pairs,
        query_text=query.text,
        movie_text=movie.text,
        carried_query=round(float(query.carried @ bilinear @ total_movie / scale), 6),
        carried_movie=round(float(total_query @ bilinear @ movie.carried / scale), 6),
        grid=matrix.tolist(),
        grid_query=names_query,
        grid_movie=names_movie,
    )


def mass(words: WordVectors) -> torch.Tensor:
    """``(W,)`` each word's part of its text's direction: ``w_j · Σw / ‖Σw‖²``, summing to 1.

    >>> mass(WordVectors("a b", [(0, 1), (2, 3)], torch.tensor([[3.0, 0.0], [1.0, 2.0]]), torch.zeros(2)))
    tensor([0.6000, 0.4000])
    """
    total = words.vectors.sum(0)
    return words.vectors @ total / (total @ total).clamp_min(1e-30)


def by_pull(products: torch.Tensor, query_mass: torch.Tensor, movie_mass: torch.Tensor) -> torch.Tensor:
    """The word-pair products ``c_ij`` ``(Wq, Wm)`` split again so each word's share is an even part plus its pull.

    A word's product share ``c_j`` is ``s · m_j + p_j``: its mass ``m_j`` (:func:`mass`) of the score ``s``,
    and its pull ``p_j``, the part of its vector across the text's direction, which sums to 0 over the
    words. Deleting the word lowers the score by ``p_j`` to first order, since the pooled direction is
    renormalised. The pairs returned give each word ``s / W + p_j`` and each pair the double-centred
    interaction plus even parts, so every row, column and the whole still add up exactly (docs/design.md).
    """
    total = products.sum()
    rows, columns = products.sum(1), products.sum(0)  # (Wq,), (Wm,)
    query_pull, movie_pull = rows - total * query_mass, columns - total * movie_mass
    interaction = (
        products - rows[:, None] * movie_mass[None] - query_mass[:, None] * columns[None]
        + total * query_mass[:, None] * movie_mass[None]
    )  # fmt: skip
    count_query, count_movie = products.shape
    return (
        interaction + total / (count_query * count_movie)
        + query_pull[:, None] / count_movie + movie_pull[None] / count_query
    )  # fmt: skip


def _ranked(words: WordVectors, shares: torch.Tensor) -> list[WordShare]:
    found = [
        WordShare(name, round(share, 6), start, end)
        for name, share, (start, end) in zip(words.words(), shares.tolist(), words.spans, strict=True)
    ]
    return sorted(found, key=lambda item: -item.share)


def explain_titles(
    intent: Intents, query: WordVectors | None, titles: list[WordVectors], rows: np.ndarray,
    scorer: Scorer, catalog: Catalog, store: TitleStore,
) -> list[Explanation]:  # fmt: skip
    """Explain the scores of some titles (catalog ``rows``) for one query, from their word vectors.

    ``query`` is None when the query left no text to encode (only a referenced title): q·k is then 0.
    """
    with torch.inference_mode():
        bilinear = scorer.head.bilinear()  # (D, D), once for every title
        if query is None:
            explanations = [Explanation(0.0, 0.0, [], [], [], movie_text=title.text) for title in titles]
        else:
            explanations = [explain_words(query, title, bilinear) for title in titles]
    dense = np.array([explanation.dense for explanation in explanations])
    scored = scorer.parts(intent, dense, rows, catalog, store)
    splits_lexical = any(part.name == LEXICAL for part in scored.parts)
    terms = store.lexical.term_scores(intent.text, rows) if splits_lexical else {}
    for n, explanation in enumerate(explanations):
        explanation.intents = list(intent.explained)
        for part in scored.parts[1:]:
            if part.name == LEXICAL:
                explanation.lexical = [(term, round(part.weight * float(v[n]), 6)) for term, v in terms.items() if v[n]]
            elif part.values[n]:
                explanation.boosts.append((part.label, round(part.weight * float(part.values[n]), 6)))
        explanation.score = explanation.dense + sum(value for _, value in explanation.lexical + explanation.boosts)
    return explanations


def explain_text(intent: Intents, query: WordVectors, text: WordVectors, scorer: Scorer) -> Explanation:
    """Explain the attention score of any text for a query (no BM25 part, no boosts: it is not in the catalog)."""
    with torch.inference_mode():
        explanation = explain_words(query, text, scorer.head.bilinear())
    explanation.intents = list(intent.explained)
    return explanation


def on_typed_words(explanation: Explanation, source: str, alignment: list[int | None]) -> Explanation:
    """Fill ``source_words``: the query words' shares moved onto the typed words they translate.

    ``alignment`` gives, for each word of the translation (``recsys.translate.words_of`` of
    ``explanation.query_text``), the index of the typed word it came from, or None.
    """
    english = words_of(explanation.query_text)
    typed = words_of(source)
    starts = [start for start, _ in english]
    totals: dict[int | str, float] = {}
    for word in explanation.query_words:
        position = max((n for n, start in enumerate(starts) if start <= word.start), default=None)
        origin = alignment[position] if position is not None and position < len(alignment) else None
        key = origin if origin is not None else f"({word.word})"
        totals[key] = totals.get(key, 0.0) + word.share
    shares = []
    for key, share in totals.items():
        if isinstance(key, int):
            start, text = typed[key]
            shares.append(WordShare(text, round(share, 6), start, start + len(text)))
        else:
            shares.append(WordShare(key, round(share, 6), 0, 0))
    explanation.source_text = source
    explanation.source_words = sorted(shares, key=lambda item: -item.share)
    return explanation
