"""WordPiece tokenisation with the token-to-word spans that explanations need."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tokenizers import Encoding, decoders, models, normalizers, pre_tokenizers, processors, trainers
from tokenizers import Tokenizer as _HFTokenizer

from recsys.pretrained import MAX_LENGTH, pretrained_dir

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True)
class TokenBatch:
    """A padded batch of tokenised texts.

    Attributes
    ----------
    input_ids, attention_mask : torch.Tensor
        ``(B, T)`` int64 tensors, padded on the right to the longest text of the batch.
    word_ids : list of list of int or None
        For each text and token, the index of the word it belongs to (``None`` for [CLS], [SEP], padding).
        A word is what a reader calls one: "sci-fi" and "Muriel's" are one word each, while punctuation
        at either end of a word ("Odyssey." or "(1968)") is a word of its own.
    offsets : list of list of (int, int)
        For each text and token, its character span in the text.
    tokens : list of list of str
        For each text, its word pieces ([CLS] and [SEP] included).
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    word_ids: list[list[int | None]]
    offsets: list[list[tuple[int, int]]]
    tokens: list[list[str]]


class Tokenizer:
    """A WordPiece tokenizer truncating like sentence-transformers.

    Parameters
    ----------
    backend : tokenizers.Tokenizer
        The underlying fast tokenizer; padding is turned off (batches pad themselves) and truncation set.
    max_length : int
        Maximum tokens per text, [CLS] and [SEP] included.
    """

    def __init__(self, backend: _HFTokenizer, max_length: int = MAX_LENGTH):
        backend.no_padding()
        backend.enable_truncation(max_length=max_length)
        self.backend = backend
        self.max_length = max_length
        self.pad_id = backend.token_to_id("[PAD]")

    @classmethod
    def pretrained(cls) -> Tokenizer:
        """Load the all-MiniLM-L6-v2 vocabulary shipped with the pretrained weights."""
        return cls.from_file(pretrained_dir() / "tokenizer.json")

    @classmethod
    def from_file(cls, path: str | Path, max_length: int = MAX_LENGTH) -> Tokenizer:
        """Load a ``tokenizer.json`` file."""
        return cls(_HFTokenizer.from_file(str(path)), max_length)

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int = 8000, max_length: int = MAX_LENGTH) -> Tokenizer:
        """Learn a WordPiece vocabulary from texts in any language (for the ``tiny`` encoder).

        Parameters
        ----------
        texts : iterable of str
            The corpus, typically a catalog's documents.
        vocab_size : int
            Upper bound on the vocabulary size.
        max_length : int
            Maximum tokens per text.
        """
        backend = _HFTokenizer(models.WordPiece(unk_token="[UNK]"))
        backend.normalizer = normalizers.BertNormalizer(lowercase=True)
        backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        backend.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False)
        backend.train_from_iterator(texts, trainer=trainer)
        cls_id, sep_id = backend.token_to_id("[CLS]"), backend.token_to_id("[SEP]")
        backend.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
        )
        return cls(backend, max_length)

    @property
    def vocab_size(self) -> int:
        """Number of entries in the vocabulary."""
        return self.backend.get_vocab_size()

    def save(self, path: str | Path) -> None:
        """Write the tokenizer as ``tokenizer.json``."""
        self.backend.save(str(path))

    def encode(self, texts: Sequence[str]) -> TokenBatch:
        """Tokenise texts into one padded batch.

        >>> batch = Tokenizer.pretrained().encode(["Space aliens!", ""])
        >>> batch.input_ids.shape, batch.attention_mask.sum(1).tolist()
        (torch.Size([2, 5]), [5, 2])
        """
        return self.pad(self.encodings(texts))

    def encodings(self, texts: Sequence[str]) -> list[Encoding]:
        """Tokenise texts without padding (in parallel, in the Rust backend)."""
        return self.backend.encode_batch(list(texts), add_special_tokens=True)

    def pad(self, encodings: Sequence[Encoding]) -> TokenBatch:
        """Pad already tokenised texts into one batch, as wide as its longest text."""
        width = max((len(enc.ids) for enc in encodings), default=0)
        input_ids = torch.full((len(encodings), width), self.pad_id, dtype=torch.long)  # (B, T)
        attention_mask = torch.zeros((len(encodings), width), dtype=torch.long)  # (B, T)
        for row, enc in enumerate(encodings):
            input_ids[row, : len(enc.ids)] = torch.tensor(enc.ids, dtype=torch.long)
            attention_mask[row, : len(enc.ids)] = 1
        return TokenBatch(
            input_ids=input_ids,
            attention_mask=attention_mask,
            word_ids=[_reader_words(enc) for enc in encodings],
            offsets=[enc.offsets for enc in encodings],
            tokens=[enc.tokens for enc in encodings],
        )


def word_spans(word_ids: Sequence[int | None], offsets: Sequence[tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """Each word's character span, from its tokens' word ids and offsets (as in a :class:`TokenBatch`).

    >>> word_spans([None, 0, 0, 1, None], [(0, 0), (0, 3), (3, 6), (7, 12), (0, 0)])
    {0: (0, 6), 1: (7, 12)}
    """
    spans: dict[int, tuple[int, int]] = {}
    for word, (start, end) in zip(word_ids, offsets, strict=True):
        if word is not None:
            first, last = spans.get(word, (start, end))
            spans[word] = (min(first, start), max(last, end))
    return spans


def _reader_words(encoding: Encoding) -> list[int | None]:
    """Regroup the pre-tokenizer's words (split at every punctuation mark) into the words a reader sees.

    Adjacent pieces with no space between them form one word, except punctuation at its start or end.
    """
    spans: dict[int, list[int]] = {}  # pre-tokenizer word -> [start, end, is punctuation]
    for word, token, (start, end) in zip(encoding.word_ids, encoding.tokens, encoding.offsets, strict=True):
        if word is not None:
            span = spans.setdefault(word, [start, end, is_punctuation(token)])
            span[1] = max(span[1], end)
    merged: dict[int, int] = {}
    chunk: list[int] = []  # pre-tokenizer words touching each other
    for word in sorted(spans):
        if chunk and spans[chunk[-1]][1] != spans[word][0]:
            _merge_chunk(chunk, spans, merged)
            chunk = []
        chunk.append(word)
    _merge_chunk(chunk, spans, merged)
    number = {word: n for n, word in enumerate(sorted(set(merged.values())))}
    return [None if word is None else number[merged[word]] for word in encoding.word_ids]


def _merge_chunk(chunk: list[int], spans: dict[int, list[int]], merged: dict[int, int]) -> None:
    first, last = 0, len(chunk)
    while first < last and spans[chunk[first]][2]:  # leading punctuation stays separate
        first += 1
    while last > first and spans[chunk[last - 1]][2]:  # and trailing punctuation
        last -= 1
    for position, word in enumerate(chunk):
        merged[word] = chunk[first] if first <= position < last else word


def is_punctuation(text: str) -> bool:
    """Whether a non-empty text is only punctuation and symbols.

    >>> [is_punctuation(text) for text in [".", "—", "(", "sci-fi", "2001", ""]]
    [True, True, True, False, False, False]
    """
    return bool(text) and all(unicodedata.category(char)[0] in "PS" for char in text)
