"""A text's words and the part of its final token states each one accounts for.

Mean pooling makes a text's embedding the (normalised) sum of its final token states; grouped into the
words a reader sees, those states make the word vectors that explanations split scores over
(``recsys.explain``) and that a model keeps for every title (``recsys.wordstore``).

The final states of punctuation, of stop words and of [CLS]/[SEP] are where the encoder gathers a
sentence's context, so mean pooling hands them a large share ("." or "with" would rank near the top).
Their states are passed on to the content words they gathered from, in proportion to the encoder's own
attention rollout weighted by the size of what each head moves (Abnar & Zuidema, 2020; Kobayashi et al.,
2020). Passing states on moves nothing in or out: the word vectors still sum to the text's summed states.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from recsys.encoding import TokenStates
from recsys.tokenizer import is_punctuation, word_spans
from recsys.vocabulary import CARRIER_STOP_WORDS

SPECIAL = "[CLS]/[SEP]"
WORDS_VERSION = 4  # bumped whenever word vectors would come out differently; stores of older versions are not used


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


def aligned(words: WordVectors, embedding: np.ndarray) -> WordVectors:
    """The word vectors with their sum turned to point exactly along a stored embedding.

    Half-precision storage, or bfloat16 encoding in another batch, moves the sum by about 1e-4; that
    remainder is spread evenly over the words, so the shares add up to the score the stored embedding gave.
    """
    total = words.vectors.sum(0)
    remainder = (total.norm() * torch.from_numpy(np.asarray(embedding, dtype=np.float32)) - total) / len(words.vectors)
    return words._replace(vectors=words.vectors + remainder)


def is_carrier(word: str) -> bool:
    """Whether a word mostly carries context: a stop word, or punctuation and symbols only.

    >>> [is_carrier(word) for word in ["with", "The", ".", "—", "aliens", "sci-fi", "2001"]]
    [True, True, True, True, False, False, False]
    """
    return word.lower() in CARRIER_STOP_WORDS or is_punctuation(word)


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
