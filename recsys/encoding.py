"""Texts to embeddings: tokenise, run the encoder in length-bucketed batches, mean-pool, normalise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from recsys.progress import Progress, progress_bar
from recsys.tokenizer import TokenBatch, Tokenizer
from recsys.transformer import Encoder, mean_pool


class TokenStates(NamedTuple):
    """One text's final-layer token states, with the spans that map tokens back to words."""

    text: str
    states: torch.Tensor  # (T, C), [CLS] and [SEP] included, no padding
    word_ids: list[int | None]
    offsets: list[tuple[int, int]]
    rollout: torch.Tensor | None = None  # (T, T) how much each final state drew on each input token
    attention: torch.Tensor | None = None  # (L, nh, T, T) every layer's self-attention, if asked for
    tokens: list[str] | None = None  # the word pieces, if attention was asked for


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

    def embed(
        self, texts: Sequence[str], progress: Progress = False, desc: str = "embedding",
        per_text: Callable[[TokenStates], Any] | None = None,
    ) -> np.ndarray | tuple[np.ndarray, list]:  # fmt: skip
        """Return L2-normalised embeddings ``(N, C)`` as float32, in the order of ``texts``.

        Texts are sorted by token count and batched, so little compute goes to padding. With
        ``per_text``, each text's :class:`TokenStates` (rollout included) is passed to it in the same
        pass, and ``(embeddings, [per_text(states) for each text])`` is returned.
        """
        encodings = self.tokenizer.encodings(texts)
        if len(encodings) <= self.batch_size and not progress and per_text is None:  # the query path
            with torch.inference_mode():
                return self._pooled(self.tokenizer.pad(encodings)).numpy()
        order = np.argsort([-len(enc.ids) for enc in encodings], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)  # (N, C)
        extra: list = [None] * len(texts)
        with torch.inference_mode(), progress_bar(progress, len(texts), desc, "text") as bar:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = self.tokenizer.pad([encodings[i] for i in rows])
                output = self.encoder(batch.input_ids, batch.attention_mask, return_rollout=per_text is not None)
                out[rows] = F.normalize(mean_pool(output.states, batch.attention_mask), dim=-1).numpy()
                if per_text is not None:
                    for n, states in enumerate(self._split([texts[i] for i in rows], batch, output)):
                        extra[rows[n]] = per_text(states)
                bar.update(len(rows))
        return out if per_text is None else (out, extra)

    def token_states(self, texts: Sequence[str], attention: bool = False) -> list[TokenStates]:
        """Final-layer token states and rollout of each text (one batched pass), for explanations.

        With ``attention``, every layer's self-attention maps and the word pieces come too.
        """
        batch = self.tokenizer.encode(texts)
        with torch.inference_mode():
            output = self.encoder(
                batch.input_ids, batch.attention_mask, return_attention=attention, return_rollout=True
            )
        found = self._split(texts, batch, output)
        if not attention:
            return found
        maps = torch.stack(output.attention, 1)  # (B, L, nh, T, T)
        return [
            states._replace(
                attention=maps[i, :, :, : len(states.states), : len(states.states)].clone(), tokens=batch.tokens[i]
            )
            for i, states in enumerate(found)
        ]

    @staticmethod
    def _split(texts: Sequence[str], batch: TokenBatch, output) -> list[TokenStates]:
        lengths = batch.attention_mask.sum(1).tolist()
        return [
            TokenStates(
                text,
                output.states[i, :n].clone(),
                batch.word_ids[i],
                batch.offsets[i],
                output.rollout[i, :n, :n].clone(),
            )
            for i, (text, n) in enumerate(zip(texts, lengths, strict=True))
        ]

    def embed_with_grad(self, texts: Sequence[str]) -> torch.Tensor:
        """Embed one batch of texts keeping the autograd graph (for fine-tuning); returns ``(B, C)``."""
        return self._pooled(self.tokenizer.encode(texts))

    def _pooled(self, batch: TokenBatch) -> torch.Tensor:
        states = self.encoder(batch.input_ids, batch.attention_mask).states  # (B, T, C)
        return F.normalize(mean_pool(states, batch.attention_mask), dim=-1)  # (B, C)
