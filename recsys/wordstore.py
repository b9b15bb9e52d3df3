"""Every title's word vectors, kept with a model so that explaining a result encodes no description.

Stored at half precision in a ``words/`` folder of the model: ``index.safetensors`` says where each title's
words are (``segment``, ``start``, ``end``, each ``(N,)``) and holds what its carriers passed on
(``carried`` ``(N, C)``); each ``segment-{i}.safetensors`` holds word ``vectors`` ``(W, C)`` and character
``spans`` ``(W, 2)``.

Segments make live updates cheap, as in a search engine's index: adding titles appends a segment, and
removing titles only drops them from the index. Saving hard-links the segments a model was loaded from
(unchanged, as their size and modification time show) instead of writing them again. Once most stored
words belong to removed titles, the store is compacted into one segment.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from recsys.words import WordVectors, aligned

INDEX_FILE = "index.safetensors"


class Source(NamedTuple):
    """A segment file already on disk, with its checksum and what identifies its content (size, mtime)."""

    path: Path
    sha256: str
    stamp: tuple[int, int]


class Segment(NamedTuple):
    """Word vectors ``(W, C)`` and their character spans ``(W, 2)`` of some titles, in one file."""

    vectors: torch.Tensor
    spans: torch.Tensor
    source: Source | None = None


class WordStore:
    """The word vectors of a catalog's titles, in catalog order.

    Parameters
    ----------
    segments : list of Segment
        Where the words are.
    segment, start, end : torch.Tensor
        ``(N,)``: title ``n``'s words are rows ``start[n]:end[n]`` of segment ``segment[n]``.
    carried : torch.Tensor
        ``(N, C)`` what each title's stop words and punctuation passed on to its content words.
    """

    def __init__(
        self, segments: list[Segment], segment: torch.Tensor, start: torch.Tensor, end: torch.Tensor,
        carried: torch.Tensor,
    ):  # fmt: skip
        self.segments, self.segment, self.start, self.end, self.carried = segments, segment, start, end, carried

    @classmethod
    def from_words(cls, words: list[WordVectors]) -> WordStore:
        """Pack the word vectors of every title, in catalog order, into one segment."""
        vectors = torch.cat([item.vectors for item in words]).half() if words else torch.zeros(0, 0).half()
        spans = torch.tensor([span for item in words for span in item.spans], dtype=torch.int32).reshape(-1, 2)
        carried = torch.stack([item.carried for item in words]).half() if words else torch.zeros(0, 0).half()
        return cls._one_segment(vectors, spans, [len(item.spans) for item in words], carried)

    @classmethod
    def _one_segment(
        cls, vectors: torch.Tensor, spans: torch.Tensor, counts: list[int], carried: torch.Tensor
    ) -> WordStore:
        """A store of one segment whose titles own ``counts`` consecutive words each."""
        ends = torch.cumsum(torch.tensor(counts, dtype=torch.int64), 0)
        starts = ends - torch.tensor(counts, dtype=torch.int64)
        return cls([Segment(vectors, spans)], torch.zeros(len(counts), dtype=torch.int64), starts, ends, carried)

    def __len__(self) -> int:
        return len(self.segment)

    @property
    def stored_words(self) -> int:
        """Words held in the segments, those of removed titles included."""
        return sum(len(segment.vectors) for segment in self.segments)

    def select(self, rows: np.ndarray) -> WordStore:
        """The store of some titles only, in the order given (for removing titles); nothing is copied.

        When less than half of the stored words would still be used, the result is compacted.
        """
        rows = torch.as_tensor(rows, dtype=torch.int64)
        picked = WordStore(list(self.segments), self.segment[rows], self.start[rows], self.end[rows],
                           self.carried[rows])  # fmt: skip
        used = int((picked.end - picked.start).sum())
        return picked._compacted() if 2 * used < picked.stored_words else picked

    def joined(self, other: WordStore) -> WordStore:
        """Return this store followed by another (for adding titles): the other's segments are appended."""
        return WordStore(
            [*self.segments, *other.segments],
            torch.cat([self.segment, other.segment + len(self.segments)]),
            torch.cat([self.start, other.start]),
            torch.cat([self.end, other.end]),
            torch.cat([self.carried, other.carried]),
        )

    def get(self, row: int, text: str, embedding: np.ndarray) -> WordVectors:
        """Title ``row``'s word vectors; ``text`` is its document and ``embedding`` its stored embedding.

        Half precision moves the vectors' sum by about 1e-4; :func:`recsys.words.aligned` spreads that
        remainder over the words so the shares add up to the search score.
        """
        segment, start, end = self.segments[int(self.segment[row])], int(self.start[row]), int(self.end[row])
        vectors = segment.vectors[start:end].float()  # (W, C)
        spans = [tuple(span) for span in segment.spans[start:end].tolist()]
        return aligned(WordVectors(text, spans, vectors, self.carried[row].float()), embedding)

    def save(self, folder: Path) -> dict[str, str]:
        """Write the store into ``folder`` (created); return the checksums of segments linked, not written.

        A segment loaded from (or saved to) a file that is still unchanged is hard-linked (copied where
        links are not possible); others are written.
        """
        folder.mkdir()
        known = {}
        for number, segment in enumerate(self.segments):
            path, name = _segment_file(folder, number)
            if segment.source is not None and _unchanged(segment.source):
                _link_or_copy(segment.source.path, path)
                known[name] = segment.source.sha256
            else:
                save_file({"vectors": segment.vectors.contiguous(), "spans": segment.spans.contiguous()}, path)
        index = {"segment": self.segment, "start": self.start, "end": self.end, "carried": self.carried,
                 "counts": torch.tensor([len(segment.vectors) for segment in self.segments])}  # fmt: skip
        save_file({name: tensor.contiguous() for name, tensor in index.items()}, folder / INDEX_FILE)
        return known

    def stored_in(self, folder: Path, checksums: dict[str, str]) -> None:
        """Remember that the segments now live in ``folder`` (after a save), so the next save links them."""
        for number, segment in enumerate(self.segments):
            path, name = _segment_file(folder, number)
            self.segments[number] = segment._replace(source=_source(path, checksums[name]))

    @classmethod
    def load(cls, folder: Path, checksums: dict[str, str]) -> WordStore:
        """Read a store written by :meth:`save` (no pickle); ``checksums`` are the model's verified ones."""
        index = load_file(folder / INDEX_FILE)
        segments = []
        for number in range(len(index["counts"])):
            path, name = _segment_file(folder, number)
            tensors = load_file(path)
            segments.append(Segment(tensors["vectors"], tensors["spans"], _source(path, checksums[name])))
        return cls(segments, index["segment"], index["start"], index["end"], index["carried"])

    def _compacted(self) -> WordStore:
        """The same titles with only their words, in one new segment."""
        places = zip(self.segment.tolist(), self.start.tolist(), self.end.tolist(), strict=True)
        pieces = [(self.segments[number], start, end) for number, start, end in places]
        vectors = torch.cat([segment.vectors[a:b] for segment, a, b in pieces])
        spans = torch.cat([segment.spans[a:b] for segment, a, b in pieces])
        return WordStore._one_segment(vectors, spans, [b - a for _, a, b in pieces], self.carried)


def _segment_file(folder: Path, number: int) -> tuple[Path, str]:
    """Segment ``number``'s path, and its name as the model's config lists it (relative to the model)."""
    path = folder / f"segment-{number}.safetensors"
    return path, f"{folder.name}/{path.name}"


def _source(path: Path, sha256: str) -> Source:
    found = path.stat()
    return Source(path, sha256, (found.st_size, found.st_mtime_ns))


def _unchanged(source: Source) -> bool:
    try:
        found = source.path.stat()
    except OSError:
        return False
    return (found.st_size, found.st_mtime_ns) == source.stamp


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copyfile(source, target)
