"""Texts to embeddings: tokenise, run the encoder in length-bucketed batches, mean-pool, normalise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from recsys.tokenizer import TokenBatch, Tokenizer
from recsys.transformer import Encoder, mean_pool


class TokenStates(NamedTuple):
    """One text's final-layer token states, with the spans that map tokens back to words."""

    text: str
    states: torch.Tensor  # (T, C), [CLS] and [SEP] included, no padding
    word_ids: list[int | None]
    offsets: list[tuple[int, int]]


class TextEncoder:
    """A tokenizer and an encoder used together.

    Parameters
    ----------
    tokenizer : Tokenizer
        Must match the encoder's vocabulary.
    encoder : Encoder
        Put in eval mode here; training code switches it back explicitly.
    batch_size : int
        Texts per forward pass when embedding many texts.
    """

    def __init__(self, tokenizer: Tokenizer, encoder: Encoder, batch_size: int = 64):
        self.tokenizer = tokenizer
        self.encoder = encoder.eval()
        self.batch_size = batch_size

    @classmethod
    def pretrained(cls) -> TextEncoder:
        """The all-MiniLM-L6-v2 tokenizer and encoder."""
        return cls(Tokenizer.pretrained(), Encoder.pretrained())

    @property
    def dim(self) -> int:
        """Embedding width."""
        return self.encoder.dim

    def embed(self, texts: Sequence[str], progress: bool = False, desc: str = "embedding") -> np.ndarray:
        """Return L2-normalised embeddings ``(N, C)`` as float32, in the order of ``texts``.

        Texts are sorted by token count and batched, so little compute goes to padding.
        """
        encodings = self.tokenizer.encodings(texts)
        if len(encodings) <= self.batch_size and not progress:  # the query path: one batch, no overhead
            with torch.inference_mode():
                return self._pooled(self.tokenizer.pad(encodings)).numpy()
        order = np.argsort([-len(enc.ids) for enc in encodings], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)  # (N, C)
        with torch.inference_mode(), tqdm(total=len(texts), desc=desc, unit="text", disable=not progress) as bar:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = self.tokenizer.pad([encodings[i] for i in rows])
                out[rows] = self._pooled(batch).numpy()
                bar.update(len(rows))
        return out

    def token_states(self, texts: Sequence[str]) -> list[TokenStates]:
        """Final-layer token states of each text (one batched pass), for explanations."""
        batch = self.tokenizer.encode(texts)
        with torch.inference_mode():
            states, _ = self.encoder(batch.input_ids, batch.attention_mask)  # (B, T, C)
        lengths = batch.attention_mask.sum(1).tolist()
        return [
            TokenStates(text, states[i, :length].clone(), batch.word_ids[i], batch.offsets[i])
            for i, (text, length) in enumerate(zip(texts, lengths, strict=True))
        ]

    def embed_with_grad(self, texts: Sequence[str]) -> torch.Tensor:
        """Embed one batch of texts keeping the autograd graph (for fine-tuning); returns ``(B, C)``."""
        return self._pooled(self.tokenizer.encode(texts))

    def _pooled(self, batch: TokenBatch) -> torch.Tensor:
        states, _ = self.encoder(batch.input_ids, batch.attention_mask)  # (B, T, C)
        return F.normalize(mean_pool(states, batch.attention_mask), dim=-1)  # (B, C)
