"""Which words drove a match: the exact split of a score over query words and description words.

With mean pooling and linear maps, the dense score is a sum over token pairs (DESIGN.md)::

    score = Σ_i Σ_j c_ij,   c_ij = h_iᵀ M h'_j / (T·T'·‖e‖·‖e'‖),   M = Σ_h α_h Wq_hᵀ Wk_h / √d_k

Summing c_ij over j gives each query token's share, over i each description token's share; word
pieces merge into words. The lexical term is a sum over query terms and the genre boosts are constants
per title, so the whole score splits exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from recsys.encoding import TokenStates

SPECIAL = "[CLS]/[SEP]"


@dataclass
class Explanation:
    """Why a title scored what it did for a query; every part below adds up to ``score``.

    Attributes
    ----------
    score : float
        The full score: ``dense + Σ lexical + Σ boosts``.
    dense : float
        The attention score q·k, split over ``query_words`` (and over ``movie_words``) exactly.
    query_words, movie_words : list of (str, float)
        Each word's share of ``dense``, largest first; ``special_query`` and ``special_movie`` hold the
        share of the [CLS] and [SEP] tokens, which mean pooling counts too.
    pairs : list of (str, str, float)
        The query-word × description-word pairs with the largest shares.
    lexical : list of (str, float)
        Each query term's part of the BM25 term (already weighted by λ).
    boosts : list of (str, float)
        Genre boosts that were added (already weighted by β).
    intents : list of str
        What the query was understood as.
    """

    score: float
    dense: float
    query_words: list[tuple[str, float]]
    movie_words: list[tuple[str, float]]
    pairs: list[tuple[str, str, float]]
    special_query: float = 0.0
    special_movie: float = 0.0
    lexical: list[tuple[str, float]] = field(default_factory=list)
    boosts: list[tuple[str, float]] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)


def pair_contributions(query_states: torch.Tensor, movie_states: torch.Tensor, bilinear: torch.Tensor) -> torch.Tensor:
    """The token-pair matrix ``C`` (T × T') whose sum is the score of the normalised mean-pooled texts.

    >>> query = torch.tensor([[1.0, 0.0], [1.0, 0.0]])  # two tokens, mean (1, 0)
    >>> movie = torch.tensor([[0.0, 2.0], [2.0, 0.0]])  # two tokens, mean (1, 1)
    >>> matrix = pair_contributions(query, movie, torch.eye(2))
    >>> matrix
    tensor([[0.0000, 0.3536],
            [0.0000, 0.3536]])
    >>> round(matrix.sum().item(), 4)  # cosine of (1, 0) and (1, 1)
    0.7071
    """
    scale = len(query_states) * len(movie_states) * query_states.mean(0).norm() * movie_states.mean(0).norm()
    return query_states @ bilinear @ movie_states.T / scale  # (T, T')


def word_shares(token_shares: torch.Tensor, tokens: TokenStates) -> tuple[list[tuple[str, float]], float]:
    """Merge token shares into word shares; return the words (largest first) and the special tokens' share.

    >>> offsets = [(0, 0), (0, 3), (3, 4), (4, 6), (0, 0)]
    >>> states = TokenStates("sci-fi", torch.zeros(5, 2), [None, 0, 0, 0, None], offsets)
    >>> word_shares(torch.tensor([0.1, 0.2, 0.05, 0.25, 0.1]), states)
    ([('sci-fi', 0.5)], 0.2)
    """
    totals: dict[int, float] = {}
    spans: dict[int, list[int]] = {}
    special = 0.0
    for share, word, (start, end) in zip(token_shares.tolist(), tokens.word_ids, tokens.offsets, strict=True):
        if word is None:
            special += share
            continue
        totals[word] = totals.get(word, 0.0) + share
        spans.setdefault(word, [start, end])
        spans[word] = [min(spans[word][0], start), max(spans[word][1], end)]
    words = [(tokens.text[spans[w][0] : spans[w][1]], round(total, 6)) for w, total in totals.items()]
    return sorted(words, key=lambda item: -item[1]), round(special, 6)


def explain_pair(query: TokenStates, movie: TokenStates, bilinear: torch.Tensor, top_pairs: int = 10) -> Explanation:
    """Split the dense score of a (query, movie text) pair over words and word pairs."""
    matrix = pair_contributions(query.states, movie.states, bilinear)  # (T, T')
    query_words, special_query = word_shares(matrix.sum(1), query)
    movie_words, special_movie = word_shares(matrix.sum(0), movie)
    pairs = _top_pairs(matrix, query, movie, top_pairs)
    dense = float(matrix.sum())
    return Explanation(dense, dense, query_words, movie_words, pairs, special_query, special_movie)


def _top_pairs(
    matrix: torch.Tensor, query: TokenStates, movie: TokenStates, count: int
) -> list[tuple[str, str, float]]:
    merged: dict[tuple[int, int], float] = {}
    for i, query_word in enumerate(query.word_ids):
        if query_word is None:
            continue
        for j, movie_word in enumerate(movie.word_ids):
            if movie_word is not None:
                merged[query_word, movie_word] = merged.get((query_word, movie_word), 0.0) + float(matrix[i, j])
    best = sorted(merged.items(), key=lambda item: -item[1])[:count]
    return [(_word(query, q), _word(movie, m), round(share, 6)) for (q, m), share in best]


def _word(tokens: TokenStates, word: int) -> str:
    spans = [offset for offset, w in zip(tokens.offsets, tokens.word_ids, strict=True) if w == word]
    return tokens.text[min(s for s, _ in spans) : max(e for _, e in spans)]
