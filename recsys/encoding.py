"""Texts to embeddings: tokenise, run the encoder in length-bucketed batches, mean-pool, normalise.

Documents (catalog descriptions) may be encoded in bfloat16 where the CPU multiplies it natively (AVX512-BF16
or AMX): several times faster, with embeddings within a cosine of 0.9999 of float32 ones. Queries are always
encoded in float32.
"""

from __future__ import annotations

import contextlib
import functools
import platform
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from recsys.errors import ModelError, QueryError
from recsys.modeldir import sha256
from recsys.pretrained import PRETRAINED_NAME, PRETRAINED_PACKAGE, pretrained_dir
from recsys.progress import Progress, progress_bar
from recsys.tokenizer import TokenBatch, Tokenizer
from recsys.transformer import Encoder, EncoderConfig, mean_pool

PRECISIONS = ("auto", "float32", "bfloat16")
TOKENIZER_FILE = "tokenizer.json"
WEIGHTS_FILE = "weights.safetensors"  # only for weights that are not the pretrained ones


class TokenStates(NamedTuple):
    """One text's final-layer token states, with the spans that map tokens back to words."""

    text: str
    states: torch.Tensor  # (T, C), [CLS] and [SEP] included, no padding
    word_ids: list[int | None]
    offsets: list[tuple[int, int]]
    rollout: torch.Tensor | None = None  # (T, T) how much each final state drew on each input token
    self_attention: torch.Tensor | None = None  # (L, nh, T, T) every layer's self-attention, if asked for
    tokens: list[str] | None = None  # the word pieces, if self-attention was asked for

    def embedding(self) -> np.ndarray:
        """The text's embedding ``(C,)``, pooled from these states as :meth:`TextEncoder.embed` pools."""
        with torch.inference_mode():
            return pooled(self.states[None], torch.ones(1, len(self.states)))[0].numpy()


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
    precision : {"auto", "float32", "bfloat16"}
        Arithmetic for documents (``documents=True``): "auto" is bfloat16 where the CPU computes it
        natively (see :func:`native_bfloat16`), float32 elsewhere. Queries are always float32.
    """

    def __init__(self, tokenizer: Tokenizer, encoder: Encoder, batch_size: int = 64, precision: str = "auto"):
        if precision not in PRECISIONS:
            raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
        self.tokenizer = tokenizer
        self.encoder = encoder.eval()
        self.batch_size = batch_size
        self.precision = precision

    def with_precision(self, precision: str) -> TextEncoder:
        """The same tokenizer and encoder with another document precision."""
        return TextEncoder(self.tokenizer, self.encoder, self.batch_size, precision)

    @property
    def document_precision(self) -> str:
        """The precision documents are encoded in on this machine: "float32" or "bfloat16"."""
        if self.precision == "auto":
            return "bfloat16" if native_bfloat16() else "float32"
        return self.precision

    @classmethod
    def pretrained(cls) -> TextEncoder:
        """The all-MiniLM-L6-v2 tokenizer and encoder."""
        return cls(Tokenizer.pretrained(), Encoder.pretrained())

    def save(self, folder: Path) -> dict:
        """Write the tokenizer, and the weights unless they are the pretrained ones; return the config section."""
        folder.mkdir()
        self.tokenizer.save(folder / TOKENIZER_FILE)
        encoder = self.encoder
        if encoder.pretrained_name == PRETRAINED_NAME:
            weights: dict | str = {"pretrained": PRETRAINED_NAME, "package": PRETRAINED_PACKAGE,
                                   "sha256": sha256(pretrained_dir() / "model.safetensors")}  # fmt: skip
        else:
            save_file(encoder.state_dict(), folder / WEIGHTS_FILE)
            weights = WEIGHTS_FILE
        return {"architecture": encoder.config.to_dict(), "weights": weights,
                "max_length": self.tokenizer.max_length, "precision": self.precision,
                "documents": self.document_precision}  # fmt: skip

    @classmethod
    def load(cls, folder: Path, section: dict) -> TextEncoder:
        """Read an encoder written by :meth:`save`, with its config section.

        Raises
        ------
        ModelError
            If the pretrained weights it names are not the installed ones.
        """
        weights = section["weights"]
        if isinstance(weights, dict):
            if sha256(pretrained_dir() / "model.safetensors") != weights.get("sha256"):
                raise ModelError(
                    f"{folder.parent}: built with other {weights.get('pretrained')} weights than "
                    f"the installed {PRETRAINED_PACKAGE} ships; rebuild the model"
                )
            encoder = Encoder.pretrained()
        else:
            encoder = Encoder(EncoderConfig(**section["architecture"]))
            encoder.load_state_dict(load_file(folder / weights))
        tokenizer = Tokenizer.from_file(folder / TOKENIZER_FILE, section["max_length"])
        return cls(tokenizer, encoder, precision=section["precision"])

    @property
    def dim(self) -> int:
        """Embedding width."""
        return self.encoder.dim

    def embed(
        self, texts: Sequence[str], progress: Progress = False, desc: str = "embedding",
        per_text: Callable[[TokenStates], Any] | None = None, documents: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, list]:  # fmt: skip
        """Return L2-normalised embeddings ``(N, C)`` as float32, in the order of ``texts``.

        Texts are sorted by token count and batched, so little compute goes to padding. With
        ``per_text``, each text's :class:`TokenStates` (rollout included) is passed to it in the same
        pass, and ``(embeddings, [per_text(states) for each text])`` is returned. ``documents`` encodes
        at the document precision, queries (the default) in float32.
        """
        encodings = self.tokenizer.encodings(texts)
        if len(encodings) <= self.batch_size and not progress and per_text is None and not documents:  # a query
            with torch.inference_mode():
                return self._pooled(self.tokenizer.pad(encodings)).numpy()
        order = np.argsort([-len(enc.ids) for enc in encodings], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)  # (N, C)
        extra: list = [None] * len(texts)
        with self._arithmetic(documents), progress_bar(progress, len(texts), desc, "text") as bar:
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = self.tokenizer.pad([encodings[i] for i in rows])
                output = self.encoder(batch.input_ids, batch.attention_mask, return_rollout=per_text is not None)
                out[rows] = pooled(output.states, batch.attention_mask).numpy()
                if per_text is not None:
                    for n, states in enumerate(self._split([texts[i] for i in rows], batch, output)):
                        extra[rows[n]] = per_text(states)
                bar.update(len(rows))
        return out if per_text is None else (out, extra)

    def token_states(
        self, texts: Sequence[str], self_attention: bool = False, documents: bool = False
    ) -> list[TokenStates]:
        """Final-layer token states and rollout of each text (one batched pass), for explanations.

        With ``self_attention``, every layer's self-attention maps and the word pieces come too;
        ``documents`` encodes at the document precision, as :meth:`embed` does.
        """
        batch = self.tokenizer.encode(texts)
        with self._arithmetic(documents):
            output = self.encoder(
                batch.input_ids, batch.attention_mask, return_attention=self_attention, return_rollout=True
            )
        found = self._split(texts, batch, output)
        if not self_attention:
            return found
        maps = torch.stack(output.attention, 1)  # (B, L, nh, T, T)
        return [
            states._replace(
                self_attention=maps[i, :, :, : len(states.states), : len(states.states)].clone(), tokens=batch.tokens[i]
            )
            for i, states in enumerate(found)
        ]

    def self_attention_maps(self, text: str) -> TokenStates:
        """The encoder's own self-attention for a text: ``self_attention`` ``(layers, heads, T, T)`` and ``tokens``.

        Raises
        ------
        QueryError
            For an empty text.
        """
        if not isinstance(text, str) or not text.strip():
            raise QueryError("there is no text to show the self-attention of")
        return self.token_states([text], self_attention=True)[0]

    def _arithmetic(self, documents: bool) -> contextlib.AbstractContextManager:
        """Inference mode, in bfloat16 autocast for documents when that is their precision."""
        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        if documents and self.document_precision == "bfloat16":
            stack.enter_context(torch.autocast("cpu", dtype=torch.bfloat16))
        return stack

    @staticmethod
    def _split(texts: Sequence[str], batch: TokenBatch, output) -> list[TokenStates]:
        lengths = batch.attention_mask.sum(1).tolist()
        return [
            TokenStates(
                text,
                output.states[i, :n].to(torch.float32, copy=True),
                batch.word_ids[i],
                batch.offsets[i],
                output.rollout[i, :n, :n].to(torch.float32, copy=True),
            )
            for i, (text, n) in enumerate(zip(texts, lengths, strict=True))
        ]

    def embed_with_grad(self, texts: Sequence[str]) -> torch.Tensor:
        """Embed one batch of texts keeping the autograd graph (for fine-tuning); returns ``(B, C)``."""
        return self._pooled(self.tokenizer.encode(texts))

    def _pooled(self, batch: TokenBatch) -> torch.Tensor:
        states = self.encoder(batch.input_ids, batch.attention_mask).states  # (B, T, C)
        return pooled(states, batch.attention_mask)  # (B, C)


def pooled(states: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Embeddings ``(B, C)`` of token states ``(B, T, C)``: their mean over real tokens, L2-normalised."""
    return F.normalize(mean_pool(states, attention_mask), dim=-1)


@functools.cache
def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 matrix instructions (x86 AVX512-BF16 or AMX-BF16) that torch can use.

    Elsewhere bfloat16 is emulated and slower than float32, so "auto" precision stays float32.
    """
    if platform.system() != "Linux" or not torch.backends.mkldnn.is_available():
        return False
    try:
        flags = next(
            (line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), ""
        ).split()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags
