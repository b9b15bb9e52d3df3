"""Which words drove a match: the exact split of a score over query words and description words.

With mean pooling and linear maps, the dense score is a sum over token pairs (DESIGN.md)::

    score = Σ_i Σ_j c_ij,   c_ij = h_iᵀ M h'_j / (T·T'·‖e‖·‖e'‖),   M = Σ_h α_h Wq_hᵀ Wk_h / √d_k

Summing c_ij over j gives each query token's share, over i each description token's share; word
pieces merge into words. The lexical term is a sum over query terms and the genre boosts are constants
per title, so the whole score splits exactly.

One step more makes the shares read like a person would read them. The final states of punctuation,
of stop words and of [CLS]/[SEP] are where the encoder gathers a sentence's context, so mean pooling
hands them a large share ("." or "with" would rank near the top). Their shares are passed on to the
content words they gathered from, in proportion to the encoder's own attention rollout weighted by the
size of what each head moves (Abnar & Zuidema, 2020; Kobayashi et al., 2020). Passing shares on moves
nothing in or out, so the word shares still add up to the score exactly; how much was passed on is
reported as ``carried_query`` and ``carried_movie``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import torch
from bm25s.stopwords import STOPWORDS_EN

from recsys.encoding import TokenStates
from recsys.tokenizer import is_punctuation, word_spans

SPECIAL = "[CLS]/[SEP]"
# Lucene's 33 English stop words, as bm25s ships them (NLTK's 179 measured less faithful on Netflix).
STOP_WORDS = frozenset(STOPWORDS_EN)
WORDS_VERSION = 4  # bumped whenever stored word vectors would come out differently; older stores are not used


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
        ``movie_text`` (the texts the encoder read).
    pairs : list of (str, str, float)
        The query-word × description-word pairs with the largest shares.
    carried_query, carried_movie : float
        How much of the shares reached words through punctuation, stop words and [CLS]/[SEP].
    lexical : list of (str, float)
        Each query term's part of the BM25 term (already weighted by λ).
    boosts : list of (str, float)
        Genre boosts that were added (already weighted by β).
    intents : list of str
        What the query was understood as.
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

    def to_dict(self) -> dict:
        """A JSON-ready dict; each word is ``{"word", "share", "start", "end"}``."""
        found = asdict(self)
        for side in ("query_words", "movie_words"):
            found[side] = [word._asdict() for word in getattr(self, side)]
        return found


class WordVectors(NamedTuple):
    """A text's words and the part of its summed final token states each one accounts for.

    ``vectors.sum(0)`` is the sum of all token states, so its direction is the text's embedding.
    """

    text: str
    spans: list[tuple[int, int]]  # (W,) character spans; (0, 0) stands for [CLS]/[SEP] in a text without words
    vectors: torch.Tensor  # (W, C)
    carried: torch.Tensor  # (C,) the part of the sum that came through carriers and was passed on to words

    def words(self) -> list[str]:
        """The words as they appear in the text."""
        return [self.text[start:end] if end > start else SPECIAL for start, end in self.spans]


def is_carrier(word: str) -> bool:
    """Whether a word mostly carries context: a stop word, or punctuation and symbols only.

    >>> [is_carrier(word) for word in ["with", "The", ".", "—", "aliens", "sci-fi", "2001"]]
    [True, True, True, True, False, False, False]
    """
    return word.lower() in STOP_WORDS or is_punctuation(word)


def word_vectors(tokens: TokenStates) -> WordVectors:
    """Gather a text's token states into its content words, passing the carriers' states on by rollout.

    >>> states = torch.tensor([[1.0, 0.0], [0.0, 2.0], [2.0, 2.0], [1.0, 1.0]])  # [CLS] aliens . [SEP]
    >>> rollout = torch.tensor([[0.5, 0.5, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.5, 0.5, 0.0], [0.0, 0.0, 0.0, 1.0]])
    >>> tokens = TokenStates("aliens.", states, [None, 0, 1, None], [(0, 0), (0, 6), (6, 7), (0, 0)], rollout)
    >>> found = word_vectors(tokens)
    >>> found.words(), found.vectors, found.carried
    (['aliens'], tensor([[4., 5.]]), tensor([4., 3.]))
    """
    words, spans = _spans(tokens)
    carriers = torch.tensor([word is None or is_carrier(words[word]) for word in tokens.word_ids])  # (T,)
    content = ~carriers
    if not content.any():  # only stop words or punctuation: they are the words then
        content = torch.tensor([word is not None for word in tokens.word_ids])
    if not content.any():  # no words at all
        return WordVectors(
            tokens.text, [(0, 0)], tokens.states.sum(0, keepdim=True), torch.zeros(tokens.states.shape[1])
        )
    passing = _passing(tokens.rollout, content)  # (T, T): token j's state → content token k
    parts = passing.T @ tokens.states  # (T, C); rows of non-content tokens are 0
    order = sorted({tokens.word_ids[k] for k in torch.nonzero(content).flatten().tolist()})
    index = {word: n for n, word in enumerate(order)}
    vectors = torch.zeros(len(order), tokens.states.shape[1], dtype=tokens.states.dtype)  # (W, C)
    for k in torch.nonzero(content).flatten().tolist():
        vectors[index[tokens.word_ids[k]]] += parts[k]
    carried = tokens.states[~content].sum(0)  # (C,)
    return WordVectors(tokens.text, [spans[word] for word in order], vectors, carried)


def _spans(tokens: TokenStates) -> tuple[dict[int, str], dict[int, tuple[int, int]]]:
    spans = word_spans(tokens.word_ids, tokens.offsets)
    return {word: tokens.text[start:end] for word, (start, end) in spans.items()}, spans


def _passing(rollout: torch.Tensor | None, content: torch.Tensor) -> torch.Tensor:
    """``(T, T)``: content tokens keep their own state; every other token's goes to the content tokens."""
    length = len(content)
    if rollout is None:  # no rollout: pass evenly
        rollout = torch.ones(length, length)
    weights = rollout * content[None, :]  # (T, T)
    sums = weights.sum(1, keepdim=True)
    weights = torch.where(sums > 0, weights / sums.clamp_min(1e-30), content[None, :] / content.sum())
    return torch.where(content[:, None], torch.eye(length, dtype=weights.dtype), weights)


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
    matrix = query.vectors @ bilinear @ movie.vectors.T / scale  # (Wq, Wm)
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


def _ranked(words: WordVectors, shares: torch.Tensor) -> list[WordShare]:
    found = [
        WordShare(name, round(share, 6), start, end)
        for name, share, (start, end) in zip(words.words(), shares.tolist(), words.spans, strict=True)
    ]
    return sorted(found, key=lambda item: -item.share)


def current_words_file(config: dict) -> str | None:
    """The word store a model's config names, if it was written by this version of the code; else None.

    >>> current_words_file({"explanations": {"words": "words", "version": WORDS_VERSION}})
    'words'
    >>> current_words_file({"explanations": {"words": "words.safetensors", "version": 3}}) is None
    True
    """
    stored = config.get("explanations", {})
    return stored.get("words") if stored.get("version") == WORDS_VERSION else None
