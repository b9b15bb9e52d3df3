"""The multi-head attention scoring head: queries, keys, values, and a softmax over movies.

For head ``h`` of size ``d_k``: ``q_h = Wq_h e``, ``k_h = Wk_h e'`` and the score is
``Σ_h α_h q_h·k_h / √d_k``. Because the heads are mixed linearly, the score is one inner product of a
flat query vector (each head scaled by ``α_h / √d_k``) and a flat key vector: FAISS searches it exactly.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn


@dataclass
class HeadConfig:
    """Settings of the attention head; saved with each model."""

    dim: int = 384  # width of the encoder embeddings
    num_heads: int = 8  # as in the original Transformer
    temperature: float = 0.05  # initial softmax temperature τ over movies (learned)
    genres: tuple[str, ...] = ()  # canonical genres the value readout predicts (empty until trained)

    @property
    def head_size(self) -> int:
        """Size ``d_k`` of each head."""
        return self.dim // self.num_heads

    def to_dict(self) -> dict:
        """Return the config as a JSON-ready dict."""
        return {**asdict(self), "genres": list(self.genres)}

    @classmethod
    def from_dict(cls, config: dict) -> HeadConfig:
        """Rebuild a config written by :meth:`to_dict`."""
        return cls(**{**config, "genres": tuple(config.get("genres", ()))})


class AttentionHead(nn.Module):
    """Scores a query embedding against movie embeddings with ``num_heads`` bilinear heads.

    Untrained, the projections are the identity and ``α_h = √d_k``, so the score is exactly the cosine
    similarity of the (normalised) encoder embeddings.

    Parameters
    ----------
    config : HeadConfig
        ``dim`` must be divisible by ``num_heads``.
    """

    def __init__(self, config: HeadConfig):
        super().__init__()
        if config.dim % config.num_heads:
            raise ValueError(f"dim {config.dim} is not divisible by num_heads {config.num_heads}")
        self.config = config
        self.query = nn.Linear(config.dim, config.dim, bias=False)  # no bias: scores stay token-pair sums
        self.key = nn.Linear(config.dim, config.dim, bias=False)
        self.value = nn.Linear(config.dim, config.dim, bias=False)
        self.head_weights = nn.Parameter(torch.full((config.num_heads,), math.sqrt(config.head_size)))  # α_h
        self.log_temperature = nn.Parameter(torch.tensor(math.log(config.temperature)))
        # Reads a value vector (or the attention output o) as genres: a movie's or a query's genre profile.
        self.genre_weight = nn.Parameter(torch.zeros(len(config.genres), config.dim))
        self.genre_bias = nn.Parameter(torch.zeros(len(config.genres)))
        with torch.no_grad():
            for projection in (self.query, self.key, self.value):
                projection.weight.copy_(torch.eye(config.dim))

    def save(self, path: Path) -> dict:
        """Write the weights as safetensors; return the config section."""
        save_file(self.state_dict(), path)
        return self.config.to_dict()

    @classmethod
    def load(cls, path: Path, section: dict) -> AttentionHead:
        """Read a head written by :meth:`save`, with its config section."""
        head = cls(HeadConfig.from_dict(section))
        head.load_state_dict(load_file(path))
        return head.eval()

    @property
    def temperature(self) -> torch.Tensor:
        """The softmax temperature τ."""
        return self.log_temperature.exp()

    def _head_scale(self) -> torch.Tensor:
        # α_h / √d_k repeated over each head's coordinates, so heads mix inside one inner product.
        scale = self.head_weights / math.sqrt(self.config.head_size)  # (H,)
        return scale.repeat_interleave(self.config.head_size)  # (D,)

    def queries(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Flat query vectors ``(N, D)``: concatenated heads, each scaled by ``α_h / √d_k``."""
        return self.query(embeddings) * self._head_scale()  # (N, D)

    def keys(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Flat key vectors ``(N, D)``; ``queries(a) @ keys(b).T`` is the score."""
        return self.key(embeddings)  # (N, D)

    def queries_on_embeddings(self, queries: torch.Tensor) -> torch.Tensor:
        """Query vectors carried back through the key map, ``W_kᵀ q`` ``(N, dim)``.

        Keys are linear in the embeddings, so ``queries @ keys(e).T == queries_on_embeddings(queries) @ e.T``:
        scoring titles from their embeddings then costs one projection per query, not one per title.
        """
        return queries @ self.key.weight  # (N, dim)

    def values(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Value vectors ``(N, D)``: what a movie contributes to the attention output."""
        return self.value(embeddings)  # (N, D)

    def genre_profile(self, values: torch.Tensor) -> torch.Tensor:
        """Probabilities ``(N, G)`` that value vectors (or attention outputs) belong to each of ``config.genres``."""
        return torch.sigmoid(values @ self.genre_weight.T + self.genre_bias)  # (N, G)

    def bilinear(self) -> torch.Tensor:
        """The matrix ``M = Σ_h α_h Wq_hᵀ Wk_h / √d_k``, so that ``score = eᵀ M e'``."""
        return (self.query.weight.T * self._head_scale()) @ self.key.weight  # (D, D)

    def attention_weights(self, scores: torch.Tensor, values: torch.Tensor | None = None):
        """Softmax the scores over movies; with values, also return the attention output ``o = Σ weight · v``.

        >>> head = AttentionHead(HeadConfig(dim=4, num_heads=2, temperature=1.0))
        >>> head.attention_weights(torch.tensor([[0.0, 0.0]]))
        tensor([[0.5000, 0.5000]], grad_fn=<SoftmaxBackward0>)
        """
        weights = torch.softmax(scores / self.temperature, dim=-1)  # (Q, N)
        if values is None:
            return weights
        return weights, weights @ values  # (Q, N), (Q, D)
