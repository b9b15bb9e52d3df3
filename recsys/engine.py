"""MovieSearch: the catalog, the encoder, the attention head and the key store, tied together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file

from recsys import artifacts
from recsys.catalog import DOCUMENT_TEMPLATE, Catalog
from recsys.encoding import TextEncoder
from recsys.errors import ModelError, QueryError
from recsys.head import AttentionHead, HeadConfig
from recsys.index import KeyStore
from recsys.pretrained import PRETRAINED_NAME, PRETRAINED_PACKAGE, pretrained_dir
from recsys.tokenizer import Tokenizer
from recsys.transformer import Encoder, EncoderConfig

YearRange = tuple[int | None, int | None]


class Hit(NamedTuple):
    """One search result: ``score`` is the attention score q·k, ``weight`` its softmax over the results."""

    id: str
    title: str
    year: int | None
    genres: list[str]
    score: float
    weight: float


class MovieSearch:
    """Search a catalog by attention: the query is Q, the movies are the keys K and carry values V.

    Build one with :meth:`build` or :meth:`load`; do not call the constructor directly.
    """

    def __init__(
        self,
        catalog: Catalog,
        text_encoder: TextEncoder,
        head: AttentionHead,
        keys: KeyStore,
        embeddings: np.ndarray,
        template: str = DOCUMENT_TEMPLATE,
        metrics: dict | None = None,
    ):
        self.catalog = catalog
        self.text_encoder = text_encoder
        self.head = head.eval()
        self.keys = keys
        self.embeddings = embeddings  # (N, C) normalised encoder embeddings, cached for retraining
        self.template = template
        self.metrics = metrics or {}

    # -- building -------------------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        encoder: str | TextEncoder = "minilm",
        base: MovieSearch | None = None,
        progress: bool = False,
    ) -> MovieSearch:
        """Embed and index a catalog.

        Parameters
        ----------
        catalog : Catalog
            The titles to index.
        encoder : {"minilm", "tiny"} or TextEncoder
            Without ``base``: the pretrained all-MiniLM-L6-v2 encoder, a random ``tiny`` one whose
            WordPiece vocabulary is learned from the catalog, or an encoder already loaded.
            The head starts untrained (plain cosine similarity).
        base : MovieSearch, optional
            Reuse this model's encoder and head (for example a trained model) on the new catalog.
        progress : bool
            Show progress bars on standard error.
        """
        if base is not None:
            text_encoder, head, template = base.text_encoder, base.head, base.template
        else:
            text_encoder, template = _new_text_encoder(encoder, catalog), DOCUMENT_TEMPLATE
            head = AttentionHead(HeadConfig(dim=text_encoder.dim))
        embeddings = text_encoder.embed(catalog.documents(template), progress=progress, desc="embedding")
        keys = _index_keys(head, embeddings, progress)
        return cls(catalog, text_encoder, head, keys, embeddings, template)

    # -- searching ------------------------------------------------------------------------------------

    def search(
        self,
        query: str,
        k: int = 10,
        genres: Iterable[str] | None = None,
        years: YearRange | None = None,
        kind: str | None = None,
    ) -> list[Hit]:
        """Rank the catalog for a query.

        Parameters
        ----------
        query : str
            Free text ("sci-fi about first contact with aliens").
        k : int
            Number of results.
        genres, years, kind
            Filters, applied inside the key store (see :meth:`Catalog.mask`).

        Raises
        ------
        QueryError
            For an empty query or a ``k`` below 1.
        """
        return self.search_many([query], k, genres=genres, years=years, kind=kind)[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        genres: Iterable[str] | None = None,
        years: YearRange | None = None,
        kind: str | None = None,
    ) -> list[list[Hit]]:
        """Rank the catalog for many queries at once (one batched encoder pass)."""
        if k < 1:
            raise QueryError(f"k must be at least 1, got {k}")
        for query in queries:
            if not isinstance(query, str) or not query.strip():
                raise QueryError("the query is empty: type a few words, a genre or a title")
        allowed = self.catalog.mask(genres=genres, years=years, kind=kind)
        found = self.keys.search(self.query_vectors(queries), k, allowed)
        return [self._hits(scores, rows) for scores, rows in zip(found.scores, found.rows, strict=True)]

    def query_vectors(self, queries: Sequence[str]) -> np.ndarray:
        """Flat query vectors ``(Q, D)`` whose inner products with the keys are the scores."""
        embeddings = torch.from_numpy(self.text_encoder.embed(queries))  # (Q, C)
        with torch.inference_mode():
            return self.head.queries(embeddings).numpy()  # (Q, D)

    def _hits(self, scores: np.ndarray, rows: np.ndarray) -> list[Hit]:
        with torch.inference_mode():
            weights = self.head.attend(torch.from_numpy(scores)).numpy()  # (k,)
        records = self._records
        hits = []
        for score, row, weight in zip(scores, rows, weights, strict=True):
            movie_id, title, year, genres = records[row]
            hits.append(Hit(movie_id, title, year, list(genres), float(score), float(weight)))
        return hits

    @cached_property
    def _records(self) -> list[tuple[str, str, int | None, tuple[str, ...]]]:
        # (id, title, year, genres) per row, as plain Python values: a search then reads no DataFrame.
        frame = self.catalog.frame
        years = [None if pd.isna(year) else int(year) for year in frame["year"]]
        return list(zip(frame["id"], frame["title"], years, map(tuple, frame["genres"]), strict=True))

    # -- saving and loading -----------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the model directory atomically; return its path.

        The directory holds ``config.json``, ``head.safetensors``, the encoder (weights, or a checksummed
        reference to the pretrained ones), ``tokenizer.json``, ``keys.faiss``, ``embeddings.safetensors``,
        ``catalog.parquet`` and ``metrics.json``. Nothing in it is a pickle.
        """
        with artifacts.atomic_directory(directory) as staging:
            save_file(self.head.state_dict(), staging / "head.safetensors")
            save_file({"embeddings": torch.from_numpy(self.embeddings)}, staging / "embeddings.safetensors")
            encoder_config = self._save_encoder(staging)
            self.text_encoder.tokenizer.save(staging / "tokenizer.json")
            self.keys.save(staging / "keys.faiss")
            self.catalog.to_parquet(staging / "catalog.parquet")
            artifacts.write_json(staging / "metrics.json", self.metrics)
            artifacts.write_config(
                staging,
                {
                    "encoder": encoder_config,
                    "head": self.head.config.to_dict(),
                    "max_length": self.text_encoder.tokenizer.max_length,
                    "document_template": self.template,
                    "catalog": {
                        "source": self.catalog.source,
                        "rows": len(self.catalog),
                        "fingerprint": self.catalog.fingerprint(),
                    },
                    "index": {"type": "flat-inner-product", "rows": len(self.keys)},
                },
            )
        return Path(directory)

    def _save_encoder(self, directory: Path) -> dict:
        encoder = self.text_encoder.encoder
        config = encoder.config.to_dict()
        if encoder.pretrained_name == PRETRAINED_NAME:
            weights = pretrained_dir() / "model.safetensors"
            config["weights"] = {
                "pretrained": PRETRAINED_NAME,
                "package": PRETRAINED_PACKAGE,
                "sha256": artifacts.sha256(weights),
            }
        else:
            save_file(encoder.state_dict(), directory / "encoder.safetensors")
            config["weights"] = "encoder.safetensors"
        return config

    @classmethod
    def load(cls, directory: str | Path) -> MovieSearch:
        """Load a model directory written by :meth:`save` (JSON, safetensors, FAISS, Parquet; no pickle).

        Raises
        ------
        ModelError
            If the directory is missing, incomplete, changed since it was written, or from a newer recsys.
        """
        directory = Path(directory)
        config = artifacts.read_config(directory)
        try:
            head = AttentionHead(HeadConfig(**config["head"]))
            head.load_state_dict(load_file(directory / "head.safetensors"))
            tokenizer = Tokenizer.from_file(directory / "tokenizer.json", config["max_length"])
            encoder = _load_encoder(directory, dict(config["encoder"]))
            embeddings = load_file(directory / "embeddings.safetensors")["embeddings"].numpy()
            catalog = Catalog.from_parquet(directory / "catalog.parquet")
            metrics = artifacts.read_json(directory / "metrics.json")
        except (KeyError, TypeError, RuntimeError, OSError) as err:
            raise ModelError(f"{directory}: cannot be loaded ({err})") from None
        keys = KeyStore.load(directory / "keys.faiss")
        if not len(catalog) == len(keys) == len(embeddings):
            raise ModelError(f"{directory}: catalog, keys and embeddings disagree in size")
        return cls(
            catalog,
            TextEncoder(tokenizer, encoder),
            head,
            keys,
            embeddings,
            template=config["document_template"],
            metrics=metrics,
        )


def _new_text_encoder(name: str | TextEncoder, catalog: Catalog) -> TextEncoder:
    if isinstance(name, TextEncoder):
        return name
    if name == "minilm":
        return TextEncoder.pretrained()
    if name == "tiny":
        tokenizer = Tokenizer.train(catalog.documents())
        return TextEncoder(tokenizer, Encoder(EncoderConfig.tiny(tokenizer.vocab_size)))
    raise ValueError(f"unknown encoder {name!r}; choose 'minilm' or 'tiny'")


def _index_keys(head: AttentionHead, embeddings: np.ndarray, progress: bool) -> KeyStore:
    with torch.inference_mode():
        keys = head.keys(torch.from_numpy(embeddings)).numpy()  # (N, D)
    return KeyStore.build(keys, progress=progress)


def _load_encoder(directory: Path, config: dict) -> Encoder:
    weights = config.pop("weights")
    if isinstance(weights, dict):
        path = pretrained_dir() / "model.safetensors"
        if artifacts.sha256(path) != weights.get("sha256"):
            raise ModelError(
                f"{directory}: built with other {weights.get('pretrained')} weights than "
                f"the installed {PRETRAINED_PACKAGE} ships; rebuild the model"
            )
        return Encoder.pretrained()
    encoder = Encoder(EncoderConfig(**config))
    encoder.load_state_dict(load_file(directory / weights))
    return encoder.eval()


def shipped_model_dir() -> Path:
    """The model trained on the project's own catalog, shipped in the repository.

    Raises
    ------
    ModelError
        If it is not there (it is built by ``recsys train data/movies.csv``; see README).
    """
    path = Path(__file__).resolve().parent.parent / "models" / "default"
    if not (path / artifacts.CONFIG).is_file():
        raise ModelError(
            f"{path}: the shipped default model is not there; index without --model, or give a model directory"
        )
    return path
